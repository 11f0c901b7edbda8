/**
 * The pull-through cache, per docker daemon: one registry container per upstream, outside every
 * cluster, on each cluster's docker network (never on a host port). Check, then act: a running cache
 * with the same configuration is left alone; its data volume is never removed here.
 */
import { cacheRunArgs, renderCacheConfig, CACHE_CONFIG_LABEL } from '../cache/render.js';
import { cacheConfigPath, cacheContainerName, cacheLabels, cacheVolumeName, isOurCache, CACHE_LABEL, type CacheSpec, type CacheUpstream, type CacheUpstreamSpec } from '../cache/spec.js';
import { UserError } from '../errors.js';
import { sha256 } from '../hash.js';
import { resolveReference } from '../registries/credential-sources.js';
import { CLUSTER_LABEL, clusterNetwork, MANAGED_BY_LABEL, MANAGED_BY_VALUE, type ClusterSpec } from '../spec.js';
import { writeFileAtomic } from '../state/write-files.js';
import { createVolume, inspectContainers, inspectVolume, type ContainerInfo } from '../tools/docker.js';
import { removeContainer, runDetached, startContainer } from '../tools/docker-containers.js';
import { connectNetwork, createNetwork, inspectNetwork } from '../tools/docker-networks.js';
import type { Runner } from '../tools/run.js';

export type CacheAction = 'started' | 'running' | 'restarted' | 'attached' | 'replaced';

export interface CacheResult {
  host: string;
  container: string;
  action: CacheAction;
}

export interface CacheRequest {
  run: Runner;
  spec: Pick<ClusterSpec, 'name' | 'registryImage'>;
  /** The upstreams to cache, credentials resolved (resolveCacheUpstreams). */
  upstreams: readonly CacheUpstream[];
  /** Where every cluster's cache config files live (stateRoot). */
  stateRoot: string;
}

export interface ResolveRequest {
  run: Runner;
  env: NodeJS.ProcessEnv;
  stateRoot: string;
  warn: (line: string) => void;
}


/** The cluster's network: made here (ours, so down removes it) when k3d has not made it yet. */
export async function ensureClusterNetwork(run: Runner, name: string): Promise<'created' | 'exists'> {
  const network = clusterNetwork(name);
  if (await inspectNetwork(run, network)) return 'exists';
  await createNetwork(run, network, { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [CLUSTER_LABEL]: name });
  return 'created';
}

/**
 * Every upstream with its credentials resolved: before anything is written, so a missing variable
 * or a failing password command stops `up` with nothing made.
 */
export async function resolveCacheUpstreams(cache: CacheSpec, request: ResolveRequest): Promise<CacheUpstream[]> {
  return Promise.all(
    cache.upstreams.map(async (upstream: CacheUpstreamSpec): Promise<CacheUpstream> => {
      if (!upstream.credentials) return { host: upstream.host, remoteUrl: upstream.remoteUrl };
      const site = { path: `cache.credentials.${upstream.host}.password` };
      const password = await resolveReference(upstream.credentials.password, site, { runner: request.run, env: request.env, baseDir: request.stateRoot, warn: request.warn });
      return { host: upstream.host, remoteUrl: upstream.remoteUrl, credentials: { username: upstream.credentials.username, password } };
    }),
  );
}

interface Prepared {
  upstream: CacheUpstream;
  name: string;
  configFile: string;
  configSha256: string;
}

/** The config file written (0600, mounted read-only: the credentials never go into argv or env). */
async function prepare(upstream: CacheUpstream, request: CacheRequest): Promise<Prepared> {
  const configFile = cacheConfigPath(request.stateRoot, upstream.host);
  const config = renderCacheConfig(upstream);
  await writeFileAtomic(configFile, config, 0o600);
  return { upstream, name: cacheContainerName(upstream.host), configFile, configSha256: sha256(config) };
}

/** A container of a cache's name that is not that cache of ours: refused before anything is made. */
export function refuseForeignCaches(upstreams: readonly CacheUpstream[], found: ReadonlyMap<string, ContainerInfo>): void {
  for (const { host } of upstreams) {
    const name = cacheContainerName(host);
    const container = found.get(name);
    if (container && !(isOurCache(container.labels) && container.labels[CACHE_LABEL] === host)) {
      throw new UserError(`a container named ${name} exists and is not k3s-devreg's cache`, `rename or remove it (docker rm -f ${name}), or run up with --no-cache`);
    }
  }
}

const current = (p: Prepared, found: ContainerInfo | undefined): boolean => found?.labels[CACHE_CONFIG_LABEL] === p.configSha256;

async function ensureOne(p: Prepared, found: ContainerInfo | undefined, request: CacheRequest): Promise<CacheResult> {
  const { run } = request;
  const { upstream, name, configFile, configSha256 } = p;
  const network = clusterNetwork(request.spec.name);
  const result = (action: CacheAction): CacheResult => ({ host: upstream.host, container: name, action });
  const start = async (): Promise<void> => {
    // Made with our labels first (a `-v name:` volume would have none), so `cache rm` finds it.
    if (!(await inspectVolume(run, cacheVolumeName(upstream.host)))) await createVolume(run, cacheVolumeName(upstream.host), cacheLabels(upstream.host));
    await runDetached(run, cacheRunArgs(upstream, { configFile, network, image: request.spec.registryImage, configSha256 }), name);
  };
  if (!found) {
    await start();
    return result('started');
  }
  if (!current(p, found)) {
    // New credentials or upstream: a new container on the same data volume (the cached content stays).
    await removeContainer(run, name);
    await start();
    return result('replaced');
  }
  let action: CacheAction = 'running';
  if (!found.networks.includes(network)) {
    await connectNetwork(run, network, name);
    action = 'attached';
  }
  if (!found.running) {
    await startContainer(run, name);
    action = 'restarted';
  }
  return result(action);
}

/**
 * Starts, or reuses, every upstream's cache and attaches it to the cluster's network (made first
 * when missing). On a healthy setup it calls nothing beyond one `docker container inspect` of every cache.
 */
export async function ensureCache(request: CacheRequest, inspected?: ReadonlyMap<string, ContainerInfo>): Promise<{ network: 'created' | 'exists'; caches: CacheResult[] }> {
  // `up` asks about the caches in its first docker call (inspectCluster's alsoInspect): no second one.
  const found = inspected ?? (await inspectContainers(request.run, request.upstreams.map((u) => cacheContainerName(u.host))));
  refuseForeignCaches(request.upstreams, found);
  const prepared = await Promise.all(request.upstreams.map((upstream) => prepare(upstream, request)));
  const network = clusterNetwork(request.spec.name);
  const healthy = (p: Prepared): boolean => {
    const container = found.get(p.name);
    return current(p, container) && container!.running && container!.networks.includes(network);
  };
  if (prepared.every(healthy)) return { network: 'exists', caches: prepared.map((p) => ({ host: p.upstream.host, container: p.name, action: 'running' })) };
  const made = await ensureClusterNetwork(request.run, request.spec.name);
  const caches = await Promise.all(prepared.map((p) => ensureOne(p, found.get(p.name), request)));
  return { network: made, caches };
}

/** The cache containers a spec has, to ask about with the cluster's nodes. */
export const cacheContainers = (spec: Pick<ClusterSpec, 'cache'>): string[] => (spec.cache?.upstreams ?? []).map((u) => cacheContainerName(u.host));
