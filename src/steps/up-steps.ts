/**
 * The steps of `up`, in order, over one typed context. Every step checks before it acts, so a second
 * run on a healthy setup changes nothing, and a run stopped half-way resumes.
 */
import { readFile } from 'node:fs/promises';
import type { Io } from '../io.js';
import type { Ask } from '../ask.js';
import type { ResolvedOptions } from '../options.js';
import type { Step } from '../progress.js';
import { kubeContext, registryVolumeName } from '../spec.js';
import type { LiveObject } from '../tools/kubectl.js';
import type { Runner } from '../tools/run.js';
import { ensureCluster } from './cluster.js';
import { ensureKubeContext, type KubeContextState } from './kubeconfig.js';
import { applyManifests } from './manifests.js';
import { checkClusterImage, checkHostPort, checkClusterShape, inspectCluster, isOurs, refuseForeign, refuseServerless, type ClusterFacts } from './preflight.js';
import { hostsReadyOnEveryNode, k3sNodes, serviceIpOf, waitForHostsEntries, waitForRegistryAnswer, waitForRollouts } from './readiness.js';
import type { probeRegistry } from './registry-probe.js';
import type { RenderResult } from './render-state.js';
import { renderOrKeep } from './render-or-keep.js';
import { sha256Of } from '../hash.js';
import { writeUpState, type UpState } from './up-state.js';
import { formatTimings, verifyRoundTrip } from './verify.js';
import { refuseUnmountableDocker } from './docker-local.js';
import { nodeStartTimes, restartedSince } from './node-restarts.js';
import { ensureRegistryVolume } from './volume.js';
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

export interface UpContext {
  io: Io;
  deps: UpDeps;
  resolved: ResolvedOptions;
  upState: UpState;
  facts?: ClusterFacts;
  render?: RenderResult;
  kube?: KubeContextState;
  clusterAction?: string;
  /** Nodes that docker started since the last up (a docker or machine restart), which lost the hosts line. */
  restartedNodes?: string[];
  manifestsFingerprint?: string;
  /** Our objects as read when nothing needed applying (their rollout status and the Service IP). */
  live?: LiveObject[];
  verified?: string;
}

export const requireValue = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`internal: ${what} is not known yet`);
  return value;
};

