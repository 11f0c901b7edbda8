import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { COMMANDS } from '../../src/command-table.js';
import { captureIo } from '../helpers/io.js';

describe('cli', () => {
  it('--help lists every command and exits 0', async () => {
    const io = captureIo();
    expect(await runCli(['--help'], io)).toBe(0);
    const lines = io.stdout.join('\n').split('\n');
    // Every command of the table, and the table holds every command the README documents.
    expect(COMMANDS.map((c) => c.name)).toEqual(['up', 'down', 'reset', 'status', 'verify', 'render', 'registries']);
    for (const command of COMMANDS) {
      // One line per command: its name, then its summary.
      const listed = lines.filter((l) => l.startsWith(`  ${command.name} `));
      expect(listed, `${command.name} in --help`).toHaveLength(1);
      expect(listed[0]!.slice(2 + command.name.length).trimStart()).toBe(command.summary);
    }
  });

  it('--version prints the package version', async () => {
    const io = captureIo();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(io.stdout).toEqual([process.env.npm_package_version ?? (await import('../../package.json', { with: { type: 'json' } })).default.version]);
  });

  it('each command has its own --help', async () => {
    for (const command of COMMANDS) {
      const io = captureIo();
      expect(await runCli([command.name, '--help'], io)).toBe(0);
      expect(io.stdout.join('\n')).toContain(`Usage: k3s-devreg ${command.usage}`);
    }
  });

  it('an unknown command or option is a one-line error with exit 2', async () => {
    const unknown = captureIo();
    expect(await runCli(['upp'], unknown)).toBe(2);
    expect(unknown.stderr).toEqual(['error: unknown command "upp": run k3s-devreg --help to see the commands']);
    const badOption = captureIo();
    expect(await runCli(['render', '--bogus'], badOption)).toBe(2);
    expect(badOption.stderr).toEqual(['error: unknown option --bogus for render: see k3s-devreg render --help for its options']);
  });

  it("node's multi-line parse errors become one sentence with the fix", async () => {
    const cases: [string[], string][] = [
      [['up', '--agents', '-1'], "error: --agents needs a value, but the next word starts with '-': write the value with '=', e.g. --agents=VALUE, or see k3s-devreg up --help"],
      [['down', '--name'], 'error: --name needs a value: pass it as --name VALUE (see k3s-devreg down --help)'],
      [['up', '--yes=1'], 'error: --yes takes no value: write just --yes'],
      [['status', '-x'], 'error: unknown option -x for status: see k3s-devreg status --help for its options'],
      [['up', '--agent', '2'], 'error: unknown option --agent for up: did you mean --agents? (see k3s-devreg up --help)'],
      [['up', '--password'], 'error: unknown option --password for up: did you mean --password-stdin? (see k3s-devreg up --help)'],
      [['status', '--jsn'], 'error: unknown option --jsn for status: did you mean --json? (see k3s-devreg status --help)'],
    ];
    for (const [argv, line] of cases) {
      const io = captureIo();
      expect(await runCli(argv, io)).toBe(2);
      expect(io.stderr).toEqual([line]);
    }
  });

  it('a stray word is an error, never a fallback to the default cluster', async () => {
    for (const command of ['down', 'reset', 'up', 'status', 'render', 'verify']) {
      const io = captureIo();
      expect(await runCli([command, 'other-cluster'], io)).toBe(2);
      expect(io.stderr).toEqual([
        `error: unexpected argument "other-cluster": name the cluster with --name other-cluster, or see k3s-devreg ${command} --help`,
      ]);
    }
  });

  it('no command prints help and exits 2', async () => {
    const io = captureIo();
    expect(await runCli([], io)).toBe(2);
    expect(io.stdout.join('\n')).toContain('Usage: k3s-devreg <command>');
  });
});
