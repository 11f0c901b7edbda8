/**
 * The steps of `up`, in order. Every step checks before it acts, so a second run on a healthy setup
 * changes nothing, and a run stopped half-way resumes. Each step names what it reads and adds
 * (up-context.ts); the plan (up-plan.ts) makes TypeScript check that what a step reads was added
 * before it, and writes up-state.json from what the steps return.
 */
import { runSteps, type ProgressOptions, type Step } from '../progress.js';
import type { UpContext, UpInput } from './up-context.js';
import { UpPlan } from './up-plan.js';
import { checkNameAndPort, checkRegistryVolume, createOrReuseCluster, writeStateFolder } from './up-steps-cluster.js';
import { startPullThroughCache } from './up-steps-cache.js';
import { checkOfflineImages } from './up-steps-offline.js';
import { applyRegistryManifests, checkKubeContext, verifyPushAndRun, waitForHosts, waitForRegistry } from './up-steps-registry.js';

export type { Adds, Reads, UpAdds, UpContext, UpDeps, UpInput, UpStep } from './up-context.js';

const plan = UpPlan.start()
  .then(checkNameAndPort)
  .then(checkOfflineImages)
  .then(writeStateFolder)
  .then(checkRegistryVolume)
  .then(startPullThroughCache)
  .then(createOrReuseCluster)
  .then(checkKubeContext)
  .then(applyRegistryManifests)
  .then(waitForRegistry)
  .then(waitForHosts)
  .then(verifyPushAndRun);

/** What every field is once all of `up`'s steps ran. */
export type UpDone = typeof plan extends UpPlan<infer C> ? C : never;

export const upSteps: readonly Step<UpContext>[] = plan.steps;

/** Runs `up`'s steps from what is known before them; returns the whole context, every field known. */
export async function runUpSteps(input: UpInput, options: ProgressOptions): Promise<UpDone> {
  const ctx: UpContext = { ...input };
  await runSteps(upSteps, ctx, options);
  return ctx as UpDone;
}

