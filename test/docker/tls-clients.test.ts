/**
 * The rendered (ECDSA P-256) certificates against the TLS clients a developer points at the registry:
 * curl and openssl s_client, through the saved CA only. Go's TLS (the registry, docker, containerd)
 * is covered by registry.test.ts, docker-steps.test.ts and the node tier.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htpasswdEntry } from '../../src/render/htpasswd.js';
import { renderManifests } from '../../src/render/manifests.js';
import { ensurePki } from '../../src/render/pki.js';
import { DEFAULT_HOSTS_IMAGE, DEFAULT_K3S_IMAGE, REGISTRY_HOST, serviceDnsNames, type ClusterSpec } from '../../src/spec.js';
import { dockerAvailable } from '../helpers/docker.js';
import { startRenderedRegistry, type Obj } from '../helpers/registry-container.js';
import { requireTool } from '../helpers/tools.js';

const USER = 'devreg';
const PASSWORD = `curl-${randomBytes(6).toString('hex')}`;
const name = `k3s-devreg-test-tls-${randomBytes(4).toString('hex')}`;
const curlAvailable = requireTool(spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0, 'curl', 'apt-get install curl');
let dir = '';
let port = 0;
let caFile = '';

describe.skipIf(!dockerAvailable || !curlAvailable)('TLS clients against the rendered registry', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-tls-'));
    const { pki } = ensurePki({}, { dnsNames: [REGISTRY_HOST, ...serviceDnsNames(), 'localhost'], ipAddresses: ['127.0.0.1'], now: new Date() });
    caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, pki.caCert);
    const spec: ClusterSpec = { name: 'devreg', agents: 0, hostPort: 31113, username: USER, registryImage: 'registry:2.8.3', hostsImage: DEFAULT_HOSTS_IMAGE, k3sImage: DEFAULT_K3S_IMAGE, stateDir: dir };
    const manifests = renderManifests(spec, { tlsCert: pki.tlsCert, tlsKey: pki.tlsKey, htpasswd: htpasswdEntry(USER, PASSWORD, 5), hostsScript: '' });
    const find = (kind: string): Obj => manifests.find((m) => m.object.kind === kind)!.object as Obj;
    port = await startRenderedRegistry({ name, dir, deployment: find('Deployment'), secret: find('Secret'), ca: pki.caCert });
  });
  afterAll(() => {
    spawnSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** curl with its credentials on stdin (-K -), as the README shows: the password stays off argv. */
  const curl = (url: string, extra: string[] = [], withUser = true) =>
    spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', caFile, ...extra, '-K', '-', url], {
      input: withUser ? `user = ${JSON.stringify(`${USER}:${PASSWORD}`)}\n` : '',
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('curl trusts the certificate through the saved CA: 200 with, 401 without the credentials', () => {
    expect(curl(`https://localhost:${port}/v2/`).stdout).toBe('200');
    expect(curl(`https://127.0.0.1:${port}/v2/`).stdout).toBe('200');
    expect(curl(`https://localhost:${port}/v2/`, [], false).stdout).toBe('401');
    // By the registry's cluster name, as a node reaches it.
    expect(curl(`https://${REGISTRY_HOST}:${port}/v2/`, ['--resolve', `${REGISTRY_HOST}:${port}:127.0.0.1`]).stdout).toBe('200');
  });

  it('curl refuses it without the CA (exit 60) and for a name it does not carry', () => {
    const noCa = spawnSync('curl', ['-sS', '-o', '/dev/null', `https://localhost:${port}/v2/`], { encoding: 'utf8', timeout: 30_000 });
    expect(noCa.status).toBe(60);
    const otherName = curl(`https://other.example:${port}/v2/`, ['--resolve', `other.example:${port}:127.0.0.1`]);
    expect(otherName.status).toBe(60);
    expect(otherName.stderr).toMatch(/no alternative certificate subject name matches|does not match target host name/);
  });

  it('openssl s_client verifies the chain and the name, and sees an ECDSA P-256 server key', () => {
    const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', REGISTRY_HOST, '-verify_hostname', REGISTRY_HOST, '-CAfile', caFile, '-verify_return_error'], {
      input: '',
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stdout).toContain('Verify return code: 0 (ok)');
    expect(`${r.stdout}${r.stderr}`).toMatch(/Server public key is 256 bit|Peer signature type: ECDSA/);
  });
});
