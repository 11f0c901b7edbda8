/**
 * Checks made before anything is created: the tools, the cluster of the same name (ours is reused,
 * anyone else's is refused) and the host port. Each check reads; none changes anything.
 */
import { UserError } from '../errors.js';
import { CLUSTER_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, NODE_PORT, serverContainer, type ClusterSpec } from '../spec.js';
import { containersPublishing, dockerServerVersion, inspectContainers, type ContainerInfo } from '../tools/docker.js';
import { K3D, NOT_INSTALLED } from '../tools/failure.js';
import { k3dVersion, listClusters, type K3dCluster, type K3dVersion } from '../tools/k3d.js';
import { kubectlClientVersion } from '../tools/kubectl.js';
import type { Runner } from '../tools/run.js';
import { refuseCaRegression } from '../k3s-versions.js';
import { isPortFree } from './port.js';

/** The first k3d release that reads `apiVersion: k3d.io/v1alpha5` config files. */
export const MIN_K3D_VERSION = '5.5.0';

export interface Tools {
  docker: string;
  k3d: K3dVersion;
  kubectl: string;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export async function checkDocker(run: Runner): Promise<string> {
  return dockerServerVersion(run);
}

export async function checkK3d(run: Runner): Promise<K3dVersion> {
  const version = await k3dVersion(run);
  if (compareVersions(version.k3d, MIN_K3D_VERSION) < 0) {
    throw new UserError(
      `k3d v${version.k3d} is too old: k3s-devreg needs v${MIN_K3D_VERSION} or newer (the first to read k3d.io/v1alpha5 config files)`,
      K3D.install,
    );
  }
  return version;
}

export async function checkKubectl(run: Runner): Promise<string> {
  return kubectlClientVersion(run);
}

/**
 * All three at once; docker's failure is reported first: k3d cannot work without it, and its message
 * is the clearest. Tools that are all missing are named in one line, so one install round fixes them.
 */
export async function checkTools(run: Runner): Promise<Tools> {
  const [docker, k3d, kubectl] = await Promise.allSettled([checkDocker(run), checkK3d(run), checkKubectl(run)]);
  const failures = [docker, k3d, kubectl].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const missing = failures.filter((e): e is UserError => e instanceof UserError && e.problem.endsWith(NOT_INSTALLED));
  if (missing.length > 1 && missing.length === failures.length) {
    const names = missing.map((e) => e.problem.slice(0, -NOT_INSTALLED.length));
    const listed = `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    throw new UserError(`${listed} are not installed (or not on PATH)`, missing.map((e) => e.fix).join('; '));
  }
  if (failures.length > 0) throw failures[0];
  return { docker: (docker as PromiseFulfilledResult<string>).value, k3d: (k3d as PromiseFulfilledResult<K3dVersion>).value, kubectl: (kubectl as PromiseFulfilledResult<string>).value };
}

/** What exists of a cluster of this name, read from k3d and docker. */
export interface ClusterFacts {
  name: string;
  cluster?: K3dCluster;
  /** k3d-<name>-server-0, which carries our docker labels when we created the cluster. */
  server?: ContainerInfo;
  /** k3d-<name>-serverlb, which publishes the registry's host port. */
  loadbalancer?: ContainerInfo;
  /** A remaining agent, looked at only when server-0 is gone (an interrupted delete): it carries the same labels. */
  agent?: ContainerInfo;
  /** Every node container docker knows of, by name (k3s nodes and the loadbalancer). */
  containers: Map<string, ContainerInfo>;
  /** Other containers asked about in the same `docker container inspect` (the pull-through cache), by name. */
  others?: Map<string, ContainerInfo>;
}

export const loadbalancerContainer = (name: string) => `k3d-${name}-serverlb`;

/** The node containers k3d names for a cluster with this many agents. */
export const expectedNodes = (name: string, agents: number): string[] => [
  serverContainer(name),
  loadbalancerContainer(name),
  ...Array.from({ length: agents }, (_, i) => `k3d-${name}-agent-${i}`),
];

/**
 * k3d's list and one docker inspect of the nodes, at the same time: the node names are k3d's
 * (`expectedAgents` says how many agents to expect); a node the list shows beyond them is inspected after.
 */
export async function inspectCluster(run: Runner, name: string, expectedAgents = 1, alsoInspect: readonly string[] = []): Promise<ClusterFacts> {
  const guessed = expectedNodes(name, expectedAgents);
  // One docker call for the nodes k3d would name and whatever else the caller needs to know about.
  const [clusters, all] = await Promise.all([listClusters(run), inspectContainers(run, [...guessed, ...alsoInspect])]);
  const others = new Map([...all].filter(([container]) => alsoInspect.includes(container)));
  const inspected = new Map([...all].filter(([container]) => !alsoInspect.includes(container)));
  const cluster = clusters.find((c) => c.name === name);
  const facts: ClusterFacts = { name, containers: new Map(), others };
  if (!cluster) return facts;
  facts.cluster = cluster;
  const more = cluster.nodes.map((n) => n.name).filter((n) => !guessed.includes(n));
  facts.containers = new Map([...inspected, ...(more.length > 0 ? await inspectContainers(run, more) : [])]);
  const server = facts.containers.get(serverContainer(name));
  const loadbalancer = facts.containers.get(loadbalancerContainer(name));
  if (server) facts.server = server;
  if (loadbalancer) facts.loadbalancer = loadbalancer;
  const agentName = server ? undefined : cluster.nodes.find((n) => n.role === 'agent')?.name;
  const agent = agentName ? facts.containers.get(agentName) : undefined;
  if (agent) facts.agent = agent;
  return facts;
}

export function isOurs(facts: ClusterFacts): boolean {
  const labels = (facts.server ?? facts.agent)?.labels ?? {};
  return labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && labels[CLUSTER_LABEL] === facts.name;
}

/** The nodes a cluster needs up: k3s servers and agents, and the loadbalancer that publishes the registry port. */
const NEEDED_ROLES = new Set(['server', 'agent', 'loadbalancer']);

/**
 * Needed nodes that are not up, e.g. `k3d-devreg-serverlb (exited)`. k3d's own counts leave out the
 * loadbalancer and count a node docker keeps restarting after a crash, or has paused, as running
 * (docker holds State.Running true then: moby container/state.go SetRestarting, SetPaused).
 */
export function nodesDown(facts: ClusterFacts): string[] {
  return (facts.cluster?.nodes ?? [])
    .filter((n) => NEEDED_ROLES.has(n.role) && (!n.running || n.status === 'restarting' || n.status === 'paused'))
    .map((n) => `${n.name} (${n.status || 'not running'})`);
}

/** True when some k3s node runs (or restarts): it keeps the registries.yaml it started with. */
export function someK3sNodeRuns(facts: ClusterFacts): boolean {
  return (facts.cluster?.nodes ?? []).some((n) => (n.role === 'server' || n.role === 'agent') && n.running);
}

export function isRunning(facts: ClusterFacts): boolean {
  const c = facts.cluster;
  return Boolean(c && c.serversCount > 0 && c.serversRunning === c.serversCount && c.agentsRunning === c.agentsCount && nodesDown(facts).length === 0);
}

/** A k3d cluster of this name that k3s-devreg did not create is never touched. */
export function refuseForeign(facts: ClusterFacts): void {
  const labelled = facts.server ?? facts.agent;
  if (facts.cluster && !labelled) {
    throw new UserError(
      `k3d lists a cluster named ${facts.name} but its node ${serverContainer(facts.name)} is gone`,
      `delete what is left with \`k3d cluster delete ${facts.name}\` (only if it is yours), then run k3s-devreg up again`,
    );
  }
  if (facts.cluster && !isOurs(facts)) {
    throw new UserError(
      `a k3d cluster named ${facts.name} already exists and was not created by k3s-devreg (${labelled?.name ?? serverContainer(facts.name)} lacks the ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE} label)`,
      `choose another name with --name, or delete that cluster yourself (k3d cluster delete ${facts.name}) if you no longer need it`,
    );
  }
}

