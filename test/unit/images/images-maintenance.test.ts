/** prune's maintenance window through kubectl: exact argv, the order, and that the registry is always made writable again. */
import { describe, expect, it } from 'vitest';
import { Interrupted, ToolError } from '../../../src/errors.js';
import { collectGarbage, isReadOnly } from '../../../src/steps/images-maintenance.js';
import { recordingRunner, type RecordedCall } from '../../helpers/recording-runner.js';

const ns = 'kubectl --context k3d-devreg --namespace container-registry';
const READ_ONLY = `${ns} set env deployment/registry --containers=registry REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}`;
const ROLLOUT = `${ns} rollout status deployment/registry --timeout=180s`;
const GC = `${ns} exec deployment/registry --container registry -- /bin/registry garbage-collect --delete-untagged /etc/docker/registry/config.yml`;
const WRITABLE = `${ns} set env deployment/registry --containers=registry REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":false}`;
const line = (c: RecordedCall) => [c.file, ...c.args].join(' ');

describe('collectGarbage', () => {
  it('read-only, wait, garbage-collect in the pod, writable, wait: in this order, and the summary', async () => {
    const run = recordingRunner((c) => (line(c) === GC ? { stdout: 'a: marking manifest sha256:1\n\n3 blobs marked, 2 blobs and 1 manifests eligible for deletion\n' } : {}));
    const said: string[] = [];
    expect(await collectGarbage({ run, context: 'k3d-devreg', say: (l) => said.push(l) }, true)).toEqual({ blobsMarked: 3, blobsDeleted: 2, manifestsDeleted: 1 });
    expect(run.lines()).toEqual([READ_ONLY, ROLLOUT, GC, WRITABLE, ROLLOUT]);
    expect(run.calls.find((c) => line(c) === GC)!.timeoutMs).toBe(30 * 60_000);
    expect(said.join('\n')).toContain('pushes are refused');
  });

  it('without --delete-untagged when asked so', async () => {
    const run = recordingRunner();
    await collectGarbage({ run, context: 'k3d-devreg', say: () => {} }, false);
    expect(run.lines()[2]).toBe(`${ns} exec deployment/registry --container registry -- /bin/registry garbage-collect /etc/docker/registry/config.yml`);
  });

  it('a failing garbage collection or rollout still makes the registry writable again, and its error comes through', async () => {
    const failingGc = recordingRunner((c) => (line(c) === GC ? { exitCode: 1, stderr: 'failed to garbage collect: disk full' } : {}));
    await expect(collectGarbage({ run: failingGc, context: 'k3d-devreg', say: () => {} }, true)).rejects.toThrow(ToolError);
    expect(failingGc.lines()).toEqual([READ_ONLY, ROLLOUT, GC, WRITABLE, ROLLOUT]);
    let rollouts = 0;
    const stuck = recordingRunner((c) => (line(c) === ROLLOUT && ++rollouts === 1 ? { exitCode: 1, stderr: 'error: timed out waiting for the condition' } : {}));
    await expect(collectGarbage({ run: stuck, context: 'k3d-devreg', say: () => {} }, true)).rejects.toThrow('timed out waiting for the condition');
    expect(stuck.lines()).toEqual([READ_ONLY, ROLLOUT, WRITABLE, ROLLOUT]);
  });

  it('when making it writable fails, the error says pushes are refused and how to finish', async () => {
    const run = recordingRunner((c) => (line(c) === WRITABLE ? { exitCode: 1, stderr: 'The connection to the server 127.0.0.1:6443 was refused' } : {}));
    await expect(collectGarbage({ run, context: 'k3d-devreg', say: () => {} }, true)).rejects.toThrow(
      'the registry may still be read-only, refusing pushes: kubectl could not change the env of deployment/registry in namespace container-registry (exit 1: The connection to the server 127.0.0.1:6443 was refused): run k3s-devreg images prune again once the cluster answers: it makes the registry writable first',
    );
  });

  it('Ctrl-C during the read-only rollout: no garbage collection, writable again, then Interrupted', async () => {
    const abort = new AbortController();
    const run = recordingRunner((c) => (line(c) === ROLLOUT && !abort.signal.aborted ? (abort.abort(), {}) : {}));
    await expect(collectGarbage({ run, context: 'k3d-devreg', say: () => {}, signal: abort.signal }, true)).rejects.toThrow(Interrupted);
    expect(run.lines()).toEqual([READ_ONLY, ROLLOUT, WRITABLE, ROLLOUT]);
  });
});

describe('isReadOnly', () => {
  const deployment = (env: { name: string; value?: string }[]) => ({ stdout: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'registry', env }] } } } }) });

  it('reads the registry container\'s env from the Deployment', async () => {
    const left = recordingRunner(() => deployment([{ name: 'REGISTRY_HTTP_ADDR', value: ':5000' }, { name: 'REGISTRY_STORAGE_MAINTENANCE_READONLY', value: '{"enabled":true}' }]));
    expect(await isReadOnly(left, 'k3d-devreg')).toBe(true);
    expect(left.lines()).toEqual([`${ns} get deployment registry --ignore-not-found --output json`]);
    expect(await isReadOnly(recordingRunner(() => deployment([{ name: 'REGISTRY_HTTP_ADDR', value: ':5000' }])), 'k3d-devreg')).toBe(false);
    // The rendered value (what up applies and prune restores) is writable.
    expect(await isReadOnly(recordingRunner(() => deployment([{ name: 'REGISTRY_STORAGE_MAINTENANCE_READONLY', value: '{"enabled":false}' }])), 'k3d-devreg')).toBe(false);
    expect(await isReadOnly(recordingRunner(() => deployment([{ name: 'REGISTRY_STORAGE_MAINTENANCE_READONLY', value: '{enabled: true}' }])), 'k3d-devreg')).toBe(true);
  });

  it('no Deployment: a UserError that says to run up', async () => {
    await expect(isReadOnly(recordingRunner(() => ({ stdout: '' })), 'k3d-devreg')).rejects.toThrow('deployment/registry is missing in namespace container-registry: run k3s-devreg up');
  });
});
