/**
 * The pull-through cache (issue 12) on real k3d clusters, run as a user runs it (the built CLI):
 * `up` starts the docker.io cache on the cluster's network and every node's containerd mirrors
 * docker.io to it; the cluster is created twice (`up`, `down`, `up`), and the second creation pulls
 * nothing from the internet for k3s's system images; `down` keeps the cache; `cache rm --yes`
 * removes its container and volume.
 *
 * This suite's nodes do NOT get k3s's airgap archive (the other suites do, K3S_DEVREG_E2E_IMAGES):
 * only the archive of our own pods' images is linked in, so k3s's system images (pause, coredns,
 * local-path-provisioner, metrics-server, klipper-helm, traefik, klipper-lb) really go through the
 * cache. The first creation pulls them from Docker Hub through it: about seven anonymous pulls on
 * top of prepare-images.sh's three (limit: 10 an hour per IP address).
 *
 * The proof for the second creation, from three sides:
 * - the cache's storage: the set of blobs in its volume (distribution v2.8 stores each manifest and
 *   blob it fetched from the upstream, registry/proxy/proxyblobstore.go storeLocal and
 *   proxymanifeststore.go Get) is the same after the second creation as before it: the cache fetched
 *   no content from Docker Hub. (It still asks Docker Hub what a tag points at, a HEAD that moves no
 *   content and is not counted as a pull: proxytagservice.go Get asks the remote first.)
 * - the cache's access log (distribution logs every request, Apache combined format, on stdout):
 *   every system image each node holds was fetched from the cache during the second creation, its
 *   manifest by digest and its blobs, and no request to it failed, so containerd never fell back to
 *   registry-1.docker.io (k3s tries the upstream itself only after the mirror fails).
 * - the node: k3s turned registries.yaml into containerd's hosts.toml with the cache as docker.io's host.
 *
 * The cache is one per docker daemon: this suite removes it at the end (`cache rm --yes` is under
 * test), a developer's own warm cache included. Without k3d, kubectl or docker it FAILS: it never skips.
 */
import { readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_PORT, cacheContainerName, cacheVolumeName } from '../../src/cache/spec.js';
import { DEFAULT_AGENTS, DEFAULT_HOSTS_IMAGE, DEFAULT_REGISTRY_IMAGE, DEFAULT_WRITER_IMAGE } from '../../src/spec.js';
import { createSandbox, eventually, expectOk, freePort, printDiagnosticsOnFailure, requireE2eTools, runCli, runTool, toolOk } from './helpers.js';

const { name, work, stateDir, env } = createSandbox('e2e-cache');
const context = `k3d-${name}`;
const nodes = [`k3d-${name}-server-0`, ...Array.from({ length: DEFAULT_AGENTS }, (_, i) => `k3d-${name}-agent-${i}`)];
const cache = cacheContainerName('docker.io');
const volume = cacheVolumeName('docker.io');
const endpoint = `http://${cache}:${CACHE_PORT}`;
/** Where k3s writes containerd's per-registry hosts.toml from registries.yaml when it starts. */
const HOSTS_TOML = '/var/lib/rancher/k3s/agent/etc/containerd/certs.d/docker.io/hosts.toml';
const BLOBS = '/var/lib/registry/docker/registry/v2/blobs';
let port = 0;

// Only our pods' archive stays (prepare-images.sh: k3s-devreg-pods.tar): k3s's own images must come through the cache.
const PODS_ARCHIVE = 'k3s-devreg-pods.tar';
for (const file of readdirSync(join(stateDir, 'images'))) if (file !== PODS_ARCHIVE) unlinkSync(join(stateDir, 'images', file));

const cli = (...args: string[]) => runCli(env, args, work);
const tool = (file: string, args: string[]) => runTool(env, file, args);
const docker = (...args: string[]) => toolOk(tool('docker', args), `docker ${args.join(' ')}`);

/** docker.io/library/busybox:1.36.1 for busybox:1.36.1, as containerd names images. */
const qualified = (image: string) => (image.includes('/') ? (image.split('/')[0]!.includes('.') ? image : `docker.io/${image}`) : `docker.io/library/${image}`);
/** Images that come from our pods' archive when one is prepared, so no node pulls them. */
const ourImages = new Set([DEFAULT_REGISTRY_IMAGE, DEFAULT_HOSTS_IMAGE, DEFAULT_WRITER_IMAGE].map(qualified));

