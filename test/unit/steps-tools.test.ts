import { describe, expect, it } from 'vitest';
import { ToolError, UserError } from '../../src/errors.js';
import * as docker from '../../src/tools/docker.js';
import { lastMessage } from '../../src/tools/failure.js';
import * as k3d from '../../src/tools/k3d.js';
import * as kubectlCommands from '../../src/tools/kubectl.js';
import * as kubectlObjects from '../../src/tools/kubectl-objects.js';
import { recordingRunner } from '../helpers/recording-runner.js';

const kubectl = { ...kubectlCommands, ...kubectlObjects };

describe('docker wrappers', () => {
  it('asks the daemon for its version; a stopped daemon is a missing prerequisite with a fix', async () => {
    const up = recordingRunner(() => ({ stdout: '20.10.24+dfsg1\n' }));
    expect(await docker.dockerServerVersion(up)).toBe('20.10.24+dfsg1');
    expect(up.lines()).toEqual(['docker version --format {{.Server.Version}}']);

    const down = recordingRunner(() => ({ exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' }));
    const error = await docker.dockerServerVersion(down).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(
      'the docker daemon is not reachable (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?): start Docker (Docker Desktop, or `sudo systemctl start docker` on Linux) and check that `docker info` works',
    );
    // Older clients follow the connection error with a template error; the connection line is quoted.
    const template = recordingRunner(() => ({
      exitCode: 1,
      stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\ntemplate: :1:9: executing "" at <.Server.Version>: nil pointer evaluating *types.ServerVersion.Version',
    }));
    await expect(docker.dockerServerVersion(template)).rejects.toThrow(/^the docker daemon is not reachable \(Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock/);
    // A Linux user outside the docker group: the fix is the group, not starting Docker.
    const denied = recordingRunner(() => ({
      exitCode: 1,
      stderr: 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.47/version": dial unix /var/run/docker.sock: connect: permission denied',
    }));
    await expect(docker.dockerServerVersion(denied)).rejects.toThrow(/add your user to the docker group/);
    // DOCKER_HOST (or a context) pointing at another machine: starting Docker here would not help.
    const remote = recordingRunner(() => ({ exitCode: 1, stderr: 'Cannot connect to the Docker daemon at tcp://10.1.2.3:2375. Is the docker daemon running?' }));
    await expect(docker.dockerServerVersion(remote)).rejects.toThrow(
      'the docker daemon is not reachable (Cannot connect to the Docker daemon at tcp://10.1.2.3:2375. Is the docker daemon running?): docker talks to tcp://10.1.2.3:2375 (DOCKER_HOST or the current docker context), which does not answer: unset DOCKER_HOST or run `docker context use default` for this machine\'s docker',
    );
    const missing = await docker.dockerServerVersion(recordingRunner(() => ({ exitCode: 127, notFound: true }))).catch((e: unknown) => e);
    expect((missing as UserError).message).toMatch(/^docker is not installed \(or not on PATH\): install Docker from https:\/\/docs\.docker\.com/);
  });

  it('inspects a container into labels, state and published ports; a missing one is undefined', async () => {
    const raw = [
      {
        Id: 'abc123',
        Name: '/k3d-devreg-serverlb',
        Config: { Labels: { 'app.kubernetes.io/managed-by': 'k3s-devreg' }, Image: 'ghcr.io/k3d-io/k3d-proxy:5.8.3' },
        State: { Running: true, Status: 'running', StartedAt: '2026-12-01T08:00:00.123456789Z' },
        Mounts: [{ Type: 'bind', Source: '/home/dev/.k3s-devreg/devreg/node' }, { Type: 'volume', Name: 'k3s-devreg-devreg-registry' }],
        HostConfig: { PortBindings: { '31113/tcp': [{ HostIp: '127.0.0.1', HostPort: '31113' }], '6443/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }] } },
        NetworkSettings: { Ports: { '6443/tcp': [{ HostIp: '0.0.0.0', HostPort: '45678' }], '80/tcp': null }, Networks: { 'k3d-devreg': {} } },
      },
    ];
    const run = recordingRunner(() => ({ stdout: JSON.stringify(raw) }));
    expect(await docker.inspectContainer(run, 'k3d-devreg-serverlb')).toEqual({
      id: 'abc123',
      name: 'k3d-devreg-serverlb',
      labels: { 'app.kubernetes.io/managed-by': 'k3s-devreg' },
      running: true,
      status: 'running',
      image: 'ghcr.io/k3d-io/k3d-proxy:5.8.3',
      startedAt: '2026-12-01T08:00:00.123456789Z',
      networks: ['k3d-devreg'],
      volumes: ['k3s-devreg-devreg-registry'],
      ports: { '31113/tcp': [{ hostIp: '127.0.0.1', hostPort: 31113 }], '6443/tcp': [{ hostIp: '0.0.0.0', hostPort: 45678 }], '80/tcp': [] },
    });
    expect(run.lines()).toEqual(['docker container inspect k3d-devreg-serverlb']);
    const none = recordingRunner(() => ({ exitCode: 1, stdout: '[]', stderr: 'Error response from daemon: No such container: k3d-x-server-0' }));
    expect(await docker.inspectContainer(none, 'k3d-x-server-0')).toBeUndefined();
  });

  it('inspects several containers in one call; missing ones are left out, any other error is reported', async () => {
    const run = recordingRunner(() => ({
      exitCode: 1,
      stdout: JSON.stringify([{ Id: 's', Name: '/k3d-a-server-0', State: { Running: true, Status: 'running' } }]),
      stderr: 'Error: No such container: k3d-a-agent-0',
    }));
    const found = await docker.inspectContainers(run, ['k3d-a-server-0', 'k3d-a-agent-0']);
    expect([...found.keys()]).toEqual(['k3d-a-server-0']);
    expect(run.lines()).toEqual(['docker container inspect k3d-a-server-0 k3d-a-agent-0']);
    const broken = recordingRunner(() => ({ exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' }));
    await expect(docker.inspectContainers(broken, ['a', 'b'])).rejects.toThrow(/docker could not inspect the containers a, b \(exit 1: Cannot connect/);
  });

  it('creates a labelled volume, inspects and removes it', async () => {
    const run = recordingRunner((call) => (call.args[1] === 'inspect' ? { stdout: JSON.stringify([{ Name: 'v', Labels: null }]) } : {}));
    await docker.createVolume(run, 'k3s-devreg-devreg-registry', { 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cluster': 'devreg' });
    expect(await docker.inspectVolume(run, 'v')).toEqual({ name: 'v', labels: {} });
    await docker.removeVolume(run, 'k3s-devreg-devreg-registry');
    expect(run.lines()).toEqual([
      'docker volume create --label app.kubernetes.io/managed-by=k3s-devreg --label dev.k3s-devreg/cluster=devreg k3s-devreg-devreg-registry',
      'docker volume inspect v',
      'docker volume rm k3s-devreg-devreg-registry',
    ]);
    const none = recordingRunner(() => ({ exitCode: 1, stdout: '[]', stderr: 'Error response from daemon: get v: no such volume' }));
    expect(await docker.inspectVolume(none, 'v')).toBeUndefined();
  });

  it('logs in with the password on stdin only, and honours a DOCKER_CONFIG folder', async () => {
    const run = recordingRunner();
    await docker.dockerLogin(run, { registry: 'localhost:31113', username: 'devreg', password: 'pa$$ word', dockerConfig: '/tmp/dc' });
    expect(run.calls).toEqual([
      { file: 'docker', args: ['login', 'localhost:31113', '--username', 'devreg', '--password-stdin'], input: 'pa$$ word', timeoutMs: 30_000, env: { DOCKER_CONFIG: '/tmp/dc' } },
    ]);
  });

  it('a credential helper that cannot store the login is a UserError naming the docker config, not a retryable failure', async () => {
    const stderr = 'Error saving credentials: error storing credentials - err: exec: "docker-credential-desktop": executable file not found in $PATH, out: ``';
    const run = recordingRunner(() => ({ exitCode: 1, stderr }));
    const error = await docker.dockerLogin(run, { registry: 'localhost:31113', username: 'devreg', password: 'pw-123456789' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(
      `docker could not store the login for localhost:31113: its credential helper failed (${stderr}): fix or remove "credsStore"/"credHelpers" in $DOCKER_CONFIG or ~/.docker/config.json, or install the helper it names, then run k3s-devreg verify`,
    );
    const refused = recordingRunner(() => ({ exitCode: 1, stderr: 'Error response from daemon: login attempt to https://localhost:31113/v2/ failed with status: 401 Unauthorized' }));
    expect(await docker.dockerLogin(refused, { registry: 'localhost:31113', username: 'devreg', password: 'pw-123456789' }).catch((e: unknown) => e)).toBeInstanceOf(ToolError);
  });

  it('builds with build args and pushes, and names the image when either fails', async () => {
    const run = recordingRunner((call) => (call.args[0] === 'push' ? { exitCode: 1, stderr: 'unauthorized: authentication required' } : {}));
    await docker.dockerBuild(run, { context: '/pkg/example', tag: 'localhost:31113/hello-world-example:latest', buildArgs: { BASE: 'busybox:local' } });
    await expect(docker.dockerPush(run, { ref: 'localhost:31113/hello-world-example:latest' })).rejects.toThrow(
      'docker could not push localhost:31113/hello-world-example:latest (exit 1: unauthorized: authentication required): check the registry answers with k3s-devreg status, then run k3s-devreg verify',
    );
    expect(run.lines()).toEqual([
      'docker build --tag localhost:31113/hello-world-example:latest --build-arg BASE=busybox:local /pkg/example',
      'docker push localhost:31113/hello-world-example:latest',
    ]);
  });

  it('lists who publishes a port and reads a file in a node', async () => {
    const run = recordingRunner((call) => (call.args[0] === 'ps' ? { stdout: 'old-registry\nother\n' } : { stdout: '127.0.0.1 localhost' }));
    expect(await docker.containersPublishing(run, 31113)).toEqual(['old-registry', 'other']);
    expect(await docker.execInContainer(run, 'k3d-devreg-server-0', ['cat', '/etc/hosts'])).toBe('127.0.0.1 localhost');
    expect(run.lines()).toEqual(['docker ps --all --filter publish=31113 --format {{.Names}}', 'docker exec k3d-devreg-server-0 cat /etc/hosts']);
  });
});

describe('k3d wrappers', () => {
  it('parses `k3d version`', async () => {
    const run = recordingRunner(() => ({ stdout: 'k3d version v5.6.3\nk3s version v1.28.8-k3s1 (default)' }));
    expect(await k3d.k3dVersion(run)).toEqual({ k3d: '5.6.3', k3s: 'v1.28.8-k3s1' });
    expect(run.lines()).toEqual(['k3d version']);
    await expect(k3d.k3dVersion(recordingRunner(() => ({ stdout: 'something else' })))).rejects.toThrow(/^cannot read the k3d version from "something else"/);
    await expect(k3d.k3dVersion(recordingRunner(() => ({ exitCode: 127, notFound: true })))).rejects.toThrow(
      'k3d is not installed (or not on PATH): install it from https://k3d.io (v5.5.0 or newer) and make sure `k3d` is on your PATH',
    );
  });

  it('parses `k3d cluster list -o json`', async () => {
    const listed = [
      {
        name: 'devreg',
        network: { name: 'k3d-devreg' },
        token: 'secret-token-not-kept',
        nodes: [
          { name: 'k3d-devreg-server-0', role: 'server', State: { Running: true, Status: 'running' } },
          { name: 'k3d-devreg-agent-0', role: 'agent', State: { Running: false, Status: 'exited' } },
          { name: 'k3d-devreg-serverlb', role: 'loadbalancer', State: { Running: true, Status: 'running' } },
        ],
        serversRunning: 1,
        serversCount: 1,
        agentsRunning: 0,
        agentsCount: 1,
        hasLoadbalancer: true,
      },
    ];
    const run = recordingRunner(() => ({ stdout: JSON.stringify(listed) }));
    expect(await k3d.listClusters(run)).toEqual([
      {
        name: 'devreg',
        serversCount: 1,
        serversRunning: 1,
        agentsCount: 1,
        agentsRunning: 0,
        nodes: [
          { name: 'k3d-devreg-server-0', role: 'server', running: true, status: 'running' },
          { name: 'k3d-devreg-agent-0', role: 'agent', running: false, status: 'exited' },
          { name: 'k3d-devreg-serverlb', role: 'loadbalancer', running: true, status: 'running' },
        ],
      },
    ]);
    expect(run.lines()).toEqual(['k3d cluster list --output json']);
    expect(await k3d.listClusters(recordingRunner(() => ({ stdout: 'null' })))).toEqual([]);
  });

  it('reads the JSON k3d prints, also after log lines k3d writes to stdout', async () => {
    // The shape of k3d-io/k3d cmd/cluster/clusterList.go (jsonOutput embeds types.Cluster; Node has
    // `name`, `role`, and `State` without a JSON tag, so capitalised; only k3d.* runtimeLabels are listed).
    const printed = JSON.stringify([
      {
        name: 'devreg',
        network: { name: 'k3d-devreg', id: 'f00', ipam: { ipPrefix: '172.18.0.0/16', ipsUsed: null, Managed: false }, Members: null },
        nodes: [
          {
            name: 'k3d-devreg-server-0',
            role: 'server',
            image: 'docker.io/rancher/k3s:v1.31.5-k3s1',
            volumes: ['/home/dev/.k3s-devreg/devreg/node:/etc/k3s-devreg:ro', 'k3s-devreg-devreg-registry:/var/lib/k3s-devreg/registry'],
            runtimeLabels: { 'k3d.cluster': 'devreg', 'k3d.role': 'server' },
            serverOpts: { kubeAPI: { HostIP: '0.0.0.0', HostPort: '41567' } },
            State: { Running: true, Status: 'running', Started: '' },
            IP: { IP: '172.18.0.3', Static: false },
          },
          { name: 'k3d-devreg-agent-0', role: 'agent', runtimeLabels: { 'k3d.cluster': 'devreg' }, State: { Running: true, Status: 'running', Started: '' } },
          { name: 'k3d-devreg-serverlb', role: 'loadbalancer', State: { Running: true, Status: 'running', Started: '' } },
        ],
        InitNode: null,
        imageVolume: 'k3d-devreg-images',
        volumes: ['k3d-devreg-images'],
        serversRunning: 1,
        serversCount: 1,
        agentsRunning: 1,
        agentsCount: 1,
        hasLoadbalancer: true,
      },
    ]);
    const stdout = `\x1b[36mINFO\x1b[0m[0000] something k3d wanted to say\n${printed}\n`;
    const [cluster] = await k3d.listClusters(recordingRunner(() => ({ stdout })));
    expect(cluster).toMatchObject({ name: 'devreg', serversRunning: 1, agentsRunning: 1 });
    expect(cluster?.nodes.map((n) => `${n.role}:${n.name}:${n.running}`)).toEqual([
      'server:k3d-devreg-server-0:true',
      'agent:k3d-devreg-agent-0:true',
      'loadbalancer:k3d-devreg-serverlb:true',
    ]);
  });

  it('creates, starts, stops and deletes by argv; a failure quotes k3d without its log prefix', async () => {
    const run = recordingRunner((call) =>
      call.args[1] === 'delete' ? { exitCode: 1, stderr: 'INFO[0000] Deleting cluster\nERRO[0002] Failed to delete container k3d-devreg-agent-0' } : {},
    );
    await k3d.createCluster(run, '/state/k3d-config.yaml');
    await k3d.startCluster(run, 'devreg');
    await k3d.stopCluster(run, 'devreg');
    await expect(k3d.deleteCluster(run, 'devreg')).rejects.toThrow(
      'k3d could not delete the cluster devreg (exit 1: Failed to delete container k3d-devreg-agent-0): check `docker ps -a --filter name=k3d-devreg` and try again',
    );
    await k3d.mergeKubeconfig(run, 'devreg');
    expect(run.lines()).toEqual([
      'k3d cluster create --config /state/k3d-config.yaml',
      'k3d cluster start devreg --timeout=240s',
      'k3d cluster stop devreg',
      'k3d cluster delete devreg',
      'k3d kubeconfig merge devreg --kubeconfig-merge-default --kubeconfig-switch-context=false',
    ]);
  });

  it("a failed create names k3d's own error lines, not its rollback chatter, and gives k3d longer than its three phases", async () => {
    const stderr = [
      '\x1b[31mERRO\x1b[0m[0012] Failed Cluster Start: Failed to add one or more agents: Node k3d-devreg-agent-0 failed to get ready: error waiting for log line `successfully registered node` from node \'k3d-devreg-agent-0\': stopped returning log lines',
      '\x1b[31mERRO\x1b[0m[0012] Failed to create cluster >>> Rolling Back',
      '\x1b[36mINFO\x1b[0m[0012] Deleting cluster \'devreg\'',
      '\x1b[31mFATA\x1b[0m[0013] Cluster creation FAILED, all changes have been rolled back!',
    ].join('\n');
    const run = recordingRunner(() => ({ exitCode: 1, stderr }));
    const error = (await k3d.createCluster(run, '/s/k3d-config.yaml').catch((e: unknown) => e)) as ToolError;
    expect(error.problem).toBe("k3d could not create the cluster from /s/k3d-config.yaml (exit 1: Failed Cluster Start: Failed to add one or more agents: Node k3d-devreg-agent-0 failed to get ready: error waiting for log line `successfully registered node` from node 'k3d-devreg-agent-0': stopped returning log lines)");
    expect(error.detail).not.toContain('\x1b');
    expect(run.calls[0]?.timeoutMs).toBe(960_000);
    expect(k3d.k3dErrorLines('INFO[0000] fine\nERRO[0001] a\nERRO[0001] a\ntime="x" level=error msg=b')).toEqual(['a', 'b']);
  });

  it('lastMessage drops logrus prefixes and empty lines', () => {
    expect(lastMessage('INFO[0000] a\nFATA[0041] Cluster creation FAILED\n\n')).toBe('Cluster creation FAILED');
    expect(lastMessage('time="2024-01-01T00:00:00Z" level=fatal msg=boom')).toBe('boom');
    // k3d's formatter forces colours (k3d-io/k3d cmd/root.go), and LOG_TIMESTAMPS gives full timestamps.
    expect(lastMessage('\x1b[36mINFO\x1b[0m[0000] Prep: Network\n\x1b[31mFATA\x1b[0m[0041] Cluster creation FAILED, all changes have been rolled back!   ')).toBe(
      'Cluster creation FAILED, all changes have been rolled back!',
    );
    expect(lastMessage('\x1b[31mFATA\x1b[0m[2024-05-01T10:00:00Z] No nodes found for given cluster')).toBe('No nodes found for given cluster');
  });
});

describe('kubectl wrappers', () => {
  it('always names the context; manifests go on stdin', async () => {
    const run = recordingRunner((call) => (call.args.includes('apply') ? { stdout: 'namespace/container-registry created\nservice/registry created\n' } : { stdout: 'service/registry\n' }));
    expect(await kubectl.applyYaml(run, 'k3d-devreg', 'kind: Namespace\n')).toEqual(['namespace/container-registry created', 'service/registry created']);
    await kubectl.createYaml(run, 'k3d-devreg', 'kind: Pod\n');
    expect(run.calls.map((c) => [c.args.join(' '), c.input])).toEqual([
      ['--context k3d-devreg apply --filename -', 'kind: Namespace\n'],
      ['--context k3d-devreg create --filename -', 'kind: Pod\n'],
    ]);
  });

  it('bounds a rollout by kubectl --timeout and by the runner', async () => {
    const run = recordingRunner();
    await kubectl.rolloutStatus(run, 'k3d-devreg', 'container-registry', 'deployment/registry', 120);
    expect(run.calls).toEqual([
      { file: 'kubectl', args: ['--context', 'k3d-devreg', '--namespace', 'container-registry', 'rollout', 'status', 'deployment/registry', '--timeout=120s'], timeoutMs: 150_000 },
    ]);
  });

  it('a kubectl that does not answer is reported as such', async () => {
    const run = recordingRunner(() => ({ exitCode: 1, timedOut: true }));
    await expect(kubectl.getNodes(run, 'k3d-devreg')).rejects.toThrow(
      'kubectl could not read nodes from k3d-devreg: no answer within 30s: check that the cluster is running (k3s-devreg status) and that `kubectl --context k3d-devreg get nodes` works',
    );
  });

  it('parses nodes, services, deployments and pods; missing objects are undefined', async () => {
    const answers: Record<string, unknown> = {
      nodes: { items: [{ metadata: { name: 'k3d-devreg-server-0' }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } }, { metadata: { name: 'k3d-devreg-agent-0' }, status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }] } }] },
      service: { spec: { clusterIP: '10.43.0.9' } },
      pod: { spec: { nodeName: 'k3d-devreg-agent-0' }, status: { phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ErrImagePull', message: 'failed to resolve' } } }] } },
    };
    const run = recordingRunner((call) => {
      const kind = call.args[call.args.indexOf('get') + 1]!;
      return { stdout: answers[kind] ? JSON.stringify(answers[kind]) : '' };
    });
    expect(await kubectl.getNodes(run, 'k3d-devreg')).toEqual([
      { name: 'k3d-devreg-server-0', ready: true, reason: 'KubeletReady' },
      { name: 'k3d-devreg-agent-0', ready: false, reason: 'NodeStatusUnknown' },
    ]);
    expect(await kubectl.getServiceClusterIp(run, 'k3d-devreg', 'container-registry', 'registry')).toBe('10.43.0.9');
    expect(await kubectl.getDeployment(run, 'k3d-devreg', 'container-registry', 'registry')).toBeUndefined();
    expect(await kubectl.getPod(run, 'k3d-devreg', 'default', 'k3s-devreg-verify')).toEqual({ phase: 'Pending', waitingReason: 'ErrImagePull', message: 'failed to resolve', node: 'k3d-devreg-agent-0' });
    expect(run.lines()).toEqual([
      'kubectl --context k3d-devreg get nodes --ignore-not-found --output json',
      'kubectl --context k3d-devreg --namespace container-registry get service registry --ignore-not-found --output json',
      'kubectl --context k3d-devreg --namespace container-registry get deployment registry --ignore-not-found --output json',
      'kubectl --context k3d-devreg --namespace default get pod k3s-devreg-verify --ignore-not-found --output json',
    ]);
  });

  it('deletes the verify pod and reads its log', async () => {
    const run = recordingRunner(() => ({ stdout: 'hello' }));
    expect(await kubectl.podLogs(run, 'k3d-devreg', 'default', 'p')).toBe('hello');
    await kubectl.deletePod(run, 'k3d-devreg', 'default', 'p', false);
    // Waiting is bounded by kubectl itself: its --timeout default (0) would mean a week.
    await kubectl.deletePod(run, 'k3d-devreg', 'default', 'p', true);
    expect(run.lines()).toEqual([
      'kubectl --context k3d-devreg --namespace default logs pod/p',
      'kubectl --context k3d-devreg --namespace default delete pod --selector app.kubernetes.io/managed-by=k3s-devreg --field-selector metadata.name=p --ignore-not-found --wait=false',
      'kubectl --context k3d-devreg --namespace default delete pod --selector app.kubernetes.io/managed-by=k3s-devreg --field-selector metadata.name=p --ignore-not-found --wait=true --timeout=60s',
    ]);
  });

  it('output that is not JSON is a ToolError, not a crash', async () => {
    const error = await kubectl.kubectlClientVersion(recordingRunner(() => ({ stdout: 'Client Version: v1.29' }))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).problem).toBe('kubectl gave output that is not JSON when asked to report its version');
  });
});
