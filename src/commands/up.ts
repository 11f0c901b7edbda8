/** `up`: check the tools, ask the questions, run the steps (src/steps/up-run.ts), say what is next. */
import type { CommandMain } from '../command-types.js';
import { runUp } from '../steps/up-run.js';
import { clusterFlags, isSet, stepDeps } from './inputs.js';

export const main: CommandMain = async ({ options }, io, deps) => {
  const verbose = isSet(options, 'verbose');
  const next = await runUp({ flags: clusterFlags(options), verbose }, io, stepDeps(deps, verbose));
  return { code: 0, out: [next] };
};
