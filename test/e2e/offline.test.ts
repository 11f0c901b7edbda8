/**
 * Offline (issue 13) on real k3d, run as a user runs it (the built CLI): `images save` on the connected
 * machine, every bundled image removed from docker (so it can only come back from the bundle),
 * `up --offline` refused before anything is made while the bundle is not loaded, `images load`, then
 * the machine's outbound network cut (test/e2e/offline-network.sh: new connections to anything but
 * loopback, the docker bridges and private ranges refused, from the host and from containers), and
 * `up --offline --yes` and `verify` pass. No node pulled anything: each node holds exactly the bundle's
 * images (and what verify pushed to our registry), and containerd logged no pull but from our registry.
 *
 * The network is cut with sudo iptables: only where K3S_DEVREG_E2E_CUT_NETWORK=1 (the e2e workflow, on
 * a throw-away runner); elsewhere the tests that need it FAIL, naming the variable (never skipped). The
 * network comes back in afterAll whatever happened, by the workflow's `restore` step after the suites,
 * and by the script's own watchdog if the run is killed.
 *
 * Docker Hub: `images save` finds k3s's system images in docker (loaded from prepare-images.sh's airgap
 * archive, from GitHub), so it pulls nothing; afterAll loads the bundle back into docker, so the suites
 * after this one find every image where prepare-images.sh left it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_MANIFEST, DOCKER_PART, NODE_ARCHIVE, NODE_PART, parseBundleManifest, type BundleManifest } from '../../src/images/bundle.js';
import { DEFAULT_AGENTS, DEFAULT_HOSTS_IMAGE, DEFAULT_K3S_IMAGE, DEFAULT_REGISTRY_IMAGE } from '../../src/spec.js';
import { fullName } from '../../src/images/bundle.js';
import { TEST_LABEL } from '../helpers/labels.js';
import { createSandbox, expectOk, freePort, printDiagnosticsOnFailure, requireE2eTools, runCli, runTool, toolOk } from './helpers.js';
import { preparedImages } from './images.js';

const { name, work, home, stateDir, env } = createSandbox('e2e-offline');
const context = `k3d-${name}`;
const nodes = [`k3d-${name}-server-0`, ...Array.from({ length: DEFAULT_AGENTS }, (_, i) => `k3d-${name}-agent-${i}`)];
const bundle = join(work, 'k3s-devreg-images.tar');
const buildTag = `k3s-devreg-e2e-offline-build:${name}`;
const example = fileURLToPath(new URL('../../example', import.meta.url));
const networkScript = fileURLToPath(new URL('./offline-network.sh', import.meta.url));
/** Where k3s's containerd logs, on every node; the CRI logs each pull as `PullImage "<image>"`. */
const CONTAINERD_LOG = '/var/lib/rancher/k3s/agent/containerd/containerd.log';
/** What verify pushes and the nodes then pull from our registry (in the cluster, never the internet). */
const OUR_REGISTRY = /^container-registry\.local(:\d+)?\//;
let port = 0;
let manifest: BundleManifest | undefined;
let cut = false;

// The offline cluster gets nothing from prepare-images.sh: every image must come from the bundle.
for (const file of readdirSync(join(stateDir, 'images'))) unlinkSync(join(stateDir, 'images', file));

const cli = (...args: string[]) => runCli(env, args, work);
const tool = (file: string, args: string[], timeoutMs?: number) => runTool(env, file, args, timeoutMs);
const docker = (...args: string[]) => toolOk(tool('docker', args), `docker ${args.join(' ')}`);
const hasImage = (image: string) => tool('docker', ['image', 'inspect', image]).status === 0;
const bundled = () => {
  if (!manifest) throw new Error('no bundle manifest: images save did not run or failed');
  return manifest;
};

/** The network script as root (sudo -n on the runner; directly when this already is root). */
function network(...args: string[]) {
  const root = process.getuid?.() === 0;
  return spawnSync(root ? networkScript : 'sudo', root ? args : ['-n', networkScript, ...args], { encoding: 'utf8', timeout: 120_000 });
}

