/**
 * The command contract, as types only: the command table (cli side) and the commands themselves both
 * use them. A command takes its parsed input, an `Io` and its dependencies, and returns an `Outcome`
 * that cli.ts prints; cli.ts builds the dependencies once (src/factory.ts), so tests inject theirs.
 */
import type { Io } from './io.js';
import type { UpDeps } from './steps/up-context.js';
import type { Runner } from './tools/run.js';

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean; help: string; value?: string };

export interface CommandSpec {
  name: string;
  summary: string;
  /** One line of how to call it; a command with sub-commands has theirs instead (help.ts usageOf). */
  usage?: string;
  options: Record<string, OptionSpec>;
  /** Sub-commands, e.g. `registries apply`: each one's usage and what it does, for `<command> <sub> --help`. */
  subcommands?: Record<string, { usage: string; summary: string }>;
  /**
   * What to run after Ctrl-C once the command had begun changing something (a step not marked
   * read-only had started); before that, and for commands without one, the line says only "interrupted".
   */
  resumeHint?: string;
  load: () => Promise<{ main: CommandMain }>;
}

/** What node's parseArgs made of the words after the command name; only commands/ reads it. */
export type ParsedOptions = Record<string, string | boolean | (string | boolean)[] | undefined>;
export interface ParsedInput {
  options: ParsedOptions;
  positionals: string[];
}

/** What every run of a command gets from outside, built once per process (the real one: src/factory.ts). */
export interface Factory extends Omit<UpDeps, 'run' | 'signal'> {
  /** Starts external programs; with `verbose`, each command run is shown on stderr (secrets redacted). */
  runner(verbose: boolean): Runner;
}

/** A command's dependencies: the factory's, and the signal Ctrl-C aborts (cli.ts), for steps, prompts and waits. */
export interface Deps extends Factory {
  signal: AbortSignal;
}

/**
 * What a command ends with, printed by cli.ts: `out` lines and then `json` (two-space indented) on
 * stdout, then `notes` on stderr. Progress and diagnostics while it runs go to io.err as they happen.
 */
export interface Outcome {
  code: number;
  out?: string[];
  json?: unknown;
  notes?: string[];
}

export type CommandMain = (input: ParsedInput, io: Io, deps: Deps) => Promise<Outcome>;
