/**
 * The whole CLI (`render`, `up`, `status`, a second `up`) where everything that can be real is:
 * the real docker daemon logs in, builds example/ and pushes to the real registry, which serves the
 * state folder's certificate and htpasswd on the host port, and `status` asks it over TLS. Only k3d
 * and kubectl (and docker's questions about k3d's node containers) are answered by the stand-ins in
 * test/helpers/fake-bin, because k3s cannot run here.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../src/cli.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { dockerAvailable } from '../helpers/docker.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import { captureIo } from '../helpers/io.js';
import { httpsGet, startRenderedRegistry, type Obj } from '../helpers/registry-container.js';

const FAKE_BIN = fileURLToPath(new URL('../helpers/fake-bin', import.meta.url));
const suffix = randomBytes(4).toString('hex');
const PASSWORD = `Whole-Cli-${suffix}-Pass`;
const registryName = `k3s-devreg-test-cli-registry-${suffix}`;
const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-cli-real-'));
const home = join(work, 'home');
const state = join(home, 'devreg');
const log = join(work, 'calls.log');
let port = 0;
let exampleBase = '';

const realDocker = spawnSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).stdout.trim();
const calls = (): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean);
const READ_ONLY = /^(docker (version|container inspect|volume inspect|ps)|docker exec \S+ cat \/etc\/hosts|k3d (version|cluster list)|kubectl (version|config (current-context|get-contexts|view))|kubectl --context \S+ (--namespace \S+ )?(get|rollout status|logs) )/;
const io = () => captureIo({ env: { K3S_DEVREG_HOME: home, K3S_DEVREG_PASSWORD: PASSWORD, K3S_DEVREG_EXAMPLE_BASE: exampleBase, CI: 'true' } });
const readYaml = (file: string): Obj => parse(readFileSync(join(state, 'manifests', file), 'utf8')) as Obj;

describe.skipIf(!dockerAvailable)('the whole CLI against the real docker and registry (k3d and kubectl stand-ins)', () => {
  beforeAll(async () => {
    forgetSecretsForTests();
    // Built with the real docker, before the stand-ins go first on PATH.
    exampleBase = ensureBusyboxImage();
    mkdirSync(join(work, 'docker'), { recursive: true });
    writeFileSync(log, '');
    // The stand-in cluster exists already (as after a first `up`): its loadbalancer publishes the port
    // the real registry listens on, so preflight takes the port as the cluster's own.
    writeFileSync(join(work, 'cluster-exists'), 'exists');
    expect(await runCli(['render'], io())).toBe(0);
    const ca = readFileSync(join(state, 'pki', 'ca.crt'), 'utf8');
    port = await startRenderedRegistry({ name: registryName, dir: work, deployment: readYaml('20-deployment.yaml'), secret: readYaml('10-secret.yaml'), ca });
    vi.stubEnv('PATH', `${FAKE_BIN}:${process.env.PATH}`);
    vi.stubEnv('FAKE_TOOLS_STATE', join(work, 'cluster-exists'));
    vi.stubEnv('FAKE_TOOLS_LOG', log);
    vi.stubEnv('FAKE_REAL_DOCKER', realDocker);
    vi.stubEnv('FAKE_PORT', String(port));
    vi.stubEnv('DOCKER_CONFIG', join(work, 'docker'));
  }, 120_000);

  afterAll(() => {
    vi.unstubAllEnvs();
    // -v: the registry's data is an anonymous volume (registry-container.ts), which docker rm alone keeps.
    spawnSync('docker', ['rm', '-f', '-v', registryName]);
    spawnSync('docker', ['image', 'rm', `localhost:${port}/hello-world-example:latest`]);
    rmSync(work, { recursive: true, force: true });
  });

  it('up pushes the example with the real docker into the real registry, which then lists it', async () => {
    const out = io();
    expect(await runCli(['up', '--yes', '--port', String(port)], out), out.all()).toBe(0);
    expect(calls()).toContain(`docker push localhost:${port}/hello-world-example:latest`);
    expect(out.all()).toMatch(/Verified: pushed, pulled and ran hello-world-example/);
    expect(out.all()).not.toContain(PASSWORD);
    const ca = readFileSync(join(state, 'pki', 'ca.crt'), 'utf8');
    const catalog = await httpsGet({ port, path: '/v2/_catalog', ca, auth: `devreg:${PASSWORD}` });
    expect(JSON.parse(catalog.body.toString()).repositories).toContain('hello-world-example');
  }, 180_000);

  it('status is healthy: the registry port check asks the real registry (401 without, 200 with the credentials)', async () => {
    const out = io();
    expect(await runCli(['status'], out), out.all()).toBe(0);
    expect(out.stdout.join('\n')).toMatch(new RegExp(`^registry port +ok +https://localhost:${port}/v2/ answers 401 without and 200 with the credentials$`, 'm'));
  }, 60_000);

  it('a second up changes nothing and does not push again', async () => {
    writeFileSync(log, '');
    const out = io();
    expect(await runCli(['up', '--yes', '--port', String(port)], out), out.all()).toBe(0);
    expect(calls().filter((c) => !READ_ONLY.test(c))).toEqual([]);
    expect(out.all()).toMatch(/Verified already on \S+ and nothing changed since/);
  }, 60_000);
});
