/**
 * A pull exactly as on a k3d node, by the real engine: Debian's containerd with the CRI plugin, in
 * a stand-in node container (test/helpers/k3s-node.ts), configured from the rendered
 * registries.yaml as k3s does (test/helpers/k3s-containerd.ts), asked by a CRI client as the
 * kubelet asks, with no credentials in the request. The registry runs from the rendered manifests;
 * container-registry.local resolves only through the line our hosts script keeps in /etc/hosts.
 * Each failure is asserted in the words a real node's pull shows (kubectl describe pod repeats them).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki } from '../../src/render/pki.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import type { K3sNode } from '../helpers/k3s-node.js';
import { expectEventually, NodeTestbed, REGISTRY } from '../helpers/node-testbed.js';
import { nodeTierAvailable } from '../helpers/node-tier.js';

// The passwords of the render tests (test/unit/registries-yaml.test.ts, htpasswd-apache.test.ts).
const PASSWORDS = [
  'p$a"ss w#rd:\\x', "'single' and \"double\"", '# starts with a hash', ': colon first', 'ü€😀 non-ascii',
  ' leading and trailing space ', '- dash', '*star', '&anchor', 'null', 'true', '0123', 'yes', 'on', 'y', '1_000', '12:30',
  'p$a"ss w#rd:\\ü€', "it's `$(whoami)` ${HOME} 'q' ; | & < >", '€'.repeat(24), 'x'.repeat(72), '{{ .Password }} %q %s [host]',
];
const FIRST_PASSWORD = `it's a "p$ss" #1: ü`;

const bed = new NodeTestbed();
const repository = `team/hello-${bed.suffix}`;
const image = `${REGISTRY}/${repository}:1`;
let node: K3sNode;
let digest = '';

/** A fresh pull: the image is removed first, so containerd must fetch it again. */
async function freshPull(): Promise<string> {
  await node.cri.remove(image).catch(() => undefined);
  return node.cri.pull(image);
}
async function freshPullError(): Promise<string> {
  await node.cri.remove(image).catch(() => undefined);
  return node.cri.pullError(image);
}
/** The kubelet's event text: containerd's message for the pull, ending in the cause. */
const failure = (cause: string) => `failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${cause}`;
const headRequest = `failed to do request: Head "https://${REGISTRY}/v2/${repository}/manifests/1"`;

