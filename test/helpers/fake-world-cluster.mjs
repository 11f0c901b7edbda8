// @ts-check
/**
 * The state of the model of docker, k3d and kubectl (fake-world.mjs adds docker and k3d): the cluster,
 * its nodes, the kubeconfig, the applied objects and the verify pod, and what kubectl answers about them.
 */
import { createRequire } from 'node:module';

// Loaded on first use: most calls need no YAML, and each fake-bin call is a new process.
/** @type {typeof import('yaml') | undefined} */
let yamlModule;
export const yaml = () => (yamlModule ??= /** @type {typeof import('yaml')} */ (createRequire(import.meta.url)('yaml')));

export const SERVICE_IP = '10.43.17.5';

/**
 * @typedef {import('./recording-runner.js').RecordedCall} Call
 * @typedef {import('./recording-runner.js').Reply} Reply
 * @typedef {{ phase: string, waitingReason?: string, message?: string }} PodPhase
 * @typedef {{ kind: string, metadata: { name: string } }} KubeObject
 * @typedef {{ type: string, status: string, reason: string, message: string }} NodeCondition
 * @typedef {object} RegistryPod The registry's pod, as `get pods --selector` lists it (doctor).
 * @property {string} name
 * @property {string} [node] default the server node
 * @property {boolean} ready
 * @property {number} restarts
 * @property {{ reason: string, exitCode: number }} [lastTermination]
 * @property {{ reason: string, message?: string }} [waiting]
 * @property {string} [unschedulable] the scheduler's message while no node takes it
 *
 * @typedef {object} FakeCluster
 * @property {string} name
 * @property {number} agents
 * @property {boolean} running
 * @property {string} serverId
 * @property {Record<string, string>} labels
 * @property {number} [hostPort]
 * @property {Record<string, 'exited' | 'restarting' | 'paused'>} [down] Nodes (container names, the
 *   loadbalancer included) that are down while the cluster runs: exited, restarting after a crash, or
 *   paused (docker then still says State.Running true, as k3d's list does).
 * @property {string[]} [removed] Node containers already deleted (a `k3d cluster delete` killed half-way).
 * @property {string} [image] The node image (default rancher/k3s:v1.31.5-k3s1).
 * @property {Record<string, string>} [startedAt] docker's State.StartedAt per node container (default one fixed time): a change is a restart.
 *
 * @typedef {object} FakeWorldOptions
 * @property {boolean} [dockerRunning]
 * @property {boolean} [k3dInstalled]
 * @property {string} [k3dVersion] default 5.6.0
 * @property {string} [k3sVersion] the k3s version `k3d version` names (default v1.27.4-k3s1)
 * @property {string} [kubectlVersion] default v1.29.0
 * @property {boolean} [kubectlInstalled]
 * @property {FakeCluster} [cluster]
 * @property {Record<number, string>} [publishedBy] Host ports some other container publishes: port -> container name.
 * @property {string} [volumeSize] What `docker system df` says each volume holds (default 0B).
 * @property {boolean} [multiFileKubeconfig] KUBECONFIG lists several files: k3d's create only warns and `kubeconfig merge -d` fails.
 *
 * @typedef {object} FakeWorldState What changes as the tools run: what fake-tool.mjs keeps between its processes.
 * @property {FakeCluster} [cluster]
 * @property {Record<string, Record<string, string>>} volumes
 * @property {Record<string, unknown>} applied
 * @property {boolean} contextInKubeconfig
 * @property {PodPhase} [pod]
 * @property {number} podStep
 * @property {number} hostsLineMissingReads
 * @property {number} ids
 * @property {import('./fake-world-docker.mjs').FakeDockerState} [docker]
 */

/** @param {string} text @returns {KubeObject[]} */
const objectsOf = (text) => yaml().parseAllDocuments(text).map((d) => /** @type {KubeObject} */ (d.toJS())).filter(Boolean);
/** @param {KubeObject} o */
const keyOf = (o) => `${o.kind.toLowerCase()}/${o.metadata.name}`;

