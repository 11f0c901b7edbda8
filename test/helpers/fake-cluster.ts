/**
 * A stateful stand-in for docker, k3d and kubectl, answering through recordingRunner the way the
 * real tools answer (same argv, same JSON shapes), so whole commands run in unit tests: `k3d
 * cluster create` makes a cluster from the config file it is given, `kubectl apply` stores the
 * manifests, the hosts entry appears once they are applied, the verify pod succeeds.
 * Every config and manifest passed in is kept for schema checks.
 */
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { recordingRunner, type RecordedCall, type RecordingRunner, type Reply } from './recording-runner.js';

export const SERVICE_IP = '10.43.17.5';

export interface FakeCluster {
  name: string;
  agents: number;
  running: boolean;
  serverId: string;
  labels: Record<string, string>;
  hostPort?: number;
  /**
   * Nodes (container names, the loadbalancer included) that are down while the cluster runs: exited,
   * restarting after a crash, or paused (docker then still says State.Running true, as k3d's list does).
   */
  down?: Record<string, 'exited' | 'restarting' | 'paused'>;
  /** Node containers already deleted (a `k3d cluster delete` killed half-way). */
  removed?: string[];
  /** The node image (default rancher/k3s:v1.31.5-k3s1). */
  image?: string;
  /** docker's State.StartedAt per node container (default one fixed time): a change is a restart. */
  startedAt?: Record<string, string>;
}

export interface FakeWorldOptions {
  dockerRunning?: boolean;
  k3dInstalled?: boolean;
  k3dVersion?: string;
  kubectlInstalled?: boolean;
  cluster?: FakeCluster;
  /** Host ports some other container publishes: port -> container name. */
  publishedBy?: Record<number, string>;
  /** KUBECONFIG lists several files: k3d's create only warns and `kubeconfig merge -d` fails. */
  multiFileKubeconfig?: boolean;
}

export class FakeWorld {
  readonly runner: RecordingRunner;
  cluster: FakeCluster | undefined;
  readonly volumes = new Map<string, Record<string, string>>();
  /** Every k3d config passed to `k3d cluster create`, parsed. */
  readonly k3dConfigs: unknown[] = [];
  /** Every YAML stream passed to kubectl on stdin (apply, create, get -f -). */
  readonly kubectlStdin: string[] = [];
  applied = new Map<string, unknown>();
  contextInKubeconfig = false;
  pod: { phase: string; waitingReason?: string; message?: string } | undefined;
  podLog = 'hello world from the k3s-devreg registry';
  /** Reads of a node's /etc/hosts that still lack our line (docker rebuilt it at a restart; the DaemonSet has not run yet). */
  hostsLineMissingReads = 0;
  /** Answers a pod goes through on successive `get pod` calls before its final one. */
  podPhases: { phase: string; waitingReason?: string; message?: string }[] = [{ phase: 'Pending', waitingReason: 'ContainerCreating' }, { phase: 'Succeeded' }];
  /** Overrides: the first whose prefix matches the command line answers instead of the world. */
  readonly overrides: { prefix: string; reply: Reply | ((call: RecordedCall) => Reply) }[] = [];
  private ids = 0;

  constructor(private readonly options: FakeWorldOptions = {}) {
    this.cluster = options.cluster ? { ...options.cluster } : undefined;
    if (this.cluster) this.contextInKubeconfig = true;
    this.runner = recordingRunner((call) => this.answer(call));
  }

  /** Makes calls whose command line starts with prefix answer with reply (latest first). */
  override(prefix: string, reply: Reply | ((call: RecordedCall) => Reply)): this {
    this.overrides.unshift({ prefix, reply });
    return this;
  }

