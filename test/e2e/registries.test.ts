/**
 * A team's own registries.yaml on real k3d clusters, run as a user runs it (the built CLI, in a child
 * process):
 * - `up --registries-file` with a docker.io mirror (a rewrite) and a password taken from the
 *   environment: what every node holds, what k3s made of it, and that the output shows only a
 *   redacted preview/diff; then `up` again with a changed file restarts the nodes and still pulls
 *   from our registry.
 * - `registries apply` on an existing k3s cluster: a plain `k3d cluster create` (not made by
 *   k3s-devreg, so /etc/k3s-devreg on its nodes is an ordinary folder the writer may fill): the file
 *   and the CA on every node, `registries status`, an unchanged re-apply, the redacted diff in the
 *   writer's log, k3s using the file once restarted, and status seeing a later edit on a node.
 * Unique cluster names, its own state home, kubeconfig and docker config. Without k3d, kubectl or
 * docker it FAILS: it never skips.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensurePki } from '../../src/render/pki.js';
import {
  createSandbox,
  eventually,
  expectOk,
  freePort,
  k3dPreloadArgs,
  printDiagnosticsOnFailure,
  readCredentials,
  requireE2eTools,
  runCli,
  runTool,
  toolOk,
} from './helpers.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const { name, work, stateDir, env } = createSandbox('e2e-reg');
// The "existing k3s cluster" for `registries apply`: made by k3d alone.
const plain = `e2e-plain-${randomBytes(3).toString('hex')}`;
const plainContext = `k3d-${plain}`;
let port = 0;

const cli = (...args: string[]) => runCli(env, args, work);
const tool = (file: string, args: string[]) => runTool(env, file, args);
const credentials = () => readCredentials(stateDir);

const newSecret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
const MIRROR_VAR = 'K3S_DEVREG_E2E_MIRROR_PASSWORD';
const APPLY_VAR = 'K3S_DEVREG_E2E_APPLY_PASSWORD';
const mirrorSecrets = [newSecret('mirror-pass-one'), newSecret('mirror-pass-two')] as const;
const applySecrets = [newSecret('apply-pass-one'), newSecret('apply-pass-two')] as const;

const OUR_REGISTRY = 'container-registry.local:5000';
/** Where k3s turns registries.yaml into containerd's per-registry hosts.toml when it starts. */
const CERTS_D = '/var/lib/rancher/k3s/agent/etc/containerd/certs.d';
const WRITER = { namespace: 'kube-system', name: 'k3s-devreg-registries' };

const nodesOf = (cluster: string) => [`k3d-${cluster}-server-0`, `k3d-${cluster}-agent-0`];

/** Never prints the secret itself: only which line and which secret it was. */
function expectNoSecrets(output: string, secrets: Record<string, string>): void {
  output.split('\n').forEach((line, i) => {
    for (const [label, secret] of Object.entries(secrets)) {
      if (line.includes(secret)) throw new Error(`output line ${i + 1} contains the secret ${label}`);
    }
  });
}

function nodeFile(node: string, path: string): string {
  return toolOk(tool('docker', ['exec', node, 'cat', path]), `docker exec ${node} cat ${path}`);
}

/**
 * containerd's hosts.toml that k3s wrote for a registry. containerd reads a host:port registry from
 * the folder `host:port` or `host_port_` (the form k3s must use on Windows, where ':' is not allowed
 * in paths); either is fine here.
 */
function hostsToml(node: string, registry: string): string {
  const folders = [registry, ...(/:\d+$/.test(registry) ? [registry.replace(/:(\d+)$/, '_$1_')] : [])];
  const script = folders.map((f) => `[ -f '${CERTS_D}/${f}/hosts.toml' ] && exec cat '${CERTS_D}/${f}/hosts.toml'`).join('; ');
  return toolOk(tool('docker', ['exec', node, 'sh', '-c', `${script}; echo 'no hosts.toml for ${registry}' >&2; ls -la '${CERTS_D}' >&2; exit 1`]), `${node}: hosts.toml of ${registry}`);
}

