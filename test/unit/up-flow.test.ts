import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { interruptible, runCli } from '../../src/cli.js';
import type { Factory } from '../../src/command-types.js';
import { COMMANDS } from '../../src/command-table.js';
import { Interrupted, ToolError } from '../../src/errors.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { FakeWorld, isReadOnly, SERVICE_IP } from '../helpers/fake-cluster.js';
import { fakeClock } from '../helpers/fake-clock.js';
import { argvOf, fakeFactory, runCommand } from '../helpers/commands.js';
import { captureIo, type CapturedIo } from '../helpers/io.js';
import { schemaErrors } from '../helpers/schemas.js';

const PASSWORD = 'Correct-Horse-Battery-9';
let home: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'k3s-devreg-up-'));
  env = { K3S_DEVREG_HOME: home, K3S_DEVREG_PASSWORD: PASSWORD };
  forgetSecretsForTests();
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function deps(world: FakeWorld, extra: Partial<Factory> = {}): Factory {
  return fakeFactory(world.runner, extra);
}

/** Runs up through the CLI, with the fake world's runner, a fake clock and probes injected. */
async function up(world: FakeWorld, io: CapturedIo, parsed: Record<string, unknown> = { yes: true }, extra: Partial<Factory> = {}): Promise<number> {
  return runCli(['up', ...argvOf(parsed)], io, deps(world, extra));
}

function expectNoSecret(world: FakeWorld, io: CapturedIo): void {
  expect(io.all()).not.toContain(PASSWORD);
  for (const call of world.runner.calls) {
    expect(call.args.join(' ')).not.toContain(PASSWORD);
    // The password travels only to docker login, on stdin.
    if (call.input?.includes(PASSWORD)) expect(call.args.slice(0, 1)).toEqual(['login']);
  }
}

describe('up on a fresh machine', () => {
  it('creates the volume and the cluster, applies manifests, waits, verifies, and prints the next steps', async () => {
    const world = new FakeWorld();
    const io = captureIo({ env });
    expect(await up(world, io)).toBe(0);

    const changing = world.runner.calls.filter((c) => !isReadOnly(c)).map((c) => [c.file, ...c.args].join(' '));
    const state = join(home, 'devreg');
    expect(changing).toEqual([
      'docker volume create --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cluster=devreg k3s-devreg-devreg-registry',
      // The pull-through cache, on the cluster's network made first, so the nodes' first pulls use it.
      'docker network create --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cluster=devreg k3d-devreg',
      'docker volume create --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cache=docker.io k3s-devreg-cache-docker-io-data',
      expect.stringMatching(
        new RegExp(
          `^docker run -d --name k3s-devreg-cache-docker-io --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cache=docker.io --label dev.k3s-devreg/cache-upstream=https://registry-1.docker.io --label dev.k3s-devreg/cache-config=[0-9a-f]{64} --restart unless-stopped --network k3d-devreg --network-alias k3s-devreg-cache-docker-io -v k3s-devreg-cache-docker-io-data:/var/lib/registry -v ${home}/cache/docker-io.yml:/etc/docker/registry/config.yml:ro registry:2.8.3$`,
        ),
      ),
      `k3d cluster create --config ${state}/k3d-config.yaml`,
      'kubectl --context k3d-devreg apply --filename -',
      'docker login localhost:31113 --username devreg --password-stdin',
      `docker build --tag localhost:31113/hello-world-example:latest ${join(process.cwd(), 'example')}/`,
      'docker push localhost:31113/hello-world-example:latest',
      'kubectl --context k3d-devreg --namespace default delete pod --selector app.kubernetes.io/managed-by=k3s-devreg --field-selector metadata.name=k3s-devreg-verify --ignore-not-found --wait=true --timeout=60s',
      'kubectl --context k3d-devreg create --filename -',
      'kubectl --context k3d-devreg --namespace default delete pod --selector app.kubernetes.io/managed-by=k3s-devreg --field-selector metadata.name=k3s-devreg-verify --ignore-not-found --wait=false',
    ]);
    const login = world.runner.calls.find((c) => c.args[0] === 'login');
    expect(login?.input).toBe(PASSWORD);

    // Every config and manifest handed to k3d and kubectl is valid against the upstream schemas.
    expect(world.k3dConfigs).toHaveLength(1);
    expect(schemaErrors('k3d', world.k3dConfigs[0])).toEqual([]);
    const apply = world.runner.calls.find((c) => c.args.includes('apply'))!;
    const objects = parseAllDocuments(apply.input!).map((d) => d.toJS() as { kind: string });
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'Secret', 'Deployment', 'Service', 'ConfigMap', 'DaemonSet', 'ConfigMap']);
    for (const object of objects) expect(schemaErrors(object.kind, object)).toEqual([]);

    const out = io.stdout.join('\n');
    expect(out).toContain('docker push localhost:31113/my-app:dev');
    expect(out).toContain('image: container-registry.local:5000/my-app:dev');
    expect(out).toContain(`${state}/credentials.json`);
    expect(out).toContain(`${state}/pki/ca.crt`);
    expect(out).toContain('npx k3s-devreg down');
    expect(out).toContain('kubectl uses the context k3d-devreg (now current)');
    expect(io.stderr.join('\n')).toContain(`container-registry.local -> ${SERVICE_IP} on 2 node(s)`);
    expect(io.stderr.join('\n')).toMatch(/Verified: pushed, pulled and ran hello-world-example \(docker login \d/);
    expectNoSecret(world, io);
  });

  it('a second up makes no changing call and skips the round trip', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    const first = world.runner.calls.length;
    const io = captureIo({ env });
    expect(await up(world, io)).toBe(0);
    const second = world.runner.calls.slice(first);
    expect(second.filter((c) => !isReadOnly(c)).map((c) => [c.file, ...c.args].join(' '))).toEqual([]);
    expect(second.length).toBeGreaterThan(5);
    expect(io.stderr.join('\n')).toContain('Registry manifests: unchanged');
    expect(io.stderr.join('\n')).toMatch(/Verified already on .* nothing changed since/);
    expectNoSecret(world, io);
  });

  it('the first up shows a redacted preview of registries.yaml; a second up shows none', async () => {
    const world = new FakeWorld();
    const first = captureIo({ env });
    expect(await up(world, first)).toBe(0);
    const shown = first.stderr.join('\n');
    expect(shown).toContain('registries.yaml: new file (secrets redacted)');
    expect(shown).toMatch(/password: <REDACTED>/);
    expectNoSecret(world, first);
    const again = captureIo({ env });
    expect(await up(world, again)).toBe(0);
    expect(again.stderr.join('\n')).not.toContain('registries.yaml');
  });

  it('without K3S_DEVREG_PASSWORD a password is generated, stored 0600, and never printed', async () => {
    delete env.K3S_DEVREG_PASSWORD;
    const world = new FakeWorld();
    const io = captureIo({ env });
    expect(await up(world, io)).toBe(0);
    const credentials = JSON.parse(readFileSync(join(home, 'devreg', 'credentials.json'), 'utf8')) as { password: string };
    expect(credentials.password.length).toBeGreaterThanOrEqual(20);
    expect(io.all()).not.toContain(credentials.password);
    expect(world.runner.calls.find((c) => c.args[0] === 'login')?.input).toBe(credentials.password);
  });

  it('prompts through the injected Ask at a terminal, and uses the answers', async () => {
    const world = new FakeWorld();
    const io = captureIo({ env: { K3S_DEVREG_HOME: home }, tty: true });
    const asked: string[] = [];
    const code = await up(world, io, {}, {
      ask: async (questions) => {
        asked.push(...questions.map((q) => q.name));
        return { name: 'team', agents: '0', username: 'alice', password: PASSWORD, port: '31999' };
      },
    });
    expect(code).toBe(0);
    expect(asked).toEqual(['name', 'agents', 'username', 'password', 'port']);
    expect(world.cluster).toMatchObject({ name: 'team', agents: 0, hostPort: 31999 });
    expect(world.runner.lines()).toContain('docker login localhost:31999 --username alice --password-stdin');
    expect(io.stdout.join('\n')).toContain('npx k3s-devreg down --name team');
    expect(io.all()).not.toContain(PASSWORD);
  });
});

