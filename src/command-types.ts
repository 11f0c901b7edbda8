/**
 * What a command is, as types only: the command table (cli side) and the commands themselves both
 * use them, so they live below both and no import runs from a command back up to the table.
 */
import type { Io } from './io.js';

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean; help: string; value?: string };

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Sub-commands, e.g. `registries apply`. */
  subcommands?: string[];
  /**
   * What to run after Ctrl-C once the command had begun changing something (a step not marked
   * read-only had started); before that, and for commands without one, the line says only "interrupted".
   */
  resumeHint?: string;
  load: () => Promise<{ main: CommandMain }>;
}

export type ParsedOptions = Record<string, string | boolean | (string | boolean)[] | undefined>;
/** `signal` is aborted by Ctrl-C (cli.ts); commands hand it to their steps, prompts and waits. */
export type CommandMain = (options: ParsedOptions, positionals: string[], io: Io, signal?: AbortSignal) => Promise<number>;
