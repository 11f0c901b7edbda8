import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { ToolError } from '../../src/errors.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderK3dConfig } from '../../src/render/k3d-config.js';
import { renderManifests } from '../../src/render/manifests.js';
import type { ClusterSpec } from '../../src/spec.js';
import { ensureCluster, validateK3dConfigFile } from '../../src/steps/cluster.js';
import { ensureKubeContext, kubeconfigFiles, removeKubeContext } from '../../src/steps/kubeconfig.js';
import { applyManifests, manifestStream, objectCount } from '../../src/steps/manifests.js';
import { inspectCluster } from '../../src/steps/preflight.js';
import { FakeWorld } from '../helpers/fake-cluster.js';
import type { Obj } from '../helpers/registry-container.js';
import { schemaErrors } from '../helpers/schemas.js';

const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-cluster-'));
const spec: ClusterSpec = { name: 'devreg', agents: 1, hostPort: 31113, username: 'devreg', registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir: dir };
const configFile = join(dir, 'k3d-config.yaml');
writeFileSync(configFile, stringify(renderK3dConfig(spec, { nodeDir: join(dir, 'node'), imagesDir: join(dir, 'images') })));

describe('validateK3dConfigFile', () => {
  it('accepts the rendered config (which the test schema copy also accepts)', async () => {
    await expect(validateK3dConfigFile(configFile)).resolves.toBeUndefined();
    expect(schemaErrors('k3d', parse(readFileSync(configFile, 'utf8')))).toEqual([]);
  });

  it('refuses a config k3d would refuse, before k3d runs', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: k3d.io/v1alpha5\nkind: Simple\nservers: 0\nvolume: []\n');
    await expect(validateK3dConfigFile(bad)).rejects.toThrow(
      "does not match k3d's k3d.io/v1alpha5 schema (/ must NOT have additional properties (volume); /servers must be >= 1): this is a bug in k3s-devreg",
    );
  });
});

