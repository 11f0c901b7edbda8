/**
 * Restarts, on the real engine. The registry's data outlives its container's restart. A node
 * restarted by docker gets a fresh /etc/hosts (our line gone) and the hosts script writes it back;
 * how long that takes is measured and printed, never asserted (speed lives in `npm run bench`).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker } from '../helpers/docker.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import type { K3sNode } from '../helpers/k3s-node.js';
import { expectEventually, NodeTestbed, REGISTRY } from '../helpers/node-testbed.js';
import { nodeTierAvailable } from '../helpers/node-tier.js';

const bed = new NodeTestbed();
const repository = `team/restarts-${bed.suffix}`;
const image = `${REGISTRY}/${repository}:1`;
let node: K3sNode;
let digest = '';

/** docker's RFC 3339 nanosecond times, to the millisecond. */
const ms = (time: string): number => Date.parse(time.replace(/(\.\d{3})\d*/, '$1'));

async function pulledDigest(): Promise<string | undefined> {
  await node.cri.remove(image).catch(() => undefined);
  await node.cri.pull(image, 20);
  return (await node.cri.status(image))?.repo_digests[0]?.split('@')[1];
}

describe.skipIf(!nodeTierAvailable)('restarts (real containerd, CRI)', () => {
  beforeAll(async () => {
    await bed.setup('restarts pw');
    digest = bed.push(ensureBusyboxImage(), `${repository}:1`);
    node = await bed.readyNode();
  });
  afterAll(() => bed.teardown());

  it("the registry's data survives the registry container's restart", async () => {
    expect(await pulledDigest()).toBe(digest);
    docker(['restart', '-t', '10', bed.registry]);
    await bed.registryReady();
    // Its address may change with the restart; the hosts script follows it within its interval.
    await expectEventually(() => node.hosts().includes(bed.hostsLine()), 'the hosts line for the restarted registry');
    expect(await pulledDigest()).toBe(digest);
  });

  it('a node restart loses the hosts line; the script restores it (time measured, not asserted)', async () => {
    docker(['restart', '-t', '10', node.options.name]);
    const startedAt = docker(['inspect', '-f', '{{.State.StartedAt}}', node.options.name]);
    await expectEventually(() => node.hosts().includes(bed.hostsLine()), 'the hosts line after the node restart');
    const pulled = Date.now();
    await node.ready();
    await expectEventually(async () => (await pulledDigest()) === digest, 'a pull after the node restart');
    const pullOk = Date.now();
    // The script is silent when the file is already right: a "set" line since the start means docker
    // had dropped our line and the script wrote it again.
    const log = spawnSync('docker', ['logs', '-t', '--since', startedAt, node.options.name], { encoding: 'utf8' });
    const set = `${log.stdout}${log.stderr}`.split('\n').find((l) => l.includes(`hosts-inject: set container-registry.local to ${bed.registryIp()}`));
    expect(set).toBeDefined();
    const restoredMs = ms(set!.split(' ')[0]!) - ms(startedAt);
    expect(restoredMs).toBeGreaterThanOrEqual(0);
    console.log(
      `MEASURED node restart: hosts line restored ${restoredMs} ms after the node container started; ` +
        `a pull succeeded within ${pullOk - ms(startedAt)} ms of the start (${pullOk - pulled} ms of it after the line was seen)`,
    );
  });
});
