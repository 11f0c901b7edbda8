// @ts-check
/**
 * The one model of docker, k3d and kubectl the tests stand in for k3d and k3s with. It answers each
 * call (program, argv, stdin) the way the real tools answer (same argv, same JSON shapes): `k3d
 * cluster create` makes a cluster from the config file it is given, `kubectl apply` stores the
 * manifests, the hosts entry appears once they are applied, the verify pod succeeds.
 * Driven in-process through the recording runner (fake-cluster.ts) and, as programs on PATH, by
 * fake-bin/fake-tool.mjs, which keeps the model's state in a file between its processes.
 * Plain JavaScript with JSDoc types, so node runs it as it is from fake-tool.mjs.
 */
import { readFileSync } from 'node:fs';
import { ClusterModel, SERVICE_IP, yaml } from './fake-world-cluster.mjs';
import { FakeDocker } from './fake-world-docker.mjs';

export { SERVICE_IP };

/**
 * @typedef {import('./fake-world-cluster.mjs').Call} Call
 * @typedef {import('./fake-world-cluster.mjs').Reply} Reply
 * @typedef {import('./fake-world-cluster.mjs').FakeCluster} FakeCluster
 * @typedef {import('./fake-world-cluster.mjs').FakeWorldOptions} FakeWorldOptions
 * @typedef {import('./fake-world-cluster.mjs').FakeWorldState} FakeWorldState
 */

const MANAGED = 'app.kubernetes.io/managed-by';

export class FakeTools extends ClusterModel {
  /** Networks and containers of ours (the pull-through cache), beside k3d's nodes. */
  objects = new FakeDocker();

  /**
   * Makes calls whose command line starts with prefix answer with reply (latest first).
   * @param {string} prefix @param {Reply | ((call: Call) => Reply)} reply @returns {this}
   */
  override(prefix, reply) {
    this.overrides.unshift({ prefix, reply });
    return this;
  }

  /**
   * A running cluster, created by us, with its manifests applied (what a finished `up` leaves).
   * @param {string} name @param {number} hostPort @returns {FakeCluster}
   */
  static ourCluster(name, hostPort, agents = 1) {
    return { name, agents, running: true, serverId: 'existing-server-id', labels: { [MANAGED]: 'k3s-devreg', 'dev.k3s-devreg/cluster': name }, hostPort };
  }

  /** @returns {FakeWorldState} */
  saveState() {
    const { cluster, contextInKubeconfig, pod, podStep, hostsLineMissingReads, ids } = this;
    return { ...(cluster ? { cluster } : {}), volumes: Object.fromEntries(this.volumes), applied: Object.fromEntries(this.applied), contextInKubeconfig, ...(pod ? { pod } : {}), podStep, hostsLineMissingReads, ids, docker: this.objects.objects };
  }

  /** @param {FakeWorldState} state */
  loadState(state) {
    this.cluster = state.cluster;
    this.volumes.clear();
    for (const [name, labels] of Object.entries(state.volumes)) this.volumes.set(name, labels);
    this.applied = new Map(Object.entries(state.applied));
    this.contextInKubeconfig = state.contextInKubeconfig;
    this.pod = state.pod;
    this.podStep = state.podStep;
    this.hostsLineMissingReads = state.hostsLineMissingReads;
    this.ids = state.ids;
    this.objects = new FakeDocker(state.docker);
  }

  /** @param {Call} call @returns {Reply} */
  answer(call) {
    const line = [call.file, ...call.args].join(' ');
    for (const o of this.overrides) {
      if (line.startsWith(o.prefix)) return typeof o.reply === 'function' ? o.reply(call) : o.reply;
    }
    if (call.input !== undefined && call.file === 'kubectl') this.kubectlStdin.push(call.input);
    if (call.file === 'docker') return this.docker(call.args);
    if (call.file === 'k3d') return this.k3d(call.args);
    if (call.file === 'kubectl') return this.kubectl(call.args, call.input);
    throw new Error(`unscripted program ${line}`);
  }

