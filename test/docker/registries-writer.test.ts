/**
 * assets/registries-writer.sh in a real busybox container, run with the rendered DaemonSet's command,
 * mounts and security context, against host folders standing in for a node's /etc/rancher/k3s.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactedYaml } from '../../src/registries/redacted-diff.js';
import { serializeRegistries } from '../../src/registries/serialize.js';
import { HOST_FILE_HEADER } from '../../src/registries/writer-manifests.js';
import { renderRegistriesWriter } from '../../src/render/registries-daemonset.js';
import { dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage } from '../helpers/images.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const SCRIPT = fileURLToPath(new URL('../../assets/registries-writer.sh', import.meta.url));
const SALT = 'test-salt-0123456789';
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const SECRETS = ['first-pass-Aa11', 'second-pass-Bb22', 'hand-pass-Cc33', 'hand-user-Dd44', 'url-pass-Ee55', 'typo-tok-Ff66', 'unknown-val-Gg77', 'typo-tok-Hh88'];
const config = (endpoint: string, password: string) => ({
  mirrors: { 'docker.io': { endpoint: [endpoint] } },
  configs: { 'mirror.example.com': { auth: { username: 'ci-bot', password }, tls: { ca_file: '/etc/k3s-devreg/ca.crt' } } },
});
const fileFor = (value: unknown) => HOST_FILE_HEADER + serializeRegistries(value);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let image = '';
let root = '';
const dirs = { src: '', k3s: '', ca: '', term: '' };
const writer: Obj = renderRegistriesWriter({ registriesYaml: '', redactedYaml: '', salt: '', writerScript: '', caCert: CA }).daemonSet;
const container: Obj = (writer as Obj).spec.template.spec.initContainers[0];
const checker: Obj = (writer as Obj).spec.template.spec.containers[0];

/** Puts what the Secret volume would hold into the src folder. */
function secretVolume(content: string, ca?: string) {
  rmSync(dirs.src, { recursive: true, force: true });
  mkdirSync(dirs.src, { mode: 0o755 });
  const files: Record<string, string> = { 'registries.yaml': content, 'registries.redacted.yaml': redactedYaml(content) ?? '', salt: SALT };
  if (ca) files['ca.crt'] = ca;
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dirs.src, name), text);
    chmodSync(join(dirs.src, name), process.getuid?.() === 0 ? 0o400 : 0o444);
  }
}

function runWriter(): { status: number | null; log: string; message: string } {
  const sc = container.securityContext;
  const mountOf = (name: string) => container.volumeMounts.find((m: Obj) => m.name === name).mountPath;
  const args = ['run', '--rm', '--user', `${sc.runAsUser}:${sc.runAsGroup}`, ...sc.capabilities.drop.flatMap((c: string) => ['--cap-drop', c]),
    '--security-opt', 'no-new-privileges', '--read-only', '--tmpfs', mountOf('tmp'),
    '-v', `${dirs.src}:${mountOf('config')}:ro`, '-v', `${SCRIPT}:${container.command[1]}:ro`,
    '-v', `${dirs.k3s}:${mountOf('host-k3s')}`, '-v', `${dirs.ca}:${mountOf('host-ca')}`, '-v', `${dirs.term}:/run/term`,
    '-e', 'NODE_NAME=node-a', '-e', 'TERMINATION_LOG=/run/term/message', image, ...container.command];
  rmSync(join(dirs.term, 'message'), { force: true });
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  const message = (() => { try { return readFileSync(join(dirs.term, 'message'), 'utf8'); } catch { return ''; } })();
  return { status: r.status, log: `${r.stdout}${r.stderr}`, message };
}

/**
 * The long-running container's readiness probe, run as the kubelet would: its exact command, user,
 * capabilities and read-only mounts, against the same host folders. Exit 0 means "matches now".
 */
function runCheck(): { status: number | null; log: string } {
  const sc = checker.securityContext;
  const hostPath: Record<string, string> = { config: dirs.src, 'host-k3s': dirs.k3s, 'host-ca': dirs.ca };
  const command: string[] = checker.readinessProbe.exec.command;
  const mounts = checker.volumeMounts.flatMap((m: Obj) =>
    m.name === 'script' ? ['-v', `${SCRIPT}:${command[1]}:ro`] : ['-v', `${hostPath[m.name]}:${m.mountPath}${m.readOnly ? ':ro' : ''}`],
  );
  const args = ['run', '--rm', '--user', `${sc.runAsUser}:${sc.runAsGroup}`, ...sc.capabilities.drop.flatMap((c: string) => ['--cap-drop', c]),
    '--security-opt', 'no-new-privileges', '--read-only', ...mounts, image, ...command];
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, log: `${r.stdout}${r.stderr}` };
}

/** Replaces a file the container wrote as root (0600), also when the tests do not run as root. */
function replaceHostFile(path: string, text: string) {
  rmSync(path, { force: true });
  writeFileSync(path, text);
}

const dest = () => join(dirs.k3s, 'registries.yaml');
function expectNoSecret(log: string) {
  for (const line of log.split('\n')) for (const secret of SECRETS) expect(line, `secret in log line: ${line}`).not.toContain(secret);
}

