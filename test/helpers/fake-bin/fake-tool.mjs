#!/usr/bin/env node
// Stand-ins for docker, k3d and kubectl that answer like a healthy k3s-devreg cluster, so the real
// CLI (real Runner, real child processes) runs `up`, `status`, `down` where k3d cannot run: the CLI
// tests and `npm run bench` (a no-op `up`). Put this folder first on PATH.
// Env: FAKE_CLUSTER (default devreg), FAKE_PORT (default 31113), FAKE_TOOLS_LOG (append each call),
// FAKE_TOOLS_STATE (a file: present = the cluster exists; created by `k3d cluster create`),
// FAKE_CREATE_HANG (a file: `k3d cluster create` writes its pid there and waits until a signal ends it, as
// k3d does while it waits for the nodes; Ctrl-C kills it without a rollback, so the cluster stays),
// FAKE_REAL_DOCKER (the real docker's path: login, build and push then go to the real daemon and a real
// registry, so a whole `up` and `status` run against it while k3d and kubectl stay stand-ins).
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const [tool, ...args] = process.argv.slice(2);
const line = args.join(' ');
const name = process.env.FAKE_CLUSTER ?? 'devreg';
const port = process.env.FAKE_PORT ?? '31113';
const stateFile = process.env.FAKE_TOOLS_STATE;
const exists = () => !stateFile || existsSync(stateFile);
if (process.env.FAKE_TOOLS_LOG) appendFileSync(process.env.FAKE_TOOLS_LOG, `${tool} ${line}\n`);
// FAKE_TOOLS_TIMES: each call's start and end (ms since the epoch), so the bench can count serial groups.
if (process.env.FAKE_TOOLS_TIMES) {
  const start = performance.timeOrigin;
  process.on('exit', () => appendFileSync(process.env.FAKE_TOOLS_TIMES, `${JSON.stringify({ call: `${tool} ${line}`, start, end: performance.timeOrigin + performance.now() })}\n`));
}

const out = (text) => process.stdout.write(`${text}\n`);
const fail = (text, code = 1) => {
  process.stderr.write(`${text}\n`);
  process.exit(code);
};
const stdin = () => {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
};
const ours = { 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cluster': name };
const nodes = [`k3d-${name}-server-0`, `k3d-${name}-agent-0`];

function objectNames(yaml) {
  const names = [];
  for (const doc of yaml.split(/^---$/m)) {
    const kind = /^kind: (\S+)/m.exec(doc)?.[1];
    const meta = /^metadata:\n((?:[ ]+.*\n?)*)/m.exec(doc)?.[1] ?? '';
    const docName = /^  name: (\S+)/m.exec(meta)?.[1];
    if (kind && docName) names.push(`${kind.toLowerCase()}/${docName}`);
  }
  return names;
}

/** Applied objects as the API server returns them: rolled out, the Service with its ClusterIP. */
function liveObjects(yaml) {
  return objectNames(yaml).map((n) => {
    const [kind, objName] = n.split('/');
    const metadata = { name: objName, generation: 1 };
    if (kind === 'deployment') return { kind: 'Deployment', metadata, spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 } };
    if (kind === 'daemonset') return { kind: 'DaemonSet', metadata, status: { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 } };
    if (kind === 'service') return { kind: 'Service', metadata, spec: { clusterIP: '10.43.0.50' } };
    return { kind: kind[0].toUpperCase() + kind.slice(1), metadata };
  });
}

