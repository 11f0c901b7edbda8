/**
 * `down`: delete the cluster (only one we created). The state folder (credentials, CA) and the
 * registry volume (pushed images) stay, so the next `up` brings back the same setup.
 */
import type { CommandMain, ParsedOptions } from '../command-types.js';
import type { Io } from '../io.js';
import { runSteps, type Step } from '../progress.js';
import { registryVolumeName } from '../spec.js';
import { checkDocker, checkK3d } from '../steps/preflight.js';
import { resolveTarget } from '../steps/target.js';
import { deleteOurCluster } from '../steps/teardown.js';
import { createRunner, type Runner } from '../tools/run.js';

/** The steps `down` and `reset` share: check docker and k3d, then delete the cluster if it is ours. */
export function deleteClusterSteps(run: Runner, name: string, env: NodeJS.ProcessEnv, outcome: { result: 'deleted' | 'absent' }): Step<unknown>[] {
  return [
    {
      title: 'Checking docker and k3d',
      readOnly: true,
      run: async () => {
        await checkDocker(run);
        await checkK3d(run);
      },
    },
    {
      title: `Deleting the cluster ${name}`,
      run: async (_ctx, step) => {
        outcome.result = await deleteOurCluster(run, name, env);
        step.title(outcome.result === 'deleted' ? `Deleted the cluster ${name}` : `No cluster named ${name}`);
      },
    },
  ];
}

export async function runDown(parsed: ParsedOptions, io: Io, deps: { run: Runner; signal?: AbortSignal }): Promise<number> {
  const { name, stateDir } = await resolveTarget(parsed, io);
  const outcome: { result: 'deleted' | 'absent' } = { result: 'absent' };
  await runSteps(deleteClusterSteps(deps.run, name, io.env, outcome), {}, { io, verbose: parsed.verbose === true, ...(deps.signal ? { signal: deps.signal } : {}) });
  io.out(
    outcome.result === 'deleted'
      ? `Cluster ${name} deleted. Kept ${stateDir} (credentials, CA) and the volume ${registryVolumeName(name)} (pushed images): k3s-devreg up brings them back.`
      : `No k3d cluster named ${name}: nothing to delete.`,
  );
  return 0;
}

export const main: CommandMain = async (options, _positionals, io, signal) => {
  const run = createRunner(options.verbose === true ? (line) => io.err(line) : undefined);
  return runDown(options, io, { run, ...(signal ? { signal } : {}) });
};
