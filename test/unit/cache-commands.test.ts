/**
 * `cache status | rm` and `status`'s cache line, through runCli with a recording runner that answers
 * as docker does (label filters ANDed, inspect of several names, `system df --verbose`): exact argv,
 * exit codes, JSON, and that nothing without both of our labels is touched.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheContainersIn } from '../../src/cache/inventory.js';
import { cacheEndpoint } from '../../src/cache/render.js';
import { cacheConfigPath } from '../../src/cache/spec.js';
import { runCli } from '../../src/cli.js';
import type { Factory } from '../../src/command-types.js';
import { cacheCheck } from '../../src/steps/status-cache.js';
import { parseDockerSize } from '../../src/tools/docker-labelled.js';
import { fakeFactory } from '../helpers/commands.js';
import { captureIo } from '../helpers/io.js';
import { recordingRunner, type RecordedCall, type Reply } from '../helpers/recording-runner.js';

const OURS = { 'app.kubernetes.io/managed-by': 'k3s-devreg' };
const cacheOf = (host: string) => ({ ...OURS, 'dev.k3s-devreg/cache': host });
const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-cache-cmd-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Container {
  labels: Record<string, string>;
  status: string;
  networks: string[];
  volume?: string;
}

/** docker, as far as these commands ask it. */
class Docker {
  containers = new Map<string, Container>();
  volumes = new Map<string, { labels: Record<string, string>; size: string }>();
  down = false;
  readonly runner = recordingRunner((call) => this.answer(call));

  private static matches(labels: Record<string, string>, args: string[]): boolean {
    const wanted = args.flatMap((a, i) => (args[i - 1] === '--filter' && a.startsWith('label=') ? [a.slice(6)] : []));
    return wanted.every((w) => {
      const [key, value] = w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
      return key in labels && (value === undefined || labels[key] === value);
    });
  }

