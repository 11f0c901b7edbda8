/**
 * A pull exactly as a k3d node would make it, using only what the node sees: the state folder is
 * rendered by `renderState`, the registry runs from the rendered manifests read back from disk,
 * an image is pushed from "the laptop" with docker, and then the node's side is followed by the
 * book: the k3d config says which host folder appears at /etc/k3s-devreg, k3s's registries.yaml
 * there names the mirror endpoint, the credentials and the CA file, and the pull goes to
 * https://container-registry.local:5000 with exactly those (containerd's steps, by hand).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensurePki } from '../../src/render/pki.js';
import { renderState, type RenderResult } from '../../src/steps/render-state.js';
import { createRunner } from '../../src/tools/run.js';
import { dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import { httpsGet, startRenderedRegistry, TEST_LABEL, type Obj } from '../helpers/registry-container.js';

const PASSWORD = `it's a "p$ss" #1: ü ${randomBytes(3).toString('hex')}`;
const suffix = randomBytes(4).toString('hex');
const container = `k3s-devreg-test-nodepull-${suffix}`;
const repository = `team/hello-${suffix}`;
let dir = '';
let port = 0;
let render: RenderResult;
let pushedDigest = '';

const readYaml = (path: string): Obj => parse(readFileSync(path, 'utf8'), { version: '1.1' }) as Obj;
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** What a node sees at a path, given the k3d config's volume list (HOST:NODE[:ro]). */
function hostPathOf(k3dConfig: Obj, nodePath: string): string {
  for (const { volume } of k3dConfig.volumes as Obj[]) {
    const [host, inNode] = String(volume).split(':');
    if (host!.startsWith('/') && nodePath.startsWith(`${inNode}/`)) return join(host!, nodePath.slice(inNode!.length));
  }
  throw new Error(`no k3d volume makes ${nodePath} visible to the nodes`);
}

describe.skipIf(!dockerAvailable)('a node pulls with what it sees', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-nodepull-'));
    const stateDir = join(dir, 'state');
    render = await renderState({
      spec: { name: 'devreg', agents: 1, hostPort: 31113, username: 'team-user', registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', stateDir },
      password: PASSWORD,
      strict: true,
      runner: createRunner(),
      env: {},
    });
    const manifests = render.files.manifests.map(readYaml);
    const deployment = manifests.find((m) => m.kind === 'Deployment')!;
    const secret = manifests.find((m) => m.kind === 'Secret')!;
    port = await startRenderedRegistry({ name: container, dir, deployment, secret, ca: readFileSync(render.files.caCert, 'utf8') });

    // The laptop side: docker login with the saved credentials (password on stdin), push.
    const dockerConfig = join(dir, 'docker-config');
    mkdirSync(dockerConfig);
    const laptop = (args: string[], input?: string) => {
      const r = spawnSync('docker', args, { input, encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
      if (r.status !== 0) throw new Error(`docker ${args[0]} failed: ${r.stderr}`);
      return r.stdout;
    };
    const saved = JSON.parse(readFileSync(render.files.credentials, 'utf8')) as { username: string; password: string };
    laptop(['login', `localhost:${port}`, '-u', saved.username, '--password-stdin'], saved.password);
    laptop(['tag', ensureBusyboxImage(), `localhost:${port}/${repository}:1`]);
    const push = laptop(['push', `localhost:${port}/${repository}:1`]);
    pushedDigest = /digest: (sha256:[0-9a-f]{64})/.exec(push)?.[1] ?? '';
    laptop(['rmi', `localhost:${port}/${repository}:1`]);
  });

  afterAll(() => {
    spawnSync('docker', ['rm', '-f', '-v', container], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pulls the pushed image by the in-cluster name with the credentials and CA of registries.yaml', async () => {
    expect(pushedDigest).toMatch(/^sha256:/);
    const k3dConfig = readYaml(render.files.k3dConfig);
    const arg = (k3dConfig.options.k3s.extraArgs as Obj[]).map((a) => String(a.arg)).find((a) => a.startsWith('--private-registry='))!;
    const registries = readYaml(hostPathOf(k3dConfig, arg.slice('--private-registry='.length)));

    // containerd: image container-registry.local:5000/<repo> -> the mirror's endpoint -> that host's config.
    const endpoint = new URL(registries.mirrors['container-registry.local:5000'].endpoint[0]);
    expect(endpoint.protocol).toBe('https:');
    const config = registries.configs[endpoint.host];
    const ca = readFileSync(hostPathOf(k3dConfig, config.tls.ca_file), 'utf8');
    const auth = `${config.auth.username}:${config.auth.password}`;
    // The registry listens on its own port here; the name is what the certificate must match.
    const at = { port, ca, servername: endpoint.hostname };

    const manifest = await httpsGet({ ...at, path: `/v2/${repository}/manifests/1`, auth, headers: { Accept: MANIFEST_TYPES } });
    expect(manifest.status).toBe(200);
    expect(manifest.headers['docker-content-digest']).toBe(pushedDigest);
    const layers = JSON.parse(manifest.body.toString('utf8')) as { config: Obj; layers: Obj[] };
    for (const blob of [layers.config, ...layers.layers]) {
      const got = await httpsGet({ ...at, path: `/v2/${repository}/blobs/${blob.digest}`, auth });
      expect(got.status).toBe(200);
      expect(`sha256:${createHash('sha256').update(got.body).digest('hex')}`).toBe(blob.digest);
    }
  });

  it('fails without the credentials, and with a CA other than the one the node was given', async () => {
    const ca = readFileSync(render.files.caCert, 'utf8');
    const anonymous = await httpsGet({ port, ca, servername: 'container-registry.local', path: `/v2/${repository}/manifests/1` });
    expect(anonymous.status).toBe(401);
    const otherCa = ensurePki({}, { dnsNames: ['container-registry.local'], ipAddresses: [], now: new Date() }).pki.caCert;
    await expect(httpsGet({ port, ca: otherCa, servername: 'container-registry.local', path: '/v2/' })).rejects.toThrow(/certificate/i);
  });

  it('the certificate does not cover names it should not', async () => {
    const ca = readFileSync(render.files.caCert, 'utf8');
    await expect(httpsGet({ port, ca, servername: 'evil.example.com', path: '/' })).rejects.toThrow(/altnames|certificate/i);
  });
});
