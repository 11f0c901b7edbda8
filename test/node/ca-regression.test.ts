/**
 * The k3s releases the product refuses (src/k3s-versions.ts) are exactly the ones whose hosts.toml
 * really breaks our registry on containerd: the transcribed v1.29.3 shape (no `[host]` table) is
 * rejected by the real containerd and the pull fails with x509, while the pinned release's shape pulls.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCaRegression, k3sRelease, refuseCaRegression } from '../../src/k3s-versions.js';
import { ourRegistries, renderRegistriesYaml } from '../../src/render/registries-yaml.js';
import { DEFAULT_K3S_IMAGE } from '../../src/spec.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import { k3sHostsFiles, k3sHostsShape, parseRegistriesYaml, type K3sHostsShape } from '../helpers/k3s-containerd.js';
import type { K3sNode } from '../helpers/k3s-node.js';
import { NodeTestbed, REGISTRY } from '../helpers/node-testbed.js';
import { nodeTierAvailable } from '../helpers/node-tier.js';

const REGRESSED = 'rancher/k3s:v1.29.3-k3s1';
const fixture = (release: string) => readFileSync(new URL(`../fixtures/k3s/hosts-${release}.toml`, import.meta.url), 'utf8');
const bed = new NodeTestbed();
const image = `${REGISTRY}/team/regression-${bed.suffix}:1`;
let node: K3sNode;

describe('the refused k3s releases are the ones that write the broken hosts.toml', () => {
  it.each(['v1.26.15', 'v1.27.12', 'v1.27.13', 'v1.28.8', 'v1.28.9+k3s1', 'v1.29.3-k3s1', 'v1.29.4', 'v1.30.0', 'v1.31.5', DEFAULT_K3S_IMAGE, REGRESSED])(
    '%s',
    (version) => {
      const shape = k3sHostsShape(k3sRelease(version)!);
      expect(shape).toBeDefined();
      expect(hasCaRegression(version)).toBe(shape === 'ca-regression');
    },
  );

  it('the transcriptions give the two fixtures for our registries.yaml', async () => {
    const registries = parseRegistriesYaml(renderRegistriesYaml(ourRegistries({ username: 'u', password: 'p' })));
    expect(k3sHostsFiles(registries, 'fixed')).toEqual({ [REGISTRY]: fixture('v1.31.5') });
    expect(k3sHostsFiles(registries, 'ca-regression')).toEqual({ [REGISTRY]: fixture('v1.29.3') });
  });
});

describe.skipIf(!nodeTierAvailable)('on the real containerd', () => {
  beforeAll(async () => {
    await bed.setup('regression pw');
    bed.push(ensureBusyboxImage(), `team/regression-${bed.suffix}:1`);
    node = await bed.readyNode();
  });
  afterAll(() => bed.teardown());

  const asRelease = async (version: string): Promise<K3sHostsShape> => {
    const shape = k3sHostsShape(k3sRelease(version)!)!;
    node.writeK3sFiles(shape);
    await node.restartContainerd();
    await node.cri.remove(image).catch(() => undefined);
    return shape;
  };

  it(`the pinned ${DEFAULT_K3S_IMAGE} pulls, and the product lets it through`, async () => {
    expect(() => refuseCaRegression(DEFAULT_K3S_IMAGE, 'test', 'fix')).not.toThrow();
    expect(await asRelease(DEFAULT_K3S_IMAGE)).toBe('fixed');
    await expect(node.cri.pull(image)).resolves.toMatch(/^sha256:/);
  });

  it(`${REGRESSED}: containerd rejects the hosts.toml, the pull fails with x509; the product refuses it`, async () => {
    expect(() => refuseCaRegression(REGRESSED, 'test', 'fix')).toThrow(/k3s v1\.29\.3 .*ignores the registry CA/);
    expect(await asRelease(REGRESSED)).toBe('ca-regression');
    expect(await node.cri.pullError(image)).toMatch(/: x509: certificate signed by unknown authority$/);
    expect(node.containerdLog()).toMatch(/failed to decode hosts\.toml" error="invalid `host` tree"/);
  });
});
