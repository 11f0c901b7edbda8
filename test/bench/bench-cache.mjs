// The pull-through cache (issue 12) in `npm run bench`: an image of 30 MiB (three 10 MiB layers of
// random bytes, so nothing compresses) pushed into a real upstream registry container, then pulled by
// a client container on the same docker network, all blobs, straight from the upstream and through a
// warm cache (pulled through it once, digests checked, and every blob on the cache's disk, before any
// timing), in pairs, the order alternating. The cache is started from exactly what src/cache renders
// (config, volume, docker run argv; the test label added). Both registries run on this machine, so
// this measures what the cache itself costs or saves per pull, not the internet it saves.
// The timings come from inside the client (registry-pull.mjs), without docker exec's overhead.
// Without a docker daemon the rows say so and the bench goes on. Every docker object carries the
// test label and is removed at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'rolldown';
import { MANIFEST_TYPE, parsePull, pullExecArgs, readyRunArgs, storedRunArgs } from '../helpers/registry-pull.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const LAYERS = 3;
const LAYER_BYTES = 10 * 1024 * 1024;

/** @param {string[]} args */
const docker = (args) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 }).trim();
/** @param {number[]} values */
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
/** @param {Buffer} b */
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * src/cache and the test image helpers are TypeScript; the bench runs in plain node. Bundled here in
 * memory (rolldown, a quarter second), each module keeping its own import.meta.url, so the image
 * helpers find registry/build-local-image.sh where they are.
 */
async function loadTypeScript() {
  const entry = '\0bench-cache-deps';
  const sources = ['src/cache/render.ts', 'src/cache/spec.ts', 'test/helpers/images.ts', 'test/helpers/labels.ts', 'test/helpers/cache-volume.ts'].map((f) => join(repoRoot, f));
  const out = await build({
    input: entry,
    platform: 'node',
    write: false,
    logLevel: 'silent',
    output: { format: 'esm', codeSplitting: false },
    plugins: [
      {
        name: 'bench-cache-deps',
        resolveId: (id) => (id === entry ? entry : null),
        load: (id) => (id === entry ? sources.map((s) => `export * from ${JSON.stringify(s)};`).join('\n') : null),
        transform: (code, id) => (code.includes('import.meta.url') && !id.startsWith('\0') && !id.includes('/node_modules/') ? code.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(id).href)) : null),
      },
    ],
  });
  const chunk = out.output.find((o) => o.type === 'chunk');
  if (!chunk || chunk.type !== 'chunk') throw new Error('bench-cache: bundling src/cache gave no code');
  const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-bench-deps-'));
  try {
    writeFileSync(join(dir, 'deps.mjs'), chunk.code);
    return await import(pathToFileURL(join(dir, 'deps.mjs')).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pushes blobs and one manifest into the upstream from this machine (its loopback port). */
async function pushImage(port, repo) {
  const base = `http://127.0.0.1:${port}/v2/${repo}`;
  const pushBlob = async (body) => {
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location') ?? '', base);
    location.searchParams.set('digest', sha(body));
    const put = await fetch(location, { method: 'PUT', body: new Uint8Array(body), headers: { 'Content-Type': 'application/octet-stream' } });
    if (put.status !== 201) throw new Error(`bench-cache: blob upload answered ${put.status}`);
    return { digest: sha(body), size: body.length };
  };
  const layers = [];
  for (let i = 0; i < LAYERS; i++) layers.push(await pushBlob(randomBytes(LAYER_BYTES)));
  const config = await pushBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...l })),
  }));
  const put = await fetch(`${base}/manifests/v1`, { method: 'PUT', body: new Uint8Array(manifest), headers: { 'Content-Type': MANIFEST_TYPE } });
  if (put.status !== 201) throw new Error(`bench-cache: manifest upload answered ${put.status}`);
  return { manifest: sha(manifest), blobs: [config, ...layers].map((b) => b.digest).sort() };
}

async function waitForHost(port) {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200, () => false)) return;
  }
  throw new Error(`bench-cache: the upstream registry on 127.0.0.1:${port} did not answer`);
}

