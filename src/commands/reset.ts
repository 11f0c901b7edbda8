/**
 * `reset`: after confirmation, delete the cluster, the state folder (new CA, new credentials) and
 * the registry volume (every pushed image), then run `up` again with the same options.
 */
import type { CommandMain, ParsedOptions } from '../command-types.js';
import { canPrompt, type Io } from '../io.js';
import { ask as inquirerAsk } from '../prompt.js';
import { runSteps } from '../progress.js';
import { registryVolumeName } from '../spec.js';
import { stateRoot } from '../state/layout.js';
import { checkTools } from '../steps/preflight.js';
import { resolveTarget } from '../steps/target.js';
import { confirmReset, removeStateDir } from '../steps/teardown.js';
import { removeRegistryVolume } from '../steps/volume.js';
import { systemClock } from '../steps/wait.js';
import { createRunner } from '../tools/run.js';
import { deleteClusterSteps } from './down.js';
import { runUp, type UpDeps } from './up.js';

export async function runReset(parsed: ParsedOptions, io: Io, deps: UpDeps): Promise<number> {
  const { name, stateDir } = await resolveTarget(parsed, io);
  // Every tool that `up` needs is checked before anything is destroyed: a reset that deletes and
  // then cannot set up again leaves the user worse off than before.
  await checkTools(deps.run);
  const confirmed = await confirmReset({
    name,
    stateDir,
    yes: parsed.yes === true,
    canPrompt: canPrompt(io, parsed.yes === true),
    ...(deps.ask ? { ask: deps.ask } : {}),
  });
  if (!confirmed) {
    // Not what was asked for, so not success (as when `registries apply` is declined): scripts can tell.
    io.err('Nothing was changed.');
    return 1;
  }
  await runSteps(
    [
      ...deleteClusterSteps(deps.run, name, io.env, { result: 'absent' }),
      {
        title: `Deleting ${stateDir}`,
        run: async (_ctx, step) => {
          const result = await removeStateDir(stateDir, stateRoot(io.env));
          step.title(result === 'removed' ? `Deleted ${stateDir} (CA, credentials; kept: images/, settings.json)` : `No state folder at ${stateDir}`);
        },
      },
      {
        title: `Deleting the volume ${registryVolumeName(name)}`,
        run: async (_ctx, step) => {
          const result = await removeRegistryVolume(deps.run, name);
          const said = { removed: 'Deleted the volume', absent: 'No volume', 'not ours': 'Kept (not created by k3s-devreg) the volume' }[result];
          step.title(`${said} ${registryVolumeName(name)}`);
        },
      },
    ],
    {},
    { io, verbose: parsed.verbose === true, signal: deps.signal },
  );
  // The same cluster name as the one just reset, whatever the questions would answer.
  return runUp({ ...parsed, name }, io, deps);
}

export const main: CommandMain = async (options, _positionals, io, signal = new AbortController().signal) => {
  const run = createRunner(options.verbose === true ? (line) => io.err(line) : undefined);
  return runReset(options, io, { run, clock: systemClock, signal, ask: inquirerAsk });
};
