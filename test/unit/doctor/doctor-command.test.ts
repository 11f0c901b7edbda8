/**
 * `doctor` as a user meets it, through runCli with the fake world after a finished `up`: the
 * registry answers for real on the published port (an https server with the state folder's
 * certificate and the htpasswd user, so the port probe and the nodes' TLS check are real), docker's
 * config.json is a real file, and each node's one `docker exec NODE sh -c SCRIPT` is answered with
 * the files k3s writes from the state folder's registries.yaml (k3s-containerd.ts). Each broken
 * piece gives its finding and fix and exit 1; no secret is printed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli.js';
import type { Finding } from '../../../src/doctor/finding.js';
import { NODE_PATHS, nodeReadScript } from '../../../src/doctor/node-read.js';
import { forgetSecretsForTests } from '../../../src/redact.js';
import { formatCommand, type Runner } from '../../../src/tools/run.js';
import { NODE_CA_FILE } from '../../../src/spec.js';
import { probeRegistry } from '../../../src/steps/registry-probe.js';
import { fakeFactory } from '../../helpers/commands.js';
import { fakeClock } from '../../helpers/fake-clock.js';
import { FakeWorld, SERVICE_IP } from '../../helpers/fake-cluster.js';
import { captureIo } from '../../helpers/io.js';
import { k3sHostsFiles, parseRegistriesYaml, registryConfigToml } from '../../helpers/k3s-containerd.js';
import { freePort } from '../../helpers/tools.js';

const PASSWORD = 'Doctor-Through-The-Cli-93';
const SERVER = 'k3d-devreg-server-0';
const AGENT = 'k3d-devreg-agent-0';
const NS = 'kubectl --context k3d-devreg --namespace container-registry';
/** The markers of doctor/node-read.ts's script output: one part per file, a missing file as MISSING. */
const MARK = '@@k3s-devreg-doctor@@';
const MISSING = '@@k3s-devreg-missing@@';

let home: string;
let stateDir: string;
let env: NodeJS.ProcessEnv;
let port: number;
let registry: Server | undefined;
let world: FakeWorld;
let factory: ReturnType<typeof fakeFactory>;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** What doctor-node's script prints in a node k3s started from the state folder's files; `change` alters a part. */
function nodeOutput(change: Record<string, string | undefined> = {}): string {
  const registriesYaml = readFileSync(join(stateDir, 'node', 'registries.yaml'), 'utf8');
  const registries = parseRegistriesYaml(registriesYaml);
  const parts: Record<string, string | undefined> = {
    clock: String(Math.floor(Date.now() / 1000)),
    hosts: `127.0.0.1\tlocalhost\n172.18.0.1 host.k3d.internal\n${SERVICE_IP} container-registry.local  # managed by k3s-devreg\n`,
    'registries.yaml': registriesYaml,
    ...Object.fromEntries(Object.entries(k3sHostsFiles(registries)).map(([dir, text]) => [`hosts.toml ${NODE_PATHS.certsDir}/${dir}/hosts.toml`, text])),
    'config.toml': registryConfigToml(registries, NODE_PATHS.certsDir),
    [`file ${NODE_CA_FILE}`]: readFileSync(join(stateDir, 'node', 'ca.crt'), 'utf8'),
    'containerd.log': '',
    ...change,
  };
  return Object.entries(parts).map(([name, text]) => `\n${MARK} ${name}\n${text ?? MISSING}`).join('');
}

/** What the registry holds: repository app with the tags 1 and 2. */
const HELD: Record<string, string[]> = { app: ['1', '2'] };
const DIGEST = `sha256:${'ab'.repeat(32)}`;
/** The registry's requests after the credentials passed: method, path and Accept. */
let asked: string[] = [];

/**
 * The registry on the published port, as the NodePort answers: our certificate, 401 without the
 * credentials; with them 200 for /v2/, a manifest HEAD (200 for a tag HELD has, 404 otherwise) and
 * a tags list (404 for a repository it does not have), as distribution answers them.
 */
