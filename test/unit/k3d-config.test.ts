import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderK3dConfig } from '../../src/render/k3d-config.js';
import type { ClusterSpec } from '../../src/spec.js';
import { goExpand } from '../helpers/go-expand.js';
import { schemaErrors } from '../helpers/schemas.js';

const spec: ClusterSpec = {
  name: 'devreg',
  agents: 2,
  hostPort: 31113,
  username: 'devreg',
  registryImage: 'registry:2.8.3',
  hostsImage: 'busybox:1.36.1',
  k3sImage: 'rancher/k3s:v1.31.5-k3s1',
  stateDir: '/home/dev/.k3s-devreg/devreg',
};

describe('k3d config', () => {
  const config = renderK3dConfig(spec, { nodeDir: '/home/dev/.k3s-devreg/devreg/node', imagesDir: '/home/dev/.k3s-devreg/devreg/images' });

  it("validates against k3d's own v1alpha5 schema", () => {
    expect(schemaErrors('k3d', config)).toEqual([]);
  });

  it('is written without YAML anchors or aliases (each nodeFilters list is its own)', () => {
    const text = stringify(config);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(parse(text)).toEqual(config);
  });

  it('the schema validator can fail (a typo is caught)', () => {
    expect(schemaErrors('k3d', { ...config, agent: 1 })).not.toEqual([]);
    expect(schemaErrors('k3d', { ...config, ports: [{ port: '1:2', nodeFilter: ['all'] }] })).not.toEqual([]);
  });

  it('mounts the node folder and the registry volume into every node and points k3s at registries.yaml', () => {
    expect(config).toMatchObject({
      metadata: { name: 'devreg' },
      servers: 1,
      agents: 2,
      volumes: [
        { volume: '/home/dev/.k3s-devreg/devreg/node:/etc/k3s-devreg:ro', nodeFilters: ['server:*', 'agent:*'] },
        { volume: '/home/dev/.k3s-devreg/devreg/images:/var/lib/rancher/k3s/agent/images', nodeFilters: ['server:*', 'agent:*'] },
        { volume: 'k3s-devreg-devreg-registry:/var/lib/k3s-devreg/registry', nodeFilters: ['server:*', 'agent:*'] },
      ],
      ports: [{ port: '127.0.0.1:31113:31113', nodeFilters: ['loadbalancer'] }],
      options: {
        k3s: { extraArgs: [{ arg: '--private-registry=/etc/k3s-devreg/registries.yaml', nodeFilters: ['server:*', 'agent:*'] }] },
        kubeconfig: { switchCurrentContext: true },
      },
    });
  });

  it('pins the k3s image, binds the API to loopback, and gives k3d the per-phase timeout the runner allows 3x of', () => {
    expect(config.image).toBe('rancher/k3s:v1.31.5-k3s1');
    expect(config.kubeAPI).toEqual({ hostIP: '127.0.0.1' });
    expect(config.options).toMatchObject({ k3d: { wait: true, timeout: '300s' } });
    expect(renderK3dConfig({ ...spec, k3sImage: 'rancher/k3s:v1.30.9-k3s1' }, { nodeDir: '/n', imagesDir: '/i' }).image).toBe('rancher/k3s:v1.30.9-k3s1');
  });

  it('publishes a custom host port to the fixed NodePort', () => {
    const custom = renderK3dConfig({ ...spec, hostPort: 5001 }, { nodeDir: '/n', imagesDir: '/i' });
    expect(custom.ports).toEqual([{ port: '127.0.0.1:5001:31113', nodeFilters: ['loadbalancer'] }]);
  });

  it("survives k3d's environment expansion unchanged, whatever the environment holds", () => {
    const text = stringify(config);
    const expanded = goExpand(text, (name) => `<${name} was expanded>`);
    expect(expanded).toBe(text);
    expect(parse(expanded)).toEqual(config);
  });

  it('the expansion stand-in behaves like Go os.Expand (so the check above can fail)', () => {
    const env: Record<string, string> = { HOME: '/h', A: 'x' };
    const map = (n: string) => env[n] ?? '';
    expect(goExpand('p$HOME/q', map)).toBe('p/h/q');
    expect(goExpand('${A}b$Ab', map)).toBe('xb');
    expect(goExpand('cost $% and $', map)).toBe('cost $% and $');
    // A bcrypt hash in a k3d config would be mangled like this:
    expect(goExpand('$2y$10$abc', map)).toBe('y0');
  });
});
