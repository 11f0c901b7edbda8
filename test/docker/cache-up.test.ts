/**
 * up's cache step (src/steps/cache.ts ensureCache) against the real docker daemon: the cluster's
 * network made first, the cache container started from the rendered argv, no port published, the
 * upstream credentials only in the 0600 config file (not in argv, env or `docker inspect`), a second
 * cluster reusing the same container, a re-run changing nothing, and new credentials replacing the
 * container on the same data volume. The upstream is a name that does not resolve here: what is under
 * test is what up makes; pulls through the cache are cache-proxy.test.ts's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_CONFIG_PATH } from '../../src/cache/render.js';
import { cacheConfigPath, cacheContainerName, cacheVolumeName } from '../../src/cache/spec.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { ensureCache, resolveCacheUpstreams, type CacheRequest } from '../../src/steps/cache.js';
import { createRunner, type Runner } from '../../src/tools/run.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { ensureRegistryImage } from '../helpers/images.js';
import { TEST_LABEL } from '../helpers/labels.js';

const id = randomBytes(4).toString('hex');
const host = `cache-up-${id}.example`;
const clusters = [`k3s-devreg-test-${id}-a`, `k3s-devreg-test-${id}-b`] as const;
const container = cacheContainerName(host);
const volume = cacheVolumeName(host);
const CREATES = /^(run|volume create|network create)$/;
let home = '';
let image = '';
let token = `hub-token-${randomBytes(12).toString('hex')}`;
const calls: string[][] = [];

/** The real runner, recording every argv, and adding the test label to what it creates (the leftovers check counts by it). */
const run: Runner = (file, args, options) => {
  calls.push([file, ...args]);
  const verb = args[0] === 'run' ? 'run' : args.slice(0, 2).join(' ');
  const labelled = file === 'docker' && CREATES.test(verb) ? [...args.slice(0, 2), '--label', TEST_LABEL, ...args.slice(2)] : args;
  return createRunner()(file, labelled, options);
};

/** What up does: the credentials resolved first (from the env here), then the cache ensured for one cluster. */
async function ensureFor(cluster: string): ReturnType<typeof ensureCache> {
  const spec = { upstreams: [{ host, remoteUrl: `https://${host}`, credentials: { username: 'cachebot', password: { fromEnv: 'HUB_TOKEN' } } }] };
  const upstreams = await resolveCacheUpstreams(spec, { run, env: { HUB_TOKEN: token }, stateRoot: home, warn: () => undefined });
  const request: CacheRequest = { run, spec: { name: cluster, registryImage: image }, upstreams, stateRoot: home };
  return ensureCache(request);
}

const inspect = (): { Id: string; Config: { Env: string[]; Labels: Record<string, string> }; HostConfig: { PortBindings: object | null }; NetworkSettings: { Networks: Record<string, unknown>; Ports: object }; Mounts: { Destination: string; RW: boolean; Name?: string }[] } =>
  (JSON.parse(docker(['container', 'inspect', container])) as never[])[0]!;

beforeAll(() => {
  if (!dockerAvailable) return;
  home = mkdtempSync(join(tmpdir(), 'k3s-devreg-cache-up-'));
  image = ensureRegistryImage();
  forgetSecretsForTests();
}, 300_000);

afterAll(() => {
  if (!dockerAvailable) return;
  const quiet = (args: string[]) => {
    try {
      docker(args);
    } catch {
      // Already gone.
    }
  };
  quiet(['rm', '-f', container]);
  quiet(['volume', 'rm', volume]);
  for (const cluster of clusters) quiet(['network', 'rm', `k3d-${cluster}`]);
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!dockerAvailable)('up starts, or reuses, the pull-through cache (real docker)', () => {
  it('makes the network, starts the cache on it unpublished, and keeps the credentials in the 0600 file only', async () => {
    const result = await ensureFor(clusters[0]);
    expect(result).toEqual({ network: 'created', caches: [{ host, container, action: 'started' }] });
    const network = JSON.parse(docker(['network', 'inspect', `k3d-${clusters[0]}`])) as { Labels: Record<string, string> }[];
    expect(network[0]!.Labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cluster': clusters[0] });
    const info = inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([`k3d-${clusters[0]}`]);
    expect(Object.keys(info.HostConfig.PortBindings ?? {})).toEqual([]);
    expect(info.Config.Labels).toMatchObject({ 'dev.k3s-devreg/cache': host, 'dev.k3s-devreg/cache-upstream': `https://${host}` });
    expect(info.Mounts.find((m) => m.Destination === CACHE_CONFIG_PATH)).toMatchObject({ RW: false });
    expect(info.Mounts.find((m) => m.Destination === '/var/lib/registry')).toMatchObject({ Name: volume });
    // The secret is in the config file, 0600, and nowhere docker shows or any command line carried.
    const file = cacheConfigPath(home, host);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(`password: ${token}`);
    expect(docker(['container', 'inspect', container])).not.toContain(token);
    expect(calls.flat().join(' ')).not.toContain(token);
  }, 120_000);

  it('a second cluster joins the same container; a re-run only asks docker', async () => {
    const before = inspect().Id;
    const second = await ensureFor(clusters[1]);
    expect(second).toEqual({ network: 'created', caches: [{ host, container, action: 'attached' }] });
    expect(inspect().Id).toBe(before);
    expect(Object.keys(inspect().NetworkSettings.Networks).sort()).toEqual([`k3d-${clusters[0]}`, `k3d-${clusters[1]}`]);
    const from = calls.length;
    // The cache may be restarting (its upstream does not resolve here): then up starts it, else nothing.
    const again = await ensureFor(clusters[0]);
    expect(again.network).toBe('exists');
    const changing = calls.slice(from).filter(([, verb]) => verb !== 'container' && verb !== 'start');
    expect(changing).toEqual([]);
  }, 120_000);

  it('new credentials: a new container on the same data volume', async () => {
    const before = inspect().Id;
    token = `hub-token-${randomBytes(12).toString('hex')}`;
    const result = await ensureFor(clusters[0]);
    expect(result.caches).toEqual([{ host, container, action: 'replaced' }]);
    const info = inspect();
    expect(info.Id).not.toBe(before);
    expect(info.Mounts.find((m) => m.Destination === '/var/lib/registry')).toMatchObject({ Name: volume });
    expect(readFileSync(cacheConfigPath(home, host), 'utf8')).toContain(`password: ${token}`);
    expect(docker(['container', 'inspect', container])).not.toContain(token);
  }, 120_000);
});