/** The rows `npm run bench` prints: medians of `runs` paired pulls, or one row saying why there are none. */
export async function cacheRows(runs = Number(process.env.BENCH_CACHE_RUNS ?? 7)) {
  if (spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 15_000 }).status !== 0) {
    return [{ name: 'pull through the cache', value: 'skipped', note: 'no docker daemon reachable: the cache rows need one' }];
  }
  const deps = await loadTypeScript();
  const label = deps.TEST_LABEL;
  const image = deps.ensureRegistryImage();
  const client = deps.ensureBusyboxImage();
  const id = randomBytes(4).toString('hex');
  const network = `k3s-devreg-bench-cache-${id}`;
  const upstreamName = `k3s-devreg-bench-upstream-${id}`;
  const clientName = `k3s-devreg-bench-client-${id}`;
  const host = `bench-${id}.example`;
  const cacheName = deps.cacheContainerName(host);
  const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-bench-cache-'));
  const repo = 'bench/app';
  try {
    docker(['network', 'create', '--label', label, network]);
    docker(['run', '-d', '--label', label, '--name', upstreamName, '--network', network, '--network-alias', 'upstream', '-p', '127.0.0.1::5000', image]);
    const port = Number(docker(['port', upstreamName, '5000/tcp']).split('\n')[0].split(':').pop());
    await waitForHost(port);
    const pushed = await pushImage(port, repo);

    const upstream = { host, remoteUrl: 'http://upstream:5000' };
    const configFile = join(dir, 'config.yml');
    writeFileSync(configFile, deps.renderCacheConfig(upstream), { mode: 0o600 });
    chmodSync(configFile, 0o600);
    const volume = deps.cacheVolumeCreateArgs(host);
    docker([...volume.slice(0, 2), '--label', label, ...volume.slice(2)]);
    const run = deps.cacheRunArgs(upstream, { configFile, network, image });
    docker([...run.slice(0, 2), '--label', label, ...run.slice(2)]);
    docker(['run', '-d', '--label', label, '--name', clientName, '--network', network, client, 'sleep', '3600']);
    const cache = `${cacheName}:${deps.CACHE_PORT}`;
    for (const registry of ['upstream:5000', cache]) docker(readyRunArgs({ network, image: client, label, registry }));

    const pull = (registry, verify) => parsePull(docker(pullExecArgs({ container: clientName, registry, repo, ref: 'v1', verify })));
    // Warm-up, checked: both give the pushed image, every blob as its digest says.
    for (const registry of ['upstream:5000', cache]) {
      const got = pull(registry, true);
      const wrong = got.blobs.filter((b) => b.digest !== b.sha256);
      if (got.manifest !== pushed.manifest || got.blobs.map((b) => b.digest).join() !== pushed.blobs.join() || wrong.length > 0) {
        throw new Error(`bench-cache: the pull from ${registry} gave other content than was pushed`);
      }
    }
    docker(storedRunArgs({ volume: deps.cacheVolumeName(host), image: client, label, repo, digests: pushed.blobs }));

    const straight = [];
    const cached = [];
    const ratios = [];
    for (let i = 0; i < runs; i++) {
      // Alternating which goes first, so neither always meets a warmer page cache.
      const pair = {};
      for (const which of i % 2 === 0 ? ['straight', 'cached'] : ['cached', 'straight']) pair[which] = pull(which === 'straight' ? 'upstream:5000' : cache, false).ms;
      straight.push(pair.straight);
      cached.push(pair.cached);
      ratios.push(pair.cached / pair.straight);
    }
    const size = `${(LAYERS * LAYER_BYTES) / 1024 / 1024} MiB`;
    return [
      { name: `pull ${size} straight from upstream`, ms: median(straight), note: `median of ${runs}; manifest + ${pushed.blobs.length} blobs by a client container on the network` },
      { name: `pull ${size} through warm cache`, ms: median(cached), ratio: median(ratios), note: 'ratio: cache / upstream, median of the pairs (both registries local: the cache hop, no internet)' },
    ];
  } finally {
    for (const args of [['rm', '-f', '-v', clientName, cacheName, upstreamName], ['volume', 'rm', '-f', deps.cacheVolumeName(host)], ['network', 'rm', network]]) {
      spawnSync('docker', args, { stdio: 'ignore', timeout: 60_000 });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
