/**
 * Every command through runCli, as bin.cts runs it, with its dependencies injected (the fake world's
 * runner or a recorded kubectl, a clock that never sleeps, a scripted ask): exit codes, what is
 * printed on stdout (the outcome cli.ts prints) and that the factory's runner is the one used.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Question } from '../../src/ask.js';
import { runCli } from '../../src/cli.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { fakeFactory } from '../helpers/commands.js';
import { FakeWorld } from '../helpers/fake-cluster.js';
import { captureIo } from '../helpers/io.js';
import { recordingRunner } from '../helpers/recording-runner.js';
import { fakeCluster } from '../helpers/writer-cluster.js';

const PASSWORD = 'Through-The-Cli-42';
let home: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'k3s-devreg-cli-deps-'));
  env = { K3S_DEVREG_HOME: home, K3S_DEVREG_PASSWORD: PASSWORD };
  forgetSecretsForTests();
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** A world where up already ran, and the factory that ran it. */
async function upWorld(): Promise<{ world: FakeWorld; factory: ReturnType<typeof fakeFactory> }> {
  const world = new FakeWorld();
  const factory = fakeFactory(world.runner);
  expect(await runCli(['up', '--yes'], captureIo({ env }), factory)).toBe(0);
  return { world, factory };
}

/** Answers every question with its default, and the yes/no one with `confirm`; records what was asked. */
function scriptedAsk(confirm: string) {
  const asked: Question[] = [];
  const ask = async (questions: Question[]) => {
    asked.push(...questions);
    return Object.fromEntries(questions.map((q) => [q.name, q.name === 'confirm' ? confirm : q.default]));
  };
  return { ask, asked };
}

describe('the cluster commands through runCli with injected dependencies', () => {
  it('up builds its runner from the factory (with --verbose), runs on it, and prints the next steps on stdout', async () => {
    const world = new FakeWorld();
    const verbose: boolean[] = [];
    const io = captureIo({ env });
    const code = await runCli(['up', '--yes', '--verbose'], io, fakeFactory(world.runner, { runner: (v) => (verbose.push(v), world.runner) }));
    expect(code).toBe(0);
    expect(verbose).toEqual([true]);
    expect(world.runner.lines()).toContain(`k3d cluster create --config ${join(home, 'devreg', 'k3d-config.yaml')}`);
    expect(io.stdout.join('\n')).toContain('Cluster devreg is ready with a private registry.');
    expect(io.stderr.join('\n')).not.toContain('is ready with a private registry');
    expect(io.all()).not.toContain(PASSWORD);
  });

  it('status prints its table, or its report as JSON, healthy with exit 0; the registry is asked through the injected probe', async () => {
    const { factory } = await upWorld();
    const table = captureIo({ env });
    expect(await runCli(['status'], table, factory)).toBe(0);
    expect(table.stdout.join('\n')).toMatch(/^registry port +ok +https:\/\/localhost:31113\/v2\/ answers 401 without and 200 with the credentials$/m);
    expect(table.stdout.join('\n')).toContain('healthy: cluster devreg (context k3d-devreg)');
    const json = captureIo({ env });
    expect(await runCli(['status', '--json'], json, factory)).toBe(0);
    const report = JSON.parse(json.stdout.join('\n')) as { healthy: boolean; checks: { name: string; status: string }[] };
    expect(report.healthy).toBe(true);
    // up started the pull-through cache on the cluster's network: its line is ok too.
    expect(report.checks.map((c) => [c.name, c.status])).toEqual(report.checks.map((c) => [c.name, 'ok']));
    expect(report.checks.map((c) => c.name)).toContain('cache');
  });

  it('verify runs the round trip on the injected runner and prints one line on stdout', async () => {
    const { world, factory } = await upWorld();
    const before = world.runner.calls.length;
    const io = captureIo({ env });
    expect(await runCli(['verify'], io, factory)).toBe(0);
    expect(world.runner.lines().slice(before)).toContain('docker push localhost:31113/hello-world-example:latest');
    expect(io.stdout).toHaveLength(1);
    expect(io.stdout[0]).toMatch(/^Verified: the cluster devreg pulls from its private registry\. /);
  });

  it('verify without a cluster is exit 2 with one error line (cli.ts maps the error)', async () => {
    const io = captureIo({ env });
    expect(await runCli(['verify'], io, fakeFactory(new FakeWorld().runner))).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr.at(-1)).toBe('error: there is no k3d cluster named devreg: create it with k3s-devreg up');
  });

  it('down deletes and says what it kept; a second down says there is nothing to delete', async () => {
    const { world, factory } = await upWorld();
    const first = captureIo({ env });
    expect(await runCli(['down'], first, factory)).toBe(0);
    expect(world.runner.lines()).toContain('k3d cluster delete devreg');
    expect(first.stdout).toEqual([
      `Cluster devreg deleted. Kept ${join(home, 'devreg')} (credentials, CA), the volume k3s-devreg-devreg-registry (pushed images) and the pull-through cache (shared by every cluster; k3s-devreg cache rm removes it): k3s-devreg up brings them back.`,
    ]);
    const again = captureIo({ env });
    expect(await runCli(['down'], again, factory)).toBe(0);
    expect(again.stdout).toEqual(['No k3d cluster named devreg: nothing to delete.']);
  });

  it('reset asks through the injected ask: no changes nothing (exit 1); yes deletes and sets up again', async () => {
    const { world } = await upWorld();
    const declined = scriptedAsk('no');
    const no = captureIo({ env, tty: true });
    expect(await runCli(['reset'], no, fakeFactory(world.runner, { ask: declined.ask }))).toBe(1);
    expect(declined.asked.map((q) => q.name)).toEqual(['confirm']);
    expect(no.stderr.at(-1)).toBe('Nothing was changed.');
    expect(world.runner.lines()).not.toContain('k3d cluster delete devreg');

    const accepted = scriptedAsk('yes');
    const yes = captureIo({ env, tty: true });
    expect(await runCli(['reset'], yes, fakeFactory(world.runner, { ask: accepted.ask }))).toBe(0);
    expect(accepted.asked[0]?.message).toContain('Delete the cluster devreg');
    // up's questions after the name (which reset keeps), with the password from the environment.
    expect(accepted.asked.slice(1).map((q) => q.name)).toEqual(['agents', 'username', 'port']);
    expect(world.runner.lines()).toContain('k3d cluster delete devreg');
    expect(yes.stdout.join('\n')).toContain('Cluster devreg is ready with a private registry.');
  });

  it('reset checks the flags and the team file before it deletes anything: a bad flag is exit 2 with the cluster still there', async () => {
    const { world, factory } = await upWorld();
    const io = captureIo({ env });
    expect(await runCli(['reset', '--yes', '--agents', 'x'], io, factory)).toBe(2);
    expect(io.stderr.at(-1)).toMatch(/^error: --agents expects a whole number, got "x"/);
    expect(world.runner.lines().filter((l) => l.startsWith('k3d cluster delete') || l.startsWith('docker volume rm'))).toEqual([]);
  });

  it('render prints where it wrote, or (--json) the files on one line', async () => {
    const io = captureIo({ env });
    const factory = fakeFactory(recordingRunner());
    expect(await runCli(['render', '--yes', '--name', 'team'], io, factory)).toBe(0);
    expect(io.stdout[0]).toMatch(new RegExp(`^Rendered into ${join(home, 'team')} \\(\\d+ file\\(s\\) written, the rest unchanged\\):$`));
    expect(io.stdout.at(-1)).toBe(`CA certificate: ${join(home, 'team', 'pki', 'ca.crt')}`);
    const json = captureIo({ env });
    expect(await runCli(['render', '--yes', '--name', 'team', '--json'], json, factory)).toBe(0);
    expect(json.stdout).toHaveLength(1);
    expect(JSON.parse(json.stdout[0]!)).toMatchObject({ caCert: join(home, 'team', 'pki', 'ca.crt') });
  });
});

