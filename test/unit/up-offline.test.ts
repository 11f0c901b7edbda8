/**
 * `up --offline` as a user runs it (runCli + the fake world): with images missing it stops before
 * anything is made and names each one with the commands that bring them; with the bundle loaded the
 * nodes are told never to fall back to the internet, and no cache is started.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { bundleImages, NODE_ARCHIVE } from '../../src/images/bundle.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { DEFAULT_HOSTS_IMAGE, DEFAULT_K3S_IMAGE, DEFAULT_REGISTRY_IMAGE } from '../../src/spec.js';
import { FakeWorld, isReadOnly } from '../helpers/fake-cluster.js';
import { fakeFactory } from '../helpers/commands.js';
import { captureIo } from '../helpers/io.js';
import { schemaErrors } from '../helpers/schemas.js';

const releases = (JSON.parse(readFileSync(new URL('../../assets/k3s-system-images.json', import.meta.url), 'utf8')) as { releases: Record<string, string[]> }).releases;
// The fake k3d says it is 5.6.0.
const needed = bundleImages({ spec: { k3sImage: DEFAULT_K3S_IMAGE, registryImage: DEFAULT_REGISTRY_IMAGE, hostsImage: DEFAULT_HOSTS_IMAGE }, k3dVersion: '5.6.0', exampleBase: DEFAULT_HOSTS_IMAGE, extra: [], releases });
let home: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'k3s-devreg-offline-'));
  env = { K3S_DEVREG_HOME: home, K3S_DEVREG_PASSWORD: 'Offline-Password-1234' };
  forgetSecretsForTests();
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const changes = (world: FakeWorld): string[] => world.runner.calls.filter((c) => !isReadOnly(c)).map((c) => [c.file, ...c.args].join(' '));

/** What `images load` leaves for the nodes: a docker-save archive in images/ (only its manifest matters here). */
async function nodeArchive(images: readonly string[]): Promise<void> {
  const dir = join(home, 'devreg', 'images');
  mkdirSync(dir, { recursive: true });
  const scratch = mkdtempSync(join(home, 'archive-'));
  writeFileSync(join(scratch, 'manifest.json'), JSON.stringify([{ Config: 'c.json', RepoTags: images.map((i) => i.replace(/^docker\.io\/(library\/)?/, '')), Layers: [] }]));
  await tar.create({ file: join(dir, NODE_ARCHIVE), cwd: scratch }, ['manifest.json']);
}

describe('up --offline', () => {
  it('with nothing loaded: exit 2 before anything is made, every missing image named with the fix', async () => {
    const world = new FakeWorld();
    const io = captureIo({ env });
    expect(await runCli(['up', '--yes', '--offline'], io, fakeFactory(world.runner))).toBe(2);
    const error = io.stderr.at(-1)!;
    expect(error).toMatch(/^error: --offline, and 14 image\(s\) the cluster needs are not here: /);
    for (const image of needed.docker) expect(error).toContain(`${image} (docker)`);
    for (const image of needed.node) expect(error).toContain(`${image} (nodes)`);
    expect(error).toMatch(/: on a connected machine run k3s-devreg images save, then here k3s-devreg images load FILE$/);
    expect(changes(world)).toEqual([]);
    expect(existsSync(join(home, 'devreg', 'credentials.json'))).toBe(false);
  });

  it('with one node image missing from the loaded archive: names that one only', async () => {
    const world = new FakeWorld();
    world.objects.addImages(needed.docker.map((i) => i.replace(/^docker\.io\/(library\/)?/, '')));
    await nodeArchive(needed.node.filter((i) => !i.includes('mirrored-pause')));
    const io = captureIo({ env });
    expect(await runCli(['up', '--yes', '--offline'], io, fakeFactory(world.runner))).toBe(2);
    expect(io.stderr.at(-1)).toMatch(/^error: --offline, and 1 image\(s\) the cluster needs are not here: docker\.io\/rancher\/mirrored-pause:3\.6 \(nodes\): /);
    expect(changes(world)).toEqual([]);
  });

  it('with the bundle loaded: nodes get no fallback to the internet, no cache is started, and it comes up', async () => {
    const world = new FakeWorld();
    world.objects.addImages(needed.docker.map((i) => i.replace(/^docker\.io\/(library\/)?/, '')));
    await nodeArchive(needed.node);
    const io = captureIo({ env });
    expect(await runCli(['up', '--yes', '--offline'], io, fakeFactory(world.runner))).toBe(0);
    expect(io.stderr.join('\n')).toContain(`Offline start: all 14 images are here (10 in ${join(home, 'devreg', 'images')})`);
    const config = world.k3dConfigs[0] as { options: { k3s: { extraArgs: { arg: string }[] } }; network?: string };
    expect(config.options.k3s.extraArgs.map((a) => a.arg)).toContain('--disable-default-registry-endpoint');
    expect(config).not.toHaveProperty('network');
    expect(schemaErrors('k3d', config)).toEqual([]);
    expect(changes(world).filter((l) => /^docker (run|network)/.test(l))).toEqual([]);
    const registries = parse(readFileSync(join(home, 'devreg', 'node', 'registries.yaml'), 'utf8')) as { mirrors: Record<string, unknown> };
    expect(Object.keys(registries.mirrors)).toEqual(['container-registry.local:5000', 'localhost:31113']);
  });
});
