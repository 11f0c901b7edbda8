/**
 * The images the e2e clusters start with, and what their nodes pulled anyway.
 * - K3S_DEVREG_E2E_IMAGES names a folder made by prepare-images.sh. Its archives/ are linked into a
 *   cluster's images folder (a state folder's images/, which k3d mounts at k3s's agent/images) before
 *   the cluster is made: k3s imports them when it starts, so no node pulls them from Docker Hub.
 * - Before a cluster is deleted, the helpers record every node's images (crictl); the global teardown
 *   (global-setup.ts) prints, per node, those in no archive: what that node had to pull.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { DEFAULT_K3S_IMAGE, NODE_IMAGES_DIR } from '../../src/spec.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The JSON-lines file every test file appends its records to (global-setup.ts). */
    e2eReport: string;
  }
}

/** What k3s imports from agent/images (k3s pkg/agent/containerd: tarfile extensions). Never .txt: k3s pulls what a .txt lists. */
const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.zst|tzst|tar\.lz4|tar\.bz2|tbz)$/;

/** The prepared folder, or undefined when K3S_DEVREG_E2E_IMAGES is unset; a folder without archives fails loudly. */
export function preparedImages(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.K3S_DEVREG_E2E_IMAGES;
  if (!dir) return undefined;
  const archives = join(dir, 'archives');
  const files = existsSync(archives) ? readdirSync(archives).filter((f) => ARCHIVE.test(f)) : [];
  if (files.length === 0) throw new Error(`K3S_DEVREG_E2E_IMAGES=${dir} holds no image archives in archives/: run test/e2e/prepare-images.sh ${dir} first`);
  return dir;
}

/**
 * Puts the prepared archives into `imagesDir` (hard links: the same file for every cluster; a copy
 * when the folders are on different file systems). Creates `imagesDir` even when nothing is prepared,
 * so it can always be mounted. Returns the archive names, none when unprepared.
 */
export function preloadImages(imagesDir: string): string[] {
  mkdirSync(imagesDir, { recursive: true });
  const prepared = preparedImages();
  if (!prepared) return [];
  const names = readdirSync(join(prepared, 'archives')).filter((f) => ARCHIVE.test(f));
  for (const name of names) {
    const from = join(prepared, 'archives', name);
    const to = join(imagesDir, name);
    if (existsSync(to)) continue;
    try {
      linkSync(from, to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      copyFileSync(from, to);
    }
  }
  return names;
}

/**
 * `k3d cluster create` flags for a cluster not made by `up`: the same k3s as `up` pins, and
 * `imagesDir` (filled with the prepared archives here) mounted where k3s imports from.
 */
export function k3dPreloadArgs(imagesDir: string): string[] {
  preloadImages(imagesDir);
  return ['--image', DEFAULT_K3S_IMAGE, '--volume', `${imagesDir}:${NODE_IMAGES_DIR}@server:*;agent:*`];
}

export type ReportRecord =
  | { kind: 'images'; cluster: string; node: string; when: string; images: string[] }
  | { kind: 'timing'; bareSeconds: number; upSeconds: number; noopUpSeconds?: number; verifySeconds?: number };

export function report(record: ReportRecord): void {
  let file: string | undefined;
  try {
    file = inject('e2eReport');
  } catch {
    file = undefined;
  }
  if (file) appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** Records the images of every running k3s node of `cluster` (before it is deleted); a missing cluster records nothing. */
export function recordNodeImages(env: NodeJS.ProcessEnv, cluster: string, when: string): void {
  const sh = (args: string[]) => spawnSync('docker', args, { env, encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  const ps = sh(['ps', '--filter', `label=k3d.cluster=${cluster}`, '--format', '{{.Names}}\t{{.Label "k3d.role"}}']);
  if (ps.status !== 0) return;
  for (const line of ps.stdout.split('\n').filter(Boolean)) {
    const [node = '', role = ''] = line.split('\t');
    if (role !== 'server' && role !== 'agent') continue;
    const r = sh(['exec', node, 'crictl', 'images', '--output', 'json']);
    let images: string[] = [`(crictl failed: ${(r.stderr ?? '').trim().slice(0, 200)})`];
    if (r.status === 0) {
      const listed = JSON.parse(r.stdout) as { images?: { repoTags?: string[] }[] };
      images = (listed.images ?? []).flatMap((i) => i.repoTags ?? []);
    }
    report({ kind: 'images', cluster, node, when, images });
  }
}

/** The registry an image reference names (docker.io when its first part is no host). */
export function registryOf(image: string): string {
  const first = image.split('/')[0]!;
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** Images nobody pulled from upstream: our registry (pushed by the tests) and the developer's machine. */
const LOCAL = /^(container-registry\.local(:\d+)?|localhost(:\d+)?|127\.\d+\.\d+\.\d+(:\d+)?)\//;

export interface SummaryInput {
  records: ReportRecord[];
  /** Fully qualified names of every image in the prepared archives (prepare-images.sh: preloaded.txt). */
  preloaded: string[];
  /** Docker Hub pulls by prepare-images.sh (pulls.txt lines "IMAGE REGISTRY"). */
  preparePulls: string[];
}

/** The closing report: per node the images it had to pull, the Docker Hub total, and the timing. */
export function summarize({ records, preloaded, preparePulls }: SummaryInput): string {
  const have = new Set(preloaded);
  const lines = ['=== image pulls (images a node had that were in no preloaded archive) ==='];
  let hubByNodes = 0;
  for (const r of records) {
    if (r.kind !== 'images') continue;
    const pulled = r.images.filter((i) => !have.has(i) && !LOCAL.test(i));
    hubByNodes += pulled.filter((i) => registryOf(i) === 'docker.io').length;
    lines.push(`${r.node} (${r.when}): ${pulled.length === 0 ? 'none' : pulled.join(' ')}`);
  }
  const hubByPrepare = preparePulls.filter((l) => l.trim().endsWith(' docker.io')).length;
  lines.push(
    `Docker Hub pulls: ${hubByPrepare + hubByNodes} (prepare-images.sh ${hubByPrepare}, k3s nodes ${hubByNodes}; a docker.io name pulled through a mirror counts too)`,
  );
  for (const r of records) {
    if (r.kind === 'timing') lines.push(timingLine(r.bareSeconds, r.upSeconds, r));
  }
  return lines.join('\n');
}

export function timingLine(bareSeconds: number, upSeconds: number, more: { noopUpSeconds?: number; verifySeconds?: number } = {}): string {
  const ratio = bareSeconds > 0 ? (upSeconds / bareSeconds).toFixed(2) : 'n/a';
  const extra = [
    ...(more.noopUpSeconds !== undefined ? [`no-op up ${more.noopUpSeconds.toFixed(1)}s`] : []),
    ...(more.verifySeconds !== undefined ? [`verify ${more.verifySeconds.toFixed(1)}s`] : []),
  ];
  return `bare create ${bareSeconds.toFixed(1)}s, up ${upSeconds.toFixed(1)}s, ratio ${ratio}, up - bare = ${(upSeconds - bareSeconds).toFixed(1)}s (goal <= 15 s)${extra.length ? `; ${extra.join(', ')}` : ''}`;
}

/** The records file, one JSON object a line (a torn last line from a killed worker is skipped). */
export function readRecords(file: string): ReportRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as ReportRecord];
      } catch {
        return [];
      }
    });
}