interface NodeImage {
  node: string;
  tag: string;
  /** The repository inside docker.io (rancher/mirrored-pause) and the manifest (index) digest the tag resolved to. */
  repo: string;
  digest: string;
}

/** The docker.io images the cluster's nodes hold, but our own pods' (from the archive when prepared). */
function systemImages(): NodeImage[] {
  return nodes.flatMap((node) => {
    const listed = JSON.parse(docker('exec', node, 'crictl', 'images', '--output', 'json')) as { images: { repoTags?: string[]; repoDigests?: string[] }[] };
    return listed.images.flatMap((image) => {
      const tag = (image.repoTags ?? []).find((t) => t.startsWith('docker.io/') && !ourImages.has(t));
      const pinned = (image.repoDigests ?? []).find((d) => d.startsWith('docker.io/'));
      if (!tag || !pinned) return [];
      const [repository = '', digest = ''] = pinned.split('@');
      return [{ node, tag, repo: repository.replace(/^docker\.io\//, ''), digest }];
    });
  });
}

/** Every blob (manifests included) in the cache's storage, as digests, sorted. */
function cachedBlobs(): string[] {
  const found = docker('exec', cache, 'sh', '-c', `find ${BLOBS} -type f -name data 2>/dev/null || true`);
  return found
    .split('\n')
    .filter(Boolean)
    .map((path) => `sha256:${path.split('/').at(-2)}`)
    .sort();
}

type ContainerStatus = { image: string; imageID?: string };

/**
 * Throws while a pod is Pending or a container has no image yet; returns the pods' images. A Failed
 * pod is done pulling (a helm-install job's first attempt may fail, and its pod stays).
 */
function podImages(): string[] {
  const pods = JSON.parse(toolOk(tool('kubectl', ['--context', context, '--request-timeout=30s', 'get', 'pods', '--all-namespaces', '--output', 'json']), 'kubectl get pods')) as {
    items: { metadata: { namespace: string; name: string }; status: { phase?: string; containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] } }[];
  };
  const containers = (p: (typeof pods.items)[number]) => [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])];
  const pulling = pods.items.filter((p) => ['Pending', 'Unknown', undefined].includes(p.status.phase) || containers(p).some((c) => !c.imageID));
  if (pods.items.length === 0 || pulling.length > 0) throw new Error(`pods still pulling: ${pulling.map((p) => `${p.metadata.namespace}/${p.metadata.name} ${p.status.phase}`).join(', ') || 'none listed'}`);
  return pods.items.flatMap((p) => containers(p).map((c) => c.image)).sort();
}

/**
 * Waits until the cluster is done pulling: every pod runs, and neither the pods' images, the nodes'
 * images nor the cache's blobs (a blob is stored after it was served) changed over 20 s.
 */
async function settle(what: string): Promise<{ images: NodeImage[]; blobs: string[] }> {
  let last = '';
  let since = Date.now();
  return eventually(`${what}: the cluster to finish pulling`, 10 * 60_000, () => {
    const state = { pods: podImages(), images: systemImages(), blobs: cachedBlobs() };
    const now = JSON.stringify(state);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
    if (Date.now() - since < 20_000) throw new Error('still changing');
    return { images: state.images, blobs: state.blobs };
  });
}

interface Request {
  method: string;
  path: string;
  status: number;
}

/** The cache's access log since `since` (seconds since the epoch): distribution's combined-format lines on stdout. */
function cacheRequests(since: number): Request[] {
  const logs = tool('docker', ['logs', '--since', since.toFixed(3), cache]);
  toolOk(logs, `docker logs ${cache}`);
  return `${logs.stdout}\n${logs.stderr}`.split('\n').flatMap((line) => {
    const m = /^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+) [^"]*" (\d{3}) /.exec(line);
    return m ? [{ method: m[1]!, path: m[2]!.split('?')[0]!, status: Number(m[3]) }] : [];
  });
}

const cacheExists = () => tool('docker', ['container', 'inspect', cache]).status === 0;
const volumeExists = () => tool('docker', ['volume', 'inspect', volume]).status === 0;

