/**
 * The leftovers check (test/helpers/docker-leftovers.ts, run as vitest's globalSetup) against the
 * real daemon: what a careless test leaves is found, named and gone from the list once removed.
 * Other files run meanwhile, so only this file's own objects are looked for in the lists.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { dockerSnapshot, leftovers } from '../helpers/docker-leftovers.js';
import { ensureBusyboxImage, ensureRegistryImage } from '../helpers/images.js';
import { TEST_LABEL } from '../helpers/labels.js';

const suffix = randomBytes(4).toString('hex');
const [container, network, tag] = [`k3s-devreg-test-leak-${suffix}`, `k3s-devreg-test-leak-net-${suffix}`, `k3s-devreg-test/leak-${suffix}:1`];
let volume = '';

describe.skipIf(!dockerAvailable)('the docker leftovers check', () => {
  afterAll(() => {
    spawnSync('docker', ['rm', '-f', '-v', container], { stdio: 'ignore' });
    if (volume) spawnSync('docker', ['volume', 'rm', volume], { stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', network], { stdio: 'ignore' });
    spawnSync('docker', ['rmi', tag], { stdio: 'ignore' });
  });

  it('names a container removed without -v (its anonymous volume), a network and an image tag; nothing once removed', () => {
    ensureBusyboxImage();
    const before = dockerSnapshot();
    // The registry image declares VOLUME /var/lib/registry: docker rm without -v keeps that volume.
    docker(['create', '--label', TEST_LABEL, '--name', container, ensureRegistryImage()]);
    volume = docker(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', container]);
    expect(volume).toMatch(/^[0-9a-f]{64}$/);
    docker(['network', 'create', '--label', TEST_LABEL, network]);
    docker(['tag', ensureBusyboxImage(), tag]);
    const withContainer = leftovers(before, dockerSnapshot()).join('\n');
    expect(withContainer).toMatch(new RegExp(`container\\(s\\) left behind: [^\\n]*\\b${container}\\b`));
    docker(['rm', container]);
    const found = leftovers(before, dockerSnapshot()).join('\n');
    expect(found).not.toContain(container);
    expect(found).toMatch(new RegExp(`unlabelled unused volume\\(s\\) left behind: [^\\n]*${volume}`));
    expect(found).toMatch(new RegExp(`network\\(s\\) left behind: [^\\n]*${network}`));
    expect(found).toMatch(new RegExp(`image tag\\(s\\) left behind: [^\\n]*${tag.replace(/[/.]/g, '\\$&')}`));
    docker(['volume', 'rm', volume]);
    docker(['network', 'rm', network]);
    docker(['rmi', tag]);
    const after = leftovers(before, dockerSnapshot()).join('\n');
    for (const name of [volume, network, tag]) expect(after).not.toContain(name);
  });
});
