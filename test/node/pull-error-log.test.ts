/**
 * The containerd.log lines doctor reads, made by the real containerd of the node tier: one failed
 * CRI pull per class of failure (wrong CA, a name the certificate lacks, an expired certificate, no
 * or wrong credentials, no hosts line, an address nothing answers at, a closed port, a missing tag, a
 * plain-http server, a server that never answers), each line classified by doctor/pull-errors.ts.
 * With K3S_DEVREG_WRITE_FIXTURES=1 the lines are saved as test/fixtures/containerd-log/<kind>.log,
 * the fixtures the unit test classifies in every run.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContainerdLogLine, pullErrorsFor } from '../../src/doctor/containerd-log.js';
import { explainPullError } from '../../src/doctor/pull-errors.js';
import { ensurePki } from '../../src/render/pki.js';
import { diagnoseNode, readStateFacts } from '../../src/steps/doctor-node.js';
import { createRunner } from '../../src/tools/run.js';
import { issueCertificate, subjectDer } from '../../src/render/x509.js';
import { docker } from '../helpers/docker.js';
import { ensureBusyboxImage, ensureRegistryImage } from '../helpers/images.js';
import type { K3sNode } from '../helpers/k3s-node.js';
import { NodeTestbed, REGISTRY, expectEventually } from '../helpers/node-testbed.js';
import { nodeTierAvailable } from '../helpers/node-tier.js';
import { TEST_LABEL } from '../helpers/labels.js';

const WRITE = process.env.K3S_DEVREG_WRITE_FIXTURES === '1';
const FIXTURES = new URL('../fixtures/containerd-log/', import.meta.url);
const HOSTS = [REGISTRY, 'localhost:31113'];

const bed = new NodeTestbed();
const repository = `team/hello-${bed.suffix}`;
const image = `${REGISTRY}/${repository}:1`;
const expired = `k3s-devreg-test-expired-registry-${bed.suffix}`;
let node: K3sNode;
const written = new Set<string>();

/** Pulls `ref` (removed first), expects it to fail, and returns the log lines about it, classified. */
async function failedPullLines(ref: string, fixture: string, kind: string): Promise<string[]> {
  const before = node.containerdLog().length;
  await node.cri.remove(ref).catch(() => undefined);
  const error = await node.cri.pullError(ref);
  expect(explainPullError(error)?.kind, error).toBe(kind);
  let lines: string[] = [];
  await expectEventually(() => {
    lines = node.containerdLog().slice(before).split('\n').filter((l) => l.includes(ref.split(':')[1]!.split('/')[1]!) || l.includes(ref));
    return lines.some((l) => l.includes('PullImage') && l.includes('failed'));
  }, 'the PullImage failure in containerd.log');
  const ours = lines.filter((l) => /level=error|trying next host/.test(l));
  const failed = ours.filter((l) => /msg="PullImage .* failed"/.test(l));
  expect(failed).toHaveLength(1);
  const grpc = /^rpc error: code = \w+ desc = /;
  expect(parseContainerdLogLine(failed[0]!)?.error?.replace(grpc, '')).toBe(error.replace(grpc, ''));
  expect(pullErrorsFor(ours.join('\n'), HOSTS).at(-1)?.explanation?.kind).toBe(kind);
  if (WRITE) {
    mkdirSync(FIXTURES, { recursive: true });
    const file = new URL(`${fixture}.log`, FIXTURES);
    if (!written.has(fixture)) writeFileSync(file, '');
    written.add(fixture);
    appendFileSync(file, `${ours.join('\n')}\n`);
  }
  return ours;
}

async function withHostsLine(address: string, work: () => Promise<unknown>): Promise<void> {
  node.stopHostsInject();
  const original = node.hosts();
  node.setHosts(`${original.split('\n').filter((l) => !l.includes('container-registry.local')).join('\n')}\n${address ? `${address} container-registry.local\n` : ''}`);
  try {
    await work();
  } finally {
    node.setHosts(`${original}\n`);
    node.startHostsInject();
  }
}

