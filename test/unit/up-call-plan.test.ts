/**
 * The external calls a no-op `up` makes on a healthy cluster, and how many of them wait on each other.
 * Calls that start while another is still running share a serial group.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import type { Runner } from '../../src/tools/run.js';
import { FakeWorld } from '../helpers/fake-cluster.js';
import { fakeFactory } from '../helpers/commands.js';
import { captureIo } from '../helpers/io.js';

let home: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'k3s-devreg-plan-'));
  env = { K3S_DEVREG_HOME: home, K3S_DEVREG_PASSWORD: 'Plan-Password-1234' };
  forgetSecretsForTests();
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** A runner that numbers serial groups: a call that starts while none is running opens the next group. */
function groupingRunner(inner: Runner): { run: Runner; plan: string[][] } {
  const plan: string[][] = [];
  let running = 0;
  const run: Runner = async (file, args, options) => {
    if (running === 0) plan.push([]);
    plan.at(-1)!.push([file, ...args].join(' '));
    running++;
    try {
      return await inner(file, args, options);
    } finally {
      running--;
    }
  };
  return { run, plan };
}

async function up(run: Runner): Promise<number> {
  return runCli(['up', '--yes'], captureIo({ env }), fakeFactory(run));
}

describe('a no-op up', () => {
  it('asks each tool once for what it can answer in one call: 7 calls in 4 serial groups', async () => {
    const world = new FakeWorld();
    expect(await up(world.runner)).toBe(0);
    const { run, plan } = groupingRunner(world.runner);
    expect(await up(run)).toBe(0);
    expect(plan).toEqual([
      ['docker version --format {{.Server.Version}}', 'k3d version', 'kubectl version --client --output json'],
      // The pull-through cache is asked about in the same docker call as the nodes.
      ['k3d cluster list --output json', 'docker container inspect k3d-devreg-server-0 k3d-devreg-serverlb k3d-devreg-agent-0 k3s-devreg-cache-docker-io'],
      ['kubectl config view --output json'],
      ['kubectl --context k3d-devreg get --filename - --ignore-not-found --output json'],
    ]);
    expect(plan.flat().length).toBeLessThanOrEqual(8);
    expect(plan.length).toBeLessThanOrEqual(5);
  });

  it('after the nodes restarted it does not trust the status read: it waits for the rollouts and looks into every node', async () => {
    const world = new FakeWorld();
    expect(await up(world.runner)).toBe(0);
    world.cluster!.startedAt = { 'k3d-devreg-server-0': '2026-12-02T07:00:00Z', 'k3d-devreg-agent-0': '2026-12-02T07:00:01Z' };
    const { run, plan } = groupingRunner(world.runner);
    expect(await up(run)).toBe(0);
    const calls = plan.flat();
    expect(calls).toContain('kubectl --context k3d-devreg --namespace container-registry rollout status deployment/registry --timeout=180s');
    expect(calls).toContain('docker exec k3d-devreg-server-0 cat /etc/hosts');
    expect(calls).toContain('docker exec k3d-devreg-agent-0 cat /etc/hosts');
  });
});
