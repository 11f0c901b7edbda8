/**
 * assets/hosts-inject.sh in a real busybox container, against a hosts file bind-mounted as a single
 * file (as on a k3d node), resolving through docker's embedded DNS. The container runs with the
 * rendered DaemonSet's command, env and security context.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderManifests } from '../../src/render/manifests.js';
import { DEFAULT_REGISTRY_IMAGE, type ClusterSpec } from '../../src/spec.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage } from '../helpers/images.js';

const SCRIPT = fileURLToPath(new URL('../../assets/hosts-inject.sh', import.meta.url));
const LABEL = 'dev.k3s-devreg/test=1';
const suffix = randomBytes(4).toString('hex');
const network = `k3s-devreg-test-hosts-${suffix}`;
const NODE_HOSTS =
  '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n172.18.0.3\tk3d-devreg-server-0\n172.18.0.1 host.k3d.internal\n';

type Obj = Record<string, any>;
let [image, service, alias, dir] = ['', '', '', ''];
let container: Obj = {};
let podEnv: Record<string, string> = {};
const started: string[] = [];
const ours = (ip: string): string => `${ip} ${alias}  # managed by k3s-devreg\n`;

function startAliased(name: string, dnsName = service): string {
  started.push(name);
  docker(['run', '-d', '--rm', '--label', LABEL, '--name', name, '--network', network, '--network-alias', dnsName, image, 'sleep', '600']);
  return docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name]);
}

function hostsFile(content: string): string {
  const file = join(mkdtempSync(join(dir, 'node-')), 'hosts');
  writeFileSync(file, content);
  // A node's hosts file is root's; a non-root test run must let the capability-less root write it.
  chmodSync(file, process.getuid?.() === 0 ? 0o644 : 0o666);
  return file;
}

/** `docker run` arguments for the script as the DaemonSet runs it, in one pass unless env says otherwise. */
function runArgs(file: string, env: Record<string, string> = {}): string[] {
  const sc = container.securityContext;
  const hostsMount = container.volumeMounts.find((m: Obj) => m.name === 'etc-hosts').mountPath;
  return ['--label', LABEL, '--network', network, '--user', String(sc.runAsUser),
    ...sc.capabilities.drop.flatMap((c: string) => ['--cap-drop', c]), ...(sc.allowPrivilegeEscalation ? [] : ['--security-opt', 'no-new-privileges']),
    ...(sc.readOnlyRootFilesystem ? ['--read-only', '--tmpfs', '/tmp'] : []), '-v', `${SCRIPT}:${container.command[1]}:ro`, '-v', `${file}:${hostsMount}`,
    ...Object.entries({ ...podEnv, ONCE: '1', ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]), image, ...container.command];
}