  answer({ file, args }: RecordedCall): Reply {
    if (file !== 'docker') throw new Error(`unscripted ${file}`);
    if (this.down) return { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' };
    const [verb, sub] = args;
    if (verb === 'version') return { stdout: '20.10.24' };
    if (verb === 'ps') return { stdout: [...this.containers].filter(([, c]) => Docker.matches(c.labels, args)).map(([n]) => n).join('\n') };
    if (verb === 'volume' && sub === 'ls') return { stdout: [...this.volumes].filter(([, v]) => Docker.matches(v.labels, args)).map(([n]) => n).join('\n') };
    if (verb === 'container' && sub === 'inspect') {
      const names = args.slice(2);
      const raw = names.flatMap((name) => {
        const c = this.containers.get(name);
        if (!c) return [];
        const Mounts = c.volume ? [{ Type: 'volume', Name: c.volume }] : [];
        return [{ Id: `${name}-id`, Name: `/${name}`, Config: { Labels: c.labels, Image: 'registry:2.8.3' }, State: { Running: c.status === 'running', Status: c.status }, Mounts, NetworkSettings: { Networks: Object.fromEntries(c.networks.map((n) => [n, {}])) } }];
      });
      const missing = names.filter((n) => !this.containers.has(n)).map((n) => `Error: No such container: ${n}`);
      return { exitCode: missing.length > 0 ? 1 : 0, stdout: JSON.stringify(raw), stderr: missing.join('\n') };
    }
    if (verb === 'volume' && sub === 'inspect') {
      const v = this.volumes.get(args[2]!);
      return v ? { stdout: JSON.stringify([{ Name: args[2], Labels: v.labels }]) } : { exitCode: 1, stdout: '[]', stderr: `Error: No such volume: ${args[2]}` };
    }
    if (verb === 'system' && sub === 'df') return { stdout: JSON.stringify([...this.volumes].map(([Name, v]) => ({ Name, Size: v.size, Labels: '' }))) };
    if (verb === 'rm' && sub === '--force') {
      for (const name of args.slice(2)) this.containers.delete(name);
      return { stdout: args.slice(2).join('\n') };
    }
    if (verb === 'volume' && sub === 'rm') return this.volumes.delete(args[2]!) ? { stdout: args[2] } : { exitCode: 1, stderr: 'no such volume' };
    throw new Error(`unscripted docker ${args.join(' ')}`);
  }
}

const hub = 'k3s-devreg-cache-docker-io';
const ghcr = 'k3s-devreg-cache-ghcr-io';

/** Two caches up made (one attached to two clusters), a volume whose container is gone, and look-alikes. */
function daemon(): Docker {
  const d = new Docker();
  d.containers.set(hub, { labels: { ...cacheOf('docker.io'), 'dev.k3s-devreg/cache-upstream': 'https://registry-1.docker.io', 'dev.k3s-devreg/cache-config': 'a'.repeat(64) }, status: 'running', networks: ['k3d-devreg', 'k3d-other', 'bridge'], volume: `${hub}-data` });
  d.containers.set(ghcr, { labels: { ...cacheOf('ghcr.io'), 'dev.k3s-devreg/cache-upstream': 'https://ghcr.io' }, status: 'running', networks: ['k3d-devreg'], volume: `${ghcr}-data` });
  d.volumes.set(`${hub}-data`, { labels: cacheOf('docker.io'), size: '1.234GB' });
  d.volumes.set(`${ghcr}-data`, { labels: cacheOf('ghcr.io'), size: '0B' });
  d.volumes.set('k3s-devreg-cache-quay-io-data', { labels: cacheOf('quay.io'), size: '12.5MB' });
  // Named like ours, labelled like ours in part: not ours.
  d.containers.set('k3s-devreg-cache-x', { labels: {}, status: 'running', networks: ['k3d-devreg'] });
  d.containers.set('k3s-devreg-cache-y', { labels: OURS, status: 'exited', networks: [] });
  d.volumes.set('k3s-devreg-cache-x-data', { labels: { 'dev.k3s-devreg/cache': 'x' }, size: '5MB' });
  d.volumes.set('k3s-devreg-devreg-registry', { labels: OURS, size: '1MB' });
  return d;
}

const LISTS = [
  'docker version --format {{.Server.Version}}',
  'docker ps --all --filter label=app.kubernetes.io/managed-by=k3s-devreg --filter label=dev.k3s-devreg/cache --format {{.Names}}',
  'docker volume ls --quiet --filter label=app.kubernetes.io/managed-by=k3s-devreg --filter label=dev.k3s-devreg/cache',
  `docker container inspect ${hub} ${ghcr}`,
  `docker volume inspect ${hub}-data`,
  `docker volume inspect ${ghcr}-data`,
  'docker volume inspect k3s-devreg-cache-quay-io-data',
];
const DF = 'docker system df --verbose --format {{json .Volumes}}';

let home = '';
let env: NodeJS.ProcessEnv = {};
beforeEach(() => {
  home = mkdtempSync(join(work, 'home-'));
  env = { K3S_DEVREG_HOME: home };
});

function configFiles(): void {
  mkdirSync(join(home, 'cache'), { recursive: true });
  for (const host of ['docker.io', 'ghcr.io']) writeFileSync(cacheConfigPath(home, host), 'proxy:\n  remoteurl: https://x\n', { mode: 0o600 });
  writeFileSync(cacheConfigPath(home, 'quay.io'), '# Written by k3s-devreg\nproxy:\n  remoteurl: https://quay.io\n  password: s3cret\n', { mode: 0o600 });
}

const factory = (d: Docker, extra: Partial<Factory> = {}) => fakeFactory(d.runner, extra);

describe('cache status', () => {
  it('--json: one object per upstream, from both labels only; exit 1 since quay.io has no container', async () => {
    const d = daemon();
    configFiles();
    const io = captureIo({ env });
    expect(await runCli(['cache', 'status', '--json'], io, factory(d)), io.all()).toBe(1);
    expect(d.runner.lines()).toEqual([...LISTS, DF]);
    const report = JSON.parse(io.stdout.join('\n'));
    expect(report.allRunning).toBe(false);
    expect(report.caches).toEqual([
      { host: 'docker.io', upstream: 'https://registry-1.docker.io', container: hub, state: 'running', volume: `${hub}-data`, diskUsed: '1.234GB', diskBytes: 1_234_000_000, clusters: ['devreg', 'other'], configFile: cacheConfigPath(home, 'docker.io') },
      { host: 'ghcr.io', upstream: 'https://ghcr.io', container: ghcr, state: 'running', volume: `${ghcr}-data`, diskUsed: '0B', diskBytes: 0, clusters: ['devreg'], configFile: cacheConfigPath(home, 'ghcr.io') },
      // No container: the upstream is read from its config file; the password in it is not.
      { host: 'quay.io', upstream: 'https://quay.io', container: 'k3s-devreg-cache-quay-io', state: 'missing', volume: 'k3s-devreg-cache-quay-io-data', diskUsed: '12.5MB', diskBytes: 12_500_000, clusters: [], configFile: cacheConfigPath(home, 'quay.io') },
    ]);
    expect(io.all()).not.toContain('s3cret');
  });

  it('a table, exit 0 when every cache container runs; an exited one makes it 1 and says what that means', async () => {
    const d = daemon();
    d.volumes.delete('k3s-devreg-cache-quay-io-data');
    const io = captureIo({ env });
    expect(await runCli(['cache', 'status'], io, factory(d)), io.all()).toBe(0);
    const out = io.stdout.join('\n').split('\n');
    expect(out[0]).toMatch(/^UPSTREAM +URL +CONTAINER +STATE +VOLUME +DISK +CLUSTERS$/);
    expect(out[1]).toMatch(/^docker\.io +https:\/\/registry-1\.docker\.io +k3s-devreg-cache-docker-io +running +k3s-devreg-cache-docker-io-data +1\.234GB +devreg, other$/);
    expect(out.at(-1)).toBe('Every cache container is running.');

    d.containers.get(ghcr)!.status = 'exited';
    const stopped = captureIo({ env });
    expect(await runCli(['cache', 'status'], stopped, factory(d))).toBe(1);
    expect(stopped.stdout.join('\n')).toContain(`Not running: ${ghcr}. Pulls of ghcr.io go straight to the upstream; k3s-devreg up starts the cache again.`);
  });

  it('none on the daemon: says so, exit 0, without sizing every volume', async () => {
    const d = new Docker();
    d.containers.set('k3s-devreg-cache-x', { labels: {}, status: 'running', networks: [] });
    const io = captureIo({ env });
    expect(await runCli(['cache', 'status'], io, factory(d))).toBe(0);
    expect(io.stdout).toEqual(['no pull-through cache on this docker daemon (k3s-devreg up starts one unless the cache is turned off)']);
    expect(d.runner.lines()).not.toContain(DF);
    const json = captureIo({ env });
    expect(await runCli(['cache', 'status', '--json'], json, factory(d))).toBe(0);
    expect(JSON.parse(json.stdout.join('\n'))).toEqual({ allRunning: true, caches: [] });
  });

  it('a docker that ignores the label filter still cannot make a look-alike ours (its labels are checked again)', async () => {
    const d = daemon();
    const loose = recordingRunner((call) => (call.args[0] === 'ps' ? { stdout: [...d.containers.keys()].join('\n') } : d.answer(call)));
    const io = captureIo({ env });
    await runCli(['cache', 'status', '--json'], io, fakeFactory(loose));
    expect(JSON.parse(io.stdout.join('\n')).caches.map((c: { container: string }) => c.container)).toEqual([hub, ghcr, 'k3s-devreg-cache-quay-io']);
  });

  it('docker down: the daemon error and its fix, exit 2', async () => {
    const d = daemon();
    d.down = true;
    const io = captureIo({ env });
    expect(await runCli(['cache', 'status'], io, factory(d))).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/^error: the docker daemon is not reachable .*: start Docker/m);
  });

  it('refuses a missing or unknown subcommand with the usage', async () => {
    for (const [argv, said] of [[['cache'], 'cache needs a subcommand: status or rm'], [['cache', 'list'], 'unknown cache subcommand "list"'], [['cache', 'rm', 'now'], 'unknown cache subcommand "rm now"']] as const) {
      const io = captureIo({ env });
      expect(await runCli([...argv], io, factory(daemon()))).toBe(2);
      expect(io.stderr.join('\n')).toContain(`error: ${said}: run k3s-devreg cache status [--json] | cache rm [--yes]`);
    }
  });
});

