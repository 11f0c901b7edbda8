/**
 * The pull-through cache as a user meets it through `up` (issue 12): the CLI run with the fake world,
 * exact argv where it matters, the files up writes read back and checked against upstream schemas.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { fakeFactory } from '../helpers/commands.js';
import { FakeWorld, isReadOnly } from '../helpers/fake-cluster.js';
import { captureIo, type CapturedIo } from '../helpers/io.js';
import { schemaErrors } from '../helpers/schemas.js';

const PASSWORD = 'Correct-Horse-Battery-9';
const TOKEN = 'hub-T0ken-5fQx81zz';
const HUB = 'k3s-devreg-cache-docker-io';
const GHCR = 'k3s-devreg-cache-ghcr-io';
const HUB_MIRROR = { endpoint: [`http://${HUB}:5000`] };

let home: string;
let cwd: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'k3s-devreg-up-cache-'));
  // The team file is looked for from the cwd up: each test gets its own folder, outside the repository.
  cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-up-cache-cwd-'));
  env = { K3S_DEVREG_HOME: home, K3S_DEVREG_PASSWORD: PASSWORD };
  forgetSecretsForTests();
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

const io = (extraEnv: NodeJS.ProcessEnv = {}): CapturedIo => captureIo({ env: { ...env, ...extraEnv }, cwd });
const up = (world: FakeWorld, out: CapturedIo, ...args: string[]): Promise<number> => runCli(['up', ...args], out, fakeFactory(world.runner));
const line = (c: { file: string; args: string[] }): string => [c.file, ...c.args].join(' ');
/** The changing calls made since call number `from`. */
const changes = (world: FakeWorld, from = 0): string[] => world.runner.calls.slice(from).filter((c) => !isReadOnly(c)).map(line);

interface Registries {
  mirrors?: Record<string, { endpoint: string[] }>;
  configs?: Record<string, unknown>;
}
const registriesText = (cluster = 'devreg'): string => readFileSync(join(home, cluster, 'node', 'registries.yaml'), 'utf8');
function registries(cluster = 'devreg'): Registries {
  const document = parse(registriesText(cluster)) as Registries;
  expect(schemaErrors('registries', document)).toEqual([]);
  return document;
}
const k3dConfig = (world: FakeWorld, index: number): Record<string, unknown> => {
  const config = world.k3dConfigs[index] as Record<string, unknown>;
  expect(schemaErrors('k3d', config)).toEqual([]);
  return config;
};
const mode = (path: string): number => statSync(path).mode & 0o777;
const settings = (cluster = 'devreg'): Record<string, unknown> => JSON.parse(readFileSync(join(home, cluster, 'settings.json'), 'utf8')) as Record<string, unknown>;
const teamFile = (text: string): void => writeFileSync(join(cwd, 'k3s-devreg.yaml'), text);
const cacheCalls = (lines: string[]): string[] => lines.filter((l) => /^docker (network|run|rm|start) |k3s-devreg-cache-/.test(l));

/** Every file under dir (recursively) whose content contains needle. */
function filesContaining(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && readFileSync(join(e.parentPath, e.name), 'utf8').includes(needle))
    .map((e) => join(e.parentPath, e.name));
}

const runLine = (host: string, slug: string, upstream: string, network: string): RegExp =>
  new RegExp(
    `^docker run -d --name k3s-devreg-cache-${slug} --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cache=${host.replace(/\./g, '\\.')} ` +
      `--label dev.k3s-devreg/cache-upstream=${upstream.replace(/\./g, '\\.')} --label dev.k3s-devreg/cache-config=[0-9a-f]{64} --restart unless-stopped ` +
      `--network ${network} --network-alias k3s-devreg-cache-${slug} -v k3s-devreg-cache-${slug}-data:/var/lib/registry ` +
      `-v ${home}/cache/${slug}\\.yml:/etc/docker/registry/config\\.yml:ro registry:2\\.8\\.3$`,
  );

