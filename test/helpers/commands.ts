/**
 * Running commands the way bin.cts does, with injected dependencies: runCli with a Factory of stand-ins
 * (a recording runner, a fake clock, a scripted ask), or one command's main printed as cli.ts prints it.
 */
import { printOutcome } from '../../src/cli.js';
import { COMMANDS } from '../../src/command-table.js';
import type { Deps, Factory, ParsedOptions } from '../../src/command-types.js';
import type { Io } from '../../src/io.js';
import type { Runner } from '../../src/tools/run.js';
import { fakeClock } from './fake-clock.js';

const healthyRegistry = async () => ({ anonymous: 401, authenticated: 200 });

/** Stand-ins for everything a command gets from outside: this runner, a clock that never sleeps, a free port, a healthy registry. */
export function fakeFactory(runner: Runner, extra: Partial<Factory> = {}): Factory {
  return { runner: () => runner, clock: fakeClock(), portProbe: async () => true, registryProbe: healthyRegistry, ...extra };
}

/** The words on a command line for these options: `{ yes: true, agents: '2' }` is `--yes --agents 2`. */
export function argvOf(options: Record<string, unknown>): string[] {
  return Object.entries(options).flatMap(([key, value]) => {
    if (value === true) return [`--${key}`];
    if (value === false || value === undefined) return [];
    return [`--${key}`, String(value)];
  });
}

/**
 * One command's main with these options, its outcome printed as cli.ts prints it; unlike runCli,
 * an error is thrown to the test (which asserts on its problem and fix).
 */
export async function runCommand(name: string, options: ParsedOptions, io: Io, factory: Factory, positionals: string[] = []): Promise<number> {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new Error(`no command ${name}`);
  const deps: Deps = { ...factory, signal: new AbortController().signal };
  const { main } = await command.load();
  return printOutcome(await main({ options, positionals }, io, deps), io);
}
