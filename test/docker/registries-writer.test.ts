/**
 * assets/registries-writer.sh in a real busybox container, run with the rendered DaemonSet's command,
 * mounts and security context, against host folders standing in for a node's /etc/rancher (k3s's
 * config.yaml and config.yaml.d, RKE2's folder) and the node table `registries apply` puts in the ConfigMap.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactedYaml } from '../../src/registries/redacted-diff.js';
import { serializeRegistries } from '../../src/render/registries-yaml.js';
import { HOST_FILE_HEADER } from '../../src/registries/writer-manifests.js';
import { renderRegistriesWriter } from '../../src/registries/writer-daemonset.js';
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
const dirs = { src: '', rancher: '', ca: '', term: '', table: '' };
const writer: Obj = renderRegistriesWriter({ registriesYaml: '', redactedYaml: '', salt: '', writerScript: '', caCert: CA }).daemonSet;
const container: Obj = (writer as Obj).spec.template.spec.initContainers[0];
const checker: Obj = (writer as Obj).spec.template.spec.containers[0];

/** The container's env as the kubelet would set it on node-a (spec.nodeName is the only fieldRef used). */
const podEnv = (c: Obj): string[] =>
  (c.env ?? []).flatMap((e: Obj) => ['-e', `${e.name}=${e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName' ? 'node-a' : e.value}`]);

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
    '-v', `${dirs.rancher}:${mountOf('host-rancher')}`, '-v', `${dirs.ca}:${mountOf('host-ca')}`, '-v', `${dirs.term}:/run/term`,
    '-v', `${join(dirs.table, 'nodes')}:${dirname(container.command[1])}/nodes:ro`,
    ...podEnv(container), '-e', 'TERMINATION_LOG=/run/term/message', image, ...container.command];
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
  const hostPath: Record<string, string> = { config: dirs.src, 'host-rancher': dirs.rancher, 'host-ca': dirs.ca };
  const command: string[] = checker.readinessProbe.exec.command;
  const mounts = checker.volumeMounts.flatMap((m: Obj) =>
    m.name === 'script'
      ? ['-v', `${SCRIPT}:${command[1]}:ro`, '-v', `${join(dirs.table, 'nodes')}:${dirname(command[1]!)}/nodes:ro`]
      : ['-v', `${hostPath[m.name]}:${m.mountPath}${m.readOnly ? ':ro' : ''}`],
  );
  const args = ['run', '--rm', '--user', `${sc.runAsUser}:${sc.runAsGroup}`, ...sc.capabilities.drop.flatMap((c: string) => ['--cap-drop', c]),
    '--security-opt', 'no-new-privileges', '--read-only', ...mounts, ...podEnv(checker), image, ...command];
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, log: `${r.stdout}${r.stderr}` };
}

/** The ConfigMap's node table (`NODE DISTRIBUTION PATH`) that registries apply writes. */
function nodeTable(text: string) {
  writeFileSync(join(dirs.table, 'nodes'), text);
}

/** Replaces a file the container wrote as root (0600), also when the tests do not run as root. */
function replaceHostFile(path: string, text: string) {
  rmSync(path, { force: true });
  writeFileSync(path, text);
}

