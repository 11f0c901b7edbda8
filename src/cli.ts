/**
 * Argument parsing, the one SIGINT handler, the one catch, and exit codes: 0 success, 1 an external
 * tool failed (or status, doctor found a problem), 2 bad input or a missing prerequisite, 130 interrupted (Ctrl-C), 141 the output pipe
 * was closed (bin.cts).
 */
import { parseArgs } from 'node:util';
import { COMMANDS } from './command-table.js';
import type { CommandSpec, Factory, Outcome } from './command-types.js';
import { commandHelp, mainHelp, version } from './help.js';
import { Interrupted, isKnownError, UserError } from './errors.js';
import type { Io } from './io.js';
import { hasChanged } from './progress.js';
import { redact } from './redact.js';
import { editDistance, nearest } from './nearest.js';

type ParseOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** The command's option nearest to a mistyped one (`--agent` -> agents, `--password` -> password-stdin). */
function closestOption(command: string, typed: string): string | undefined {
  const word = typed.replace(/^-+/, '').split('=')[0] ?? '';
  const options = Object.keys(COMMANDS.find((c) => c.name === command)?.options ?? {});
  const prefixed = options.filter((o) => o.startsWith(word) || word.startsWith(o));
  if (word.length >= 3 && prefixed.length === 1) return prefixed[0];
  return nearest(word, options);
}

/** node's parseArgs errors span lines and speak of its own syntax: one sentence with the fix instead. */
export function explainParseError(command: string, message: string, args: readonly string[] = []): UserError {
  const help = `see k3s-devreg ${command} --help`;
  const option = /Option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
  if (option && message.includes('argument missing')) return new UserError(`${option} needs a value`, `pass it as ${option} VALUE (${help})`);
  if (option && message.includes('ambiguous')) {
    // Every number an option takes (agents, port, keep) is 0 or more: `--agents -1` is not a quoting problem.
    const next = args[args.indexOf(option) + 1];
    if (next !== undefined && /^-\d+$/.test(next)) return new UserError(`${option} ${next}: a negative number is never valid here`, `${help} for what ${option} takes`);
    return new UserError(`${option} needs a value, but the next word starts with '-'`, `write the value with '=', e.g. ${option}=VALUE, or ${help}`);
  }
  if (option && message.includes('does not take an argument')) return new UserError(`${option} takes no value`, `write just ${option}`);
  const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
  if (unknown) {
    const guess = closestOption(command, unknown);
    return new UserError(`unknown option ${unknown} for ${command}`, guess ? `did you mean --${guess}? (${help})` : `${help} for its options`);
  }
  return new UserError(message.split('\n')[0] ?? message, help);
}

function parseArgsOrExplain(command: string, args: string[], options: ParseOptions) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw explainParseError(command, (error as Error).message, args);
    throw error;
  }
}

function findCommand(word: string, io: Io): CommandSpec | undefined {
  const command = COMMANDS.find((c) => c.name === word);
  if (!command) io.err(`error: ${unknownCommand(word)}`);
  return command;
}

/** A command typed wrong gets the nearest one (`upp`, `uo`: up); an option before any command says where options go. */
function unknownCommand(word: string): string {
  if (word.startsWith('-')) {
    const top = editDistance(word, '--version') <= 2 ? '--version' : editDistance(word, '--help') <= 2 ? '--help' : undefined;
    if (top) return `unknown option ${word}: did you mean ${top}?`;
    return `${word} before the command: options follow it (k3s-devreg <command> [options]); run k3s-devreg --help to see the commands`;
  }
  // Command names are short: one edit for the shortest (`up`), as for a two-letter word nothing else would do.
  const guess = COMMANDS.map((c) => c.name).find((name) => editDistance(word, name) <= (name.length <= 4 ? 1 : 2));
  return `unknown command ${JSON.stringify(word)}: ${guess ? `did you mean ${guess}? (` : ''}run k3s-devreg --help to see the commands${guess ? ')' : ''}`;
}

/** Prints what a command ended with: its lines and JSON on stdout, then its notes on stderr. */
export function printOutcome(outcome: Outcome, io: Io): number {
  for (const line of outcome.out ?? []) io.out(line);
  if (outcome.json !== undefined) io.out(JSON.stringify(outcome.json, null, 2));
  for (const line of outcome.notes ?? []) io.err(line);
  return outcome.code;
}

/** `factory`: the commands' dependencies (default: the real ones, src/factory.ts, loaded only when a command runs). */
export async function runCli(argv: string[], io: Io, factory?: Factory): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    // `help up` and `--help up` mean `up --help`.
    const [topic] = rest;
    if (first === undefined || topic === undefined) {
      io.out(mainHelp());
      return first === undefined ? 2 : 0;
    }
    const command = findCommand(topic, io);
    if (!command) return 2;
    io.out(commandHelp(command));
    return 0;
  }
  if (first === '--version' || first === '-V') {
    io.out(version());
    return 0;
  }
  const command = findCommand(first, io);
  if (!command) return 2;
  if (rest.includes('--help') || rest.includes('-h')) {
    const [sub] = rest;
    io.out(commandHelp(command, sub !== undefined && command.subcommands && Object.hasOwn(command.subcommands, sub) ? sub : undefined));
    return 0;
  }
  return interruptible(io, command, async (signal) => {
    const options = Object.fromEntries(
      Object.entries(command.options).map(([long, o]) => [
        long,
        { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
      ]),
    );
    const parsed = parseArgsOrExplain(command.name, rest, options);
    // A stray word (`down other`) must not fall back to the default cluster.
    const [stray] = parsed.positionals;
    if (!command.subcommands && stray !== undefined) {
      throw new UserError(`unexpected argument ${JSON.stringify(stray)}`, `name the cluster with --name ${stray}, or see k3s-devreg ${command.name} --help`);
    }
    const [module, deps] = await Promise.all([command.load(), factory ?? import('./factory.js').then((f) => f.realFactory(io))]);
    return printOutcome(await module.main({ options: parsed.values, positionals: parsed.positionals }, io, { ...deps, signal }), io);
  });
}

/** One line: the command's resume hint only once it had begun changing something (see progress.ts). */
function interruptedLine(command: Pick<CommandSpec, 'resumeHint'>, signal: AbortSignal): string {
  if (command.resumeHint === undefined) return 'interrupted';
  return hasChanged(signal) ? `interrupted: ${command.resumeHint}` : 'interrupted: nothing was changed';
}

/**
 * Runs a command with the one SIGINT handler and the one catch. The first Ctrl-C aborts the signal:
 * prompts, waits and steps stop, and however the command then ends (a child killed by the same
 * Ctrl-C fails too) it is exit 130 with one line. A second Ctrl-C exits at once, with that line.
 */
export async function interruptible(io: Io, command: Pick<CommandSpec, 'resumeHint'>, body: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  const interrupted = () => {
    io.err(interruptedLine(command, controller.signal));
    return 130;
  };
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(interrupted());
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const code = await body(controller.signal);
    return controller.signal.aborted ? interrupted() : code;
  } catch (error) {
    return error instanceof Interrupted || controller.signal.aborted ? interrupted() : reportError(error, io);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function reportError(error: unknown, io: Io): number {
  if (isKnownError(error)) {
    io.err(`error: ${error.message}`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.err(`error: unexpected failure: ${redact(message)}`);
  io.err('This is a bug in k3s-devreg; please report it with the command you ran.');
  return 1;
}
