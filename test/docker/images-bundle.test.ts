/**
 * `images save` and `images load` against the real docker daemon, with stand-in images under the
 * real names (tags of the local busybox image: Docker Hub and ghcr.io are unreachable here). Only
 * `k3d version` is answered for k3d (5.8.3), which cannot run here. The bundle's parts are read back
 * with their `docker save` manifests; after `docker rmi` of every stand-in, `images load` brings back
 * what docker runs and puts the nodes' archive into the state folder's images/. Damaged, foreign and
 * mismatched bundles are refused with nothing loaded.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { BUNDLE_MANIFEST, bundleImages, DOCKER_PART, NODE_ARCHIVE, NODE_PART } from '../../src/images/bundle.js';
import { DEFAULT_HOSTS_IMAGE, DEFAULT_K3S_IMAGE, DEFAULT_REGISTRY_IMAGE } from '../../src/spec.js';
import { createRunner, type Runner } from '../../src/tools/run.js';
import { fakeFactory } from '../helpers/commands.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import { captureIo } from '../helpers/io.js';

const K3D = '5.8.3';
const releases = (JSON.parse(readFileSync(new URL('../../assets/k3s-system-images.json', import.meta.url), 'utf8')) as { releases: Record<string, string[]> }).releases;
const expected = bundleImages({ spec: { k3sImage: DEFAULT_K3S_IMAGE, registryImage: DEFAULT_REGISTRY_IMAGE, hostsImage: DEFAULT_HOSTS_IMAGE }, k3dVersion: K3D, exampleBase: DEFAULT_HOSTS_IMAGE, extra: [], releases });
const short = (image: string): string => image.replace(/^docker\.io\/(library\/)?/, '');
let work = '';
let bundle = '';
/** The names this test tagged (a name the machine already had is left as it is). */
const tagged: string[] = [];

// The real docker; k3d (not installed here) answers its version only.
const real = createRunner();
const run: Runner = async (file, args, options) =>
  file === 'k3d' && args[0] === 'version' ? { exitCode: 0, stdout: `k3d version v${K3D}\nk3s version v1.31.5-k3s1 (default)`, stderr: '' } : real(file, args, options);

const has = (image: string): boolean => {
  try {
    docker(['image', 'inspect', image]);
    return true;
  } catch {
    return false;
  }
};

/** The image names a `docker save` archive holds (its manifest.json RepoTags). */
async function repoTags(archive: string): Promise<string[]> {
  const dir = mkdtempSync(join(work, 'part-'));
  await tar.extract({ file: archive, cwd: dir }, ['manifest.json']);
  return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { RepoTags: string[] }[]).flatMap((m) => m.RepoTags).sort();
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ env: { K3S_DEVREG_HOME: join(work, 'home') }, cwd: work });
  const code = await runCli(argv, io, fakeFactory(run));
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

const imagesDir = () => join(work, 'home', 'devreg', 'images');

beforeAll(() => {
  if (!dockerAvailable) return;
  work = mkdtempSync(join(tmpdir(), 'k3s-devreg-bundle-'));
  const busybox = ensureBusyboxImage();
  for (const image of [...expected.docker, ...expected.node]) {
    if (has(image)) continue;
    docker(['tag', busybox, image]);
    tagged.push(image);
  }
}, 300_000);

