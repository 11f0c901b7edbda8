import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { forgetSecretsForTests } from '../../src/redact.js';
import { writeUpState } from '../../src/steps/up-state.js';
import { renderState } from '../../src/steps/render-state.js';
import type { ClusterSpec } from '../../src/spec.js';
import { hostsAddressOf, waitForHostsEntries, waitForRollouts } from '../../src/steps/readiness.js';
import { collectStatus, statusTable } from '../../src/steps/status.js';
import { confirmReset, removeStateDir } from '../../src/steps/teardown.js';
import { EXAMPLE_DIR, verifyPodYaml, verifyRoundTrip } from '../../src/steps/verify.js';
import { Interrupted } from '../../src/errors.js';
import { waitFor } from '../../src/steps/wait.js';
import { FakeWorld, SERVICE_IP } from '../helpers/fake-cluster.js';
import { fakeClock } from '../helpers/fake-clock.js';
import { recordingRunner } from '../helpers/recording-runner.js';

const PASSWORD = 'Verify-Password-2024';
const credentials = { username: 'devreg', password: PASSWORD };
const tmp = mkdtempSync(join(tmpdir(), 'k3s-devreg-steps-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('waitFor', () => {
  it('polls until ready, sleeping between probes', async () => {
    const clock = fakeClock();
    let n = 0;
    const value = await waitFor({ what: 'x', timeoutMs: 10_000, intervalMs: 1_000, fix: 'f', clock, probe: async () => (++n < 3 ? { ready: false, seen: `try ${n}` } : { ready: true, value: n }) });
    expect(value).toBe(3);
    expect(clock.slept).toEqual([1_000, 1_000]);
  });

  it('gives up at the deadline naming what it waited for and what it last saw', async () => {
    await expect(
      waitFor({ what: 'the thing', timeoutMs: 5_000, intervalMs: 2_000, fix: 'do this', clock: fakeClock(), probe: async () => ({ ready: false, seen: 'still pending' }) }),
    ).rejects.toThrow('the thing did not become ready within 5s (last seen: still pending): do this');
  });

  it('stops at once on Ctrl-C', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(waitFor({ what: 'x', timeoutMs: 5_000, intervalMs: 1, fix: 'f', clock: fakeClock(), signal: controller.signal, probe: async () => ({ ready: false, seen: '' }) })).rejects.toBeInstanceOf(Interrupted);
  });
});

describe('readiness', () => {
  it('reads the address a hosts file gives container-registry.local', () => {
    expect(hostsAddressOf('127.0.0.1 localhost\n# 10.0.0.1 container-registry.local\n10.43.1.2\tfoo container-registry.local  # managed by k3s-devreg\n')).toBe('10.43.1.2');
    expect(hostsAddressOf('10.43.1.2 container-registry.localdomain\n')).toBeUndefined();
  });

  it('waits for both rollouts with kubectl rollout status', async () => {
    const run = recordingRunner();
    await waitForRollouts(run, 'k3d-devreg', 60);
    expect(run.lines()).toEqual([
      'kubectl --context k3d-devreg --namespace container-registry rollout status deployment/registry --timeout=60s',
      'kubectl --context k3d-devreg --namespace container-registry rollout status daemonset/registry-hosts --timeout=60s',
    ]);
  });

  it('the hosts wait names the nodes whose entry is missing or wrong', async () => {
    const run = recordingRunner((call) => {
      if (call.file === 'kubectl') return { stdout: JSON.stringify({ spec: { clusterIP: '10.43.0.10' } }) };
      return call.args[1] === 'k3d-devreg-server-0' ? { stdout: '10.43.0.10 container-registry.local\n' } : { stdout: '10.43.9.9 container-registry.local\n' };
    });
    await expect(waitForHostsEntries({ run, context: 'k3d-devreg', nodes: ['k3d-devreg-server-0', 'k3d-devreg-agent-0'], clock: fakeClock(), timeoutMs: 4_000 })).rejects.toThrow(
      'the container-registry.local entry in /etc/hosts on every node (k3d-devreg-server-0, k3d-devreg-agent-0) did not become ready within 4s (last seen: k3d-devreg-agent-0: container-registry.local -> 10.43.9.9, but the registry Service is 10.43.0.10)',
    );
    // The ClusterIP is asked once; each node's hosts file on every round.
    expect(run.lines().filter((l) => l.startsWith('kubectl'))).toHaveLength(1);
    expect(run.lines().filter((l) => l.startsWith('docker exec k3d-devreg-agent-0 cat /etc/hosts')).length).toBeGreaterThan(1);
  });
});