describe.skipIf(!nodeTierAvailable)('a k3s node pulls from our registry (real containerd, CRI)', () => {
  beforeAll(async () => {
    await bed.setup(FIRST_PASSWORD);
    digest = bed.push(ensureBusyboxImage(), `${repository}:1`);
    node = await bed.readyNode();
  });
  afterAll(() => bed.teardown());

  it("pulls the pushed image by its in-cluster name, credentials taken from containerd's own config", async () => {
    expect(digest).toMatch(/^sha256:/);
    expect(await freshPull()).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await node.cri.status(image))?.repo_digests).toEqual([`${REGISTRY}/${repository}@${digest}`]);
    // What k3s v1.31 writes for our registry: the default endpoint with our CA, and a [host] table.
    const fixture = readFileSync(new URL('../fixtures/k3s/hosts-v1.31.5.toml', import.meta.url), 'utf8');
    expect(node.exec(`cat "/var/lib/rancher/k3s/agent/etc/containerd/certs.d/${REGISTRY}/hosts.toml"`)).toBe(fixture.trimEnd());
    expect(node.exec('cat /var/lib/rancher/k3s/agent/etc/containerd/config.toml')).toContain(`[plugins."io.containerd.grpc.v1.cri".registry.configs."${REGISTRY}".auth]`);
  });

  it('pulls the same image by the name this machine pushes to, localhost:<port>/..., through our mirror for it', async () => {
    const local = `localhost:31113/${repository}:1`;
    await node.cri.remove(local).catch(() => undefined);
    expect(await node.cri.pull(local)).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Fetched from our registry: the same content, and containerd names where it came from.
    expect((await node.cri.status(local))?.repo_digests).toContain(`localhost:31113/${repository}@${digest}`);
    expect(node.exec('cat "/var/lib/rancher/k3s/agent/etc/containerd/certs.d/localhost:31113/hosts.toml"')).toContain(`[host."https://${REGISTRY}/v2"]`);
  });

  it.each(PASSWORDS.map((p, i) => [i, p] as const))('pulls with password #%i after k3s restarts with it', async (_i, password) => {
    await bed.renderState(password);
    bed.updateRegistrySecret();
    node.writeK3sFiles();
    await node.restartContainerd();
    await expect(freshPull()).resolves.toMatch(/^sha256:/);
  });

  it('a node whose CA is not the one that signed the registry certificate: x509 unknown authority', async () => {
    const caFile = bed.render.files.nodeCaCert;
    const ours = readFileSync(caFile, 'utf8');
    const other = ensurePki({}, { dnsNames: ['container-registry.local'], ipAddresses: [], now: new Date() }).pki.caCert;
    writeFileSync(caFile, other);
    try {
      // Both CAs carry our CA's name, hence Go's "possibly because of" remark.
      // Go names the key type of the CA it tried: ours are ECDSA P-256 (RSA CAs made before say "crypto/rsa: verification error").
      expect(await freshPullError()).toBe(
        failure(`${headRequest}: x509: certificate signed by unknown authority (possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "k3s-devreg local CA")`),
      );
    } finally {
      writeFileSync(caFile, ours);
    }
    await expect(freshPull()).resolves.toMatch(/^sha256:/);
  });

  it('no hosts line: the name does not resolve', async () => {
    node.stopHostsInject();
    const withLine = node.hosts();
    node.setHosts(`${withLine.split('\n').filter((l) => !l.includes('# managed by k3s-devreg')).join('\n')}\n`);
    try {
      expect(await freshPullError()).toBe(failure(`${headRequest}: dial tcp: lookup container-registry.local: no such host`));
    } finally {
      node.startHostsInject();
    }
    await expectEventually(() => node.hosts().includes(bed.hostsLine()), 'the hosts script to restore the line');
    await expect(freshPull()).resolves.toMatch(/^sha256:/);
  });

  it('a stale IP in the hosts line (the Service was re-created): nothing answers there', async () => {
    node.stopHostsInject();
    // An unused address on the node's network, as an old ClusterIP is after the Service is gone.
    const ip = bed.registryIp().replace(/\.\d+$/, '.250');
    node.setHosts(node.hosts().replace(bed.hostsLine(), bed.hostsLine(ip)) + '\n');
    try {
      expect(await freshPullError()).toBe(failure(`${headRequest}: dial tcp ${ip}:5000: connect: no route to host`));
    } finally {
      node.startHostsInject();
    }
    await expectEventually(() => node.hosts().includes(bed.hostsLine()), 'the hosts script to fix the line');
    await expect(freshPull()).resolves.toMatch(/^sha256:/);
  });

  it('a wrong password in registries.yaml: the registry answers 401', async () => {
    const right = bed.render.credentials.password;
    await bed.renderState(`not-${right}`);
    node.writeK3sFiles();
    await node.restartContainerd();
    expect(await freshPullError()).toBe(failure(`pulling from host ${REGISTRY} failed with status code [manifests 1]: 401 Unauthorized`));
    await bed.renderState(right);
    node.writeK3sFiles();
    await node.restartContainerd();
    await expect(freshPull()).resolves.toMatch(/^sha256:/);
  });

  it('the registry certificate covers only our names: another name for the same registry fails', async () => {
    const other = 'other-name.example:5000';
    const registries = node.registries();
    registries.configs![other] = registries.configs![REGISTRY]!;
    node.writeK3sFiles('fixed', registries);
    await node.restartContainerd();
    const otherImage = `${other}/${repository}:1`;
    node.setHosts(`${node.hosts()}\n${bed.registryIp()} other-name.example\n`);
    try {
      const error = await node.cri.pullError(otherImage);
      expect(error).toContain(`failed to do request: Head "https://${other}/v2/${repository}/manifests/1": x509: certificate is valid for`);
      expect(error).toMatch(/container-registry\.local.*, not other-name\.example$/);
    } finally {
      node.writeK3sFiles();
      await node.restartContainerd();
    }
  });
});
