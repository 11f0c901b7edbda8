/**
 * `images ls | rm | prune | du` (issue 14) on a real k3d cluster, run as a user runs it (the built
 * CLI, in a child process): images made one after another and pushed with the real docker, listed
 * with docker's digests, one removed, the rest pruned to the newest tag of each repository with the
 * registry's garbage collection (the disk shrinks, the registry is writable again, a deleted layer
 * uploads again, a pod still runs the kept image), and a registry left read-only by an interrupted
 * prune made writable by `up`. One cluster without agents. Without k3d, kubectl or docker it FAILS:
 * it never skips.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_ONLY_ENV, READ_ONLY_VALUE, WRITABLE_VALUE } from '../../src/images/registry-gc.js';
import { DEFAULT_HOSTS_IMAGE, registryVolumeName } from '../../src/spec.js';
import { createSandbox, eventually, expectOk, freePort, printDiagnosticsOnFailure, readCredentials, requireE2eTools, runCli, runTool, toolOk } from './helpers.js';

const { name, work, stateDir, env } = createSandbox('images');
const context = `k3d-${name}`;
/** Random, so incompressible: each image's own layer is about this big, in the registry and on its disk. */
const DATA_BYTES = 2 * 1024 * 1024;
const pods: string[] = [];
const made = new Set<string>();
let port = 0;

const cli = (...args: string[]) => runCli(env, args, work);
const tool = (file: string, args: string[]) => runTool(env, file, args);
const kubectl = (...args: string[]) => toolOk(tool('kubectl', ['--context', context, ...args]), `kubectl ${args.join(' ')}`);
const registryKubectl = (...args: string[]) => kubectl('--namespace', 'container-registry', ...args);
const ref = (repoTag: string) => `localhost:${port}/${repoTag}`;
const password = () => readCredentials(stateDir).password;

/**
 * An image of the busybox `up` already has, plus a layer of its own (a marker its CMD prints, and
 * random data), committed now: images made one after another are ordered by their created time.
 */
function makeImage(repoTag: string): string {
  const container = `${name}-build-${repoTag.replace(/[^a-z0-9]/g, '-')}`;
  const marker = `made as ${repoTag}`;
  try {
    toolOk(tool('docker', ['run', '--name', container, DEFAULT_HOSTS_IMAGE, 'sh', '-c', `echo '${marker}' > /marker && head -c ${DATA_BYTES} /dev/urandom > /data`]), `docker run for ${repoTag}`);
    toolOk(tool('docker', ['commit', '--change', 'CMD ["cat", "/marker"]', container, ref(repoTag)]), `docker commit ${repoTag}`);
  } finally {
    tool('docker', ['rm', '--force', container]);
  }
  made.add(ref(repoTag));
  return marker;
}

/** docker push (logged in by up, in the sandbox's docker config): what docker says, and the digest it reports. */
function push(repoTag: string): { status: number | null; out: string; digest?: string } {
  const r = tool('docker', ['push', ref(repoTag)]);
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const digest = /digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(out)?.[1];
  return { status: r.status, out, ...(digest ? { digest } : {}) };
}
function pushOk(repoTag: string): { out: string; digest: string } {
  const pushed = push(repoTag);
  if (pushed.status !== 0 || !pushed.digest) throw new Error(`docker push ${ref(repoTag)} failed (exit ${pushed.status}):\n${pushed.out}`);
  return { out: pushed.out, digest: pushed.digest };
}

interface Listing {
  registry: string;
  repositories: { name: string; bytes: number; tags: { tag: string; digest: string; size: number; created?: string; mediaType: string }[] }[];
}
interface DiskUse {
  volume: string;
  bytes?: number;
  repositories: { name: string; tags: number; bytes: number }[];
}
interface PruneJson {
  deletedTags: string[];
  gc?: { blobsMarked: number; blobsDeleted: number; manifestsDeleted: number };
  bytesBefore?: number;
  bytesAfter?: number;
  freedBytes?: number;
  done: boolean;
}
function cliJson<T>(...args: string[]): T {
  const result = cli(...args, '--name', name, '--json');
  expectOk(result);
  expect(result.all).not.toContain(password());
  return JSON.parse(result.stdout) as T;
}
const ls = () => cliJson<Listing>('images', 'ls');
const du = () => cliJson<DiskUse>('images', 'du');
const tagsOf = (listing: Listing) => Object.fromEntries(listing.repositories.map((r) => [r.name, r.tags.map((t) => t.tag).sort()]));

