/** Which program each node runs and which registries.yaml it read at start, from the node objects. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { distributionOf, nodeTable, nodeTargets, privateRegistryFromNodeArgs, refuseCaRegressionNodes } from '../../src/registries/node-targets.js';
import type { NodeRole } from '../../src/tools/kubectl-objects.js';

const node = (name: string, kubeletVersion: string, annotations: Record<string, string> = {}): NodeRole => ({ name, controlPlane: false, kubeletVersion, annotations });

describe('node targets', () => {
  it('tells k3s from RKE2 by the kubelet version, and nothing else', () => {
    expect(['v1.31.5+k3s1', 'v1.28.8+k3s2', 'v1.31.5+rke2r1', 'v1.31.5', 'v1.31.5+k0s.0', ''].map(distributionOf)).toStrictEqual(['k3s', 'k3s', 'rke2', undefined, undefined, undefined]);
  });

  it('takes the last --private-registry of node-args (config files first, then the command line), else the default', () => {
    const args = (...a: string[]) => JSON.stringify(['server', ...a]);
    expect(privateRegistryFromNodeArgs(args('--private-registry', '/etc/rancher/k3s/a.yaml', '--private-registry', '/etc/rancher/k3s/b.yaml'), 'k3s')).toBe('/etc/rancher/k3s/b.yaml');
    expect(privateRegistryFromNodeArgs(args('--node-label', 'private-registry=x'), 'k3s')).toBe('/etc/rancher/k3s/registries.yaml');
    expect(privateRegistryFromNodeArgs(args(), 'rke2')).toBe('/etc/rancher/rke2/registries.yaml');
    // No annotation, or one that is not a list of strings: unknown, and the writer reads the config files alone.
    expect([undefined, 'not json', '{"a":1}', '[1,2]'].map((a) => privateRegistryFromNodeArgs(a, 'k3s'))).toStrictEqual([undefined, undefined, undefined, undefined]);
  });

  it('reads each program\'s own annotation and renders one table line per node', () => {
    const targets = nodeTargets([
      node('s1', 'v1.31.5+k3s1', { 'k3s.io/node-args': '["server","--private-registry","/etc/rancher/k3s/x.yaml"]' }),
      node('r1', 'v1.31.5+rke2r1', { 'rke2.io/node-args': '["agent"]', 'k3s.io/node-args': '["agent","--private-registry","/etc/rancher/k3s/y.yaml"]' }),
      node('a1', 'v1.31.5+k3s1'),
    ]);
    expect(nodeTable(targets)).toBe('s1 k3s /etc/rancher/k3s/x.yaml\nr1 rke2 /etc/rancher/rke2/registries.yaml\na1 k3s -\n');
  });

  it.each([
    ['/opt/registries.yaml'],
    ['/etc/rancher/k3s/../../shadow'],
    ['/etc/rancher/k3s/my file.yaml'],
    ['relative.yaml'],
  ])('refuses a node whose k3s reads %s, naming the node and the fix', (path) => {
    const error = (() => {
      try {
        nodeTargets([node('w1', 'v1.31.5+k3s1', { 'k3s.io/node-args': JSON.stringify(['agent', '--private-registry', path]) })]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).problem).toContain(`k3s on node w1 reads ${JSON.stringify(path)}`);
    expect((error as UserError).fix).toContain('/etc/rancher/k3s');
  });

  it('refuses the CA-regression releases only when a ca_file is configured, naming the node and the program to upgrade', () => {
    const nodes = [node('ok', 'v1.31.5+k3s1'), node('old', 'v1.28.8+rke2r1')];
    expect(() => refuseCaRegressionNodes(nodes, false)).not.toThrow();
    expect(() => refuseCaRegressionNodes(nodes, true)).toThrow(/v1\.28\.8 \(from node old\) ignores the registry CA.*upgrade RKE2 on old/);
  });
});
