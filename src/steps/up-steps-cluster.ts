/**
 * `up`'s first steps: check the name and the port, write the state folder, keep the registry volume,
 * create or reuse the cluster. Each names what it reads and adds (up-context.ts).
 */
import { readFile } from 'node:fs/promises';
import { sha256Of } from '../hash.js';
import { registryVolumeName } from '../spec.js';
import { stateRoot } from '../state/layout.js';
import { cacheContainers, refuseForeignCaches, resolveCacheUpstreams } from './cache.js';
import { ensureCluster } from './cluster.js';
import { refuseUnmountableDocker } from './docker-local.js';
import { nodeStartTimes, restartedSince } from './node-restarts.js';
import { checkClusterImage, checkClusterShape, checkHostPort, inspectCluster, isOurs, refuseForeign, refuseServerless } from './preflight.js';
import { renderOrKeep } from './render-or-keep.js';
import type { Adds, Reads, UpStep } from './up-context.js';
import { ensureRegistryVolume } from './volume.js';

export const checkNameAndPort: UpStep<Reads<'io' | 'deps' | 'resolved' | 'upState'>, Adds<'facts' | 'cacheUpstreams'>> = {
  title: 'Checking the cluster name and the port',
  readOnly: true,
  run: async (ctx, step) => {
    const { spec } = ctx.resolved;
    await refuseUnmountableDocker({ env: ctx.io.env, stateDir: spec.stateDir });
    const facts = await inspectCluster(ctx.deps.run, spec.name, spec.agents, cacheContainers(spec));
    refuseForeign(facts);
    // Before anything is written: a missing credential or a foreign container of a cache's name stops here.
    const cacheUpstreams = spec.cache
      ? await resolveCacheUpstreams(spec.cache, { run: ctx.deps.run, env: ctx.io.env, stateRoot: stateRoot(ctx.io.env), warn: (line) => step.note(`warning: ${line}`) })
      : [];
    refuseForeignCaches(cacheUpstreams, facts.others ?? new Map());
    // What an interrupted create left has no shape worth checking: it is deleted and created again.
    if (!ctx.upState.creating) {
      refuseServerless(facts);
      checkClusterShape(spec, facts);
      const other = checkClusterImage(spec, facts);
      if (other) step.note(`note: ${other}`);
    }
    const port = await checkHostPort(ctx.deps.run, spec, facts, ctx.deps.portProbe);
    step.title(
      facts.cluster
        ? `Cluster ${spec.name} exists and is ours: reusing it (port ${spec.hostPort} ${port === 'ours' ? 'is its own' : 'is free'})`
        : `Cluster name ${spec.name} and port ${spec.hostPort} are free`,
    );
    return { facts, cacheUpstreams };
  },
};

export const writeStateFolder: UpStep<Reads<'io' | 'deps' | 'resolved'>, Adds<'render'>> = {
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
    step.title(`State folder ${spec.stateDir}: ${render.changed.length === 0 ? 'unchanged' : `${render.changed.length} file(s) written`}`);
    for (const warning of render.warnings) step.note(`warning: ${warning}`);
    // Issue 4: a redacted diff whenever registries.yaml changes, and a redacted preview the first time.
    if (render.registriesDiff) step.note(render.registriesDiff);
    return { render };
  },
};

export const checkRegistryVolume: UpStep<Reads<'deps' | 'resolved' | 'facts'>, object> = {
  title: 'Checking the registry volume',
  run: async (ctx, step) => {
    const { name } = ctx.resolved.spec;
    // Our cluster's server mounts it: then it exists, and asking docker again would tell nothing new.
    const mounted = isOurs(ctx.facts) && ctx.facts.server?.volumes.includes(registryVolumeName(name));
    const result = mounted ? 'exists' : await ensureRegistryVolume(ctx.deps.run, name);
    step.title(`Registry volume ${registryVolumeName(name)}: ${result === 'created' ? 'created' : 'kept (holds the pushed images)'}`);
    return {};
  },
};

export const createOrReuseCluster: UpStep<Reads<'deps' | 'resolved' | 'upState' | 'render' | 'facts'>, Adds<'facts' | 'clusterAction' | 'restartedNodes'>> = {
  title: 'Creating or reusing the cluster',
  run: async (ctx, step, save) => {
    const { render, facts, upState } = ctx;
    const registriesSha = sha256Of(await readFile(render.files.registriesYaml, 'utf8'));
    const stale = Boolean(facts.cluster) && (upState.registriesSha256 !== registriesSha || upState.clusterId !== facts.server?.id);
    step.title(facts.cluster ? `Cluster ${facts.name}: checking` : `Cluster ${facts.name}: creating (the first run pulls the k3s image)`);
    const result = await ensureCluster({
      run: ctx.deps.run,
      facts,
      configFile: render.files.k3dConfig,
      registriesStale: stale,
      interruptedCreate: upState.creating === true,
      beforeCreate: () => save({ creating: true }),
      say: (line) => step.note(line),
    });
    const startTimes = nodeStartTimes(result.facts);
    const restartedNodes = result.action === 'running' ? restartedSince(upState.nodesStartedAt, startTimes) : [];
    if (restartedNodes.length > 0) {
      step.note(`${restartedNodes.join(', ')} started since the last up (docker or this machine restarted): waiting for the hosts entry and the registry, then verifying again`);
    }
    step.title(`Cluster ${facts.name}: ${result.action === 'running' ? (restartedNodes.length > 0 ? 'running (restarted outside up)' : 'running') : result.action}`);
    return {
      facts: result.facts,
      clusterAction: result.action,
      restartedNodes,
      // Saved as the step ends: a run stopped after this point must not restart the nodes again.
      save: { creating: undefined, clusterId: result.facts.server?.id ?? '', registriesSha256: registriesSha, nodesStartedAt: startTimes },
    };
  },
};