describe('registries through runCli with injected dependencies', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-cli-registries-'));
  writeFileSync(join(cwd, 'registries.yaml'), 'mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com"]\n');
  afterEach(() => forgetSecretsForTests());

  it('apply --yes applies on the injected runner and prints the per-node table; status then finds every node matching', async () => {
    const runner = recordingRunner(fakeCluster());
    const factory = fakeFactory(runner);
    const io = captureIo({ cwd });
    expect(await runCli(['registries', 'apply', '--context', 'prod', '-f', 'registries.yaml', '--yes'], io, factory)).toBe(0);
    expect(runner.lines()).toContain('kubectl --context prod apply --filename -');
    const out = io.stdout.join('\n');
    expect(out).toContain('Context prod, compared with the Secret kube-system/k3s-devreg-registries:');
    expect(out).toMatch(/^s1 +server \(k3s\) +matches/m);
    expect(out).toContain('s1 (server, /etc/rancher/k3s/registries.yaml): sudo systemctl restart k3s');

    const status = captureIo({ cwd });
    expect(await runCli(['registries', 'status', '--context', 'prod', '--json'], status, factory)).toBe(0);
    expect(JSON.parse(status.stdout.join('\n'))).toMatchObject({ context: 'prod', allMatch: true, nodes: [{ node: 's1' }, { node: 'a1' }] });
  });

  it('apply without --yes and no terminal refuses (exit 2) and changes nothing', async () => {
    const runner = recordingRunner(fakeCluster());
    const io = captureIo({ cwd });
    expect(await runCli(['registries', 'apply', '--context', 'prod', '-f', 'registries.yaml'], io, fakeFactory(runner))).toBe(2);
    expect(runner.lines()).not.toContain('kubectl --context prod apply --filename -');
    expect(io.stderr.at(-1)).toBe('error: not changing the nodes of prod without confirmation: review the diff above, then run again with --yes');
  });

  it('render --json prints what it wrote as one object, and runs nothing', async () => {
    const runner = recordingRunner();
    const io = captureIo({ cwd });
    expect(await runCli(['registries', 'render', '--dir', 'out', '-f', 'registries.yaml', '--json'], io, fakeFactory(runner))).toBe(0);
    const printed = JSON.parse(io.stdout.join('\n')) as { dir: string; files: { path: string; mode: string }[] };
    expect(printed.dir).toBe(join(cwd, 'out'));
    expect(printed.files.map((f) => f.mode)).toEqual(['0600', '0644']);
    expect(runner.calls).toEqual([]);
  });
});