async function startRegistry(): Promise<void> {
  const [cert, key] = ['pki/tls.crt', 'pki/tls.key'].map((f) => readFileSync(join(stateDir, f), 'utf8'));
  registry = createServer({ cert, key }, (req, res) => {
    if (req.headers.authorization !== basic('devreg', PASSWORD)) return void res.writeHead(401).end();
    const path = req.url ?? '';
    if (path !== '/v2/') asked.push(`${req.method} ${path} ${req.headers.accept ?? ''}`);
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    const tags = /^\/v2\/(.+)\/tags\/list(\?.*)?$/.exec(path);
    if (manifest && req.method === 'HEAD') {
      const found = HELD[manifest[1]!]?.includes(manifest[2]!);
      return void res.writeHead(found ? 200 : 404, found ? { 'docker-content-digest': DIGEST, 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '400' } : {}).end();
    }
    if (tags) {
      const held = HELD[tags[1]!];
      return void res.writeHead(held ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(held ? { name: tags[1], tags: held } : { errors: [{ code: 'NAME_UNKNOWN' }] }));
    }
    res.writeHead(path === '/v2/' ? 200 : 404).end();
  });
  await new Promise<void>((resolve) => registry!.listen(port, '127.0.0.1', resolve));
}

beforeEach(async () => {
  forgetSecretsForTests();
  asked = [];
  home = mkdtempSync(join(tmpdir(), 'k3s-devreg-doctor-cli-'));
  stateDir = join(home, 'devreg');
  mkdirSync(join(home, 'docker'));
  env = { K3S_DEVREG_HOME: home, K3S_DEVREG_PASSWORD: PASSWORD, DOCKER_CONFIG: join(home, 'docker') };
  port = await freePort();
  world = new FakeWorld();
  // The real probe against the real server; the nodes' clock and the certificate's dates are today's.
  factory = fakeFactory(world.runner, { clock: fakeClock(Date.now()), registryProbe: probeRegistry });
  expect(await runCli(['up', '--yes', '--port', String(port)], captureIo({ env }), fakeFactory(world.runner, { clock: fakeClock(Date.now()) }))).toBe(0);
  // The nodes (re)started after up wrote registries.yaml, as k3d creates them after the render.
  const started = new Date(Date.now() + 1_000).toISOString();
  world.cluster!.startedAt = { [SERVER]: started, [AGENT]: started };
  for (const node of [SERVER, AGENT]) world.override(`docker exec ${node} sh -c`, () => ({ stdout: nodeOutput() }));
  writeFileSync(join(home, 'docker', 'config.json'), JSON.stringify({ auths: { [`localhost:${port}`]: { auth: Buffer.from(`devreg:${PASSWORD}`).toString('base64') } } }));
  await startRegistry();
});

afterEach(async () => {
  await new Promise((resolve) => (registry ? registry.close(resolve) : resolve(undefined)));
  registry = undefined;
  rmSync(home, { recursive: true, force: true });
});

async function doctor(...args: string[]): Promise<{ code: number; findings: Finding[]; table: string; all: string; calls: string[] }> {
  const before = world.runner.calls.length;
  const json = captureIo({ env });
  const code = await runCli(['doctor', '--json', ...args], json, factory);
  const table = captureIo({ env });
  expect(await runCli(['doctor', ...args], table, factory)).toBe(code);
  const report = JSON.parse(json.stdout.join('\n')) as { cluster: string; healthy: boolean; findings: Finding[] };
  expect(report.cluster).toBe('devreg');
  expect(report.healthy).toBe(code === 0);
  const all = `${json.all()}\n${table.all()}`;
  for (const secret of [PASSWORD, Buffer.from(`devreg:${PASSWORD}`).toString('base64')]) expect(all).not.toContain(secret);
  return { code, findings: report.findings, table: table.stdout.join('\n'), all, calls: world.runner.lines().slice(before) };
}