export class ClusterModel {
  /** @param {FakeWorldOptions} [options] */
  constructor(options = {}) {
    /** @readonly */
    this.options = options;
    /** @type {FakeCluster | undefined} */
    this.cluster = options.cluster ? { ...options.cluster } : undefined;
    /** @readonly @type {Map<string, Record<string, string>>} */
    this.volumes = new Map();
    /** @readonly Every k3d config passed to `k3d cluster create`, parsed. @type {unknown[]} */
    this.k3dConfigs = [];
    /** @readonly Every YAML stream passed to kubectl on stdin (apply, create, get -f -). @type {string[]} */
    this.kubectlStdin = [];
    /** @type {Map<string, unknown>} */
    this.applied = new Map();
    this.contextInKubeconfig = Boolean(this.cluster);
    /** @type {PodPhase | undefined} */
    this.pod = undefined;
    this.podLog = 'hello world from the k3s-devreg registry';
    /** Reads of a node's /etc/hosts that still lack our line (docker rebuilt it at a restart; the DaemonSet has not run yet). */
    this.hostsLineMissingReads = 0;
    /** Answers a pod goes through on successive `get pod` calls before its final one. @type {PodPhase[]} */
    this.podPhases = [{ phase: 'Pending', waitingReason: 'ContainerCreating' }, { phase: 'Succeeded' }];
    /** @readonly Overrides: the first whose prefix matches the command line answers instead of the world. @type {{ prefix: string, reply: Reply | ((call: Call) => Reply) }[]} */
    this.overrides = [];
    /** @protected */
    this.ids = 0;
    /** Which of podPhases the next `get pod` answers. */
    this.podStep = 0;
    /** The registry's pod, listed once its Deployment is applied. @type {RegistryPod} */
    this.registryPod = { name: 'registry-5f6d8c9b7-x2x4q', ready: true, restarts: 0 };
    /** Conditions a node reports beside Ready (DiskPressure, ...), by node name. @type {Record<string, NodeCondition[]>} */
    this.nodeConditions = {};
    /** Pods other than verify's, by namespace/name, as `get pod NAME -o json` prints them. @type {Record<string, object>} */
    this.pods = {};
    /** Events by namespace/pod name, as `get events -o json` lists them. @type {Record<string, object[]>} */
    this.events = {};
  }

  /** docker's State of a node container: Running stays true while docker restarts it. @param {string} name */
  state(name) {
    const c = this.cluster;
    if (!c?.running) return { Running: false, Status: 'exited' };
    const down = c.down?.[name];
    return { Running: down !== 'exited', Status: down ?? 'running' };
  }

  /** @returns {string[]} */
  nodes() {
    const c = this.cluster;
    if (!c) return [];
    const all = [`k3d-${c.name}-server-0`, ...Array.from({ length: c.agents }, (_, i) => `k3d-${c.name}-agent-${i}`)];
    return all.filter((name) => !c.removed?.includes(name));
  }

