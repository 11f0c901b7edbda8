/**
 * kubectl reads of single kinds of object, summarised into small records (kubectl.ts holds the
 * kubeconfig, apply and rollout commands). Always an explicit `--context`.
 */
import { ensureOk, KUBECTL, parseJson } from './failure.js';
import { literalEnvByContainer, QUICK_MS, unreachableFix, type ContainerSpecJson } from './kubectl.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../spec.js';
import type { Runner } from './run.js';

/** `kubectl get KIND NAME -o json`; undefined when it does not exist. */
async function getJson<T>(run: Runner, context: string, namespace: string | undefined, kind: string, name?: string): Promise<T | undefined> {
  const args = ['--context', context, ...(namespace ? ['--namespace', namespace] : []), 'get', kind, ...(name ? [name] : []), '--ignore-not-found', '--output', 'json'];
  const action = `read ${kind}${name ? ` ${name}` : ''} from ${context}`;
  const result = ensureOk(KUBECTL, action, await run('kubectl', args, { timeoutMs: QUICK_MS }), unreachableFix(context), QUICK_MS);
  if (result.stdout.trim() === '') return undefined;
  return parseJson<T>(KUBECTL, action, result.stdout);
}

interface Condition { type?: string; status?: string; reason?: string; message?: string }

export interface NodeState { name: string; ready: boolean; reason: string }

export interface NodeConditions { name: string; conditions: Required<Condition>[] }

/** Every node's conditions as the kubelet reports them (Ready, DiskPressure, MemoryPressure, PIDPressure, ...). */
export async function getNodeConditions(run: Runner, context: string): Promise<NodeConditions[]> {
  const list = await getJson<{ items?: { metadata?: { name?: string }; status?: { conditions?: Condition[] } }[] }>(run, context, undefined, 'nodes');
  return (list?.items ?? []).map((item) => ({
    name: item.metadata?.name ?? '',
    conditions: (item.status?.conditions ?? []).map((c) => ({ type: c.type ?? '', status: c.status ?? '', reason: c.reason ?? '', message: c.message ?? '' })),
  }));
}

export async function getNodes(run: Runner, context: string): Promise<NodeState[]> {
  return (await getNodeConditions(run, context)).map(({ name, conditions }) => {
    const ready = conditions.find((c) => c.type === 'Ready');
    return { name, ready: ready?.status === 'True', reason: ready?.reason || ready?.message || 'no Ready condition' };
  });
}

/** Every Service in every namespace that holds this NodePort, as `namespace/name`. */
export async function servicesWithNodePort(run: Runner, context: string, nodePort: number): Promise<string[]> {
  const action = `list the Services of ${context}`;
  const args = ['--context', context, 'get', 'services', '--all-namespaces', '--output', 'json'];
  const result = ensureOk(KUBECTL, action, await run('kubectl', args, { timeoutMs: QUICK_MS }), unreachableFix(context), QUICK_MS);
  const list = parseJson<{ items?: { metadata?: { namespace?: string; name?: string }; spec?: { ports?: { nodePort?: number }[] } }[] }>(KUBECTL, action, result.stdout);
  return (list.items ?? [])
    .filter((s) => (s.spec?.ports ?? []).some((p) => p.nodePort === nodePort))
    .map((s) => `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`);
}

export async function getServiceClusterIp(run: Runner, context: string, namespace: string, name: string): Promise<string | undefined> {
  const service = await getJson<{ spec?: { clusterIP?: string } }>(run, context, namespace, 'service', name);
  const ip = service?.spec?.clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
}

export interface WorkloadState { desired: number; ready: number; updated: number }

export async function getDeployment(run: Runner, context: string, namespace: string, name: string): Promise<WorkloadState | undefined> {
  const d = await getJson<{ spec?: { replicas?: number }; status?: { readyReplicas?: number; updatedReplicas?: number } }>(run, context, namespace, 'deployment', name);
  if (!d) return undefined;
  return { desired: d.spec?.replicas ?? 1, ready: d.status?.readyReplicas ?? 0, updated: d.status?.updatedReplicas ?? 0 };
}

export interface PodState {
  /** Pending | Running | Succeeded | Failed | Unknown */
  phase: string;
  /** e.g. ErrImagePull, ImagePullBackOff, CrashLoopBackOff: why the container is waiting. */
  waitingReason?: string;
  message?: string;
  node?: string;
}

export async function getPod(run: Runner, context: string, namespace: string, name: string): Promise<PodState | undefined> {
  const pod = await getJson<{
    spec?: { nodeName?: string };
    status?: {
      phase?: string;
      message?: string;
      containerStatuses?: { state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } } }[];
    };
  }>(run, context, namespace, 'pod', name);
  if (!pod) return undefined;
  const state: PodState = { phase: pod.status?.phase ?? 'Unknown' };
  const container = pod.status?.containerStatuses?.[0]?.state;
  const waiting = container?.waiting;
  if (waiting?.reason) state.waitingReason = waiting.reason;
  const message = waiting?.message ?? pod.status?.message ?? (container?.terminated ? `exited with ${container.terminated.exitCode ?? '?'} (${container.terminated.reason ?? ''})` : undefined);
  if (message) state.message = message;
  if (pod.spec?.nodeName) state.node = pod.spec.nodeName;
  return state;
}

