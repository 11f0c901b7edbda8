/**
 * doctor's checks through kubectl: the registry pod (scheduled where, ready, restarts and how its
 * last run ended, its image pull), pressure on the nodes (a node under DiskPressure evicts pods and
 * takes no new ones), and with --pod that pod's events and container states.
 */
import type { Finding } from '../doctor/finding.js';
import { failedPullMessage, podPullFinding, type PodRef } from '../doctor/pod-pull.js';
import { onOurRegistry, pulledImageOf } from '../doctor/registry-tag.js';
import { explainPullError } from '../doctor/pull-errors.js';
import { READ_ONLY_ENV, isReadOnlyValue } from '../images/registry-gc.js';
import { REGISTRY_MEMORY_LIMIT } from '../render/manifests/registry.js';
import { NAMESPACE, SERVICE_NAME } from '../spec.js';
import { getDeployment, getNodeConditions, getPodSummary, listPods, podEvents, type PodSummary } from '../tools/kubectl-objects.js';
import type { Runner } from '../tools/run.js';
import { askAboutImages, type TagAsker } from './doctor-registry-tag.js';
import { selectorOf } from './readiness.js';

const PRESSURE_FIX: Record<string, string> = {
  DiskPressure: 'free disk space where docker keeps its data: docker system df, docker image prune, k3s-devreg images prune; on Docker Desktop raise the disk size (Settings, Resources)',
  MemoryPressure: 'give docker more memory (Docker Desktop: Settings, Resources) or stop pods you do not need',
  PIDPressure: 'stop pods or processes you do not need on that node',
};

/** One finding per k3s node: the kubelet's pressure conditions that are True. */
export async function pressureFindings(run: Runner, context: string, nodes: readonly string[]): Promise<Finding[]> {
  const reported = await getNodeConditions(run, context);
  return nodes.map((node): Finding => {
    const conditions = reported.find((n) => n.name === node)?.conditions;
    if (!conditions) return { check: 'disk pressure', where: node, status: 'warn', summary: 'the node is not registered in Kubernetes', fix: `kubectl --context ${context} get nodes` };
    const pressing = conditions.filter((c) => c.type.endsWith('Pressure') && c.status === 'True');
    if (pressing.length === 0) return { check: 'disk pressure', where: node, status: 'ok', summary: 'no DiskPressure, MemoryPressure or PIDPressure' };
    return {
      check: 'disk pressure',
      where: node,
      status: 'fail',
      summary: `the node reports ${pressing.map((c) => c.type).join(' and ')}: the kubelet evicts pods and the scheduler places no new ones there`,
      evidence: pressing.map((c) => `${c.type}=True (${c.reason}${c.message ? `: ${c.message}` : ''})`).join('; '),
      fix: pressing.map((c) => PRESSURE_FIX[c.type] ?? `kubectl --context ${context} describe node ${node}`).join('; '),
    };
  });
}

function podState(pod: PodSummary, context: string): Omit<Finding, 'check' | 'where'> {
  const describe = `kubectl --context ${context} --namespace ${NAMESPACE} describe pod ${pod.name}`;
  if (pod.unschedulable) {
    const fix = /pressure/i.test(pod.unschedulable) ? PRESSURE_FIX.DiskPressure! : describe;
    return { status: 'fail', summary: `pod ${pod.name} is not scheduled on any node`, evidence: pod.unschedulable, fix };
  }
  const [name, c] = Object.entries(pod.containers)[0] ?? ['registry', undefined];
  const last = c?.lastTermination;
  const restarted = c?.restarts ? `restarted ${c.restarts} time(s)${last ? `, last ended ${last.reason}${last.exitCode !== undefined ? ` (exit ${last.exitCode})` : ''}` : ''}` : '';
  const oom = last?.reason === 'OOMKilled';
  const oomWords = `the registry ran out of memory (its limit is ${REGISTRY_MEMORY_LIMIT})`;
  const oomFix = `look at what it was doing with kubectl --context ${context} --namespace ${NAMESPACE} logs ${pod.name} --previous; very large layers pushed at once are the usual cause`;
  // A past OOMKilled stays in lastState for the pod's life: only a pod that does not serve now fails for it.
  if (oom && !pod.ready) {
    return { status: 'fail', summary: `pod ${pod.name} is not ready and ${restarted}: ${oomWords}`, evidence: 'lastState.terminated.reason=OOMKilled', fix: oomFix };
  }
  if (oom) return { status: 'warn', summary: `pod ${pod.name} is ready, but ${restarted}: ${oomWords}`, evidence: 'lastState.terminated.reason=OOMKilled', fix: oomFix };
  if (!pod.ready) {
    const waits = c?.waitingReason ? `container ${name} waits: ${c.waitingReason}` : `${pod.phase} and not ready`;
    const pull = c?.waitingMessage ? explainPullError(c.waitingMessage) : undefined;
    return {
      status: 'fail',
      summary: `pod ${pod.name} is ${waits}${pull ? ` (${pull.kind}: ${pull.cause})` : ''}${restarted ? `; ${restarted}` : ''}`,
      ...(c?.waitingMessage ? { evidence: c.waitingMessage } : {}),
      fix: pull?.fix ?? describe,
    };
  }
  if (restarted) {
    return { status: 'warn', summary: `pod ${pod.name} is ready, but ${restarted}`, fix: `kubectl --context ${context} --namespace ${NAMESPACE} logs ${pod.name} --previous` };
  }
  return { status: 'ok', summary: `pod ${pod.name} is ready on ${pod.node ?? 'a node'}, no restarts` };
}

