import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../src/cli.js';
import { htpasswdMatches } from '../../src/render/htpasswd.js';
import { renderState, type RenderRequest } from '../../src/steps/render-state.js';
import { recordingRunner } from '../helpers/recording-runner.js';
import type { ClusterSpec } from '../../src/spec.js';
import { createRunner } from '../../src/tools/run.js';
import { captureIo } from '../helpers/io.js';
import { schemaErrors } from '../helpers/schemas.js';

function request(stateDir: string, extra: Partial<RenderRequest> = {}): RenderRequest {
  const spec: ClusterSpec = {
    name: 'devreg', agents: 1, hostPort: 31113, username: 'devreg',
    registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir,
  };
  return { spec, strict: true, runner: createRunner(), env: {}, ...extra };
}
const fresh = () => mkdtempSync(join(tmpdir(), 'k3s-devreg-render-'));
const mode = (path: string) => statSync(path).mode & 0o777;

describe('renderState', () => {
  it('writes every file, keys and secrets 0600, all valid by their schemas', async () => {
    const dir = fresh();
    const result = await renderState(request(dir, { password: 'p$a"ss w#rd: ü' }));
    for (const path of [result.files.tlsKey, result.files.credentials, result.files.htpasswd, result.files.registriesYaml, join(dir, 'pki/ca.key')]) {
      expect(mode(path), path).toBe(0o600);
    }
    expect(mode(result.files.caCert)).toBe(0o644);
    expect(schemaErrors('k3d', parse(readFileSync(result.files.k3dConfig, 'utf8')))).toEqual([]);
    const registries = parse(readFileSync(result.files.registriesYaml, 'utf8'));
    expect(schemaErrors('registries', registries)).toEqual([]);
    expect(registries.configs['container-registry.local:5000'].auth).toEqual({ username: 'devreg', password: 'p$a"ss w#rd: ü' });
    expect(htpasswdMatches(readFileSync(result.files.htpasswd, 'utf8'), 'devreg', 'p$a"ss w#rd: ü')).toBe(true);
    expect(readFileSync(join(dir, 'node/ca.crt'), 'utf8')).toBe(readFileSync(result.files.caCert, 'utf8'));
    for (const path of result.files.manifests) {
      const object = parse(readFileSync(path, 'utf8'));
      expect(schemaErrors(object.kind, object), path).toEqual([]);
      if (object.kind === 'Secret') expect(mode(path)).toBe(0o600);
    }
    // The k3d config must not carry a secret: k3d would expand its '$'.
    const k3dConfig = readFileSync(result.files.k3dConfig, 'utf8');
    expect(k3dConfig).not.toContain('$');
    expect(k3dConfig).not.toContain('p$a"ss');
  });

  it('re-running keeps CA, key and credentials and rewrites nothing', async () => {
    const dir = fresh();
    const first = await renderState(request(dir));
    const before = Object.fromEntries(readdirSync(dir, { recursive: true }).map(String).map((f) => [f, statSync(join(dir, f)).mtimeMs]));
    const second = await renderState(request(dir));
    expect(second.changed).toEqual([]);
    expect(second.credentials).toEqual(first.credentials);
    const after = Object.fromEntries(readdirSync(dir, { recursive: true }).map(String).map((f) => [f, statSync(join(dir, f)).mtimeMs]));
    expect(after).toEqual(before);
    expect(first.credentials.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('a new password rewrites only what holds it; the CA stays', async () => {
    const dir = fresh();
    await renderState(request(dir));
    const ca = readFileSync(join(dir, 'pki/ca.crt'), 'utf8');
    const changed = (await renderState(request(dir, { password: 'another-password' }))).changed.map((p) => p.slice(dir.length + 1)).sort();
    // The Deployment too: its pod template carries the htpasswd checksum, so the registry restarts.
    expect(changed).toEqual(['auth/htpasswd', 'credentials.json', 'manifests/10-secret.yaml', 'manifests/20-deployment.yaml', 'node/registries.yaml'].sort());
    expect(readFileSync(join(dir, 'pki/ca.crt'), 'utf8')).toBe(ca);
  });

  it('renews a server certificate near expiry with the same CA', async () => {
    const dir = fresh();
    await renderState(request(dir));
    const ca = readFileSync(join(dir, 'pki/ca.crt'), 'utf8');
    const oldCert = readFileSync(join(dir, 'pki/tls.crt'), 'utf8');
    const later = new Date(Date.now() + 340 * 86_400_000);
    const result = await renderState(request(dir, { now: later }));
    expect(result.changed.map((p) => p.slice(dir.length + 1))).toContain('pki/tls.crt');
    const newCert = new X509Certificate(readFileSync(join(dir, 'pki/tls.crt'), 'utf8'));
    expect(newCert.raw.equals(new X509Certificate(oldCert).raw)).toBe(false);
    expect(newCert.verify(new X509Certificate(ca).publicKey)).toBe(true);
    expect(readFileSync(join(dir, 'pki/ca.crt'), 'utf8')).toBe(ca);
  });

  it('an unwritable folder is a one-line error and nothing is written', async () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: use a path below a regular file instead
      const file = join(fresh(), 'not-a-dir');
      writeFileSync(file, '');
      await expect(renderState(request(join(file, 'state')))).rejects.toThrow(/cannot write .*--dir/);
      return;
    }
    const parent = fresh();
    chmodSync(parent, 0o500);
    await expect(renderState(request(join(parent, 'state')))).rejects.toThrow(/cannot write/);
  });

  it('a folder that cannot hold one of the files leaves every other file as it was', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'pki'), 'a file where the pki folder should be');
    await expect(renderState(request(dir, { password: 'first-password' }))).rejects.toThrow(/cannot write .*pki.*ENOTDIR/);
    expect(readdirSync(dir).sort()).toEqual(['pki']);
  });

  it('a folder below /proc is refused at once, not looped on', async () => {
    await expect(renderState(request('/proc/k3s-devreg-test/state'))).rejects.toThrow(/cannot write \/proc\/k3s-devreg-test/);
  });

  it('a bad registries file creates no state folder at all', async () => {
    const parent = fresh();
    const registries = join(parent, 'registries.yaml');
    writeFileSync(registries, 'mirrors:\n  docker.io:\n    endpoints: [https://mirror.example.com]\n');
    await expect(renderState(request(join(parent, 'state'), { registriesFile: registries }))).rejects.toThrow(/endpoint/);
    expect(readdirSync(parent)).toEqual(['registries.yaml']);
  });
});

