/**
 * The pull-through cache (issue 12) against the real registry: a cache container started from exactly
 * what src/cache renders (config file, `docker volume create`, `docker run` argv; only the test label
 * added, no port published), in front of a real upstream on a docker network of our own. A busybox
 * client container on that network pulls the image as a cluster node would reach the cache (by its
 * name, by the registry HTTP API: the manifest, then every blob it names, each checked against its
 * digest); then the upstream is stopped and the same pull, by tag and by digest, still works.
 * The upstream is plain http here (no TLS set-up needed for what is under test: proxying and outage);
 * the test pushes into it from the host through a loopback port.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheVolumeCreateArgs } from '../helpers/cache-volume.js';
import { cacheRunArgs, renderCacheConfig } from '../../src/cache/render.js';
import { CACHE_PORT, cacheContainerName, cacheVolumeName } from '../../src/cache/spec.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage, ensureRegistryImage } from '../helpers/images.js';
import { TEST_LABEL } from '../helpers/labels.js';
import { MANIFEST_TYPE, parsePull, pullRunArgs, readyRunArgs, storedRunArgs } from '../helpers/registry-pull.mjs';
import { freePort } from '../helpers/tools.js';

const id = randomBytes(4).toString('hex');
const network = `k3s-devreg-test-cache-${id}`;
const upstreamName = `k3s-devreg-test-upstream-${id}`;
const host = `cache-test-${id}.example`;
const cache = `${cacheContainerName(host)}:${CACHE_PORT}`;
const repo = 'demo/app';
const password = `upstream-pw-${randomBytes(8).toString('hex')}`;
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let dir = '';
let upstreamPort = 0;
let client = '';

async function waitFor(port: number): Promise<void> {
  for (let waited = 0; ; waited += 100) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false);
    if (ok) return;
    if (waited > 30_000) throw new Error(`registry on ${port} not ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pushBlob(port: number, body: Buffer): Promise<string> {
  const digest = sha(body);
  const start = await fetch(`http://127.0.0.1:${port}/v2/${repo}/blobs/uploads/`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
  const location = new URL(start.headers.get('location')!, `http://127.0.0.1:${port}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: new Uint8Array(body), headers: { 'Content-Type': 'application/octet-stream' }, signal: AbortSignal.timeout(30_000) });
  expect(put.status).toBe(201);
  return digest;
}

/** One pull by the client container on the network: the manifest by `ref`, then each blob it names, hashed. */
const pull = (ref: string) => parsePull(docker(pullRunArgs({ network, image: client, label: TEST_LABEL, registry: cache, repo, ref })));

describe.skipIf(!dockerAvailable)('the pull-through cache in front of a real upstream', () => {
  const layer = randomBytes(256 * 1024);
  let config: Buffer;
  let manifestDigest = '';
  let blobs: { digest: string; sha256: string }[] = [];

  beforeAll(async () => {
    const image = ensureRegistryImage();
    client = ensureBusyboxImage();
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-cache-'));
    docker(['network', 'create', '--label', TEST_LABEL, network]);
    upstreamPort = await freePort();
    docker(['run', '-d', '--label', TEST_LABEL, '--name', upstreamName, '--network', network, '--network-alias', 'upstream', '-p', `127.0.0.1:${upstreamPort}:5000`, image]);
    await waitFor(upstreamPort);
    const layerDigest = await pushBlob(upstreamPort, layer);
    config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
    const configDigest = await pushBlob(upstreamPort, config);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: configDigest },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: layerDigest }],
    }));
    manifestDigest = sha(manifest);
    const put = await fetch(`http://127.0.0.1:${upstreamPort}/v2/${repo}/manifests/v1`, { method: 'PUT', body: new Uint8Array(manifest), headers: { 'Content-Type': MANIFEST_TYPE }, signal: AbortSignal.timeout(30_000) });
    expect(put.status).toBe(201);
    blobs = [configDigest, layerDigest].sort().map((digest) => ({ digest, sha256: digest }));

    // The cache exactly as rendered; only the test label is added.
    const upstream = { host, remoteUrl: 'http://upstream:5000', credentials: { username: 'cachebot', password } };
    const configFile = join(dir, 'config.yml');
    writeFileSync(configFile, renderCacheConfig(upstream), { mode: 0o600 });
    chmodSync(configFile, 0o600);
    const volume = cacheVolumeCreateArgs(host);
    docker([...volume.slice(0, 2), '--label', TEST_LABEL, ...volume.slice(2)]);
    const args = cacheRunArgs(upstream, { configFile, network, image });
    docker([...args.slice(0, 2), '--label', TEST_LABEL, ...args.slice(2)]);
    docker(readyRunArgs({ network, image: client, label: TEST_LABEL, registry: cache }));
  }, 240_000);

  afterAll(() => {
    for (const args of [['rm', '-f', '-v', cacheContainerName(host), upstreamName], ['volume', 'rm', '-f', cacheVolumeName(host)], ['network', 'rm', network]]) {
      try {
        docker(args);
      } catch {
        /* already gone */
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the upstream password out of docker inspect, and publishes no port', () => {
    const inspect = docker(['inspect', cacheContainerName(host)]);
    expect(inspect).toContain(cacheVolumeName(host));
    expect(inspect).not.toContain(password);
    expect(docker(['port', cacheContainerName(host)])).toBe('');
  });

  it('a client on the network pulls through the cache, then by tag and by digest with the upstream stopped', () => {
    const warm = pull('v1');
    expect(warm.manifest).toBe(manifestDigest);
    expect(warm.blobs).toEqual(blobs);
    // The cache stores a proxied blob after serving it: stop the upstream only once both are on its disk.
    docker(storedRunArgs({ volume: cacheVolumeName(host), image: client, label: TEST_LABEL, repo, digests: blobs.map((b) => b.digest) }));

    docker(['stop', upstreamName]);
    expect(docker(['inspect', '--format', '{{.State.Running}}', upstreamName])).toBe('false');
    const byTag = pull('v1');
    const byDigest = pull(manifestDigest);
    expect({ tag: byTag.manifest, digest: byDigest.manifest }).toEqual({ tag: manifestDigest, digest: manifestDigest });
    expect(byTag.blobs).toEqual(blobs);
    expect(byDigest.blobs).toEqual(blobs);
  }, 120_000);
});