export const upSteps: Step<UpContext>[] = [
  {
    title: 'Checking the cluster name and the port',
    readOnly: true,
    run: async (ctx, step) => {
      const { spec } = ctx.resolved;
      await refuseUnmountableDocker({ env: ctx.io.env, stateDir: spec.stateDir });
      const facts = await inspectCluster(ctx.deps.run, spec.name, spec.agents);
      refuseForeign(facts);
      // What an interrupted create left has no shape worth checking: it is deleted and created again.
      if (!ctx.upState.creating) {
        refuseServerless(facts);
        checkClusterShape(spec, facts);
        const other = checkClusterImage(spec, facts);
        if (other) step.note(`note: ${other}`);
      }
      const port = await checkHostPort(ctx.deps.run, spec, facts, ctx.deps.portProbe);
      ctx.facts = facts;
      step.title(
        facts.cluster
          ? `Cluster ${spec.name} exists and is ours: reusing it (port ${spec.hostPort} ${port === 'ours' ? 'is its own' : 'is free'})`
          : `Cluster name ${spec.name} and port ${spec.hostPort} are free`,
      );
    },
  },
  {
    title: 'Writing the state folder',
    run: async (ctx, step) => {
      const { spec, password, registriesFile, strict } = ctx.resolved;
      const render = await renderOrKeep({
        spec,
        strict,
        runner: ctx.deps.run,
        env: ctx.io.env,
        now: new Date(ctx.deps.clock.now()),
        ...(password !== undefined ? { password } : {}),
        ...(registriesFile ? { registriesFile } : {}),
      });
      ctx.render = render;
      step.title(`State folder ${spec.stateDir}: ${render.changed.length === 0 ? 'unchanged' : `${render.changed.length} file(s) written`}`);
      for (const warning of render.warnings) step.note(`warning: ${warning}`);
      // Issue 4: a redacted diff whenever registries.yaml changes, and a redacted preview the first time.
      if (render.registriesDiff) step.note(render.registriesDiff);
    },
  },
  {
    title: 'Checking the registry volume',
    run: async (ctx, step) => {
      const { name } = ctx.resolved.spec;
      // Our cluster's server mounts it: then it exists, and asking docker again would tell nothing new.
      const mounted = isOurs(ctx.facts!) && ctx.facts!.server?.volumes.includes(registryVolumeName(name));
      const result = mounted ? 'exists' : await ensureRegistryVolume(ctx.deps.run, name);
      step.title(`Registry volume ${registryVolumeName(name)}: ${result === 'created' ? 'created' : 'kept (holds the pushed images)'}`);
    },
  },
  {
    title: 'Creating or reusing the cluster',
    run: async (ctx, step) => {
      const render = requireValue(ctx.render, 'the rendered state');
      const registriesSha = sha256Of(await readFile(render.files.registriesYaml, 'utf8'));
      const facts = requireValue(ctx.facts, 'the cluster facts');
      const stale = Boolean(facts.cluster) && (ctx.upState.registriesSha256 !== registriesSha || ctx.upState.clusterId !== facts.server?.id);
      step.title(facts.cluster ? `Cluster ${facts.name}: checking` : `Cluster ${facts.name}: creating (the first run pulls the k3s image)`);
      const { stateDir } = ctx.resolved.spec;
      const result = await ensureCluster({
        run: ctx.deps.run,
        facts,
        configFile: render.files.k3dConfig,
        registriesStale: stale,
        interruptedCreate: ctx.upState.creating === true,
        beforeCreate: async () => {
          ctx.upState = { ...ctx.upState, creating: true };
          await writeUpState(stateDir, ctx.upState);
        },
        say: (line) => step.note(line),
      });
      ctx.facts = result.facts;
      ctx.clusterAction = result.action;
      const startTimes = nodeStartTimes(result.facts);
      ctx.restartedNodes = result.action === 'running' ? restartedSince(ctx.upState.nodesStartedAt, startTimes) : [];
      if (ctx.restartedNodes.length > 0) {
        step.note(`${ctx.restartedNodes.join(', ')} started since the last up (docker or this machine restarted): waiting for the hosts entry and the registry, then verifying again`);
      }
      // Saved at once: a run stopped after this point must not restart the nodes again.
      const { creating: _done, ...rest } = ctx.upState;
      ctx.upState = { ...rest, clusterId: result.facts.server?.id ?? '', registriesSha256: registriesSha, nodesStartedAt: startTimes };
      await writeUpState(stateDir, ctx.upState);
      step.title(`Cluster ${facts.name}: ${result.action === 'running' ? (ctx.restartedNodes.length > 0 ? 'running (restarted outside up)' : 'running') : result.action}`);
    },
  },
  {
    title: 'Checking the kubeconfig context',
    run: async (ctx, step) => {
      // A cluster k3d just created should be current, as k3d makes it when it can write the kubeconfig.
      const kube = await ensureKubeContext(ctx.deps.run, ctx.resolved.spec.name, ctx.io.env, ctx.clusterAction === 'created');
      ctx.kube = kube;
      const current = kube.current === kube.context ? 'the current context' : `available (current context: ${kube.current ?? 'none'})`;
      const where = kube.writtenTo ? ` written to ${kube.writtenTo} (the first file KUBECONFIG lists, where kubectl writes new entries)` : kube.restored ? ' restored' : '';
      step.title(`Kubeconfig context ${kube.context}${where}: ${current}`);
    },
  },
  {
    title: 'Applying the registry manifests',
    run: async (ctx, step) => {
      const render = requireValue(ctx.render, 'the rendered state');
      const result = await applyManifests({
        run: ctx.deps.run,
        context: kubeContext(ctx.resolved.spec.name),
        manifestFiles: render.files.manifests,
        clusterId: ctx.upState.clusterId ?? '',
        ...(ctx.upState.manifestsSha256 ? { lastApplied: ctx.upState.manifestsSha256 } : {}),
      });
      ctx.manifestsFingerprint = result.fingerprint;
      if (result.live) ctx.live = result.live;
      if (result.applied) {
        ctx.upState = { ...ctx.upState, manifestsSha256: result.fingerprint };
        await writeUpState(ctx.resolved.spec.stateDir, ctx.upState);
      }
      step.title(`Registry manifests: ${result.applied ? `applied (${result.lines.length} objects)` : 'unchanged'}`);
    },
  },
  {
    title: 'Waiting for the registry',
    run: async (ctx, step) => {
      const { spec } = ctx.resolved;
      // Nodes that (re)started may have new pods on the way: then the status read before is not enough.
      const restarted = ctx.clusterAction !== 'running' || (ctx.restartedNodes?.length ?? 0) > 0;
      await waitForRollouts(ctx.deps.run, kubeContext(spec.name), ctx.deps.waits?.rolloutSeconds ?? 180, restarted ? undefined : ctx.live);
      if (ctx.clusterAction === 'started' || ctx.clusterAction === 'restarted' || (ctx.restartedNodes?.length ?? 0) > 0) {
        const render = requireValue(ctx.render, 'the rendered state');
        step.title(`Waiting for the registry to answer on localhost:${spec.hostPort} after the restart`);
        await waitForRegistryAnswer({
          port: spec.hostPort,
          caCert: await readFile(render.files.caCert, 'utf8'),
          credentials: render.credentials,
          clock: ctx.deps.clock,
          signal: ctx.deps.signal,
          timeoutMs: (ctx.deps.waits?.rolloutSeconds ?? 180) * 1000,
          ...(ctx.deps.registryProbe ? { probe: ctx.deps.registryProbe } : {}),
        });
      }
      step.title('Registry ready');
    },
  },
  {
    title: 'Waiting for the hosts entry on every node',
    run: async (ctx, step) => {
      const nodes = k3sNodes(ctx.facts?.cluster);
      const known = serviceIpOf(ctx.live);
      // Its pods are ready only while their node holds the right line: on a cluster that did not
      // (re)start, the DaemonSet's status, read with the manifests, answers for every node.
      if (known && ctx.clusterAction === 'running' && (ctx.restartedNodes?.length ?? 0) === 0 && hostsReadyOnEveryNode(ctx.live, nodes.length)) {
        step.title(`container-registry.local -> ${known} on ${nodes.length} node(s) (every registry-hosts pod checks it)`);
        return;
      }
      const ip = await waitForHostsEntries({
        run: ctx.deps.run,
        context: kubeContext(ctx.resolved.spec.name),
        ...(known ? { ip: known } : {}),
        nodes,
        clock: ctx.deps.clock,
        signal: ctx.deps.signal,
        timeoutMs: (ctx.deps.waits?.hostsSeconds ?? 90) * 1000,
      });
      step.title(`container-registry.local -> ${ip} on ${nodes.length} node(s)`);
    },
  },
  {
    title: 'Verifying: push an image here, run it in the cluster',
    run: async (ctx, step) => {
      const render = requireValue(ctx.render, 'the rendered state');
      const { spec } = ctx.resolved;
      // The nodes' start times are part of it: a node restarted outside up must prove it pulls again.
      const fingerprint = sha256Of(ctx.upState.clusterId ?? '', ctx.manifestsFingerprint ?? '', ctx.upState.registriesSha256 ?? '', String(spec.hostPort), JSON.stringify(ctx.upState.nodesStartedAt ?? {}));
      if (ctx.upState.verified?.fingerprint === fingerprint) {
        ctx.verified = ctx.upState.verified.at;
        step.skip(`Verified already on ${ctx.upState.verified.at} and nothing changed since (run k3s-devreg verify to check again)`);
        return;
      }
      const baseImage = ctx.io.env.K3S_DEVREG_EXAMPLE_BASE;
      const timings = await verifyRoundTrip({
        run: ctx.deps.run,
        name: spec.name,
        hostPort: spec.hostPort,
        credentials: render.credentials,
        clock: ctx.deps.clock,
        signal: ctx.deps.signal,
        ...(baseImage ? { baseImage } : {}),
        onPhase: (phase) => step.title(`Verifying: ${phase}`),
      });
      const at = new Date(ctx.deps.clock.now()).toISOString();
      ctx.upState = { ...ctx.upState, verified: { fingerprint, at } };
      await writeUpState(spec.stateDir, ctx.upState);
      ctx.verified = at;
      step.title(`Verified: pushed, pulled and ran hello-world-example (${formatTimings(timings)})`);
    },
  },
];