describe('ensureCluster', () => {
  const notes: string[] = [];
  const say = (line: string) => notes.push(line);

  it('creates from the config file when there is no cluster', async () => {
    const world = new FakeWorld();
    const facts = await inspectCluster(world.runner, 'devreg');
    const result = await ensureCluster({ run: world.runner, facts, configFile, registriesStale: false, say });
    expect(result.action).toBe('created');
    expect(result.facts.server?.id).toBe('server-id-1');
    expect(world.runner.lines().slice(2)).toEqual([
      `k3d cluster create --config ${configFile}`,
      'k3d cluster list --output json',
      'docker container inspect k3d-devreg-server-0 k3d-devreg-serverlb k3d-devreg-agent-0',
    ]);
    expect(schemaErrors('k3d', world.k3dConfigs[0])).toEqual([]);
  });

  it('running with the current registries.yaml: no call at all', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const facts = await inspectCluster(world.runner, 'devreg');
    const before = world.runner.calls.length;
    expect((await ensureCluster({ run: world.runner, facts, configFile, registriesStale: false, say })).action).toBe('running');
    expect(world.runner.calls.length).toBe(before);
  });

  it('stopped: started (which re-reads registries.yaml)', async () => {
    const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), running: false } });
    const facts = await inspectCluster(world.runner, 'devreg');
    expect((await ensureCluster({ run: world.runner, facts, configFile, registriesStale: true, say })).action).toBe('started');
    expect(world.runner.lines().filter((l) => l.startsWith('k3d cluster s'))).toEqual(['k3d cluster start devreg --timeout=240s']);
  });

  it('running with a changed registries.yaml: stopped and started, and the user is told why', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const facts = await inspectCluster(world.runner, 'devreg');
    notes.length = 0;
    expect((await ensureCluster({ run: world.runner, facts, configFile, registriesStale: true, say })).action).toBe('restarted');
    expect(world.runner.lines().filter((l) => l.startsWith('k3d cluster s'))).toEqual(['k3d cluster stop devreg', 'k3d cluster start devreg --timeout=240s']);
    expect(notes).toEqual(['registries.yaml changed: restarting the nodes, because k3s reads it only when it starts']);
  });

  it('a stopped loadbalancer is started, although k3d counts every server and agent as running', async () => {
    // Without the loadbalancer nothing publishes the registry port: status fails and says "run up".
    const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), down: { 'k3d-devreg-serverlb': 'exited' } } });
    const facts = await inspectCluster(world.runner, 'devreg');
    expect((await ensureCluster({ run: world.runner, facts, configFile, registriesStale: false, say })).action).toBe('started');
    expect(world.runner.lines().filter((l) => l.startsWith('k3d cluster s'))).toEqual(['k3d cluster start devreg --timeout=240s']);
  });

  it('partly running with a changed registries.yaml: the nodes still up are stopped first, so every node re-reads it', async () => {
    const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), down: { 'k3d-devreg-agent-0': 'exited' } } });
    const facts = await inspectCluster(world.runner, 'devreg');
    notes.length = 0;
    expect((await ensureCluster({ run: world.runner, facts, configFile, registriesStale: true, say })).action).toBe('started');
    expect(world.runner.lines().filter((l) => l.startsWith('k3d cluster s'))).toEqual(['k3d cluster stop devreg', 'k3d cluster start devreg --timeout=240s']);
    expect(notes).toEqual(['registries.yaml changed and some nodes still run: stopping them first, because k3s reads it only when it starts']);
  });

  it('a node docker keeps restarting is not running (k3d counts it as running), and the error names it', async () => {
    const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), down: { 'k3d-devreg-server-0': 'restarting' } } });
    const facts = await inspectCluster(world.runner, 'devreg');
    expect(facts.cluster).toMatchObject({ serversRunning: 1, serversCount: 1 });
    await expect(ensureCluster({ run: world.runner, facts, configFile, registriesStale: false, say })).rejects.toThrow(
      /^k3d reported success but the cluster devreg is not running \(k3d-devreg-server-0 \(restarting\)\): look at `docker ps -a --filter name=k3d-devreg` and `docker logs k3d-devreg-server-0`/,
    );
    expect(world.runner.lines().filter((l) => l.startsWith('k3d cluster s'))).toEqual(['k3d cluster start devreg --timeout=240s']);
  });

  it('k3d reporting success for a cluster that does not run is an error with a next step', async () => {
    const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), running: false } }).override('k3d cluster start', {});
    const facts = await inspectCluster(world.runner, 'devreg');
    await expect(ensureCluster({ run: world.runner, facts, configFile, registriesStale: false, say })).rejects.toThrow(
      /^k3d reported success but the cluster devreg is not running \(k3d-devreg-server-0 \(exited\), k3d-devreg-agent-0 \(exited\), k3d-devreg-serverlb \(exited\)\): look at `docker ps -a --filter name=k3d-devreg`/,
    );
  });
});

