/**
 * doctor's node checks against stand-in nodes (busybox containers with k3s's files planted at k3s's
 * paths, test/helpers/doctor-node-bed.ts) and the real registry: a correct node is ok in every check;
 * each way a node's pull breaks is found, explained and given its fix; the containerd.log lines of
 * the real containerd (test/fixtures/containerd-log) are each explained. The read is one
 * `docker exec` per node (after one inspect), with no secret on any command line or in any finding.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/finding.js';
import { ensurePki } from '../../src/render/pki.js';
import { diagnoseNode, readStateFacts } from '../../src/steps/doctor-node.js';
import { checkRegistryTls } from '../../src/steps/doctor-tls.js';
import { createRunner, type Runner } from '../../src/tools/run.js';
import { DoctorNodeBed, hostsLine, SERVICE_IP } from '../helpers/doctor-node-bed.js';
import { dockerAvailable } from '../helpers/docker.js';

const bed = new DoctorNodeBed();
const calls: string[][] = [];
const seen: Finding[] = [];
const recording: Runner = async (file, args, options) => {
  calls.push([file, ...args]);
  return createRunner()(file, args, options);
};
const CHECKS = ['hosts entry', 'registries.yaml', 'hosts.toml', 'credentials', 'CA', 'certificate', 'clock', 'pull errors'];

async function diagnose(node: string, options: { stateDir?: string; serviceIp?: string } = {}): Promise<Record<string, Finding>> {
  const findings = await diagnoseNode({ run: recording, node, serviceIp: options.serviceIp ?? SERVICE_IP, port: bed.port, now: new Date() }, await readStateFacts(options.stateDir ?? bed.stateDir));
  seen.push(...findings);
  return Object.fromEntries(findings.map((f) => [f.check, f]));
}
const fresh = (log: string) => log.replace(/time="[^"]*"/g, `time="${new Date().toISOString()}"`);
const otherCA = () => ensurePki({}, { dnsNames: ['container-registry.local'], ipAddresses: [], now: new Date() }).pki.caCert;

describe.skipIf(!dockerAvailable)('doctor inside a node (stand-in nodes, the real registry)', () => {
  let good = '';
  beforeAll(async () => {
    await bed.setup();
    good = bed.startNode('good');
  }, 120_000);
  afterAll(() => {
    bed.teardown();
    const text = JSON.stringify(seen);
    // Checked here too, so that no case forgets it: the password never reaches a finding or an argv.
    expect(text).not.toContain(bed.password);
    expect(calls.flat().join(' ')).not.toContain(bed.password);
  });

  it('a correct node: every check ok, from one inspect and one exec', async () => {
    calls.length = 0;
    const f = await diagnose(good);
    expect(Object.keys(f)).toEqual(CHECKS);
    for (const check of CHECKS) expect(f[check], JSON.stringify(f[check])).toMatchObject({ where: good, status: 'ok' });
    expect(f['hosts entry']!.summary).toBe(`container-registry.local -> ${SERVICE_IP} (the registry Service)`);
    expect(f['hosts.toml']!.summary).toBe(`container-registry.local:5000 and localhost:${bed.port} go to https://container-registry.local:5000/v2 with the CA /etc/k3s-devreg/ca.crt`);
    expect(f.CA!.summary).toMatch(/^\/etc\/k3s-devreg\/ca\.crt is the state folder's CA \(sha256 .*\) and verifies the certificate the registry serves for container-registry.local$/);
    expect(f.credentials!.summary).toBe('config.toml holds credentials.json\'s user team-user and password for container-registry.local:5000');
    expect(f.certificate!.summary).toMatch(new RegExp(`^the registry certificate \\(served on 127.0.0.1:${bed.port}\\) names container-registry.local, localhost.* day\\(s\\) left on the node's clock$`));
    expect(calls.map((c) => c.slice(0, 3))).toEqual([['docker', 'container', 'inspect'], ['docker', 'exec', good]]);
    expect(calls[1]!.slice(3, 5)).toEqual(['sh', '-c']);
  });

  it('no hosts line, and a line with another address than the Service', async () => {
    bed.plant(good, { hosts: '127.0.0.1\tlocalhost\n' });
    let f = await diagnose(good);
    expect(f['hosts entry']).toMatchObject({ status: 'fail', summary: expect.stringContaining('no container-registry.local line in /etc/hosts'), fix: expect.stringContaining('daemonset/registry-hosts') });
    bed.plant(good, { hosts: `127.0.0.1\tlocalhost\n${hostsLine('10.43.0.99')}\n` });
    f = await diagnose(good);
    expect(f['hosts entry']).toMatchObject({ status: 'fail', summary: `container-registry.local maps to 10.43.0.99, but the registry Service's ClusterIP is ${SERVICE_IP}`, evidence: hostsLine('10.43.0.99') });
    bed.plant(good, {});
  });

  it('registries.yaml changed after the node started: a comment (k3s generated the same) warns, a new password fails', async () => {
    const state = bed.copyState('stale');
    const node = bed.startNode('stale', {}, state);
    const file = join(state, 'node/registries.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}# edited\n`);
    let f = await diagnose(node, { stateDir: state });
    expect(f['registries.yaml']).toMatchObject({ status: 'warn', summary: expect.stringContaining('changed after k3s started'), fix: `restart the node to apply the rest: docker restart ${node}` });
    // up's render with a new password, and no restart: k3s's files still hold the old one.
    await bed.rerender(state, 'a-new-password-for-stale');
    f = await diagnose(node, { stateDir: state });
    expect(f['registries.yaml']).toMatchObject({ status: 'fail', summary: expect.stringContaining("runs with an older registries.yaml (it reads the file only when it starts): config.toml's password for container-registry.local:5000 is not registries.yaml's"), fix: expect.stringContaining(`docker restart ${node}`) });
    expect(f['registries.yaml']!.evidence).toMatch(/^written .*, node started /);
    expect(f.credentials).toMatchObject({ status: 'fail', summary: "config.toml's password for team-user is not credentials.json's (neither is shown): the registry answers 401" });
    expect(JSON.stringify(f)).not.toContain('a-new-password-for-stale');
  });

  it('the CA missing in the node, and a CA that is not the state folder\'s', async () => {
    const state = bed.copyState('noca');
    rmSync(join(state, 'node/ca.crt'));
    let f = await diagnose(bed.startNode('noca', {}, state), { stateDir: state });
    expect(f.CA).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^\/etc\/k3s-devreg\/ca\.crt \(named in hosts.toml\) does not exist in the node/) });
    const wrong = bed.copyState('wrongca');
    writeFileSync(join(wrong, 'node/ca.crt'), otherCA());
    f = await diagnose(bed.startNode('wrongca', {}, wrong), { stateDir: wrong });
    expect(f.CA).toMatchObject({ status: 'fail', summary: expect.stringContaining("is not the state folder's CA"), evidence: expect.stringMatching(/^node: sha256 .*; state folder pki\/ca.crt: sha256 /), fix: expect.stringContaining('k3s-devreg up') });
  });

  it("the state folder's CA that did not sign what the registry serves: the TLS check fails", async () => {
    const state = bed.copyState('newca');
    const ca = otherCA();
    writeFileSync(join(state, 'node/ca.crt'), ca);
    writeFileSync(join(state, 'pki/ca.crt'), ca);
    const f = await diagnose(bed.startNode('newca', {}, state), { stateDir: state });
    expect(f.CA).toMatchObject({ status: 'fail', summary: expect.stringMatching(/but it does not verify the certificate the registry serves for container-registry.local \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/), fix: expect.stringContaining('issues the registry\'s certificate from this CA again') });
  });

  it('TLS to the real registry: the right CA verifies it for container-registry.local, another CA does not', async () => {
    const right = await checkRegistryTls({ port: bed.port, caPem: readFileSync(join(bed.stateDir, 'pki/ca.crt'), 'utf8') });
    expect(right).toMatchObject({ port: bed.port, authorized: true });
    expect(right.servedPem).toBe(readFileSync(join(bed.stateDir, 'pki/tls.crt'), 'utf8'));
    expect(await checkRegistryTls({ port: bed.port, caPem: otherCA() })).toMatchObject({ authorized: false, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('no credentials in config.toml, and wrong ones', async () => {
    const registries = bed.registriesOf();
    const without = structuredClone(registries);
    delete without.configs!['container-registry.local:5000']!.auth;
    bed.plant(good, { registries: without });
    let f = await diagnose(good);
    expect(f.credentials).toMatchObject({ status: 'fail', summary: expect.stringContaining('has no registry.configs."container-registry.local:5000".auth: the node pulls without credentials'), fix: expect.stringMatching(/^run k3s-devreg up/) });
    const wrong = structuredClone(registries);
    wrong.configs!['container-registry.local:5000']!.auth!.password = 'not-the-password';
    bed.plant(good, { registries: wrong });
    f = await diagnose(good);
    expect(f.credentials).toMatchObject({ status: 'fail', summary: expect.stringContaining("is not credentials.json's (neither is shown)") });
    expect(f['registries.yaml']!.status).toBe('fail');
    expect(JSON.stringify(f)).not.toContain('not-the-password');
    bed.plant(good, { registries });
  });

  it('the hosts.toml of the k3s ca_file regression, and a registries.yaml without the localhost mirror', async () => {
    bed.plant(good, { registries: bed.registriesOf(), shape: 'ca-regression' });
    let f = await diagnose(good);
    expect(f['hosts.toml']).toMatchObject({ status: 'fail', summary: expect.stringContaining('no [host] table'), fix: expect.stringContaining('k3s-devreg up --k3s-image rancher/k3s:v1.31.5-k3s1') });
    const old = bed.registriesOf();
    delete old.mirrors![`localhost:${bed.port}`];
    bed.plant(good, { registries: old });
    f = await diagnose(good);
    expect(f['hosts.toml']).toMatchObject({ status: 'fail', summary: expect.stringContaining(`no /var/lib/rancher/k3s/agent/etc/containerd/certs.d/localhost:${bed.port}/hosts.toml: containerd asks http://localhost:${bed.port} inside the node itself`) });
    expect(f['registries.yaml']).toMatchObject({ status: 'fail', summary: expect.stringContaining(`k3s generated no hosts.toml for localhost:${bed.port}`) });
    bed.plant(good, { registries: bed.registriesOf() });
  });

  const FIXTURES = new URL('../fixtures/containerd-log/', import.meta.url);
  const EXPECTED: Record<string, [string, RegExp]> = {
    x509: ['x509', /the CA it reads \(\/etc\/k3s-devreg\/ca\.crt/],
    'x509-name': ['x509', /does not cover the name other-name.example/],
    'x509-expired': ['x509', /outside its validity dates/],
    unauthorized: ['unauthorized', /differ from the registry's htpasswd/],
    'manifest-unknown': ['manifest-unknown', /holds no image of that repository and tag/],
    'no-such-host': ['no-such-host', /its \/etc\/hosts has no line for it/],
    'no-route': ['no-route', /old ClusterIP/],
    // No localhost mirror in the node: the error ends at k3s's fallback endpoint, as a missing tag behind the mirror does.
    'connection-refused': ['mirror-not-found', /the node's own localhost.*unless the node has no mirror for localhost:\d+, which the hosts\.toml and registries\.yaml findings then report/],
    'mirror-not-found': ['mirror-not-found', /our mirror, answered 'not found'.* is most likely not in the registry/],
    'http-to-https': ['http-to-https', /plain http/],
    timeout: ['timeout', /did not answer in time/],
  };
  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.log')).map((f) => f.replace(/\.log$/, '')))('containerd.log of the real containerd: %s', async (name) => {
    // Lines of another port's localhost are not ours: the fixtures were made with localhost:31113.
    // Dated now: doctor does not count lines logged before the node container last started.
    const log = fresh(readFileSync(new URL(`${name}.log`, FIXTURES), 'utf8').replaceAll('localhost:31113', `localhost:${bed.port}`));
    bed.plant(good, { containerdLog: log });
    const f = await diagnose(good);
    const [kind, cause] = EXPECTED[name]!;
    const last = log.trim().split('\n').filter((l) => l.includes('level=error')).at(-1)!;
    expect(f['pull errors']).toMatchObject({ status: 'fail', summary: expect.stringContaining(`(${kind}): `), evidence: last.trim() });
    expect(f['pull errors']!.summary).toMatch(cause);
    expect(f['pull errors']!.fix).toBeTruthy();
  });

  it('forgets a failed pull once the same image was pulled', async () => {
    const log = fresh(readFileSync(new URL('unauthorized.log', FIXTURES), 'utf8'));
    const image = /PullImage \\"([^\\]+)\\" failed/.exec(log)![1]!;
    bed.plant(good, { containerdLog: `${log}time="2026-12-02T05:00:00Z" level=info msg="PullImage \\"${image}\\" returns image reference \\"sha256:0123\\""\n` });
    expect((await diagnose(good))['pull errors']!.status).toBe('ok');
    bed.plant(good, {});
  });

  it("a failure logged before the node container last started (its State.StartedAt) is not counted: ok", async () => {
    const log = readFileSync(new URL('manifest-unknown.log', FIXTURES), 'utf8').replaceAll('localhost:31113', `localhost:${bed.port}`);
    bed.plant(good, { containerdLog: log });
    expect((await diagnose(good))['pull errors']).toMatchObject({ status: 'ok', summary: expect.stringContaining('since the node started') });
    bed.plant(good, {});
  });

  it('a node that is not running: one skip finding', async () => {
    const stopped = bed.startNode('stopped');
    bed.stop(stopped);
    expect(Object.values(await diagnose(stopped))).toEqual([{ check: 'node', where: stopped, status: 'skip', summary: 'the node container is exited: nothing inside it was checked' }]);
    expect(Object.values(await diagnose(good)).map((f) => [f.check, f.status])).toEqual(CHECKS.map((c) => [c, 'ok']));
  });
});