  /** @protected @param {string[]} args @param {string | undefined} input @returns {Reply} */
  kubectl(args, input) {
    if (this.options.kubectlInstalled === false) return { exitCode: 127, notFound: true };
    const line = args.join(' ');
    const c = this.cluster;
    const known = this.contextInKubeconfig && c ? `k3d-${c.name}` : undefined;
    if (line === 'version --client --output json') return { stdout: JSON.stringify({ clientVersion: { gitVersion: this.options.kubectlVersion ?? 'v1.29.0' } }) };
    if (line === 'config current-context') return known ? { stdout: known } : { exitCode: 1, stderr: 'error: current-context is not set' };
    if (line === 'config view --output json') {
      return { stdout: JSON.stringify({ kind: 'Config', contexts: known ? [{ name: known }] : [], ...(known ? { 'current-context': known } : {}) }) };
    }
    if (args[0] === 'config' && args[1] === 'get-contexts') {
      return this.contextInKubeconfig ? { stdout: args[2] ?? '' } : { exitCode: 1, stderr: `error: context ${args[2]} not found` };
    }
    if (args[0] !== '--context' || !c || args[1] !== `k3d-${c.name}`) return { exitCode: 1, stderr: `error: context "${args[1]}" does not exist` };
    if (!c.running) return { exitCode: 1, stderr: 'The connection to the server 0.0.0.0:6443 was refused - did you specify the right host or port?' };
    const rest = args.slice(2);
    const restLine = rest.join(' ');
    if (restLine === 'apply --filename -') {
      const objects = objectsOf(input ?? '');
      for (const o of objects) this.applied.set(keyOf(o), o);
      return { stdout: objects.map((o) => `${keyOf(o)} created`).join('\n') };
    }
    if (restLine === 'get --filename - --ignore-not-found --output json') {
      // What the API server returns for applied objects: rolled out, the Service with its ClusterIP.
      // The stored object, as changed since its apply (e.g. by `kubectl set env`), not the one asked about.
      const items = objectsOf(input ?? '').filter((o) => this.applied.has(keyOf(o))).map((o) => this.live(/** @type {any} */ (this.applied.get(keyOf(o)))));
      return { stdout: JSON.stringify(items.length === 1 ? items[0] : { kind: 'List', items }) };
    }
    if (restLine === 'get --filename - --ignore-not-found --output name') {
      return { stdout: objectsOf(input ?? '').filter((o) => this.applied.has(keyOf(o))).map(keyOf).join('\n') };
    }
    if (restLine === 'create --filename -') {
      this.pod = this.podPhases[0];
      this.podStep = 0;
      return { stdout: 'pod/k3s-devreg-verify created' };
    }
    if (rest[2] === 'rollout' && rest[3] === 'status') return { stdout: `${rest[4]} successfully rolled out` };
    if (rest[2] === 'get' && rest[3] === 'service') return this.applied.has('service/registry') ? { stdout: JSON.stringify({ spec: { clusterIP: SERVICE_IP } }) } : { stdout: '' };
    if (rest[2] === 'get' && rest[3] === 'deployment') {
      return this.applied.has('deployment/registry') ? { stdout: JSON.stringify({ spec: { replicas: 1 }, status: { readyReplicas: 1, updatedReplicas: 1 } }) } : { stdout: '' };
    }
    if (rest[0] === 'get' && rest[1] === 'nodes') {
      /** @param {string} name */
      const conditions = (name) => [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }, ...(this.nodeConditions[name] ?? [])];
      return { stdout: JSON.stringify({ items: this.nodes().map((name) => ({ metadata: { name }, status: { conditions: conditions(name) } })) }) };
    }
    if (rest[2] === 'get' && rest[3] === 'pods' && rest[4] === '--selector') {
      const registry = rest[1] === 'container-registry' && rest[5]?.includes('app.kubernetes.io/name=registry') && this.applied.has('deployment/registry');
      return { stdout: JSON.stringify({ kind: 'List', items: registry ? [this.registryPodJson(c.name)] : [] }) };
    }
    if (rest[2] === 'get' && rest[3] === 'events') {
      const name = /involvedObject\.name=([^,]+)/.exec(rest[5] ?? '')?.[1];
      return { stdout: JSON.stringify({ kind: 'List', items: this.events[`${rest[1]}/${name}`] ?? [] }) };
    }
    if (rest[2] === 'get' && rest[3] === 'pod' && this.pods[`${rest[1]}/${rest[4]}`]) return { stdout: JSON.stringify(this.pods[`${rest[1]}/${rest[4]}`]) };
    if (rest[2] === 'get' && rest[3] === 'pod') {
      if (!this.pod) return { stdout: '' };
      const pod = this.podPhases[Math.min(this.podStep, this.podPhases.length - 1)] ?? { phase: 'Succeeded' };
      this.podStep++;
      /** @type {Record<string, unknown>} */
      const status = { phase: pod.phase };
      if (pod.waitingReason) status.containerStatuses = [{ state: { waiting: { reason: pod.waitingReason, message: pod.message } } }];
      return { stdout: JSON.stringify({ spec: { nodeName: `k3d-${c.name}-agent-0` }, status }) };
    }
    if (rest[2] === 'logs') return { stdout: this.podLog };
    if (rest[2] === 'delete' && rest[3] === 'pod') {
      this.pod = undefined;
      return { stdout: '' };
    }
    throw new Error(`unscripted kubectl ${line}`);
  }

  /** The registry pod as kubectl prints it. @private @param {string} cluster @returns {object} */
  registryPodJson(cluster) {
    const p = this.registryPod;
    const scheduled = p.unschedulable ? { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: p.unschedulable } : { type: 'PodScheduled', status: 'True' };
    const state = p.waiting ? { waiting: p.waiting } : p.unschedulable ? undefined : { running: { startedAt: '2026-12-01T08:01:00Z' } };
    const lastState = p.lastTermination ? { terminated: p.lastTermination } : {};
    return {
      metadata: { name: p.name, namespace: 'container-registry' },
      // The pod's containers are its Deployment's template as it stands (env changes included).
      spec: { ...(p.unschedulable ? {} : { nodeName: p.node ?? `k3d-${cluster}-server-0` }), containers: /** @type {any} */ (this.applied.get('deployment/registry'))?.spec?.template?.spec?.containers ?? [] },
      status: {
        phase: p.ready ? 'Running' : 'Pending',
        conditions: [scheduled, { type: 'Ready', status: p.ready ? 'True' : 'False' }],
        ...(state ? { containerStatuses: [{ name: 'registry', ready: p.ready, restartCount: p.restarts, state, lastState }] } : {}),
      },
    };
  }

  /** How an applied object reads back: generation 1, observed, every replica updated and available. @private @param {KubeObject} o @returns {object} */
  live(o) {
    const metadata = { ...o.metadata, generation: 1 };
    if (o.kind === 'Deployment') return { ...o, metadata, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, readyReplicas: 1 } };
    if (o.kind === 'DaemonSet') {
      const n = this.nodes().length;
      return { ...o, metadata, status: { observedGeneration: 1, desiredNumberScheduled: n, updatedNumberScheduled: n, numberAvailable: n, numberReady: n } };
    }
    if (o.kind === 'Service') return { ...o, spec: { .../** @type {{ spec?: object }} */ (o).spec, clusterIP: SERVICE_IP } };
    return o;
  }
}
