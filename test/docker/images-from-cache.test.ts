/**
 * `images save` takes a missing image from the pull-through cache (src/steps/images-from-cache.ts),
 * against the real daemon: a real upstream registry holding an image pushed by docker, a cache started
 * from the rendered argv in front of it on a docker network, and the relay docker pulls through. The
 * second pull, with the upstream stopped, proves the image came from the cache, not from the upstream.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheRunArgs, renderCacheConfig } from '../../src/cache/render.js';
import { cacheContainerName, cacheVolumeName } from '../../src/cache/spec.js';
import { pullThroughCaches, registryOf } from '../../src/steps/images-from-cache.js';
import { createRunner, type Runner } from '../../src/tools/run.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage, ensureRegistryImage } from '../helpers/images.js';
import { TEST_LABEL } from '../helpers/labels.js';

const id = randomBytes(4).toString('hex');
const host = `cache-src-${id}.example`;
const network = `k3s-devreg-test-relay-${id}`;
const upstreamName = `k3s-devreg-test-relay-upstream-${id}`;
const image = `${host}/k3s-devreg-test/app:1`;
let dir = '';
let registryImage = '';
const calls: string[] = [];

/** The real runner; what it starts carries the test label (the leftovers check counts by it). */
const run: Runner = (file, args, options) => {
  calls.push([file, ...args].join(' '));
  return createRunner()(file, file === 'docker' && args[0] === 'run' ? [args[0], args[1]!, '--label', TEST_LABEL, ...args.slice(2)] : args, options);
};
const has = (name: string): boolean => {
  try {
    docker(['image', 'inspect', name]);
    return true;
  } catch {
    return false;
  }
};

beforeAll(() => {
  if (!dockerAvailable) return;
  registryImage = ensureRegistryImage();
  dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-relay-'));
  docker(['network', 'create', '--label', TEST_LABEL, network]);
  docker(['run', '-d', '--label', TEST_LABEL, '--name', upstreamName, '--network', network, '--network-alias', 'upstream', '-p', '127.0.0.1::5000', registryImage]);
  const port = /:(\d+)\s*$/m.exec(docker(['port', upstreamName, '5000/tcp']))![1];
  const pushed = `127.0.0.1:${port}/k3s-devreg-test/app:1`;
  docker(['tag', ensureBusyboxImage(), pushed]);
  for (let tries = 0; ; tries++) {
    try {
      docker(['push', pushed]);
      break;
    } catch (error) {
      if (tries > 20) throw error;
      execSleep(250);
    }
  }
  docker(['rmi', pushed]);
  // The cache exactly as rendered (upstream over http: no TLS set-up is under test); only the test label added.
  const upstream = { host, remoteUrl: 'http://upstream:5000' };
  const configFile = join(dir, 'config.yml');
  writeFileSync(configFile, renderCacheConfig(upstream), { mode: 0o600 });
  chmodSync(configFile, 0o644);
  const args = cacheRunArgs(upstream, { configFile, network, image: registryImage });
  docker([...args.slice(0, 2), '--label', TEST_LABEL, ...args.slice(2)]);
}, 180_000);

function execSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

afterAll(() => {
  if (!dockerAvailable) return;
  for (const args of [['rmi', image], ['rm', '-f', '-v', cacheContainerName(host), upstreamName], ['volume', 'rm', cacheVolumeName(host)], ['network', 'rm', network]]) {
    try {
      docker(args);
    } catch {
      // Already gone.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!dockerAvailable)('images save takes what docker lacks from the pull-through cache (real docker)', () => {
  it('names registries as docker does', () => {
    expect(registryOf('busybox:1.36.1')).toEqual({ host: 'docker.io', path: 'library/busybox:1.36.1' });
    expect(registryOf('rancher/k3s:v1.31.5-k3s1')).toEqual({ host: 'docker.io', path: 'rancher/k3s:v1.31.5-k3s1' });
    expect(registryOf('ghcr.io/k3d-io/k3d-tools:5.8.3')).toEqual({ host: 'ghcr.io', path: 'k3d-io/k3d-tools:5.8.3' });
    expect(registryOf('localhost:5000/app:1')).toEqual({ host: 'localhost:5000', path: 'app:1' });
  });

  it('pulls through a relay in front of the cache, and leaves no relay behind', async () => {
    const said: string[] = [];
    const left = await pullThroughCaches([image, 'ghcr.io/k3s-devreg-test/not-cached:1'], { run, registryImage, say: (l) => said.push(l) });
    expect(left).toEqual(['ghcr.io/k3s-devreg-test/not-cached:1']);
    expect(has(image)).toBe(true);
    expect(said).toEqual([`pulling ${image} through the pull-through cache ${cacheContainerName(host)}`]);
    expect(calls.find((c) => c.startsWith('docker pull '))).toMatch(/^docker pull 127\.0\.0\.1:\d+\/k3s-devreg-test\/app:1$/);
    expect(docker(['ps', '-a', '--filter', `label=dev.k3s-devreg/cache-relay=${host}`, '--format', '{{.Names}}'])).toBe('');
    // Only the real name is left: the relay's name for it is gone.
    expect(docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).split('\n').filter((n) => n.startsWith('127.0.0.1:'))).toEqual([]);
  }, 120_000);

  it('with the upstream stopped, the image still comes from the cache: it is not downloaded again', async () => {
    docker(['rmi', image]);
    docker(['stop', upstreamName]);
    const left = await pullThroughCaches([image], { run, registryImage, say: () => undefined });
    expect(left).toEqual([]);
    expect(has(image)).toBe(true);
  }, 120_000);
});