function inject(file: string, env: Record<string, string> = {}): { status: number | null; log: string } {
  const r = spawnSync('docker', ['run', '--rm', ...runArgs(file, env)], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, log: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!dockerAvailable)('hosts-inject.sh in a container', () => {
  let ipA = '';
  beforeAll(() => {
    image = ensureBusyboxImage();
    const spec: ClusterSpec = { name: 'devreg', agents: 0, hostPort: 31113, username: 'u', registryImage: DEFAULT_REGISTRY_IMAGE, hostsImage: image, k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir: '/x' };
    const ds = renderManifests(spec, { tlsCert: '', tlsKey: '', htpasswd: '', hostsScript: '' }).find((m) => m.object.kind === 'DaemonSet');
    container = (ds!.object as Obj).spec.template.spec.containers[0];
    podEnv = Object.fromEntries(container.env.map((e: Obj) => [e.name, e.value]));
    [service, alias] = [podEnv.REGISTRY_SERVICE!, podEnv.REGISTRY_ALIAS!];
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-hosts-'));
    docker(['network', 'create', '--label', LABEL, network]);
    ipA = startAliased(`k3s-devreg-test-svc-a-${suffix}`);
  });
  afterAll(() => {
    for (const name of started) spawnSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', network], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('adds the line, then leaves the file alone (same bytes, inode and mtime)', () => {
    const file = hostsFile(NODE_HOSTS);
    const inode = statSync(file).ino;
    const first = inject(file);
    expect(first.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(NODE_HOSTS + ours(ipA));
    expect(first.log.trim().split('\n')).toEqual([`hosts-inject: set ${alias} to ${ipA} in /host/etc/hosts`]);
    expect(statSync(file).ino).toBe(inode);
    const before = statSync(file);
    expect(inject(file)).toEqual({ status: 0, log: '' });
    expect(readFileSync(file, 'utf8')).toBe(NODE_HOSTS + ours(ipA));
    expect(statSync(file).ino).toBe(inode);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
  });

  it('keeps other lines byte for byte, ending an unterminated last line before appending', () => {
    const others = [
      '# container-registry.local is not managed by k3s-devreg',
      '10.0.0.9 container-registry.local.example.com',
      '10.0.0.8 my-container-registry.local',
      '10.0.0.7 container-registry.localdomain  # not managed by k3s-devreg',
      '10.0.0.6\tcontainer-registry.local\t# added by hand',
      '  10.0.0.5   spaced   \t ',
      '10.0.0.4 crlf\r',
      '# ünïcödé, "quotes" $dollar `ticks` \\back',
      '',
      '10.0.0.3 last-without-newline',
    ].join('\n');
    const file = hostsFile(others);
    expect(inject(file).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`${others}\n${ours(ipA)}`);
  });

  it('replaces stale and duplicate lines of its own with one', () => {
    const stale = `10.43.9.9 ${alias}  # managed by k3s-devreg\n`;
    const file = hostsFile(`${stale}${NODE_HOSTS}${stale}${ours(ipA)}`);
    expect(inject(file).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(NODE_HOSTS + ours(ipA));
  });

  it('leaves the file untouched when the name does not resolve', () => {
    const content = NODE_HOSTS + ours('10.43.1.1');
    const file = hostsFile(content);
    const before = statSync(file);
    expect(inject(file, { REGISTRY_SERVICE: `nothing-here-${suffix}.invalid` })).toMatchObject({ status: 1, log: expect.stringContaining('cannot resolve') });
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
  });

  it("while the name does not resolve (cluster DNS still starting after a node restart), uses the Service address the kubelet put in the pod's environment", () => {
    expect(podEnv.FALLBACK_IP).toBe('$(REGISTRY_SERVICE_HOST)');
    const file = hostsFile(NODE_HOSTS);
    // What the kubelet makes of $(REGISTRY_SERVICE_HOST) when the Service exists as the pod starts.
    const result = inject(file, { REGISTRY_SERVICE: `nothing-here-${suffix}.invalid`, FALLBACK_IP: '10.43.0.77' });
    expect(result.status).toBe(0);
    expect(result.log).toContain(`cannot resolve nothing-here-${suffix}.invalid yet; using the Service address from the pod's environment, 10.43.0.77`);
    expect(readFileSync(file, 'utf8')).toBe(NODE_HOSTS + ours('10.43.0.77'));
    // Once the name resolves, DNS wins over the environment (the Service may have a new address).
    expect(inject(file, { FALLBACK_IP: '10.43.0.77' }).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(NODE_HOSTS + ours(ipA));
  });

  it('loops: keeps retrying while the name does not resolve, and stops at once on SIGTERM', async () => {
    const file = hostsFile(NODE_HOSTS);
    const late = `late-${suffix}.example`;
    const loop = `k3s-devreg-test-loop-${suffix}`;
    started.push(loop);
    docker(['run', '-d', '--name', loop, ...runArgs(file, { ONCE: '0', INTERVAL: '1', REGISTRY_SERVICE: late })]);
    await new Promise((r) => setTimeout(r, 2500));
    expect(docker(['inspect', '-f', '{{.State.Running}} {{.RestartCount}}', loop])).toBe('true 0');
    expect(readFileSync(file, 'utf8')).toBe(NODE_HOSTS);
    const ip = startAliased(`k3s-devreg-test-late-${suffix}`, late);
    await expect.poll(() => readFileSync(file, 'utf8'), { timeout: 15_000, interval: 250 }).toBe(NODE_HOSTS + ours(ip));
    // SIGTERM ends it through its trap (exit 0); a shell that ignored it (PID 1 without a trap) would
    // be killed by docker after the grace period instead, with exit code 137.
    docker(['stop', '-t', '30', loop]);
    expect(docker(['inspect', '-f', '{{.State.ExitCode}}', loop])).toBe('0');
    const log = docker(['logs', loop]);
    expect(log).toContain(`cannot resolve ${late}`);
    expect(log.split('\n').filter((l) => l.includes('set '))).toEqual([`hosts-inject: set ${alias} to ${ip} in /host/etc/hosts`]);
  });

  it('follows the Service to a new IP (runs last: it moves the alias)', () => {
    const file = hostsFile(NODE_HOSTS);
    expect(inject(file).status).toBe(0);
    // The new one starts while the old one still holds its address, so docker cannot reuse it.
    const ipB = startAliased(`k3s-devreg-test-svc-b-${suffix}`);
    docker(['rm', '-f', '-v', started[0]!]);
    expect(ipB).not.toBe(ipA);
    expect(inject(file)).toMatchObject({ status: 0, log: expect.stringContaining(`set ${alias} to ${ipB}`) });
    expect(readFileSync(file, 'utf8')).toBe(NODE_HOSTS + ours(ipB));
  });
});
