import { describe, expect, it } from 'vitest';
import { hasCaRegression, k3sRelease } from '../../src/k3s-versions.js';

describe('k3s releases', () => {
  it.each([
    ['rancher/k3s:v1.31.5-k3s1', 'v1.31.5'],
    ['v1.28.8+k3s1', 'v1.28.8'],
    ['v1.29.3-rc1+k3s1', 'v1.29.3'],
    ['v1.30.2+rke2r1', 'v1.30.2'],
    ['registry.example:5000/rancher/k3s:v1.27.12-k3s2', 'v1.27.12'],
    ['rancher/k3s:latest', undefined],
    ['rancher/k3s', undefined],
  ])('reads the release of %s as %s', (input, release) => {
    expect(k3sRelease(input)).toBe(release);
  });

  it('knows the releases that ignore the registry CA, and only those', () => {
    expect(['v1.29.3+k3s1', 'rancher/k3s:v1.28.8-k3s1', 'v1.27.12+k3s1', 'v1.26.15+k3s1'].map(hasCaRegression)).toEqual([true, true, true, true]);
    expect(['v1.29.4+k3s1', 'v1.29.2+k3s1', 'v1.28.9+k3s1', 'v1.31.5+k3s1', 'v1.29.30+k3s1', 'rancher/k3s:latest'].map(hasCaRegression)).toEqual([false, false, false, false, false, false]);
  });
});
