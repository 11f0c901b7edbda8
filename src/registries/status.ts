/**
 * Per node: does the registries.yaml that k3s or RKE2 reads there (the writer finds which, and
 * reports its path) hold what the Secret holds, now? Each pod's writer
 * reports what it did and the salted checksum of the file it left (its termination message); the
 * pod's check container then re-checks the host file every CHECK_PERIOD_SECONDS (readiness probe), so
 * an edit on the host after the writer ran shows as the pod turning unready. The DaemonSet's
 * template carries the expected checksum. All of it comes from three read-only kubectl calls.
 */
import { UserError } from '../errors.js';
import {
  ANNOTATION_CA,
  ANNOTATION_REGISTRIES,
  CHECK_PERIOD_SECONDS,
  WRITER_CHECK_CONTAINER,
  WRITER_INIT_CONTAINER,
  WRITER_NAME,
  WRITER_NAMESPACE,
  WRITER_SELECTOR,
} from './writer-daemonset.js';
import { getDaemonSet, getNodeRoles, labelSelector, listPods, type ContainerOutcome, type PodSummary } from '../tools/kubectl-objects.js';
import type { Runner } from '../tools/run.js';
import { distributionOf, type Distribution } from './node-targets.js';

export type NodeFileState = 'matches' | 'differs' | 'pending' | 'failed' | 'no-pod';
export type WriteResult = 'created' | 'updated' | 'unchanged';

export interface NodeRegistriesStatus {
  node: string;
  role: 'server' | 'agent';
  /** From the node's kubelet version; k3s when it says neither. */
  distribution: Distribution;
  state: NodeFileState;
  /** The host file the writer resolved and wrote (absent until it reported one). */
  path?: string;
  /** What the writer did on its last run on this node. */
  result?: WriteResult;
  detail: string;
  /** The command that makes k3s on this node read the file. */
  restart: string;
}

/** A writer pod with its two containers picked out: the writer (init) and the check (probe). */
type WriterPod = PodSummary & { writer?: ContainerOutcome; check?: ContainerOutcome };

export const SELECTOR = labelSelector(WRITER_SELECTOR);
/** The systemd units of the install scripts (k3s install.sh; rke2 bundle/lib/systemd/system): [server, agent]. */
const SERVICES: Record<Distribution, [string, string]> = { k3s: ['k3s', 'k3s-agent'], rke2: ['rke2-server', 'rke2-agent'] };
const SUMMARY = /result=(created|updated|unchanged) checksum=([0-9a-f]{64}) ca=(\S+)(?: path=(\S+))?/;

function nodeState(pod: WriterPod | undefined, expected: string, expectedCa: string): Omit<NodeRegistriesStatus, 'node' | 'role' | 'distribution' | 'restart'> {
  if (!pod) return { state: 'no-pod', detail: 'no writer pod on this node (is it schedulable and Linux?)' };
  const { writer, check } = pod;
  if (!writer || writer.exitCode === undefined) {
    return { state: 'pending', detail: writer?.waitingReason ? `writer waiting: ${writer.waitingReason}` : `writer not finished (pod ${pod.phase})` };
  }
  // The writer could not tell which file k3s or RKE2 reads there, and wrote nothing: its one line says why.
  const refused = /^refused: (.+)$/m.exec(writer.message ?? '');
  if (refused) return { state: 'failed', detail: refused[1]! };
  const summary = SUMMARY.exec(writer.message ?? '');
  if (writer.exitCode !== 0 || !summary) {
    const said = (writer.message ?? '').trim().split('\n').at(-1) ?? '';
    return { state: 'failed', detail: `writer exited with ${writer.exitCode}${said ? `: ${said}` : ''}` };
  }
  const result = summary[1] as WriteResult;
  const written = { result, ...(summary[4] ? { path: summary[4] } : {}) };
  if (summary[2] !== expected) return { state: 'differs', ...written, detail: 'the writer on this node wrote another version (an older pod)' };
  if (summary[3] !== expectedCa) return { state: 'differs', ...written, detail: 'the CA on the host is not the one in the Secret' };
  // What the writer left was right; whether it still is, the check container's probe says.
  if (pod.ready) {
    const did = result === 'unchanged' ? 'already up to date' : `${result} by the writer`;
    return { state: 'matches', ...written, detail: `${did}; checked every ${CHECK_PERIOD_SECONDS}s` };
  }
  if (!check?.running || pod.terminating) {
    const why = pod.terminating ? 'pod terminating' : check?.waitingReason ? `check waiting: ${check.waitingReason}` : `check not started (pod ${pod.phase})`;
    return { state: 'pending', ...written, detail: why };
  }
  return {
    state: 'differs',
    ...written,
    // The probe also fails when the config now names another file: its message (pod events) says which.
    detail: `the file (or CA) was changed on the host since the writer ran, or the config now names another file: run registries apply, or delete pod ${pod.name} to rewrite it`,
  };
}

