/**
 * The types `up`'s steps share: what `up` starts with (`UpInput`), what the steps add (`UpAdds`),
 * and the shape of one step, which names what it reads and what it adds (as create-astro's actions
 * take a `Pick<Context, ...>`, withastro/astro packages/create-astro/src/actions), so that the
 * plan in up-plan.ts checks the order at compile time.
 */
import type { Ask } from '../ask.js';
import type { CacheUpstream } from '../cache/spec.js';
import type { Io } from '../io.js';
import type { ResolvedOptions } from '../options.js';
import type { StepHandle } from '../progress.js';
import type { LiveObject } from '../tools/kubectl.js';
import type { Runner } from '../tools/run.js';
import type { KubeContextState } from './kubeconfig.js';
import type { ClusterFacts } from './preflight.js';
import type { probeRegistry } from './registry-probe.js';
import type { RenderResult } from './render-state.js';
import type { UpState, UpStatePatch } from './up-state.js';
import type { Clock } from './wait.js';

export interface UpDeps {
  run: Runner;
  clock: Clock;
  signal: AbortSignal;
  ask?: Ask;
  /** Checks the host port; injected by tests (default: try to listen on it). */
  portProbe?: (port: number) => Promise<boolean>;
  /** Bounds of the waits, in seconds (defaults: 180 for the rollouts, 90 for the hosts entries). */
  waits?: { rolloutSeconds: number; hostsSeconds: number };
  /** Asks the registry on the host port; injected by tests (default: real https requests). */
  registryProbe?: typeof probeRegistry;
}

/** What `up` knows before its first step. */
export interface UpInput {
  io: Io;
  deps: UpDeps;
  resolved: ResolvedOptions;
  /** What the last `up` saved; only the plan's runner replaces it (up-plan.ts), through saveUpState. */
  upState: UpState;
}

/** What the steps add, each field by the step that finds it out. */
export interface UpAdds {
  facts: ClusterFacts;
  /** The pull-through cache's upstreams, credentials resolved in the first step ([] when it is off). */
  cacheUpstreams: CacheUpstream[];
  render: RenderResult;
  clusterAction: string;
  /** Nodes that docker started since the last up (a docker or machine restart), which lost the hosts line. */
  restartedNodes: string[];
  kube: KubeContextState;
  manifestsFingerprint: string;
  /** Our objects as read when nothing needed applying (their rollout status and the Service IP). */
  live?: LiveObject[];
  verified: string;
}

/** The context as a whole run sees it from outside: the adds are there once their step ran. */
export type UpContext = UpInput & Partial<UpAdds>;

type UpFields = UpInput & UpAdds;
/** The fields a step reads. */
export type Reads<K extends keyof UpFields> = Pick<UpFields, K>;
/** The fields a step adds. */
export type Adds<K extends keyof UpAdds> = Pick<UpAdds, K>;

/** Saves fields of up-state.json at once (a field set to undefined is removed). */
export type SaveUpState = (patch: UpStatePatch) => Promise<void>;

/** What a step returns: the fields it adds and the up-state fields to save once it ends. */
export type Outcome<Out> = Out & { save?: UpStatePatch };

export interface UpStep<In, Out> {
  title: string;
  /** Only looks: Ctrl-C during it has nothing to resume (progress.ts). */
  readOnly?: boolean;
  /** `save` is for a write that cannot wait for the end of the step (before `k3d cluster create`). */
  run: (ctx: In, step: StepHandle, save: SaveUpState) => Promise<Outcome<Out>>;
}
