/**
 * The onboarding flow on a real k3d cluster, run as a user runs it (the built CLI, in a child
 * process): up --yes, status, verify, images surviving a registry restart and down/up, reset --yes,
 * down. Uses its own cluster name, port, state home, kubeconfig and docker config, so it never
 * touches the developer's own setup. Without k3d, kubectl or docker it FAILS: it never skips.
 */
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, eventually, expectOk, freePort, printDiagnosticsOnFailure, readCredentials, requireE2eTools, runCli, runTool, toolOk } from './helpers.js';

const { name, work, stateDir, env } = createSandbox('e2e');
const context = `k3d-${name}`;
let port = 0;

const cli = (...args: string[]) => runCli(env, args, work);
const tool = (file: string, args: string[]) => runTool(env, file, args);
const credentials = () => readCredentials(stateDir);

/** GET /v2/_catalog on localhost:PORT (TLS checked against the state folder's CA, with the saved credentials). */
function catalogOnce(): Promise<string[]> {
  const { username, password } = credentials();
  const ca = readFileSync(join(stateDir, 'pki', 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v2/_catalog', ca, timeout: 10_000, headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          // Every failure rejects: a throw in this callback would escape the promise and hang the test.
          if (res.statusCode !== 200) return reject(new Error(`GET /v2/_catalog answered ${res.statusCode}: ${body.slice(0, 300)}`));
          try {
            resolve((JSON.parse(body) as { repositories?: string[] }).repositories ?? []);
          } catch (error) {
            reject(new Error(`GET /v2/_catalog gave no JSON (${(error as Error).message}): ${body.slice(0, 300)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('GET /v2/_catalog: no answer within 10s')));
    req.on('error', reject).end();
  });
}

/** The catalog once the registry answers (right after a pod restart or an `up` it may still be starting). */
const catalog = (): Promise<string[]> => eventually('the registry to answer GET /v2/_catalog on localhost', 120_000, catalogOnce);

describe('onboarding on a real k3d cluster', () => {
  printDiagnosticsOnFailure(env, () => [context]);

  beforeAll(async () => {
    // Loud, not skipped: an e2e run without its tools is a failed run.
    requireE2eTools(env);
    port = await freePort();
  });

  // Runs even when a test (or beforeAll) failed: nothing of the run is left behind.
  afterAll(() => {
    tool('k3d', ['cluster', 'delete', name]);
    tool('docker', ['volume', 'rm', `k3s-devreg-${name}-registry`]);
    tool('docker', ['image', 'rm', `localhost:${port}/hello-world-example:latest`, `localhost:${port}/persist:1`]);
    rmSync(work, { recursive: true, force: true });
  });

  it('up --yes creates everything and proves the round trip', () => {
    const up = cli('up', '--yes', '--name', name, '--port', String(port));
    expectOk(up);
    expect(up.stdout).toContain(`docker push localhost:${port}/my-app:dev`);
    expect(up.stdout).toContain('image: container-registry.local:5000/my-app:dev');
    expect(up.stderr).toMatch(/Verified: pushed, pulled and ran hello-world-example/);
    expect(up.all).not.toContain(credentials().password);
  });

  // How fast it is, is measured by `npm run bench`, never asserted here.
  it('a second up changes nothing', () => {
    const again = cli('up', '--yes', '--name', name, '--port', String(port), '--verbose');
    expectOk(again);
    const commands = again.stderr.split('\n').filter((l) => l.startsWith('$ '));
    // --verbose did echo the commands (else the check below would hold for any run), and they read the cluster.
    expect(commands).toContain('$ k3d cluster list --output json');
    expect(commands.some((l) => l.startsWith(`$ kubectl --context ${context} `))).toBe(true);
    // Every command is one that only reads. A list of changing verbs would miss any it does not name
    // (rollout restart, volume rm, patch, label, tag, ...).
    const readOnly = [
      /^\$ (docker|k3d|kubectl) version( |$)/,
      /^\$ k3d cluster list( |$)/,
      /^\$ docker ((container|image|volume|network) inspect|ps|volume ls|system df) /,
      /^\$ docker exec \S+ cat \/etc\/hosts$/,
      // up reads the kubeconfig's contexts with `config view --output json` (src/tools/kubectl.ts readKubeconfig).
      /^\$ kubectl config (get-contexts|current-context|view)( |$)/,
      /^\$ kubectl --context \S+ (--namespace \S+ )?(get|logs|rollout status) /,
    ];
    const changing = commands.filter((l) => !readOnly.some((re) => re.test(l)));
    expect(changing).toEqual([]);
  });

  it('status is healthy, as a table and as JSON', () => {
    const table = cli('status', '--name', name);
    expectOk(table);
    // Anchored: "not healthy: cluster ..." contains "healthy: cluster" too.
    expect(table.stdout).toMatch(new RegExp(`^healthy: cluster ${name} `, 'm'));
    const json = cli('status', '--name', name, '--json');
    expectOk(json);
    const report = JSON.parse(json.stdout) as { healthy: boolean; checks: { name: string; status: string }[] };
    expect(report.healthy).toBe(true);
    expect(report.checks.map((c) => [c.name, c.status])).toEqual(
      // The cache is on by default: up started it on the cluster's network (src/steps/status.ts, status-cache.ts).
      ['cluster', 'nodes', 'registry pod', 'registry port', 'hosts entries', 'node restarts', 'cache', 'certificate'].map((check) => [check, 'ok']),
    );
  });

  it('verify runs the round trip alone', () => {
    const verify = cli('verify', '--name', name);
    expectOk(verify);
    expect(verify.stdout).toMatch(/^Verified: .*docker login \d+\.\ds/m);
  });

  it('one name: a pod runs the image by the name docker pushed it to (localhost:PORT, mirrored on every node)', async () => {
    const pod = `one-name-${port}`;
    const image = `localhost:${port}/hello-world-example:latest`;
    toolOk(tool('kubectl', ['--context', context, 'run', pod, '--image', image, '--restart', 'Never', '--image-pull-policy', 'Always']), 'kubectl run');
    try {
      const phase = await eventually(`${pod} to succeed`, 120_000, () => {
        const now = toolOk(tool('kubectl', ['--context', context, 'get', 'pod', pod, '-o', 'jsonpath={.status.phase}']), 'kubectl get pod').trim();
        if (now !== 'Succeeded') throw new Error(`phase ${now}`);
        return now;
      });
      expect(phase).toBe('Succeeded');
      expect(toolOk(tool('kubectl', ['--context', context, 'logs', pod]), 'kubectl logs')).toContain('hello world from the k3s-devreg registry');
    } finally {
      tool('kubectl', ['--context', context, 'delete', 'pod', pod, '--ignore-not-found', '--wait=false']);
    }
  });

  it('pushed images survive a registry pod restart', async () => {
    // The image verify built; docker is logged in to localhost:PORT in the sandbox's DOCKER_CONFIG (by up/verify).
    toolOk(tool('docker', ['tag', `localhost:${port}/hello-world-example:latest`, `localhost:${port}/persist:1`]), 'docker tag');
    toolOk(tool('docker', ['push', `localhost:${port}/persist:1`]), 'docker push');
    expect(await catalog()).toContain('persist');
    const before = toolOk(tool('kubectl', ['--context', context, '-n', 'container-registry', 'get', 'pods', '-l', 'app.kubernetes.io/name=registry', '-o', 'name']), 'kubectl get pods').trim();
    toolOk(tool('kubectl', ['--context', context, '-n', 'container-registry', 'delete', 'pod', '-l', 'app.kubernetes.io/name=registry', '--wait=true', '--timeout=120s']), 'kubectl delete pod');
    toolOk(tool('kubectl', ['--context', context, '-n', 'container-registry', 'rollout', 'status', 'deployment/registry', '--timeout=180s']), 'kubectl rollout status');
    const after = toolOk(tool('kubectl', ['--context', context, '-n', 'container-registry', 'get', 'pods', '-l', 'app.kubernetes.io/name=registry', '-o', 'name']), 'kubectl get pods').trim();
    expect(before).toMatch(/^pod\/registry-\S+$/);
    expect(after, 'a new registry pod').toMatch(/^pod\/registry-\S+$/);
    expect(after, 'a new registry pod').not.toBe(before);
    // catalog() retries while the new pod is not serving yet.
    expect(await catalog()).toContain('persist');
  });

  it('down keeps the state folder and the images; up brings them back', async () => {
    const down = cli('down', '--name', name);
    expectOk(down);
    expect(down.stdout).toContain(`Cluster ${name} deleted`);
    toolOk(tool('docker', ['volume', 'inspect', `k3s-devreg-${name}-registry`]), 'the registry volume after down');
    const password = credentials().password;
    expectOk(cli('up', '--yes', '--name', name, '--port', String(port)));
    expect(credentials().password).toBe(password);
    expect(await catalog()).toContain('persist');
  });

  it('reset --yes starts over: new credentials, empty registry (but the verify image)', async () => {
    const before = credentials().password;
    expectOk(cli('reset', '--yes', '--name', name, '--port', String(port)));
    expect(credentials().password).not.toBe(before);
    expect(await catalog()).toEqual(['hello-world-example']);
  });

  it('down deletes the cluster; a second down has nothing to do and still succeeds', () => {
    expectOk(cli('down', '--name', name));
    const again = cli('down', '--name', name);
    expectOk(again);
    expect(again.stdout).toContain(`No k3d cluster named ${name}: nothing to delete.`);
  });
});
