/**
 * doctor's pure node analyses: the script's output parsed part by part, k3s's TOML read back (every
 * password of the render tests through Go's %q), and each check's verdicts, from what a node holds.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialsFinding, hostsEntryFinding, hostsTomlFinding, registriesYamlFinding } from '../../../src/doctor/node-files.js';
import { configTomlAuth, nodeReadScript, parseNodeRead, tomlTables, type NodeRead } from '../../../src/doctor/node-read.js';
import { caFinding, certificateFinding, clockFinding, pullErrorsFinding } from '../../../src/doctor/node-trust.js';
import { ensurePki } from '../../../src/render/pki.js';
import { ourRegistries, renderRegistriesYaml } from '../../../src/render/registries-yaml.js';
import { issueCertificate, subjectDer } from '../../../src/render/x509.js';
import type { RegistriesConfig } from '../../../src/registries/types.js';
import { k3sHostsFiles, registryConfigToml } from '../../helpers/k3s-containerd.js';

const REGISTRY = 'container-registry.local:5000';
const PASSWORDS = ['p$a"ss w#rd:\\x', "'single' and \"double\"", ' leading and trailing space ', 'ü€😀 non-ascii', '{{ .Password }} %q %s [host]', "it's `$(whoami)` ${HOME}", 'tab\there'];
const read = (over: Partial<NodeRead> = {}): NodeRead => ({ hostsToml: {}, files: {}, ...over });
const credentials = { username: 'team-user', password: 'the-password-1' };

describe('the node read script and its output', () => {
  it('names only paths and our hosts, no secret', () => {
    const script = nodeReadScript([REGISTRY, 'localhost:31113']);
    expect(script).toContain("'/var/lib/rancher/k3s/agent/etc/containerd/certs.d/localhost:31113/hosts.toml'");
    expect(script).toContain('tail -n 3000');
    expect(script).not.toMatch(/password/i);
  });

  it('parses each part, keeps files byte for byte, and tells missing files apart', () => {
    // As the script prints: each part after '\n<mark> <name>\n', then the file as cat prints it.
    const part = (name: string, content: string) => `\n@@k3s-devreg-doctor@@ ${name}\n${content}`;
    const stdout = [
      part('clock', '1764650000\n'),
      part('hosts', '127.0.0.1 localhost\n10.43.0.5 container-registry.local\n'),
      part('registries.yaml', '@@k3s-devreg-missing@@\n'),
      part(`hosts.toml /var/lib/rancher/k3s/agent/etc/containerd/certs.d/${REGISTRY}/hosts.toml`, 'server = "x"\n'),
      part('config.toml', 'no final newline'),
      part('file /etc/k3s-devreg/ca.crt', 'PEM\n'),
      part('containerd.log', 'line 1\n'),
    ].join('').replace(/\n$/, ''); // the runner drops one final newline
    expect(parseNodeRead(stdout)).toEqual({
      clock: 1764650000,
      hosts: '127.0.0.1 localhost\n10.43.0.5 container-registry.local\n',
      hostsToml: { [REGISTRY]: 'server = "x"\n' },
      configToml: 'no final newline',
      files: { '/etc/k3s-devreg/ca.crt': 'PEM\n' },
      containerdLog: 'line 1',
    });
  });
});

describe("k3s's TOML read back", () => {
  it.each(PASSWORDS)('config.toml credentials through Go quoting: %s', (password) => {
    const toml = registryConfigToml(ourRegistries({ username: 'team-user', password }, 31113) as RegistriesConfig, '/certs.d');
    expect(configTomlAuth(toml, REGISTRY)).toEqual({ username: 'team-user', password });
    expect(configTomlAuth(toml, 'localhost:31113')).toBeUndefined();
  });

  it("reads containerd 2's version-3 table names too", () => {
    const toml = `[plugins.'io.containerd.cri.v1.images'.registry.configs.'${REGISTRY}'.auth]\n  username = "u"\n  password = "p w"\n`;
    expect(configTomlAuth(toml, REGISTRY)).toEqual({ username: 'u', password: 'p w' });
  });

  it("reads k3s v1.31.5's hosts.toml", () => {
    const tables = tomlTables(readFileSync(new URL('../../fixtures/k3s/hosts-v1.31.5.toml', import.meta.url), 'utf8'));
    expect(tables).toEqual([
      { header: '', values: { server: ['https://container-registry.local:5000/v2'], capabilities: ['pull', 'resolve', 'push'], ca: ['/etc/k3s-devreg/ca.crt'] } },
      { header: 'host', values: {} },
    ]);
  });
});

describe('hosts entry', () => {
  it('ok without a Service IP to compare, naming that', () => {
    const f = hostsEntryFinding('n', read({ hosts: '10.43.0.5 container-registry.local\n' }), '10.43.0.5', undefined);
    expect(f).toMatchObject({ status: 'ok', summary: "container-registry.local -> 10.43.0.5 (the Service's ClusterIP was not known to compare)" });
  });
});

describe('hosts.toml', () => {
  const files = k3sHostsFiles(ourRegistries(credentials, 31113) as never);
  const fixed = read({ hostsToml: { [REGISTRY]: files[REGISTRY], 'localhost:31113': files['localhost:31113'] } });
  it("k3s's files for both our hosts are ok", () => {
    expect(hostsTomlFinding('n', fixed, 31113)).toMatchObject({ status: 'ok', summary: `${REGISTRY} and localhost:31113 go to https://${REGISTRY}/v2 with the CA /etc/k3s-devreg/ca.crt` });
  });
  it('the v1.29.3 shape (no [host] table) is the ca_file regression', () => {
    const regressed = read({ hostsToml: { [REGISTRY]: readFileSync(new URL('../../fixtures/k3s/hosts-v1.29.3.toml', import.meta.url), 'utf8') } });
    expect(hostsTomlFinding('n', regressed, undefined)).toMatchObject({ status: 'fail', summary: expect.stringContaining('k3s issue 9839'), fix: expect.stringContaining('--k3s-image') });
  });
  it('a mirror table without a CA', () => {
    const noCa = read({ hostsToml: { [REGISTRY]: files[REGISTRY], 'localhost:31113': files['localhost:31113']!.replace(/\n\s*ca = .*/, '') } });
    expect(hostsTomlFinding('n', noCa, 31113)).toMatchObject({ status: 'fail', summary: `localhost:31113: no ca for https://${REGISTRY}/v2 (registries.yaml's tls.ca_file did not reach it)` });
  });
});