export async function registriesStatus(runner: Runner, context: string): Promise<NodeRegistriesStatus[]> {
  const daemonSet = await getDaemonSet(runner, context, WRITER_NAMESPACE, WRITER_NAME);
  if (!daemonSet) {
    throw new UserError(
      `no registries writer in ${context} (daemonset ${WRITER_NAMESPACE}/${WRITER_NAME})`,
      `run k3s-devreg registries apply --context ${context} -f registries.yaml first`,
    );
  }
  const expected = daemonSet.templateAnnotations[ANNOTATION_REGISTRIES] ?? '';
  const expectedCa = daemonSet.templateAnnotations[ANNOTATION_CA] ?? 'none';
  const pods: WriterPod[] = (await listPods(runner, context, WRITER_NAMESPACE, SELECTOR)).map((pod) => ({
    ...pod,
    writer: pod.init[WRITER_INIT_CONTAINER],
    check: pod.containers[WRITER_CHECK_CONTAINER],
  }));
  const nodes = await getNodeRoles(runner, context);
  return nodes.map(({ name, controlPlane, kubeletVersion }) => {
    const onNode = pods.filter((p) => p.node === name);
    // During a rollout a node may briefly have the old pod and the new one: the current revision wins.
    const pod = onNode.find((p) => p.annotations[ANNOTATION_REGISTRIES] === expected) ?? onNode[0];
    const distribution = distributionOf(kubeletVersion) ?? 'k3s';
    return {
      node: name,
      role: controlPlane ? 'server' : 'agent',
      distribution,
      ...nodeState(pod, expected, expectedCa),
      restart: `sudo systemctl restart ${SERVICES[distribution][controlPlane ? 0 : 1]}`,
    };
  });
}

export function formatStatusTable(rows: NodeRegistriesStatus[]): string {
  const header = ['NODE', 'ROLE', 'FILE', 'PATH', 'DETAIL'];
  const cells = [header, ...rows.map((r) => [r.node, `${r.role} (${r.distribution})`, r.state, r.path ?? '-', r.detail])];
  const widths = header.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** Nodes whose file was just (re)written: k3s there runs with the old one until restarted. */
export function restartAdvice(rows: NodeRegistriesStatus[]): string[] {
  const changed = rows.filter((r) => r.state === 'matches' && r.result !== 'unchanged');
  if (changed.length === 0) return [];
  const programs = [...new Set(changed.map((r) => r.distribution))];
  const names = programs.map((p) => (p === 'rke2' ? 'RKE2' : 'k3s')).join(' and ');
  return [
    `${names} ${programs.length > 1 ? 'read registries.yaml only when they start' : 'reads registries.yaml only when it starts'}. Restart it on each node, one at a time:`,
    ...changed.map((r) => `  ${r.node} (${r.role}${r.path ? `, ${r.path}` : ''}): ${r.restart}`),
    // A pull error names only the last endpoint tried; containerd's log has the real cause.
    `If pulls fail afterwards, the cause is in ${programs.map((p) => `/var/lib/rancher/${p}/agent/containerd/containerd.log`).join(' or ')} on the node.`,
  ];
}