describe('up on an existing cluster', () => {
  it('starts a stopped cluster of ours instead of creating one', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    world.cluster!.running = false;
    const first = world.runner.calls.length;
    expect(await up(world, captureIo({ env }))).toBe(0);
    const changing = world.runner.calls.slice(first).filter((c) => !isReadOnly(c)).map((c) => [c.file, ...c.args].join(' '));
    expect(changing).toEqual(['k3d cluster start devreg --timeout=240s']);
  });

  it('after starting the nodes, waits until the registry answers on the host port (a stale Ready status is not enough)', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    world.cluster!.running = false;
    const asked: unknown[] = [];
    const answers = [new ToolError('the registry does not answer on https://127.0.0.1:31113/v2/ (ECONNRESET)', 'x'), { anonymous: 401, authenticated: 200 }];
    const registryProbe = async (probe: { port: number; credentials: { username: string; password: string }; caCert: string }) => {
      asked.push({ port: probe.port, credentials: probe.credentials, ca: probe.caCert.startsWith('-----BEGIN CERTIFICATE-----') });
      const answer = answers.shift()!;
      if (answer instanceof Error) throw answer;
      return answer;
    };
    const io = captureIo({ env });
    expect(await up(world, io, { yes: true }, { registryProbe })).toBe(0);
    expect(asked).toEqual([
      { port: 31113, credentials: { username: 'devreg', password: PASSWORD }, ca: true },
      { port: 31113, credentials: { username: 'devreg', password: PASSWORD }, ca: true },
    ]);
    expectNoSecret(world, io);

    // A registry that refuses the saved password will not get better by waiting.
    world.cluster!.running = false;
    const refusing = captureIo({ env });
    expect(await up(world, refusing, { yes: true }, { registryProbe: async () => ({ anonymous: 401, authenticated: 401 }) })).toBe(1);
    expect(refusing.stderr.at(-1)).toMatch(/^error: the registry on https:\/\/localhost:31113\/v2\/ failed: GET \/v2\/ with the saved credentials answered 401/);
  });

  it('nodes that docker restarted since the last up (a reboot) lost the hosts line: up waits for it and the registry, and verifies again', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    // docker restarted every node: new start times, /etc/hosts rebuilt without our line.
    world.cluster!.startedAt = { 'k3d-devreg-server-0': '2026-12-02T07:59:00Z', 'k3d-devreg-agent-0': '2026-12-02T07:59:01Z' };
    world.hostsLineMissingReads = 2;
    let probes = 0;
    const registryProbe = async () => {
      probes++;
      return { anonymous: 401, authenticated: 200 };
    };
    const first = world.runner.calls.length;
    const io = captureIo({ env });
    expect(await up(world, io, { yes: true }, { registryProbe })).toBe(0);
    const calls = world.runner.calls.slice(first).map((c) => [c.file, ...c.args].join(' '));
    expect(io.stderr.join('\n')).toContain('k3d-devreg-agent-0, k3d-devreg-server-0 started since the last up (docker or this machine restarted)');
    expect(probes).toBe(1);
    expect(calls.filter((c) => c === 'docker exec k3d-devreg-server-0 cat /etc/hosts').length).toBeGreaterThan(1);
    expect(calls).toContain('docker push localhost:31113/hello-world-example:latest');
    expect(calls.filter((c) => c.startsWith('k3d cluster') && c !== 'k3d cluster list --output json')).toEqual([]);
    // Nothing restarted since: the next up is a no-op again.
    const again = world.runner.calls.length;
    expect(await up(world, captureIo({ env }))).toBe(0);
    expect(world.runner.calls.slice(again).filter((c) => !isReadOnly(c))).toEqual([]);
  });

  it('restarts the nodes when registries.yaml changed, and says why', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    const first = world.runner.calls.length;
    // A new password changes registries.yaml (the nodes' credentials) and the htpasswd Secret.
    const io = captureIo({ env: { ...env, K3S_DEVREG_PASSWORD: 'Another-Password-42' } });
    expect(await up(world, io)).toBe(0);
    const changing = world.runner.calls.slice(first).filter((c) => !isReadOnly(c)).map((c) => [c.file, ...c.args].slice(0, 4).join(' '));
    expect(changing.slice(0, 3)).toEqual(['k3d cluster stop devreg', 'k3d cluster start devreg', 'kubectl --context k3d-devreg apply']);
    expect(io.stderr.join('\n')).toContain('registries.yaml changed: restarting the nodes, because k3s reads it only when it starts');
    expect(io.all()).not.toContain('Another-Password-42');
    expect(io.all()).not.toContain(PASSWORD);
  });

  it('re-applies when someone deleted the registry objects', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    world.applied.delete('deployment/registry');
    const first = world.runner.calls.length;
    expect(await up(world, captureIo({ env }))).toBe(0);
    const changing = world.runner.calls.slice(first).filter((c) => !isReadOnly(c)).map((c) => [c.file, ...c.args].join(' '));
    expect(changing[0]).toBe('kubectl --context k3d-devreg apply --filename -');
  });

  it('with a KUBECONFIG of two files (k3d only warns on create), the context goes into the first file and is made current', async () => {
    const world = new FakeWorld({ multiFileKubeconfig: true });
    const files = [join(home, 'a.yaml'), join(home, 'b.yaml')];
    const io = captureIo({ env: { ...env, KUBECONFIG: files.join(':') } });
    expect(await up(world, io)).toBe(0);
    expect(world.runner.lines()).toContain(`k3d kubeconfig merge devreg --output ${files[0]} --kubeconfig-switch-context=true`);
    expect(world.runner.lines().filter((l) => l.includes('--kubeconfig-merge-default'))).toEqual([]);
    expect(io.stderr.join('\n')).toContain(`Kubeconfig context k3d-devreg written to ${files[0]} (the first file KUBECONFIG lists, where kubectl writes new entries): the current context`);
  });

  it('an existing cluster made with a k3s that ignores our CA is refused (recreate it); another k3s than the pinned one is noted', async () => {
    const regressed = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), image: 'rancher/k3s:v1.28.8-k3s1' } });
    const io = captureIo({ env });
    expect(await up(regressed, io)).toBe(2);
    expect(io.stderr.at(-1)).toBe(
      'error: k3s v1.28.8 (from the running cluster devreg) ignores the registry CA in registries.yaml (k3s issue 9839), so every pull from the registry would fail with x509: certificate signed by unknown authority: run k3s-devreg down and then up to recreate it with rancher/k3s:v1.31.5-k3s1 (credentials, CA and pushed images are kept)',
    );
    expect(regressed.runner.calls.filter((c) => !isReadOnly(c))).toEqual([]);
    const older = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), image: 'rancher/k3s:v1.30.9-k3s1' } });
    const noted = captureIo({ env });
    expect(await up(older, noted)).toBe(0);
    expect(noted.stderr.join('\n')).toContain('note: the cluster devreg runs rancher/k3s:v1.30.9-k3s1, not rancher/k3s:v1.31.5-k3s1');
  });

  it('a docker daemon on another machine is refused before anything is created or written', async () => {
    const world = new FakeWorld();
    const io = captureIo({ env: { ...env, DOCKER_HOST: 'ssh://dev@build-box' } });
    expect(await up(world, io)).toBe(2);
    expect(io.stderr.at(-1)).toMatch(/^error: docker talks to a daemon on another machine \(ssh:\/\/dev@build-box, from DOCKER_HOST\)/);
    expect(world.runner.calls.filter((c) => !isReadOnly(c))).toEqual([]);
    expect(existsSync(join(home, 'devreg'))).toBe(false);
  });

  it('restores a kubeconfig context that was removed, without switching to it', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    world.contextInKubeconfig = false;
    const first = world.runner.calls.length;
    expect(await up(world, captureIo({ env }))).toBe(0);
    const changing = world.runner.calls.slice(first).filter((c) => !isReadOnly(c)).map((c) => [c.file, ...c.args].join(' '));
    expect(changing).toEqual(['k3d kubeconfig merge devreg --kubeconfig-merge-default --kubeconfig-switch-context=false']);
  });

  it('refuses a cluster of the same name that it did not create, before changing anything', async () => {
    const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), labels: {} } });
    const io = captureIo({ env });
    expect(await up(world, io)).toBe(2);
    expect(io.stderr.at(-1)).toBe(
      'error: a k3d cluster named devreg already exists and was not created by k3s-devreg (k3d-devreg-server-0 lacks the app.kubernetes.io/managed-by=k3s-devreg label): choose another name with --name, or delete that cluster yourself (k3d cluster delete devreg) if you no longer need it',
    );
    expect(world.runner.calls.filter((c) => !isReadOnly(c))).toEqual([]);
    expectNoSecret(world, io);
  });

  it('refuses to change the agents of an existing cluster and says how', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    const io = captureIo({ env });
    expect(await up(world, io, { yes: true, agents: '2' })).toBe(2);
    expect(io.stderr.at(-1)).toContain('the cluster devreg has 1 agent node(s), not 2: run k3s-devreg down and then up');
  });
});

