/** `up`'s cache step: start, or reuse, the pull-through cache before the nodes' first pull (issue 12). */
import { readFile } from 'node:fs/promises';
import { cacheContainersIn } from '../cache/inventory.js';
import { cacheContainerName } from '../cache/spec.js';
import { clusterNetwork } from '../spec.js';
import { stateRoot } from '../state/layout.js';
import { ensureCache, type CacheResult } from './cache.js';
import type { Reads, UpStep } from './up-context.js';

const SAID: Record<CacheResult['action'], string> = {
  started: 'started',
  running: 'running',
  restarted: 'started again',
  attached: 'running, joined this cluster',
  replaced: 'started again with the new settings (cached content kept)',
};

export const startPullThroughCache: UpStep<Reads<'deps' | 'io' | 'resolved' | 'facts' | 'cacheUpstreams' | 'render'>, object> = {
  title: 'Starting the pull-through cache',
  run: async (ctx, step) => {
    const { spec } = ctx.resolved;
    if (!spec.cache) {
      step.title('Pull-through cache: off (--no-cache or cache: false); nodes pull from the upstream registries themselves');
      return {};
    }
    // Only the caches this cluster's registries.yaml uses: a user's own mirror for a host wins.
    const used = new Set(cacheContainersIn(await readFile(ctx.render.files.registriesYaml, 'utf8')));
    const upstreams = ctx.cacheUpstreams.filter((u) => used.has(cacheContainerName(u.host)));
    if (upstreams.length === 0) {
      step.title('Pull-through cache: not used (your registries file has its own mirrors for the cached hosts)');
      return {};
    }
    const { network, caches } = await ensureCache(
      { run: ctx.deps.run, spec: { name: spec.name, registryImage: spec.registryImage }, upstreams, stateRoot: stateRoot(ctx.io.env) },
      ctx.facts.others,
    );
    if (network === 'created') step.note(`made the docker network ${clusterNetwork(spec.name)} for the cluster, so its nodes pull through the cache from the start`);
    step.title(`Pull-through cache: ${caches.map((c) => `${c.host} ${SAID[c.action]}`).join(', ')} (shared by every cluster; k3s-devreg cache status)`);
    return {};
  },
};