export async function podLogs(run: Runner, context: string, namespace: string, name: string): Promise<string> {
  const result = await run('kubectl', ['--context', context, '--namespace', namespace, 'logs', `pod/${name}`], { timeoutMs: QUICK_MS });
  ensureOk(KUBECTL, `read the log of pod ${name}`, result, unreachableFix(context), QUICK_MS);
  return result.stdout;
}

/**
 * Deletes a pod. With `--wait=true` kubectl's own `--timeout` defaults to 0, which it turns into a
 * week (kubernetes/kubectl pkg/cmd/delete/delete.go: `effectiveTimeout = 168 * time.Hour`), so it is
 * set here, below the runner's limit, and kubectl says what it was waiting for.
 */
export async function deletePod(run: Runner, context: string, namespace: string, name: string, wait: boolean): Promise<void> {
  const result = await run(
    'kubectl',
    // By name AND our label: a pod of the same name that we did not create is never deleted.
    ['--context', context, '--namespace', namespace, 'delete', 'pod', '--selector', `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
      '--field-selector', `metadata.name=${name}`, '--ignore-not-found', `--wait=${wait}`, ...(wait ? ['--timeout=60s'] : [])],
    { timeoutMs: 90_000 },
  );
  ensureOk(KUBECTL, `delete pod ${name}`, result, unreachableFix(context), 90_000);
}

// Read by registries apply/status (existing k3s clusters).

/** A namespace's labels; undefined when it does not exist. */
export async function getNamespaceLabels(run: Runner, context: string, name: string): Promise<Record<string, string> | undefined> {
  const namespace = await getJson<{ metadata?: { labels?: Record<string, string> } }>(run, context, undefined, 'namespace', name);
  return namespace ? (namespace.metadata?.labels ?? {}) : undefined;
}

/** A Secret's data, decoded; undefined when it does not exist. The values are secrets: never log them. */
export async function getSecretData(run: Runner, context: string, namespace: string, name: string): Promise<Record<string, string> | undefined> {
  const secret = await getJson<{ data?: Record<string, string> }>(run, context, namespace, 'secret', name);
  if (!secret) return undefined;
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
}

export interface DaemonSetState extends WorkloadState { templateAnnotations: Record<string, string> }

export async function getDaemonSet(run: Runner, context: string, namespace: string, name: string): Promise<DaemonSetState | undefined> {
  const ds = await getJson<{
    spec?: { template?: { metadata?: { annotations?: Record<string, string> } } };
    status?: { desiredNumberScheduled?: number; numberReady?: number; updatedNumberScheduled?: number };
  }>(run, context, namespace, 'daemonset', name);
  if (!ds) return undefined;
  const status = ds.status ?? {};
  return {
    desired: status.desiredNumberScheduled ?? 0,
    ready: status.numberReady ?? 0,
    updated: status.updatedNumberScheduled ?? 0,
    templateAnnotations: ds.spec?.template?.metadata?.annotations ?? {},
  };
}

export interface ContainerOutcome {
  exitCode?: number;
  message?: string;
  waitingReason?: string;
  /** What the kubelet says about the wait (an image pull's error, a crash loop's back-off). */
  waitingMessage?: string;
  running: boolean;
  /** How often the kubelet restarted it (set when not 0), and how its last run ended (e.g. OOMKilled, exit 137). */
  restarts?: number;
  lastTermination?: { reason: string; exitCode?: number };
}

export interface PodSummary {
  name: string;
  node?: string;
  phase: string;
  annotations: Record<string, string>;
  /** The pod's Ready condition (every container's readiness probe passed on its last run). */
  ready: boolean;
  terminating: boolean;
  /** The scheduler's reason while the pod has no node (e.g. a disk-pressure taint on every node). */
  unschedulable?: string;
  /** Init containers and containers by name: how each ended, or what it waits for. */
  init: Record<string, ContainerOutcome>;
  containers: Record<string, ContainerOutcome>;
  /** Each container's literal env values from the pod spec, by container name. */
  env: Record<string, Record<string, string>>;
}

interface ContainerJson {
  name?: string;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: { exitCode?: number; message?: string } };
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

type PodJson = {
  metadata?: { name?: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec?: { nodeName?: string; containers?: ContainerSpecJson[] };
  status?: { phase?: string; conditions?: { type?: string; status?: string; reason?: string; message?: string }[]; initContainerStatuses?: ContainerJson[]; containerStatuses?: ContainerJson[] };
};

function outcomes(statuses: ContainerJson[] | undefined): Record<string, ContainerOutcome> {
  return Object.fromEntries(
    (statuses ?? []).map((status) => {
      const terminated = status.state?.terminated;
      const result: ContainerOutcome = { running: status.state?.running !== undefined };
      if (terminated?.exitCode !== undefined) result.exitCode = terminated.exitCode;
      if (terminated?.message) result.message = terminated.message;
      if (status.state?.waiting?.reason) result.waitingReason = status.state.waiting.reason;
      if (status.state?.waiting?.message) result.waitingMessage = status.state.waiting.message;
      if (status.restartCount) result.restarts = status.restartCount;
      const last = status.lastState?.terminated;
      if (last) result.lastTermination = { reason: last.reason ?? 'unknown', ...(last.exitCode !== undefined ? { exitCode: last.exitCode } : {}) };
      return [status.name ?? '', result];
    }),
  );
}

/** A label map as kubectl's --selector syntax: `k1=v1,k2=v2`. */
export const labelSelector = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

/** `kubectl get pods --selector ... -o json`, summarised with each container's outcome and readiness. */
export async function listPods(run: Runner, context: string, namespace: string, selector: string): Promise<PodSummary[]> {
  const args = ['--context', context, '--namespace', namespace, 'get', 'pods', '--selector', selector, '--output', 'json'];
  const action = `list pods ${selector} in namespace ${namespace}`;
  const result = ensureOk(KUBECTL, action, await run('kubectl', args, { timeoutMs: QUICK_MS }), unreachableFix(context), QUICK_MS);
  const list = parseJson<{ items?: PodJson[] }>(KUBECTL, action, result.stdout);
  return (list.items ?? []).map(podSummary);
}

function podSummary(pod: PodJson): PodSummary {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const unschedulable = scheduled?.status === 'False' ? scheduled.message || scheduled.reason : undefined;
  return {
    name: pod.metadata?.name ?? '',
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    phase: pod.status?.phase ?? 'Unknown',
    annotations: pod.metadata?.annotations ?? {},
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    terminating: pod.metadata?.deletionTimestamp !== undefined,
    ...(unschedulable ? { unschedulable } : {}),
    init: outcomes(pod.status?.initContainerStatuses),
    containers: outcomes(pod.status?.containerStatuses),
    env: literalEnvByContainer(pod.spec?.containers),
  };
}

/** One pod, summarised as listPods does; undefined when it does not exist. */
export async function getPodSummary(run: Runner, context: string, namespace: string, name: string): Promise<PodSummary | undefined> {
  const pod = await getJson<PodJson>(run, context, namespace, 'pod', name);
  return pod ? podSummary(pod) : undefined;
}

export interface PodEvent { type: string; reason: string; message: string; count: number; last: string }

/** A pod's events, oldest first (what `kubectl describe pod` lists under Events). */
export async function podEvents(run: Runner, context: string, namespace: string, name: string): Promise<PodEvent[]> {
  const args = ['--context', context, '--namespace', namespace, 'get', 'events', '--field-selector', `involvedObject.kind=Pod,involvedObject.name=${name}`, '--output', 'json'];
  const action = `read the events of pod ${name} in namespace ${namespace}`;
  const result = ensureOk(KUBECTL, action, await run('kubectl', args, { timeoutMs: QUICK_MS }), unreachableFix(context), QUICK_MS);
  type EventJson = { type?: string; reason?: string; message?: string; count?: number; lastTimestamp?: string; eventTime?: string; metadata?: { creationTimestamp?: string } };
  const list = parseJson<{ items?: EventJson[] }>(KUBECTL, action, result.stdout);
  return (list.items ?? [])
    .map((e) => ({ type: e.type ?? '', reason: e.reason ?? '', message: e.message ?? '', count: e.count ?? 1, last: e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '' }))
    .sort((a, b) => a.last.localeCompare(b.last));
}

export interface NodeRole {
  name: string;
  controlPlane: boolean;
  /** status.nodeInfo.kubeletVersion, e.g. `v1.31.5+k3s1` or `v1.31.5+rke2r1`; '' when not reported. */
  kubeletVersion: string;
  annotations: Record<string, string>;
}

/** Node names and whether each is a server (control plane): k3s restarts as `k3s` there, `k3s-agent` elsewhere. */
export async function getNodeRoles(run: Runner, context: string): Promise<NodeRole[]> {
  const list = await getJson<{
    items?: { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; status?: { nodeInfo?: { kubeletVersion?: string } } }[];
  }>(run, context, undefined, 'nodes');
  return (list?.items ?? []).map((item) => {
    const labels = item.metadata?.labels ?? {};
    return {
      name: item.metadata?.name ?? '',
      controlPlane: labels['node-role.kubernetes.io/control-plane'] === 'true' || labels['node-role.kubernetes.io/master'] === 'true',
      kubeletVersion: item.status?.nodeInfo?.kubeletVersion ?? '',
      annotations: item.metadata?.annotations ?? {},
    };
  });
}