const only = (findings: Finding[], check: string, where?: string) => {
  const found = findings.filter((f) => f.check === check && (where === undefined || f.where === where));
  expect(found, `${check} ${where ?? ''}`).toHaveLength(1);
  return found[0]!;
};

describe('doctor through runCli on the fake world', () => {
  it('a healthy cluster: every finding ok, exit 0; the kubectl and docker calls it adds, exactly', async () => {
    const { code, findings, table, calls } = await doctor();
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
    expect(code).toBe(0);
    expect(findings.map((f) => `${f.check} ${f.where}`)).toEqual(
      expect.arrayContaining([
        'cluster cluster',
        'registry service cluster',
        `hosts entry ${SERVER}`,
        `hosts entry ${AGENT}`,
        `CA ${AGENT}`,
        `registry pod ${SERVER}`,
        `disk pressure ${SERVER}`,
        `disk pressure ${AGENT}`,
        'docker login laptop',
        'registry port laptop',
      ]),
    );
    expect(only(findings, 'registry pod').summary).toBe(`pod registry-5f6d8c9b7-x2x4q is ready on ${SERVER}, no restarts`);
    expect(only(findings, 'docker login').summary).toBe(`docker is logged in to localhost:${port} as devreg`);
    expect(only(findings, 'registry port').summary).toBe(`https://localhost:${port}/v2/ answers 401 without and 200 with the credentials`);
    expect(table.split('\n')[0]).toMatch(/^CHECK +WHERE +STATUS +FINDING$/);
    expect(table.split('\n').at(-1)).toBe('no problem found: cluster devreg');
    for (const call of [
      `${NS} get service registry --ignore-not-found --output json`,
      `${NS} get pods --selector app.kubernetes.io/name=registry,app.kubernetes.io/part-of=k3s-devreg --output json`,
      'kubectl --context k3d-devreg get nodes --ignore-not-found --output json',
    ]) expect(calls, call).toContain(call);
    // One exec per node and run (the table run and the JSON run), and nothing but reads.
    expect(calls.filter((l) => l.startsWith(`docker exec ${AGENT} sh -c `))).toHaveLength(2);
    const reads = [/^docker (version|container inspect) /, /^docker exec k3d-devreg-(server|agent)-0 sh -c /, /^k3d cluster list --output json$/, /^kubectl --context k3d-devreg (--namespace \S+ )?get /];
    expect(calls.filter((l) => !reads.some((re) => re.test(l)))).toEqual([]);
  });

  it('no registry pod (its Deployment gone): the registry pod fails with up as the fix, exit 1', async () => {
    world.applied.delete('deployment/registry');
    const { code, findings, calls } = await doctor();
    expect(code).toBe(1);
    expect(only(findings, 'registry pod')).toEqual({
      check: 'registry pod',
      where: 'cluster',
      status: 'fail',
      summary: 'deployment/registry is missing in namespace container-registry',
      fix: 'run k3s-devreg up, which deploys the registry again (pushed images are kept in its volume)',
    });
    expect(calls).toContain(`${NS} get deployment registry --ignore-not-found --output json`);
  });

  it('a registry left read-only by an interrupted images prune: pushes would get 405, up is the fix, exit 1', async () => {
    expect(only((await doctor()).findings, 'registry writable')).toMatchObject({ where: SERVER, status: 'ok' });
    const deployment = world.applied.get('deployment/registry') as { spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } } };
    for (const e of deployment.spec.template.spec.containers[0]!.env) if (e.name === 'REGISTRY_STORAGE_MAINTENANCE_READONLY') e.value = '{"enabled":true}';
    const { code, findings } = await doctor();
    expect(code).toBe(1);
    expect(only(findings, 'registry writable')).toEqual({
      check: 'registry writable',
      where: SERVER,
      status: 'fail',
      summary: 'the registry is read-only, as an interrupted images prune leaves it: pulls work, pushes and deletes get 405',
      evidence: 'REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}',
      fix: 'run k3s-devreg up (it applies the writable setting again), or k3s-devreg images prune to finish the job',
    });
  });

  it('a registry that ran out of memory: not ready since, a failure with its exit code (exit 1); ready again, a warning (exit 0)', async () => {
    world.registryPod = { name: 'registry-5f6d8c9b7-x2x4q', ready: false, restarts: 3, lastTermination: { reason: 'OOMKilled', exitCode: 137 } };
    const { code, findings, table } = await doctor();
    expect(code).toBe(1);
    const pod = only(findings, 'registry pod', SERVER);
    expect(pod).toMatchObject({ status: 'fail', summary: 'pod registry-5f6d8c9b7-x2x4q is not ready and restarted 3 time(s), last ended OOMKilled (exit 137): the registry ran out of memory (its limit is 512Mi)' });
    expect(pod.fix).toContain('logs registry-5f6d8c9b7-x2x4q --previous');
    expect(table).toMatch(/^registry pod +k3d-devreg-server-0 +FAIL +pod registry-5f6d8c9b7-x2x4q is not ready and restarted 3 time\(s\), last ended OOMKilled/m);
    // One old OOMKilled stays in lastState for the pod's life: while the pod serves, worth a word, not a failure.
    world.registryPod = { name: 'registry-5f6d8c9b7-x2x4q', ready: true, restarts: 1, lastTermination: { reason: 'OOMKilled', exitCode: 137 } };
    const served = await doctor();
    expect(only(served.findings, 'registry pod')).toMatchObject({ status: 'warn', summary: 'pod registry-5f6d8c9b7-x2x4q is ready, but restarted 1 time(s), last ended OOMKilled (exit 137): the registry ran out of memory (its limit is 512Mi)', fix: expect.stringContaining('--previous') });
    expect(served.code).toBe(0);
    // Restarts for another reason while it serves: worth a look, not a failure.
    world.registryPod = { name: 'registry-5f6d8c9b7-x2x4q', ready: true, restarts: 1, lastTermination: { reason: 'Unknown', exitCode: 255 } };
    const again = await doctor();
    expect(only(again.findings, 'registry pod')).toMatchObject({ status: 'warn', summary: 'pod registry-5f6d8c9b7-x2x4q is ready, but restarted 1 time(s), last ended Unknown (exit 255)' });
    expect(again.code).toBe(0);
  });

  it('DiskPressure on a node, and a registry pod no node takes: both fail with how to free space, exit 1', async () => {
    world.nodeConditions[SERVER] = [{ type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }];
    world.registryPod = { name: 'registry-5f6d8c9b7-x2x4q', ready: false, restarts: 0, unschedulable: "0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling." };
    const { code, findings } = await doctor();
    expect(code).toBe(1);
    expect(only(findings, 'disk pressure', SERVER)).toEqual({
      check: 'disk pressure',
      where: SERVER,
      status: 'fail',
      summary: 'the node reports DiskPressure: the kubelet evicts pods and the scheduler places no new ones there',
      evidence: 'DiskPressure=True (KubeletHasDiskPressure: kubelet has disk pressure)',
      fix: 'free disk space where docker keeps its data: docker system df, docker image prune, k3s-devreg images prune; on Docker Desktop raise the disk size (Settings, Resources)',
    });
    expect(only(findings, 'disk pressure', AGENT).status).toBe('ok');
    expect(only(findings, 'registry pod')).toMatchObject({ where: 'cluster', status: 'fail', summary: 'pod registry-5f6d8c9b7-x2x4q is not scheduled on any node', evidence: expect.stringContaining('node.kubernetes.io/disk-pressure') as unknown });
    expect(only(findings, 'registry pod').fix).toMatch(/^free disk space/);
  });

  it('--pod with an x509 pull event: quoted, classified, and explained by the failing CA on the pod\'s node, exit 1', async () => {
    const x509 = `Failed to pull image "localhost:${port}/app:1": rpc error: code = Unknown desc = failed to pull and unpack image "localhost:${port}/app:1": failed to resolve reference "localhost:${port}/app:1": failed to do request: Head "https://container-registry.local:5000/v2/app/manifests/1?ns=localhost%3A${port}": tls: failed to verify certificate: x509: certificate signed by unknown authority`;
    world.pods['default/web'] = { metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: AGENT }, status: { phase: 'Pending', containerStatuses: [{ name: 'web', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "localhost:${port}/app:1"` } } }] } };
    world.events['default/web'] = [
      { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned default/web to ${AGENT}`, lastTimestamp: '2026-12-02T08:00:00Z' },
      { type: 'Warning', reason: 'Failed', message: x509, count: 3, lastTimestamp: '2026-12-02T08:00:05Z' },
      { type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "localhost:${port}/app:1"`, count: 5, lastTimestamp: '2026-12-02T08:00:09Z' },
    ];
    // The agent's CA file is not the CA that signed the registry's certificate.
    world.override(`docker exec ${AGENT} sh -c`, () => ({ stdout: nodeOutput({ [`file ${NODE_CA_FILE}`]: readFileSync(join(stateDir, 'pki', 'tls.crt'), 'utf8') }) }));
    const { code, findings, table, calls } = await doctor('--pod', 'web');
    expect(code).toBe(1);
    const ca = only(findings, 'CA', AGENT);
    expect(ca.status).toBe('fail');
    expect(only(findings, 'CA', SERVER).status).toBe('ok');
    const pod = only(findings, 'pod events', 'default/web');
    expect(pod.status).toBe('fail');
    expect(pod.summary).toMatch(/^ImagePullBackOff on k3d-devreg-agent-0: x509: containerd on the node does not trust the registry's certificate/);
    expect(pod.summary).toMatch(/; explained by: CA on k3d-devreg-agent-0$/);
    expect(pod.evidence).toBe(x509);
    expect(pod.fix).toBe(ca.fix);
    expect(table).toMatch(/^pod events +default\/web +FAIL +ImagePullBackOff on k3d-devreg-agent-0: x509: /m);
    expect(table).toContain(`evidence: ${x509}`);
    expect(calls).toContain('kubectl --context k3d-devreg --namespace default get pod web --ignore-not-found --output json');
    expect(calls).toContain('kubectl --context k3d-devreg --namespace default get events --field-selector involvedObject.kind=Pod,involvedObject.name=web --output json');
    // The pod finding comes last: it speaks of the others.
    expect(findings.at(-1)).toBe(findings.find((f) => f.check === 'pod events'));
  });

  describe('--pod on a pod pulling localhost:PORT/app:TAG whose event ends at k3s\'s fallback endpoint, refused in the node', () => {
    const fallbackRefused = (tag: string) =>
      `Failed to pull image "localhost:${port}/app:${tag}": rpc error: code = Unknown desc = failed to pull and unpack image "localhost:${port}/app:${tag}": failed to resolve reference "localhost:${port}/app:${tag}": failed to do request: Head "http://localhost:${port}/v2/app/manifests/${tag}": dial tcp 127.0.0.1:${port}: connect: connection refused`;
    const pulling = (tag: string) => {
      world.pods['default/web'] = { metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: AGENT }, status: { phase: 'Pending', containerStatuses: [{ name: 'web', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "localhost:${port}/app:${tag}"` } } }] } };
      world.events['default/web'] = [{ type: 'Warning', reason: 'Failed', message: fallbackRefused(tag), count: 2, lastTimestamp: '2026-12-02T08:00:05Z' }];
    };
    const accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

    it('a tag the registry lacks: the registry asked from this machine, the finding says it has no such tag (and which it has) with the push fix, exit 1', async () => {
      pulling('missing');
      const { code, findings, table } = await doctor('--pod', 'web');
      expect(code).toBe(1);
      // Once per run (the JSON one and the table one): the manifest HEAD with every manifest kind accepted, then the tags.
      expect(asked).toEqual([`HEAD /v2/app/manifests/missing ${accept}`, 'GET /v2/app/tags/list?n=100 ', `HEAD /v2/app/manifests/missing ${accept}`, 'GET /v2/app/tags/list?n=100 ']);
      const pod = only(findings, 'pod events', 'default/web');
      expect(pod).toEqual({
        check: 'pod events',
        where: 'default/web',
        status: 'fail',
        summary: `ImagePullBackOff on ${AGENT}: manifest-unknown: the registry has no tag missing of app (it has: 1, 2), so no endpoint could serve localhost:${port}/app:missing`,
        evidence: `the registry has no tag missing of app (it has: 1, 2); the pull error: ${fallbackRefused('missing')}`,
        fix: `push it (docker tag IMAGE localhost:${port}/app:missing && docker push localhost:${port}/app:missing) or correct the name and tag in the pod spec; k3s-devreg images ls shows what the registry holds`,
      });
      expect(table).toMatch(new RegExp(`^pod events +default/web +FAIL +ImagePullBackOff on ${AGENT}: manifest-unknown: the registry has no tag missing of app`, 'm'));
      // Nothing else is wrong: the nodes have the mirror.
      expect(findings.filter((f) => f.status === 'fail').map((f) => f.check)).toEqual(['pod events']);
    });

    it('a repository the registry lacks: "no repository"', async () => {
      pulling('1');
      world.events['default/web'] = [{ type: 'Warning', reason: 'Failed', message: fallbackRefused('1').replaceAll('/app', '/shop/app'), count: 1, lastTimestamp: '2026-12-02T08:00:05Z' }];
      const pod = only((await doctor('--pod', 'web')).findings, 'pod events');
      expect(pod.summary).toBe(`ImagePullBackOff on ${AGENT}: manifest-unknown: the registry has no repository shop/app, so no endpoint could serve localhost:${port}/shop/app:1`);
    });

    it('a tag the registry has, with the same event: the classifier\'s explanation of the fallback (the mirror missing on that node), exit 1', async () => {
      pulling('1');
      const { code, findings } = await doctor('--pod', 'web');
      expect(code).toBe(1);
      expect(asked).toEqual([`HEAD /v2/app/manifests/1 ${accept}`, `HEAD /v2/app/manifests/1 ${accept}`]);
      const pod = only(findings, 'pod events', 'default/web');
      expect(pod.summary).toMatch(new RegExp(`^ImagePullBackOff on ${AGENT}: mirror-not-found: containerd's last try was http://localhost:${port} inside the node: the node's own localhost, which is not the way to the registry \\(dial tcp 127\\.0\\.0\\.1:${port}: connect: connection refused\\);`));
      expect(pod.summary).toContain(`unless the node has no mirror for localhost:${port}, which the hosts.toml and registries.yaml findings then report`);
      expect(pod.evidence).toBe(fallbackRefused('1'));
      expect(pod.fix).toBe(`push it (docker push localhost:${port}/app:1) or correct the name and tag in the pod spec; k3s-devreg images ls shows what the registry holds; if the node's hosts.toml finding fails, run k3s-devreg up`);
    });

    it("the same failure in the agent's containerd.log: its pull errors finding says the registry has no such tag, asked once per run with the pod's", async () => {
      pulling('missing');
      const error = fallbackRefused('missing').replace(/^Failed to pull image "[^"]+": rpc error: code = Unknown desc = /, '');
      const line = `time="${new Date(Date.now() + 60_000).toISOString()}" level=error msg="PullImage \\"localhost:${port}/app:missing\\" failed" error="${error.replaceAll('"', '\\"')}"`;
      world.override(`docker exec ${AGENT} sh -c`, () => ({ stdout: nodeOutput({ 'containerd.log': `${line}\n` }) }));
      const { code, findings } = await doctor('--pod', 'web');
      expect(code).toBe(1);
      const pulls = only(findings, 'pull errors', AGENT);
      expect(pulls).toMatchObject({ status: 'fail', evidence: `the registry has no tag missing of app (it has: 1, 2); the log line: ${line}` });
      expect(pulls.summary).toMatch(new RegExp(`^the pull of localhost:${port}/app:missing failed at .* \\(manifest-unknown\\): the registry has no tag missing of app \\(it has: 1, 2\\)`));
      expect(pulls.fix).toMatch(/^push it \(docker tag IMAGE localhost:\d+\/app:missing && docker push localhost:\d+\/app:missing\)/);
      expect(only(findings, 'pull errors', SERVER).status).toBe('ok');
      expect(only(findings, 'pod events').summary).toContain('manifest-unknown: the registry has no tag missing of app');
      expect(asked.filter((a) => a.startsWith('HEAD'))).toHaveLength(2);
    });

    it('the registry not answering on this machine: the classifier\'s explanation stands', async () => {
      pulling('missing');
      await new Promise((resolve) => registry!.close(resolve));
      registry = undefined;
      const { code, findings } = await doctor('--pod', 'web');
      expect(code).toBe(1);
      expect(only(findings, 'pod events').summary).toMatch(/^ImagePullBackOff on k3d-devreg-agent-0: mirror-not-found: containerd's last try was/);
    });
  });

  it('--pod for a pod that does not exist fails with how to find it; a malformed --pod is exit 2 before any call', async () => {
    const { code, findings } = await doctor('--pod', 'shop/gone');
    expect(code).toBe(1);
    expect(only(findings, 'pod events')).toEqual({
      check: 'pod events',
      where: 'shop/gone',
      status: 'fail',
      summary: 'there is no pod gone in namespace shop',
      fix: 'find its name and namespace with kubectl --context k3d-devreg get pods --all-namespaces, then run doctor --pod NAMESPACE/POD',
    });
    const before = world.runner.calls.length;
    const io = captureIo({ env });
    expect(await runCli(['doctor', '--pod', 'shop/Web/x'], io, factory)).toBe(2);
    expect(io.stderr.at(-1)).toBe('error: --pod "shop/Web/x" is not a pod name: give --pod POD (namespace default) or --pod NAMESPACE/POD, lower-case as kubectl get pods shows them');
    expect(world.runner.calls.length).toBe(before);
  });

  it('docker not logged in to localhost:PORT: the docker login finding fails with how to log in, exit 1', async () => {
    writeFileSync(join(home, 'docker', 'config.json'), JSON.stringify({ auths: { 'localhost:5000': { auth: Buffer.from(`devreg:${PASSWORD}`).toString('base64') } } }));
    const { code, findings } = await doctor();
    expect(code).toBe(1);
    expect(only(findings, 'docker login')).toMatchObject({
      where: 'laptop',
      status: 'fail',
      summary: `docker is not logged in to localhost:${port}: docker push to it is refused`,
      fix: expect.stringContaining(`run k3s-devreg verify --name devreg (it logs docker in to localhost:${port})`) as unknown,
    });
    expect(findings.filter((f) => f.status === 'fail').map((f) => f.check)).toEqual(['docker login']);
  });

  it("a broken credentials.json: docker login fails on its own, and the registry port is still reported", async () => {
    writeFileSync(join(stateDir, 'credentials.json'), '{ "username": "devreg", ');
    const { code, findings } = await doctor();
    expect(code).toBe(1);
    expect(only(findings, 'docker login')).toMatchObject({ where: 'laptop', status: 'fail' });
    expect(only(findings, 'docker login').summary).toContain('credentials.json');
    // Its own finding: the probe needs the credentials too, so it names the same file.
    expect(only(findings, 'registry port', 'laptop')).toMatchObject({ status: 'fail', summary: expect.stringContaining('credentials.json') });
    expect(findings.slice(-2).map((f) => f.check)).toEqual(['docker login', 'registry port']);
  });

  it('doctor --verbose: every command shown on stderr (the node script\'s docker exec too), no password, bcrypt hash or config.toml credentials', async () => {
    const io = captureIo({ env });
    // As src/factory.ts does with the real runner: --verbose echoes each command through redact().
    const logged = (log: (line: string) => void): Runner => async (file, args, options) => {
      log(`$ ${formatCommand(file, args)}${options?.input === undefined ? '' : ' <stdin>'}`);
      return world.runner(file, args, options);
    };
    const verbose = { ...factory, runner: (on: boolean) => (on ? logged((line) => io.err(line)) : world.runner) };
    expect(await runCli(['doctor', '--verbose'], io, verbose)).toBe(0);
    const all = io.all();
    expect(all).toContain(`$ ${formatCommand('docker', ['exec', AGENT, 'sh', '-c', nodeReadScript(['container-registry.local:5000', `localhost:${port}`])])}`);
    const hash = readFileSync(join(stateDir, 'auth', 'htpasswd'), 'utf8').trim().split(':')[1]!;
    expect(hash).toMatch(/^\$2[aby]\$/);
    const configToml = /password = .*/.exec(registryConfigToml(parseRegistriesYaml(readFileSync(join(stateDir, 'node', 'registries.yaml'), 'utf8')), NODE_PATHS.certsDir))![0];
    expect(configToml).toContain(PASSWORD);
    for (const secret of [PASSWORD, hash, configToml, Buffer.from(`devreg:${PASSWORD}`).toString('base64')]) expect(all).not.toContain(secret);
  });

  it('the port not answering: the registry port fails (the nodes\' TLS check can only warn), exit 1', async () => {
    await new Promise((resolve) => registry!.close(resolve));
    registry = undefined;
    const { code, findings } = await doctor();
    expect(code).toBe(1);
    const portFinding = only(findings, 'registry port');
    expect(portFinding).toMatchObject({ where: 'laptop', status: 'fail', fix: 'run k3s-devreg up' });
    expect(portFinding.summary).toBe(`the registry does not answer on https://127.0.0.1:${port}/v2/ (ECONNREFUSED)`);
    expect(only(findings, 'CA', AGENT).status).toBe('warn');
  });

  it('a node docker cannot exec into: one failed finding for it, the other node and the rest still checked, exit 1', async () => {
    world.override(`docker exec ${AGENT} sh -c`, { exitCode: 1, stderr: `Error response from daemon: Container ${AGENT}-id is restarting, wait until the container is running` });
    const { code, findings } = await doctor();
    expect(code).toBe(1);
    const node = only(findings, 'node', AGENT);
    expect(node).toMatchObject({ status: 'fail', fix: `check that ${AGENT} runs and answers: docker exec ${AGENT} true` });
    expect(node.summary).toContain('is restarting, wait until the container is running');
    expect(findings.filter((f) => f.where === AGENT)).toEqual([node, only(findings, 'disk pressure', AGENT)]);
    expect(only(findings, 'hosts entry', SERVER).status).toBe('ok');
    expect(only(findings, 'registry port').status).toBe('ok');
  });

  it('no cluster: the cluster finding fails with up as the fix, the checks inside it are skipped, exit 1', async () => {
    expect(await runCli(['down'], captureIo({ env }), factory)).toBe(0);
    const { code, findings, calls } = await doctor();
    expect(code).toBe(1);
    expect(findings.map((f) => [f.check, f.status])).toEqual([
      ['cluster', 'fail'],
      ['nodes', 'skip'],
      ['registry port', 'skip'],
    ]);
    expect(findings[0]).toMatchObject({ summary: 'no k3d cluster named devreg', fix: 'run k3s-devreg up' });
    expect(findings[1]!.summary).toBe('there is no cluster');
    expect(calls.some((l) => l.startsWith('kubectl'))).toBe(false);
  });
});