async function withK3sRegistries(change: (r: ReturnType<K3sNode['registries']>) => void, work: () => Promise<unknown>): Promise<void> {
  const registries = node.registries();
  change(registries);
  node.writeK3sFiles('fixed', registries);
  await node.restartContainerd();
  try {
    await work();
  } finally {
    node.writeK3sFiles();
    await node.restartContainerd();
  }
}

/** Our CA's key signs a registry certificate whose validity ended before today. */
function expiredCertificate(): { cert: string; key: string } {
  const caKey = createPrivateKey(readFileSync(bed.render.files.caKey, 'utf8'));
  const caCert = readFileSync(bed.render.files.caCert, 'utf8');
  const { tlsKey } = ensurePki({}, { dnsNames: ['container-registry.local'], ipAddresses: [], now: new Date() }).pki;
  const cert = issueCertificate({
    serialHex: '0a1b2c3d', notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2024-02-01T00:00:00Z'), commonName: 'container-registry.local',
    issuerDer: subjectDer(caCert), ca: false, keyUsage: ['digitalSignature'], serverAuth: true, dnsNames: ['container-registry.local', 'localhost'],
    publicKey: createPublicKey(tlsKey), signingKey: caKey,
  });
  return { cert, key: tlsKey };
}

describe.skipIf(!nodeTierAvailable)('containerd.log lines of failed pulls (real containerd 1.6, CRI)', () => {
  beforeAll(async () => {
    await bed.setup('the-right-password');
    bed.push(ensureBusyboxImage(), `${repository}:1`);
    node = await bed.readyNode();
    await expect(node.cri.pull(image)).resolves.toMatch(/^sha256:/);
  }, 180_000);
  afterAll(() => {
    docker(['rm', '-f', '-v', expired]);
    bed.teardown();
  });

  it('wrong CA: x509 unknown authority; doctor, reading this node, says why, and forgets it once a pull works', async () => {
    const caFile = bed.render.files.nodeCaCert;
    const ours = readFileSync(caFile, 'utf8');
    const diagnose = async () => Object.fromEntries(
      (await diagnoseNode({ run: createRunner(), node: node.options.name, serviceIp: bed.registryIp(), now: new Date() }, await readStateFacts(bed.stateDir))).map((f) => [f.check, f]),
    );
    writeFileSync(caFile, ensurePki({}, { dnsNames: ['container-registry.local'], ipAddresses: [], now: new Date() }).pki.caCert);
    try {
      await failedPullLines(image, 'x509', 'x509');
      await failedPullLines(`localhost:31113/${repository}:1`, 'x509', 'x509');
      const f = await diagnose();
      expect(f.CA).toMatchObject({ status: 'fail', summary: expect.stringContaining("/etc/k3s-devreg/ca.crt in the node is not the state folder's CA") });
      expect(f['pull errors']).toMatchObject({ status: 'fail', summary: expect.stringContaining(`the pull of localhost:31113/${repository}:1 failed at `) });
      expect(f['pull errors']!.summary).toContain('(x509): containerd on the node does not trust');
      expect(f['pull errors']!.summary).toMatch(/\(earlier failed pulls: x509\)$/);
      for (const check of ['hosts entry', 'registries.yaml', 'hosts.toml', 'credentials', 'certificate', 'clock']) expect(f[check], JSON.stringify(f[check])).toMatchObject({ status: 'ok' });
    } finally {
      writeFileSync(caFile, ours);
    }
    // containerd's own words for a pull that worked ("PullImage ... returns image reference") end that image's failure.
    await expect(node.cri.pull(image)).resolves.toMatch(/^sha256:/);
    const f = await diagnose();
    expect(f.CA!.status).toBe('ok');
    expect(f['pull errors']!.summary).toContain(`the pull of localhost:31113/${repository}:1 failed`);
    expect(f['pull errors']!.summary).not.toContain('(earlier failed pulls');
  });

  it('a name the certificate does not cover: x509 valid for ..., not ...', async () => {
    const other = 'other-name.example:5000';
    await withK3sRegistries(
      (r) => {
        r.mirrors![`localhost:31113`] = { endpoint: [`https://${other}`] };
        r.configs![other] = r.configs![REGISTRY]!;
      },
      async () => {
        node.setHosts(`${node.hosts()}\n${bed.registryIp()} other-name.example\n`);
        await failedPullLines(`localhost:31113/${repository}:1`, 'x509-name', 'x509');
      },
    );
  });

  it('no credentials, then a wrong password: 401 Unauthorized', async () => {
    await withK3sRegistries((r) => delete (r.configs![REGISTRY] as { auth?: unknown }).auth, () => failedPullLines(image, 'unauthorized', 'unauthorized'));
    await withK3sRegistries(
      (r) => ((r.configs![REGISTRY] as { auth: { password: string } }).auth.password = 'not-the-password'),
      () => failedPullLines(image, 'unauthorized', 'unauthorized'),
    );
  });

  it('a missing tag: not found', () => failedPullLines(`${REGISTRY}/${repository}:no-such-tag`, 'manifest-unknown', 'manifest-unknown'));

  // By localhost:31113 the mirror's 404 is passed over without a word and the error is k3s's fallback endpoint's, refused in the node.
  it('a missing tag by localhost:<port>: the fallback http://localhost:<port>/v2 refuses', () =>
    failedPullLines(`localhost:31113/${repository}:no-such-tag`, 'mirror-not-found', 'mirror-not-found'));

  it('no hosts line: no such host', () => withHostsLine('', () => failedPullLines(image, 'no-such-host', 'no-such-host')));

  it('an old ClusterIP in the hosts line: no route to host', () =>
    withHostsLine(bed.registryIp().replace(/\.\d+$/, '.250'), () => failedPullLines(image, 'no-route', 'no-route')));

  // It ends at k3s's fallback endpoint http://localhost:31113/v2, as a missing tag behind our mirror does: mirror-not-found, whose explanation names this case.
  it('no mirror for localhost:<port> (a registries.yaml from before it): the node itself refuses', () =>
    withK3sRegistries((r) => delete r.mirrors!['localhost:31113'], () => failedPullLines(`localhost:31113/${repository}:1`, 'connection-refused', 'mirror-not-found')));

  it('a plain-http server at the address: HTTP response to HTTPS client', async () => {
    node.exec('httpd -p 127.0.0.1:5000 -h /tmp');
    try {
      await withHostsLine('127.0.0.1', () => failedPullLines(image, 'http-to-https', 'http-to-https'));
    } finally {
      node.exec('kill $(pidof httpd)');
    }
  });

  it('a server that accepts and never answers: TLS handshake timeout', async () => {
    // nc keeps the connection open as long as its stdin (sleep) lasts, and never writes a byte.
    node.exec('(sleep 120 | nc -l -p 5000 >/dev/null 2>&1) & sleep 0.2');
    try {
      await withHostsLine('127.0.0.1', () => failedPullLines(image, 'timeout', 'timeout'));
    } finally {
      node.exec('kill $(pidof nc) 2>/dev/null; true');
    }
  }, 60_000);

  it('a registry certificate that has expired', async () => {
    const dir = join(bed.dir, 'expired-certs');
    mkdirSync(dir, { recursive: true });
    const { cert, key } = expiredCertificate();
    writeFileSync(join(dir, 'tls.crt'), cert);
    writeFileSync(join(dir, 'tls.key'), key, { mode: 0o644 });
    docker([
      'run', '-d', '--label', TEST_LABEL, '--name', expired, '--network', bed.network, '-v', `${dir}:/certs:ro`,
      '-e', 'REGISTRY_HTTP_ADDR=:5000', '-e', 'REGISTRY_HTTP_TLS_CERTIFICATE=/certs/tls.crt', '-e', 'REGISTRY_HTTP_TLS_KEY=/certs/tls.key', ensureRegistryImage(),
    ]);
    const ip = docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${bed.network}").IPAddress}}`, expired]);
    await withHostsLine(ip, () => failedPullLines(image, 'x509-expired', 'x509'));
  });
});
