/**
 * The workflow that runs the real-k3d suites on GitHub (k3d cannot run here): it must run them on the
 * oldest k3d that `up` accepts and on a current one, fetch every image once before them
 * (test/e2e/prepare-images.sh, whose plan is run here for real), run exactly the e2e script, and fit
 * in its time budget. Also the e2e helpers' preloading (real files, real hard links) and the closing
 * pull report.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_HOSTS_IMAGE, DEFAULT_K3S_IMAGE, DEFAULT_REGISTRY_IMAGE, DEFAULT_WRITER_IMAGE, NODE_IMAGES_DIR } from '../../src/spec.js';
import { MIN_K3D_VERSION } from '../../src/steps/preflight.js';
import { k3dPreloadArgs, preloadImages, registryOf, summarize, timingLine } from '../e2e/images.js';

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  if?: string;
  'timeout-minutes'?: number;
}
interface Job {
  'timeout-minutes': number;
  strategy: { 'fail-fast': boolean; matrix: { k3d: string[] } };
  env: Record<string, string>;
  steps: Step[];
}
const workflow = parse(readText('../../.github/workflows/e2e.yml')) as { jobs: Record<string, Job> };
const job = workflow.jobs.e2e!;
const pkg = JSON.parse(readText('../../package.json')) as { scripts: Record<string, string> };
const script = fileURLToPath(new URL('../e2e/prepare-images.sh', import.meta.url));

function readText(relative: string): string {
  return readFileSync(new URL(relative, import.meta.url), 'utf8');
}
const numeric = (v: string) => v.replace(/^v/, '').split('.').map(Number);
/** -1, 0, 1 as a < b, a = b, a > b (major.minor.patch). */
const compare = (a: string, b: string) => {
  const [x, y] = [numeric(a), numeric(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0) ? -1 : 1;
  return 0;
};
const runs = () => job.steps.map((s) => s.run?.trim() ?? '');
const stepIndex = (predicate: (run: string) => boolean) => runs().findIndex(predicate);

describe('.github/workflows/e2e.yml', () => {
  it('runs on the oldest k3d up accepts and on v5.8.3, each job on its own', () => {
    const versions = job.strategy.matrix.k3d;
    expect(versions).toEqual([`v${MIN_K3D_VERSION}`, 'v5.8.3']);
    for (const v of versions) expect(compare(v, MIN_K3D_VERSION), v).toBeGreaterThanOrEqual(0);
    expect(job.strategy['fail-fast']).toBe(false);
    expect(job.env.K3D_TAG).toBe('${{ matrix.k3d }}');
  });

  it('installs that k3d and checks it, and kubectl', () => {
    const all = runs().join('\n');
    expect(all).toContain('TAG="${K3D_TAG}"');
    expect(all).toContain('[[ "$(k3d version)" == *"k3d version ${K3D_TAG}"* ]]');
    expect(all).toContain('${KUBECTL_VERSION}/bin/linux/amd64/kubectl');
  });

  it('prepares the images after npm ci and before the suites, into the folder the suites read', () => {
    const dir = job.env.K3S_DEVREG_E2E_IMAGES;
    expect(dir).toMatch(/^\/tmp\//);
    const ci = stepIndex((r) => r === 'npm ci');
    const prepare = stepIndex((r) => r === 'test/e2e/prepare-images.sh "${K3S_DEVREG_E2E_IMAGES}"');
    const e2e = stepIndex((r) => r === 'npm run test:e2e');
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(prepare).toBeGreaterThan(ci);
    expect(e2e).toBeGreaterThan(prepare);
    const report = job.steps.find((s) => s.run?.trim() === 'test/e2e/prepare-images.sh --report "${K3S_DEVREG_E2E_IMAGES}"');
    expect(report?.if).toBe('always()');
    expect(statSync(script).mode & 0o111, 'prepare-images.sh is executable').not.toBe(0);
  });

  it('runs exactly the e2e script, within the job budget, leaving time for the steps after it', () => {
    expect(pkg.scripts['test:e2e']).toBe('npm run build && vitest run --config test/e2e/vitest.config.ts');
    expect(job['timeout-minutes']).toBeLessThanOrEqual(60);
    const e2e = job.steps.find((s) => s.run?.trim() === 'npm run test:e2e');
    expect(e2e?.['timeout-minutes']).toBeLessThan(job['timeout-minutes']);
  });
});

describe('test/e2e/prepare-images.sh --plan', () => {
  const plan = (k3dTag: string) => {
    const r = spawnSync('bash', [script, '--plan'], { encoding: 'utf8', env: { ...process.env, K3D_TAG: k3dTag, K3S_IMAGE: '' } });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  };

  it.each(job.strategy.matrix.k3d)('with k3d %s: the pinned k3s, its release archive, our pods\' images and k3d\'s helpers', (tag) => {
    const lines = plan(tag);
    const release = DEFAULT_K3S_IMAGE.split(':')[1]!.replace(/-k3s(\d+)$/, '+k3s$1');
    expect(lines).toContain(`k3s image: ${DEFAULT_K3S_IMAGE}`);
    expect(lines).toContain(`k3s release: ${release}`);
    const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
    expect(lines).toContain(`airgap: https://github.com/k3s-io/k3s/releases/download/${release.replace('+', '%2B')}/k3s-airgap-images-${arch}.tar.zst`);
    const pulls = lines.filter((l) => l.startsWith('pull: ')).map((l) => l.slice('pull: '.length));
    const pods = [...new Set([DEFAULT_REGISTRY_IMAGE, DEFAULT_HOSTS_IMAGE, DEFAULT_WRITER_IMAGE, 'busybox:1.36.1'])].sort();
    expect(pulls.sort()).toEqual(
      [
        `${DEFAULT_K3S_IMAGE} (docker.io)`,
        ...pods.map((p) => `${p} (docker.io)`),
        `ghcr.io/k3d-io/k3d-proxy:${tag.slice(1)} (ghcr.io)`,
        `ghcr.io/k3d-io/k3d-tools:${tag.slice(1)} (ghcr.io)`,
      ].sort(),
    );
    expect(lines).toContain(`archive: k3s-devreg-pods.tar <- ${pods.join(' ')}`);
  });
});

describe('the e2e helpers\' preloading and pull report', () => {
  const made: string[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('links only the archives into a cluster\'s images folder (a .txt there would make k3s pull)', () => {
    const prepared = mkdtempSync(join(tmpdir(), 'e2e-prepared-'));
    made.push(prepared);
    mkdirSync(join(prepared, 'archives'));
    for (const f of ['k3s-airgap-images-amd64.tar.zst', 'k3s-devreg-pods.tar', 'k3s-images.txt', '.k3s-devreg-pods.tar.partial']) writeFileSync(join(prepared, 'archives', f), f);
    vi.stubEnv('K3S_DEVREG_E2E_IMAGES', prepared);
    const target = join(prepared, 'cluster', 'images');
    expect(preloadImages(target).sort()).toEqual(['k3s-airgap-images-amd64.tar.zst', 'k3s-devreg-pods.tar']);
    expect(readdirSync(target).sort()).toEqual(['k3s-airgap-images-amd64.tar.zst', 'k3s-devreg-pods.tar']);
    expect(statSync(join(target, 'k3s-devreg-pods.tar')).ino).toBe(statSync(join(prepared, 'archives', 'k3s-devreg-pods.tar')).ino);
    // Twice is fine (createSandbox and k3dPreloadArgs may both run on one folder).
    expect(preloadImages(target)).toHaveLength(2);
    expect(k3dPreloadArgs(target)).toEqual(['--image', DEFAULT_K3S_IMAGE, '--volume', `${target}:${NODE_IMAGES_DIR}@server:*;agent:*`]);
  });

  it('fails loudly when K3S_DEVREG_E2E_IMAGES names a folder without archives', () => {
    const empty = mkdtempSync(join(tmpdir(), 'e2e-prepared-'));
    made.push(empty);
    vi.stubEnv('K3S_DEVREG_E2E_IMAGES', empty);
    expect(() => preloadImages(join(empty, 'images'))).toThrow(/holds no image archives.*prepare-images\.sh/);
  });

  it('reports per node what was in no archive, and the Docker Hub total', () => {
    expect(registryOf('busybox:1.36.1')).toBe('docker.io');
    expect(registryOf('rancher/k3s:v1')).toBe('docker.io');
    expect(registryOf('ghcr.io/k3d-io/k3d-proxy:5.8.3')).toBe('ghcr.io');
    expect(registryOf('localhost:5000/x:1')).toBe('localhost:5000');
    const text = summarize({
      preloaded: ['docker.io/library/busybox:1.36.1', 'docker.io/rancher/mirrored-pause:3.6'],
      preparePulls: ['rancher/k3s:v1.31.5-k3s1 docker.io', 'ghcr.io/k3d-io/k3d-proxy:5.8.3 ghcr.io'],
      records: [
        { kind: 'images', cluster: 'c', node: 'k3d-c-server-0', when: 'down', images: ['docker.io/library/busybox:1.36.1', 'container-registry.local:5000/hello-world-example:latest'] },
        { kind: 'images', cluster: 'c', node: 'k3d-c-agent-0', when: 'down', images: ['docker.io/rancher/mirrored-coredns-coredns:1.12.0', 'quay.io/x/y:1'] },
        { kind: 'timing', bareSeconds: 20, upSeconds: 30 },
      ],
    });
    expect(text.split('\n')).toEqual([
      '=== image pulls (images a node had that were in no preloaded archive) ===',
      'k3d-c-server-0 (down): none',
      'k3d-c-agent-0 (down): docker.io/rancher/mirrored-coredns-coredns:1.12.0 quay.io/x/y:1',
      'Docker Hub pulls: 2 (prepare-images.sh 1, k3s nodes 1; a docker.io name pulled through a mirror counts too)',
      'bare create 20.0s, up 30.0s, ratio 1.50, up - bare = 10.0s (goal <= 15 s)',
    ]);
    expect(timingLine(0, 3)).toContain('ratio n/a');
    expect(timingLine(40, 52, { noopUpSeconds: 1.25, verifySeconds: 9 })).toBe('bare create 40.0s, up 52.0s, ratio 1.30, up - bare = 12.0s (goal <= 15 s); no-op up 1.3s, verify 9.0s');
  });
});
