/**
 * The real registry, run with exactly the env, mount paths and Secret contents of the rendered
 * Deployment (only the image is swapped for the local stand-in), then used the way developers do:
 * docker login / push / pull over TLS with the project's own CA and htpasswd.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htpasswdEntry } from '../../src/render/htpasswd.js';
import { renderManifests } from '../../src/render/manifests.js';
import { ensurePki, type Pki } from '../../src/render/pki.js';
import { DEFAULT_HOSTS_IMAGE, REGISTRY_HOST, serviceDnsNames, type ClusterSpec } from '../../src/spec.js';
import { dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import { httpsGet, startRenderedRegistry, TEST_LABEL as LABEL, type Obj } from '../helpers/registry-container.js';

const USER = 'devreg';
const PASSWORD = 'p$a"ss w#rd:ü';
const suffix = randomBytes(4).toString('hex');
const name = `k3s-devreg-test-registry-${suffix}`;

/** docker CLI with its own config folder, so logins never touch the developer's ~/.docker. */
function cli(args: string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync('docker', args, { input, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function get(path: string, ca: string, auth?: string): Promise<{ status: number; headers: Obj; body: string }> {
  const reply = await httpsGet({ port, path, ca, ...(auth ? { auth } : {}) });
  return { ...reply, body: reply.body.toString('utf8') };
}

let port = 0;
let dir = '';
let dockerConfig = '';
let pki: Pki;
let deployment: Obj;
let repo = '';

describe.skipIf(!dockerAvailable)('the registry as rendered', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-registry-'));
    dockerConfig = join(dir, 'docker-config');
    mkdirSync(dockerConfig);
    ({ pki } = ensurePki({}, { dnsNames: [REGISTRY_HOST, ...serviceDnsNames(), 'localhost'], ipAddresses: ['127.0.0.1'], now: new Date() }));
    const spec: ClusterSpec = { name: 'devreg', agents: 0, hostPort: 31113, username: USER, registryImage: 'registry:2.8.3', hostsImage: DEFAULT_HOSTS_IMAGE, k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir: dir };
    const manifests = renderManifests(spec, { tlsCert: pki.tlsCert, tlsKey: pki.tlsKey, htpasswd: htpasswdEntry(USER, PASSWORD, 5), hostsScript: '' });
    const find = (kind: string): Obj => manifests.find((m) => m.object.kind === kind)!.object as Obj;
    deployment = find('Deployment');
    const secret = find('Secret');
    port = await startRenderedRegistry({ name, dir, deployment, secret, ca: pki.caCert });
    repo = `localhost:${port}/k3s-devreg-test/busybox-${suffix}`;
  });
  afterAll(() => {
    spawnSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore' });
    if (repo) spawnSync('docker', ['rmi', `${repo}:1`], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 200 on the probe path without credentials', async () => {
    const probe = deployment.spec.template.spec.containers[0].readinessProbe.httpGet;
    expect((await get(probe.path, pki.caCert)).status).toBe(200);
  });

  it('serves a certificate that verifies against the CA, and only against it', async () => {
    const other = ensurePki({}, { dnsNames: ['localhost'], ipAddresses: [], now: new Date() }).pki.caCert;
    await expect(get('/', other)).rejects.toThrow(/certificate/i);
  });

  it('asks for credentials on /v2/ and accepts the htpasswd user', async () => {
    const anonymous = await get('/v2/', pki.caCert);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="k3s-devreg registry"');
    expect((await get('/v2/', pki.caCert, `${USER}:wrong`)).status).toBe(401);
    expect((await get('/v2/', pki.caCert, `${USER}:${PASSWORD}`)).status).toBe(200);
  });

  it('refuses docker login with a wrong password', () => {
    const r = cli(['login', `localhost:${port}`, '-u', USER, '--password-stdin'], `${PASSWORD}x\n`);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/unauthorized|401/i);
  });

  it('lets docker log in, push, pull and run', async () => {
    const busybox = ensureBusyboxImage();
    expect(cli(['tag', busybox, `${repo}:1`]).status).toBe(0);
    expect(cli(['push', `${repo}:1`]).status).not.toBe(0); // not logged in yet
    const login = cli(['login', `localhost:${port}`, '-u', USER, '--password-stdin'], `${PASSWORD}\n`);
    expect(login.out).toContain('Login Succeeded');
    expect(login.status).toBe(0);
    expect(cli(['push', `${repo}:1`]).status).toBe(0);
    const tags = await get(`/v2/k3s-devreg-test/busybox-${suffix}/tags/list`, pki.caCert, `${USER}:${PASSWORD}`);
    expect(JSON.parse(tags.body)).toEqual({ name: `k3s-devreg-test/busybox-${suffix}`, tags: ['1'] });
    expect(cli(['rmi', `${repo}:1`]).status).toBe(0);
    expect(cli(['image', 'inspect', `${repo}:1`]).status).not.toBe(0);
    expect(cli(['pull', `${repo}:1`]).status).toBe(0);
    const run = cli(['run', '--rm', '--label', LABEL, `${repo}:1`, 'echo', 'pulled and ran']);
    expect(run).toEqual({ status: 0, out: 'pulled and ran\n' });
  });
});
