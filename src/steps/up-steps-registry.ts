/**
 * `up`'s steps once the cluster runs: the kubeconfig context, the registry manifests, the waits for
 * the registry and the hosts entries, the round trip. Each names what it reads and adds (up-context.ts).
 */
import { readFile } from 'node:fs/promises';
import { sha256Of } from '../hash.js';
import { kubeContext } from '../spec.js';
import { ensureKubeContext } from './kubeconfig.js';
import { applyManifests } from './manifests.js';
import { hostsReadyOnEveryNode, k3sNodes, serviceIpOf, waitForHostsEntries, waitForRegistryAnswer, waitForRollouts } from './readiness.js';
import type { Adds, Reads, UpStep } from './up-context.js';
import { formatTimings, verifyRoundTrip } from './verify.js';

export const checkKubeContext: UpStep<Reads<'io' | 'deps' | 'resolved' | 'clusterAction'>, Adds<'kube'>> = {
  title: 'Checking the kubeconfig context',
  run: async (ctx, step) => {
    // A cluster k3d just created should be current, as k3d makes it when it can write the kubeconfig.
    const kube = await ensureKubeContext(ctx.deps.run, ctx.resolved.spec.name, ctx.io.env, ctx.clusterAction === 'created');
    const current = kube.current === kube.context ? 'the current context' : `available (current context: ${kube.current ?? 'none'})`;
    const where = kube.writtenTo ? ` written to ${kube.writtenTo} (the first file KUBECONFIG lists, where kubectl writes new entries)` : kube.restored ? ' restored' : '';
    step.title(`Kubeconfig context ${kube.context}${where}: ${current}`);
    return { kube };
  },
};

export const applyRegistryManifests: UpStep<Reads<'deps' | 'resolved' | 'upState' | 'render'>, Adds<'manifestsFingerprint' | 'live'>> = {
  title: 'Applying the registry manifests',
  run: async (ctx, step) => {
    const result = await applyManifests({
      run: ctx.deps.run,
      context: kubeContext(ctx.resolved.spec.name),
      manifestFiles: ctx.render.files.manifests,
      clusterId: ctx.upState.clusterId ?? '',
      ...(ctx.upState.manifestsSha256 ? { lastApplied: ctx.upState.manifestsSha256 } : {}),
    });
    step.title(`Registry manifests: ${result.applied ? `applied (${result.lines.length} objects)` : 'unchanged'}`);
    return {
      manifestsFingerprint: result.fingerprint,
      ...(result.live ? { live: result.live } : {}),
      ...(result.applied ? { save: { manifestsSha256: result.fingerprint } } : {}),
    };
  },
};

type AfterApply = Reads<'deps' | 'resolved' | 'render' | 'clusterAction' | 'restartedNodes' | 'live'>;

export const waitForRegistry: UpStep<AfterApply, object> = {
  title: 'Waiting for the registry',
  run: async (ctx, step) => {
    const { spec } = ctx.resolved;
    // Nodes that (re)started may have new pods on the way: then the status read before is not enough.
    const restarted = ctx.clusterAction !== 'running' || ctx.restartedNodes.length > 0;
    await waitForRollouts(ctx.deps.run, kubeContext(spec.name), ctx.deps.waits?.rolloutSeconds ?? 180, restarted ? undefined : ctx.live);
    if (ctx.clusterAction === 'started' || ctx.clusterAction === 'restarted' || ctx.restartedNodes.length > 0) {
      step.title(`Waiting for the registry to answer on localhost:${spec.hostPort} after the restart`);
      await waitForRegistryAnswer({
        port: spec.hostPort,
        caCert: await readFile(ctx.render.files.caCert, 'utf8'),
        credentials: ctx.render.credentials,
        clock: ctx.deps.clock,
        signal: ctx.deps.signal,
        timeoutMs: (ctx.deps.waits?.rolloutSeconds ?? 180) * 1000,
        ...(ctx.deps.registryProbe ? { probe: ctx.deps.registryProbe } : {}),
      });
    }
    step.title('Registry ready');
    return {};
  },
};

export const waitForHosts: UpStep<Reads<'deps' | 'resolved' | 'facts' | 'clusterAction' | 'restartedNodes' | 'live'>, object> = {
  title: 'Waiting for the hosts entry on every node',
  run: async (ctx, step) => {
    const nodes = k3sNodes(ctx.facts.cluster);
    const known = serviceIpOf(ctx.live);
    // Its pods are ready only while their node holds the right line: on a cluster that did not
    // (re)start, the DaemonSet's status, read with the manifests, answers for every node.
    if (known && ctx.clusterAction === 'running' && ctx.restartedNodes.length === 0 && hostsReadyOnEveryNode(ctx.live, nodes.length)) {
      step.title(`container-registry.local -> ${known} on ${nodes.length} node(s) (every registry-hosts pod checks it)`);
      return {};
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
    return {};
  },
};

export const verifyPushAndRun: UpStep<Reads<'io' | 'deps' | 'resolved' | 'upState' | 'render' | 'manifestsFingerprint'>, Adds<'verified'>> = {
  title: 'Verifying: push an image here, run it in the cluster',
  run: async (ctx, step) => {
    const { spec } = ctx.resolved;
    const { upState } = ctx;
    // The nodes' start times are part of it: a node restarted outside up must prove it pulls again.
    const fingerprint = sha256Of(upState.clusterId ?? '', ctx.manifestsFingerprint, upState.registriesSha256 ?? '', String(spec.hostPort), JSON.stringify(upState.nodesStartedAt ?? {}));
    if (upState.verified?.fingerprint === fingerprint) {
      step.skip(`Verified already on ${upState.verified.at} and nothing changed since (run k3s-devreg verify to check again)`);
      return { verified: upState.verified.at };
    }
    const baseImage = ctx.io.env.K3S_DEVREG_EXAMPLE_BASE;
    const timings = await verifyRoundTrip({
      run: ctx.deps.run,
      name: spec.name,
      hostPort: spec.hostPort,
      credentials: ctx.render.credentials,
      clock: ctx.deps.clock,
      signal: ctx.deps.signal,
      ...(baseImage ? { baseImage } : {}),
      onPhase: (phase) => step.title(`Verifying: ${phase}`),
    });
    const at = new Date(ctx.deps.clock.now()).toISOString();
    step.title(`Verified: pushed, pulled and ran hello-world-example (${formatTimings(timings)})`);
    return { verified: at, save: { verified: { fingerprint, at } } };
  },
};
