import { describe, expect, it, vi } from 'vitest';
import { interruptible, runCli } from '../../src/cli.js';
import { COMMANDS } from '../../src/command-table.js';
import { ToolError } from '../../src/errors.js';
import { runSteps } from '../../src/progress.js';
import { usageOf } from '../../src/help.js';
import { captureIo } from '../helpers/io.js';

describe('cli', () => {
  it('--help lists every command and exits 0', async () => {
    const io = captureIo();
    expect(await runCli(['--help'], io)).toBe(0);
    const lines = io.stdout.join('\n').split('\n');
    // Every command of the table, and the table holds every command the README documents.
    expect(COMMANDS.map((c) => c.name)).toEqual(['up', 'down', 'reset', 'status', 'verify', 'render', 'registries', 'cache', 'images', 'doctor']);
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
      expect(io.stdout.join('\n')).toContain(`Usage: k3s-devreg ${usageOf(command)}`);
    }
  });

  it('help CMD and --help CMD print that command\'s help; an unknown one is a one-line error, exit 2', async () => {
    for (const command of COMMANDS) {
      for (const argv of [['help', command.name], ['--help', command.name], ['-h', command.name]]) {
        const io = captureIo();
        expect(await runCli(argv, io), argv.join(' ')).toBe(0);
        const own = captureIo();
        await runCli([command.name, '--help'], own);
        expect(io.stdout, argv.join(' ')).toEqual(own.stdout);
      }
    }
    const unknown = captureIo();
    expect(await runCli(['help', 'x'], unknown)).toBe(2);
    expect(unknown.stdout).toEqual([]);
    expect(unknown.stderr).toEqual(['error: unknown command "x": run k3s-devreg --help to see the commands']);
    const plain = captureIo();
    expect(await runCli(['help'], plain)).toBe(0);
    expect(plain.stdout.join('\n')).toContain('Usage: k3s-devreg <command>');
  });

  it('a sub-command has its own help: its usage and what it does, then the group\'s options', async () => {
    for (const command of COMMANDS) {
      for (const [sub, { usage, summary }] of Object.entries(command.subcommands ?? {})) {
        const io = captureIo();
        expect(await runCli([command.name, sub, '--help'], io)).toBe(0);
        const text = io.stdout.join('\n');
        expect(text.startsWith(`Usage: k3s-devreg ${command.name} ${sub}`), `${command.name} ${sub}`).toBe(true);
        expect(text.split('\n').slice(0, 3)).toEqual([`Usage: k3s-devreg ${usage}`, '', summary]);
        expect(text).toContain('Options:');
      }
    }
    const group = captureIo();
    await runCli(['images', '--help'], group);
    expect(group.stdout.join('\n')).toMatch(/^Commands:\n  ls +every repository/m);
  });

  it('an unknown command or option is a one-line error with exit 2', async () => {
    const unknown = captureIo();
    expect(await runCli(['upp'], unknown)).toBe(2);
    expect(unknown.stderr).toEqual(['error: unknown command "upp": did you mean up? (run k3s-devreg --help to see the commands)']);
    for (const [argv, line] of [
      [['uo'], 'error: unknown command "uo": did you mean up? (run k3s-devreg --help to see the commands)'],
      [['doctr'], 'error: unknown command "doctr": did you mean doctor? (run k3s-devreg --help to see the commands)'],
      [['frobnicate'], 'error: unknown command "frobnicate": run k3s-devreg --help to see the commands'],
      [['--versoin'], 'error: unknown option --versoin: did you mean --version?'],
      [['--name', 'x', 'up'], 'error: --name before the command: options follow it (k3s-devreg <command> [options]); run k3s-devreg --help to see the commands'],
    ] as const) {
      const io = captureIo();
      expect(await runCli([...argv], io), argv.join(' ')).toBe(2);
      expect(io.stderr).toEqual([line]);
    }
    const badOption = captureIo();
    expect(await runCli(['render', '--bogus'], badOption)).toBe(2);
    expect(badOption.stderr).toEqual(['error: unknown option --bogus for render: see k3s-devreg render --help for its options']);
  });

  it("node's multi-line parse errors become one sentence with the fix", async () => {
    const cases: [string[], string][] = [
      [['up', '--agents', '-1'], 'error: --agents -1: a negative number is never valid here: see k3s-devreg up --help for what --agents takes'],
      [['up', '--name', '--yes'], "error: --name needs a value, but the next word starts with '-': write the value with '=', e.g. --name=VALUE, or see k3s-devreg up --help"],
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

describe('Ctrl-C: the one handler in cli.ts, exit 130 and one line', () => {
  const spec = (resumeHint?: string) => (resumeHint === undefined ? {} : { resumeHint });
  const step = (readOnly: boolean) => ({ title: 'a step', readOnly, run: async () => void process.emit('SIGINT') });

  it('the resume hint only once a step that changes something has started', async () => {
    const looking = captureIo();
    expect(await interruptible(looking, spec('run it again'), (signal) => runSteps([step(true), step(false)], {}, { io: looking, signal }).then(() => 0))).toBe(130);
    expect(looking.stderr.at(-1)).toBe('interrupted: nothing was changed');
    const changing = captureIo();
    expect(await interruptible(changing, spec('run it again'), (signal) => runSteps([step(false)], {}, { io: changing, signal }).then(() => 0))).toBe(130);
    expect(changing.stderr.at(-1)).toBe('interrupted: run it again');
    // The marking belongs to one run: the next one starts unchanged.
    const next = captureIo();
    expect(await interruptible(next, spec('run it again'), async () => {
      process.emit('SIGINT');
      return 0;
    })).toBe(130);
    expect(next.stderr).toEqual(['interrupted: nothing was changed']);
  });

  it('a command without a resume hint says only "interrupted"; an error after Ctrl-C (a child it killed) is the interrupt', async () => {
    const io = captureIo();
    const code = await interruptible(io, spec(), async () => {
      process.emit('SIGINT');
      throw new ToolError('openssl failed', 'check openssl');
    });
    expect(code).toBe(130);
    expect(io.stderr).toEqual(['interrupted']);
  });

  it('a second Ctrl-C exits at once with the same line; the handler is gone afterwards', async () => {
    const listeners = process.listenerCount('SIGINT');
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      const io = captureIo();
      await interruptible(io, spec('run it again'), async () => {
        process.emit('SIGINT');
        process.emit('SIGINT');
        return 0;
      });
      expect(exit).toHaveBeenCalledWith(130);
      expect(io.stderr[0]).toBe('interrupted: nothing was changed');
    } finally {
      exit.mockRestore();
    }
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });
});