const parseYaml = (text: string): Obj => parse(text, { version: '1.1' }) as Obj;

// --- the files a team would commit ---

const upFileV1 = `# The team's Docker Hub mirror. Unreachable on purpose: k3s always tries the default endpoint
# last (without the rewrite), so pulls still work, while the mirror shows up in containerd's config.
mirrors:
  docker.io:
    endpoint:
      - "https://docker-mirror.invalid"
    rewrite:
      "^library/(.*)": "mirror/library/$1"
configs:
  "docker-mirror.invalid":
    auth:
      username: e2e-mirror-user
      password: {fromEnv: ${MIRROR_VAR}}
`;
const upFileV2 = upFileV1.replace('configs:', `  quay.io:
    endpoint:
      - "https://quay-mirror.invalid"
configs:`);

const upTheirs = (password: string, withQuay: boolean) => ({
  mirrors: {
    'docker.io': { endpoint: ['https://docker-mirror.invalid'], rewrite: { '^library/(.*)': 'mirror/library/$1' } },
    ...(withQuay ? { 'quay.io': { endpoint: ['https://quay-mirror.invalid'] } } : {}),
  },
  configs: { 'docker-mirror.invalid': { auth: { username: 'e2e-mirror-user', password } } },
});

const applyFileV1 = `# The company registry, with its own CA (installed by --ca) and a password from the environment.
mirrors:
  "registry.e2e.internal:5443":
    endpoint:
      - "https://registry.e2e.internal:5443"
configs:
  "registry.e2e.internal:5443":
    auth:
      username: e2e-apply-user
      password: {fromEnv: ${APPLY_VAR}}
    tls:
      ca_file: /etc/k3s-devreg/ca.crt
`;
const applyFileV2 = applyFileV1.replace('configs:', `  quay.io:
    endpoint:
      - "https://quay-mirror.invalid"
configs:`);

const applyTheirs = (password: string, withQuay: boolean) => ({
  mirrors: {
    'registry.e2e.internal:5443': { endpoint: ['https://registry.e2e.internal:5443'] },
    ...(withQuay ? { 'quay.io': { endpoint: ['https://quay-mirror.invalid'] } } : {}),
  },
  configs: {
    'registry.e2e.internal:5443': { auth: { username: 'e2e-apply-user', password }, tls: { ca_file: '/etc/k3s-devreg/ca.crt' } },
  },
});

/** The nodes' file of a cluster made by `up`: theirs exactly (their keys first), plus our registry. */
function expectMerged(doc: Obj, theirs: ReturnType<typeof upTheirs>): void {
  const { username, password } = credentials();
  expect(Object.keys(doc).sort()).toEqual(['configs', 'mirrors']);
  expect(Object.keys(doc.mirrors)).toEqual([...Object.keys(theirs.mirrors), OUR_REGISTRY]);
  expect(Object.keys(doc.configs)).toEqual([...Object.keys(theirs.configs), OUR_REGISTRY]);
  for (const section of ['mirrors', 'configs'] as const) {
    for (const [key, value] of Object.entries(theirs[section])) expect(doc[section][key], `${section}.${key}`).toEqual(value);
  }
  expect(doc.mirrors[OUR_REGISTRY].endpoint).toEqual([`https://${OUR_REGISTRY}`]);
  expect(doc.configs[OUR_REGISTRY].auth).toEqual({ username, password });
}

printDiagnosticsOnFailure(env, () => [`k3d-${name}`, plainContext]);

beforeAll(async () => {
  // Loud, not skipped: an e2e run without its tools is a failed run.
  requireE2eTools(env);
  port = await freePort();
});

// Runs even when a test (or a beforeAll) failed: nothing of the run is left behind.
afterAll(() => {
  tool('k3d', ['cluster', 'delete', name]);
  tool('k3d', ['cluster', 'delete', plain]);
  tool('docker', ['volume', 'rm', `k3s-devreg-${name}-registry`]);
  tool('docker', ['image', 'rm', `localhost:${port}/hello-world-example:latest`]);
  rmSync(work, { recursive: true, force: true });
});