describe('cache rm', () => {
  const REMOVALS = [`docker rm --force ${hub} ${ghcr}`, `docker volume rm ${hub}-data`, `docker volume rm ${ghcr}-data`, 'docker volume rm k3s-devreg-cache-quay-io-data'];

  it('--yes: removes our containers, volumes and config files, and only those; says clusters keep working', async () => {
    const d = daemon();
    configFiles();
    writeFileSync(join(home, 'cache', 'notes.txt'), 'mine');
    const io = captureIo({ env });
    expect(await runCli(['cache', 'rm', '--yes'], io, factory(d)), io.all()).toBe(0);
    expect(d.runner.lines()).toEqual([...LISTS, ...REMOVALS]);
    expect([...d.containers.keys()].sort()).toEqual(['k3s-devreg-cache-x', 'k3s-devreg-cache-y']);
    expect([...d.volumes.keys()].sort()).toEqual(['k3s-devreg-cache-x-data', 'k3s-devreg-devreg-registry']);
    expect(readdirSync(join(home, 'cache'))).toEqual(['notes.txt']);
    expect(io.stdout).toEqual([
      `Removed 2 containers: ${hub}, ${ghcr}`,
      `Removed 3 volumes: ${hub}-data, ${ghcr}-data, k3s-devreg-cache-quay-io-data`,
      `Removed 3 config files: ${['docker-io', 'ghcr-io', 'quay-io'].map((s) => join(home, 'cache', `${s}.yml`)).join(', ')}`,
      'Clusters keep working: k3s pulls from each upstream itself when its mirror is gone. The next k3s-devreg up starts a new, empty cache.',
    ]);
  });

  it('without --yes and no terminal (or under CI): refuses with the fix, removes nothing (exit 2), as reset does', async () => {
    for (const io of [captureIo({ env }), captureIo({ env: { ...env, CI: 'true' }, tty: true })]) {
      const d = daemon();
      let asked = false;
      expect(await runCli(['cache', 'rm'], io, factory(d, { ask: async () => ((asked = true), { confirm: 'yes' }) }))).toBe(2);
      expect(asked).toBe(false);
      expect(io.stderr.at(-1)).toBe('error: cache rm removes the pull-through cache (2 containers, 3 volumes with every cached image, 0 config files) and needs confirmation: run it again with --yes');
      expect(d.runner.lines().filter((l) => / rm /.test(l))).toEqual([]);
    }
  });

  it('at a terminal: shows what it would remove and asks; "no" changes nothing (exit 1), "yes" removes', async () => {
    const d = daemon();
    const questions: string[] = [];
    const no = captureIo({ env, tty: true });
    expect(await runCli(['cache', 'rm'], no, factory(d, { ask: async (q) => (questions.push(q[0]!.message), { confirm: 'no' }) }))).toBe(1);
    expect(questions).toEqual(['Remove the pull-through cache shared by every cluster on this docker daemon (2 containers, 3 volumes with every cached image, 0 config files)? (yes/no)']);
    expect(no.stderr.join('\n')).toMatch(/^docker\.io +https:\/\/registry-1\.docker\.io .*1\.234GB/m);
    expect(no.stderr.at(-1)).toBe('Nothing was changed.');
    expect(d.runner.lines().filter((l) => / rm /.test(l))).toEqual([]);

    const yes = captureIo({ env, tty: true });
    expect(await runCli(['cache', 'rm'], yes, factory(d, { ask: async () => ({ confirm: 'yes' }) }))).toBe(0);
    expect(d.runner.lines().filter((l) => / rm /.test(l))).toEqual(REMOVALS);
  });

  it('nothing of ours: says so and asks nothing', async () => {
    const d = new Docker();
    d.containers.set('k3s-devreg-cache-x', { labels: {}, status: 'running', networks: [] });
    const io = captureIo({ env, tty: true });
    expect(await runCli(['cache', 'rm'], io, factory(d, { ask: async () => { throw new Error('asked'); } }))).toBe(0);
    expect(io.stdout).toEqual(['no pull-through cache on this docker daemon: nothing to remove']);
    expect(d.containers.has('k3s-devreg-cache-x')).toBe(true);
  });
});

