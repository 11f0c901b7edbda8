/**
 * doctor on a real k3d cluster, run as a user runs it (the built CLI, in a child process): healthy
 * after up; a node whose /etc/hosts lost the container-registry.local line is named with that
 * entry; a pod pulling a tag that was never pushed (by either name) is explained as manifest unknown. The
 * registry-hosts DaemonSet rewrites the line every 2 s (INTERVAL in render/manifests/hosts.ts), so it
 * is paused first (a nodeSelector no node matches) and resumed after. Without k3d, kubectl or docker
 * it FAILS: it never skips.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_HOST, REGISTRY_PORT } from '../../src/spec.js';
import { createSandbox, eventually, expectOk, freePort, printDiagnosticsOnFailure, readCredentials, requireE2eTools, runCli, runTool, toolOk } from './helpers.js';

const { name, work, stateDir, env } = createSandbox('doctor');
const context = `k3d-${name}`;
const agent = `k3d-${name}-agent-0`;
const PAUSE_LABEL = 'k3s-devreg.test/paused';
/**
 * A tag never pushed, pulled by both names. By the registry's own name its hosts.toml has our
 * registry as its only host (server =), so containerd's error is the 404's "<ref>: not found". By
 * localhost:PORT k3s writes that host's own endpoint (http://localhost:PORT/v2) after our mirror;
 * containerd tries it once the mirror answered 404 (remotes/docker resolver: a 404 moves on without
 * a word, the first other error wins), and the event ends there (refused, or a 400 where the
 * NodePort answers on the node's localhost). doctor asks the registry itself, so both are
 * manifest-unknown.
 */
const missingPods = [
  ['doctor-missing-tag', () => `${REGISTRY_HOST}:${REGISTRY_PORT}/hello-world-example:never-pushed`],
  ['doctor-missing-tag-localhost', () => `localhost:${port}/hello-world-example:never-pushed`],
] as const;
let port = 0;

const cli = (...args: string[]) => runCli(env, args, work);
const tool = (file: string, args: string[]) => runTool(env, file, args);
const kubectl = (...args: string[]) => toolOk(tool('kubectl', ['--context', context, ...args]), `kubectl ${args.join(' ')}`);

interface Report {
  cluster: string;
  healthy: boolean;
  findings: { check: string; where: string; status: string; summary: string; evidence?: string; fix?: string }[];
}
const doctorJson = (...args: string[]): { code: number | null; report: Report; all: string } => {
  const result = cli('doctor', '--name', name, '--json', ...args);
  return { code: result.status, report: JSON.parse(result.stdout) as Report, all: result.all };
};

/** The hosts DaemonSet placed on no node (a nodeSelector none matches: its pods go), or back on every node. */
async function pauseHostsDaemonSet(paused: boolean): Promise<void> {
  const patch = { spec: { template: { spec: { nodeSelector: { [PAUSE_LABEL]: paused ? 'true' : null } } } } };
  kubectl('--namespace', 'container-registry', 'patch', 'daemonset', 'registry-hosts', '--patch', JSON.stringify(patch));
  if (!paused) {
    kubectl('--namespace', 'container-registry', 'rollout', 'status', 'daemonset/registry-hosts', '--timeout=180s');
    return;
  }
  await eventually('the registry-hosts pods to be gone', 120_000, () => {
    const left = kubectl('--namespace', 'container-registry', 'get', 'pods', '--selector', 'app.kubernetes.io/name=registry-hosts', '--output', 'name').trim();
    if (left !== '') throw new Error(`still there: ${left}`);
  });
}

