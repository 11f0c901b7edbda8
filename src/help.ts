/**
 * The help texts and the version, from the command table alone. The build writes the plain answers
 * to quick-answers.json (write-quick-answers.ts), which bin.cts prints without loading any of this
 * (start-up time is measured in `npm run bench`).
 */
import { packageVersion } from './assets.js';
import { COMMANDS, type CommandSpec } from './command-table.js';

export const version = (): string => packageVersion();

export function mainHelp(): string {
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
    'Exit codes: 0 done; 1 a tool failed, status or doctor found a problem (cache status: a cache not running),',
    '            or a confirmation was answered no; 2 bad input, a missing prerequisite, or a confirmation',
    '            needed where none can be asked (pass --yes); 130 interrupted (Ctrl-C);',
    '            141 its output pipe was closed early (e.g. | head -1): it stops at once, as other programs do',
    '',
    'Start with: npx k3s-devreg up',
  ].join('\n');
}

/** How to call a command: its usage, or for a group (`images`) its sub-commands, each of which has its own. */
export function usageOf(command: CommandSpec): string {
  const subs = Object.keys(command.subcommands ?? {});
  if (subs.length === 0) return command.usage ?? command.name;
  return `${command.name} ${subs.join('|')} [options]   (each: k3s-devreg ${command.name} <command> --help)`;
}

/** A command's help; with `sub` (`images rm --help`), that sub-command's usage and summary first. */
export function commandHelp(command: CommandSpec, sub?: string): string {
  const rows = Object.entries(command.options).map(([long, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${long}${o.value ? ` ${o.value}` : ''}`;
    return [flag, o.help] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const subs = Object.entries(command.subcommands ?? {});
  const chosen = sub !== undefined ? command.subcommands?.[sub] : undefined;
  const subWidth = Math.max(0, ...subs.map(([name]) => name.length));
  return [
    `Usage: k3s-devreg ${chosen ? chosen.usage : usageOf(command)}`,
    '',
    chosen ? chosen.summary : command.summary,
    ...(!chosen && subs.length > 0 ? ['', 'Commands:', ...subs.map(([name, s]) => `  ${name.padEnd(subWidth)}  ${s.summary}`)] : []),
    '',
    'Options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`),
    `  ${'-h, --help'.padEnd(width)}  show this help`,
  ].join('\n');
}

/** The plain help and version requests, answered without loading the CLI: text and exit code. */
export function quickAnswer(argv: readonly string[]): { text: string; code: number } | undefined {
  if (argv.length === 0) return { text: mainHelp(), code: 2 };
  if (argv.length !== 1) return undefined;
  if (['-h', '--help', 'help'].includes(argv[0]!)) return { text: mainHelp(), code: 0 };
  if (['--version', '-V'].includes(argv[0]!)) return { text: version(), code: 0 };
  return undefined;
}

/** Every argv quickAnswer answers, keyed as bin.cts looks them up: the one argument, or '' for none. */
export function quickAnswers(): Record<string, { text: string; code: number }> {
  const argvs = [[], ['-h'], ['--help'], ['help'], ['--version'], ['-V']];
  return Object.fromEntries(argvs.map((argv) => [argv[0] ?? '', quickAnswer(argv)!]));
}