if (tool === 'docker' && process.env.FAKE_REAL_DOCKER && ['login', 'build', 'push'].includes(args[0])) {
  const real = spawnSync(process.env.FAKE_REAL_DOCKER, args, { stdio: 'inherit' });
  process.exit(real.status ?? 1);
} else if (tool === 'docker') {
  if (line === 'version --format {{.Server.Version}}') out('24.0.7');
  else if (args[0] === 'container' && args[1] === 'inspect') {
    // docker prints what it found and exits 1 naming each container it did not find.
    const State = { Running: true, Status: 'running', StartedAt: '2026-12-01T08:00:00Z' };
    const record = (n) => {
      if (!exists()) return undefined;
      const Mounts = [{ Type: 'volume', Name: `k3s-devreg-${name}-registry` }];
      if (nodes.includes(n)) return { Id: n.endsWith('-server-0') ? 'fake-server' : `fake-${n}`, Name: `/${n}`, Config: { Labels: ours, Image: 'rancher/k3s:v1.31.5-k3s1' }, State, Mounts };
      if (n === `k3d-${name}-serverlb`) return { Id: 'fake-lb', Name: `/${n}`, Config: { Labels: {} }, State, NetworkSettings: { Ports: { '31113/tcp': [{ HostIp: '127.0.0.1', HostPort: port }] } } };
      return undefined;
    };
    const found = args.slice(2).map((n) => [n, record(n)]);
    out(JSON.stringify(found.filter(([, r]) => r).map(([, r]) => r)));
    const missing = found.filter(([, r]) => !r).map(([n]) => `Error: No such container: ${n}`);
    if (missing.length > 0) fail(missing.join('\n'));
  } else if (args[0] === 'volume' && args[1] === 'inspect') out(JSON.stringify([{ Name: args[2], Labels: ours }]));
  else if (args[0] === 'exec' && args.slice(2).join(' ') === 'cat /etc/hosts') out('127.0.0.1 localhost\n10.43.0.50 container-registry.local  # managed by k3s-devreg');
  else if (args[0] === 'ps') out('');
  else if (['login', 'build', 'push'].includes(args[0]) || (args[0] === 'volume' && ['create', 'rm'].includes(args[1]))) {
    if (args[0] === 'login') stdin();
    out('ok');
  } else fail(`fake docker: unexpected ${line}`, 99);
} else if (tool === 'k3d') {
  if (line === 'version') out('k3d version v5.8.3\nk3s version v1.31.5-k3s1 (default)');
  else if (line === 'cluster list --output json') {
    const running = { Running: true, Status: 'running' };
    // k3d lists the loadbalancer among the nodes too (k3d-io/k3d pkg/client/cluster.go ClusterList).
    const listed = [...nodes.map((n) => ({ name: n, role: n.includes('server') ? 'server' : 'agent', State: running })), { name: `k3d-${name}-serverlb`, role: 'loadbalancer', State: running }];
    out(exists() ? JSON.stringify([{ name, serversCount: 1, serversRunning: 1, agentsCount: 1, agentsRunning: 1, hasLoadbalancer: true, nodes: listed }]) : '[]');
  } else if (args[0] === 'cluster' && args[1] === 'create') {
    if (stateFile) writeFileSync(stateFile, 'exists');
    if (process.env.FAKE_CREATE_HANG) {
      writeFileSync(process.env.FAKE_CREATE_HANG, String(process.pid));
      setInterval(() => {}, 1000);
    }
  } else if (args[0] === 'cluster' && args[1] === 'delete') {
    if (stateFile) rmSync(stateFile, { force: true });
  } else if (!(args[0] === 'cluster' && ['start', 'stop'].includes(args[1])) && args[0] !== 'kubeconfig') fail(`fake k3d: unexpected ${line}`, 99);
} else if (tool === 'kubectl') {
  const rest = args[0] === '--context' ? args.slice(2) : args;
  const verb = rest[0] === '--namespace' ? rest[2] : rest[0];
  const what = rest[0] === '--namespace' ? rest[3] : rest[1];
  if (line === 'version --client --output json') out(JSON.stringify({ clientVersion: { gitVersion: 'v1.31.4' } }));
  else if (line === 'config current-context') out(`k3d-${name}`);
  else if (args[0] === 'config' && args[1] === 'get-contexts') out(args[2]);
  else if (line === 'config view --output json') out(JSON.stringify({ kind: 'Config', contexts: [{ name: `k3d-${name}` }], 'current-context': `k3d-${name}` }));
  else if (verb === 'get' && what === '--filename' && line.endsWith('--output json')) out(JSON.stringify({ kind: 'List', items: liveObjects(stdin()) }));
  else if (verb === 'get' && what === '--filename') out(objectNames(stdin()).join('\n'));
  else if (verb === 'apply') out(objectNames(stdin()).map((n) => `${n} configured`).join('\n'));
  else if (verb === 'create') stdin();
  else if (verb === 'rollout') out('successfully rolled out');
  else if (verb === 'get' && what === 'service') out(JSON.stringify({ spec: { clusterIP: '10.43.0.50' } }));
  else if (verb === 'get' && what === 'deployment') out(JSON.stringify({ spec: { replicas: 1 }, status: { readyReplicas: 1, updatedReplicas: 1 } }));
  else if (verb === 'get' && what === 'nodes') out(JSON.stringify({ items: nodes.map((n) => ({ metadata: { name: n }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })) }));
  else if (verb === 'get' && what === 'pod') out(JSON.stringify({ status: { phase: 'Succeeded' } }));
  else if (verb === 'logs') out('hello world from the k3s-devreg registry');
  else if (verb === 'delete') out('');
  else fail(`fake kubectl: unexpected ${line}`, 99);
} else fail(`fake-tool: unknown tool ${tool}`, 99);