describe('up with the default cache', () => {
  it('mirrors docker.io to the cache, puts the nodes on its network, writes its config 0600; a re-run changes nothing; a second cluster joins the same cache', async () => {
    const world = new FakeWorld();
    const first = io();
    expect(await up(world, first, '--yes')).toBe(0);

    const document = registries();
    expect(document.mirrors?.['docker.io']).toEqual(HUB_MIRROR);
    expect(k3dConfig(world, 0).network).toBe('k3d-devreg');
    expect(mode(join(home, 'cache', 'docker-io.yml'))).toBe(0o600);
    expect(parse(readFileSync(join(home, 'cache', 'docker-io.yml'), 'utf8')).proxy).toEqual({ remoteurl: 'https://registry-1.docker.io' });
    const made = changes(world);
    expect(cacheCalls(made)).toEqual([
      'docker network create --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cluster=devreg k3d-devreg',
      'docker volume create --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cache=docker.io k3s-devreg-cache-docker-io-data',
      expect.stringMatching(runLine('docker.io', 'docker-io', 'https://registry-1.docker.io', 'k3d-devreg')),
    ]);
    // The cache runs before k3d makes the nodes, so their first pulls already go through it.
    expect(made.findIndex((l) => l.startsWith('docker run'))).toBeLessThan(made.findIndex((l) => l.startsWith('k3d cluster create')));
    expect(first.stderr.join('\n')).toContain('Pull-through cache: docker.io started');

    const before = world.runner.calls.length;
    const again = io();
    expect(await up(world, again, '--yes')).toBe(0);
    expect(changes(world, before)).toEqual([]);
    expect(again.stderr.join('\n')).toContain('Pull-through cache: docker.io running');

    const second = world.runner.calls.length;
    const other = io();
    expect(await up(world, other, '--yes', '--name', 'other', '--port', '31114')).toBe(0);
    const otherChanges = changes(world, second);
    expect(otherChanges.filter((l) => l.startsWith('docker run'))).toEqual([]);
    expect(cacheCalls(otherChanges)).toEqual([
      'docker network create --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cluster=other k3d-other',
      `docker network connect k3d-other ${HUB}`,
    ]);
    expect(world.objects.objects.containers[HUB]).toMatchObject({ id: `${HUB}-id`, networks: ['k3d-devreg', 'k3d-other'], running: true });
    expect(registries('other').mirrors?.['docker.io']).toEqual(HUB_MIRROR);
    expect(k3dConfig(world, 1).network).toBe('k3d-other');
    expect(other.stderr.join('\n')).toContain('Pull-through cache: docker.io running, joined this cluster');
  });
});

describe('--no-cache and --cache', () => {
  it('--no-cache makes no cache call and is kept by the next plain up; --cache turns it on again', async () => {
    const world = new FakeWorld();
    const off = io();
    expect(await up(world, off, '--yes', '--no-cache')).toBe(0);
    expect(cacheCalls(world.runner.lines())).toEqual([]);
    expect(world.objects.objects.containers).toEqual({});
    expect(registries().mirrors?.['docker.io']).toBeUndefined();
    expect(registriesText()).not.toContain('k3s-devreg-cache');
    expect(k3dConfig(world, 0)).not.toHaveProperty('network');
    expect(settings()).toMatchObject({ cache: false });
    expect(existsSync(join(home, 'cache'))).toBe(false);
    expect(off.stderr.join('\n')).toContain('Pull-through cache: off');

    const text = registriesText();
    const before = world.runner.calls.length;
    expect(await up(world, io(), '--yes')).toBe(0);
    expect(changes(world, before)).toEqual([]);
    expect(registriesText()).toBe(text);
    expect(settings()).toMatchObject({ cache: false });

    const on = world.runner.calls.length;
    expect(await up(world, io(), '--yes', '--cache')).toBe(0);
    const turnedOn = changes(world, on);
    // k3d made the network (the cluster exists): the cache joins it; registries.yaml changed, so the nodes restart.
    expect(cacheCalls(turnedOn)).toEqual([
      'docker volume create --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cache=docker.io k3s-devreg-cache-docker-io-data',
      expect.stringMatching(runLine('docker.io', 'docker-io', 'https://registry-1.docker.io', 'k3d-devreg')),
    ]);
    expect(turnedOn).toContain('k3d cluster stop devreg');
    expect(registries().mirrors?.['docker.io']).toEqual(HUB_MIRROR);
    expect(settings()).not.toHaveProperty('cache');

    // And on it stays without the flag.
    const after = world.runner.calls.length;
    expect(await up(world, io(), '--yes')).toBe(0);
    expect(changes(world, after)).toEqual([]);
  });

  it('--cache --no-cache together: exit 2, one line, nothing created', async () => {
    const world = new FakeWorld();
    const out = io();
    expect(await up(world, out, '--yes', '--cache', '--no-cache')).toBe(2);
    expect(out.stderr).toEqual(['error: both --cache and --no-cache are given: pass one of them']);
    expect(out.stdout).toEqual([]);
    // A flag error, reported before the tools are even looked for.
    expect(world.runner.calls).toEqual([]);
    expect(existsSync(join(home, 'devreg'))).toBe(false);
  });
});