function cutNetwork(): void {
  if (process.env.K3S_DEVREG_E2E_CUT_NETWORK !== '1') {
    throw new Error('this test cuts the machine\'s outbound network with sudo iptables (test/e2e/offline-network.sh): set K3S_DEVREG_E2E_CUT_NETWORK=1 where that is fine (the e2e workflow does, on its throw-away runner)');
  }
  cut = true;
  toolOk(network('cut', '20'), 'offline-network.sh cut');
}

function restoreNetwork(): void {
  if (!cut) return;
  const r = network('restore');
  if (r.status !== 0) console.error(`offline-network.sh restore failed (the workflow's restore step and the watchdog remain):\n${r.stdout}${r.stderr}`);
  else cut = false;
}

/** The refused connections logged since the cut, attributed: a node by its address, the host's own by UID. */
function refused(): string[] {
  const log = network('log');
  const addresses = new Map<string, string>();
  for (const node of nodes) {
    const ip = tool('docker', ['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', node]).stdout?.trim().split(' ') ?? [];
    for (const address of ip.filter(Boolean)) addresses.set(address, node);
  }
  return (log.stdout ?? '').split('\n').flatMap((line) => {
    const field = (key: string) => new RegExp(`\\b${key}=(\\S*)`).exec(line)?.[1] ?? '';
    if (!field('DST')) return [];
    const who = addresses.get(field('SRC')) ?? (field('UID') ? `host uid ${field('UID')}` : `forwarded from ${field('SRC')}`);
    return [`${who} -> ${field('DST')}:${field('DPT')} ${field('PROTO')}`];
  });
}

/**
 * Whether a connection to the internet is refused, from the host (curl) and from a container (busybox).
 * To an address, not a name: no DNS in between, so what fails is the connection itself.
 */
function probe(): { host: string; container: string } {
  const curl = tool('curl', ['-sS', '-m', '20', '-o', '/dev/null', '-w', '%{http_code}', 'https://1.1.1.1/'], 60_000);
  const wget = tool('docker', ['run', '--rm', '--label', TEST_LABEL, DEFAULT_HOSTS_IMAGE, 'wget', '-q', '-T', '10', '-O', '/dev/null', 'http://1.1.1.1/'], 60_000);
  return { host: `exit ${curl.status} ${curl.stdout}${curl.stderr}`.trim(), container: `exit ${wget.status} ${wget.stdout}${wget.stderr}`.trim() };
}
const REFUSED = /refused|can't connect|couldn't connect|failed to connect|network is unreachable|not permitted/i;

/** Every image a node's containerd holds, by name. */
function nodeImages(node: string): string[] {
  const listed = JSON.parse(docker('exec', node, 'crictl', 'images', '--output', 'json')) as { images: { repoTags?: string[] }[] };
  return [...new Set(listed.images.flatMap((i) => i.repoTags ?? []))].sort();
}

/** Brings back into docker every bundled image it lacks (from the bundle; the network may be gone). */
function reloadIntoDocker(): void {
  if (!manifest || !existsSync(bundle) || [...manifest.docker, ...manifest.node].every(hasImage)) return;
  const dir = join(work, 'reload');
  mkdirSync(dir, { recursive: true });
  tar.extract({ file: bundle, cwd: dir, sync: true }, [DOCKER_PART, NODE_PART]);
  for (const part of [DOCKER_PART, NODE_PART]) toolOk(tool('docker', ['load', '--input', join(dir, part)], 10 * 60_000), `docker load ${part}`);
}