describe('up failure paths: clear message, non-zero exit, nothing secret', () => {
  const IMAGE = 'container-registry.local:5000/hello-world-example:latest';
  const cases: { name: string; world: () => FakeWorld; parsed?: Record<string, unknown>; extra?: Partial<Factory>; code: number; message: RegExp }[] = [
    {
      name: 'docker not running',
      world: () => new FakeWorld({ dockerRunning: false }),
      code: 2,
      message: /^error: the docker daemon is not reachable \(Cannot connect to the Docker daemon.*\): start Docker/,
    },
    {
      name: 'k3d missing',
      world: () => new FakeWorld({ k3dInstalled: false }),
      code: 2,
      message: /^error: k3d is not installed \(or not on PATH\): install it from https:\/\/k3d\.io \(v5\.5\.0 or newer\)/,
    },
    {
      name: 'k3d too old',
      world: () => new FakeWorld({ k3dVersion: '5.4.9' }),
      code: 2,
      message: /^error: k3d v5\.4\.9 is too old: k3s-devreg needs v5\.5\.0 or newer/,
    },
    {
      name: 'kubectl missing',
      world: () => new FakeWorld({ kubectlInstalled: false }),
      code: 2,
      message: /^error: kubectl is not installed \(or not on PATH\): install it from https:\/\/kubernetes\.io/,
    },
    {
      name: 'port taken by a container',
      world: () => new FakeWorld({ publishedBy: { 31113: 'old-registry' } }),
      extra: { portProbe: async () => false },
      code: 2,
      message: /^error: port 31113 on 127\.0\.0\.1 is already in use by the container old-registry: stop it \(docker stop old-registry\) or choose another port with --port$/,
    },
    {
      name: 'port taken by another program',
      world: () => new FakeWorld(),
      extra: { portProbe: async () => false },
      code: 2,
      message: /^error: port 31113 on 127\.0\.0\.1 is already in use by another program: stop that program .* or choose another port with --port$/,
    },
    {
      name: 'k3d fails midway through create',
      world: () =>
        new FakeWorld().override('k3d cluster create', {
          exitCode: 1,
          // As k3d prints it: INFO on stdout, ERRO/FATA on stderr, coloured even into a pipe (k3d-io/k3d cmd/root.go).
          stdout: '\x1b[36mINFO\x1b[0m[0001] Prep: Network\n\x1b[36mINFO\x1b[0m[0003] Created image volume k3d-devreg-images',
          stderr: '\x1b[31mERRO\x1b[0m[0040] Failed Cluster Start: Failed to start server k3d-devreg-server-0: Node k3d-devreg-server-0 failed to get ready\n\x1b[31mFATA\x1b[0m[0041] Cluster creation FAILED, all changes have been rolled back!',
        }),
      code: 1,
      message: /^error: k3d could not create the cluster from .*k3d-config\.yaml \(exit 1: Failed Cluster Start: Failed to start server k3d-devreg-server-0: Node k3d-devreg-server-0 failed to get ready\): fix what k3d says, then run k3s-devreg up again \(k3d's whole log: .*\/devreg\/logs\/k3d-cluster-create\.log\)$/,
    },
    {
      name: 'kubectl times out applying',
      world: () => new FakeWorld().override('kubectl --context k3d-devreg apply', { exitCode: 1, timedOut: true }),
      code: 1,
      message: /^error: kubectl could not apply the manifests to k3d-devreg: no answer within 120s: check that the cluster is running/,
    },
    {
      name: 'the registry never rolls out',
      world: () =>
        new FakeWorld().override('kubectl --context k3d-devreg --namespace container-registry rollout status deployment/registry', {
          exitCode: 1,
          stderr: 'error: timed out waiting for the condition',
        }),
      code: 1,
      message: /^error: the registry \(deployment\/registry in namespace container-registry\) did not become ready within 180s: .*timed out waiting for the condition.*: see why with `kubectl --context k3d-devreg --namespace container-registry describe deployment\/registry`/,
    },
    {
      name: 'the registry never rolls out because no node takes its pod (the scheduler says why)',
      world: () =>
        new FakeWorld()
          .override('kubectl --context k3d-devreg --namespace container-registry rollout status deployment/registry', { exitCode: 1, stderr: 'error: timed out waiting for the condition' })
          .override('kubectl --context k3d-devreg --namespace container-registry get pods --selector app.kubernetes.io/name=registry,app.kubernetes.io/part-of=k3s-devreg --output json', {
            stdout: JSON.stringify({
              items: [{
                metadata: { name: 'registry-7d4b9c-x2x' },
                status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: "0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }." }] },
              }],
            }),
          }),
      code: 1,
      message: /did not become ready within 180s: .*timed out waiting for the condition\); pod registry-7d4b9c-x2x cannot be placed on a node: 0\/2 nodes are available: 2 node\(s\) had untolerated taint \{node\.kubernetes\.io\/disk-pressure: \}: see why/,
    },
    {
      name: 'the hosts DaemonSet never rolls out because its image cannot be pulled (the kubelet says why)',
      world: () =>
        new FakeWorld()
          .override('kubectl --context k3d-devreg --namespace container-registry rollout status daemonset/registry-hosts', { exitCode: 1, stderr: 'error: timed out waiting for the condition' })
          .override('kubectl --context k3d-devreg --namespace container-registry get pods --selector app.kubernetes.io/name=registry-hosts,app.kubernetes.io/part-of=k3s-devreg --output json', {
            stdout: JSON.stringify({
              items: [{
                metadata: { name: 'registry-hosts-abcde' },
                spec: { nodeName: 'k3d-devreg-agent-0' },
                status: { phase: 'Pending', containerStatuses: [{ name: 'hosts-inject', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:1.36.1"' } } }] },
              }],
            }),
          }),
      code: 1,
      message: /^error: the hosts-entry DaemonSet \(daemonset\/registry-hosts in namespace container-registry\) did not become ready within 180s: .*; pod registry-hosts-abcde on k3d-devreg-agent-0: container hosts-inject waits: ImagePullBackOff \(Back-off pulling image "busybox:1\.36\.1"\): see why/,
    },
    {
      name: 'the hosts entry never appears',
      world: () => {
        const world = new FakeWorld();
        return world.override('docker exec', { stdout: '127.0.0.1 localhost\n' });
      },
      code: 1,
      message: /^error: the container-registry\.local entry in \/etc\/hosts on every node \(k3d-devreg-agent-0, k3d-devreg-server-0\) did not become ready within 90s \(last seen: k3d-devreg-agent-0: no container-registry\.local line; k3d-devreg-server-0: no container-registry\.local line\): look at the registry-hosts pods/,
    },
    {
      name: 'the node cannot pull the verify image',
      world: () => {
        const world = new FakeWorld();
        // As kubelet 1.31 says it: the cause only with ErrImagePull, the back-off without it.
        world.podPhases = [
          { phase: 'Pending', waitingReason: 'ErrImagePull', message: `rpc error: code = Unknown desc = failed to pull and unpack image "${IMAGE}": failed to resolve reference "${IMAGE}": failed to do request: Head "https://container-registry.local:5000/v2/hello-world-example/manifests/latest": tls: failed to verify certificate: x509: certificate signed by unknown authority` },
          { phase: 'Pending', waitingReason: 'ImagePullBackOff', message: `Back-off pulling image "${IMAGE}"` },
        ];
        return world;
      },
      code: 1,
      message: /^error: the pod k3s-devreg-verify running container-registry\.local:5000\/hello-world-example:latest failed: the node k3d-devreg-agent-0 could not pull the image \(ImagePullBackOff: Back-off pulling image .*; last pull error: rpc error: .*x509: certificate signed by unknown authority\): see `kubectl --context k3d-devreg --namespace default get events --field-selector involvedObject.name=k3s-devreg-verify`; when the pull fails, containerd's log on the node says why: docker exec k3d-devreg-agent-0 tail -n 50 \/var\/lib\/rancher\/k3s\/agent\/containerd\/containerd\.log$/,
    },
    {
      name: 'docker login refused',
      world: () => new FakeWorld().override('docker login', { exitCode: 1, stderr: 'Error response from daemon: login attempt to https://localhost:31113/v2/ failed with status: 401 Unauthorized' }),
      code: 1,
      message: /^error: docker could not log in to localhost:31113 as devreg \(exit 1: .*401 Unauthorized\)/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const world = c.world();
      const io = captureIo({ env });
      expect(await up(world, io, c.parsed ?? { yes: true }, c.extra ?? {})).toBe(c.code);
      expect(io.stderr.at(-1)).toMatch(c.message);
      expectNoSecret(world, io);
    });
  }

  it("a failed create keeps k3d's whole log, redacted and 0600, in the state folder", async () => {
    const world = new FakeWorld().override('k3d cluster create', {
      exitCode: 1,
      stdout: '\x1b[36mINFO\x1b[0m[0001] Prep: Network',
      stderr: `\x1b[31mERRO\x1b[0m[0040] Failed to pull image with password ${PASSWORD}\n\x1b[31mERRO\x1b[0m[0040] Failed to pull image with password ${PASSWORD}\n\x1b[31mFATA\x1b[0m[0041] Cluster creation FAILED, all changes have been rolled back!`,
    });
    const io = captureIo({ env });
    expect(await up(world, io)).toBe(1);
    expect(io.stderr.at(-1)).toContain('(exit 1: Failed to pull image with password <REDACTED>)');
    const log = join(home, 'devreg', 'logs', 'k3d-cluster-create.log');
    expect(readFileSync(log, 'utf8')).toBe('INFO[0001] Prep: Network\nERRO[0040] Failed to pull image with password <REDACTED>\nERRO[0040] Failed to pull image with password <REDACTED>\nFATA[0041] Cluster creation FAILED, all changes have been rolled back!\n');
    expect(statSync(log).mode & 0o777).toBe(0o600);
    expectNoSecret(world, io);
  });

  it('the verify pod is cleaned up even when the round trip fails', async () => {
    const world = new FakeWorld();
    world.podLog = 'something else';
    const io = captureIo({ env });
    expect(await up(world, io)).toBe(1);
    expect(io.stderr.at(-1)).toContain('the pod ran but its log does not say hello');
    expect(world.runner.lines().at(-1)).toBe('kubectl --context k3d-devreg --namespace default delete pod --selector app.kubernetes.io/managed-by=k3s-devreg --field-selector metadata.name=k3s-devreg-verify --ignore-not-found --wait=false');
  });

  it('after a failure half-way, the next up resumes: no second create, and the rest is done', async () => {
    const world = new FakeWorld().override('kubectl --context k3d-devreg apply', { exitCode: 1, stderr: 'error: connection refused' });
    expect(await up(world, captureIo({ env }))).toBe(1);
    world.overrides.length = 0;
    const first = world.runner.calls.length;
    expect(await up(world, captureIo({ env }))).toBe(0);
    const changing = world.runner.calls.slice(first).filter((c) => !isReadOnly(c)).map((c) => c.args.slice(0, 3).join(' '));
    expect(changing).not.toContain('cluster create --config');
    expect(changing[0]).toBe('--context k3d-devreg apply');
  });
});