const k3sDir = () => join(dirs.rancher, 'k3s');
const dest = () => join(k3sDir(), 'registries.yaml');
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
    mkdirSync(k3sDir(), { mode: 0o777 });
    nodeTable('');
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
    expect(run.message.trim()).toBe(`result=created checksum=${sha256(SALT + content)} ca=${sha256(CA)} path=/etc/rancher/k3s/registries.yaml`);
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
    expect(readdirSync(k3sDir())).toStrictEqual(['registries.yaml']); // no temp file left behind
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
    expect(run.message.trim()).toBe(`result=updated checksum=${sha256(SALT + content)} ca=${sha256(CA)} path=/etc/rancher/k3s/registries.yaml`);
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
    expect(readdirSync(k3sDir()).filter((f) => !f.endsWith('.before-k3s-devreg'))).toStrictEqual([]);
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

  describe('the file k3s or RKE2 reads on this node', () => {
    /** A fresh host /etc/rancher with these files (paths relative to it). */
    function host(files: Record<string, string>, table = '') {
      rmSync(dirs.rancher, { recursive: true, force: true });
      mkdirSync(dirs.rancher, { mode: 0o777 });
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dirs.rancher, path)), { recursive: true, mode: 0o777 });
        writeFileSync(join(dirs.rancher, path), text);
      }
      nodeTable(table);
    }
    /** Every file under the host /etc/rancher, with its content. */
    function tree(dir = dirs.rancher, prefix = ''): Record<string, string> {
      return Object.fromEntries(
        readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? Object.entries(tree(join(dir, e.name), `${prefix}${e.name}/`)) : [[`${prefix}${e.name}`, readFileSync(join(dir, e.name), 'utf8')]],
        ),
      );
    }
    const content = fileFor(config('https://resolve.example.com', SECRETS[0]!));

    it('writes the file private-registry names in config.yaml.d (the last drop-in in name order wins), and the probe checks that one', () => {
      host({
        'k3s/config.yaml': 'write-kubeconfig-mode: "0644"\nprivate-registry: /etc/rancher/k3s/from-config.yaml\n',
        'k3s/config.yaml.d/10-first.yaml': "# private-registry: /etc/rancher/k3s/commented.yaml\nprivate-registry: '/etc/rancher/k3s/first.yaml'\n",
        'k3s/config.yaml.d/20-last.YML': 'node-label:\n  - a=b\n"private-registry": "/etc/rancher/k3s/mirrors/last.yaml"  # ours\n',
        // Not a drop-in for k3s: neither .yaml nor .yml.
        'k3s/config.yaml.d/30-ignored.yaml.bak': 'private-registry: /etc/rancher/k3s/ignored.yaml\n',
      });
      secretVolume(content, CA);
      const run = runWriter();
      expect(run.status, run.log).toBe(0);
      expectNoSecret(run.log);
      const target = join(dirs.rancher, 'k3s/mirrors/last.yaml');
      expect(readFileSync(target, 'utf8')).toBe(content);
      expect(statSync(target).mode & 0o777).toBe(0o600);
      expect(readdirSync(k3sDir()).sort()).toStrictEqual(['config.yaml', 'config.yaml.d', 'mirrors']); // no registries.yaml k3s would not read
      expect(run.log).toContain('/etc/rancher/k3s/mirrors/last.yaml: new file (secrets redacted):');
      expect(run.message.trim()).toBe(`result=created checksum=${sha256(SALT + content)} ca=${sha256(CA)} path=/etc/rancher/k3s/mirrors/last.yaml`);
      expect(runCheck().status).toBe(0);
      replaceHostFile(target, `${content}# edited\n`);
      const edited = runCheck();
      expect(edited.status).not.toBe(0);
      expect(edited.log).toContain('/etc/rancher/k3s/mirrors/last.yaml differs from the Secret');
    }, 120_000);

    it('writes RKE2\'s /etc/rancher/rke2 file on a node the cluster says runs RKE2, reading Rancher\'s JSON drop-in', () => {
      host(
        { 'rke2/config.yaml.d/50-rancher.yaml': '{\n  "node-label": ["x=y"],\n  "private-registry": "/etc/rancher/rke2/registries.yaml",\n  "token": "tok-zz"\n}\n', 'k3s/registries.yaml': 'old k3s leftover\n' },
        'node-b k3s -\nnode-a rke2 /etc/rancher/rke2/registries.yaml\n',
      );
      secretVolume(content);
      const run = runWriter();
      expect(run.status, run.log).toBe(0);
      expect(readFileSync(join(dirs.rancher, 'rke2/registries.yaml'), 'utf8')).toBe(content);
      expect(readFileSync(join(dirs.rancher, 'k3s/registries.yaml'), 'utf8')).toBe('old k3s leftover\n');
      expect(run.message).toContain('path=/etc/rancher/rke2/registries.yaml');
      expect(run.log).toContain('sudo systemctl restart rke2-server (server) or rke2-agent (agent)');
      expect(runCheck().status).toBe(0);
    }, 120_000);

    it.each([
      ['a private-registry it cannot read', { 'k3s/config.yaml': 'private-registry: >\n  /etc/rancher/k3s/x.yaml\n' }, '', 'cannot read the private-registry setting in /etc/rancher/k3s/config.yaml'],
      ['an appended private-registry+', { 'k3s/config.yaml.d/a.yaml': 'private-registry+: /etc/rancher/k3s/x.yaml\n' }, '', 'cannot read the private-registry setting in /etc/rancher/k3s/config.yaml.d/a.yaml'],
      ['a file outside /etc/rancher', { 'k3s/config.yaml': 'private-registry: /opt/registries.yaml\n' }, '', 'k3s reads /opt/registries.yaml (private-registry in /etc/rancher/k3s/config.yaml), outside /etc/rancher'],
      ['a path with ..', { 'k3s/config.yaml': 'private-registry: /etc/rancher/../shadow\n' }, '', "a path with '..'"],
      ['k3s started with another file than its config now gives (or a command-line flag)', {}, 'node-a k3s /etc/rancher/k3s/cli.yaml\n', 'k3s started with private-registry /etc/rancher/k3s/cli.yaml, but its config files now give /etc/rancher/k3s/registries.yaml (the default)'],
      ['both k3s and RKE2 folders without word from the cluster', { 'k3s/config.yaml': 'a: b\n', 'rke2/config.yaml': 'a: b\n' }, '', 'node node-a has both /etc/rancher/k3s and /etc/rancher/rke2'],
      ['an odd drop-in name', { 'k3s/config.yaml.d/my file.yaml': 'a: b\n' }, '', 'has a space or a wildcard character'],
    ])('writes nothing and says why in one line: %s', (_name, files, table, says) => {
      host(files, table);
      secretVolume(content, CA);
      const before = tree();
      const run = runWriter();
      // Ends with 0 (no restart loop); the termination message is the one `refused: ...` line.
      expect(run.status, run.log).toBe(0);
      expectNoSecret(run.log);
      expect(run.message.trim().split('\n')).toHaveLength(1);
      expect(run.message).toMatch(/^refused: node node-a/);
      expect(run.message).toContain(says);
      expect(run.message).toContain('nothing written');
      expect(tree()).toStrictEqual(before);
      // The probe refuses the same way, so the pod never reads as matching.
      const check = runCheck();
      expect(check.status).not.toBe(0);
      expect(check.log).toContain(says);
    }, 120_000);
  });
});
