/**
 * `cache status --json`, `status`'s cache line and `cache rm --yes` against the real docker daemon:
 * stand-in caches made as `up` makes them (the labelled volume, then `docker run` from cacheRunArgs
 * on a cluster's network k3d-<name>, with up's upstream and config labels), a busybox asleep in
 * place of the registry. Look-alikes carry a cache's name or only one of our two labels, and stay.
 *
 * The daemon is shared (other test files, and a developer's own cache on their machine): the runner
 * adds this file's scope label to the two listings the commands make, so they see only this file's
 * objects. The look-alikes carry the scope label too: the scope is not what spares them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheVolumeCreateArgs } from '../helpers/cache-volume.js';
import { cacheEndpoint, cacheRunArgs, renderCacheConfig } from '../../src/cache/render.js';
import { cacheConfigPath, cacheContainerName, cacheVolumeName } from '../../src/cache/spec.js';
import { runCli } from '../../src/cli.js';
import { cacheCheck } from '../../src/steps/status-cache.js';
import { createRunner, type Runner } from '../../src/tools/run.js';
import { fakeFactory } from '../helpers/commands.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import { captureIo } from '../helpers/io.js';
import { TEST_LABEL } from '../helpers/labels.js';

const id = randomBytes(4).toString('hex');
const SCOPE = `dev.k3s-devreg/test-scope=${id}`;
const clusters = [`k3s-devreg-test-${id}-one`, `k3s-devreg-test-${id}-two`];
const networks = clusters.map((c) => `k3d-${c}`);
const [running, stopped, gone, alike] = ['run', 'stop', 'gone', 'alike'].map((h) => `${h}-${id}.example`) as [string, string, string, string];
const lookAlikes = { bare: cacheContainerName(alike), managedOnly: `${cacheContainerName(alike)}-managed`, volume: cacheVolumeName(alike) };
const MB = 2048 * 1024;
const ours = [running, stopped, gone];
let home = '';
let image = '';

/** The real runner, with this file's scope added to `docker ps` and `docker volume ls`. */
const scoped = (run: Runner): Runner => (file, args, options) => {
  const at = args[0] === 'ps' ? 1 : args[0] === 'volume' && args[1] === 'ls' ? 2 : -1;
  return run(file, at < 0 ? args : [...args.slice(0, at), '--filter', `label=${SCOPE}`, ...args.slice(at)], options);
};
const runner = scoped(createRunner());
const env = () => ({ K3S_DEVREG_HOME: home });
const exists = (kind: 'container' | 'volume', name: string): boolean => {
  try {
    docker([kind, 'inspect', name]);
    return true;
  } catch {
    return false;
  }
};

/** As up does: the labelled volume, its config file, then the container on the first cluster's network. */
function standIn(host: string, { start }: { start: boolean }): void {
  const testLabels = ['--label', TEST_LABEL, '--label', SCOPE];
  const volume = cacheVolumeCreateArgs(host);
  docker([...volume.slice(0, 2), ...testLabels, ...volume.slice(2)]);
  const upstream = { host, remoteUrl: `https://${host}` };
  const configFile = cacheConfigPath(home, host);
  writeFileSync(configFile, renderCacheConfig(upstream), { mode: 0o600 });
  if (!start) return;
  const args = cacheRunArgs(upstream, { configFile, network: networks[0]!, image });
  const upLabels = ['--label', `dev.k3s-devreg/cache-upstream=${upstream.remoteUrl}`, '--label', `dev.k3s-devreg/cache-config=${'0'.repeat(64)}`];
  docker([...args.slice(0, 2), ...testLabels, ...upLabels, ...args.slice(2), 'sleep', '600']);
}