describe('registries.yaml', () => {
  const text = renderRegistriesYaml(ourRegistries(credentials, 31113));
  const generated = read({
    registriesYaml: text,
    hostsToml: k3sHostsFiles(ourRegistries(credentials, 31113) as never),
    configToml: registryConfigToml(ourRegistries(credentials, 31113) as RegistriesConfig, '/certs.d'),
  });
  const facts = { stateText: text, stateMtime: new Date('2026-12-01T10:00:00Z'), startedAt: '2026-12-01T10:00:05.123Z', port: 31113, stateDir: '/s' };
  it('ok when the node reads the state folder\'s file and k3s generated from it', () => {
    expect(registriesYamlFinding('n', generated, facts)).toMatchObject({ status: 'ok', evidence: 'written 2026-12-01T10:00:00.000Z, node started 2026-12-01T10:00:05.123Z' });
  });
  it('another file in the node: the mount, never its lines (they may hold the password)', () => {
    const f = registriesYamlFinding('n', { ...generated, registriesYaml: text.replace('the-password-1', 'other') }, facts);
    expect(f).toMatchObject({ status: 'fail', summary: "/etc/k3s-devreg/registries.yaml in the node is not the state folder's node/registries.yaml", fix: expect.stringContaining('down, then up') });
    expect(JSON.stringify(f)).not.toMatch(/the-password-1|other/);
  });
  it('missing in the node; not YAML', () => {
    expect(registriesYamlFinding('n', read(), facts)).toMatchObject({ status: 'fail', summary: expect.stringContaining('is missing in the node') });
    expect(registriesYamlFinding('n', { ...generated, registriesYaml: 'a: [' }, { ...facts, stateText: 'a: [' })).toMatchObject({ status: 'fail', summary: expect.stringContaining('is not valid YAML') });
  });
  it('changed after start with the same generated files: a warning', () => {
    expect(registriesYamlFinding('n', generated, { ...facts, stateMtime: new Date('2026-12-01T11:00:00Z') })).toMatchObject({ status: 'warn' });
  });
});