describe('Ctrl-C', () => {
  // cli.ts runs every command this way: its one SIGINT handler aborts the signal.
  const upCommand = COMMANDS.find((c) => c.name === 'up')!;

  it('an aborted signal stops a bounded wait at once and the command exits 130 with a resume hint', async () => {
    const world = new FakeWorld().override('docker exec', { stdout: '' });
    const clock = fakeClock();
    const io = captureIo({ env });
    const code = await runCli(['up', '--yes'], io, deps(world, { clock: { now: clock.now, sleep: async () => void process.emit('SIGINT') } }));
    expect(code).toBe(130);
    expect(io.stderr.at(-1)).toBe('interrupted: run k3s-devreg up again to resume where it stopped');
    // Nothing after the interrupted wait ran.
    expect(world.runner.lines().some((l) => l.startsWith('docker login'))).toBe(false);
  });

  it('a create killed by Ctrl-C leaves a half-made cluster: the next up deletes it and creates it again', async () => {
    const world = new FakeWorld();
    // Ctrl-C reaches k3d and us alike; k3d dies without rolling back: the server container exists (with our labels), the agent does not.
    world.override('k3d cluster create', () => {
      world.cluster = { ...FakeWorld.ourCluster('devreg', 31113, 0), running: false, serverId: 'half-made' };
      process.emit('SIGINT');
      return { exitCode: 130, stderr: '' };
    });
    const io = captureIo({ env });
    expect(await runCli(['up', '--yes'], io, deps(world))).toBe(130);
    expect(JSON.parse(readFileSync(join(home, 'devreg', 'up-state.json'), 'utf8'))).toMatchObject({ creating: true });

    world.overrides.length = 0;
    const first = world.runner.calls.length;
    const again = captureIo({ env });
    expect(await up(world, again)).toBe(0);
    const changing = world.runner.calls.slice(first).filter((c) => !isReadOnly(c)).map((c) => [c.file, ...c.args].join(' '));
    expect(changing.slice(0, 2)).toEqual(['k3d cluster delete devreg', `k3d cluster create --config ${join(home, 'devreg', 'k3d-config.yaml')}`]);
    expect(world.cluster).toMatchObject({ agents: 1, running: true });
    expect(again.all()).toContain('the last run stopped while k3d was creating devreg: deleting what it left and creating it again');
    expect(JSON.parse(readFileSync(join(home, 'devreg', 'up-state.json'), 'utf8'))).not.toHaveProperty('creating');

    // And the run after that is a plain no-op: nothing deleted, nothing created.
    const third = world.runner.calls.length;
    expect(await up(world, captureIo({ env }))).toBe(0);
    expect(world.runner.calls.slice(third).filter((c) => !isReadOnly(c))).toEqual([]);
  });

  it('other errors stay errors; Interrupted is exit 130 with one line, the hint only once something changed', async () => {
    const io = captureIo();
    expect(await interruptible(io, upCommand, async () => { throw new Error('boom'); })).toBe(1);
    expect(io.stderr[0]).toMatch(/^error: unexpected failure: Error: boom/);
    const early = captureIo();
    expect(await interruptible(early, upCommand, async () => { throw new Interrupted(); })).toBe(130);
    expect(early.stderr).toEqual(['interrupted: nothing was changed']);
  });
});

