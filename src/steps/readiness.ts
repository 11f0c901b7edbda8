/**
 * Waits, each bounded and naming what did not become ready: the registry Deployment and the
 * hosts DaemonSet roll out, then every node's /etc/hosts maps container-registry.local to the
 * registry Service's ClusterIP (containerd on the node resolves through that file).
 */
import { ToolError } from '../errors.js';
import { REGISTRY_HOST, NAMESPACE, SERVICE_NAME } from '../spec.js';
import { selectorLabels } from '../render/manifests/common.js';
import { HOSTS_NAME } from '../render/manifests/hosts.js';
import { execInContainer } from '../tools/docker.js';
import type { K3dCluster } from '../tools/k3d.js';
import { rolloutStatus, type LiveObject } from '../tools/kubectl.js';
import { getServiceClusterIp, labelSelector, listPods } from '../tools/kubectl-objects.js';
import type { Runner } from '../tools/run.js';
import { probeProblem, probeRegistry } from './registry-probe.js';
import { waitFor, type Clock } from './wait.js';

export const REGISTRY_DEPLOYMENT = `deployment/${SERVICE_NAME}`;
export const HOSTS_DAEMONSET = `daemonset/${HOSTS_NAME}`;

/** The k3s nodes (servers and agents) of a cluster, as docker container names. */
export function k3sNodes(cluster: K3dCluster | undefined): string[] {
  return (cluster?.nodes ?? []).filter((n) => n.role === 'server' || n.role === 'agent').map((n) => n.name).sort();
}

/** What `kubectl rollout status` waits for, read off an object's status: every replica updated and available. */
export function rolledOut(object: LiveObject | undefined): boolean {
  const status = object?.status;
  if (!object || !status || (object.metadata.generation ?? 0) > (status.observedGeneration ?? -1)) return false;
  if (object.kind === 'Deployment') {
    const wanted = object.spec?.replicas ?? 1;
    return status.updatedReplicas === wanted && status.replicas === wanted && status.availableReplicas === wanted;
  }
  if (object.kind === 'DaemonSet') {
    const wanted = status.desiredNumberScheduled ?? 0;
    return wanted > 0 && status.updatedNumberScheduled === wanted && status.numberAvailable === wanted;
  }
  return false;
}

const find = (live: readonly LiveObject[] | undefined, kind: string, name: string) => live?.find((o) => o.kind === kind && o.metadata.name === name);

/** The hosts DaemonSet has rolled out with a ready pod on each of `nodes` nodes (its probe checks the line). */
export const hostsReadyOnEveryNode = (live: readonly LiveObject[] | undefined, nodes: number): boolean => {
  const ds = find(live, 'DaemonSet', HOSTS_NAME);
  return nodes > 0 && rolledOut(ds) && ds?.status?.desiredNumberScheduled === nodes;
};

/** The registry Service's ClusterIP, when the objects read already hold it. */
export const serviceIpOf = (live: readonly LiveObject[] | undefined): string | undefined => {
  const ip = find(live, 'Service', SERVICE_NAME)?.spec?.clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
};

/** Waits for the registry and the hosts DaemonSet; `live` (objects just read) skips what has rolled out already. */
export async function waitForRollouts(run: Runner, context: string, timeoutSeconds: number, live?: readonly LiveObject[]): Promise<void> {
  const describe = (what: string, resource: string) =>
    `see why with \`kubectl --context ${context} --namespace ${NAMESPACE} describe ${resource}\` and its pods' events (a registry image that cannot be pulled is the usual cause)`;
  for (const [what, resource, component, kind] of [
    ['the registry', REGISTRY_DEPLOYMENT, SERVICE_NAME, 'Deployment'],
    ['the hosts-entry DaemonSet', HOSTS_DAEMONSET, HOSTS_NAME, 'DaemonSet'],
  ] as const) {
    if (rolledOut(find(live, kind, component))) continue;
    try {
      await rolloutStatus(run, context, NAMESPACE, resource, timeoutSeconds);
    } catch (error) {
      if (!(error instanceof ToolError)) throw error;
      const why = await stuckPodReason(run, context, selectorOf(component)).catch(() => undefined);
      throw new ToolError(
        `${what} (${resource} in namespace ${NAMESPACE}) did not become ready within ${timeoutSeconds}s: ${error.problem}${why ? `; ${why}` : ''}`,
        describe(what, resource),
      );
    }
  }
}

export const selectorOf = (component: string): string => labelSelector(selectorLabels(component));

/**
 * Why the first pod that is not ready is stuck, in the kubelet's or the scheduler's words: a rollout
 * timeout alone does not say whether an image cannot be pulled, the registry crashes, or no node
 * accepts the pod (a disk-pressure taint when Docker Desktop's disk is nearly full).
 */