describe.skipIf(!dockerAvailable)('cache status and cache rm on the real docker daemon', () => {
  beforeAll(() => {
    image = ensureBusyboxImage();
    home = mkdtempSync(join(tmpdir(), 'k3s-devreg-cache-cmd-'));
    mkdirSync(join(home, 'cache'), { mode: 0o700 });
    for (const network of networks) docker(['network', 'create', '--label', TEST_LABEL, network]);
    standIn(running, { start: true });
    standIn(stopped, { start: true });
    standIn(gone, { start: false });
    // 2 MiB of cached "images" in the running cache's volume.
    docker(['run', '--rm', '--label', TEST_LABEL, '-v', `${cacheVolumeName(running)}:/data`, image, 'dd', 'if=/dev/urandom', 'of=/data/blob', 'bs=1024', 'count=2048']);
    docker(['network', 'connect', networks[1]!, cacheContainerName(running)]);
    docker(['stop', '-t', '1', cacheContainerName(stopped)]);
    const scope = ['--label', TEST_LABEL, '--label', SCOPE];
    docker(['run', '-d', '--name', lookAlikes.bare, ...scope, '--network', networks[0]!, image, 'sleep', '600']);
    docker(['run', '-d', '--name', lookAlikes.managedOnly, ...scope, '--label', 'app.kubernetes.io/managed-by=k3s-devreg', image, 'sleep', '600']);
    docker(['volume', 'create', ...scope, '--label', `dev.k3s-devreg/cache=${alike}`, lookAlikes.volume]);
  }, 180_000);

  afterAll(() => {
    const containers = [...ours.map(cacheContainerName), lookAlikes.bare, lookAlikes.managedOnly];
    for (const args of [['rm', '-f', ...containers], ['volume', 'rm', '-f', ...ours.map(cacheVolumeName), lookAlikes.volume], ['network', 'rm', ...networks]]) {
      try {
        docker(args);
      } catch {
        /* already gone */
      }
    }
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('cache status --json reports each of our caches, with its state, disk use and clusters, and no look-alike; exit 1', async () => {
    const io = captureIo({ env: env() });
    expect(await runCli(['cache', 'status', '--json'], io, fakeFactory(runner)), io.all()).toBe(1);
    const report = JSON.parse(io.stdout.join('\n'));
    expect(report.allRunning).toBe(false);
    expect(report.caches.map((c: { host: string }) => c.host)).toEqual([...ours].sort());
    const byHost = Object.fromEntries(report.caches.map((c: { host: string }) => [c.host, c]));
    expect(byHost[running]).toMatchObject({ upstream: `https://${running}`, container: cacheContainerName(running), state: 'running', volume: cacheVolumeName(running), clusters: [...clusters].sort(), configFile: cacheConfigPath(home, running) });
    // docker rounds to 3 significant digits (2.097MB plus the folder's own blocks).
    expect(byHost[running].diskBytes).toBeGreaterThanOrEqual(MB * 0.99);
    // A stopped container stays configured on its networks: the cluster it serves when started.
    expect(byHost[stopped]).toMatchObject({ state: 'exited', clusters: [clusters[0]], volume: cacheVolumeName(stopped) });
    expect(byHost[gone]).toMatchObject({ state: 'missing', upstream: `https://${gone}`, volume: cacheVolumeName(gone), clusters: [] });
    expect(io.all()).not.toContain(alike);
  });

  it("status's cache line: OK for the cluster whose network the running cache is on, WARN for a stopped one", async () => {
    const stateDir = (hosts: string[]) => {
      const dir = mkdtempSync(join(home, 'state-'));
      mkdirSync(join(dir, 'node'));
      writeFileSync(join(dir, 'node', 'registries.yaml'), `mirrors:\n${hosts.map((h) => `  ${h}:\n    endpoint: [${cacheEndpoint(h)}]\n`).join('')}`);
      return dir;
    };
    expect(await cacheCheck(runner, clusters[1]!, stateDir([running]))).toEqual({ status: 'ok', detail: `${running}: running on ${networks[1]}` });
    expect(await cacheCheck(runner, clusters[0]!, stateDir([running, stopped]))).toMatchObject({ status: 'warn', detail: `${cacheContainerName(stopped)} is exited: pulls go straight to the upstream for those` });
  });

  it('cache rm refuses without --yes where it cannot ask; with --yes removes ours only, and the volume space is gone', async () => {
    const refused = captureIo({ env: env() });
    expect(await runCli(['cache', 'rm'], refused, fakeFactory(runner))).toBe(2);
    expect(exists('container', cacheContainerName(running))).toBe(true);

    const mountpoint = docker(['volume', 'inspect', '--format', '{{.Mountpoint}}', cacheVolumeName(running)]);
    // Seen from here only when docker runs on this machine and lets us read its folders (as root in CI).
    const visible = existsSync(join(mountpoint, 'blob'));
    const io = captureIo({ env: env() });
    expect(await runCli(['cache', 'rm', '--yes'], io, fakeFactory(runner)), io.all()).toBe(0);
    if (visible) expect(existsSync(mountpoint)).toBe(false);
    expect(io.stdout.at(-1)).toContain('Clusters keep working');
    for (const host of ours) {
      expect(exists('container', cacheContainerName(host)), cacheContainerName(host)).toBe(false);
      expect(exists('volume', cacheVolumeName(host)), cacheVolumeName(host)).toBe(false);
      expect(existsSync(cacheConfigPath(home, host))).toBe(false);
    }
    expect(exists('container', lookAlikes.bare)).toBe(true);
    expect(exists('container', lookAlikes.managedOnly)).toBe(true);
    expect(exists('volume', lookAlikes.volume)).toBe(true);
    // What docker sizes is what is on its disk: the volume, and its 2 MiB, are no longer there.
    const sized = JSON.parse(docker(['system', 'df', '--verbose', '--format', '{{json .Volumes}}'])) as { Name: string }[];
    expect(sized.map((v) => v.Name)).not.toContain(cacheVolumeName(running));
    expect(sized.map((v) => v.Name)).toContain(lookAlikes.volume);

    const after = captureIo({ env: env() });
    expect(await runCli(['cache', 'status'], after, fakeFactory(runner))).toBe(0);
    expect(after.stdout[0]).toMatch(/^no pull-through cache on this docker daemon/);
  });
});
