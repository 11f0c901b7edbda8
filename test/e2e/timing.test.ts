/**
 * How much `up` costs over k3d itself, measured in one run on one machine: a bare `k3d cluster create`
 * (the same k3s pin, the same number of agents, the same preloaded archives), timed, then deleted;
 * then `up` from nothing, timed, then a no-op `up` and `verify` on it. Prints "bare create Xs, up Ys, ratio Z, up - bare = Ds (goal <= 15 s)"
 * (and the global teardown repeats it in the closing report). The goal is printed, never asserted:
 * no test asserts on time (a shared runner's speed varies); what is asserted is that both really
 * made a working cluster.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AGENTS, K3D_PHASE_TIMEOUT_SECONDS } from '../../src/spec.js';
import { createSandbox, expectOk, freePort, k3dPreloadArgs, printDiagnosticsOnFailure, requireE2eTools, runCli, runTool, toolOk } from './helpers.js';
import { report, timingLine } from './images.js';

const bare = createSandbox('e2e-bare');
const up = createSandbox('e2e-time');
let port = 0;

const nodeCount = (env: NodeJS.ProcessEnv, context: string) =>
  toolOk(runTool(env, 'kubectl', ['--context', context, '--request-timeout=30s', 'get', 'nodes', '--output', 'name']), `kubectl --context ${context} get nodes`).trim().split('\n').length;

describe('the time up takes beside a bare k3d cluster create', () => {
  printDiagnosticsOnFailure(up.env, () => [`k3d-${bare.name}`, `k3d-${up.name}`]);

  beforeAll(async () => {
    requireE2eTools(up.env);
    port = await freePort();
  });

  afterAll(() => {
    runTool(bare.env, 'k3d', ['cluster', 'delete', bare.name]);
    runTool(up.env, 'k3d', ['cluster', 'delete', up.name]);
    runTool(up.env, 'docker', ['volume', 'rm', `k3s-devreg-${up.name}-registry`]);
    for (const s of [bare, up]) rmSync(s.work, { recursive: true, force: true });
  });

  it('bare k3d cluster create, then up from nothing: both timed and printed', () => {
    const createArgs = ['cluster', 'create', bare.name, '--agents', String(DEFAULT_AGENTS), '--wait', '--timeout', `${K3D_PHASE_TIMEOUT_SECONDS}s`, ...k3dPreloadArgs(join(bare.stateDir, 'images'))];
    const bareStart = performance.now();
    toolOk(runTool(bare.env, 'k3d', createArgs, 15 * 60_000), `k3d ${createArgs.join(' ')}`);
    const bareSeconds = (performance.now() - bareStart) / 1000;
    expect(nodeCount(bare.env, `k3d-${bare.name}`)).toBe(1 + DEFAULT_AGENTS);
    // Deleted first: the two never share the machine while timed.
    toolOk(runTool(bare.env, 'k3d', ['cluster', 'delete', bare.name]), `k3d cluster delete ${bare.name}`);

    const upStart = performance.now();
    const result = runCli(up.env, ['up', '--yes', '--name', up.name, '--port', String(port)], up.work);
    const upSeconds = (performance.now() - upStart) / 1000;
    expectOk(result);
    expect(result.stderr).toMatch(/Verified: pushed, pulled and ran hello-world-example/);
    expect(nodeCount(up.env, `k3d-${up.name}`)).toBe(1 + DEFAULT_AGENTS);

    // The same cluster again: a no-op up (nothing to change), then verify on its own.
    const timed = (args: string[]) => {
      const start = performance.now();
      expectOk(runCli(up.env, args, up.work));
      return (performance.now() - start) / 1000;
    };
    const noopUpSeconds = timed(['up', '--yes', '--name', up.name, '--port', String(port)]);
    const verifySeconds = timed(['verify', '--name', up.name]);

    console.log(timingLine(bareSeconds, upSeconds, { noopUpSeconds, verifySeconds }));
    report({ kind: 'timing', bareSeconds, upSeconds, noopUpSeconds, verifySeconds });
  });
});
