/**
 * `hosts-inject.sh check`, the registry-hosts pods' readiness probe, in a real busybox container with
 * the rendered probe command and env: ready only while the node's hosts file holds exactly the right line.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderManifests } from '../../src/render/manifests.js';
import { DEFAULT_K3S_IMAGE, DEFAULT_REGISTRY_IMAGE, type ClusterSpec } from '../../src/spec.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage } from '../helpers/images.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const SCRIPT = fileURLToPath(new URL('../../assets/hosts-inject.sh', import.meta.url));
const LABEL = 'dev.k3s-devreg/test=1';
const suffix = randomBytes(4).toString('hex');
const network = `k3s-devreg-test-hostscheck-${suffix}`;
const service = `k3s-devreg-test-hostscheck-svc-${suffix}`;
let image = '';
let dir = '';
let ip = '';
let container: Obj = {};

function probe(hostsContent: string, env: Record<string, string> = {}): { status: number | null; out: string; unchanged: boolean } {
  const file = join(mkdtempSync(join(dir, 'node-')), 'hosts');
  writeFileSync(file, hostsContent);
  const before = statSync(file).mtimeMs;
  const podEnv = Object.fromEntries(container.env.map((e: Obj) => [e.name, e.value]));
  const hostsMount = container.volumeMounts.find((m: Obj) => m.name === 'etc-hosts').mountPath;
  const command = container.readinessProbe.exec.command as string[];
  const r = spawnSync('docker', ['run', '--rm', '--label', LABEL, '--network', network, '--read-only', '--user', '0', '--cap-drop', 'ALL',
    '-v', `${SCRIPT}:${command[1]}:ro`, '-v', `${file}:${hostsMount}`,
    ...Object.entries({ ...podEnv, REGISTRY_SERVICE: service, ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]), image, ...command], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim(), unchanged: readFileSync(file, 'utf8') === hostsContent && statSync(file).mtimeMs === before };
}

describe.skipIf(!dockerAvailable)('the registry-hosts readiness probe in a container', () => {
  beforeAll(() => {
    image = ensureBusyboxImage();
    const spec: ClusterSpec = { name: 'devreg', agents: 0, hostPort: 31113, username: 'u', registryImage: DEFAULT_REGISTRY_IMAGE, hostsImage: image, k3sImage: DEFAULT_K3S_IMAGE, stateDir: '/x' };
    const ds = renderManifests(spec, { tlsCert: '', tlsKey: '', htpasswd: '', hostsScript: '' }).find((m) => m.object.kind === 'DaemonSet');
    container = (ds!.object as Obj).spec.template.spec.containers[0];
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-hostscheck-'));
    docker(['network', 'create', '--label', LABEL, network]);
    docker(['run', '-d', '--rm', '--label', LABEL, '--name', service, '--network', network, '--network-alias', service, image, 'sleep', '300']);
    ip = docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, service]);
  });
  afterAll(() => {
    spawnSync('docker', ['rm', '-f', service], { stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', network], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const line = (address: string) => `${address} container-registry.local  # managed by k3s-devreg\n`;
  const base = '127.0.0.1\tlocalhost\n172.18.0.3\tk3d-devreg-server-0\n';

  it('is ready with exactly the right line, and writes nothing', () => {
    expect(probe(base + line(ip))).toEqual({ status: 0, out: '', unchanged: true });
  });

  it('is not ready without the line (a node docker restarted), with a stale address, or with two lines of ours; it writes nothing', () => {
    for (const content of [base, base + line('10.43.9.9'), base + line(ip) + line('10.43.9.9')]) {
      const result = probe(content);
      expect(result.status).toBe(1);
      expect(result.unchanged).toBe(true);
    }
    expect(probe(base).out).toBe(`/host/etc/hosts lacks the line ${ip} container-registry.local`);
  });

  it("judges by the pod's environment while DNS does not answer, and fails when neither gives an address", () => {
    const gone = { REGISTRY_SERVICE: `nothing-${suffix}.invalid` };
    expect(probe(base + line('10.43.0.77'), { ...gone, FALLBACK_IP: '10.43.0.77' }).status).toBe(0);
    expect(probe(base + line('10.43.0.77'), gone)).toMatchObject({ status: 1, out: `cannot resolve nothing-${suffix}.invalid` });
  });
});