describe('up --registries-file on a real k3d cluster', () => {
  const upFile = join(work, 'team', 'registries.yaml');
  let firstUp: ReturnType<typeof cli> | undefined;

  afterAll(() => {
    // Frees the runner for the plain cluster below.
    tool('k3d', ['cluster', 'delete', name]);
  });

  it('up: every node holds the team file as-is plus our registry, the password resolved, and k3s uses it', () => {
    mkdirSync(join(work, 'team'), { recursive: true });
    writeFileSync(upFile, upFileV1);
    env[MIRROR_VAR] = mirrorSecrets[0];
    const up = cli('up', '--yes', '--name', name, '--port', String(port), '--registries-file', upFile, '--verbose');
    firstUp = up;
    expectOk(up);
    expect(up.stderr).toMatch(/Verified: pushed, pulled and ran hello-world-example/);
    expectNoSecrets(up.all, { 'mirror password (fromEnv)': mirrorSecrets[0], 'registry password': credentials().password });

    const written = readFileSync(join(stateDir, 'node', 'registries.yaml'), 'utf8');
    expect(written).toContain(mirrorSecrets[0]);
    for (const node of nodesOf(name)) {
      const onNode = nodeFile(node, '/etc/k3s-devreg/registries.yaml');
      expect(onNode, `${node}:/etc/k3s-devreg/registries.yaml is the state folder's node/registries.yaml`).toBe(written);
      expectMerged(parseYaml(onNode), upTheirs(mirrorSecrets[0], false));
      // k3s read it when it started: the mirror and its rewrite ($1 untouched) are in containerd's config.
      // (Only what every k3s version's hosts.toml says; its exact layout varies between releases.)
      const toml = hostsToml(node, 'docker.io');
      expect(toml).toContain('https://docker-mirror.invalid');
      expect(toml).toContain('^library/(.*)');
      expect(toml).toContain('mirror/library/$1');
    }
  });

  it('the first up shows a redacted preview of the new registries.yaml', () => {
    if (!firstUp) throw new Error('the first up did not run');
    // The preview names the user's entries, hides every credential, and the secret is not in it.
    expect(firstUp.stderr).toContain('registries.yaml: new file (secrets redacted):');
    expect(firstUp.stderr).toMatch(/docker-mirror\.invalid/);
    expect(firstUp.stderr).toMatch(/password: <REDACTED>/);
  });

  it('up with a changed file: says why the nodes restart; then the nodes have the new file, status is healthy, verify pulls', () => {
    writeFileSync(upFile, upFileV2);
    env[MIRROR_VAR] = mirrorSecrets[1];
    const up = cli('up', '--yes', '--name', name, '--port', String(port), '--registries-file', upFile);
    expectOk(up);
    expect(up.stderr).toContain('registries.yaml changed: restarting the nodes, because k3s reads it only when it starts');
    expect(up.stderr).toContain(`Cluster ${name}: restarted`);
    expect(up.stderr).toContain('registries.yaml: changes (secrets redacted):');
    expect(up.stderr).toMatch(/\+ {2}quay\.io:/);
    expect(up.stderr).toContain('credentials changed (values not shown): configs."docker-mirror.invalid".auth.password');
    expectNoSecrets(up.all, { 'old mirror password': mirrorSecrets[0], 'new mirror password': mirrorSecrets[1], 'registry password': credentials().password });

    const written = readFileSync(join(stateDir, 'node', 'registries.yaml'), 'utf8');
    expect(written).toContain(mirrorSecrets[1]);
    for (const node of nodesOf(name)) {
      const onNode = nodeFile(node, '/etc/k3s-devreg/registries.yaml');
      expect(onNode, `${node} has the new file`).toBe(written);
      expectMerged(parseYaml(onNode), upTheirs(mirrorSecrets[1], true));
      // Restarted, k3s read the new file: the new mirror is in containerd's config.
      expect(hostsToml(node, 'quay.io')).toContain('https://quay-mirror.invalid');
      expect(hostsToml(node, 'docker.io')).toContain('https://docker-mirror.invalid');
    }

    const status = cli('status', '--name', name, '--json');
    expectOk(status);
    const report = JSON.parse(status.stdout) as { healthy: boolean; checks: { name: string; status: string }[] };
    expect(report.healthy).toBe(true);

    // A pod still pulls from container-registry.local:5000 through the merged file.
    const verify = cli('verify', '--name', name);
    expectOk(verify);
    expect(verify.stdout).toMatch(/^Verified: /m);
    expectNoSecrets(status.all + verify.all, { 'mirror password': mirrorSecrets[1], 'registry password': credentials().password });
  });
});