describe('credentials', () => {
  const withAuth = (auth: string) => read({ configToml: `[plugins."io.containerd.grpc.v1.cri".registry.configs."${REGISTRY}".auth]\n  auth = "${auth}"\n` });
  it('reads the base64 auth form', () => {
    expect(credentialsFinding('n', withAuth(Buffer.from('team-user:the-password-1').toString('base64')), credentials, '/s').status).toBe('ok');
  });
  it('names both users when they differ, never a password', () => {
    const f = credentialsFinding('n', withAuth(Buffer.from('someone:the-password-1').toString('base64')), credentials, '/s');
    expect(f).toMatchObject({ status: 'fail', summary: `config.toml's registry.configs."${REGISTRY}".auth names the user someone, credentials.json team-user` });
    expect(JSON.stringify(f)).not.toContain('the-password-1');
  });
});

describe('certificate, clock, CA and pull errors', () => {
  const { pki } = ensurePki({}, { dnsNames: ['container-registry.local', 'localhost'], ipAddresses: [], now: new Date('2026-12-01T00:00:00Z') });
  const at = (iso: string) => read({ clock: new Date(iso).getTime() / 1000 });
  it('dates on the node clock', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    expect(certificateFinding('n', at('2026-12-02T00:00:00Z'), undefined, pki.tlsCert, now)).toMatchObject({ status: 'ok', summary: expect.stringContaining("the state folder's pki/tls.crt") });
    expect(certificateFinding('n', at('2020-01-01T00:00:00Z'), undefined, pki.tlsCert, now)).toMatchObject({ status: 'fail', summary: "the registry certificate is not valid yet on the node's clock" });
    expect(certificateFinding('n', at('2040-01-01T00:00:00Z'), undefined, pki.tlsCert, now)).toMatchObject({ status: 'fail', summary: "the registry certificate has expired on the node's clock" });
    const notAfter = certificateFinding('n', at('2026-12-02T00:00:00Z'), undefined, pki.tlsCert, now).summary.match(/has (\d+) day/)![1]!;
    const nearEnd = new Date(new Date('2026-12-02T00:00:00Z').getTime() + (Number(notAfter) - 10) * 86_400_000).toISOString();
    expect(certificateFinding('n', at(nearEnd), undefined, pki.tlsCert, now)).toMatchObject({ status: 'warn', summary: expect.stringMatching(/expires in 1\d day\(s\)/) });
  });
  it('a certificate without localhost', () => {
    const key = createPrivateKey(pki.caKey);
    const cert = issueCertificate({
      serialHex: '01', notBefore: new Date('2026-01-01'), notAfter: new Date('2027-01-01'), commonName: 'x', issuerDer: subjectDer(pki.caCert), ca: false,
      keyUsage: ['digitalSignature'], serverAuth: true, dnsNames: ['container-registry.local'], publicKey: createPublicKey(pki.tlsKey), signingKey: key,
    });
    expect(certificateFinding('n', at('2026-06-01T00:00:00Z'), undefined, cert, new Date())).toMatchObject({ status: 'fail', summary: expect.stringContaining('does not name localhost'), evidence: 'names: container-registry.local' });
  });
  it('clock skew', () => {
    expect(clockFinding('n', at('2026-12-01T00:02:00Z'), new Date('2026-12-01T00:00:00Z'))).toMatchObject({ status: 'warn', summary: expect.stringContaining('120s ahead of') });
    expect(clockFinding('n', read(), new Date())).toMatchObject({ status: 'warn' });
    expect(clockFinding('n', at('2026-12-01T00:00:30Z'), new Date('2026-12-01T00:00:00Z')).status).toBe('ok');
  });
  it('the CA: not tried without a port, a warning when the registry does not answer', () => {
    const node = read({ files: { '/etc/k3s-devreg/ca.crt': pki.caCert } });
    expect(caFinding('n', node, ['/etc/k3s-devreg/ca.crt'], pki.caCert, undefined)).toMatchObject({ status: 'ok', summary: expect.stringContaining('its port is unknown') });
    expect(caFinding('n', node, ['/etc/k3s-devreg/ca.crt'], pki.caCert, { port: 1, authorized: false, unreachable: 'ECONNREFUSED' })).toMatchObject({ status: 'warn', summary: expect.stringContaining('ECONNREFUSED') });
  });
  it('pull errors: none, unknown, no log', () => {
    expect(pullErrorsFinding('n', read({ containerdLog: 'time="t" level=info msg="hello"' }), [REGISTRY], undefined, new Date()).status).toBe('ok');
    const unknown = `time="t" level=error msg="PullImage \\"${REGISTRY}/a:1\\" failed" error="something new"`;
    expect(pullErrorsFinding('n', read({ containerdLog: unknown }), [REGISTRY], undefined, new Date())).toMatchObject({ status: 'warn', evidence: unknown });
    expect(pullErrorsFinding('n', read(), [REGISTRY], undefined, new Date()).status).toBe('skip');
  });

  describe('pull errors in time: the node started at 10:00, its clock says 12:00', () => {
    const started = '2026-12-01T10:00:00Z';
    const clock = Date.parse('2026-12-01T12:00:00Z') / 1000;
    // Far from the node's clock: only the node's clock may date its log lines.
    const now = new Date('2030-01-01T00:00:00Z');
    const line = (time: string, image: string, error: string) => `time="${time}" level=error msg="PullImage \\"${REGISTRY}/${image}\\" failed" error="${error}"`;
    const at = (...lines: string[]) => pullErrorsFinding('k3d-x-agent-0', read({ clock, containerdLog: lines.join('\n') }), [REGISTRY], started, now);

    it('an error from before the node last started is not counted: ok', () => {
      expect(at(line('2026-12-01T09:59:59.5Z', 'typo:1', 'x: manifest unknown'))).toMatchObject({ status: 'ok', summary: expect.stringContaining('since the node started') });
    });
    it('an explained error older than the window warns, saying how long ago, with a fix', () => {
      const f = at(line('2026-12-01T10:45:00.123456789Z', 'typo:1', 'x: manifest unknown'));
      expect(f).toMatchObject({ status: 'warn', summary: expect.stringContaining(`the pull of ${REGISTRY}/typo:1 failed at 2026-12-01T10:45:00.123456789Z, 75 min ago (manifest-unknown)`) });
      expect(f.summary).toContain('not repeated for over 1 h');
      expect(f.fix).toContain('docker restart k3d-x-agent-0');
    });
    it('an explained error within the window fails', () => {
      expect(at(line('2026-12-01T11:30:00Z', 'a:1', 'x: 401 Unauthorized'))).toMatchObject({ status: 'fail', summary: expect.stringContaining('30 min ago (unauthorized)') });
    });
    it('the worst kept error speaks, not the last: a recent failure then a later unknown one fails', () => {
      const f = at(line('2026-12-01T11:50:00Z', 'a:1', 'x: 401 Unauthorized'), line('2026-12-01T11:55:00Z', 'b:1', 'something new'));
      expect(f).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^the pull of .*\/a:1 failed .*\(unauthorized\).*\(other failed pulls: unexplained\)$/) });
      // An old failure and a later unknown one: neither fails.
      expect(at(line('2026-12-01T10:30:00Z', 'typo:1', 'x: manifest unknown'), line('2026-12-01T11:55:00Z', 'c:1', 'something new'))).toMatchObject({ status: 'warn' });
    });
  });
});