export async function stuckPodReason(run: Runner, context: string, selector: string): Promise<string | undefined> {
  const pod = (await listPods(run, context, NAMESPACE, selector)).find((p) => !p.ready && !p.terminating);
  if (!pod) return undefined;
  if (pod.unschedulable) return `pod ${pod.name} cannot be placed on a node: ${pod.unschedulable.trim().replace(/\.$/, '')}`;
  for (const [name, c] of [...Object.entries(pod.init), ...Object.entries(pod.containers)]) {
    if (c.waitingReason && c.waitingReason !== 'PodInitializing') {
      return `pod ${pod.name}${pod.node ? ` on ${pod.node}` : ''}: container ${name} waits: ${c.waitingReason}${c.waitingMessage ? ` (${c.waitingMessage})` : ''}`;
    }
  }
  return `pod ${pod.name} is ${pod.phase} and not ready`;
}

/** The address a hosts file gives REGISTRY_HOST (the first matching line wins, as in libc), if any. */
export function hostsAddressOf(hostsText: string, host = REGISTRY_HOST): string | undefined {
  let found: string | undefined;
  for (const raw of hostsText.split('\n')) {
    const [fields = ''] = raw.split('#');
    const [address, ...names] = fields.trim().split(/\s+/);
    if (address && names.includes(host)) found ??= address;
  }
  return found;
}

export interface HostsCheck {
  node: string;
  ok: boolean;
  detail: string;
}

export async function checkHostsEntries(run: Runner, nodes: readonly string[], ip: string | undefined): Promise<HostsCheck[]> {
  return Promise.all(
    nodes.map(async (node): Promise<HostsCheck> => {
      try {
        const address = hostsAddressOf(await execInContainer(run, node, ['cat', '/etc/hosts']));
        if (!address) return { node, ok: false, detail: `no ${REGISTRY_HOST} line` };
        if (ip && address !== ip) return { node, ok: false, detail: `${REGISTRY_HOST} -> ${address}, but the registry Service is ${ip}` };
        return { node, ok: true, detail: `${REGISTRY_HOST} -> ${address}` };
      } catch (error) {
        if (error instanceof ToolError) return { node, ok: false, detail: `cannot read /etc/hosts (${error.problem})` };
        throw error;
      }
    }),
  );
}

export interface HostsWaitRequest {
  run: Runner;
  context: string;
  /** The registry Service's ClusterIP, when already known (otherwise read from the cluster). */
  ip?: string;
  nodes: readonly string[];
  clock: Clock;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Waits until every node maps REGISTRY_HOST to the registry Service's ClusterIP; returns that IP. */
export async function waitForHostsEntries(request: HostsWaitRequest): Promise<string> {
  const { run, context, nodes } = request;
  if (nodes.length === 0) {
    throw new ToolError(`k3d lists no server or agent node for ${context}`, 'check `k3d cluster list` and `docker ps -a --filter name=k3d-`, then run k3s-devreg up again');
  }
  let ip = request.ip;
  return waitFor({
    what: `the ${REGISTRY_HOST} entry in /etc/hosts on every node (${nodes.join(', ')})`,
    timeoutMs: request.timeoutMs ?? 90_000,
    intervalMs: 2_000,
    clock: request.clock,
    ...(request.signal ? { signal: request.signal } : {}),
    fix: `look at the ${HOSTS_NAME} pods: kubectl --context ${context} --namespace ${NAMESPACE} logs daemonset/${HOSTS_NAME}`,
    probe: async () => {
      ip ??= await getServiceClusterIp(run, context, NAMESPACE, SERVICE_NAME);
      if (!ip) return { ready: false, seen: `the Service ${SERVICE_NAME} has no ClusterIP yet` };
      const checks = await checkHostsEntries(run, nodes, ip);
      const missing = checks.filter((c) => !c.ok);
      if (missing.length === 0) return { ready: true, value: ip };
      return { ready: false, seen: missing.map((c) => `${c.node}: ${c.detail}`).join('; ') };
    },
  });
}

export interface RegistryAnswerRequest {
  port: number;
  caCert: string;
  credentials: { username: string; password: string };
  clock: Clock;
  signal: AbortSignal;
  timeoutMs: number;
  probe?: typeof probeRegistry;
}

/**
 * After the nodes (re)started, a Deployment can still show its Ready status from before the stop
 * while the new registry pod is starting: only an answer on the host port says it serves again.
 */
export async function waitForRegistryAnswer(request: RegistryAnswerRequest): Promise<void> {
  const probe = request.probe ?? probeRegistry;
  await waitFor({
    what: `the registry on https://localhost:${request.port}/v2/`,
    timeoutMs: request.timeoutMs,
    intervalMs: 1_000,
    clock: request.clock,
    signal: request.signal,
    fix: 'run k3s-devreg status to see which part is not healthy',
    probe: async () => {
      try {
        const result = await probe({ port: request.port, caCert: request.caCert, credentials: request.credentials, timeoutMs: 3_000 });
        const problem = probeProblem(result);
        // 503 or 502 from the loadbalancer while no registry pod is ready: keep waiting; a wrong password is final.
        if (!problem) return { ready: true, value: undefined };
        return { ready: false, fatal: result.anonymous === 401 && result.authenticated === 401, seen: problem };
      } catch (error) {
        if (!(error instanceof ToolError) || /certificate/.test(error.problem)) throw error;
        return { ready: false, seen: error.problem };
      }
    },
  });
}
