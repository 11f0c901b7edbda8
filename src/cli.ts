/**
 * Argument parsing, the one catch, and exit codes: 0 success, 1 an external tool failed,
 * 2 bad input or a missing prerequisite, 130 interrupted (set by the commands that handle Ctrl-C).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COMMANDS, type CommandSpec } from './command-table.js';
import { isKnownError, UserError } from './errors.js';
import { processIo, type Io } from './io.js';
import { redact } from './redact.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'k3s-devreg: a local k3d cluster with a private TLS registry it trusts, in one command',
    '',
    'Usage: k3s-devreg <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also: k3s-devreg <command> --help)',
    '  --version      print the version',
    '',
    'Start with: npx k3s-devreg up',
  ].join('\n');
}

function commandHelp(command: CommandSpec): string {
  const rows = Object.entries(command.options).map(([long, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${long}${o.value ? ` ${o.value}` : ''}`;
    return [flag, o.help] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    `Usage: k3s-devreg ${command.usage}`,
    '',
    command.summary,
    '',
    'Options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`),
    `  ${'-h, --help'.padEnd(width)}  show this help`,
  ].join('\n');
}

export async function runCli(argv: string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.out(mainHelp());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    io.out(version());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    io.err(`error: unknown command ${JSON.stringify(first)}: run k3s-devreg --help to see the commands`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    const options = Object.fromEntries(
      Object.entries(command.options).map(([long, o]) => [
        long,
        { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
      ]),
    );
    const parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    // A stray word (`down other`) must not fall back to the default cluster.
    const [stray] = parsed.positionals;
    if (!command.subcommands && stray !== undefined) {
      throw new UserError(`unexpected argument ${JSON.stringify(stray)}`, `name the cluster with --name ${stray}, or see k3s-devreg ${command.name} --help`);
    }
    const module = await command.load();
    return await module.main(parsed.values, parsed.positionals, io);
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: Io): number {
  if (isKnownError(error)) {
    io.err(`error: ${error.message}`);
    return error.exitCode;
  }
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    io.err(`error: ${(error as Error).message}: run with --help to see the options`);
    return 2;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.err(`error: unexpected failure: ${redact(message)}`);
  io.err('This is a bug in k3s-devreg; please report it with the command you ran.');
  return 1;
}