describe("status's cache line", () => {
  const registries = (hosts: string[]) => `mirrors:\n${hosts.map((h) => `  ${h}:\n    endpoint:\n      - ${cacheEndpoint(h)}\n`).join('')}`;
  const stateDirWith = (text?: string) => {
    const dir = mkdtempSync(join(work, 'state-'));
    if (text !== undefined) {
      mkdirSync(join(dir, 'node'));
      writeFileSync(join(dir, 'node', 'registries.yaml'), text);
    }
    return dir;
  };

  it('names the cache containers a registries.yaml points at', () => {
    expect(cacheContainersIn(registries(['docker.io', 'registry.example.com:5000']))).toEqual(['k3s-devreg-cache-docker-io', 'k3s-devreg-cache-registry-example-com-5000']);
    expect(cacheContainersIn('mirrors:\n  docker.io:\n    endpoint: [https://mirror.example.com]\n')).toEqual([]);
  });

  it('OK when every cache the cluster uses runs on its network', async () => {
    const d = daemon();
    expect(await cacheCheck(d.runner, 'devreg', stateDirWith(registries(['docker.io', 'ghcr.io'])))).toEqual({ status: 'ok', detail: 'docker.io, ghcr.io: running on k3d-devreg' });
    expect(d.runner.lines()).toEqual([
      'docker ps --all --filter label=app.kubernetes.io/managed-by=k3s-devreg --filter label=dev.k3s-devreg/cache --format {{.Names}}',
      `docker container inspect ${hub} ${ghcr}`,
    ]);
    // Attached to this cluster's network, whatever its (missing) registries.yaml says.
    expect(await cacheCheck(d.runner, 'other', stateDirWith())).toEqual({ status: 'ok', detail: 'docker.io: running on k3d-other' });
  });

  it('WARN, never a failure, when off, stopped, detached, gone or a look-alike', async () => {
    const fix = 'run k3s-devreg up to start and attach the cache again (cache status shows every upstream)';
    expect(await cacheCheck(new Docker().runner, 'devreg', stateDirWith())).toEqual({
      status: 'warn',
      detail: 'off: no pull-through cache on this docker daemon; pulls go straight to the upstream',
      fix: 'run k3s-devreg up with the cache on (no --no-cache, no cache: false in k3s-devreg.yaml)',
    });
    expect((await cacheCheck(daemon().runner, 'third', stateDirWith())).detail).toBe('off: no pull-through cache is attached to k3d-third; pulls go straight to the upstream');
    const d = daemon();
    d.containers.get(ghcr)!.status = 'restarting';
    d.containers.get(hub)!.networks = ['k3d-other'];
    const state = stateDirWith(registries(['docker.io', 'ghcr.io', 'quay.io', 'x']));
    expect(await cacheCheck(d.runner, 'devreg', state)).toEqual({
      status: 'warn',
      detail: `${hub} is not attached to k3d-devreg; ${ghcr} is restarting; k3s-devreg-cache-quay-io is missing; k3s-devreg-cache-x is not a k3s-devreg cache (no labels of ours): pulls go straight to the upstream for those`,
      fix,
    });
    d.down = true;
    expect(await cacheCheck(d.runner, 'devreg', state)).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^could not check the cache: docker could not list the containers by label/) });
  });
});

it("parses docker's sizes (decimal units, as go-units writes them)", () => {
  expect(['0B', '512B', '1.5kB', '12.5MB', '1.234GB', '2TB', 'N/A'].map(parseDockerSize)).toEqual([0, 512, 1500, 12_500_000, 1_234_000_000, 2e12, undefined]);
});
