/** status reports the registry volume's disk use (registryDiskBytes, and a table line) when docker sizes it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forgetSecretsForTests } from '../../../src/redact.js';
import type { ClusterSpec } from '../../../src/spec.js';
import { renderState } from '../../../src/steps/render-state.js';
import { collectStatus, statusTable } from '../../../src/steps/status.js';
import { FakeWorld } from '../../helpers/fake-cluster.js';
import { recordingRunner } from '../../helpers/recording-runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'k3s-devreg-status-disk-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('status: registry disk use', () => {
  const spec: ClusterSpec = { name: 'devreg', agents: 1, hostPort: 31113, username: 'devreg', registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir: join(tmp, 'devreg') };
  const now = new Date();
  const probe = async () => ({ anonymous: 401, authenticated: 200 });

  it('the volume docker sizes is in the JSON report and in the table', async () => {
    forgetSecretsForTests();
    await renderState({ spec, password: 'Status-Disk-Password-1', strict: true, runner: recordingRunner(), env: {}, now });
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113), volumeSize: '12.35MB' });
    world.volumes.set('k3s-devreg-devreg-registry', {});
    world.volumes.set('k3s-devreg-other-registry', {});
    const report = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now, probe });
    expect(report.registryDiskBytes).toBe(12_350_000);
    expect(statusTable(report)).toContain('registry data: 12.3 MB on disk (k3s-devreg images du)');
    expect(world.runner.lines()).toContain('docker system df --verbose --format {{json .Volumes}}');
  });

  it('no volume (or docker cannot size it): no field, no line, and the checks are unchanged', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const report = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now, probe });
    expect(report).not.toHaveProperty('registryDiskBytes');
    expect(statusTable(report)).not.toContain('registry data');
    const failing = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) }).override('docker system df', { exitCode: 1, stderr: 'Error response from daemon: a disk usage operation is already running' });
    const failed = await collectStatus({ run: failing.runner, name: 'devreg', stateDir: spec.stateDir, now, probe });
    expect(failed).not.toHaveProperty('registryDiskBytes');
    expect(failed.checks.map((c) => c.status)).toEqual(report.checks.map((c) => c.status));
  });

  it('no running cluster: docker system df (which walks every volume) is not run at all', async () => {
    const world = new FakeWorld();
    world.volumes.set('k3s-devreg-devreg-registry', {});
    const report = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now, probe });
    expect(report.checks[0]).toMatchObject({ name: 'cluster', status: 'fail' });
    expect(report).not.toHaveProperty('registryDiskBytes');
    expect(world.runner.lines().filter((l) => l.startsWith('docker system df'))).toEqual([]);
  });
});