afterAll(() => {
  if (!dockerAvailable) return;
  for (const image of tagged) {
    try {
      docker(['rmi', image]);
    } catch {
      // Not there (the test removed it).
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!dockerAvailable)('images save and load (real docker)', () => {
  it('save writes one file: the manifest, what docker runs, and what the nodes import', async () => {
    bundle = join(work, 'bundle.tar');
    const saved = await cli(['images', 'save', '-o', bundle]);
    expect(saved).toMatchObject({ code: 0 });
    expect(saved.out).toMatch(new RegExp(`^Wrote ${bundle} \\(\\d+\\.\\d MB\\): 4 image\\(s\\) for docker, 10 for the nodes\\. On the other machine: k3s-devreg images load ${bundle}$`));
    const entries: string[] = [];
    await tar.list({ file: bundle, onReadEntry: (entry) => entries.push(entry.path) });
    expect(entries.sort()).toEqual([BUNDLE_MANIFEST, DOCKER_PART, NODE_PART].sort());
    const dir = mkdtempSync(join(work, 'unpacked-'));
    await tar.extract({ file: bundle, cwd: dir });
    const manifest = JSON.parse(readFileSync(join(dir, BUNDLE_MANIFEST), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ format: 'k3s-devreg-bundle/1', k3sImage: DEFAULT_K3S_IMAGE, k3dVersion: K3D, docker: expected.docker, node: expected.node });
    // Each part is a `docker save` archive naming every image (docker writes docker.io names short).
    expect(await repoTags(join(dir, DOCKER_PART))).toEqual(expected.docker.map(short).sort());
    expect(await repoTags(join(dir, NODE_PART))).toEqual(expected.node.map(short).sort());
    // Every k3s system image of the pinned release is in the nodes' part.
    expect(expected.node).toEqual(expect.arrayContaining(releases['v1.31.5+k3s1']!));
  }, 300_000);

  it('load, with every image gone from docker: docker gets what it runs, the nodes their archive in images/', async () => {
    for (const image of tagged) docker(['rmi', image]);
    const loaded = await cli(['images', 'load', bundle]);
    expect(loaded).toMatchObject({ code: 0 });
    expect(loaded.out).toBe(`Loaded 4 image(s) into docker and 10 for the nodes of devreg (${join(imagesDir(), NODE_ARCHIVE)}).`);
    for (const image of expected.docker) expect(has(image), image).toBe(true);
    // The nodes' images stay out of docker: k3s imports them from images/ when each node starts.
    for (const image of expected.node.filter((i) => tagged.includes(i) && !expected.docker.includes(i))) expect(has(image), image).toBe(false);
    expect(readdirSync(imagesDir())).toEqual([NODE_ARCHIVE]);
    expect(await repoTags(join(imagesDir(), NODE_ARCHIVE))).toEqual(expected.node.map(short).sort());
  }, 300_000);

  it('bundles your own images for the nodes too: --with and the team file\'s images:', async () => {
    const own = ['ghcr.io/k3s-devreg-test/app:1', 'ghcr.io/k3s-devreg-test/worker:2'];
    // The load above left the nodes' stand-ins out of docker: tagged again, so nothing needs a pull.
    for (const image of tagged.filter((i) => !has(i))) docker(['tag', ensureBusyboxImage(), image]);
    for (const image of own) {
      docker(['tag', ensureBusyboxImage(), image]);
      tagged.push(image);
    }
    writeFileSync(join(work, 'k3s-devreg.yaml'), `images: [${own[1]}]\n`);
    const file = join(work, 'own.tar');
    try {
      expect(await cli(['images', 'save', '-o', file, '--with', own[0]!])).toMatchObject({ code: 0 });
    } finally {
      rmSync(join(work, 'k3s-devreg.yaml'));
    }
    const dir = mkdtempSync(join(work, 'own-'));
    await tar.extract({ file, cwd: dir });
    const manifest = JSON.parse(readFileSync(join(dir, BUNDLE_MANIFEST), 'utf8')) as { node: string[] };
    expect(manifest.node).toEqual([...expected.node, own[1], own[0]]);
    expect(await repoTags(join(dir, NODE_PART))).toEqual([...expected.node, ...own].map(short).sort());
  }, 300_000);

  describe('refused with one line, nothing loaded', () => {
    const fresh = (): void => rmSync(join(work, 'home'), { recursive: true, force: true });
    const nothingLoaded = (): void => {
      expect(existsSync(imagesDir()) ? readdirSync(imagesDir()) : []).toEqual([]);
    };

    async function withManifest(change: Record<string, unknown>): Promise<string> {
      const dir = mkdtempSync(join(work, 'forged-'));
      await tar.extract({ file: bundle, cwd: dir });
      const manifest = JSON.parse(readFileSync(join(dir, BUNDLE_MANIFEST), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, BUNDLE_MANIFEST), JSON.stringify({ ...manifest, ...change }));
      const file = join(dir, 'forged.tar');
      await tar.create({ file, cwd: dir }, [BUNDLE_MANIFEST, DOCKER_PART, NODE_PART]);
      return file;
    }

    it('a file that is not a tar archive', async () => {
      fresh();
      const file = join(work, 'noise.tar');
      writeFileSync(file, Buffer.alloc(4096, 7));
      const result = await cli(['images', 'load', file]);
      expect(result.code).toBe(2);
      expect(result.err).toMatch(new RegExp(`^error: ${file} is (damaged or )?not (an image bundle|a k3s-devreg image bundle)[^\\n]*: [^\\n]+$`));
      nothingLoaded();
    });

    it('a truncated bundle', async () => {
      fresh();
      const file = join(work, 'truncated.tar');
      copyFileSync(bundle, file);
      truncateSync(file, Math.floor(readFileSync(bundle).length / 2));
      const result = await cli(['images', 'load', file]);
      expect(result.code).toBe(2);
      expect(result.err).toMatch(/^error: .*(damaged|not a k3s-devreg image bundle)[^\n]*$/);
      nothingLoaded();
    });

    it('a tar archive that is not ours', async () => {
      fresh();
      const dir = mkdtempSync(join(work, 'foreign-'));
      mkdirSync(join(dir, 'x'));
      writeFileSync(join(dir, 'x', 'readme'), 'hello');
      const file = join(dir, 'foreign.tar');
      execFileSync('tar', ['-cf', file, '-C', dir, 'x']);
      const result = await cli(['images', 'load', file]);
      expect(result.err).toBe(`error: ${file} is not a k3s-devreg image bundle (no ${BUNDLE_MANIFEST} in it): make one with k3s-devreg images save on a connected machine`);
      expect(result.code).toBe(2);
      nothingLoaded();
    });

    it('a bundle for another architecture', async () => {
      fresh();
      const arch = docker(['version', '--format', '{{.Server.Arch}}']);
      const other = arch === 'arm64' ? 'amd64' : 'arm64';
      const file = await withManifest({ architecture: other });
      const result = await cli(['images', 'load', file]);
      expect(result.err).toBe(`error: ${file} holds ${other} images, and this docker runs ${arch}: make the bundle on a ${arch} machine (or with docker's --platform) and load that one`);
      expect(result.code).toBe(2);
      nothingLoaded();
    });

    it('a bundle for another k3s', async () => {
      fresh();
      const file = await withManifest({ k3sImage: 'rancher/k3s:v1.30.9-k3s1' });
      const result = await cli(['images', 'load', file]);
      expect(result.err).toMatch(new RegExp(`^error: ${file} is for rancher/k3s:v1\\.30\\.9-k3s1, and this setup runs ${DEFAULT_K3S_IMAGE.replace(/[.]/g, '\\.')}: `));
      expect(result.code).toBe(2);
      nothingLoaded();
    });
  });
});
