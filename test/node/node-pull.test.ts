/**
 * A pull exactly as on a k3d node, by the real engine: Debian's containerd with the CRI plugin, in
 * a stand-in node container (test/helpers/k3s-node.ts), configured from the rendered
 * registries.yaml as k3s does (test/helpers/k3s-containerd.ts), asked by a CRI client as the
 * kubelet asks, with no credentials in the request. The registry runs from the rendered manifests;
 * container-registry.local resolves only through the line our hosts script keeps in /etc/hosts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBusyboxImage } from '../helpers/images.js';
import type { K3sNode } from '../helpers/k3s-node.js';
import { expectEventually, NodeTestbed, REGISTRY } from '../helpers/node-testbed.js';
import { nodeTierAvailable } from '../helpers/node-tier.js';

const bed = new NodeTestbed();
const image = `${REGISTRY}/team/hello-${bed.suffix}:1`;
let node: K3sNode;
let digest = '';

describe.skipIf(!nodeTierAvailable)('a k3s node pulls from our registry (real containerd, CRI)', () => {
  beforeAll(async () => {
    await bed.setup(`it's a "p$ss" #1: ü ${bed.suffix}`);
    digest = bed.push(ensureBusyboxImage(), `team/hello-${bed.suffix}:1`);
    node = bed.startNode();
    await node.ready();
    await expectEventually(() => node.hosts().includes(bed.hostsLine()), 'the hosts line');
  });
  afterAll(() => bed.teardown());

  it('pulls the pushed image by its in-cluster name, credentials taken from containerd\'s own config', async () => {
    expect(digest).toMatch(/^sha256:/);
    const ref = await node.cri.pull(image);
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await node.cri.status(image))?.repo_digests).toContain(`${REGISTRY}/team/hello-${bed.suffix}@${digest}`);
    const hostsToml = readFileSync(new URL('../fixtures/k3s/hosts-v1.31.5.toml', import.meta.url), 'utf8');
    expect(node.exec(`cat "/var/lib/rancher/k3s/agent/etc/containerd/certs.d/${REGISTRY}/hosts.toml"`)).toBe(hostsToml.trimEnd());
  });
});
