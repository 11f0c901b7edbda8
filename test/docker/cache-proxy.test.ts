/**
 * The pull-through cache (issue 12 groundwork) against the real registry: a cache container started
 * from exactly what src/cache renders, in front of a real upstream on a docker network of our own.
 * The upstream is plain http here (no TLS set-up needed for what is under test: proxying and outage).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheRunArgs, cacheVolumeCreateArgs, renderCacheConfig } from '../../src/cache/render.js';
import { cacheContainerName, cacheVolumeName } from '../../src/cache/spec.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { ensureRegistryImage } from '../helpers/images.js';
import { TEST_LABEL } from '../helpers/labels.js';
import { freePort } from '../helpers/tools.js';

const id = randomBytes(4).toString('hex');
const network = `k3s-devreg-test-cache-${id}`;
const upstreamName = `k3s-devreg-test-upstream-${id}`;
const host = `cache-test-${id}.example`;
const password = `upstream-pw-${randomBytes(8).toString('hex')}`;
const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let dir = '';
let upstreamPort = 0;
let cachePort = 0;

async function waitFor(port: number): Promise<void> {
  for (let waited = 0; ; waited += 200) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200, () => false);
    if (ok) return;
    if (waited > 30_000) throw new Error(`registry on ${port} not ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function pushBlob(port: number, body: Buffer): Promise<string> {
  const digest = sha(body);
  const start = await fetch(`http://127.0.0.1:${port}/v2/demo/app/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location')!, `http://127.0.0.1:${port}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: new Uint8Array(body), headers: { 'Content-Type': 'application/octet-stream' } });
  expect(put.status).toBe(201);
  return digest;
}

const get = (path: string, accept = MANIFEST_TYPE) =>
  fetch(`http://127.0.0.1:${cachePort}${path}`, { headers: { Accept: accept }, signal: AbortSignal.timeout(60_000) }).then(async (r) => ({
    status: r.status,
    digest: r.headers.get('docker-content-digest'),
    body: Buffer.from(await r.arrayBuffer()),
  }));

describe.skipIf(!dockerAvailable)('the pull-through cache in front of a real upstream', () => {
  const layer = randomBytes(64 * 1024);
  let config: Buffer;
  let manifest: Buffer;
  let manifestDigest = '';

  beforeAll(async () => {
    const image = ensureRegistryImage();
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-cache-'));
    docker(['network', 'create', '--label', TEST_LABEL, network]);
    upstreamPort = await freePort();
    docker(['run', '-d', '--label', TEST_LABEL, '--name', upstreamName, '--network', network, '--network-alias', 'upstream', '-p', `127.0.0.1:${upstreamPort}:5000`, image]);
    await waitFor(upstreamPort);
    const layerDigest = await pushBlob(upstreamPort, layer);
    config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
    const configDigest = await pushBlob(upstreamPort, config);
    manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: configDigest },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: layerDigest }],
    }));
    manifestDigest = sha(manifest);
    const put = await fetch(`http://127.0.0.1:${upstreamPort}/v2/demo/app/manifests/v1`, { method: 'PUT', body: new Uint8Array(manifest), headers: { 'Content-Type': MANIFEST_TYPE } });
    expect(put.status).toBe(201);

    // The cache exactly as rendered; only the test label and a loopback port for this test's client are added.
    const upstream = { host, remoteUrl: 'http://upstream:5000', credentials: { username: 'cachebot', password } };
    const configFile = join(dir, 'config.yml');
    writeFileSync(configFile, renderCacheConfig(upstream), { mode: 0o600 });
    chmodSync(configFile, 0o600);
    const volume = cacheVolumeCreateArgs(host);
    docker([...volume.slice(0, 2), '--label', TEST_LABEL, ...volume.slice(2)]);
    const args = cacheRunArgs(upstream, { configFile, network, image });
    cachePort = await freePort();
    docker([...args.slice(0, 2), '--label', TEST_LABEL, '-p', `127.0.0.1:${cachePort}:5000`, ...args.slice(2)]);
    await waitFor(cachePort);
  }, 120_000);

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

  it('keeps the upstream password out of docker inspect', () => {
    const inspect = docker(['inspect', cacheContainerName(host)]);
    expect(inspect).toContain(cacheVolumeName(host));
    expect(inspect).not.toContain(password);
  });

  it('pulls through the cache, then serves by tag and by digest with the upstream stopped', async () => {
    const warm = await get('/v2/demo/app/manifests/v1');
    expect(warm.status).toBe(200);
    expect(warm.digest).toBe(manifestDigest);
    expect((await get(`/v2/demo/app/blobs/${sha(layer)}`, '*/*')).body.equals(layer)).toBe(true);
    expect((await get(`/v2/demo/app/blobs/${sha(config)}`, '*/*')).body.equals(config)).toBe(true);
    // The proxy stores a blob in a goroutine after serving it; the scheduler state is written every 5 s.
    await new Promise((r) => setTimeout(r, 6_000));

    docker(['stop', upstreamName]);
    const byTag = await get('/v2/demo/app/manifests/v1');
    const byDigest = await get(`/v2/demo/app/manifests/${manifestDigest}`);
    const blob = await get(`/v2/demo/app/blobs/${sha(layer)}`, '*/*');
    expect({ tag: [byTag.status, byTag.digest], digest: [byDigest.status, byDigest.digest], blob: blob.status }).toEqual({
      tag: [200, manifestDigest],
      digest: [200, manifestDigest],
      blob: 200,
    });
    expect(blob.body.equals(layer)).toBe(true);
    expect(byTag.body.equals(manifest)).toBe(true);
  }, 120_000);
});
