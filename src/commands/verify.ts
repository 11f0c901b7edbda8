/**
 * `verify`: the round trip on an existing cluster: log in, build example/, push it to
 * localhost:PORT, run it from container-registry.local:5000, check it says hello, clean up.
 */
import type { CommandMain } from '../command-types.js';
import { runSteps } from '../progress.js';
import { checkTools } from '../steps/preflight.js';
import { resolveTarget } from '../steps/target.js';
import { findVerifyTarget, type VerifyTarget } from '../steps/verify-target.js';
import { formatTimings, verifyRoundTrip, type PhaseTiming } from '../steps/verify.js';
import { isSet, targetFlags } from './inputs.js';

interface VerifyContext {
  target?: VerifyTarget;
  timings?: PhaseTiming[];
}

export const main: CommandMain = async ({ options }, io, deps) => {
  const verbose = isSet(options, 'verbose');
  const run = deps.runner(verbose);
  const { name, stateDir } = await resolveTarget(targetFlags(options), io);
  const ctx: VerifyContext = {};
  await runSteps<VerifyContext>(
    [
      {
        title: 'Checking docker, k3d and kubectl',
        readOnly: true,
        run: async () => {
          await checkTools(run);
        },
      },
      {
        title: `Finding the cluster ${name}`,
        readOnly: true,
        run: async (c, step) => {
          c.target = await findVerifyTarget(run, name, stateDir);
          step.title(`Cluster ${name} runs; registry at localhost:${c.target.port}`);
        },
      },
      {
        title: 'Round trip',
        run: async (c, step) => {
          const baseImage = io.env.K3S_DEVREG_EXAMPLE_BASE;
          c.timings = await verifyRoundTrip({
            run,
            name,
            hostPort: c.target!.port,
            credentials: c.target!.credentials,
            clock: deps.clock,
            signal: deps.signal,
            ...(baseImage ? { baseImage } : {}),
            onPhase: (phase) => step.title(`Round trip: ${phase}`),
          });
          step.title('Round trip: pushed, pulled and ran hello-world-example');
        },
      },
    ],
    ctx,
    { io, verbose, signal: deps.signal },
  );
  return { code: 0, out: [`Verified: the cluster ${name} pulls from its private registry. ${formatTimings(ctx.timings ?? [])}`] };
};