/** Ours, but without its server (a `down` stopped half-way): nothing but deleting it helps. */
export function refuseServerless(facts: ClusterFacts): void {
  if (facts.cluster && !facts.server) {
    throw new UserError(
      `the cluster ${facts.name} has lost its server node ${serverContainer(facts.name)} (was a down interrupted?)`,
      `run k3s-devreg down to delete what is left (credentials, CA and images are kept), then k3s-devreg up`,
    );
  }
}

/** The host port the cluster's loadbalancer publishes for the registry NodePort, if any. */
export function publishedRegistryPort(facts: ClusterFacts): number | undefined {
  return facts.loadbalancer?.ports[`${NODE_PORT}/tcp`]?.[0]?.hostPort;
}

/** k3d cannot change an existing cluster's agents or ports: say so instead of running a different shape. */
export function checkClusterShape(spec: ClusterSpec, facts: ClusterFacts): void {
  if (!facts.cluster) return;
  const recreate = `run k3s-devreg down and then up to recreate it (credentials, CA and pushed images are kept), or keep the old setting`;
  const published = publishedRegistryPort(facts);
  if (published !== undefined && published !== spec.hostPort) {
    throw new UserError(`the cluster ${spec.name} publishes the registry on port ${published}, not ${spec.hostPort}`, recreate);
  }
  if (facts.cluster.agentsCount !== spec.agents) {
    throw new UserError(`the cluster ${spec.name} has ${facts.cluster.agentsCount} agent node(s), not ${spec.agents}`, recreate);
  }
}

/**
 * The k3s an existing cluster runs (k3d cannot change it). One that ignores our CA is refused; another
 * than the one asked for is said, since only a new cluster can change it.
 */
export function checkClusterImage(spec: ClusterSpec, facts: ClusterFacts): string | undefined {
  const image = facts.server?.image;
  if (!facts.cluster || !image) return undefined;
  const recreate = `run k3s-devreg down and then up to recreate it with ${spec.k3sImage} (credentials, CA and pushed images are kept)`;
  refuseCaRegression(image, `the running cluster ${spec.name}`, recreate);
  return image === spec.k3sImage ? undefined : `the cluster ${spec.name} runs ${image}, not ${spec.k3sImage}: ${recreate}`;
}

/**
 * The host port must be free, or held by this cluster's own loadbalancer. When someone else holds
 * it, the message names the container (if docker knows it).
 */
export async function checkHostPort(
  run: Runner,
  spec: ClusterSpec,
  facts: ClusterFacts,
  probe: (port: number) => Promise<boolean> = isPortFree,
): Promise<'free' | 'ours'> {
  if (facts.cluster && isOurs(facts) && publishedRegistryPort(facts) === spec.hostPort) return 'ours';
  if (await probe(spec.hostPort)) return 'free';
  const holders = (await containersPublishing(run, spec.hostPort)).filter((n) => n !== loadbalancerContainer(spec.name));
  const who = holders.length > 0 ? `the container ${holders.join(', ')}` : 'another program';
  throw new UserError(
    `port ${spec.hostPort} on 127.0.0.1 is already in use by ${who}`,
    holders.length > 0
      ? `stop it (docker stop ${holders[0]}) or choose another port with --port`
      : `stop that program (see \`lsof -i :${spec.hostPort}\` or \`ss -ltnp\`) or choose another port with --port`,
  );
}
