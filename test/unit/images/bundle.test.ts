import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { bundleImages, checkBundleFits, k3sRelease, parseBundleManifest, type BundleManifest } from '../../../src/images/bundle.js';
import { DEFAULT_HOSTS_IMAGE, DEFAULT_K3S_IMAGE, DEFAULT_REGISTRY_IMAGE } from '../../../src/spec.js';

const releases = (JSON.parse(readFileSync(new URL('../../../assets/k3s-system-images.json', import.meta.url), 'utf8')) as { releases: Record<string, string[]> }).releases;
const spec = { k3sImage: DEFAULT_K3S_IMAGE, registryImage: DEFAULT_REGISTRY_IMAGE, hostsImage: DEFAULT_HOSTS_IMAGE };
const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof UserError) return `${error.problem}: ${error.fix}`;
    throw error;
  }
  throw new Error('no error');
};

describe('what a bundle holds', () => {
  it('maps the pinned node image to its k3s release, and nothing else', () => {
    expect(k3sRelease('rancher/k3s:v1.31.5-k3s1')).toBe('v1.31.5+k3s1');
    expect(k3sRelease('docker.io/rancher/k3s:v1.30.9-k3s2')).toBe('v1.30.9+k3s2');
    expect(k3sRelease('rancher/k3s:latest')).toBeUndefined();
    expect(k3sRelease('example.com/k3s:v1.31.5-k3s1')).toBeUndefined();
  });

  it('knows the system images of the pinned k3s (its release image list)', () => {
    expect(Object.keys(releases)).toContain(k3sRelease(DEFAULT_K3S_IMAGE));
    expect(releases['v1.31.5+k3s1']).toContain('docker.io/rancher/mirrored-pause:3.6');
    expect(releases['v1.31.5+k3s1']).toHaveLength(8);
  });

  it('gives docker the node image, k3d helpers of the installed k3d and the example base; the nodes the rest and the user\'s', () => {
    expect(bundleImages({ spec, k3dVersion: '5.5.0', exampleBase: 'busybox:1.36.1', extra: ['ghcr.io/me/app:1', 'registry:2.8.3'], releases })).toEqual({
      docker: ['rancher/k3s:v1.31.5-k3s1', 'ghcr.io/k3d-io/k3d-proxy:5.5.0', 'ghcr.io/k3d-io/k3d-tools:5.5.0', 'busybox:1.36.1'],
      node: [...releases['v1.31.5+k3s1']!, 'registry:2.8.3', 'busybox:1.36.1', 'ghcr.io/me/app:1'],
    });
  });

  it("follows k3d's own image variables, as k3d does", () => {
    const env = { K3D_IMAGE_LOADBALANCER: 'mirror.corp/k3d-proxy:5.8.3', K3D_HELPER_IMAGE_TAG: '5.8.3-corp' };
    expect(bundleImages({ spec, k3dVersion: '5.8.3', exampleBase: 'busybox:1.36.1', extra: [], releases, env }).docker).toEqual([
      'rancher/k3s:v1.31.5-k3s1',
      'mirror.corp/k3d-proxy:5.8.3',
      'ghcr.io/k3d-io/k3d-tools:5.8.3-corp',
      'busybox:1.36.1',
    ]);
  });

  it('refuses a k3s whose system images it does not know', () => {
    expect(message(() => bundleImages({ spec: { ...spec, k3sImage: 'rancher/k3s:v1.30.9-k3s1' }, k3dVersion: '5.8.3', exampleBase: 'busybox:1.36.1', extra: [], releases }))).toBe(
      'the system images of rancher/k3s:v1.30.9-k3s1 are not known to this version of k3s-devreg (it knows v1.31.5+k3s1): bundle the pinned k3s: drop --k3s-image (or k3sImage in the team file)',
    );
  });
});

describe('a bundle file checked before anything of it is loaded', () => {
  const good: BundleManifest = { format: 'k3s-devreg-bundle/1', k3sImage: DEFAULT_K3S_IMAGE, k3dVersion: '5.8.3', architecture: 'amd64', docker: ['a:1'], node: ['b:1'] };
  it('reads a manifest it wrote', () => {
    expect(parseBundleManifest(JSON.stringify(good), 'f.tar')).toEqual(good);
  });
  it.each([
    [undefined, 'f.tar is not a k3s-devreg image bundle (no k3s-devreg-bundle.json in it)'],
    ['{', 'f.tar is not a k3s-devreg image bundle (k3s-devreg-bundle.json is not JSON)'],
    [JSON.stringify({ ...good, format: 'other/2' }), 'f.tar is not a k3s-devreg image bundle (format "other/2", expected k3s-devreg-bundle/1)'],
    [JSON.stringify({ ...good, node: [1] }), 'f.tar is not a k3s-devreg image bundle (k3s-devreg-bundle.json lacks k3sImage, k3dVersion, architecture or its image lists)'],
  ])('refuses %j', (text, problem) => {
    expect(message(() => parseBundleManifest(text, 'f.tar'))).toBe(`${problem}: make one with k3s-devreg images save on a connected machine`);
  });
  it('refuses another architecture and another k3s', () => {
    expect(message(() => checkBundleFits(good, { architecture: 'arm64', k3sImage: DEFAULT_K3S_IMAGE }, 'f.tar'))).toMatch(/^f\.tar holds amd64 images, and this docker runs arm64: /);
    expect(message(() => checkBundleFits(good, { architecture: 'amd64', k3sImage: 'rancher/k3s:v1.30.9-k3s1' }, 'f.tar'))).toMatch(/^f\.tar is for rancher\/k3s:v1\.31\.5-k3s1, and this setup runs rancher\/k3s:v1\.30\.9-k3s1: /);
    expect(() => checkBundleFits(good, { architecture: 'amd64', k3sImage: DEFAULT_K3S_IMAGE }, 'f.tar')).not.toThrow();
  });
});