describe('the team file', () => {
  const TEAM = [
    'cache:',
    '  mirrors:',
    '    ghcr.io: https://ghcr.io',
    '  credentials:',
    '    docker.io:',
    '      username: bot',
    '      password: {fromEnv: HUB_TOKEN}',
    '',
  ].join('\n');

  it('starts a cache per upstream; the token is only in the 0600 config file; a new token replaces only that cache', async () => {
    teamFile(TEAM);
    const world = new FakeWorld();
    const out = io({ HUB_TOKEN: TOKEN });
    expect(await up(world, out, '--yes')).toBe(0);

    const runs = changes(world).filter((l) => l.startsWith('docker run'));
    expect(runs).toEqual([
      expect.stringMatching(runLine('docker.io', 'docker-io', 'https://registry-1.docker.io', 'k3d-devreg')),
      expect.stringMatching(runLine('ghcr.io', 'ghcr-io', 'https://ghcr.io', 'k3d-devreg')),
    ]);
    expect(registries().mirrors).toMatchObject({ 'docker.io': HUB_MIRROR, 'ghcr.io': { endpoint: [`http://${GHCR}:5000`] } });
    expect(parse(readFileSync(join(home, 'cache', 'docker-io.yml'), 'utf8')).proxy).toEqual({ remoteurl: 'https://registry-1.docker.io', username: 'bot', password: TOKEN });
    expect(mode(join(home, 'cache', 'docker-io.yml'))).toBe(0o600);
    expect(mode(join(home, 'cache', 'ghcr-io.yml'))).toBe(0o600);

    const noToken = (): void => {
      for (const call of world.runner.calls) {
        expect(call.args.join(' ')).not.toContain(TOKEN);
        expect(call.input ?? '').not.toContain(TOKEN);
      }
    };
    noToken();
    expect(out.all()).not.toContain(TOKEN);
    expect(filesContaining(home, TOKEN)).toEqual([join(home, 'cache', 'docker-io.yml')]);
    expect(filesContaining(cwd, TOKEN)).toEqual([]);

    const before = world.runner.calls.length;
    const NEW_TOKEN = 'hub-N3w-token-77Wq';
    const rotated = io({ HUB_TOKEN: NEW_TOKEN });
    expect(await up(world, rotated, '--yes'), rotated.all()).toBe(0);
    // The new container gets the same data volume (no volume create: the cached content stays).
    expect(changes(world, before)).toEqual([expect.stringMatching(new RegExp(`^docker rm (-f|--force) ${HUB}$`)), expect.stringMatching(runLine('docker.io', 'docker-io', 'https://registry-1.docker.io', 'k3d-devreg'))]);
    expect(world.objects.objects.containers[GHCR]).toMatchObject({ id: `${GHCR}-id`, running: true });
    expect(parse(readFileSync(join(home, 'cache', 'docker-io.yml'), 'utf8')).proxy.password).toBe(NEW_TOKEN);
    expect(rotated.stderr.join('\n')).toContain('docker.io started again with the new settings (cached content kept)');
    for (const call of world.runner.calls) expect([call.args.join(' '), call.input ?? ''].join(' ')).not.toContain(NEW_TOKEN);
    expect(rotated.all()).not.toContain(NEW_TOKEN);
    noToken();
  });

  it('cache: false turns it off', async () => {
    teamFile('cache: false\n');
    const world = new FakeWorld();
    expect(await up(world, io(), '--yes')).toBe(0);
    expect(cacheCalls(world.runner.lines())).toEqual([]);
    expect(registries().mirrors?.['docker.io']).toBeUndefined();
    expect(k3dConfig(world, 0)).not.toHaveProperty('network');
    // The team file's choice is not saved as the user's: once the line goes, the cache is back.
    expect(settings()).not.toHaveProperty('cache');
    teamFile('name: devreg\n');
    expect(await up(world, io(), '--yes')).toBe(0);
    expect(registries().mirrors?.['docker.io']).toEqual(HUB_MIRROR);
  });

  it('a credential that cannot be resolved (its variable unset) stops up before anything is made', async () => {
    teamFile(TEAM);
    const world = new FakeWorld();
    const out = io();
    expect(await up(world, out, '--yes')).toBe(2);
    expect(out.stderr.at(-1)).toMatch(/^error: cache\.credentials\.docker\.io\.password: .*HUB_TOKEN/);
    expect(changes(world)).toEqual([]);
    expect(existsSync(join(home, 'devreg'))).toBe(false);
    expect(existsSync(join(home, 'cache'))).toBe(false);
  });
});