describe('a registries file that names files on the nodes', () => {
  const withCa = (caFile: string) =>
    `configs:\n  registry.example.com:\n    tls:\n      ca_file: ${caFile}\n`;

  it('accepts a ca_file that is in the state folder node/ (k3d nodes see it in /etc/k3s-devreg)', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'node'), { recursive: true });
    writeFileSync(join(dir, 'node', 'company-ca.pem'), 'a CA\n');
    const file = join(dir, 'registries.yaml');
    writeFileSync(file, withCa('/etc/k3s-devreg/company-ca.pem'));
    const result = await renderState(request(dir, { registriesFile: file }));
    // The user's entry reaches the nodes' registries.yaml as written, next to ours.
    const nodes = parse(readFileSync(result.files.registriesYaml, 'utf8'));
    expect(result.files.registriesYaml).toBe(join(dir, 'node', 'registries.yaml'));
    expect(Object.keys(nodes.configs)).toEqual(['registry.example.com', 'container-registry.local:5000']);
    expect(nodes.configs['registry.example.com']).toEqual({ tls: { ca_file: '/etc/k3s-devreg/company-ca.pem' } });
  });

  it('refuses a ca_file in /etc/k3s-devreg that is not in node/, and says where to put it', async () => {
    const dir = fresh();
    const file = join(dir, 'registries.yaml');
    writeFileSync(file, withCa('/etc/k3s-devreg/company-ca.pem'));
    await expect(renderState(request(dir, { registriesFile: file }))).rejects.toThrow(
      new RegExp(`company-ca.pem is not known to exist on the nodes.*put the file in ${join(dir, 'node')}/`),
    );
    // The CA that render itself writes there is always visible.
    writeFileSync(file, withCa('/etc/k3s-devreg/ca.crt'));
    const result = await renderState(request(dir, { registriesFile: file }));
    expect(parse(readFileSync(result.files.registriesYaml, 'utf8')).configs['registry.example.com']).toEqual({ tls: { ca_file: '/etc/k3s-devreg/ca.crt' } });
  });
});