describe('the pull-through cache on real k3d clusters', () => {
  printDiagnosticsOnFailure(env, () => [context]);
  let first: { images: NodeImage[]; blobs: string[] } = { images: [], blobs: [] };

  beforeAll(async () => {
    requireE2eTools(env);
    port = await freePort();
  });

  afterAll(() => {
    tool('k3d', ['cluster', 'delete', name]);
    tool('docker', ['volume', 'rm', `k3s-devreg-${name}-registry`]);
    if (cacheExists() || volumeExists()) cli('cache', 'rm', '--yes');
    rmSync(work, { recursive: true, force: true });
  });

  it('up starts the docker.io cache on the cluster network, and each node pulls k3s images through it', async () => {
    const up = cli('up', '--yes', '--name', name, '--port', String(port));
    expectOk(up);
    expect(up.stderr).toMatch(/Verified: pushed, pulled and ran hello-world-example/);
    expect(docker('inspect', '--format', '{{.State.Running}}', cache)).toBe('true');
    expect(Object.keys(JSON.parse(docker('inspect', '--format', '{{json .NetworkSettings.Networks}}', cache)) as object)).toContain(context);
    // Reached on the docker network only, never on a host interface.
    expect(docker('port', cache)).toBe('');
    for (const node of nodes) expect(docker('exec', node, 'cat', HOSTS_TOML), `${node}: ${HOSTS_TOML}`).toContain(endpoint);

    first = await settle('first creation');
    const names = [...new Set(first.images.map((i) => i.tag.replace(/:[^:]*$/, '')))];
    expect(names, 'the system images the nodes run').toContain('docker.io/rancher/mirrored-pause');
    // The cache holds what the nodes pulled: each image's manifest (index) is a blob in its storage.
    expect(first.images.filter((i) => !first.blobs.includes(i.digest)).map((i) => `${i.node} ${i.tag}`), 'images the cache does not hold').toEqual([]);
  });

  it('down deletes the cluster, keeps the cache running with its data, and says so', () => {
    const down = cli('down', '--name', name);
    expectOk(down);
    expect(down.stdout).toContain(`Cluster ${name} deleted`);
    expect(down.all).toMatch(/cache/i);
    expect(docker('inspect', '--format', '{{.State.Running}}', cache)).toBe('true');
    expect(volumeExists()).toBe(true);
    expect(cachedBlobs()).toEqual(first.blobs);
  });

  it('the second creation gets every k3s system image from the cache, which fetches nothing from Docker Hub', async () => {
    const since = Date.now() / 1000 - 1;
    expectOk(cli('up', '--yes', '--name', name, '--port', String(port)));
    const second = await settle('second creation');

    // The cache's storage did not change: no content came from the upstream.
    expect(second.blobs).toEqual(first.blobs);
    const requests = cacheRequests(since);
    // Every system image each node holds was fetched from the cache in this creation, manifest by digest and blobs.
    expect(second.images.length).toBeGreaterThan(0);
    const served = (path: string) => requests.some((r) => r.method === 'GET' && r.path === path && r.status === 200);
    const missing = second.images.filter((i) => !served(`/v2/${i.repo}/manifests/${i.digest}`) || !requests.some((r) => r.status === 200 && r.path.startsWith(`/v2/${i.repo}/blobs/sha256:`)));
    expect(missing.map((i) => `${i.node} ${i.tag}`), 'images no node fetched from the cache').toEqual([]);
    // No request failed, so containerd never went on to registry-1.docker.io itself.
    expect(requests.filter((r) => r.status >= 400).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([]);
    // The same images as the first time (which node runs which pod may differ).
    const tags = (images: NodeImage[]) => [...new Set(images.map((i) => i.tag))].sort();
    expect(tags(second.images)).toEqual(tags(first.images));
  });

  it('cache rm --yes removes the cache container and its volume (after down)', () => {
    expectOk(cli('down', '--name', name));
    expect(cacheExists()).toBe(true);
    expectOk(cli('cache', 'rm', '--yes'));
    expect({ container: cacheExists(), volume: volumeExists() }).toEqual({ container: false, volume: false });
  });
});
