/**
 * Ctrl-C while k3d creates the cluster, on real k3d: what k3d leaves behind when it dies half-way
 * cannot be imitated faithfully by a stand-in. The built CLI runs in its own process group and the
 * whole group gets SIGINT, as a terminal sends it; then `up` again must finish a healthy setup.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, createSandbox, eventually, expectOk, freePort, printDiagnosticsOnFailure, requireE2eTools, runCli, runTool } from './helpers.js';

const { name, work, env } = createSandbox('e2e-int');
let port = 0;
const cli = (...args: string[]) => runCli(env, args, work);

describe('Ctrl-C during up on a real k3d cluster', () => {
  printDiagnosticsOnFailure(env, () => [`k3d-${name}`]);

  beforeAll(async () => {
    requireE2eTools(env);
    port = await freePort();
  });

  afterAll(() => {
    runTool(env, 'k3d', ['cluster', 'delete', name]);
    runTool(env, 'docker', ['volume', 'rm', `k3s-devreg-${name}-registry`]);
    rmSync(work, { recursive: true, force: true });
  });

  it('stops with exit 130 once the server container exists, and the next up resumes to a healthy setup', async () => {
    const child = spawn(process.execPath, [bin, 'up', '--yes', '--name', name, '--port', String(port)], { env, cwd: work, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Half-way: k3d has made the server's container and is still waiting for k3s.
    const serverMade = eventually('k3d to create the server container', 600_000, () => {
      const ps = runTool(env, 'docker', ['ps', '--all', '--filter', `name=^k3d-${name}-server-0$`, '--format', '{{.Names}}']);
      if (ps.stdout.trim() !== `k3d-${name}-server-0`) throw new Error(`not yet (${output.split('\n').filter(Boolean).at(-1) ?? 'no output'})`);
    });
    const endedEarly = exited.then((code) => {
      throw new Error(`up exited ${code} before k3d made the server container:\n${output}`);
    });
    await Promise.race([serverMade, endedEarly]);
    endedEarly.catch(() => undefined);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited, output).toBe(130);
    expect(output).toContain('interrupted: run k3s-devreg up again to resume where it stopped');

    const again = cli('up', '--yes', '--name', name, '--port', String(port));
    expectOk(again);
    expect(again.stderr).toMatch(/Verified: pushed, pulled and ran hello-world-example/);
    expectOk(cli('status', '--name', name));
  });
});
