// @ts-check
/**
 * The docker objects of the model that are not k3d's nodes: networks, and containers started with
 * `docker run -d` (the pull-through cache), as docker answers about them (same argv, same JSON shapes).
 */

/**
 * @typedef {import('./recording-runner.js').Reply} Reply
 * @typedef {{ labels: Record<string, string>, containers: string[] }} FakeNetwork
 * @typedef {{ id: string, labels: Record<string, string>, image: string, running: boolean, networks: string[], mounts: string[] }} FakeContainer
 * @typedef {{ networks: Record<string, FakeNetwork>, containers: Record<string, FakeContainer>, images?: Record<string, string> }} FakeDockerState
 */

/** `--label k=v` pairs of an argv. @param {string[]} args @returns {Record<string, string>} */
function labelsOf(args) {
  /** @type {Record<string, string>} */
  const labels = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--label') {
      const [k = '', ...v] = (args[i + 1] ?? '').split('=');
      labels[k] = v.join('=');
    }
  }
  return labels;
}

/** The value after a flag. @param {string[]} args @param {string} flag */
const valueOf = (args, flag) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

export class FakeDocker {
  /** @param {FakeDockerState} [state] */
  constructor(state = { networks: {}, containers: {} }) {
    /** @type {FakeDockerState} */
    this.objects = structuredClone(state);
  }

  /** @param {string} name @param {Record<string, string>} [labels] */
  addNetwork(name, labels = {}) {
    this.objects.networks[name] ??= { labels, containers: [] };
  }

  /** The inspect record of a container of ours, undefined when there is none. @param {string} name */
  inspect(name) {
    const c = this.objects.containers[name];
    if (!c) return undefined;
    const State = { Running: c.running, Status: c.running ? 'running' : 'exited', StartedAt: '2026-12-01T08:00:00Z' };
    const Networks = Object.fromEntries(c.networks.map((n) => [n, {}]));
    const Mounts = c.mounts.map((Name) => ({ Type: 'volume', Name }));
    return { Id: c.id, Name: `/${name}`, Config: { Labels: c.labels, Image: c.image }, State, Mounts, NetworkSettings: { Ports: {}, Networks } };
  }

  /** Images docker has (name as docker shows it -> architecture). @param {string[]} names @param {string} [architecture] */
  addImages(names, architecture = 'amd64') {
    this.objects.images ??= {};
    for (const name of names) this.objects.images[name] = architecture;
  }

  /** A reply for the commands this part knows, undefined for the others. @param {string[]} args @returns {Reply | undefined} */
  answer(args) {
    const [verb, sub] = args;
    const { networks, containers } = this.objects;
    if (verb === 'image' && sub === 'inspect' && args[2] === '--format') {
      // docker prints the images it has (the format asked: RepoTags as JSON, then the architecture) and exits 1 naming the others.
      const images = this.objects.images ?? {};
      /** @param {string} n */
      const known = (n) => images[n] ?? images[n.replace(/^docker\.io\/(library\/)?/, '')];
      const names = args.slice(4);
      const found = names.filter((n) => known(n));
      const missing = names.filter((n) => !known(n)).map((n) => `Error: No such image: ${n}`);
      return { exitCode: missing.length > 0 ? 1 : 0, stdout: found.map((n) => `${JSON.stringify([n.replace(/^docker\.io\/(library\/)?/, '')])} ${known(n)}`).join('\n'), stderr: missing.join('\n') };
    }
    const last = args.at(-1) ?? '';
    if (verb === 'network') {
      if (sub === 'inspect') {
        const n = networks[last];
        if (!n) return { exitCode: 1, stdout: '[]', stderr: `Error response from daemon: network ${last} not found` };
        const Containers = Object.fromEntries(n.containers.map((c) => [containers[c]?.id ?? c, { Name: c }]));
        return { stdout: JSON.stringify([{ Name: last, Labels: n.labels, Containers }]) };
      }
      if (sub === 'create') {
        if (networks[last]) return { exitCode: 1, stderr: `Error response from daemon: network with name ${last} already exists` };
        networks[last] = { labels: labelsOf(args), containers: [] };
        return { stdout: `${last}-id` };
      }
      if (sub === 'connect' || sub === 'disconnect') {
        const [network = '', container = ''] = args.slice(-2);
        const n = networks[network];
        const c = containers[container];
        if (!n || !c) return { exitCode: 1, stderr: `Error response from daemon: No such container: ${container}` };
        if (sub === 'connect') {
          if (c.networks.includes(network)) return { exitCode: 1, stderr: `Error response from daemon: endpoint with name ${container} already exists in network ${network}` };
          c.networks.push(network);
          n.containers.push(container);
        } else {
          c.networks = c.networks.filter((x) => x !== network);
          n.containers = n.containers.filter((x) => x !== container);
        }
        return { stdout: '' };
      }
      if (sub === 'rm') {
        if (!networks[last]) return { exitCode: 1, stderr: `Error response from daemon: network ${last} not found` };
        if (networks[last].containers.length > 0) return { exitCode: 1, stderr: `Error response from daemon: error while removing network: network ${last} has active endpoints` };
        delete networks[last];
        return { stdout: last };
      }
    }
    if (verb === 'run' && sub === '-d') {
      const name = valueOf(args, '--name') ?? 'unnamed';
      const network = valueOf(args, '--network') ?? 'bridge';
      if (containers[name]) return { exitCode: 125, stderr: `docker: Error response from daemon: Conflict. The container name "/${name}" is already in use.` };
      if (network !== 'bridge' && !networks[network]) return { exitCode: 125, stderr: `docker: Error response from daemon: network ${network} not found.` };
      const mounts = args.flatMap((a, i) => (args[i - 1] === '-v' && !a.startsWith('/') ? [a.split(':')[0] ?? ''] : []));
      containers[name] = { id: `${name}-id`, labels: labelsOf(args), image: last, running: true, networks: [network], mounts };
      networks[network]?.containers.push(name);
      return { stdout: `${name}-id` };
    }
    if (verb === 'start' && sub && containers[sub]) {
      containers[sub].running = true;
      return { stdout: sub };
    }
    if (verb === 'rm' && (sub === '-f' || sub === '--force')) {
      // docker removes every name it finds and exits 1 naming each one it did not.
      const names = args.slice(2);
      const missing = names.filter((name) => !containers[name]);
      for (const name of names.filter((n) => containers[n])) {
        for (const n of containers[name]?.networks ?? []) if (networks[n]) networks[n].containers = networks[n].containers.filter((x) => x !== name);
        delete containers[name];
      }
      const removed = names.filter((name) => !missing.includes(name));
      return { exitCode: missing.length > 0 ? 1 : 0, stdout: removed.join('\n'), stderr: missing.map((name) => `Error response from daemon: No such container: ${name}`).join('\n') };
    }
    return undefined;
  }
}
