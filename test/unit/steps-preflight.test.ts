import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import type { ClusterSpec } from '../../src/spec.js';
import { isPortFree } from '../../src/steps/port.js';
import { checkClusterShape, checkHostPort, checkK3d, checkTools, inspectCluster, isOurs, refuseForeign } from '../../src/steps/preflight.js';
import { ensureRegistryVolume, removeRegistryVolume } from '../../src/steps/volume.js';
import { FakeWorld } from '../helpers/fake-cluster.js';
import { recordingRunner } from '../helpers/recording-runner.js';

const spec: ClusterSpec = { name: 'devreg', agents: 1, hostPort: 31113, username: 'devreg', registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir: '/tmp/x' };

describe('tools', () => {
  it('checks docker first, then k3d and kubectl', async () => {
    const world = new FakeWorld();
    expect(await checkTools(world.runner)).toEqual({ docker: '24.0.7', k3d: { k3d: '5.6.0', k3s: 'v1.27.4-k3s1' }, kubectl: 'v1.29.0' });
    expect(world.runner.lines()).toEqual(['docker version --format {{.Server.Version}}', 'k3d version', 'kubectl version --client --output json']);
  });

  it('needs k3d 5.5.0 or newer (the first with k3d.io/v1alpha5)', async () => {
    for (const [version, ok] of [['5.4.9', false], ['5.5.0', true], ['5.10.1', true], ['6.0.0', true], ['4.4.8', false]] as const) {
      const run = recordingRunner(() => ({ stdout: `k3d version v${version}\nk3s version v1.27.4-k3s1 (default)` }));
      const result = await checkK3d(run).then(() => true, (e: unknown) => e);
      if (ok) expect(result).toBe(true);
      else expect((result as UserError).message).toBe(`k3d v${version} is too old: k3s-devreg needs v5.5.0 or newer (the first to read k3d.io/v1alpha5 config files): install it from https://k3d.io (v5.5.0 or newer) and make sure \`k3d\` is on your PATH`);
    }
  });
});

describe('the cluster of the same name', () => {
  it('nothing of that name: k3d lists none, and the inspect made at the same time finds none', async () => {
    const world = new FakeWorld();
    expect(await inspectCluster(world.runner, 'devreg', 2)).toEqual({ name: 'devreg', containers: new Map(), others: new Map() });
    expect(world.runner.lines()).toEqual(['k3d cluster list --output json', 'docker container inspect k3d-devreg-server-0 k3d-devreg-serverlb k3d-devreg-agent-0 k3d-devreg-agent-1']);
  });

  it('ours is recognised by both docker labels on server-0 and reused', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const facts = await inspectCluster(world.runner, 'devreg');
    expect(world.runner.lines()).toEqual(['k3d cluster list --output json', 'docker container inspect k3d-devreg-server-0 k3d-devreg-serverlb k3d-devreg-agent-0']);
    expect(facts.server?.volumes).toEqual(['k3s-devreg-devreg-registry']);
    expect(isOurs(facts)).toBe(true);
    expect(() => refuseForeign(facts)).not.toThrow();
  });

  it('a cluster labelled for another cluster name, or not at all, is foreign', async () => {
    const variants: Record<string, string>[] = [{}, { 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cluster': 'other' }, { 'dev.k3s-devreg/cluster': 'devreg' }];
    for (const labels of variants) {
      const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), labels } });
      const facts = await inspectCluster(world.runner, 'devreg');
      expect(() => refuseForeign(facts)).toThrow(UserError);
    }
  });

  it('a different port or agent count on an existing cluster is refused with the way out', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31114, 2) });
    const facts = await inspectCluster(world.runner, 'devreg');
    expect(() => checkClusterShape(spec, facts)).toThrow(
      'the cluster devreg publishes the registry on port 31114, not 31113: run k3s-devreg down and then up to recreate it (credentials, CA and pushed images are kept), or keep the old setting',
    );
    expect(() => checkClusterShape({ ...spec, hostPort: 31114 }, facts)).toThrow('the cluster devreg has 2 agent node(s), not 1');
    expect(() => checkClusterShape({ ...spec, hostPort: 31114, agents: 2 }, facts)).not.toThrow();
  });
});

describe('the host port', () => {
  it('held by our own cluster: accepted without probing', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const facts = await inspectCluster(world.runner, 'devreg');
    let probed = false;
    expect(await checkHostPort(world.runner, spec, facts, async () => ((probed = true), false))).toBe('ours');
    expect(probed).toBe(false);
  });

  it('free: accepted; taken: the holder is named', async () => {
    const world = new FakeWorld({ publishedBy: { 31113: 'kind-registry' } });
    const facts = await inspectCluster(world.runner, 'devreg');
    expect(await checkHostPort(world.runner, spec, facts, async () => true)).toBe('free');
    await expect(checkHostPort(world.runner, spec, facts, async () => false)).rejects.toThrow(
      'port 31113 on 127.0.0.1 is already in use by the container kind-registry: stop it (docker stop kind-registry) or choose another port with --port',
    );
    expect(world.runner.lines().at(-1)).toBe('docker ps --all --filter publish=31113 --format {{.Names}}');
  });

  it('isPortFree sees a real listener', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    expect(await isPortFree(port)).toBe(false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await isPortFree(port)).toBe(true);
  });
});

describe('the registry volume', () => {
  it('is created with our labels once, then kept', async () => {
    const world = new FakeWorld();
    expect(await ensureRegistryVolume(world.runner, 'devreg')).toBe('created');
    expect(await ensureRegistryVolume(world.runner, 'devreg')).toBe('exists');
    expect(world.runner.lines()).toEqual([
      'docker volume inspect k3s-devreg-devreg-registry',
      'docker volume create --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cluster=devreg k3s-devreg-devreg-registry',
      'docker volume inspect k3s-devreg-devreg-registry',
    ]);
  });

  it('someone else\'s volume of that name is neither used nor removed', async () => {
    const world = new FakeWorld();
    world.volumes.set('k3s-devreg-devreg-registry', { 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cluster': 'other' });
    await expect(ensureRegistryVolume(world.runner, 'devreg')).rejects.toThrow('a docker volume named k3s-devreg-devreg-registry exists but was not created by k3s-devreg');
    expect(await removeRegistryVolume(world.runner, 'devreg')).toBe('not ours');
    expect(world.runner.lines().filter((l) => !l.includes('inspect'))).toEqual([]);
    world.volumes.clear();
    expect(await removeRegistryVolume(world.runner, 'devreg')).toBe('absent');
  });
});