describe.skipIf(!dockerAvailable)('registries-writer.sh in a container', () => {
  beforeAll(() => {
    image = ensureBusyboxImage();
    root = mkdtempSync(join(tmpdir(), 'k3s-devreg-writer-'));
    for (const key of Object.keys(dirs) as (keyof typeof dirs)[]) {
      dirs[key] = join(root, key);
      mkdirSync(dirs[key]);
      // Host folders are root's on a node; a non-root test run must let the capability-less root write.
      chmodSync(dirs[key], process.getuid?.() === 0 ? 0o755 : 0o777);
    }
  }, 120_000);
  afterAll(() => root && rmSync(root, { recursive: true, force: true }));

  it('writes a new file and the CA, previewing it redacted', () => {
    const content = fileFor(config('https://first.example.com', SECRETS[0]!));
    secretVolume(content, CA);
    const run = runWriter();
    expect(run.status, run.log).toBe(0);
    expectNoSecret(run.log);
    expect(run.log).toContain('/etc/rancher/k3s/registries.yaml: new file (secrets redacted):');
    expect(run.log).toContain('        password: <REDACTED>');
    expect(readFileSync(dest(), 'utf8')).toBe(content);
    expect(statSync(dest()).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dirs.ca, 'ca.crt'), 'utf8')).toBe(CA);
    expect(statSync(join(dirs.ca, 'ca.crt')).mode & 0o777).toBe(0o644);
    expect(run.message.trim()).toBe(`result=created checksum=${sha256(SALT + content)} ca=${sha256(CA)}`);
  }, 60_000);

  it('leaves an unchanged file alone: no diff, same inode, same mtime', () => {
    const past = new Date('2020-01-01T00:00:00Z');
    utimesSync(dest(), past, past);
    const before = statSync(dest());
    const run = runWriter();
    expect(run.status, run.log).toBe(0);
    expect(run.log).toContain('registries.yaml: unchanged (not rewritten)');
    expect(run.log).toContain('/etc/k3s-devreg/ca.crt: unchanged');
    expect(run.log).not.toMatch(/^(---|\+\+\+|@@)/m);
    const after = statSync(dest());
    expect([after.ino, after.mtimeMs]).toStrictEqual([before.ino, before.mtimeMs]);
    expect(run.message).toContain('result=unchanged');
  }, 60_000);

  it('replaces a changed file atomically and logs a redacted diff', () => {
    const content = fileFor(config('https://second.example.com', SECRETS[1]!));
    secretVolume(content, CA);
    const before = statSync(dest());
    const run = runWriter();
    expect(run.status, run.log).toBe(0);
    expectNoSecret(run.log);
    const changed = run.log.split('\n').filter((l) => /^[-+] /.test(l));
    expect(changed).toStrictEqual(['-      - https://first.example.com', '+      - https://second.example.com']);
    expect(readFileSync(dest(), 'utf8')).toBe(content);
    expect(statSync(dest()).ino).not.toBe(before.ino); // renamed into place, never rewritten in place
    expect(readdirSync(dirs.k3s)).toStrictEqual(['registries.yaml']); // no temp file left behind
    expect(run.log).toContain('restart k3s');
    expect(run.message).toContain(`result=updated checksum=${sha256(SALT + content)}`);
  }, 60_000);

  it('says so when only a credential changed', () => {
    const content = fileFor(config('https://second.example.com', SECRETS[0]!));
    secretVolume(content, CA);
    const run = runWriter();
    expect(run.status, run.log).toBe(0);
    expectNoSecret(run.log);
    expect(run.log).toContain('only redacted values (credentials) changed');
    // Only the secret changed, yet the node must get it: the file is replaced all the same.
    expect(readFileSync(dest(), 'utf8')).toBe(content);
    expect(run.message.trim()).toBe(`result=updated checksum=${sha256(SALT + content)} ca=${sha256(CA)}`);
  }, 60_000);

  it('keeps a hand-written file once, and redacts every style of secret in it before diffing', () => {
    const hand = `# written by an admin, password ${SECRETS[2]}\nmirrors:\n  docker.io:\n    endpoint:\n      - "https://bot:${SECRETS[4]}@m.example.com"\nconfigs:\n  a.example.com:\n    auth: {username: ${SECRETS[3]}, password: ${SECRETS[2]}}\n  b.example.com:\n    auth:\n      "password": '${SECRETS[2]}'  # ${SECRETS[2]}\n      identity_token: >\n        ${SECRETS[2]}\n      username:\n        ${SECRETS[3]}\n  c.example.com: {auth: {username: ${SECRETS[3]}, password: ${SECRETS[2]}}}\nauths:\n  - password: ${SECRETS[2]}\n    username: ${SECRETS[3]}\n`;
    writeFileSync(dest(), hand);
    chmodSync(dest(), 0o600);
    const run = runWriter();
    expect(run.status, run.log).toBe(0);
    expectNoSecret(run.log);
    expect(run.log).toContain('kept the previous file as /etc/rancher/k3s/registries.yaml.before-k3s-devreg');
    expect(readFileSync(`${dest()}.before-k3s-devreg`, 'utf8')).toBe(hand);
    expect(statSync(`${dest()}.before-k3s-devreg`).mode & 0o777).toBe(0o600);
    // The backup is taken once: our own file is not backed up over it.
    secretVolume(fileFor(config('https://third.example.com', SECRETS[1]!)), CA);
    expectNoSecret(runWriter().log);
    expect(readFileSync(`${dest()}.before-k3s-devreg`, 'utf8')).toBe(hand);
  }, 60_000);

  it('redacts every value under auth and auths whatever its key (a typo --no-strict let through), in any style', () => {
    const [, , pass, user, , typo, unknown] = SECRETS;
    const hand = [
      'configs:',
      '  a.example.com:',
      '    auth:',
      `      username: ${user}`,
      `      token: ${typo}`,
      `      "bearer_secret": '${unknown}'  # ${unknown}`,
      '      folded: >',
      `        ${typo}`,
      '      plain_multiline:',
      `        ${unknown}`,
      `        ${typo}`,
      '      nested:',
      `        deeper: ${unknown}`,
      '        list:',
      `          - ${typo}`,
      `          - "${unknown}"`,
      `      flowmap: {x: ${typo}}`,
      '      empty: null',
      '    tls:',
      '      insecure_skip_verify: true',
      `  b.example.com: {auth: {username: bob, token: ${typo}, x: ${unknown}}}`,
      '  c.example.com:',
      `    auth: {token: ${typo}}`,
      'auths:',
      '  "legacy.example.com:5000":',
      `    tokn: ${typo}`,
      `    password: ${pass}`,
      `  flow.example.com: {tokn: ${unknown}}`,
      '  - weird:',
      `      tokn: ${typo}`,
      `mirrors: {docker.io: {endpoint: ["https://m.example.com"]}}`,
      '',
    ].join('\n');
    writeFileSync(dest(), hand);
    chmodSync(dest(), 0o600);
    const content = fileFor(config('https://fourth.example.com', SECRETS[0]!));
    secretVolume(content);
    const run = runWriter();
    expect(run.status, run.log).toBe(0);
    expectNoSecret(run.log);
    // Keys and nulls under auth stay visible; values outside auth are untouched.
    for (const shown of ['      token: <REDACTED>', '      "bearer_secret": <REDACTED>', '          - <REDACTED>', '      empty: null', '    tokn: <REDACTED>', '      insecure_skip_verify: true']) {
      expect(run.log.split('\n')).toContain(`-${shown}`);
    }
    expect(readFileSync(dest(), 'utf8')).toBe(content);
  }, 60_000);

  it('readiness probe: 0 while the host file (and CA) match the Secret, non-zero once edited or removed', () => {
    const content = fileFor(config('https://probe.example.com', SECRETS[0]!));
    secretVolume(content, CA);
    expect(runWriter().status).toBe(0);
    const matching = runCheck();
    expect(matching.status, matching.log).toBe(0);

    replaceHostFile(dest(), `${content}# edited by hand\n`);
    const edited = runCheck();
    expect(edited.status, edited.log).not.toBe(0);
    expect(edited.log).toContain('/etc/rancher/k3s/registries.yaml differs from the Secret');
    expectNoSecret(edited.log);

    replaceHostFile(dest(), content);
    expect(runCheck().status).toBe(0);
    replaceHostFile(join(dirs.ca, 'ca.crt'), `${CA}\n`);
    const caEdited = runCheck();
    expect(caEdited.status, caEdited.log).not.toBe(0);
    expect(caEdited.log).toContain('/etc/k3s-devreg/ca.crt differs from the Secret');

    replaceHostFile(join(dirs.ca, 'ca.crt'), CA);
    rmSync(dest());
    const missing = runCheck();
    expect(missing.status, missing.log).not.toBe(0);
    expect(missing.log).toContain('/etc/rancher/k3s/registries.yaml is missing');
    // The probe only reads: it wrote nothing back.
    expect(readdirSync(dirs.k3s).filter((f) => !f.endsWith('.before-k3s-devreg'))).toStrictEqual([]);
  }, 120_000);

  it('redacts our own file with unknown auth keys exactly as the Secret\'s pre-redacted copy does', () => {
    const typoConfig = (token: string) => ({
      configs: { 'r.example.com': { auth: { username: 'bob', token, other: { deeper: [token] }, none: null }, tls: { insecure_skip_verify: true } } },
      auths: { 'legacy.example.com': { tokn: token } },
    });
    const first = fileFor(typoConfig(SECRETS[5]!));
    secretVolume(first);
    expect(redactedYaml(first)).not.toContain(SECRETS[5]);
    expectNoSecret(runWriter().log);
    secretVolume(fileFor(typoConfig(SECRETS[7]!)));
    const run = runWriter();
    expect(run.status, run.log).toBe(0);
    expectNoSecret(run.log);
    expect(run.log).toContain('only redacted values (credentials) changed');
  }, 60_000);
});
