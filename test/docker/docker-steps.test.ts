/**
 * The docker-side steps of up/verify/status against the real daemon, through the real Runner:
 * the port probe and who holds a port, the labelled registry volume, reading a node's /etc/hosts,
 * and the registry round trip (docker login with the password on stdin, build example/ FROM the
 * local busybox, push) plus the registry health probe, against the real registry image serving the
 * state folder that renderState wrote (its CA, certificate and htpasswd).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryEnv, SECRET_MOUNT_PATH } from '../../src/render/manifests/registry.js';
import { ensurePki } from '../../src/render/pki.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { DEFAULT_HOSTS_IMAGE, type ClusterSpec } from '../../src/spec.js';
import { isPortFree } from '../../src/steps/port.js';
import { checkDocker, checkHostPort, inspectCluster } from '../../src/steps/preflight.js';
import { nodeStartTimes, restartedSince } from '../../src/steps/node-restarts.js';
import { hostsAddressOf } from '../../src/steps/readiness.js';
import { probeProblem, probeRegistry } from '../../src/steps/registry-probe.js';
import { renderState, type RenderResult } from '../../src/steps/render-state.js';
import { EXAMPLE_DIR, pushRef, verifyRoundTrip } from '../../src/steps/verify.js';
import { ensureRegistryVolume, removeRegistryVolume } from '../../src/steps/volume.js';
import { systemClock } from '../../src/steps/wait.js';
import * as dockerTool from '../../src/tools/docker.js';
import { createRunner } from '../../src/tools/run.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage, ensureRegistryImage } from '../helpers/images.js';
import { freePort } from '../helpers/tools.js';

const LABEL = 'dev.k3s-devreg/test=1';
const suffix = randomBytes(4).toString('hex');
const registryName = `k3s-devreg-test-steps-registry-${suffix}`;
const nodeName = `k3s-devreg-test-steps-node-${suffix}`;
const cluster = `t${suffix}`;
const PASSWORD = `Steps-${suffix}-Password`;
const commands: string[] = [];
const run = createRunner((line) => commands.push(line));

let dir = '';
let port = 0;
let render: RenderResult;
let busybox = '';

describe.skipIf(!dockerAvailable)('docker-side steps against the real daemon', () => {
  beforeAll(async () => {
    forgetSecretsForTests();
    busybox = ensureBusyboxImage();
    const registryImage = ensureRegistryImage();
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-steps-'));
    port = await freePort();
    const spec: ClusterSpec = { name: cluster, agents: 0, hostPort: port, username: 'devreg', registryImage, hostsImage: DEFAULT_HOSTS_IMAGE, k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir: join(dir, 'state') };
    render = await renderState({ spec, password: PASSWORD, strict: true, runner: run, env: {}, now: new Date() });
    // The registry container with the Deployment's env and the Secret's files at the Deployment's mount path.
    const mounts = [
      ['tls.crt', render.files.tlsCert],
      ['tls.key', render.files.tlsKey],
      ['htpasswd', render.files.htpasswd],
    ].flatMap(([key, file]) => ['-v', `${file}:${SECRET_MOUNT_PATH}/${key}:ro`]);
    docker(['run', '-d', '--label', LABEL, '--name', registryName, '-p', `127.0.0.1:${port}:5000`, ...registryEnv().flatMap((e) => ['-e', `${e.name}=${e.value}`]), ...mounts, registryImage]);
    for (let waited = 0; ; waited += 250) {
      const ready = await probeRegistry({ port, caCert: readFileSync(render.files.caCert, 'utf8'), credentials: render.credentials }).then(
        () => true,
        () => false,
      );
      if (ready) break;
      if (waited > 30_000) throw new Error(`the registry did not start:\n${spawnSync('docker', ['logs', registryName], { encoding: 'utf8' }).stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  afterAll(() => {
    spawnSync('docker', ['rm', '-f', '-v', registryName, nodeName], { stdio: 'ignore' });
    spawnSync('docker', ['volume', 'rm', `k3s-devreg-${cluster}-registry`], { stdio: 'ignore' });
    spawnSync('docker', ['rmi', pushRef(port, 'steps')], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the daemon', async () => {
    expect(await checkDocker(run)).toMatch(/^\d+\.\d+/);
  });

  it('sees that the registry holds its port, and names the container that holds it', async () => {
    expect(await isPortFree(port)).toBe(false);
    expect(await dockerTool.containersPublishing(run, port)).toEqual([registryName]);
    const spec = { name: cluster, agents: 0, hostPort: port } as ClusterSpec;
    const facts = await inspectCluster(run, cluster).catch(() => ({ name: cluster, containers: new Map() }));
    await expect(checkHostPort(run, spec, facts)).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use by the container ${registryName}: stop it (docker stop ${registryName})`);
    const free = await freePort();
    expect(await isPortFree(free)).toBe(true);
  });

  it('reads labels and published ports with docker inspect', async () => {
    const info = await dockerTool.inspectContainer(run, registryName);
    expect(info).toMatchObject({ name: registryName, running: true, labels: { 'dev.k3s-devreg/test': '1' }, ports: { '5000/tcp': [{ hostIp: '127.0.0.1', hostPort: port }] } });
    expect(await dockerTool.inspectContainer(run, `${registryName}-missing`)).toBeUndefined();
  });

  it('inspects several containers in one call, leaving out the missing ones (docker exits 1 for them)', async () => {
    const found = await dockerTool.inspectContainers(run, [`${registryName}-missing`, registryName]);
    expect([...found.keys()]).toEqual([registryName]);
    expect(found.get(registryName)?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(found.get(registryName)?.image).not.toBe('');
    expect((await dockerTool.inspectContainers(run, [`${registryName}-missing`])).size).toBe(0);
  });

  it('creates the registry volume with our labels, keeps it, and removes only ours', async () => {
    expect(await ensureRegistryVolume(run, cluster)).toBe('created');
    expect(await ensureRegistryVolume(run, cluster)).toBe('exists');
    expect(docker(['volume', 'inspect', '--format', '{{json .Labels}}', `k3s-devreg-${cluster}-registry`])).toBe(
      JSON.stringify({ 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cluster': cluster }),
    );
    expect(await removeRegistryVolume(run, cluster)).toBe('removed');
    expect(await removeRegistryVolume(run, cluster)).toBe('absent');
    docker(['volume', 'create', '--label', LABEL, `k3s-devreg-${cluster}-registry`]);
    expect(await removeRegistryVolume(run, cluster)).toBe('not ours');
    await expect(ensureRegistryVolume(run, cluster)).rejects.toThrow('exists but was not created by k3s-devreg');
    docker(['volume', 'rm', `k3s-devreg-${cluster}-registry`]);
  });

  it("reads a node's /etc/hosts with docker exec", async () => {
    docker(['run', '-d', '--label', LABEL, '--name', nodeName, '--add-host', 'container-registry.local:10.43.0.7', busybox, 'sleep', '300']);
    const hosts = await dockerTool.execInContainer(run, nodeName, ['cat', '/etc/hosts']);
    expect(hostsAddressOf(hosts)).toBe('10.43.0.7');
    await expect(dockerTool.execInContainer(run, `${nodeName}-missing`, ['cat', '/etc/hosts'])).rejects.toThrow(/^docker could not run `cat \/etc\/hosts` in .*-missing \(exit 1: .*No such container/);
  });

  it('a restarted container has a new start time, which up reads as a restart, and docker rebuilt its /etc/hosts without added lines', async () => {
    const restarted = `${nodeName}-restart`;
    docker(['run', '-d', '--label', LABEL, '--name', restarted, busybox, 'sleep', '300']);
    try {
      const line = '10.43.0.9 container-registry.local  # managed by k3s-devreg';
      // Written in place, as the hosts DaemonSet does (a rename onto the bind-mounted file fails).
      docker(['exec', restarted, 'sh', '-c', `echo '${line}' >> /etc/hosts`]);
      const facts = (at: Map<string, dockerTool.ContainerInfo>) => ({ name: 'x', containers: at, cluster: { name: 'x', serversCount: 1, serversRunning: 1, agentsCount: 0, agentsRunning: 0, nodes: [{ name: restarted, role: 'server', running: true, status: 'running' }] } });
      const before = nodeStartTimes(facts(await dockerTool.inspectContainers(run, [restarted])));
      expect(hostsAddressOf(await dockerTool.execInContainer(run, restarted, ['cat', '/etc/hosts']))).toBe('10.43.0.9');
      docker(['restart', '-t', '0', restarted]);
      const after = nodeStartTimes(facts(await dockerTool.inspectContainers(run, [restarted])));
      expect(restartedSince(before, after)).toEqual([restarted]);
      expect(restartedSince(after, after)).toEqual([]);
      expect(hostsAddressOf(await dockerTool.execInContainer(run, restarted, ['cat', '/etc/hosts']))).toBeUndefined();
    } finally {
      spawnSync('docker', ['rm', '-f', '-v', restarted], { stdio: 'ignore' });
    }
  });

  it('probes /v2/: 401 without, 200 with the credentials, over TLS trusted through the saved CA only', async () => {
    const caCert = readFileSync(render.files.caCert, 'utf8');
    const result = await probeRegistry({ port, caCert, credentials: render.credentials });
    expect(result).toEqual({ anonymous: 401, authenticated: 200 });
    expect(probeProblem(result)).toBeUndefined();
    expect(probeProblem(await probeRegistry({ port, caCert, credentials: { username: 'devreg', password: 'wrong-password' } }))).toMatch(/answered 401, expected 200/);
    const otherCa = ensurePki({}, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now: new Date() }).pki.caCert;
    await expect(probeRegistry({ port, caCert: otherCa, credentials: render.credentials })).rejects.toThrow(/does not present a certificate signed by the state folder's CA/);
    await expect(probeRegistry({ port: await freePort(), caCert, credentials: render.credentials })).rejects.toThrow(/the registry does not answer on https:\/\/127\.0\.0\.1:\d+\/v2\/ \(ECONNREFUSED\)/);
  });

  it('logs in with the password on stdin, builds example/ FROM the local busybox and pushes it', async () => {
    const dockerConfig = join(dir, 'docker-config');
    mkdirSync(dockerConfig);
    commands.length = 0;
    // The kubectl half cannot run here: stop the round trip right after the push.
    const stopAtKubectl = async (file: string, args: readonly string[], options?: Parameters<typeof run>[2]) => {
      if (file === 'kubectl') throw new Error('STOP: no cluster here');
      return run(file, args, options);
    };
    const phases: string[] = [];
    await expect(
      verifyRoundTrip({ run: stopAtKubectl, name: cluster, hostPort: port, credentials: render.credentials, clock: systemClock, tag: 'steps', baseImage: busybox, dockerConfig, onPhase: (p) => phases.push(p) }),
    ).rejects.toThrow('STOP');
    expect(phases.slice(0, 3)).toEqual(['docker login', 'build', 'push']);
    expect(commands.slice(0, 3)).toEqual([
      `$ docker login localhost:${port} --username devreg --password-stdin <stdin>`,
      `$ docker build --tag ${pushRef(port, 'steps')} --build-arg BASE=${busybox} ${EXAMPLE_DIR}`,
      `$ docker push ${pushRef(port, 'steps')}`,
    ]);
    expect(commands.join('\n')).not.toContain(PASSWORD);
    // The image is in the registry, and says hello when run.
    const caCert = readFileSync(render.files.caCert, 'utf8');
    const tags = await new Promise<string>((resolve, reject) => {
      const auth = Buffer.from(`devreg:${PASSWORD}`).toString('base64');
      request({ host: '127.0.0.1', port, path: '/v2/hello-world-example/tags/list', ca: caCert, headers: { authorization: `Basic ${auth}` } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString())).on('end', () => resolve(body));
      })
        .on('error', reject)
        .end();
    });
    expect(JSON.parse(tags)).toEqual({ name: 'hello-world-example', tags: ['steps'] });
    expect(docker(['run', '--rm', '--label', LABEL, pushRef(port, 'steps')])).toBe('hello world from the k3s-devreg registry');
  });

  it('a wrong password fails docker login with a clear message and without echoing it', async () => {
    const dockerConfig = join(dir, 'docker-config-2');
    mkdirSync(dockerConfig);
    const error = await dockerTool
      .dockerLogin(run, { registry: `localhost:${port}`, username: 'devreg', password: 'Not-The-Password-1', dockerConfig })
      .catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(new RegExp(`^docker could not log in to localhost:${port} as devreg \\(exit 1: .*(401|unauthorized).*\\)`, 'i'));
    expect((error as Error).message).not.toContain('Not-The-Password-1');
  });
});
