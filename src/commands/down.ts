/**
 * `down`: delete the cluster (only one we created). The state folder (credentials, CA) and the
 * registry volume (pushed images) stay, so the next `up` brings back the same setup.
 */
import type { CommandMain } from '../command-types.js';
import { runSteps } from '../progress.js';
import { registryVolumeName } from '../spec.js';
import { resolveTarget } from '../steps/target.js';
import { deleteClusterSteps } from '../steps/teardown.js';
import { isSet, targetFlags } from './inputs.js';

export const main: CommandMain = async ({ options }, io, deps) => {
  const verbose = isSet(options, 'verbose');
  const { name, stateDir } = await resolveTarget(targetFlags(options), io);
  const outcome: { result: 'deleted' | 'absent' } = { result: 'absent' };
  await runSteps(deleteClusterSteps(deps.runner(verbose), name, io.env, outcome), {}, { io, verbose, signal: deps.signal });
  const said =
    outcome.result === 'deleted'
      ? `Cluster ${name} deleted. Kept ${stateDir} (credentials, CA), the volume ${registryVolumeName(name)} (pushed images) and the pull-through cache (shared by every cluster; k3s-devreg cache rm removes it): k3s-devreg up brings them back.`
      : `No k3d cluster named ${name}: nothing to delete.`;
  return { code: 0, out: [said] };
};