describe('ensureKubeContext', () => {
  it('only reads when the context is there', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    expect(await ensureKubeContext(world.runner, 'devreg', {})).toEqual({ context: 'k3d-devreg', current: 'k3d-devreg', restored: false });
    expect(world.runner.lines()).toEqual(['kubectl config view --output json']);
  });

  it('with one kubeconfig, a missing context is merged into the default file', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    world.contextInKubeconfig = false;
    expect(await ensureKubeContext(world.runner, 'devreg', { KUBECONFIG: '/home/dev/.kube/config' })).toMatchObject({ restored: true });
    expect(world.runner.lines()[1]).toBe('k3d kubeconfig merge devreg --kubeconfig-merge-default --kubeconfig-switch-context=false');
  });

  it('with a KUBECONFIG of several files, the context goes into the first one (where kubectl writes), switched to for a new cluster', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    world.contextInKubeconfig = false;
    const env = { KUBECONFIG: '/home/dev/.kube/team.yaml::/home/dev/.kube/config:/home/dev/.kube/team.yaml' };
    expect(kubeconfigFiles(env)).toEqual(['/home/dev/.kube/team.yaml', '/home/dev/.kube/config']);
    expect(await ensureKubeContext(world.runner, 'devreg', env, true)).toEqual({
      context: 'k3d-devreg', current: 'k3d-devreg', restored: true, writtenTo: '/home/dev/.kube/team.yaml',
    });
    expect(world.runner.lines()[1]).toBe('k3d kubeconfig merge devreg --output /home/dev/.kube/team.yaml --kubeconfig-switch-context=true');
  });

  it('after a delete with a KUBECONFIG of several files, removes what k3d left there: context, cluster, user, and the current context', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) }).override('kubectl config delete', { stdout: 'deleted' }).override('kubectl config unset', { stdout: 'unset' });
    expect(await removeKubeContext(world.runner, 'devreg', { KUBECONFIG: '/a:/b' })).toBe(true);
    expect(world.runner.lines()).toEqual([
      'kubectl config view --output json',
      'kubectl config delete-context k3d-devreg',
      'kubectl config delete-cluster k3d-devreg',
      'kubectl config delete-user admin@k3d-devreg',
      'kubectl config unset current-context',
    ]);
    const single = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    expect(await removeKubeContext(single.runner, 'devreg', { KUBECONFIG: '/a' })).toBe(false);
    expect(single.runner.lines()).toEqual([]);
  });
});

