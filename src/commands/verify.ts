/**
 * `verify`: the round trip on an existing cluster: log in, build example/, push it to
 * localhost:PORT, run it from container-registry.local:5000, check it says hello, clean up.
 */
import type { CommandMain, ParsedOptions } from '../command-types.js';
import { UserError } from '../errors.js';
import type { Io } from '../io.js';
import { runSteps } from '../progress.js';
import { readCredentials } from '../state/credentials.js';
import { statePath } from '../state/layout.js';
import { checkTools, inspectCluster, isRunning, publishedRegistryPort, refuseForeign } from '../steps/preflight.js';
import { resolveTarget } from '../steps/target.js';
import { formatTimings, verifyRoundTrip, type PhaseTiming } from '../steps/verify.js';
import { systemClock, type Clock } from '../steps/wait.js';
import { createRunner, type Runner } from '../tools/run.js';

export interface VerifyDeps {
  run: Runner;
  clock: Clock;
  signal: AbortSignal;
}

interface VerifyContext {
  port?: number;
  credentials?: { username: string; password: string };
  timings?: PhaseTiming[];
}

export async function runVerify(parsed: ParsedOptions, io: Io, deps: VerifyDeps): Promise<number> {
  const { name, stateDir } = await resolveTarget(parsed, io);
  const ctx: VerifyContext = {};
  await runSteps<VerifyContext>(
    [
      {
        title: 'Checking docker, k3d and kubectl',
        readOnly: true,
        run: async () => {
          await checkTools(deps.run);
        },
      },
      {
        title: `Finding the cluster ${name}`,
        readOnly: true,
        run: async (c, step) => {
          const facts = await inspectCluster(deps.run, name);
          refuseForeign(facts);
          if (!facts.cluster) throw new UserError(`there is no k3d cluster named ${name}`, 'create it with k3s-devreg up');
          if (!isRunning(facts)) throw new UserError(`the cluster ${name} is not running`, 'start it with k3s-devreg up');
          c.port = publishedRegistryPort(facts);
          if (c.port === undefined) throw new UserError(`the cluster ${name} publishes no registry port`, 'run k3s-devreg down, then up');
          c.credentials = await readCredentials(stateDir);
          if (!c.credentials) throw new UserError(`no credentials at ${statePath(stateDir, 'credentials')}`, 'run k3s-devreg up (or reset, if the state folder was lost)');
          step.title(`Cluster ${name} runs; registry at localhost:${c.port}`);
        },
      },
      {
        title: 'Round trip',
        run: async (c, step) => {
          const baseImage = io.env.K3S_DEVREG_EXAMPLE_BASE;
          c.timings = await verifyRoundTrip({
            run: deps.run,
            name,
            hostPort: c.port!,
            credentials: c.credentials!,
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
    { io, verbose: parsed.verbose === true, signal: deps.signal },
  );
  io.out(`Verified: the cluster ${name} pulls from its private registry. ${formatTimings(ctx.timings ?? [])}`);
  return 0;
}

export const main: CommandMain = async (options, _positionals, io, signal = new AbortController().signal) => {
  const run = createRunner(options.verbose === true ? (line) => io.err(line) : undefined);
  return runVerify(options, io, { run, clock: systemClock, signal });
};
