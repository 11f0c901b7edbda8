/**
 * diagnoseNode's calls with the recording runner: one `docker container inspect`, then one
 * `docker exec NODE sh -c SCRIPT` (the script without a secret); a stopped node gives one skip and
 * no exec; a failed exec names what it read and never quotes the script's output.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeReadScript } from '../../../src/doctor/node-read.js';
import { diagnoseNode, readStateFacts } from '../../../src/steps/doctor-node.js';
import { readWithScript } from '../../../src/tools/docker-exec.js';
import { recordingRunner } from '../../helpers/recording-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-doctor-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const inspect = (running: boolean) => JSON.stringify([{ Name: '/k3d-devreg-agent-0', State: { Running: running, Status: running ? 'running' : 'exited', StartedAt: '2026-12-01T10:00:00Z' } }]);

describe('diagnoseNode', () => {
  it('one inspect, one exec of the read script', async () => {
    const run = recordingRunner((c) => (c.args[0] === 'container' ? { stdout: inspect(true) } : { stdout: '' }));
    const findings = await diagnoseNode({ run, node: 'k3d-devreg-agent-0', port: 31113, now: new Date() }, await readStateFacts(dir));
    expect(run.calls.map((c) => c.args)).toEqual([
      ['container', 'inspect', 'k3d-devreg-agent-0'],
      ['exec', 'k3d-devreg-agent-0', 'sh', '-c', nodeReadScript(['container-registry.local:5000', 'localhost:31113'])],
    ]);
    expect(run.calls.every((c) => c.input === undefined)).toBe(true);
    // Nothing was read: every check says so, none is ok.
    expect(findings.map((f) => f.check)).toEqual(['hosts entry', 'registries.yaml', 'hosts.toml', 'credentials', 'CA', 'certificate', 'clock', 'pull errors']);
    expect(findings.filter((f) => f.status === 'ok')).toEqual([]);
  });

  it('a stopped node: one skip finding, nothing run inside it', async () => {
    const run = recordingRunner(() => ({ stdout: inspect(false) }));
    expect(await diagnoseNode({ run, node: 'k3d-devreg-agent-0', now: new Date() }, await readStateFacts(dir))).toEqual([
      { check: 'node', where: 'k3d-devreg-agent-0', status: 'skip', summary: 'the node container is exited: nothing inside it was checked' },
    ]);
    expect(run.calls).toHaveLength(1);
  });
});

describe('readWithScript', () => {
  it('a failed exec names what it read and the stderr, never the stdout', async () => {
    const run = recordingRunner(() => ({ exitCode: 1, stdout: 'password = "s3cret-value"', stderr: 'Error response from daemon: container abc is not running' }));
    const error = await readWithScript(run, 'n', 'cat /x', 'the files').catch((e: Error & { problem: string; fix: string }) => e);
    expect(error).toMatchObject({ problem: 'docker could not read the files in n (exit 1: Error response from daemon: container abc is not running)', fix: 'check that n runs and answers: docker exec n true' });
    expect(JSON.stringify(error) + String(error)).not.toContain('s3cret-value');
  });
});