describe('down and reset', () => {
  it('down deletes our cluster and keeps the state folder and the volume; a second down is a no-op with exit 0', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    const io = captureIo({ env });
    expect(await runCommand('down', {}, io, deps(world))).toBe(0);
    expect(world.runner.lines()).toContain('k3d cluster delete devreg');
    expect(io.stdout.join('\n')).toContain(`Cluster devreg deleted. Kept ${join(home, 'devreg')} (credentials, CA), the volume k3s-devreg-devreg-registry`);
    // The cache stays (every cluster shares it); it leaves the cluster's network, which up made and down removes.
    expect(io.stdout.join('\n')).toContain('the pull-through cache (shared by every cluster; k3s-devreg cache rm removes it)');
    expect(world.runner.lines().filter((l) => /^docker (network|rm)/.test(l))).toContain('docker network disconnect --force k3d-devreg k3s-devreg-cache-docker-io');
    expect(world.objects.objects.containers['k3s-devreg-cache-docker-io']?.running).toBe(true);
    expect(world.objects.objects.networks['k3d-devreg']).toBeUndefined();
    expect(world.volumes.has('k3s-devreg-devreg-registry')).toBe(true);
    expect(readFileSync(join(home, 'devreg', 'credentials.json'), 'utf8')).toContain(PASSWORD);

    const again = captureIo({ env });
    const before = world.runner.calls.length;
    expect(await runCommand('down', {}, again, deps(world))).toBe(0);
    expect(again.stdout).toEqual(['No k3d cluster named devreg: nothing to delete.']);
    expect(world.runner.calls.slice(before).filter((c) => !isReadOnly(c))).toEqual([]);
  });

  it('down refuses a cluster it did not create', async () => {
    const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), labels: { 'app.kubernetes.io/managed-by': 'someone-else' } } });
    await expect(runCommand('down', {}, captureIo({ env }), deps(world))).rejects.toMatchObject({ exitCode: 2, problem: expect.stringContaining('was not created by k3s-devreg') });
    expect(world.runner.lines()).not.toContain('k3d cluster delete devreg');
  });

  it('a down stopped after deleting the server: up says to run down, and down deletes the rest (ours by the agent\'s labels)', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    world.cluster!.removed = ['k3d-devreg-server-0'];
    const upAgain = captureIo({ env });
    expect(await up(world, upAgain)).toBe(2);
    expect(upAgain.stderr.at(-1)).toBe(
      'error: the cluster devreg has lost its server node k3d-devreg-server-0 (was a down interrupted?): run k3s-devreg down to delete what is left (credentials, CA and images are kept), then k3s-devreg up',
    );
    expect(await runCommand('down', {}, captureIo({ env }), deps(world))).toBe(0);
    expect(world.runner.lines()).toContain('docker container inspect k3d-devreg-server-0 k3d-devreg-serverlb k3d-devreg-agent-0');
    expect(world.runner.lines()).toContain('k3d cluster delete devreg');
    expect(world.cluster).toBeUndefined();
  });

  it('a leftover whose remaining agent is not ours is never deleted', async () => {
    const world = new FakeWorld({ cluster: { ...FakeWorld.ourCluster('devreg', 31113), labels: { app: 'k3d' }, removed: ['k3d-devreg-server-0'] } });
    await expect(runCommand('down', {}, captureIo({ env }), deps(world))).rejects.toMatchObject({
      exitCode: 2,
      problem: 'a k3d cluster named devreg already exists and was not created by k3s-devreg (k3d-devreg-agent-0 lacks the app.kubernetes.io/managed-by=k3s-devreg label)',
    });
    expect(world.runner.lines()).not.toContain('k3d cluster delete devreg');
  });

  it('down, then up brings back the same credentials and volume', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    await runCommand('down', {}, captureIo({ env }), deps(world));
    delete env.K3S_DEVREG_PASSWORD;
    const first = world.runner.calls.length;
    expect(await up(world, captureIo({ env }))).toBe(0);
    const lines = world.runner.lines().slice(first);
    expect(lines.filter((l) => l.startsWith('docker volume create'))).toEqual([]);
    expect(lines.some((l) => l.startsWith('k3d cluster create'))).toBe(true);
    expect(world.runner.calls.slice(first).find((c) => c.args[0] === 'login')?.input).toBe(PASSWORD);
  });

  it('reset without --yes and without a terminal refuses and changes nothing', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    const before = world.runner.calls.length;
    await expect(runCommand('reset', {}, captureIo({ env }), deps(world))).rejects.toMatchObject({ exitCode: 2, fix: 'run it again with --yes' });
    // Only the tool checks ran (read-only); nothing was changed.
    expect(world.runner.calls.slice(before).filter((c) => !isReadOnly(c))).toEqual([]);
  });

  it('reset asks through Ask; "no" changes nothing', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    const before = world.runner.calls.length;
    const io = captureIo({ env, tty: true });
    expect(await runCommand('reset', {}, io, deps(world, { ask: async () => ({ confirm: 'no' }) }))).toBe(1);
    expect(io.stderr).toEqual(['Nothing was changed.']);
    expect(world.runner.calls.slice(before).filter((c) => !isReadOnly(c))).toEqual([]);
  });

  it('reset --yes deletes cluster, state folder and volume, then sets up anew with new credentials', async () => {
    delete env.K3S_DEVREG_PASSWORD;
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    const oldPassword = (JSON.parse(readFileSync(join(home, 'devreg', 'credentials.json'), 'utf8')) as { password: string }).password;
    const first = world.runner.calls.length;
    const io = captureIo({ env });
    expect(await runCommand('reset', { yes: true }, io, deps(world))).toBe(0);
    expect(io.stderr.join('\n')).toContain('kept the pull-through cache (k3s-devreg-cache-docker-io), which every cluster shares: k3s-devreg cache rm removes it');
    const changing = world.runner.calls.slice(first).filter((c) => !isReadOnly(c)).map((c) => [c.file, ...c.args].slice(0, 4).join(' '));
    // The first four words of each changing call.
    expect(changing.slice(0, 8)).toEqual([
      'docker network disconnect --force',
      'k3d cluster delete devreg',
      'docker network rm k3d-devreg',
      'docker volume rm k3s-devreg-devreg-registry',
      'docker volume create --label',
      // The cache is kept, not started again: it joins the new cluster's network.
      'docker network create --label',
      'docker network connect k3d-devreg',
      'k3d cluster create --config',
    ]);
    const newPassword = (JSON.parse(readFileSync(join(home, 'devreg', 'credentials.json'), 'utf8')) as { password: string }).password;
    expect(newPassword).not.toBe(oldPassword);
    expect(io.all()).not.toContain(newPassword);
    expect(io.all()).not.toContain(oldPassword);
  });

  it('reset checks docker, k3d and kubectl before it destroys anything', async () => {
    const options: { kubectlInstalled?: boolean } = {};
    const world = new FakeWorld(options);
    expect(await up(world, captureIo({ env }))).toBe(0);
    options.kubectlInstalled = false;
    const first = world.runner.calls.length;
    const io = captureIo({ env });
    await expect(runCommand('reset', { yes: true }, io, deps(world))).rejects.toThrow(/kubectl is not installed/);
    expect(world.runner.calls.slice(first).filter((c) => !isReadOnly(c))).toEqual([]);
    expect(readFileSync(join(home, 'devreg', 'credentials.json'), 'utf8')).toContain(PASSWORD);
  });

  it('reset leaves a volume of the same name that is not ours, and up then refuses it', async () => {
    const world = new FakeWorld();
    world.volumes.set('k3s-devreg-devreg-registry', {});
    const io = captureIo({ env });
    await expect(runCommand('reset', { yes: true }, io, deps(world))).rejects.toMatchObject({
      exitCode: 2,
      problem: 'a docker volume named k3s-devreg-devreg-registry exists but was not created by k3s-devreg',
    });
    expect(world.runner.lines()).not.toContain('docker volume rm k3s-devreg-devreg-registry');
    expect(io.stderr.join('\n')).toContain('Kept (not created by k3s-devreg) the volume k3s-devreg-devreg-registry');
  });
});