describe('doctor on a real k3d cluster', () => {
  printDiagnosticsOnFailure(env, () => [context]);

  beforeAll(async () => {
    requireE2eTools(env);
    port = await freePort();
  });

  afterAll(() => {
    for (const [pod] of missingPods) tool('kubectl', ['--context', context, 'delete', 'pod', pod, '--ignore-not-found', '--wait=false']);
    tool('k3d', ['cluster', 'delete', name]);
    tool('docker', ['volume', 'rm', `k3s-devreg-${name}-registry`]);
    tool('docker', ['image', 'rm', `localhost:${port}/hello-world-example:latest`]);
    rmSync(work, { recursive: true, force: true });
  });

  it('after up, doctor finds nothing wrong (exit 0, no FAIL), and prints no secret', () => {
    expectOk(cli('up', '--yes', '--name', name, '--port', String(port)));
    const table = cli('doctor', '--name', name);
    expectOk(table);
    expect(table.stdout).not.toMatch(/ FAIL /);
    expect(table.stdout).toMatch(new RegExp(`^no problem found: cluster ${name}`, 'm'));
    const { code, report, all } = doctorJson();
    expect(code).toBe(0);
    expect(report.healthy).toBe(true);
    expect(report.findings.filter((f) => f.status === 'fail')).toEqual([]);
    // Every node was looked into, and the laptop's side too.
    for (const where of [`k3d-${name}-server-0`, agent, 'laptop']) expect(report.findings.some((f) => f.where === where && f.status === 'ok'), where).toBe(true);
    expect(all).not.toContain(readCredentials(stateDir).password);
  });

  it('a node without the container-registry.local line: doctor exits 1 naming that node and the hosts entry', async () => {
    await pauseHostsDaemonSet(true);
    try {
      // In place: docker bind-mounts the file, so a rename onto it fails (FACTS.md).
      toolOk(tool('docker', ['exec', agent, 'sh', '-c', 'grep -v container-registry.local /etc/hosts > /tmp/hosts.doctor; cat /tmp/hosts.doctor > /etc/hosts']), 'rewrite /etc/hosts');
      expect(toolOk(tool('docker', ['exec', agent, 'cat', '/etc/hosts']), 'read /etc/hosts')).not.toContain('container-registry.local');
      const table = cli('doctor', '--name', name);
      expect(table.status).toBe(1);
      expect(table.stdout).toMatch(new RegExp(`^hosts entry +${agent} +FAIL `, 'm'));
      const { code, report } = doctorJson();
      expect(code).toBe(1);
      const hosts = report.findings.filter((f) => f.check === 'hosts entry' && f.status === 'fail');
      expect(hosts.map((f) => f.where)).toEqual([agent]);
      expect(`${hosts[0]!.summary} ${hosts[0]!.evidence ?? ''}`).toContain('container-registry.local');
      expect(hosts[0]!.fix).toBeTruthy();
    } finally {
      await pauseHostsDaemonSet(false);
    }
    // The DaemonSet writes the line again: healthy once more.
    await eventually('doctor to find the hosts line back', 120_000, () => {
      const { code, report } = doctorJson();
      if (code !== 0) throw new Error(report.findings.filter((f) => f.status === 'fail').map((f) => `${f.check} ${f.where}: ${f.summary}`).join('; '));
    });
  });

  it.each(missingPods)('doctor --pod %s, pulling a tag that was never pushed: manifest unknown, as the registry itself says, quoted and explained', async (missingPod, imageOf) => {
    const missingImage = imageOf();
    kubectl('run', missingPod, '--image', missingImage, '--restart', 'Never');
    const finding = await eventually('the pod to fail its pull', 180_000, () => {
      const { code, report } = doctorJson('--pod', missingPod);
      const pod = report.findings.find((f) => f.check === 'pod events');
      if (pod?.status !== 'fail') throw new Error(`pod events: ${pod?.status} ${pod?.summary}`);
      expect(code).toBe(1);
      return pod;
    });
    expect(finding.where).toBe(`default/${missingPod}`);
    expect(finding.summary).toMatch(/manifest-unknown: the registry has no (repository hello-world-example|tag never-pushed of hello-world-example \(it has: [^)]*\)), so no endpoint could serve /);
    expect(finding.summary).toContain(missingImage);
    expect(finding.evidence).toMatch(/^the registry has no (repository|tag) .*; the pull error: /);
    expect(finding.evidence).toContain(missingImage);
    expect(finding.fix).toMatch(new RegExp(`^push it \\(docker tag IMAGE localhost:${port}/hello-world-example:never-pushed && docker push localhost:${port}/hello-world-example:never-pushed\\)`));
    const table = cli('doctor', '--name', name, '--pod', `default/${missingPod}`);
    expect(table.status).toBe(1);
    expect(table.stdout).toMatch(new RegExp(`^pod events +default/${missingPod} +FAIL +\\S+ on k3d-${name}-\\S+: manifest-unknown`, 'm'));
  });
});
