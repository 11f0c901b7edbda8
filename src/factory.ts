/**
 * The real dependencies every command gets (cli.ts builds them once per run; tests pass their own to
 * runCli). Cheap to load: execa and inquirer are imported by run.ts and prompt.ts only when used.
 */
import type { Factory } from './command-types.js';
import type { Io } from './io.js';
import { ask } from './prompt.js';
import { systemClock } from './steps/wait.js';
import { createRunner } from './tools/run.js';

export function realFactory(io: Io): Factory {
  return {
    runner: (verbose) => createRunner(verbose ? (line) => io.err(line) : undefined),
    clock: systemClock,
    ask,
  };
}
