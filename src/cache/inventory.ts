/**
 * What of the pull-through cache exists on this docker daemon (`cache status`) and removing it
 * (`cache rm`). Only objects carrying both our managed-by label and the cache label count: a
 * container that merely has a cache's name is someone else's.
 */
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../spec.js';
import { CACHE_UPSTREAM_LABEL } from './render.js';
import { inspectContainers, inspectVolume, removeVolume, type ContainerInfo } from '../tools/docker.js';
import { containersLabelled, removeContainers, volumeDiskUse, volumesLabelled } from '../tools/docker-labelled.js';
import type { Runner } from '../tools/run.js';
import { CACHE_LABEL, cacheConfigPath, cacheContainerName, isOurCache } from './spec.js';

export { isOurCache } from './spec.js';

/** Every cluster's nodes are on the docker network k3d-<cluster>. */
const CLUSTER_NETWORK = /^k3d-(.+)$/;

export const OUR_CACHE_LABELS: Record<string, string | undefined> = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [CACHE_LABEL]: undefined };


export interface CacheEntry {
  /** The upstream registry host, e.g. docker.io. */
  host: string;
  /** The https URL it caches; null when neither the container nor the config file says. */
  upstream: string | null;
  container: string;
  /** docker's state of the container (running, exited, restarting, paused, created, dead), or missing. */
  state: string;
  volume: string | null;
  /** Disk used by the volume, as docker words it (decimal units), and in bytes. */
  diskUsed: string | null;
  diskBytes: number | null;
  /** Clusters whose docker network (k3d-<name>) the container is attached to. */
  clusters: string[];
  configFile: string | null;
}

export interface CacheInventory {
  caches: CacheEntry[];
  containers: ContainerInfo[];
  volumes: string[];
  configFiles: string[];
}

/** The config files in <stateRoot>/cache/ (one per upstream, `<slug>.yml`). */
async function configFiles(stateRoot: string): Promise<string[]> {
  const dir = dirname(cacheConfigPath(stateRoot, 'x'));
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return entries.filter((entry) => entry.endsWith('.yml')).sort().map((entry) => join(dir, entry));
}

/** The upstream URL from a config file (`proxy.remoteurl`), read only when no container says it. */
async function upstreamFromConfig(path: string): Promise<string | null> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return /^\s+remoteurl:\s*"?([^"\s]+)"?\s*$/m.exec(text)?.[1] ?? null;
}

/** Our cache containers and volumes (checked by label, twice: docker's filter, then their own labels). */
export async function cacheInventory(run: Runner, stateRoot: string, options: { diskUse?: boolean } = {}): Promise<CacheInventory> {
  const [names, volumeNames, files] = await Promise.all([containersLabelled(run, OUR_CACHE_LABELS), volumesLabelled(run, OUR_CACHE_LABELS), configFiles(stateRoot)]);
  const containers = [...(await inspectContainers(run, names)).values()].filter((c) => isOurCache(c.labels));
  const volumes = (await Promise.all(volumeNames.map((name) => inspectVolume(run, name)))).filter((v) => v !== undefined && isOurCache(v.labels));
  const use = options.diskUse && volumes.length > 0 ? await volumeDiskUse(run) : new Map<string, { size: string; bytes?: number }>();
  const hosts = [...new Set([...containers.map((c) => c.labels[CACHE_LABEL]!), ...volumes.map((v) => v!.labels[CACHE_LABEL]!)])].sort();
  const caches = await Promise.all(
    hosts.map(async (host): Promise<CacheEntry> => {
      const container = containers.find((c) => c.labels[CACHE_LABEL] === host);
      const volume = volumes.find((v) => v!.labels[CACHE_LABEL] === host)?.name ?? null;
      const configFile = files.includes(cacheConfigPath(stateRoot, host)) ? cacheConfigPath(stateRoot, host) : null;
      const upstream = container?.labels[CACHE_UPSTREAM_LABEL] ?? (configFile ? await upstreamFromConfig(configFile) : null);
      const disk = volume ? use.get(volume) : undefined;
      return {
        host,
        upstream,
        container: container?.name ?? cacheContainerName(host),
        state: container?.status ?? 'missing',
        volume,
        diskUsed: disk?.size ?? null,
        diskBytes: disk?.bytes ?? null,
        clusters: (container?.networks ?? []).flatMap((n) => CLUSTER_NETWORK.exec(n)?.[1] ?? []).sort(),
        configFile,
      };
    }),
  );
  return { caches, containers, volumes: volumes.map((v) => v!.name), configFiles: files };
}

export interface CacheRemoval {
  containers: string[];
  volumes: string[];
  configFiles: string[];
}

/** Removes what `cacheInventory` found: containers first (a volume in use cannot go), then volumes, then config files. */
export async function removeCache(run: Runner, found: CacheInventory): Promise<CacheRemoval> {
  const containers = found.containers.map((c) => c.name);
  await removeContainers(run, containers);
  for (const volume of found.volumes) await removeVolume(run, volume);
  await Promise.all(found.configFiles.map((file) => rm(file, { force: true })));
  if (found.configFiles.length > 0) await rmdir(dirname(found.configFiles[0]!)).catch(() => undefined);
  return { containers, volumes: found.volumes, configFiles: found.configFiles };
}

/** The cache containers a cluster's registries.yaml points its mirrors at (`http://<container>:5000`). */
export function cacheContainersIn(registriesYaml: string): string[] {
  const prefix = cacheContainerName('');
  const found = registriesYaml.match(new RegExp(`https?://(${prefix}[a-z0-9-]+)(?::[0-9]+)?`, 'g')) ?? [];
  return [...new Set(found.map((url) => new URL(url).hostname))].sort();
}

/** A table for people: one row per cached upstream. */
export function formatCacheTable(caches: readonly CacheEntry[]): string {
  const rows = [
    ['UPSTREAM', 'URL', 'CONTAINER', 'STATE', 'VOLUME', 'DISK', 'CLUSTERS'],
    ...caches.map((c) => [c.host, c.upstream ?? '?', c.container, c.state, c.volume ?? '(none)', c.diskUsed ?? '-', c.clusters.join(', ') || '(none)']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
