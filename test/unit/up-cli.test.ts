/**
 * The real CLI (runCli -> command main -> real Runner -> child processes) against stand-ins for
 * docker, k3d and kubectl on PATH (test/helpers/fake-bin): exit codes, the one error line, --verbose
 * command echoes without secrets, and a second `up` whose child processes only read.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { captureIo } from '../helpers/io.js';
import { freePort } from '../helpers/tools.js';

const FAKE_BIN = fileURLToPath(new URL('../helpers/fake-bin', import.meta.url));
const PASSWORD = 'Cli-Test-Password-77';
let work: string;
let log: string;
let port: number;

const calls = (): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean);
const READ_ONLY = /^(docker (version|container inspect|volume inspect|ps)|docker exec \S+ cat \/etc\/hosts|k3d (version|cluster list)|kubectl (version|config (current-context|get-contexts|view))|kubectl --context \S+ (--namespace \S+ )?(get|rollout status|logs) )/;

beforeEach(async () => {
  forgetSecretsForTests();
  work = mkdtempSync(join(tmpdir(), 'k3s-devreg-cli-'));
  log = join(work, 'calls.log');
  writeFileSync(log, '');
  port = await freePort();
  vi.stubEnv('PATH', `${FAKE_BIN}:${process.env.PATH}`);
  vi.stubEnv('FAKE_TOOLS_LOG', log);
  vi.stubEnv('FAKE_TOOLS_STATE', join(work, 'cluster-exists'));
  vi.stubEnv('FAKE_PORT', String(port));
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(work, { recursive: true, force: true });
});

const io = (extra: NodeJS.ProcessEnv = {}) => captureIo({ env: { K3S_DEVREG_HOME: join(work, 'home'), K3S_DEVREG_PASSWORD: PASSWORD, ...extra } });

describe('k3s-devreg up/status/down through the CLI', () => {
  it('up, then up --verbose again: the second run only reads, and echoes commands without secrets', async () => {
    const first = io();
    expect(await runCli(['up', '--yes', '--port', String(port)], first)).toBe(0);
    expect(calls()).toContain(`k3d cluster create --config ${join(work, 'home', 'devreg', 'k3d-config.yaml')}`);
    expect(first.stdout.join('\n')).toContain(`docker push localhost:${port}/my-app:dev`);

    writeFileSync(log, '');
    const second = io();
    expect(await runCli(['up', '--yes', '--port', String(port), '--verbose'], second)).toBe(0);
    expect(calls().filter((c) => !READ_ONLY.test(c))).toEqual([]);
    expect(second.stderr).toContain('$ k3d cluster list --output json');
    expect(second.stderr.filter((l) => l.startsWith('$ ')).length).toBe(calls().length);
    expect(first.all() + second.all()).not.toContain(PASSWORD);
  });

  it('status prints a table and exits 1 when a check fails (nothing answers on the registry port here)', async () => {
    expect(await runCli(['up', '--yes', '--port', String(port)], io())).toBe(0);
    const status = io();
    expect(await runCli(['status'], status)).toBe(1);
    const table = status.stdout.join('\n');
    expect(table).toMatch(/^cluster +ok +1\/1 server\(s\), 1\/1 agent\(s\) running$/m);
    expect(table).toMatch(/^registry port +FAIL +the registry does not answer on https:\/\/127\.0\.0\.1:\d+\/v2\/ \(ECONNREFUSED\)\n +fix: run k3s-devreg up$/m);
    const json = io();
    expect(await runCli(['status', '--json'], json)).toBe(1);
    expect(JSON.parse(json.stdout.join('\n'))).toMatchObject({ cluster: 'devreg', context: 'k3d-devreg', healthy: false, registry: `localhost:${port}` });
  });

  it('down deletes, a second down has nothing to do; both exit 0', async () => {
    expect(await runCli(['up', '--yes', '--port', String(port)], io())).toBe(0);
    const down = io();
    expect(await runCli(['down'], down)).toBe(0);
    expect(calls()).toContain('k3d cluster delete devreg');
    const again = io();
    expect(await runCli(['down'], again)).toBe(0);
    expect(again.stdout).toEqual(['No k3d cluster named devreg: nothing to delete.']);
  });

  it('without docker, k3d and kubectl on PATH: one error line naming all three with their fixes, exit 2, nothing run', async () => {
    vi.stubEnv('PATH', join(work, 'empty'));
    const out = io();
    expect(await runCli(['up', '--yes'], out)).toBe(2);
    expect(out.stderr.at(-1)).toBe(
      'error: docker, k3d and kubectl are not installed (or not on PATH): install Docker from https://docs.docker.com/get-docker/ and make sure `docker` is on your PATH; install it from https://k3d.io (v5.5.0 or newer) and make sure `k3d` is on your PATH; install it from https://kubernetes.io/docs/tasks/tools/ and make sure `kubectl` is on your PATH',
    );
    expect(calls()).toEqual([]);
  });

  it('a bad flag is reported before the tools are even looked for', async () => {
    vi.stubEnv('PATH', join(work, 'empty'));
    const out = io();
    expect(await runCli(['up', '--yes', '--agents', 'x'], out)).toBe(2);
    expect(out.stderr.at(-1)).toBe('error: --agents expects a whole number, got "x": pass e.g. --agents 1');
    expect(calls()).toEqual([]);
  });

  it('the team config file names the cluster for down and status too', async () => {
    const cwd = mkdtempSync(join(work, 'repo-'));
    writeFileSync(join(cwd, 'k3s-devreg.yaml'), 'name: team\n');
    vi.stubEnv('FAKE_CLUSTER', 'team');
    const down = captureIo({ env: { K3S_DEVREG_HOME: join(work, 'home') }, cwd });
    expect(await runCli(['down'], down)).toBe(0);
    // The list and the inspect of the nodes k3d would name run at the same time: their order is not fixed.
    // With no cluster, down still looks for the network up made for the cache (none here).
    expect(calls().sort()).toEqual([
      'docker container inspect k3d-team-server-0 k3d-team-serverlb k3d-team-agent-0',
      'docker network inspect k3d-team',
      'docker version --format {{.Server.Version}}',
      'k3d cluster list --output json',
      'k3d version',
    ]);
    expect(down.stdout).toEqual(['No k3d cluster named team: nothing to delete.']);
  });
});

describe('Ctrl-C at a terminal (the built CLI in its own process group, signalled like a terminal does)', () => {
  const bin = fileURLToPath(new URL('../../dist/bin.cjs', import.meta.url));

  it('while k3d creates the cluster: k3d and up stop, exit 130 with a resume hint; the next up deletes the leftover and creates it again', async () => {
    const hang = join(work, 'k3d-create.pid');
    const env = { ...process.env, K3S_DEVREG_HOME: join(work, 'home'), K3S_DEVREG_PASSWORD: PASSWORD, FAKE_CREATE_HANG: hang, CI: 'true' };
    const child = spawn(process.execPath, [bin, 'up', '--yes', '--port', String(port)], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await vi.waitFor(() => expect(existsSync(hang) && readFileSync(hang, 'utf8')).toMatch(/^\d+$/), { timeout: 45_000, interval: 50 });
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('interrupted: run k3s-devreg up again to resume where it stopped');
    expect(stderr).not.toContain(PASSWORD);
    // The stand-in k3d is gone too: nothing keeps running after Ctrl-C.
    expect(() => process.kill(Number(readFileSync(hang, 'utf8')), 0)).toThrow(/ESRCH/);

    writeFileSync(log, '');
    const again = io();
    expect(await runCli(['up', '--yes', '--port', String(port)], again)).toBe(0);
    const changing = calls().filter((c) => !READ_ONLY.test(c));
    expect(changing.slice(0, 2)).toEqual(['k3d cluster delete devreg', `k3d cluster create --config ${join(work, 'home', 'devreg', 'k3d-config.yaml')}`]);
  }, 30_000);
});