describe('registries apply on an existing k3s cluster (plain k3d, not made by k3s-devreg)', () => {
  const applyFile = join(work, 'company', 'other.yaml');
  const caFile = join(work, 'company', 'ca.crt');
  let caCert = '';

  const writerLogs = (): string =>
    toolOk(
      tool('kubectl', ['--context', plainContext, '--namespace', WRITER.namespace, 'logs', '--selector', `app.kubernetes.io/name=${WRITER.name}`, '--container', 'writer', '--prefix', '--tail=-1']),
      'kubectl logs (the writers)',
    );
  /** The Secret `apply` wrote (decoded): what every node must hold. */
  const appliedSecret = (): Record<string, string> => {
    const text = toolOk(tool('kubectl', ['--context', plainContext, '--namespace', WRITER.namespace, 'get', 'secret', WRITER.name, '--output', 'json']), 'kubectl get secret');
    const data = (JSON.parse(text) as { data: Record<string, string> }).data;
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  };
  const generation = (): string => {
    return toolOk(
      tool('kubectl', ['--context', plainContext, '--namespace', WRITER.namespace, 'get', 'daemonset', WRITER.name, '--output', 'jsonpath={.metadata.generation}']),
      'kubectl get daemonset',
    ).trim();
  };
  /** `registries status --json`: exit 0 and every node (server and agent) reports the current file. */
  const expectEveryNodeMatches = () => {
    const status = cli('registries', 'status', '--context', plainContext, '--json');
    if (status.status !== 0) throw new Error(`registries status exit ${status.status}:\n${status.all}`);
    const report = JSON.parse(status.stdout) as { allMatch: boolean; nodes: { node: string; role: string; state: string; path: string }[] };
    expect(report.allMatch).toBe(true);
    expect(report.nodes.map((n) => n.path)).toEqual(['/etc/rancher/k3s/registries.yaml', '/etc/rancher/k3s/registries.yaml']);
    const rows = report.nodes.map((n) => [n.node, n.role, n.state]).sort((a, b) => a[0]!.localeCompare(b[0]!));
    expect(rows).toEqual([
      [`k3d-${plain}-agent-0`, 'agent', 'matches'],
      [`k3d-${plain}-server-0`, 'server', 'matches'],
    ]);
  };
  const expectNodesHold = (content: string) => {
    for (const node of nodesOf(plain)) {
      expect(nodeFile(node, '/etc/rancher/k3s/registries.yaml'), `${node}:/etc/rancher/k3s/registries.yaml`).toBe(content);
      expect(nodeFile(node, '/etc/k3s-devreg/ca.crt'), `${node}:/etc/k3s-devreg/ca.crt`).toBe(caCert);
    }
  };

  beforeAll(() => {
    // The pinned k3s and the prepared archives, as up's clusters have: nothing pulled from Docker Hub again.
    toolOk(tool('k3d', ['cluster', 'create', plain, '--agents', '1', '--wait', ...k3dPreloadArgs(join(work, `${plain}-images`))]), `k3d cluster create ${plain}`);
    mkdirSync(join(work, 'company'), { recursive: true });
    caCert = ensurePki({}, { dnsNames: ['registry.e2e.internal'], ipAddresses: [], now: new Date() }).pki.caCert;
    writeFileSync(caFile, caCert);
  });

  afterAll(() => {
    tool('k3d', ['cluster', 'delete', plain]);
  });

  it('apply writes the file and the CA on every node, says which nodes to restart, and never shows the password', () => {
    writeFileSync(applyFile, applyFileV1);
    env[APPLY_VAR] = applySecrets[0];
    const apply = cli('registries', 'apply', '--context', plainContext, '-f', applyFile, '--ca', caFile, '--yes');
    expectOk(apply);
    expect(apply.stdout).toContain('registries.yaml: new file (secrets redacted):');
    expect(apply.stdout).toMatch(/password: <REDACTED>/);
    expect(apply.stdout).toContain('ca.crt: new, installed as /etc/k3s-devreg/ca.crt on every node');
    expect(apply.stdout).toContain('k3s reads registries.yaml only when it starts');
    expect(apply.stdout).toContain(`k3d-${plain}-server-0 (server, /etc/rancher/k3s/registries.yaml): sudo systemctl restart k3s`);
    expect(apply.stdout).toContain(`k3d-${plain}-agent-0 (agent, /etc/rancher/k3s/registries.yaml): sudo systemctl restart k3s-agent`);
    expectNoSecrets(apply.all, { 'apply password (fromEnv)': applySecrets[0] });

    const applied = appliedSecret()['registries.yaml'] ?? '';
    expect(applied.startsWith('# Written by k3s-devreg (registries apply)')).toBe(true);
    // Exactly the user's entries (nothing of ours on an existing cluster), the password resolved.
    expect(parseYaml(applied)).toEqual(applyTheirs(applySecrets[0], false));
    expectNodesHold(applied);
  });

  it('registries status --json: every node matches', () => {
    expectEveryNodeMatches();
  });

  it("the writer's log on each node shows the redacted content, never the password", () => {
    const logs = writerLogs();
    for (const node of nodesOf(plain)) expect(logs).toContain(`k3s-devreg registries writer on node ${node}`);
    // A plain k3d node has no registries.yaml of its own: a new file, shown redacted.
    expect(logs.match(/registries\.yaml: (new file|changes) \(secrets redacted\):/g)?.length).toBe(2);
    expect(logs).toMatch(/password: <REDACTED>/);
    expect(logs).toContain('/etc/k3s-devreg/ca.crt: written');
    expectNoSecrets(logs, { 'apply password': applySecrets[0] });
  });

  it('an unchanged re-apply changes nothing and asks nothing', () => {
    const before = generation();
    const again = cli('registries', 'apply', '--context', plainContext, '-f', applyFile, '--ca', caFile, '--json');
    expectOk(again);
    const report = JSON.parse(again.stdout) as { changed: boolean; diff: string; allMatch: boolean; restart: string[] };
    expect(report).toMatchObject({ changed: false, diff: 'registries.yaml: unchanged', allMatch: true, restart: [] });
    expect(generation(), 'the DaemonSet was not rolled').toBe(before);
    expectNoSecrets(again.all, { 'apply password': applySecrets[0] });
    expectNodesHold(appliedSecret()['registries.yaml'] ?? '');
  });

  it('a changed apply: a redacted diff in the output and in the writer log, the new file on every node', async () => {
    const before = Number(generation());
    writeFileSync(applyFile, applyFileV2);
    env[APPLY_VAR] = applySecrets[1];
    const apply = cli('registries', 'apply', '--context', plainContext, '-f', applyFile, '--ca', caFile, '--yes');
    expectOk(apply);
    expect(apply.stdout).toContain('registries.yaml: changes (secrets redacted):');
    expect(apply.stdout).toMatch(/\+ {2}quay\.io:/);
    expect(apply.stdout).toContain('credentials changed (values not shown): configs."registry.e2e.internal:5443".auth.password');
    expect(apply.stdout, 'the same CA is not reported as changed').not.toMatch(/^ca\.crt: /m);
    const secrets = { 'old apply password': applySecrets[0], 'new apply password': applySecrets[1] };
    expectNoSecrets(apply.all, secrets);
    expect(Number(generation())).toBeGreaterThan(before);

    const applied = appliedSecret()['registries.yaml'] ?? '';
    expect(parseYaml(applied)).toEqual(applyTheirs(applySecrets[1], true));
    expectNodesHold(applied);

    // The rolled pods' writers diffed the old file against the new one, both redacted.
    const logs = await eventually('the new writer pods to log their diffs', 90_000, () => {
      const text = writerLogs();
      expect(text.match(/registries\.yaml: changes \(secrets redacted\):/g)?.length).toBe(2);
      return text;
    });
    expect(logs).toMatch(/\+ {2}quay\.io:/);
    expectNoSecrets(logs, secrets);
  });

  it('once k3s restarts (k3d cluster stop/start), it uses the file on every node; status still matches', async () => {
    for (const verb of ['stop', 'start']) toolOk(tool('k3d', ['cluster', verb, plain]), `k3d cluster ${verb} ${plain}`);
    for (const node of nodesOf(plain)) {
      const toml = await eventually(`k3s on ${node} to write containerd's hosts.toml`, 120_000, () => hostsToml(node, 'registry.e2e.internal:5443'));
      expect(toml).toContain('https://registry.e2e.internal:5443');
      // The CA that apply installed, as containerd's `ca` for that registry.
      expect(toml).toContain('/etc/k3s-devreg/ca.crt');
      expect(hostsToml(node, 'quay.io')).toContain('https://quay-mirror.invalid');
    }
    // The writers ran again with their nodes and found the file in place.
    await eventually('every node to report the current file after the restart', 180_000, () => expectEveryNodeMatches());
  });

  it('status sees an edit on the host made after the writer ran (the check probe), and a new pod rewrites the file', async () => {
    const [server, agent] = nodesOf(plain) as [string, string];
    toolOk(tool('docker', ['exec', agent, 'sh', '-c', 'echo "# edited by hand" >> /etc/rancher/k3s/registries.yaml']), `docker exec ${agent} (edit)`);
    // The probe runs every 10s: the agent turns to "differs", the server still matches; exit 1.
    const report = await eventually('the edited node to report differs', 60_000, () => {
      const status = cli('registries', 'status', '--context', plainContext, '--json');
      const parsed = JSON.parse(status.stdout) as { allMatch: boolean; nodes: { node: string; state: string; detail: string }[] };
      expect(status.status).toBe(1);
      expect(Object.fromEntries(parsed.nodes.map((n) => [n.node, n.state]))).toEqual({ [server]: 'matches', [agent]: 'differs' });
      return parsed;
    });
    expect(report.allMatch).toBe(false);
    expect(report.nodes.find((n) => n.node === agent)?.detail).toContain('changed on the host since the writer ran');

    toolOk(
      tool('kubectl', ['--context', plainContext, '--namespace', WRITER.namespace, 'delete', 'pods', '--selector', `app.kubernetes.io/name=${WRITER.name}`, '--field-selector', `spec.nodeName=${agent}`, '--wait=true', '--timeout=60s']),
      'kubectl delete pods (the writer on the agent)',
    );
    await eventually('the new pod to rewrite the file', 120_000, () => expectEveryNodeMatches());
    expect(nodeFile(agent, '/etc/rancher/k3s/registries.yaml')).not.toContain('# edited by hand');
  });
});