  /** @private @param {string[]} args @returns {Reply} */
  docker(args) {
    if (this.options.dockerRunning === false) {
      return { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' };
    }
    const line = args.join(' ');
    const c = this.cluster;
    const [verb, sub, arg] = args;
    if (line === 'version --format {{.Server.Version}}') return { stdout: '24.0.7' };
    const known = this.objects.answer(args);
    if (known) return known;
    if (verb === 'container' && sub === 'inspect') {
      // docker prints the containers it found and exits 1 naming each one it did not.
      const found = args.slice(2).map((name) => /** @type {const} */ ([name, this.inspect(name) ?? this.objects.inspect(name)]));
      const missing = found.filter(([, raw]) => raw === undefined).map(([name]) => `Error: No such container: ${name}`);
      return { exitCode: missing.length > 0 ? 1 : 0, stdout: JSON.stringify(found.flatMap(([, raw]) => (raw ? [raw] : []))), stderr: missing.join('\n') };
    }
    if (verb === 'ps') return { stdout: this.options.publishedBy?.[Number(/publish=(\d+)/.exec(line)?.[1])] ?? '' };
    if (verb === 'volume' && sub === 'inspect' && arg) {
      const labels = this.volumes.get(arg);
      if (!labels) return { exitCode: 1, stdout: '[]', stderr: `Error response from daemon: get ${arg}: no such volume` };
      return { stdout: JSON.stringify([{ Name: arg, Labels: labels }]) };
    }
    if (verb === 'volume' && sub === 'create') {
      /** @type {Record<string, string>} */
      const labels = {};
      for (let i = 2; i < args.length - 1; i++) {
        if (args[i] === '--label') {
          const [k = '', v = ''] = (args[++i] ?? '').split('=');
          labels[k] = v;
        }
      }
      this.volumes.set(args.at(-1) ?? '', labels);
      return { stdout: args.at(-1) ?? '' };
    }
    if (verb === 'volume' && sub === 'rm' && arg) {
      this.volumes.delete(arg);
      return { stdout: arg };
    }
    if (verb === 'exec' && sub && args.slice(2).join(' ') === 'cat /etc/hosts') {
      const status = this.state(sub).Status;
      if (!c || !this.nodes().includes(sub) || status === 'exited') return { exitCode: 1, stderr: `Error response from daemon: Container ${sub} is not running` };
      if (status === 'restarting') return { exitCode: 1, stderr: `Error response from daemon: Container ${sub} is restarting, wait until the container is running` };
      if (status === 'paused') return { exitCode: 1, stderr: `Error response from daemon: Container ${sub} is paused, unpause the container before exec` };
      const lost = this.hostsLineMissingReads > 0;
      if (lost) this.hostsLineMissingReads--;
      const entry = this.applied.size > 0 && !lost ? `${SERVICE_IP} container-registry.local  # managed by k3s-devreg\n` : '';
      return { stdout: `127.0.0.1\tlocalhost\n172.18.0.1 host.k3d.internal\n${entry}` };
    }
    if (line === 'system df --verbose --format {{json .Volumes}}') {
      return { stdout: JSON.stringify([...this.volumes.keys()].map((Name) => ({ Name, Size: this.options.volumeSize ?? '0B' }))) };
    }
    if (verb === 'login' || verb === 'build' || verb === 'push') return { stdout: 'ok' };
    throw new Error(`unscripted docker ${line}`);
  }

  /** docker's inspect record of a node container, undefined when there is none. @private @param {string} name @returns {object | undefined} */
  inspect(name) {
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


  /** @private @param {string[]} args @returns {Reply} */
  k3d(args) {
    if (this.options.k3dInstalled === false) return { exitCode: 127, notFound: true };
    const line = args.join(' ');
    const c = this.cluster;
    if (line === 'version') return { stdout: `k3d version v${this.options.k3dVersion ?? '5.6.0'}\nk3s version ${this.options.k3sVersion ?? 'v1.27.4-k3s1'} (default)` };
    if (line === 'cluster list --output json') {
      if (!c) return { stdout: '[]' };
      const nodes = [
        ...this.nodes().map((name) => ({ name, role: name.includes('-server-') ? 'server' : 'agent', State: this.state(name) })),
        { name: `k3d-${c.name}-serverlb`, role: 'loadbalancer', State: this.state(`k3d-${c.name}-serverlb`) },
      ];
      // k3d counts by State.Running alone (pkg/types/types.go ServerCountRunning), restarting nodes included.
      /** @param {string} role */
      const count = (role) => nodes.filter((n) => n.role === role && n.State.Running).length;
      /** @param {string} role */
      const total = (role) => nodes.filter((n) => n.role === role).length;
      return { stdout: JSON.stringify([{ name: c.name, nodes, serversCount: total('server'), serversRunning: count('server'), agentsCount: total('agent'), agentsRunning: count('agent'), hasLoadbalancer: true }]) };
    }
    if (args[0] === 'cluster' && args[1] === 'create' && args[2] === '--config') return this.create(args[3] ?? '');
    if (args[0] === 'cluster' && args[1] === 'start' && c) {
      // k3d starts only the nodes docker does not call running; a restarting one is left as it is.
      if (!c.running) c.down = {};
      c.running = true;
      for (const [node, state] of Object.entries(c.down ?? {})) if (state === 'exited') delete c.down?.[node];
      return {};
    }
    if (args[0] === 'cluster' && args[1] === 'stop' && c) {
      c.running = false;
      c.down = {};
      return {};
    }
    if (args[0] === 'cluster' && args[1] === 'delete') {
      if (c && args[2] === c.name) {
        // k3d removes the network it made; one it joined (config `network:`) it leaves (Network.External).
        const network = `k3d-${c.name}`;
        const made = this.objects.objects.networks[network]?.labels.app === 'k3d';
        if (made && this.objects.objects.networks[network]?.containers.length === 0) delete this.objects.objects.networks[network];
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

  /** `k3d cluster create --config file`. @private @param {string} file @returns {Reply} */
  create(file) {
    const config = /** @type {{ metadata: { name: string }, agents: number, image?: string, network?: string, ports: { port: string }[], options: { runtime: { labels: { label: string }[] } } }} */ (yaml().parse(readFileSync(file, 'utf8')));
    this.k3dConfigs.push(config);
    // k3d joins the config's network when it exists, and otherwise makes one (k3d-<name> by default).
    this.objects.addNetwork(config.network ?? `k3d-${config.metadata.name}`, { app: 'k3d' });
    // k3d puts the config's runtime labels on the node containers next to its own (k3d-io/k3d
    // pkg/config/transform.go "RUNTIME LABELS", pkg/client/cluster.go nodeSetup, docker translate.go).
    const labels = {
      app: 'k3d',
      'k3d.cluster': config.metadata.name,
      'k3d.role': 'server',
      ...Object.fromEntries(config.options.runtime.labels.map((l) => l.label.split('='))),
    };
    this.cluster = {
      name: config.metadata.name,
      agents: config.agents,
      running: true,
      serverId: `server-id-${++this.ids}`,
      labels,
      ...(config.image ? { image: config.image } : {}),
      hostPort: Number(config.ports[0]?.port.split(':')[1]),
    };
    this.contextInKubeconfig = this.options.multiFileKubeconfig !== true;
    this.applied.clear();
    // k3d logs INFO to stdout, coloured (k3d-io/k3d cmd/root.go, initLogging).
    return { stdout: `\x1b[36mINFO\x1b[0m[0020] Cluster '${config.metadata.name}' created successfully!` };
  }
}
