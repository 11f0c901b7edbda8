/** The kubectl reads doctor added (tools/kubectl-objects.ts): exact argv, and what is made of kubectl's JSON. */
import { describe, expect, it } from 'vitest';
import { getNodeConditions, getNodes, getPodSummary, podEvents } from '../../../src/tools/kubectl-objects.js';
import { literalEnvByContainer } from '../../../src/tools/kubectl.js';
import { recordingRunner } from '../../helpers/recording-runner.js';

describe('kubectl reads for doctor', () => {
  it("a pod's events, oldest first, whichever time field the event carries (lastTimestamp, eventTime, creation)", async () => {
    const items = [
      { type: 'Warning', reason: 'BackOff', message: 'Back-off pulling image "x"', count: 4, lastTimestamp: '2026-12-02T08:00:09Z' },
      { type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned default/web to n', eventTime: '2026-12-02T08:00:00.000000Z' },
      { type: 'Warning', reason: 'Failed', message: 'Failed to pull image "x": not found', metadata: { creationTimestamp: '2026-12-02T08:00:05Z' } },
    ];
    const run = recordingRunner(() => ({ stdout: JSON.stringify({ kind: 'List', items }) }));
    expect(await podEvents(run, 'k3d-x', 'shop', 'web')).toEqual([
      { type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned default/web to n', count: 1, last: '2026-12-02T08:00:00.000000Z' },
      { type: 'Warning', reason: 'Failed', message: 'Failed to pull image "x": not found', count: 1, last: '2026-12-02T08:00:05Z' },
      { type: 'Warning', reason: 'BackOff', message: 'Back-off pulling image "x"', count: 4, last: '2026-12-02T08:00:09Z' },
    ]);
    expect(run.calls).toEqual([
      { file: 'kubectl', args: ['--context', 'k3d-x', '--namespace', 'shop', 'get', 'events', '--field-selector', 'involvedObject.kind=Pod,involvedObject.name=web', '--output', 'json'], timeoutMs: 30_000 },
    ]);
  });

  it("one pod's summary with each container's restarts and last termination; a missing pod is undefined", async () => {
    const pod = {
      metadata: { name: 'registry-1' },
      spec: { nodeName: 'k3d-x-server-0' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'registry', restartCount: 2, state: { running: {} }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }],
      },
    };
    const run = recordingRunner((call) => ({ stdout: call.args.includes('registry-1') ? JSON.stringify(pod) : '' }));
    expect(await getPodSummary(run, 'k3d-x', 'container-registry', 'registry-1')).toEqual({
      name: 'registry-1',
      node: 'k3d-x-server-0',
      phase: 'Running',
      annotations: {},
      ready: true,
      terminating: false,
      init: {},
      containers: { registry: { running: true, restarts: 2, lastTermination: { reason: 'OOMKilled', exitCode: 137 } } },
      env: {},
    });
    expect(await getPodSummary(run, 'k3d-x', 'default', 'gone')).toBeUndefined();
    expect(run.lines()).toEqual([
      'kubectl --context k3d-x --namespace container-registry get pod registry-1 --ignore-not-found --output json',
      'kubectl --context k3d-x --namespace default get pod gone --ignore-not-found --output json',
    ]);
  });

  it('every node condition as reported; getNodes reads Ready from the same answer', async () => {
    const nodes = { items: [{ metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }, { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }] } }, { metadata: { name: 'n2' } }] };
    const run = recordingRunner(() => ({ stdout: JSON.stringify(nodes) }));
    expect(await getNodeConditions(run, 'k3d-x')).toEqual([
      { name: 'n1', conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: '' }, { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }] },
      { name: 'n2', conditions: [] },
    ]);
    expect(await getNodes(run, 'k3d-x')).toEqual([
      { name: 'n1', ready: true, reason: 'KubeletReady' },
      { name: 'n2', ready: false, reason: 'no Ready condition' },
    ]);
    expect(run.lines()).toEqual(Array(2).fill('kubectl --context k3d-x get nodes --ignore-not-found --output json'));
  });

  it("containers' literal env by name (the one reading of it: pod specs, Deployment templates, up's live objects): valueFrom left out", () => {
    const containers = [
      { name: 'registry', env: [{ name: 'A', value: '1' }, { name: 'EMPTY', value: '' }, { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
      { name: 'sidecar' },
      { env: [{ name: 'NAMELESS', value: 'x' }] },
    ];
    expect(literalEnvByContainer(containers)).toEqual({ registry: { A: '1', EMPTY: '' }, sidecar: {} });
    expect(literalEnvByContainer(undefined)).toEqual({});
  });
});
