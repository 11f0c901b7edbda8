/**
 * A k3s cluster (context prod: one server s1, one agent a1) as kubectl answers for `registries
 * apply` and `registries status`: the writer's Secret, DaemonSet, pods and nodes, as recorded argv.
 */
import { parseAllDocuments } from 'yaml';
import { ANNOTATION_REGISTRIES } from '../../src/registries/writer-daemonset.js';
import type { RecordedCall } from './recording-runner.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export const NS = ['--context', 'prod', '--namespace', 'kube-system'];
export const GET_CONTEXTS = ['kubectl', 'config', 'get-contexts', '--output', 'name'];
export const CONTEXTS = { stdout: 'k3d-devreg\nk3d-plain\nprod\n' };
export const GET_SECRET = ['kubectl', ...NS, 'get', 'secret', 'k3s-devreg-registries', '--ignore-not-found', '--output', 'json'];
export const APPLY = ['kubectl', '--context', 'prod', 'apply', '--filename', '-'];
export const ROLLOUT = ['kubectl', ...NS, 'rollout', 'status', 'daemonset/k3s-devreg-registries', '--timeout=180s'];
export const GET_DS = ['kubectl', ...NS, 'get', 'daemonset', 'k3s-devreg-registries', '--ignore-not-found', '--output', 'json'];
export const GET_PODS = ['kubectl', ...NS, 'get', 'pods', '--selector', 'app.kubernetes.io/name=k3s-devreg-registries', '--output', 'json'];
export const GET_NODES = ['kubectl', '--context', 'prod', 'get', 'nodes', '--ignore-not-found', '--output', 'json'];
export const line = (argv: string[]) => argv.join(' ');

export type FakeNode = { version?: string; annotations?: Record<string, string> };
export const K3S = { version: 'v1.31.5+k3s1' };

/** A cluster of one server (s1) and one agent (a1) whose writers report `result` for what was applied. */
export function fakeCluster(existingSecret?: Record<string, string>, result = 'updated', nodes: { s1: FakeNode; a1: FakeNode } = { s1: K3S, a1: K3S }) {
  let applied: Obj[] = [];
  return (call: RecordedCall) => {
    const argv = line([call.file, ...call.args]);
    if (argv === line(GET_CONTEXTS)) return CONTEXTS;
    if (argv === line(GET_SECRET)) {
      if (!existingSecret) return { stdout: '' };
      const data = Object.fromEntries(Object.entries(existingSecret).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
      return { stdout: JSON.stringify({ data }) };
    }
    if (argv === line(APPLY)) applied = parseAllDocuments(call.input ?? '').map((d) => d.toJS() as Obj);
    const template = applied.find((o) => o.kind === 'DaemonSet')?.spec.template;
    const checksum = template?.metadata.annotations[ANNOTATION_REGISTRIES];
    if (argv === line(GET_DS)) return { stdout: JSON.stringify({ spec: { template }, status: { desiredNumberScheduled: 2 } }) };
    if (argv === line(GET_NODES)) {
      const node = (name: 's1' | 'a1', labels: Obj) => ({
        metadata: { name, labels, annotations: nodes[name].annotations ?? {} },
        status: { nodeInfo: { kubeletVersion: nodes[name].version } },
      });
      return { stdout: JSON.stringify({ items: [node('s1', { 'node-role.kubernetes.io/control-plane': 'true' }), node('a1', {})] }) };
    }
    if (argv === line(GET_PODS)) {
      const pod = (node: 's1' | 'a1') => ({
        metadata: { name: `w-${node}`, annotations: template.metadata.annotations },
        spec: { nodeName: node },
        status: {
          phase: 'Running',
          // rollout status returned: the check container's probe found the file in place.
          conditions: [{ type: 'Ready', status: 'True' }],
          initContainerStatuses: [{ name: 'writer', state: { terminated: { exitCode: 0, message: `result=${result} checksum=${checksum} ca=none path=/etc/rancher/${nodes[node].version?.includes('rke2') ? 'rke2' : 'k3s'}/registries.yaml\n` } } }],
          containerStatuses: [{ name: 'check', ready: true, state: { running: {} } }],
        },
      });
      return { stdout: JSON.stringify({ items: [pod('s1'), pod('a1')] }) };
    }
    return {};
  };
}

