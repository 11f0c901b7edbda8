/**
 * `images ls | rm | prune | du` as a user runs them (runCli), against the real registry started from
 * the state folder `render` wrote (its CA, certificate and htpasswd), with a real docker push; k3d,
 * kubectl and docker's questions about the cluster answered by the fake world, because k3s cannot
 * run here (the real garbage collection is in images-housekeeping.test.ts). Asked before deleting,
 * refused without a terminal unless --yes, no password anywhere.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Question } from '../../src/ask.js';
import { runCli } from '../../src/cli.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { formatCommand, type Runner } from '../../src/tools/run.js';
import { fakeFactory } from '../helpers/commands.js';
import { dockerAvailable } from '../helpers/docker.js';
import { FakeWorld } from '../helpers/fake-cluster.js';
import { captureIo } from '../helpers/io.js';
import { startRenderedRegistry, type Obj } from '../helpers/registry-container.js';

const suffix = randomBytes(4).toString('hex');
const PASSWORD = `Images-Cli-${suffix}-Pass`;
const container = `k3s-devreg-test-images-cli-${suffix}`;
const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-images-cli-'));
const home = join(work, 'home');
const env = { K3S_DEVREG_HOME: home, K3S_DEVREG_PASSWORD: PASSWORD, CI: 'true' };
const ns = 'kubectl --context k3d-devreg --namespace container-registry';
let port = 0;
let world: FakeWorld;
const images: string[] = [];

function docker(args: string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync('docker', args, { input, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DOCKER_CONFIG: join(work, 'docker') } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function pushImage(repoTag: string): void {
  const context = mkdtempSync(join(work, 'build-'));
  writeFileSync(join(context, 'data'), randomBytes(4096));
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY data /data\n');
  const ref = `localhost:${port}/${repoTag}`;
  expect(docker(['build', '-q', '-t', ref, context]).status).toBe(0);
  images.push(docker(['image', 'inspect', '--format', '{{.Id}}', ref]).out.trim());
  const pushed = docker(['push', ref]);
  expect(pushed.status, pushed.out).toBe(0);
}

function scriptedAsk(answer: string) {
  const asked: Question[] = [];
  return { asked, ask: async (questions: Question[]) => (asked.push(...questions), Object.fromEntries(questions.map((q) => [q.name, answer]))) };
}

const cli = async (argv: string[], options: { tty?: boolean; answer?: string } = {}) => {
  const io = captureIo({ env: options.tty ? { ...env, CI: 'false' } : env, tty: options.tty ?? false });
  const asking = scriptedAsk(options.answer ?? 'no');
  // --verbose logs each command as the real runner does (tools/run.ts createRunner), through redact.
  const logging = (verbose: boolean): Runner => (file, args, opts) => (verbose && io.err(`$ ${formatCommand(file, args)}`), world.runner(file, args, opts));
  const code = await runCli(argv, io, fakeFactory(world.runner, { ask: asking.ask, runner: logging }));
  expect(io.all()).not.toContain(PASSWORD);
  return { code, io, out: io.stdout.join('\n'), err: io.stderr.join('\n'), asked: asking.asked };
};

describe.skipIf(!dockerAvailable)('images ls | rm | prune | du through the CLI, against the real registry', () => {
  beforeAll(async () => {
    forgetSecretsForTests();
    mkdirSync(join(work, 'docker'));
    world = new FakeWorld();
    expect(await runCli(['render'], captureIo({ env }), fakeFactory(world.runner))).toBe(0);
    const state = join(home, 'devreg');
    const manifest = (file: string): Obj => parse(readFileSync(join(state, 'manifests', file), 'utf8')) as Obj;
    port = await startRenderedRegistry({ name: container, dir: work, deployment: manifest('20-deployment.yaml'), secret: manifest('10-secret.yaml'), ca: readFileSync(join(state, 'pki', 'ca.crt'), 'utf8') });
    world = new FakeWorld({ cluster: FakeWorld.ourCluster('devreg', port), volumeSize: '1.5MB' })
      .override(`${ns} set env deployment/registry`, { stdout: 'deployment.apps/registry env updated' })
      .override(`${ns} exec deployment/registry`, { stdout: '3 blobs marked, 2 blobs and 0 manifests eligible for deletion' });
    world.volumes.set('k3s-devreg-devreg-registry', {});
    world.applied.set('deployment/registry', {});
    expect(docker(['login', `localhost:${port}`, '-u', 'devreg', '--password-stdin'], PASSWORD).status).toBe(0);
    for (const tag of ['demo:1', 'demo:2', 'demo:3', 'demo:4']) pushImage(tag);
  }, 180_000);

  afterAll(() => {
    spawnSync('docker', ['rm', '-f', '-v', container], { stdio: 'ignore' });
    if (images.length > 0) spawnSync('docker', ['rmi', '-f', ...images], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  });

  it('ls: a table for people, JSON for scripts', async () => {
    const table = await cli(['images', 'ls']);
    expect(table.code).toBe(0);
    expect(table.out.split('\n').filter((l) => l.startsWith('demo ')).map((l) => l.split(/\s+/)[1])).toEqual(['1', '2', '3', '4']);
    const json = await cli(['images', 'ls', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ registry: `localhost:${port}`, repositories: [{ name: 'demo', tags: [{ tag: '1' }, { tag: '2' }, { tag: '3' }, { tag: '4' }] }] });
  });

  it('rm: refused without a terminal unless --yes, asked at one, and an unknown tag is one line naming it', async () => {
    const ci = await cli(['images', 'rm', 'demo:1']);
    expect([ci.code, ci.err]).toEqual([2, 'error: images rm deletes from the registry and needs confirmation: run it again with --yes']);
    const declined = await cli(['images', 'rm', 'demo:1'], { tty: true, answer: 'no' });
    expect(declined.code).toBe(1);
    expect(declined.asked.map((q) => q.message)).toEqual([`Delete this image from localhost:${port}? (yes/no)`]);
    expect(declined.err).toContain('Nothing was changed.');
    const accepted = await cli(['images', 'rm', `localhost:${port}/demo:1`], { tty: true, answer: 'yes' });
    expect(accepted.code).toBe(0);
    expect(accepted.out).toContain('Deleted demo:1.');
    const unknown = await cli(['images', 'rm', 'demo:1', '--yes']);
    expect([unknown.code, unknown.err]).toEqual([2, 'error: demo has no tag 1: see what the registry holds with k3s-devreg images ls']);
  });

  it('prune: --keep is checked before anything runs; --yes deletes all but the newest and reports', async () => {
    const calls = world.runner.calls.length;
    const bad = await cli(['images', 'prune', '--keep', 'two']);
    expect([bad.code, bad.err]).toEqual([2, 'error: --keep "two" is not a whole number: give the images to keep per repository (tags on one image count once), e.g. --keep 3']);
    expect(world.runner.calls.length).toBe(calls);
    const pruned = await cli(['images', 'prune', '--keep', '1', '--yes']);
    expect(pruned.code, pruned.err).toBe(0);
    expect(pruned.out).toContain('Deleted 2 tag(s): demo:3, demo:2.');
    expect(pruned.out).toContain('Garbage collection removed 2 blob(s) and 0 untagged manifest(s).');
    expect(pruned.err).toContain('demo: delete 3, 2; keep 4');
    expect(world.runner.lines().filter((l) => l.startsWith(`${ns} set env`) || l.startsWith(`${ns} exec`))).toEqual([
      `${ns} set env deployment/registry --containers=registry REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}`,
      `${ns} exec deployment/registry --container registry -- /bin/registry garbage-collect --delete-untagged /etc/docker/registry/config.yml`,
      `${ns} set env deployment/registry --containers=registry REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":false}`,
    ]);
    expect(JSON.parse((await cli(['images', 'ls', '--json'])).out).repositories[0].tags.map((t: { tag: string }) => t.tag)).toEqual(['4']);
  });

  it('du: the volume docker sizes, and each repository', async () => {
    const du = await cli(['images', 'du']);
    expect(du.code).toBe(0);
    expect(du.out.split('\n')[0]).toBe('k3s-devreg-devreg-registry: 1.5MB on disk');
    expect(JSON.parse((await cli(['images', 'du', '--json'])).out)).toMatchObject({ volume: 'k3s-devreg-devreg-registry', bytes: 1_500_000, repositories: [{ name: 'demo', tags: 1 }] });
  });

  it('--verbose: ls and prune --yes log every command, and the password is nowhere in their output', async () => {
    const ls = await cli(['images', 'ls', '--verbose']);
    expect(ls.code).toBe(0);
    expect(ls.err).toMatch(/^\$ (docker|k3d) /m);
    const pruned = await cli(['images', 'prune', '--yes', '--verbose']);
    expect(pruned.code, pruned.err).toBe(0);
    expect(pruned.err).toContain(`$ ${ns} exec deployment/registry --container registry -- /bin/registry garbage-collect`);
    for (const output of [ls.io.all(), pruned.io.all()]) {
      expect(output).not.toContain(PASSWORD);
      expect(output).not.toContain(Buffer.from(`devreg:${PASSWORD}`).toString('base64'));
    }
  });

  it('a repository named like another registry (ghcr.io/org/app) is listed and removed by that name', async () => {
    pushImage('ghcr.io/org/app:1');
    expect((await cli(['images', 'ls'])).out).toMatch(/^ghcr\.io\/org\/app +1 /m);
    const removed = await cli(['images', 'rm', 'ghcr.io/org/app:1', '--yes', '--json']);
    expect(removed.code, removed.err).toBe(0);
    expect(JSON.parse(removed.out)).toEqual({ registry: `localhost:${port}`, deleted: ['ghcr.io/org/app:1'] });
    const other = await cli(['images', 'rm', `localhost:1/demo:4`, '--yes']);
    expect([other.code, other.err]).toEqual([2, `error: localhost:1 is not this cluster's registry (localhost:${port}): name the image as k3s-devreg images ls shows it, or pick the cluster with --name`]);
  });

  it('rm REPO without a tag: every tag of it goes, and ls then says the registry is empty', async () => {
    pushImage('demo:5');
    const removed = await cli(['images', 'rm', 'demo', '--yes', '--json']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.out)).toEqual({ registry: `localhost:${port}`, deleted: ['demo:4', 'demo:5'] });
    expect((await cli(['images', 'ls'])).out).toBe(`localhost:${port} holds no images. Push one: docker push localhost:${port}/NAME:TAG`);
    const gone = await cli(['images', 'rm', 'demo', '--yes']);
    expect([gone.code, gone.err]).toEqual([2, 'error: the registry has no repository demo: see what the registry holds with k3s-devreg images ls']);
  });
});