describe('verify', () => {
  it('runs example/pod.yaml under its own name, pulling always from container-registry.local:5000', async () => {
    expect(parse(await verifyPodYaml(EXAMPLE_DIR, 'v1'))).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'k3s-devreg-verify', namespace: 'default', labels: { 'app.kubernetes.io/managed-by': 'k3s-devreg' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'hello', image: 'container-registry.local:5000/hello-world-example:v1', imagePullPolicy: 'Always' }] },
    });
  });

  it('logs in (password on stdin), builds, pushes, runs, checks the log and cleans up, timing each phase', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const phases: string[] = [];
    const timings = await verifyRoundTrip({
      run: world.runner,
      name: 'devreg',
      hostPort: 31113,
      credentials,
      clock: fakeClock(),
      tag: 'v1',
      baseImage: 'k3s-devreg-test/busybox:local',
      dockerConfig: join(tmp, 'docker'),
      onPhase: (p) => phases.push(p),
    });
    expect(phases).toEqual(['docker login', 'build', 'push', 'run pod', 'check log', 'clean up']);
    expect(timings.map((t) => t.phase)).toEqual(phases);
    expect(timings.find((t) => t.phase === 'run pod')!.ms).toBe(1_000);
    expect(world.runner.calls.map((c) => [c.file, ...c.args].join(' '))).toEqual([
      'docker login localhost:31113 --username devreg --password-stdin',
      `docker build --tag localhost:31113/hello-world-example:v1 --build-arg BASE=k3s-devreg-test/busybox:local ${EXAMPLE_DIR}`,
      'docker push localhost:31113/hello-world-example:v1',
      'kubectl --context k3d-devreg --namespace default delete pod --selector app.kubernetes.io/managed-by=k3s-devreg --field-selector metadata.name=k3s-devreg-verify --ignore-not-found --wait=true --timeout=60s',
      'kubectl --context k3d-devreg create --filename -',
      'kubectl --context k3d-devreg --namespace default get pod k3s-devreg-verify --ignore-not-found --output json',
      'kubectl --context k3d-devreg --namespace default get pod k3s-devreg-verify --ignore-not-found --output json',
      'kubectl --context k3d-devreg --namespace default logs pod/k3s-devreg-verify',
      'kubectl --context k3d-devreg --namespace default delete pod --selector app.kubernetes.io/managed-by=k3s-devreg --field-selector metadata.name=k3s-devreg-verify --ignore-not-found --wait=false',
    ]);
    for (const call of world.runner.calls.slice(0, 3)) expect(call.env).toEqual({ DOCKER_CONFIG: join(tmp, 'docker') });
    expect(world.runner.calls[0]!.input).toBe(PASSWORD);
    expect(world.runner.calls.filter((c) => c.input?.includes(PASSWORD))).toHaveLength(1);
    expect(world.runner.calls[4]!.input).toBe(await verifyPodYaml(EXAMPLE_DIR, 'v1'));
  });

  it('retries docker login while the registry is not serving yet, and never a refused password', async () => {
    const notYet = 'Error response from daemon: Get "https://localhost:31113/v2/": EOF';
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    let refusals = 2;
    world.override('docker login', () => (refusals-- > 0 ? { exitCode: 1, stderr: notYet } : {}));
    const clock = fakeClock();
    await verifyRoundTrip({ run: world.runner, name: 'devreg', hostPort: 31113, credentials, clock, tag: 'v1' });
    expect(world.runner.lines().filter((l) => l.startsWith('docker login'))).toHaveLength(3);
    expect(clock.slept.slice(0, 2)).toEqual([2_000, 2_000]);

    // A port or a user name with "401" in it is no refusal: docker's own words decide.
    const port401 = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 34010) });
    let eofs = 1;
    port401.override('docker login', () => (eofs-- > 0 ? { exitCode: 1, stderr: 'Error response from daemon: Get "https://localhost:34010/v2/": EOF' } : {}));
    await verifyRoundTrip({ run: port401.runner, name: 'devreg', hostPort: 34010, credentials: { ...credentials, username: 'dev401' }, clock: fakeClock(), tag: 'v1' });
    expect(port401.runner.lines().filter((l) => l.startsWith('docker login'))).toHaveLength(2);

    const refused = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    refused.override('docker login', () => ({ exitCode: 1, stderr: 'Error response from daemon: login attempt to https://localhost:31113/v2/ failed with status: 401 Unauthorized' }));
    await expect(verifyRoundTrip({ run: refused.runner, name: 'devreg', hostPort: 31113, credentials, clock: fakeClock(), tag: 'v1' })).rejects.toThrow(/401 Unauthorized/);
    expect(refused.runner.lines().filter((l) => l.startsWith('docker login'))).toHaveLength(1);
  });

  it('on a brand-new cluster, retries creating the pod until the default ServiceAccount exists', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    let refusals = 2;
    world.override('kubectl --context k3d-devreg create', () =>
      refusals-- > 0
        ? { exitCode: 1, stderr: 'Error from server (Forbidden): error when creating "STDIN": pods "k3s-devreg-verify" is forbidden: error looking up service account default/default: serviceaccount "default" not found' }
        : ((world.pod = { phase: 'Succeeded' }), {}),
    );
    world.podPhases = [{ phase: 'Succeeded' }];
    const clock = fakeClock();
    await verifyRoundTrip({ run: world.runner, name: 'devreg', hostPort: 31113, credentials, clock });
    expect(world.runner.lines().filter((l) => l.includes(' create '))).toHaveLength(3);
    expect(clock.slept).toEqual([2_000, 2_000]);
  });

  it('an image pull that backs off is reported with the cause kubelet gave before the back-off', async () => {
    // kubelet before 1.32 drops the cause from the ImagePullBackOff message (kubernetes/kubernetes#127918).
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    const image = 'container-registry.local:5000/hello-world-example:latest';
    const cause = `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://container-registry.local:5000/v2/token: 401 Unauthorized`;
    world.podPhases = [
      { phase: 'Pending', waitingReason: 'ContainerCreating' },
      { phase: 'Pending', waitingReason: 'ErrImagePull', message: cause },
      { phase: 'Pending', waitingReason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
    ];
    await expect(verifyRoundTrip({ run: world.runner, name: 'devreg', hostPort: 31113, credentials, clock: fakeClock() })).rejects.toThrow(
      `could not pull the image (ImagePullBackOff: Back-off pulling image "${image}"; last pull error: ${cause})`,
    );
    // From Kubernetes 1.32 the back-off message carries the cause itself: it is not said twice.
    const newer = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    newer.podPhases = [
      { phase: 'Pending', waitingReason: 'ErrImagePull', message: cause },
      { phase: 'Pending', waitingReason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${cause}` },
    ];
    await expect(verifyRoundTrip({ run: newer.runner, name: 'devreg', hostPort: 31113, credentials, clock: fakeClock() })).rejects.toThrow(
      `could not pull the image (ImagePullBackOff: Back-off pulling image "${image}": ErrImagePull: ${cause}): see`,
    );
  });

  it('a pod that fails is reported with its reason, and deleted', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    world.podPhases = [{ phase: 'Failed', waitingReason: 'CrashLoopBackOff', message: 'exec: "echo": not found' }];
    await expect(verifyRoundTrip({ run: world.runner, name: 'devreg', hostPort: 31113, credentials, clock: fakeClock() })).rejects.toThrow(
      'the pod k3s-devreg-verify running container-registry.local:5000/hello-world-example:latest failed: the container failed (CrashLoopBackOff: exec: "echo": not found)',
    );
    expect(world.runner.lines().at(-1)).toContain('delete pod --selector app.kubernetes.io/managed-by=k3s-devreg --field-selector metadata.name=k3s-devreg-verify');
  });
});

describe('status', () => {
  const spec: ClusterSpec = { name: 'devreg', agents: 1, hostPort: 31113, username: 'devreg', registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir: join(tmp, 'devreg') };
  const now = new Date();

  it('all healthy: every check ok, a table and a JSON report', async () => {
    forgetSecretsForTests();
    await renderState({ spec, password: PASSWORD, strict: true, runner: recordingRunner(), env: {}, now });
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) });
    world.applied.set('service/registry', {});
    world.applied.set('deployment/registry', {});
    let probed: unknown;
    const report = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now, probe: async (p) => ((probed = p), { anonymous: 401, authenticated: 200 }) });
    expect(report.healthy).toBe(true);
    expect(report.registry).toBe('localhost:31113');
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['cluster', 'ok'],
      ['nodes', 'ok'],
      ['registry pod', 'ok'],
      ['registry port', 'ok'],
      ['hosts entries', 'ok'],
      ['node restarts', 'ok'],
      // No cache in this world: a warning, and still healthy (k3s pulls from the upstream itself).
      ['cache', 'warn'],
      ['certificate', 'ok'],
    ]);
    expect(probed).toMatchObject({ port: 31113, credentials: { username: 'devreg', password: PASSWORD } });
    expect(report.checks.find((c) => c.name === 'hosts entries')!.detail).toBe(`container-registry.local -> ${SERVICE_IP} on 2 node(s)`);
    expect(world.runner.calls.every((c) => !c.args.join(' ').includes(PASSWORD))).toBe(true);
    const table = statusTable(report);
    expect(table.split('\n')[0]).toBe('CHECK          STATUS  DETAIL');
    expect(table).toContain('healthy: cluster devreg (context k3d-devreg)');
    expect(JSON.stringify(report)).not.toContain(PASSWORD);
  });

  it('a registry pod that is not ready: the check says why, in the kubelet\'s words', async () => {
    forgetSecretsForTests();
    await renderState({ spec, password: PASSWORD, strict: true, runner: recordingRunner(), env: {}, now });
    const ns = 'kubectl --context k3d-devreg --namespace container-registry';
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) })
      .override(`${ns} get deployment registry`, { stdout: JSON.stringify({ spec: { replicas: 1 }, status: { updatedReplicas: 1 } }) })
      .override(`${ns} get pods --selector app.kubernetes.io/name=registry,app.kubernetes.io/part-of=k3s-devreg --output json`, {
        stdout: JSON.stringify({
          items: [{
            metadata: { name: 'registry-5f6d-abc' },
            spec: { nodeName: 'k3d-devreg-server-0' },
            status: { phase: 'Running', containerStatuses: [{ name: 'registry', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=registry pod=registry-5f6d-abc_container-registry' } } }] },
          }],
        }),
      });
    world.applied.set('service/registry', {});
    const report = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now, probe: async () => ({ anonymous: 401, authenticated: 200 }) });
    expect(report.checks.find((c) => c.name === 'registry pod')).toEqual({
      name: 'registry pod',
      status: 'fail',
      detail: '0/1 ready: pod registry-5f6d-abc on k3d-devreg-server-0: container registry waits: CrashLoopBackOff (back-off 40s restarting failed container=registry pod=registry-5f6d-abc_container-registry)',
      fix: 'kubectl --context k3d-devreg --namespace container-registry describe deployment/registry',
    });
  });

  it('no cluster: the cluster check fails with the fix and the checks that need it are skipped', async () => {
    const world = new FakeWorld();
    const report = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now });
    expect(report.healthy).toBe(false);
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['cluster', 'fail'],
      ['nodes', 'skip'],
      ['registry pod', 'skip'],
      ['registry port', 'skip'],
      ['hosts entries', 'skip'],
      ['node restarts', 'skip'],
      ['cache', 'warn'],
      ['certificate', 'ok'],
    ]);
    expect(report.checks[0]).toEqual({ name: 'cluster', status: 'fail', detail: 'no k3d cluster named devreg', fix: 'run k3s-devreg up' });
    expect(report.checks.find((c) => c.name === 'nodes')?.detail).toContain('there is no cluster');
    expect(statusTable(report)).toContain('fix: run k3s-devreg up');
  });

  it('k3d missing: the cluster check says so, and the cache is still checked, since docker answers', async () => {
    const world = new FakeWorld().override('k3d', { exitCode: 127, notFound: true });
    const report = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now });
    expect(report.checks[0]).toMatchObject({ name: 'cluster', status: 'fail', detail: 'k3d is not installed (or not on PATH)' });
    expect(report.checks.find((c) => c.name === 'cache')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^off: no pull-through cache/) as unknown });
    const docker = new FakeWorld().override('docker', { exitCode: 127, notFound: true });
    const without = await collectStatus({ run: docker.runner, name: 'devreg', stateDir: spec.stateDir, now });
    expect(without.checks.find((c) => c.name === 'cache')).toEqual({ name: 'cache', status: 'skip', detail: 'docker could not be checked' });
  });

  it('a stopped loadbalancer or a node docker keeps restarting fails the cluster check, naming the node', async () => {
    const lbDown = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), down: { 'k3d-devreg-serverlb': 'exited' } } });
    const report = await collectStatus({ run: lbDown.runner, name: 'devreg', stateDir: spec.stateDir, now });
    expect(report.checks[0]).toEqual({
      name: 'cluster',
      status: 'fail',
      detail: '1/1 server(s), 1/1 agent(s) running; down: k3d-devreg-serverlb (exited)',
      fix: 'run k3s-devreg up to start it',
    });
    expect(report.checks.slice(1, 5).map((c) => c.status)).toEqual(['skip', 'skip', 'skip', 'skip']);

    const crashing = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), down: { 'k3d-devreg-server-0': 'restarting' } } });
    const crashed = await collectStatus({ run: crashing.runner, name: 'devreg', stateDir: spec.stateDir, now });
    expect(crashed.checks[0]).toMatchObject({
      status: 'fail',
      detail: '1/1 server(s), 1/1 agent(s) running; down: k3d-devreg-server-0 (restarting)',
      fix: 'see why k3d-devreg-server-0 keeps stopping: docker logs --tail 50 k3d-devreg-server-0',
    });

    const paused = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), down: { 'k3d-devreg-agent-0': 'paused' } } });
    expect((await collectStatus({ run: paused.runner, name: 'devreg', stateDir: spec.stateDir, now })).checks[0]).toMatchObject({
      status: 'fail',
      detail: '1/1 server(s), 1/1 agent(s) running; down: k3d-devreg-agent-0 (paused)',
      fix: 'docker unpause k3d-devreg-agent-0',
    });
  });

  it('nodes docker restarted since the last up (a reboot) are a warning that says why pulls may fail and what to run', async () => {
    const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), startedAt: { 'k3d-devreg-server-0': '2026-12-02T07:59:00Z' } } });
    world.applied.set('service/registry', {});
    world.applied.set('deployment/registry', {});
    await writeUpState(spec.stateDir, { nodesStartedAt: { 'k3d-devreg-server-0': '2026-12-01T08:00:00Z', 'k3d-devreg-agent-0': '2026-12-01T08:00:00Z' } });
    try {
      const report = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now, probe: async () => ({ anonymous: 401, authenticated: 200 }) });
      expect(report.checks.find((c) => c.name === 'node restarts')).toEqual({
        name: 'node restarts',
        status: 'warn',
        detail: 'k3d-devreg-server-0 (started 2026-12-02T07:59:00Z) restarted since the last up: docker rebuilt their /etc/hosts, and the registry-hosts DaemonSet writes the container-registry.local line again once its pod runs',
        fix: 'run k3s-devreg up to wait for it and verify again',
      });
    } finally {
      await writeUpState(spec.stateDir, {});
    }
  });

  it('docker not running is a failed check, not a crash', async () => {
    const report = await collectStatus({ run: new FakeWorld({ dockerRunning: false }).runner, name: 'devreg', stateDir: spec.stateDir, now });
    expect(report.checks[0]).toMatchObject({ status: 'fail', detail: expect.stringContaining('the docker daemon is not reachable'), fix: expect.stringContaining('start Docker') });
  });

  it('a registry that lets anyone in, a missing hosts entry and an expiring certificate are reported', async () => {
    const world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', 31113) }).override('docker exec k3d-devreg-agent-0', { stdout: '127.0.0.1 localhost\n' });
    world.applied.set('service/registry', {});
    world.applied.set('deployment/registry', {});
    const later = new Date(now.getTime() + 370 * 86_400_000);
    const report = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now: later, probe: async () => ({ anonymous: 200, authenticated: 200 }) });
    expect(report.healthy).toBe(false);
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName['registry port']).toMatchObject({ status: 'fail', detail: 'GET /v2/ without credentials answered 200, expected 401 (is authentication off?)' });
    expect(byName['hosts entries']).toMatchObject({ status: 'fail', detail: 'k3d-devreg-agent-0: no container-registry.local line' });
    // 370 days on, the one-year certificate has expired: a failure, never a warning (warnings count as healthy).
    expect(byName.certificate).toEqual({ name: 'certificate', status: 'fail', detail: 'the registry certificate has expired', fix: 'run k3s-devreg up to renew it' });
    // Within the renewal window but still valid: a warning with the days left.
    const soon = await collectStatus({ run: world.runner, name: 'devreg', stateDir: spec.stateDir, now: new Date(now.getTime() + 350.5 * 86_400_000), probe: async () => ({ anonymous: 401, authenticated: 200 }) });
    expect(soon.checks.find((c) => c.name === 'certificate')).toMatchObject({ status: 'warn', detail: '14 day(s) left' });
  });
});

describe('reset safety', () => {
  it('confirmReset: --yes needs no question; no terminal needs --yes; the answer decides', async () => {
    const base = { name: 'devreg', stateDir: '/s' };
    expect(await confirmReset({ ...base, yes: true, canPrompt: false })).toBe(true);
    await expect(confirmReset({ ...base, yes: false, canPrompt: false })).rejects.toThrow('run it again with --yes');
    expect(await confirmReset({ ...base, yes: false, canPrompt: true, ask: async () => ({ confirm: 'yes' }) })).toBe(true);
    expect(await confirmReset({ ...base, yes: false, canPrompt: true, ask: async () => ({ confirm: 'n' }) })).toBe(false);
  });

  it('removeStateDir deletes only a folder inside the root that holds our files', async () => {
    const root = join(tmp, 'root');
    mkdirSync(join(root, 'ours'), { recursive: true });
    writeFileSync(join(root, 'ours', 'credentials.json'), '{}');
    mkdirSync(join(root, 'other'), { recursive: true });
    writeFileSync(join(root, 'other', 'notes.txt'), 'keep me');
    await expect(removeStateDir(join(root, 'other'), root)).rejects.toThrow("holds none of k3s-devreg's files");
    await expect(removeStateDir(tmp, root)).rejects.toThrow('is not inside');
    await expect(removeStateDir(root, root)).rejects.toThrow('is not inside');
    expect(await removeStateDir(join(root, 'ours'), root)).toBe('removed');
    expect(await removeStateDir(join(root, 'ours'), root)).toBe('absent');
  });

  it('removeStateDir keeps what holds no secret (images/, settings.json, .gitignore), and a folder with only those counts as absent', async () => {
    const root = join(tmp, 'root-images');
    const state = join(root, 'devreg');
    mkdirSync(join(state, 'images'), { recursive: true });
    mkdirSync(join(state, 'pki'), { recursive: true });
    writeFileSync(join(state, 'credentials.json'), '{}');
    writeFileSync(join(state, 'pki', 'ca.key'), 'KEY');
    writeFileSync(join(state, 'images', 'k3s-airgap-images-amd64.tar.zst'), 'archive');
    writeFileSync(join(state, 'settings.json'), '{"agents": 2}');
    writeFileSync(join(state, '.gitignore'), '*\n');
    expect(await removeStateDir(state, root)).toBe('removed');
    expect(readdirSync(state).sort()).toEqual(['.gitignore', 'images', 'settings.json']);
    expect(readFileSync(join(state, 'images', 'k3s-airgap-images-amd64.tar.zst'), 'utf8')).toBe('archive');
    expect(await removeStateDir(state, root)).toBe('absent');
  });
});

