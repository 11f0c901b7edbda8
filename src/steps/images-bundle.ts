/**
 * `images save` and `images load` (issue 13): one file with every image a cluster needs, made on a
 * connected machine and loaded on one without a network. Inside: the manifest, a `docker save`
 * archive of what docker runs, and one of what the nodes' k3s imports at start. Nothing is written
 * where it counts until everything was checked: the bundle appears by rename, a load checks the
 * manifest before it loads anything and puts the nodes' part in place last, by rename.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { assetUrl } from '../assets.js';
import { UserError } from '../errors.js';
import { BUNDLE_FORMAT, BUNDLE_MANIFEST, bundleImages, checkBundleFits, DOCKER_PART, fullName, NODE_ARCHIVE, NODE_PART, parseBundleManifest, type BundleManifest } from '../images/bundle.js';
import type { ClusterSpec } from '../spec.js';
import { STATE_FILES } from '../state/layout.js';
import { ensureWritableDir } from '../state/write-files.js';
import { dockerArchitecture, imagesPresent, loadImages, pullImage, saveImages } from '../tools/docker-images.js';
import { k3dVersion } from '../tools/k3d.js';
import { pullThroughCaches } from './images-from-cache.js';
import type { Runner } from '../tools/run.js';

export interface SaveRequest {
  run: Runner;
  env: NodeJS.ProcessEnv;
  spec: Pick<ClusterSpec, 'k3sImage' | 'registryImage' | 'hostsImage'>;
  extra: readonly string[];
  exampleBase: string;
  output: string;
  say: (line: string) => void;
}

export function systemImages(): Record<string, string[]> {
  return (JSON.parse(readFileSync(assetUrl('k3s-system-images.json'), 'utf8')) as { releases: Record<string, string[]> }).releases;
}

/** A scratch folder beside `near` (the same file system, so the final rename is atomic), gone afterwards. */
async function withScratch<T>(near: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(dirname(near), `.k3s-devreg-bundle-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function saveBundle(request: SaveRequest): Promise<{ file: string; bytes: number; manifest: BundleManifest }> {
  const { run, say } = request;
  const [{ k3d }, architecture] = await Promise.all([k3dVersion(run), dockerArchitecture(run)]);
  const images = bundleImages({ spec: request.spec, k3dVersion: k3d, exampleBase: request.exampleBase, extra: request.extra, releases: systemImages(), env: request.env });
  const all = [...images.docker, ...images.node];
  const present = await imagesPresent(run, all);
  const missing = all.filter((image) => !present.has(image));
  // What a cluster pulled through the cache already is not downloaded again.
  const direct = missing.length > 0 ? await pullThroughCaches(missing, { run, registryImage: request.spec.registryImage, say }) : [];
  for (const [i, image] of direct.entries()) {
    say(`pulling ${image} (${i + 1} of ${direct.length})`);
    await pullImage(run, image);
  }
  const after = missing.length > 0 ? await imagesPresent(run, all) : present;
  const foreign = all.filter((image) => after.get(image)?.architecture !== architecture);
  if (foreign.length > 0) {
    throw new UserError(`not ${architecture} images, as this docker runs: ${foreign.join(', ')}`, `pull them for ${architecture} (docker pull --platform linux/${architecture} IMAGE) and save again`);
  }
  const manifest: BundleManifest = { format: BUNDLE_FORMAT, k3sImage: request.spec.k3sImage, k3dVersion: k3d, architecture, ...images };
  await withScratch(request.output, async (dir) => {
    say(`saving ${images.docker.length} image(s) docker runs and ${images.node.length} the nodes import`);
    await saveImages(run, join(dir, DOCKER_PART), images.docker);
    await saveImages(run, join(dir, NODE_PART), images.node);
    writeFileSync(join(dir, BUNDLE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const partial = join(dir, 'bundle.tar');
    await tar.create({ file: partial, cwd: dir, portable: true }, [BUNDLE_MANIFEST, DOCKER_PART, NODE_PART]);
    renameSync(partial, request.output);
  });
  return { file: request.output, bytes: statSync(request.output).size, manifest };
}

export interface LoadRequest {
  run: Runner;
  file: string;
  k3sImage: string;
  stateDir: string;
  say: (line: string) => void;
}

async function extract(file: string, dir: string, entries: string[]): Promise<void> {
  try {
    await tar.extract({ file, cwd: dir, strict: true }, entries);
  } catch (error) {
    throw new UserError(`${file} is damaged or not an image bundle (${(error as Error).message.split('\n')[0]})`, 'copy it again, or make a new one with k3s-devreg images save');
  }
}

export async function loadBundle(request: LoadRequest): Promise<{ manifest: BundleManifest; nodeArchive: string }> {
  const { run, file, say } = request;
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) throw new UserError(`no bundle file at ${file}`, 'give the path of a file made by k3s-devreg images save');
  const imagesDir = join(request.stateDir, STATE_FILES.imagesDir);
  await ensureWritableDir(imagesDir);
  return withScratch(join(imagesDir, NODE_ARCHIVE), async (dir) => {
    await extract(file, dir, [BUNDLE_MANIFEST]);
    const manifest = parseBundleManifest(statSync(join(dir, BUNDLE_MANIFEST), { throwIfNoEntry: false }) ? readFileSync(join(dir, BUNDLE_MANIFEST), 'utf8') : undefined, file);
    checkBundleFits(manifest, { architecture: await dockerArchitecture(run), k3sImage: request.k3sImage }, file);
    await extract(file, dir, [DOCKER_PART, NODE_PART]);
    for (const part of [DOCKER_PART, NODE_PART]) {
      if (!statSync(join(dir, part), { throwIfNoEntry: false })) throw new UserError(`${file} is damaged or not an image bundle (no ${part} in it)`, 'copy it again, or make a new one with k3s-devreg images save');
    }
    say(`loading ${manifest.docker.length} image(s) into docker`);
    await loadImages(run, join(dir, DOCKER_PART));
    const loaded = await imagesPresent(run, manifest.docker);
    const absent = manifest.docker.filter((image) => !loaded.has(image));
    if (absent.length > 0) throw new UserError(`${file}: docker did not get ${absent.join(', ')} from it`, 'make the bundle again with k3s-devreg images save');
    // Last, by rename: k3s imports every archive in images/ when a node starts, so only a whole one may appear there.
    const nodeArchive = join(imagesDir, NODE_ARCHIVE);
    renameSync(join(dir, NODE_PART), nodeArchive);
    say(`put ${manifest.node.length} image(s) for the nodes in ${nodeArchive} (k3s imports it when each node starts)`);
    return { manifest, nodeArchive };
  });
}

/** The images a `docker save` archive holds (its manifest.json RepoTags, fully named), read without unpacking it. */
export async function archiveImages(file: string): Promise<string[]> {
  const chunks: Buffer[] = [];
  await tar.list({
    file,
    filter: (path) => path === 'manifest.json',
    onReadEntry: (entry) => entry.on('data', (chunk: Buffer) => chunks.push(chunk)),
  });
  if (chunks.length === 0) return [];
  try {
    return (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { RepoTags?: string[] | null }[]).flatMap((m) => m.RepoTags ?? []).map(fullName);
  } catch {
    return [];
  }
}