/** The registry Deployment's read-only variable, as the cluster holds it. */
function readOnlySetting(): string | undefined {
  const deployment = JSON.parse(registryKubectl('get', 'deployment', 'registry', '--output', 'json')) as {
    spec: { template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } } };
  };
  const container = deployment.spec.template.spec.containers.find((c) => c.name === 'registry');
  return container?.env?.find((e) => e.name === READ_ONLY_ENV)?.value;
}

/** A pod running `image` by the name docker pushed it to (localhost:PORT, mirrored on the node); its log. */
async function runPod(pod: string, image: string): Promise<string> {
  pods.push(pod);
  kubectl('run', pod, '--image', image, '--restart', 'Never', '--image-pull-policy', 'Always');
  await eventually(`${pod} to succeed`, 120_000, () => {
    const phase = kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase}').trim();
    if (phase !== 'Succeeded') throw new Error(`phase ${phase}`);
  });
  return kubectl('logs', pod);
}

const pushed: Record<string, { digest: string; marker: string }> = {};

describe('images ls | rm | prune | du on a real k3d cluster', () => {
  printDiagnosticsOnFailure(env, () => [context]);

  beforeAll(async () => {
    requireE2eTools(env);
    port = await freePort();
  });

  // Runs even when a test (or beforeAll) failed: nothing of the run is left behind.
  afterAll(() => {
    for (const pod of pods) tool('kubectl', ['--context', context, 'delete', 'pod', pod, '--ignore-not-found', '--wait=false']);
    const down = cli('down', '--name', name);
    if (down.status !== 0) tool('k3d', ['cluster', 'delete', name]);
    tool('docker', ['volume', 'rm', registryVolumeName(name)]);
    if (port) tool('docker', ['image', 'rm', ref('hello-world-example:latest'), ...made]);
    rmSync(work, { recursive: true, force: true });
  });

  it('up --yes (no agents); images pushed one after another are listed by ls with the digests docker reported', () => {
    expectOk(cli('up', '--yes', '--name', name, '--port', String(port), '--agents', '0'));
    for (const repoTag of ['e2e-app:v1', 'e2e-app:v2', 'e2e-app:v3', 'e2e-tool:only']) {
      const marker = makeImage(repoTag);
      pushed[repoTag] = { digest: pushOk(repoTag).digest, marker };
    }
    const listing = ls();
    expect(listing.registry).toBe(`localhost:${port}`);
    // hello-world-example: what up's verify pushed.
    expect(tagsOf(listing)).toEqual({ 'e2e-app': ['v1', 'v2', 'v3'], 'e2e-tool': ['only'], 'hello-world-example': ['latest'] });
    for (const repo of listing.repositories.filter((r) => r.name.startsWith('e2e-'))) {
      for (const t of repo.tags) {
        const repoTag = `${repo.name}:${t.tag}`;
        expect(t.digest, repoTag).toBe(pushed[repoTag]!.digest);
        expect(t.size, repoTag).toBeGreaterThan(DATA_BYTES);
        const created = toolOk(tool('docker', ['image', 'inspect', '--format', '{{.Created}}', ref(repoTag)]), 'docker image inspect').trim();
        expect(Date.parse(t.created ?? ''), repoTag).toBe(Date.parse(created));
      }
    }
    const table = cli('images', 'ls', '--name', name);
    expectOk(table);
    expect(table.all).not.toContain(password());
    expect(table.stdout).toMatch(new RegExp(`^e2e-app\\s+v2\\s+${pushed['e2e-app:v2']!.digest.slice(7, 19)}\\s`, 'm'));
  });

  it('rm REPO:TAG --yes deletes that tag: ls no longer lists it, the other tags stay', () => {
    const rm = cli('images', 'rm', 'e2e-app:v2', '--yes', '--name', name);
    expectOk(rm);
    expect(rm.stdout).toContain('Deleted e2e-app:v2.');
    expect(rm.all).not.toContain(password());
    expect(tagsOf(ls())['e2e-app']).toEqual(['v1', 'v3']);
  });

  it('prune --keep 1 --yes: only the newest tag of each repository stays, the garbage collection ran, du shows the disk shrink', () => {
    const before = du();
    expect(before.volume).toBe(registryVolumeName(name));
    expect(before.bytes).toBeGreaterThan(4 * DATA_BYTES);
    expect(before.repositories.find((r) => r.name === 'e2e-app')?.tags).toBe(2);
    // Nothing else pushes meanwhile: every step of this file runs one after another.
    const prune = cli('images', 'prune', '--keep', '1', '--yes', '--name', name, '--json');
    expectOk(prune);
    expect(prune.all).not.toContain(password());
    expect(prune.stderr).toContain('Making the registry read-only');
    expect(prune.stderr).toContain("Running the registry's garbage collection");
    expect(prune.stderr).toContain('Making the registry writable again');
    const report = JSON.parse(prune.stdout) as PruneJson;
    expect(report.done).toBe(true);
    expect(report.deletedTags).toEqual(['e2e-app:v1']);
    // v1's and v2's own layer, config and manifest (rm left v2's blobs for the collection).
    expect(report.gc?.blobsDeleted).toBeGreaterThanOrEqual(4);
    expect(tagsOf(ls())).toEqual({ 'e2e-app': ['v3'], 'e2e-tool': ['only'], 'hello-world-example': ['latest'] });
    const after = du();
    // Two layers of random data went: docker sizes the volume in rounded units, hence the margin.
    const dropped = 2 * DATA_BYTES * 0.95;
    expect(before.bytes! - after.bytes!).toBeGreaterThanOrEqual(dropped);
    expect(report.freedBytes).toBeGreaterThanOrEqual(dropped);
    expect(after.repositories.find((r) => r.name === 'e2e-app')?.tags).toBe(1);
  });

  it('after prune the registry is writable (the Deployment says so, a deleted layer uploads again) and a pod runs the kept image', async () => {
    expect(readOnlySetting()).toBe(WRITABLE_VALUE);
    // The restart emptied the registry's blob-descriptor cache: the collected layer is uploaded, not "already exists".
    const again = pushOk('e2e-app:v1');
    expect(again.digest).toBe(pushed['e2e-app:v1']!.digest);
    expect(again.out).toMatch(/: Pushed\s*$/m);
    expect(tagsOf(ls())['e2e-app']).toEqual(['v1', 'v3']);
    const log = await runPod(`images-kept-${port}`, ref('e2e-app:v3'));
    expect(log).toContain(pushed['e2e-app:v3']!.marker);
  });

  it('a registry left read-only (an interrupted prune) refuses pushes with 405; up --yes makes it writable again', async () => {
    registryKubectl('set', 'env', 'deployment/registry', '--containers=registry', `${READ_ONLY_ENV}=${READ_ONLY_VALUE}`);
    registryKubectl('rollout', 'status', 'deployment/registry', '--timeout=180s');
    expect(readOnlySetting()).toBe(READ_ONLY_VALUE);
    makeImage('e2e-late:1');
    // Retried only while the new pod is not serving yet (any other failure); a 405 or a success ends it.
    const refused = await eventually('a push to be answered (405 expected)', 120_000, () => {
      const attempt = push('e2e-late:1');
      if (attempt.status !== 0 && !/405|method not allowed/i.test(attempt.out)) throw new Error(attempt.out);
      return attempt;
    });
    expect(refused.status, refused.out).not.toBe(0);
    expect(refused.out).toMatch(/405|method not allowed/i);
    // Pulls and reads are still served.
    expect(tagsOf(ls())['e2e-late']).toBeUndefined();
    const up = cli('up', '--yes', '--name', name, '--port', String(port), '--agents', '0');
    expectOk(up);
    expect(up.all).not.toContain(password());
    expect(readOnlySetting()).toBe(WRITABLE_VALUE);
    pushOk('e2e-late:1');
    expect(tagsOf(ls())['e2e-late']).toEqual(['1']);
  });
});
