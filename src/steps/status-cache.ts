/**
 * `status`'s line for the pull-through cache. Never a failure: k3s falls back to each upstream
 * itself when a mirror does not answer, so a cache that is off or stopped only makes pulls slower
 * (and subject to the upstream's rate limits).
 */
import { cacheContainersIn, isOurCache, OUR_CACHE_LABELS } from '../cache/inventory.js';
import { clusterNetwork } from '../spec.js';
import { CACHE_LABEL } from '../cache/spec.js';
import { isKnownError } from '../errors.js';
import { statePath } from '../state/layout.js';
import { readIfExists } from '../state/write-files.js';
import { inspectContainers } from '../tools/docker.js';
import { containersLabelled } from '../tools/docker-labelled.js';
import type { Runner } from '../tools/run.js';

export interface CacheCheck {
  status: 'ok' | 'warn';
  detail: string;
  fix?: string;
}

const STRAIGHT = 'pulls go straight to the upstream';

/**
 * OK when every cache this cluster's registries.yaml names, and every one on its docker network, is
 * ours, running and attached to the network; WARN otherwise.
 */
export async function cacheCheck(run: Runner, cluster: string, stateDir: string): Promise<CacheCheck> {
  try {
    const network = clusterNetwork(cluster);
    const expected = cacheContainersIn((await readIfExists(statePath(stateDir, 'registriesYaml'))) ?? '');
    const listed = await containersLabelled(run, OUR_CACHE_LABELS);
    const found = await inspectContainers(run, [...new Set([...listed, ...expected])]);
    const attached = [...found.values()].filter((c) => isOurCache(c.labels) && c.networks.includes(network)).map((c) => c.name);
    const relevant = [...new Set([...expected, ...attached])].sort();
    if (relevant.length === 0) {
      const none = listed.length === 0 ? 'no pull-through cache on this docker daemon' : `no pull-through cache is attached to ${network}`;
      return { status: 'warn', detail: `off: ${none}; ${STRAIGHT}`, fix: 'run k3s-devreg up with the cache on (no --no-cache, no cache: false in k3s-devreg.yaml)' };
    }
    const problems: string[] = [];
    for (const name of relevant) {
      const c = found.get(name);
      if (!c) problems.push(`${name} is missing`);
      else if (!isOurCache(c.labels)) problems.push(`${name} is not a k3s-devreg cache (no labels of ours)`);
      else if (c.status !== 'running') problems.push(`${name} is ${c.status}`);
      else if (!c.networks.includes(network)) problems.push(`${name} is not attached to ${network}`);
    }
    if (problems.length > 0) {
      return { status: 'warn', detail: `${problems.join('; ')}: ${STRAIGHT} for those`, fix: 'run k3s-devreg up to start and attach the cache again (cache status shows every upstream)' };
    }
    const hosts = relevant.map((name) => found.get(name)!.labels[CACHE_LABEL]).join(', ');
    return { status: 'ok', detail: `${hosts}: running on ${network}` };
  } catch (error) {
    if (isKnownError(error)) return { status: 'warn', detail: `could not check the cache: ${error.problem}; ${STRAIGHT} if it is down`, fix: error.fix };
    throw error;
  }
}