describe('offline: images save, images load, then up --offline and verify with the outbound network cut', () => {
  printDiagnosticsOnFailure(env, () => [context]);

  beforeAll(async () => {
    requireE2eTools(env);
    port = await freePort();
  });

  // The network first: everything after it (and the suites after this one) may need it.
  afterAll(() => {
    try {
      restoreNetwork();
    } finally {
      tool('k3d', ['cluster', 'delete', name]);
      tool('docker', ['volume', 'rm', `k3s-devreg-${name}-registry`]);
      tool('docker', ['image', 'rm', buildTag, `localhost:${port}/hello-world-example:latest`]);
      reloadIntoDocker();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('images save writes one bundle with the pinned k3s, k3d\'s helpers and k3s\'s system images, pulling nothing prepared', async () => {
    // k3s's system images from the release's airgap archive (GitHub, not Docker Hub), as docker images.
    const prepared = preparedImages();
    const airgap = prepared ? readdirSync(join(prepared, 'archives')).find((f) => /^k3s-airgap-images-.*\.tar\.zst$/.test(f)) : undefined;
    if (prepared && airgap) {
      toolOk(tool('zstd', ['-d', '-f', '-o', join(work, 'airgap.tar'), join(prepared, 'archives', airgap)]), 'zstd -d the airgap archive');
      toolOk(tool('docker', ['load', '--input', join(work, 'airgap.tar')], 10 * 60_000), 'docker load the airgap archive');
      rmSync(join(work, 'airgap.tar'));
    }
    const save = cli('images', 'save', '-o', bundle);
    expectOk(save);
    expect(save.stdout).toContain(`Wrote ${bundle}`);
    if (airgap) expect(save.stderr, 'images save pulled what prepare-images.sh had fetched').not.toMatch(/^pulling /m);

    await tar.extract({ file: bundle, cwd: work }, [BUNDLE_MANIFEST]);
    manifest = parseBundleManifest(readFileSync(join(work, BUNDLE_MANIFEST), 'utf8'), bundle);
    const k3d = /k3d version v?(\d+\.\d+\.\d+)/.exec(toolOk(tool('k3d', ['version']), 'k3d version'))?.[1];
    expect(manifest.docker).toEqual(expect.arrayContaining([DEFAULT_K3S_IMAGE, `ghcr.io/k3d-io/k3d-proxy:${k3d}`, `ghcr.io/k3d-io/k3d-tools:${k3d}`, DEFAULT_HOSTS_IMAGE]));
    expect(manifest.node).toEqual(expect.arrayContaining(['docker.io/rancher/mirrored-pause:3.6', DEFAULT_REGISTRY_IMAGE, DEFAULT_HOSTS_IMAGE]));
  });

  it('docker rmi of every bundled image: docker has none of them', () => {
    const all = [...new Set([...bundled().docker, ...bundled().node])];
    // --force untags an image a stopped container still refers to: docker then has nothing by that name.
    for (const image of all.filter(hasImage)) docker('image', 'rm', '--force', image);
    expect(all.filter(hasImage), 'bundled images docker still has').toEqual([]);
  });

  it('up --offline without the bundle loaded (a fresh home) fails with exit 2 naming the missing images, before creating anything', () => {
    const fresh = { ...env, K3S_DEVREG_HOME: join(work, 'home-unloaded') };
    const up = runCli(fresh, ['up', '--offline', '--yes', '--name', name, '--port', String(port)], work);
    expect(up.status, up.all).toBe(2);
    expect(up.stderr).toMatch(/^error: --offline, and \d+ image\(s\) the cluster needs are not here: .*images save.*images load/m);
    for (const image of bundled().docker) expect(up.stderr).toContain(`${image} (docker)`);
    for (const image of bundled().node) expect(up.stderr).toContain(`${image} (nodes)`);
    expect(up.stderr).not.toMatch(/^Verified/m);
    const clusters = JSON.parse(toolOk(tool('k3d', ['cluster', 'list', '--output', 'json']), 'k3d cluster list')) as { name: string }[];
    expect(clusters.map((c) => c.name)).not.toContain(name);
    expect(tool('docker', ['network', 'inspect', context]).status, `docker network ${context}`).not.toBe(0);
    expect(tool('docker', ['volume', 'inspect', `k3s-devreg-${name}-registry`]).status, 'the registry volume').not.toBe(0);
  });

  it('images load puts the docker images back and the nodes\' archive in the state folder', () => {
    const load = cli('images', 'load', bundle, '--name', name);
    expectOk(load);
    expect(bundled().docker.filter((image) => !hasImage(image)), 'images docker did not get back').toEqual([]);
    expect(readdirSync(join(home, name, 'images')), 'the state folder\'s images/: only the bundle\'s node part').toEqual([NODE_ARCHIVE]);
  });

  it('with the outbound network cut, neither the host nor a container reaches the internet', () => {
    const before = probe();
    expect(before.host, 'the host reaches the internet before the cut (else the check below proves nothing)').not.toMatch(REFUSED);
    expect(before.container, 'a container reaches the internet before the cut').not.toMatch(REFUSED);
    cutNetwork();
    console.log(toolOk(network('status'), 'offline-network.sh status'));
    const after = probe();
    expect(after.host).toMatch(REFUSED);
    expect(after.container).toMatch(REFUSED);
  });

  // verify builds the example FROM busybox:1.36.1: whether docker's builder needs the registry for a
  // base image it has depends on its image store. This shows it on its own, before up runs verify.
  it('docker build of the example FROM a local base image, with the network cut', () => {
    if (!cut) throw new Error('the network is not cut (see the test before)');
    const seen = refused().length;
    const build = tool('docker', ['build', '--label', TEST_LABEL, '--tag', buildTag, example], 5 * 60_000);
    const tried = refused().slice(seen);
    const store = tool('docker', ['info', '--format', '{{json .DriverStatus}}']).stdout?.includes('io.containerd.snapshotter') ? 'containerd image store' : 'classic image store';
    console.log(`docker build offline (${store}): exit ${build.status}; refused connections meanwhile: ${tried.join(', ') || 'none'}`);
    expect(build.status, `docker build with the network cut (${store}):\n${build.stdout}${build.stderr}`).toBe(0);
  });

  it('up --offline --yes creates the cluster and passes verify with the network cut', () => {
    if (!cut) throw new Error('the network is not cut (see the tests before)');
    const up = cli('up', '--offline', '--yes', '--name', name, '--port', String(port));
    console.log(`refused connections during up: ${refused().join(', ') || 'none'}`);
    expectOk(up);
    expect(up.stderr).toMatch(/Offline start: all \d+ images are here/);
    expect(up.stderr).toMatch(/Verified: pushed, pulled and ran hello-world-example/);
    const verify = cli('verify', '--name', name);
    expectOk(verify);
    expect(verify.stdout).toMatch(/^Verified: /m);
  });

  it('no node pulled anything: each holds exactly the bundle\'s images and what verify pushed, and containerd logged no other pull', () => {
    const want = [...new Set(bundled().node.map(fullName))].sort();
    for (const node of nodes) {
      const images = nodeImages(node);
      expect(images.filter((i) => !OUR_REGISTRY.test(i)), `${node}: images besides our registry's`).toEqual(want);
      // No log, no proof: a missing file fails (exit 3) rather than reading as "no pulls".
      const pulls = docker('exec', node, 'sh', '-c', `test -s ${CONTAINERD_LOG} || exit 3; grep -o 'PullImage "[^"]*"' ${CONTAINERD_LOG} | sort -u; exit 0`)
        .split('\n')
        .filter(Boolean)
        .map((line) => line.replace(/^PullImage "|"$/g, ''));
      expect(pulls.filter((image) => !OUR_REGISTRY.test(image)), `${node}: pulls from outside the cluster`).toEqual([]);
    }
  });

  it('status is healthy and down deletes the cluster, still offline', () => {
    expectOk(cli('status', '--name', name));
    expectOk(cli('down', '--name', name));
    console.log(`refused connections over the whole offline run: ${refused().join(', ') || 'none'}`);
    restoreNetwork();
    expect(cut, 'the network restored').toBe(false);
  });
});