describe('k3s-devreg render (CLI)', () => {
  it('--json names the files; bad input exits 2 with nothing written', async () => {
    const home = fresh();
    const io = captureIo({ env: { K3S_DEVREG_HOME: home } });
    expect(await runCli(['render', '--yes', '--json', '--name', 'team-a'], io)).toBe(0);
    const files = JSON.parse(io.stdout.join(''));
    expect(files.k3dConfig).toBe(join(home, 'team-a', 'k3d-config.yaml'));
    expect(files.manifests).toEqual(
      ['00-namespace', '10-secret', '20-deployment', '30-service', '40-hosts-script', '50-hosts-daemonset', '60-local-registry-hosting'].map((f) =>
        join(home, 'team-a', 'manifests', `${f}.yaml`),
      ),
    );
    // Every file render writes is named: the whole state folder, up-state.json (written by up) aside.
    const named = [files.k3dConfig, files.registriesYaml, files.caCert, files.caKey, files.nodeCaCert, files.tlsCert, files.tlsKey, files.htpasswd, files.credentials, files.settings, files.gitignore, files.renderStamp, ...files.manifests];
    for (const path of named) expect(statSync(path).isFile(), path).toBe(true);
    const onDisk = (readdirSync(join(home, 'team-a'), { recursive: true }) as string[]).map((p) => join(home, 'team-a', p)).filter((p) => statSync(p).isFile());
    expect(named.sort()).toEqual(onDisk.sort());

    const bad = captureIo({ env: { K3S_DEVREG_HOME: home }, stdin: 'x'.repeat(80) });
    expect(await runCli(['render', '--yes', '--name', 'team-b', '--password-stdin'], bad)).toBe(2);
    expect(bad.stderr).toHaveLength(1);
    expect(bad.stderr[0]).toMatch(/^error: the registry password \(from --password-stdin\) is 80 bytes long/);
    expect(bad.all()).not.toContain('x'.repeat(80));
    expect(readdirSync(home)).toEqual(['team-a']);

    const colon = captureIo({ env: { K3S_DEVREG_HOME: home } });
    expect(await runCli(['render', '--yes', '--name', 'team-c', '--username', 'a:b'], colon)).toBe(2);
    expect(readdirSync(home)).toEqual(['team-a']);
  });

  it('never prints the password, even with --verbose', async () => {
    const home = fresh();
    const io = captureIo({ env: { K3S_DEVREG_HOME: home, K3S_DEVREG_PASSWORD: 'Sup3r$ecret-value' } });
    expect(await runCli(['render', '--yes', '--verbose'], io)).toBe(0);
    expect(io.all()).not.toContain('Sup3r$ecret-value');
    expect(io.all()).toContain('<REDACTED>');
  });
});

describe('a re-render that would change nothing', () => {
  it('keeps every file without rendering (stamp, file hashes and modes, certificate not due); any change renders in full', async () => {
    const [{ renderOrKeep }, { keptRender }] = await Promise.all([import('../../src/steps/render-or-keep.js'), import('../../src/steps/render-stamp.js')]);
    const { mkdtempSync: tmp, writeFileSync: write, chmodSync: chmod, readFileSync: read } = await import('node:fs');
    const stateDir = join(tmp(join(tmpdir(), 'k3s-devreg-stamp-')), 'devreg');
    const spec = { name: 'devreg', agents: 1, hostPort: 31113, username: 'devreg', registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir };
    const request = { spec, strict: true, runner: recordingRunner(), env: {} };
    const first = await renderOrKeep(request);
    expect(first.changed.length).toBeGreaterThan(10);
    const kept = await keptRender(request);
    expect(kept).toMatchObject({ changed: [], files: first.files, credentials: first.credentials });
    // Another spec, another password, an edited file, a changed mode, or a certificate near its end: render in full.
    expect(await keptRender({ ...request, spec: { ...spec, agents: 2 } })).toBeUndefined();
    expect(await keptRender({ ...request, password: 'another-password-1' })).toBeUndefined();
    expect(await keptRender({ ...request, password: first.credentials.password })).toBeDefined();
    expect(await keptRender({ ...request, now: new Date(Date.now() + 340 * 86_400_000) })).toBeUndefined();
    chmod(first.files.tlsKey, 0o644);
    expect(await keptRender(request)).toBeUndefined();
    chmod(first.files.tlsKey, 0o600);
    const manifest = first.files.manifests[0]!;
    write(manifest, `${read(manifest, 'utf8')}# edited\n`);
    expect(await keptRender(request)).toBeUndefined();
    // The full render puts the file back, and the next run keeps everything again.
    const again = await renderOrKeep(request);
    expect(again.changed).toEqual([manifest]);
    expect(await keptRender(request)).toBeDefined();
  });
});