/**
 * k3s told to read another file: by a config.yaml.d drop-in (mounted into every node by k3d, so k3s
 * reads it at start and records it in node-args), and by --private-registry on its command line
 * (k3d's --k3s-arg), which the writer cannot see in any file and must refuse.
 */
describe('registries apply where k3s reads another file', () => {
  const dropin = `e2e-dropin-${randomBytes(3).toString('hex')}`;
  const flag = `e2e-flag-${randomBytes(3).toString('hex')}`;
  const CUSTOM = '/etc/rancher/k3s/mirrors/from-dropin.yaml';
  const file = join(work, 'company', 'resolve.yaml');
  const secret = newSecret('resolve-pass');
  const nodes = (cluster: string) => [`k3d-${cluster}-server-0`, `k3d-${cluster}-agent-0`];

  beforeAll(() => {
    mkdirSync(join(work, 'company', 'dropin'), { recursive: true });
    writeFileSync(join(work, 'company', 'dropin', '50-registries.yaml'), `private-registry: ${CUSTOM}\n`);
    writeFileSync(file, `configs:\n  registry.e2e.internal:5443:\n    auth:\n      username: ci\n      password: {fromEnv: ${APPLY_VAR}}\n`);
    const dropinArgs = ['--volume', `${join(work, 'company', 'dropin', '50-registries.yaml')}:/etc/rancher/k3s/config.yaml.d/50-registries.yaml@all`];
    toolOk(tool('k3d', ['cluster', 'create', dropin, '--agents', '1', '--wait', ...dropinArgs, ...k3dPreloadArgs(join(work, `${dropin}-images`))]), `k3d cluster create ${dropin}`);
    toolOk(
      tool('k3d', ['cluster', 'create', flag, '--agents', '1', '--wait', '--k3s-arg', '--private-registry=/etc/rancher/k3s/from-flag.yaml@all', ...k3dPreloadArgs(join(work, `${flag}-images`))]),
      `k3d cluster create ${flag}`,
    );
  });

  afterAll(() => {
    tool('k3d', ['cluster', 'delete', dropin]);
    tool('k3d', ['cluster', 'delete', flag]);
  });

  it('writes the drop-in\'s file on every node (not registries.yaml), status shows its path, and k3s uses it once restarted', async () => {
    env[APPLY_VAR] = secret;
    const apply = cli('registries', 'apply', '--context', `k3d-${dropin}`, '-f', file, '--yes');
    expectOk(apply);
    expectNoSecrets(apply.all, { 'resolve password': secret });
    expect(apply.stdout).toContain(`k3d-${dropin}-server-0 (server, ${CUSTOM}): sudo systemctl restart k3s`);
    for (const node of nodes(dropin)) {
      expect(nodeFile(node, CUSTOM)).toContain('username: ci');
      expect(tool('docker', ['exec', node, 'test', '-e', '/etc/rancher/k3s/registries.yaml']).status, `${node} has no registries.yaml`).not.toBe(0);
    }
    const status = cli('registries', 'status', '--context', `k3d-${dropin}`, '--json');
    expectOk(status);
    expect((JSON.parse(status.stdout) as { nodes: { path: string }[] }).nodes.map((n) => n.path)).toEqual([CUSTOM, CUSTOM]);
    expectNoSecrets(status.all, { 'resolve password': secret });
    for (const verb of ['stop', 'start']) toolOk(tool('k3d', ['cluster', verb, dropin]), `k3d cluster ${verb} ${dropin}`);
    for (const node of nodes(dropin)) {
      await eventually(`k3s on ${node} to use ${CUSTOM}`, 120_000, () => expect(hostsToml(node, 'registry.e2e.internal:5443')).toContain('registry.e2e.internal:5443'));
    }
  });

  it('refuses, writing nothing, where k3s has --private-registry on its command line; status names the reason per node', async () => {
    env[APPLY_VAR] = secret;
    const apply = cli('registries', 'apply', '--context', `k3d-${flag}`, '-f', file, '--yes');
    // The pods never turn ready: apply waits for them, then shows the table and fails.
    expect(apply.status).not.toBe(0);
    expectNoSecrets(apply.all, { 'resolve password': secret });
    const report = await eventually('every node to report the refusal', 120_000, () => {
      const status = cli('registries', 'status', '--context', `k3d-${flag}`, '--json');
      const parsed = JSON.parse(status.stdout) as { nodes: { state: string; detail: string }[] };
      expect(parsed.nodes.map((n) => n.state)).toEqual(['failed', 'failed']);
      return parsed;
    });
    for (const n of report.nodes) expect(n.detail).toContain('k3s started with private-registry /etc/rancher/k3s/from-flag.yaml, but its config files now give /etc/rancher/k3s/registries.yaml');
    for (const node of nodes(flag)) {
      for (const path of ['/etc/rancher/k3s/from-flag.yaml', '/etc/rancher/k3s/registries.yaml']) {
        expect(tool('docker', ['exec', node, 'test', '-e', path]).status, `${node}: nothing written at ${path}`).not.toBe(0);
      }
    }
  });
});
