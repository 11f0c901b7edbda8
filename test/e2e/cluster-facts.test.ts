/**
 * What `up` makes, on a real k3d cluster, and a reboot of it: every node runs the pinned k3s; with a
 * KUBECONFIG listing two files the context goes into the first (the second untouched) and kubectl
 * works; the Kubernetes API is published on 127.0.0.1 only; after `docker restart` of every node
 * container (what a reboot does: /etc/hosts is rebuilt without our line) `up` notices, waits and
 * verifies again, a pod on every node pulls from container-registry.local:5000, and status is healthy.
 * Its own cluster name, port, state home, kubeconfig files and docker config. Without k3d, kubectl
 * or docker it FAILS: it never skips.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_AGENTS, DEFAULT_K3S_IMAGE, REGISTRY_HOST, REGISTRY_PORT } from '../../src/spec.js';
import { createSandbox, eventually, expectOk, freePort, printDiagnosticsOnFailure, requireE2eTools, runCli, runTool, toolOk } from './helpers.js';
import { preparedImages } from './images.js';

const { name, work, env } = createSandbox('e2e-node');
const context = `k3d-${name}`;
const nodes = [`k3d-${name}-server-0`, ...Array.from({ length: DEFAULT_AGENTS }, (_, i) => `k3d-${name}-agent-${i}`)];
// The image tag v1.31.5-k3s1 is the release v1.31.5+k3s1, which the kubelet reports.
const k3sVersion = DEFAULT_K3S_IMAGE.split(':')[1]!.replace(/-k3s(\d+)$/, '+k3s$1');
const restartTag = `after-restart-${randomBytes(3).toString('hex')}`;
let port = 0;

// Two kubeconfig files, both existing: the first nearly empty, the second holding someone's context.
const fileA = join(work, 'kubeconfig-a.yaml');
const fileB = join(work, 'kubeconfig-b.yaml');
const fileBText = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{name: e2e-other, cluster: {server: "https://127.0.0.1:1"}}]',
  'users: [{name: e2e-other, user: {}}]',
  'contexts: [{name: e2e-other, context: {cluster: e2e-other, user: e2e-other}}]',
  'current-context: e2e-other',
  '',
].join('\n');
env.KUBECONFIG = `${fileA}${delimiter}${fileB}`;

const cli = (...args: string[]) => runCli(env, args, work);
const tool = (file: string, args: string[]) => runTool(env, file, args);
const kubectl = (...args: string[]) => toolOk(tool('kubectl', ['--context', context, '--request-timeout=30s', ...args]), `kubectl ${args.join(' ')}`);
const inspect = (container: string, format: string) => toolOk(tool('docker', ['inspect', '--format', format, container]), `docker inspect ${container}`).trim();

interface Kubeconfig {
  contexts?: { name: string; context: { cluster: string } }[];
  clusters?: { name: string; cluster: { server: string } }[];
}

describe('what up makes on a real k3d cluster, and a restart of every node', () => {
  printDiagnosticsOnFailure(env, () => [context]);

  beforeAll(async () => {
    requireE2eTools(env);
    port = await freePort();
    writeFileSync(fileA, 'apiVersion: v1\nkind: Config\npreferences: {}\n');
    writeFileSync(fileB, fileBText);
  });

  afterAll(() => {
    tool('k3d', ['cluster', 'delete', name]);
    tool('docker', ['volume', 'rm', `k3s-devreg-${name}-registry`]);
    tool('docker', ['image', 'rm', `localhost:${port}/${restartTag}:1`]);
    rmSync(work, { recursive: true, force: true });
  });

  it('up with KUBECONFIG listing two files: the context goes into the first, the second is untouched, kubectl works', () => {
    const up = cli('up', '--yes', '--name', name, '--port', String(port));
    expectOk(up);
    expect(up.stderr).toMatch(/Verified: pushed, pulled and ran hello-world-example/);
    const a = parse(readFileSync(fileA, 'utf8')) as Kubeconfig;
    expect(a.contexts?.map((c) => c.name)).toContain(context);
    expect(readFileSync(fileB, 'utf8')).toBe(fileBText);
    // kubectl reads the merged list: both contexts, and ours reaches the cluster.
    const contexts = toolOk(tool('kubectl', ['config', 'get-contexts', '--output', 'name']), 'kubectl config get-contexts').split('\n');
    expect(contexts).toEqual(expect.arrayContaining([context, 'e2e-other']));
    expect(kubectl('get', 'nodes', '--output', 'name').trim().split('\n').sort()).toEqual(nodes.map((n) => `node/${n}`).sort());
  });

  it(`every node runs the pinned k3s (${DEFAULT_K3S_IMAGE}, kubelet ${k3sVersion})`, () => {
    const versions = kubectl('get', 'nodes', '--output', 'jsonpath={range .items[*]}{.metadata.name}={.status.nodeInfo.kubeletVersion}{"\\n"}{end}');
    expect(versions.trim().split('\n').sort()).toEqual(nodes.map((n) => `${n}=${k3sVersion}`).sort());
    for (const node of nodes) expect(inspect(node, '{{.Config.Image}}'), node).toBe(DEFAULT_K3S_IMAGE);
  });

  it('the Kubernetes API (and the registry port) are published on 127.0.0.1 only', () => {
    const lb = `k3d-${name}-serverlb`;
    const published = JSON.parse(inspect(lb, '{{json .NetworkSettings.Ports}}')) as Record<string, { HostIp: string; HostPort: string }[] | null>;
    const api = published['6443/tcp'] ?? [];
    expect(api.length, JSON.stringify(published)).toBeGreaterThan(0);
    expect(api.map((b) => b.HostIp)).toEqual(api.map(() => '127.0.0.1'));
    const registry = Object.values(published).flatMap((b) => b ?? []).filter((b) => b.HostPort === String(port));
    expect(registry.map((b) => b.HostIp)).toEqual(['127.0.0.1']);
    // The kubeconfig k3d wrote points at that address.
    const a = parse(readFileSync(fileA, 'utf8')) as Kubeconfig;
    const cluster = a.contexts?.find((c) => c.name === context)?.context.cluster;
    expect(a.clusters?.find((c) => c.name === cluster)?.cluster.server).toBe(`https://127.0.0.1:${api[0]!.HostPort}`);
  });

  it.skipIf(!preparedImages())('every node imported the prepared archives (K3S_DEVREG_E2E_IMAGES) at start', () => {
    const preloaded = readFileSync(join(preparedImages()!, 'preloaded.txt'), 'utf8').split('\n').filter(Boolean);
    for (const node of nodes) {
      const listed = JSON.parse(toolOk(tool('docker', ['exec', node, 'crictl', 'images', '--output', 'json']), `crictl images on ${node}`)) as { images: { repoTags?: string[] }[] };
      const tags = listed.images.flatMap((i) => i.repoTags ?? []);
      expect(preloaded.filter((image) => !tags.includes(image)), `${node}: preloaded images it lacks`).toEqual([]);
    }
  });

  it('after docker restart of every node container, up notices, verifies again, and each node pulls from our registry', async () => {
    const startedBefore = nodes.map((n) => inspect(n, '{{.State.StartedAt}}'));
    const containers = toolOk(tool('docker', ['ps', '--filter', `label=k3d.cluster=${name}`, '--format', '{{.Names}}']), 'docker ps').trim().split('\n');
    expect(containers).toEqual(expect.arrayContaining([...nodes, `k3d-${name}-serverlb`]));
    toolOk(tool('docker', ['restart', ...containers]), 'docker restart');
    expect(nodes.map((n) => inspect(n, '{{.State.StartedAt}}')).filter((s, i) => s === startedBefore[i]), 'nodes docker did not restart').toEqual([]);

    // Before up: status answers (healthy or not) and, when the hosts line is missing, names the nodes.
    const early = cli('status', '--name', name, '--json');
    expect([0, 1], early.all).toContain(early.status);
    const earlyHosts = (JSON.parse(early.stdout) as { checks: { name: string; status: string; detail?: string }[] }).checks.find((c) => c.name === 'hosts entries');
    expect(earlyHosts, early.stdout).toBeDefined();
    if (earlyHosts!.status === 'fail') expect(nodes.some((n) => earlyHosts!.detail?.includes(n)), earlyHosts!.detail).toBe(true);

    const up = cli('up', '--yes', '--name', name, '--port', String(port));
    expectOk(up);
    // A plain second up does not verify (onboarding: it only reads); after a restart it must.
    expect(up.stderr).toMatch(/Verified: pushed, pulled and ran hello-world-example/);

    // A tag no node has: each node must pull it from container-registry.local:5000 (hosts line, CA, credentials).
    toolOk(tool('docker', ['tag', `localhost:${port}/hello-world-example:latest`, `localhost:${port}/${restartTag}:1`]), 'docker tag');
    toolOk(tool('docker', ['push', `localhost:${port}/${restartTag}:1`]), 'docker push');
    for (const [i, node] of nodes.entries()) {
      const pod = `pull-after-restart-${i}`;
      kubectl('run', pod, `--image=${REGISTRY_HOST}:${REGISTRY_PORT}/${restartTag}:1`, '--restart=Never', '--image-pull-policy=Always', `--overrides={"apiVersion":"v1","spec":{"nodeName":"${node}"}}`);
      await eventually(`${pod} on ${node} to pull and run`, 180_000, () => {
        const phase = kubectl('get', 'pod', pod, '--output', 'jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}').trim();
        if (!phase.startsWith('Succeeded')) throw new Error(`phase: ${phase || 'none yet'}`);
      });
      expect(kubectl('logs', pod)).toContain('hello world from the k3s-devreg registry');
    }

    const status = cli('status', '--name', name, '--json');
    expectOk(status);
    const report = JSON.parse(status.stdout) as { healthy: boolean; checks: { name: string; status: string; detail?: string }[] };
    expect(report.healthy).toBe(true);
    const hosts = report.checks.find((c) => c.name === 'hosts entries');
    const ip = kubectl('--namespace', 'container-registry', 'get', 'service', 'registry', '--output', 'jsonpath={.spec.clusterIP}').trim();
    expect(hosts?.status).toBe('ok');
    expect(hosts?.detail).toContain(ip);
    // And the nodes really have the line again (docker rebuilt /etc/hosts at the restart).
    for (const node of nodes) {
      expect(toolOk(tool('docker', ['exec', node, 'cat', '/etc/hosts']), `${node}: /etc/hosts`)).toMatch(new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+${REGISTRY_HOST.replace(/\./g, '\\.')}\\b`, 'm'));
    }
  });
});