describe('bad cache settings in the team file: exit 2, one line naming the problem and the fix, nothing created', () => {
  const cases: [string, string, RegExp][] = [
    ['an http upstream', 'cache: {mirrors: {ghcr.io: "http://ghcr.io"}}', /cache upstream for ghcr\.io is not an https URL: "http:\/\/ghcr\.io": use the registry's https root, e\.g\. https:\/\/ghcr\.io$/],
    ['one upstream for two hosts', 'cache: {mirrors: {ghcr.io: "https://ghcr.io", ghcr.example: "https://ghcr.io/"}}', /cache upstream https:\/\/ghcr\.io is given twice \(for ghcr\.io and ghcr\.example\): keep one of the two mirrors/],
    ['docker.io\'s upstream again', 'cache: {mirrors: {hub.example: "https://registry-1.docker.io"}}', /cache upstream https:\/\/registry-1\.docker\.io is given twice \(for docker\.io and hub\.example\)/],
    ['a mirror key with a scheme', 'cache: {mirrors: {"https://ghcr.io": "https://ghcr.io"}}', /cache mirror "https:\/\/ghcr\.io" is not a registry host k3s would match: name it as images do, e\.g\. ghcr\.io/],
    ['a wildcard mirror key', 'cache: {mirrors: {"*": "https://ghcr.io"}}', /cache mirror "\*" is not a registry host k3s would match: name it as images do/],
    ['a mirror key with a path', 'cache: {mirrors: {ghcr.io/foo: "https://ghcr.io"}}', /cache mirror "ghcr\.io\/foo" is not a registry host k3s would match: name it as images do/],
    ['a password written out', 'cache: {credentials: {docker.io: {username: bot, password: "hunter2-literal"}}}', /cache\.credentials\.docker\.io\.password is written out in the file: give where to find it instead: \{fromEnv: NAME\}/],
    ['credentials for a host without a mirror', 'cache: {credentials: {quay.io: {username: bot, password: {fromEnv: HUB_TOKEN}}}}', /cache credentials for quay\.io, which the cache has no mirror for: add quay\.io under cache\.mirrors, or remove its credentials$/],
    ['an unknown key', 'cache: {mirror: {ghcr.io: "https://ghcr.io"}}', /: cache: unknown field "mirror": use mirrors and credentials$/],
  ];

  for (const [what, text, expected] of cases) {
    it(what, async () => {
      teamFile(`${text}\n`);
      const world = new FakeWorld();
      const out = io({ HUB_TOKEN: TOKEN });
      expect(await up(world, out, '--yes')).toBe(2);
      // Checked with the flags, before even the tools are looked at: the error is all up prints.
      expect(out.stderr).toEqual([expect.stringMatching(/^error: [^\n]+$/)]);
      expect(out.stderr[0]).toMatch(expected);
      expect(out.stdout).toEqual([]);
      expect(out.all()).not.toContain('hunter2-literal');
      expect(changes(world)).toEqual([]);
      expect(existsSync(join(home, 'devreg'))).toBe(false);
      expect(existsSync(join(home, 'cache'))).toBe(false);
    });
  }
});

describe('a registries file of the user with its own docker.io mirror', () => {
  it('keeps that mirror as written, does not use the cache for docker.io, and says so', async () => {
    const file = join(cwd, 'my-registries.yaml');
    writeFileSync(file, 'mirrors:\n  docker.io:\n    endpoint:\n      - https://mirror.example.com\n');
    const world = new FakeWorld();
    const out = io();
    expect(await up(world, out, '--yes', '--registries-file', file)).toBe(0);
    expect(registries().mirrors?.['docker.io']).toEqual({ endpoint: ['https://mirror.example.com'] });
    expect(registriesText()).not.toContain(HUB);
    const warnings = out.stderr.join('\n').split('\n').filter((l) => l.includes('your registries file has a mirror for docker.io'));
    expect(warnings).toEqual([expect.stringMatching(/warning: your registries file has a mirror for docker\.io: it is kept, and the pull-through cache is not used for docker\.io$/)]);
    // Nothing of the cache is started for a cluster that does not use it.
    expect(cacheCalls(changes(world))).toEqual([]);
    expect(world.objects.objects.containers[HUB]).toBeUndefined();
  });
});

describe('a container with the cache\'s name that is not ours', () => {
  it('is refused with one line naming it and the fix, before k3d creates anything, and left alone', async () => {
    const world = new FakeWorld();
    const foreign = { id: 'someone-elses', labels: {}, image: 'registry:2', running: true, networks: ['bridge'], mounts: [] };
    world.objects.objects.containers[HUB] = structuredClone(foreign);
    const out = io();
    expect(await up(world, out, '--yes')).toBe(2);
    expect(out.stderr.at(-1)).toBe(`error: a container named ${HUB} exists and is not k3s-devreg's cache: rename or remove it (docker rm -f ${HUB}), or run up with --no-cache`);
    const made = changes(world);
    expect(made.filter((l) => l.startsWith('k3d ') || l.startsWith('docker run') || l.startsWith('docker rm') || l.startsWith('docker network'))).toEqual([]);
    expect(world.cluster).toBeUndefined();
    expect(world.objects.objects.containers[HUB]).toEqual(foreign);
  });

  it('nor is one of ours that caches another upstream under that name', async () => {
    const world = new FakeWorld();
    const mislabelled = { id: 'ours-but-quay', labels: { 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cache': 'quay.io' }, image: 'registry:2.8.3', running: true, networks: [], mounts: [] };
    world.objects.objects.containers[HUB] = structuredClone(mislabelled);
    const out = io();
    expect(await up(world, out, '--yes')).toBe(2);
    expect(out.stderr.at(-1)).toMatch(new RegExp(`^error: a container named ${HUB} exists and is not k3s-devreg's cache`));
    expect(changes(world).filter((l) => l.startsWith('k3d ') || /^docker (run|rm|network)/.test(l))).toEqual([]);
    expect(world.objects.objects.containers[HUB]).toEqual(mislabelled);
  });
});