describe('applyManifests', () => {
  const manifests = renderManifests(spec, { tlsCert: 'CERT', tlsKey: 'KEY', htpasswd: 'devreg:$2y$10$abc\n', hostsScript: '#!/bin/sh\n' });
  const files = manifests.map((m) => {
    const path = join(dir, m.file);
    writeFileSync(path, stringify(m.object));
    return path;
  });

  it('applies every manifest in order with one kubectl apply -f - and valid objects on stdin', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const result = await applyManifests({ run: world.runner, context: 'k3d-devreg', manifestFiles: files, clusterId: 'id-1' });
    expect(result.applied).toBe(true);
    expect(world.runner.calls).toHaveLength(1);
    const [call] = world.runner.calls;
    expect(call!.args).toEqual(['--context', 'k3d-devreg', 'apply', '--filename', '-']);
    expect(call!.input).toBe(await manifestStream(files));
    const objects = parseAllDocuments(call!.input!).map((d) => d.toJS() as { kind: string });
    // Every rendered object, in the rendered (apply) order: checked against the input, not against
    // manifestStream/objectCount, which would agree with a stream that lost or reordered a file.
    expect(objects).toEqual(manifests.map((m) => m.object));
    expect(objectCount(call!.input!)).toBe(7);
    for (const o of objects) expect(schemaErrors(o.kind, o)).toEqual([]);
  });

  it('NodePort 31113 held by another Service: names it and says how to free it', async () => {
    const taken = 'The Service "registry" is invalid: spec.ports[0].nodePort: Invalid value: 31113: provided port is already allocated';
    const services = {
      items: [
        { metadata: { namespace: 'kube-system', name: 'kube-dns' }, spec: { ports: [{ port: 53 }] } },
        { metadata: { namespace: 'kube-system', name: 'traefik' }, spec: { ports: [{ port: 80, nodePort: 31113 }, { port: 443, nodePort: 30443 }] } },
      ],
    };
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) })
      .override('kubectl --context k3d-devreg apply', { exitCode: 1, stderr: taken })
      .override('kubectl --context k3d-devreg get services --all-namespaces --output json', { stdout: JSON.stringify(services) });
    const error = (await applyManifests({ run: world.runner, context: 'k3d-devreg', manifestFiles: files, clusterId: 'id-1' }).catch((e: unknown) => e)) as ToolError;
    expect(error).toBeInstanceOf(ToolError);
    expect(error.message).toBe(
      'NodePort 31113, which the registry Service needs, is already taken by the Service kube-system/traefik: give it another port (kubectl --context k3d-devreg --namespace kube-system edit service traefik: change nodePort 31113, or delete that line to get a random one) or delete it, then run k3s-devreg up again',
    );
    // Any other apply failure is passed on as it was.
    const other = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) }).override('kubectl --context k3d-devreg apply', { exitCode: 1, stderr: 'error: You must be logged in to the server (Unauthorized)' });
    await expect(applyManifests({ run: other.runner, context: 'k3d-devreg', manifestFiles: files, clusterId: 'id-1' })).rejects.toThrow(/^kubectl could not apply the manifests to k3d-devreg \(exit 1: error: You must be logged in/);
    expect(other.runner.lines()).toEqual(['kubectl --context k3d-devreg apply --filename -']);
  });

  it('skips when the same manifests were applied to the same cluster and all objects exist', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const first = await applyManifests({ run: world.runner, context: 'k3d-devreg', manifestFiles: files, clusterId: 'id-1' });
    const second = await applyManifests({ run: world.runner, context: 'k3d-devreg', manifestFiles: files, clusterId: 'id-1', lastApplied: first.fingerprint });
    expect(second).toMatchObject({ applied: false, fingerprint: first.fingerprint, lines: [] });
    // One read answers both: every object is there, and how each stands (rollouts, the Service's IP).
    expect(second.live?.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(manifests.map((m) => `${m.object.kind}/${(m.object.metadata as { name: string }).name}`));
    expect(world.runner.lines().at(-1)).toBe('kubectl --context k3d-devreg get --filename - --ignore-not-found --output json');

    // The same manifests on a new cluster are applied again, without even asking.
    const third = await applyManifests({ run: world.runner, context: 'k3d-devreg', manifestFiles: files, clusterId: 'id-2', lastApplied: first.fingerprint });
    expect(third.applied).toBe(true);
    expect(world.runner.lines().at(-1)).toBe('kubectl --context k3d-devreg apply --filename -');
  });

  it('applies again when an interrupted images prune left the registry read-only: the rendered value sets it back', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const first = await applyManifests({ run: world.runner, context: 'k3d-devreg', manifestFiles: files, clusterId: 'id-1' });
    const rendered = manifests.find((m) => m.object.kind === 'Deployment' && (m.object.metadata as { name: string }).name === 'registry')!.object as Obj;
    const env = rendered.spec.template.spec.containers[0].env as { name: string; value: string }[];
    // Rendered, so kubectl apply owns it (an entry only `kubectl set env` added would survive every apply).
    expect(env).toContainEqual({ name: 'REGISTRY_STORAGE_MAINTENANCE_READONLY', value: '{"enabled":false}' });
    const key = 'deployment/registry';
    expect(world.applied.has(key)).toBe(true);
    // What `kubectl set env ... REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}` leaves behind.
    const live = structuredClone(world.applied.get(key)) as Obj;
    live.spec.template.spec.containers[0].env = env.map((e) => (e.name === 'REGISTRY_STORAGE_MAINTENANCE_READONLY' ? { ...e, value: '{"enabled":true}' } : e));
    world.applied.set(key, live);
    const second = await applyManifests({ run: world.runner, context: 'k3d-devreg', manifestFiles: files, clusterId: 'id-1', lastApplied: first.fingerprint });
    expect(second.applied).toBe(true);
    expect(world.runner.lines().slice(-2)).toEqual(['kubectl --context k3d-devreg get --filename - --ignore-not-found --output json', 'kubectl --context k3d-devreg apply --filename -']);
    // Once writable again, the next run reads and changes nothing.
    const third = await applyManifests({ run: world.runner, context: 'k3d-devreg', manifestFiles: files, clusterId: 'id-1', lastApplied: first.fingerprint });
    expect(third.applied).toBe(false);
  });
});
