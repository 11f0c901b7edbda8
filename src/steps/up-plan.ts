/**
 * Composes `up`'s steps so that TypeScript checks their order: each `then` takes a step whose input
 * the context built so far satisfies, and adds the step's output to it. No step re-checks at run
 * time that an earlier one ran. The runner also holds the one place up-state.json is written.
 */
import type { Step } from '../progress.js';
import type { Outcome, UpContext, UpInput, UpStep } from './up-context.js';
import { saveUpState } from './up-state.js';

export class UpPlan<C> {
  private constructor(readonly steps: readonly Step<UpContext>[]) {}

  static start(): UpPlan<UpInput> {
    return new UpPlan([]);
  }

  then<Out extends object>(step: UpStep<C, Out>): UpPlan<C & Out> {
    return new UpPlan([...this.steps, asProgressStep(step)]);
  }
}

function asProgressStep<In, Out extends object>(def: UpStep<In, Out>): Step<UpContext> {
  return {
    title: def.title,
    ...(def.readOnly ? { readOnly: true } : {}),
    run: async (ctx, handle) => {
      const save = async (patch: Parameters<typeof saveUpState>[2]) => {
        ctx.upState = await saveUpState(ctx.resolved.spec.stateDir, ctx.upState, patch);
      };
      // The plan's types guarantee what the step reads is there: `then` accepted it after the steps that add it.
      const { save: patch, ...adds }: Outcome<Out> = await def.run(ctx as unknown as In, handle, save);
      Object.assign(ctx, adds);
      if (patch) await save(patch);
    },
  };
}