/** Pushes get 405 while the registry is read-only, which only an `images prune` cut short leaves behind. */
function writableFinding(pod: PodSummary): Finding {
  const value = pod.env[SERVICE_NAME]?.[READ_ONLY_ENV];
  if (!isReadOnlyValue(value)) return { check: 'registry writable', where: pod.node ?? 'cluster', status: 'ok', summary: 'the registry accepts pushes (not in read-only mode)' };
  return {
    check: 'registry writable',
    where: pod.node ?? 'cluster',
    status: 'fail',
    summary: 'the registry is read-only, as an interrupted images prune leaves it: pulls work, pushes and deletes get 405',
    evidence: `${READ_ONLY_ENV}=${value}`,
    fix: 'run k3s-devreg up (it applies the writable setting again), or k3s-devreg images prune to finish the job',
  };
}

/** The registry pod at the node it runs on (or 'cluster' while it has none), and whether it takes pushes. */
export async function registryPodFinding(run: Runner, context: string): Promise<Finding[]> {
  const pods = (await listPods(run, context, NAMESPACE, selectorOf(SERVICE_NAME))).filter((p) => !p.terminating);
  const [pod] = pods;
  if (!pod) {
    const deployment = await getDeployment(run, context, NAMESPACE, SERVICE_NAME);
    const summary = deployment ? `deployment/${SERVICE_NAME} has no pod (${deployment.ready}/${deployment.desired} ready)` : `deployment/${SERVICE_NAME} is missing in namespace ${NAMESPACE}`;
    const fix = deployment ? `kubectl --context ${context} --namespace ${NAMESPACE} describe deployment/${SERVICE_NAME}` : 'run k3s-devreg up, which deploys the registry again (pushed images are kept in its volume)';
    return [{ check: 'registry pod', where: 'cluster', status: 'fail', summary, fix }];
  }
  return [{ check: 'registry pod', where: pod.node ?? 'cluster', ...podState(pod, context) }, writableFinding(pod)];
}

/** `--pod`: the pod, its events, which of `findings` explains a failed pull, and for an image of ours what the registry holds (`ask`). */
export async function podFinding(run: Runner, context: string, ref: PodRef, findings: readonly Finding[], nodes: readonly string[], port?: number, ask?: TagAsker): Promise<Finding> {
  const [pod, events] = await Promise.all([getPodSummary(run, context, ref.namespace, ref.name), podEvents(run, context, ref.namespace, ref.name)]);
  const message = pod && failedPullMessage(pod, events);
  const image = message ? pulledImageOf(message) : undefined;
  const answers = ask && image ? await askAboutImages(ask, [image], port) : undefined;
  const target = answers?.has(image!) ? onOurRegistry(image!, port) : undefined;
  const registry = target ? { target, answer: answers!.get(image!) } : undefined;
  return podPullFinding({ ref, context, pod, events, findings, nodes, ...(port !== undefined ? { port } : {}), ...(registry ? { registry } : {}) });
}