  /** Puts a running cluster, created by us, with its manifests applied (what a finished `up` leaves). */
  static ourCluster(name: string, hostPort: number, agents = 1): FakeCluster {
    return {
      name,
      agents,
      running: true,
      serverId: 'existing-server-id',
      labels: { 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cluster': name },
      hostPort,
    };
  }

  private answer(call: RecordedCall): Reply {
    const line = [call.file, ...call.args].join(' ');
    for (const o of this.overrides) {
      if (line.startsWith(o.prefix)) return typeof o.reply === 'function' ? o.reply(call) : o.reply;
    }
    if (call.input !== undefined && call.file === 'kubectl') this.kubectlStdin.push(call.input);
    switch (call.file) {
      case 'docker':
        return this.docker(call.args);
      case 'k3d':
        return this.k3d(call.args);
      case 'kubectl':
        return this.kubectl(call.args, call.input);
      default:
        throw new Error(`unscripted program ${line}`);
    }
  }

  private docker(args: string[]): Reply {
    if (this.options.dockerRunning === false) {
      return { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' };
    }
    const line = args.join(' ');
    const c = this.cluster;
    if (line === 'version --format {{.Server.Version}}') return { stdout: '24.0.7' };
    if (args[0] === 'container' && args[1] === 'inspect') {
      // docker prints the containers it found and exits 1 naming each one it did not.
      const found = args.slice(2).map((name) => [name, this.inspect(name)] as const);
      const missing = found.filter(([, raw]) => raw === undefined).map(([name]) => `Error: No such container: ${name}`);
      return { exitCode: missing.length > 0 ? 1 : 0, stdout: JSON.stringify(found.flatMap(([, raw]) => (raw ? [raw] : []))), stderr: missing.join('\n') };
    }
    if (args[0] === 'ps') {
      const port = Number(/publish=(\d+)/.exec(line)?.[1]);
      const holder = this.options.publishedBy?.[port];
      return { stdout: holder ?? '' };
    }
    if (args[0] === 'volume' && args[1] === 'inspect') {
      const labels = this.volumes.get(args[2]!);
      if (!labels) return { exitCode: 1, stdout: '[]', stderr: `Error response from daemon: get ${args[2]}: no such volume` };
      return { stdout: JSON.stringify([{ Name: args[2], Labels: labels }]) };
    }
    if (args[0] === 'volume' && args[1] === 'create') {
      const labels: Record<string, string> = {};
      for (let i = 2; i < args.length - 1; i++) {
        if (args[i] === '--label') {
          const [k, v] = args[++i]!.split('=');
          labels[k!] = v!;
        }
      }
      this.volumes.set(args.at(-1)!, labels);
      return { stdout: args.at(-1)! };
    }
    if (args[0] === 'volume' && args[1] === 'rm') {
      this.volumes.delete(args[2]!);
      return { stdout: args[2]! };
    }
    if (args[0] === 'exec' && args.slice(2).join(' ') === 'cat /etc/hosts') {
      const node = args[1]!;
      if (!c || !this.nodes().includes(node) || this.state(node).Status === 'exited') return { exitCode: 1, stderr: `Error response from daemon: Container ${node} is not running` };
      if (this.state(node).Status === 'restarting') return { exitCode: 1, stderr: `Error response from daemon: Container ${node} is restarting, wait until the container is running` };
      if (this.state(node).Status === 'paused') return { exitCode: 1, stderr: `Error response from daemon: Container ${node} is paused, unpause the container before exec` };
      const lost = this.hostsLineMissingReads > 0;
      if (lost) this.hostsLineMissingReads--;
      const entry = this.applied.size > 0 && !lost ? `${SERVICE_IP} container-registry.local  # managed by k3s-devreg\n` : '';
      return { stdout: `127.0.0.1\tlocalhost\n172.18.0.1 host.k3d.internal\n${entry}` };
    }
    if (args[0] === 'login' || args[0] === 'build' || args[0] === 'push') return { stdout: 'ok' };
    throw new Error(`unscripted docker ${line}`);
  }

  /** docker's inspect record of a node container, undefined when there is none. */
  private inspect(name: string): object | undefined {
    const c = this.cluster;
    if (!c) return undefined;
    const State = { ...this.state(name), StartedAt: c.startedAt?.[name] ?? '2026-12-01T08:00:00Z' };
    // k3d puts the config's runtime labels on every k3s node, agents included.
    if (this.nodes().includes(name)) {
      const id = name.endsWith('-server-0') ? c.serverId : `${name}-id`;
      // k3d mounts the config's named volume (the registry's data) into every k3s node.
      const Mounts = [{ Type: 'volume', Name: `k3s-devreg-${c.name}-registry` }];
      return { Id: id, Name: `/${name}`, Config: { Labels: c.labels, Image: c.image ?? 'rancher/k3s:v1.31.5-k3s1' }, State, Mounts };
    }
    if (name === `k3d-${c.name}-serverlb`) {
      const ports = c.hostPort ? { '31113/tcp': [{ HostIp: '127.0.0.1', HostPort: String(c.hostPort) }] } : {};
      const bound = this.state(name).Status === 'running';
      return { Id: 'lb', Name: `/${name}`, Config: { Labels: {}, Image: 'ghcr.io/k3d-io/k3d-proxy:5.8.3' }, State, HostConfig: { PortBindings: ports }, NetworkSettings: { Ports: bound ? ports : {} } };
    }
    return undefined;
  }

  /** docker's State of a node container: Running stays true while docker restarts it. */
  state(name: string): { Running: boolean; Status: string } {
    const c = this.cluster;
    if (!c?.running) return { Running: false, Status: 'exited' };
    const down = c.down?.[name];
    return { Running: down !== 'exited', Status: down ?? 'running' };
  }

  nodes(): string[] {
    const c = this.cluster;
    if (!c) return [];
    const all = [`k3d-${c.name}-server-0`, ...Array.from({ length: c.agents }, (_, i) => `k3d-${c.name}-agent-${i}`)];
    return all.filter((name) => !c.removed?.includes(name));
  }

  private k3d(args: string[]): Reply {
    if (this.options.k3dInstalled === false) return { exitCode: 127, notFound: true };
    const line = args.join(' ');
    const c = this.cluster;
    if (line === 'version') return { stdout: `k3d version v${this.options.k3dVersion ?? '5.6.0'}\nk3s version v1.27.4-k3s1 (default)` };
    if (line === 'cluster list --output json') {
      if (!c) return { stdout: '[]' };
      const nodes = [
        ...this.nodes().map((name) => ({ name, role: name.includes('-server-') ? 'server' : 'agent', State: this.state(name) })),
        { name: `k3d-${c.name}-serverlb`, role: 'loadbalancer', State: this.state(`k3d-${c.name}-serverlb`) },
      ];
      // k3d counts by State.Running alone (pkg/types/types.go ServerCountRunning), restarting nodes included.
      const count = (role: string) => nodes.filter((n) => n.role === role && n.State.Running).length;
      const total = (role: string) => nodes.filter((n) => n.role === role).length;
      return { stdout: JSON.stringify([{ name: c.name, nodes, serversCount: total('server'), serversRunning: count('server'), agentsCount: total('agent'), agentsRunning: count('agent'), hasLoadbalancer: true }]) };
    }
    if (args[0] === 'cluster' && args[1] === 'create' && args[2] === '--config') {
      const config = parse(readFileSync(args[3]!, 'utf8')) as {
        metadata: { name: string };
        agents: number;
        image?: string;
        ports: { port: string }[];
        options: { runtime: { labels: { label: string }[] } };
      };
      this.k3dConfigs.push(config);
      // k3d puts the config's runtime labels on the node containers next to its own (k3d-io/k3d
      // pkg/config/transform.go "RUNTIME LABELS", pkg/client/cluster.go nodeSetup, docker translate.go).
      const labels = {
        app: 'k3d',
        'k3d.cluster': config.metadata.name,
        'k3d.role': 'server',
        ...Object.fromEntries(config.options.runtime.labels.map((l) => l.label.split('=') as [string, string])),
      };
      this.cluster = {
        name: config.metadata.name,
        agents: config.agents,
        running: true,
        serverId: `server-id-${++this.ids}`,
        labels,
        ...(config.image ? { image: config.image } : {}),
        hostPort: Number(config.ports[0]!.port.split(':')[1]),
      };
      this.contextInKubeconfig = this.options.multiFileKubeconfig !== true;
      this.applied.clear();
      // k3d logs INFO to stdout, coloured (k3d-io/k3d cmd/root.go, initLogging).
      return { stdout: `\x1b[36mINFO\x1b[0m[0020] Cluster '${config.metadata.name}' created successfully!` };
    }
    if (args[0] === 'cluster' && args[1] === 'start' && c) {
      // k3d starts only the nodes docker does not call running; a restarting one is left as it is.
      if (!c.running) c.down = {};
      c.running = true;
      for (const [node, state] of Object.entries(c.down ?? {})) if (state === 'exited') delete c.down![node];
      return {};
    }
    if (args[0] === 'cluster' && args[1] === 'stop' && c) {
      c.running = false;
      c.down = {};
      return {};
    }
    if (args[0] === 'cluster' && args[1] === 'delete') {
      if (c && args[2] === c.name) {
        this.cluster = undefined;
        this.contextInKubeconfig = false;
        this.applied.clear();
      }
      return {};
    }
    if (args[0] === 'kubeconfig' && args[1] === 'merge') {
      if (this.options.multiFileKubeconfig && args.includes('--kubeconfig-merge-default')) {
        return { exitCode: 1, stderr: 'ERRO[0000] failed to get default kubeconfig path: multiple kubeconfigs specified via KUBECONFIG env var: Please reduce to one entry, unset KUBECONFIG or explicitly choose an output' };
      }
      this.contextInKubeconfig = true;
      return {};
    }
    throw new Error(`unscripted k3d ${line}`);
  }

  private kubectl(args: string[], input: string | undefined): Reply {
    if (this.options.kubectlInstalled === false) return { exitCode: 127, notFound: true };
    const line = args.join(' ');
    if (line === 'version --client --output json') return { stdout: JSON.stringify({ clientVersion: { gitVersion: 'v1.29.0' } }) };
    if (line === 'config current-context') return this.contextInKubeconfig && this.cluster ? { stdout: `k3d-${this.cluster.name}` } : { exitCode: 1, stderr: 'error: current-context is not set' };
    if (line === 'config view --output json') {
      const current = this.contextInKubeconfig && this.cluster ? { 'current-context': `k3d-${this.cluster.name}` } : {};
      return { stdout: JSON.stringify({ kind: 'Config', contexts: this.contextInKubeconfig && this.cluster ? [{ name: `k3d-${this.cluster.name}` }] : [], ...current }) };
    }
    if (args[0] === 'config' && args[1] === 'get-contexts') {
      return this.contextInKubeconfig ? { stdout: args[2]! } : { exitCode: 1, stderr: `error: context ${args[2]} not found` };
    }
    const c = this.cluster;
    if (args[0] !== '--context' || !c || args[1] !== `k3d-${c.name}`) {
      return { exitCode: 1, stderr: `error: context "${args[1]}" does not exist` };
    }
    if (!c.running) return { exitCode: 1, stderr: 'The connection to the server 0.0.0.0:6443 was refused - did you specify the right host or port?' };
    const rest = args.slice(2);
    const restLine = rest.join(' ');
    const key = (o: { kind: string; metadata: { name: string } }) => `${o.kind.toLowerCase()}/${o.metadata.name}`;
    if (restLine === 'apply --filename -') {
      const objects = parseAllDocuments(input ?? '').map((d) => d.toJS() as { kind: string; metadata: { name: string } }).filter(Boolean);
      for (const o of objects) this.applied.set(key(o), o);
      return { stdout: objects.map((o) => `${key(o)} created`).join('\n') };
    }
    if (restLine === 'get --filename - --ignore-not-found --output json') {
      // What the API server returns for applied objects: rolled out, the Service with its ClusterIP.
      const objects = parseAllDocuments(input ?? '').map((d) => d.toJS() as { kind: string; metadata: { name: string } }).filter(Boolean);
      const items = objects.filter((o) => this.applied.has(key(o))).map((o) => this.live(o));
      return { stdout: JSON.stringify(items.length === 1 ? items[0] : { kind: 'List', items }) };
    }
    if (restLine === 'get --filename - --ignore-not-found --output name') {
      const objects = parseAllDocuments(input ?? '').map((d) => d.toJS() as { kind: string; metadata: { name: string } }).filter(Boolean);
      return { stdout: objects.filter((o) => this.applied.has(key(o))).map(key).join('\n') };
    }
    if (restLine === 'create --filename -') {
      this.pod = this.podPhases[0];
      this.podStep = 0;
      return { stdout: 'pod/k3s-devreg-verify created' };
    }
    if (rest[2] === 'rollout' && rest[3] === 'status') return { stdout: `${rest[4]} successfully rolled out` };
    if (rest[2] === 'get' && rest[3] === 'service') {
      return this.applied.has('service/registry') ? { stdout: JSON.stringify({ spec: { clusterIP: SERVICE_IP } }) } : { stdout: '' };
    }
    if (rest[2] === 'get' && rest[3] === 'deployment') {
      return this.applied.has('deployment/registry') ? { stdout: JSON.stringify({ spec: { replicas: 1 }, status: { readyReplicas: 1, updatedReplicas: 1 } }) } : { stdout: '' };
    }
    if (rest[0] === 'get' && rest[1] === 'nodes') {
      return { stdout: JSON.stringify({ items: this.nodes().map((name) => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } })) }) };
    }
    if (rest[2] === 'get' && rest[3] === 'pod') {
      if (!this.pod) return { stdout: '' };
      const pod = this.podPhases[Math.min(this.podStep, this.podPhases.length - 1)]!;
      this.podStep++;
      const status: Record<string, unknown> = { phase: pod.phase };
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

  private podStep = 0;

  /** How an applied object reads back: generation 1, observed, every replica updated and available. */
  private live(o: { kind: string; metadata: { name: string } }): object {
    const metadata = { ...o.metadata, generation: 1 };
    if (o.kind === 'Deployment') return { ...o, metadata, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, readyReplicas: 1 } };
    if (o.kind === 'DaemonSet') {
      const n = this.nodes().length;
      return { ...o, metadata, status: { observedGeneration: 1, desiredNumberScheduled: n, updatedNumberScheduled: n, numberAvailable: n, numberReady: n } };
    }
    if (o.kind === 'Service') return { ...o, spec: { ...(o as { spec?: object }).spec, clusterIP: SERVICE_IP } };
    return o;
  }
}

/** Calls that only read. Everything else counts as a change (the "second up changes nothing" test). */
export function isReadOnly(call: RecordedCall): boolean {
  const line = [call.file, ...call.args].join(' ');
  const kubectlRest = call.file === 'kubectl' && call.args[0] === '--context' ? call.args.slice(2) : call.args;
  const verb = kubectlRest[0] === '--namespace' ? kubectlRest[2] : kubectlRest[0];
  return (
    /^docker (version|container inspect|volume inspect|ps) /.test(line) ||
    /^docker exec \S+ cat \/etc\/hosts$/.test(line) ||
    /^k3d (version|cluster list)( |$)/.test(line) ||
    /^kubectl (version|config current-context|config get-contexts|config view)( |$)/.test(line) ||
    (call.file === 'kubectl' && (verb === 'get' || verb === 'logs' || (verb === 'rollout' && kubectlRest.includes('status'))))
  );
}