describe('verify', () => {
  it('runs the round trip on the cluster up made, with the saved credentials, and prints the timings', async () => {
    const world = new FakeWorld();
    expect(await up(world, captureIo({ env }))).toBe(0);
    const first = world.runner.calls.length;
    const io = captureIo({ env: { K3S_DEVREG_HOME: home, K3S_DEVREG_EXAMPLE_BASE: 'k3s-devreg-test/busybox:local' } });
    expect(await runCommand('verify', {}, io, deps(world))).toBe(0);
    const lines = world.runner.lines().slice(first);
    expect(lines).toContain('docker login localhost:31113 --username devreg --password-stdin');
    expect(lines.find((l) => l.startsWith('docker build'))).toContain('--build-arg BASE=k3s-devreg-test/busybox:local');
    expect(world.runner.calls.slice(first).find((c) => c.args[0] === 'login')?.input).toBe(PASSWORD);
    expect(io.stdout).toEqual([
      'Verified: the cluster devreg pulls from its private registry. docker login 0.0s, build 0.0s, push 0.0s, run pod 1.0s, check log 0.0s, clean up 0.0s',
    ]);
    expectNoSecret(world, io);
  });

  it('without a cluster it says to run up, and changes nothing', async () => {
    const world = new FakeWorld();
    await expect(runCommand('verify', {}, captureIo({ env }), deps(world))).rejects.toThrow(
      'there is no k3d cluster named devreg: create it with k3s-devreg up',
    );
    expect(world.runner.calls.filter((c) => !isReadOnly(c))).toEqual([]);
  });
});
