/**
 * `reset`: after confirmation, delete the cluster, the state folder (new CA, new credentials) and
 * the registry volume (every pushed image), then run `up` again with the same options.
 */
import type { CommandMain } from '../command-types.js';
import { canPrompt } from '../io.js';
import { loadGivenOptions } from '../options.js';
import { runSteps } from '../progress.js';
import { registryVolumeName } from '../spec.js';
import { stateRoot } from '../state/layout.js';
import { checkTools } from '../steps/preflight.js';
import { targetOf } from '../steps/target.js';
import { confirmReset, deleteClusterSteps, removeStateDir } from '../steps/teardown.js';
import { runUp } from '../steps/up-run.js';
import { removeRegistryVolume } from '../steps/volume.js';
import { clusterFlags, isSet, stepDeps } from './inputs.js';

export const main: CommandMain = async ({ options }, io, deps) => {
  const verbose = isSet(options, 'verbose');
  const flags = clusterFlags(options);
  const up = stepDeps(deps, verbose);
  // The flags and the team file are read and checked once, before anything is destroyed; up uses them as read.
  const teamFile = await loadGivenOptions(flags, io);
  const { name, stateDir } = targetOf(flags.name ?? teamFile.config.name, io.env);
  // Every tool that `up` needs is checked before anything is destroyed: a reset that deletes and
  // then cannot set up again leaves the user worse off than before.
  await checkTools(up.run);
  const yes = flags.yes === true;
  const confirmed = await confirmReset({ name, stateDir, yes, canPrompt: canPrompt(io, yes), ...(deps.ask ? { ask: deps.ask } : {}) });
  // Not what was asked for, so not success (as when `registries apply` is declined): scripts can tell.
  if (!confirmed) return { code: 1, notes: ['Nothing was changed.'] };
  await runSteps(
    [
      ...deleteClusterSteps(up.run, name, io.env, { result: 'absent' }),
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
          const result = await removeRegistryVolume(up.run, name);
          const said = { removed: 'Deleted the volume', absent: 'No volume', 'not ours': 'Kept (not created by k3s-devreg) the volume' }[result];
          step.title(`${said} ${registryVolumeName(name)}`);
        },
      },
    ],
    {},
    { io, verbose, signal: deps.signal },
  );
  // The same cluster name as the one just reset, whatever the questions would answer.
  const next = await runUp({ flags: { ...flags, name }, verbose, teamFile }, io, up);
  return { code: 0, out: [next] };
};
