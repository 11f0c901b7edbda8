/**
 * Pure renderers for one upstream's cache: distribution's config file in proxy mode, the docker run
 * argv that starts it, and the registries.yaml mirrors every cluster gets.
 */
import { toYaml } from '../render/yaml-stream.js';
import type { RegistriesDocument } from '../render/registries-yaml.js';
import { CACHE_PORT, cacheContainerName, cacheLabels, cacheVolumeName, type CacheSpec, type CacheUpstream } from './spec.js';

/** Where distribution reads its configuration (the registry:2 image and registry/config.yml). */
export const CACHE_CONFIG_PATH = '/etc/docker/registry/config.yml';
export const CACHE_DATA_DIR = '/var/lib/registry';

const HEADER = [
  '# Written by k3s-devreg: a pull-through cache of one upstream. This file holds the upstream',
  '# credentials (if any): it is 0600 and mounted read-only, never passed as env or argv.',
  '# storage.delete stays disabled on purpose: distribution 2.8 expires proxied content 7 days after',
  '# caching it (a fixed TTL), and the expiry deletes through the delete-enabled store only; with',
  '# delete disabled it fails, the schedule entry is dropped and the content stays cached, so a',
  '# cache warmed once keeps serving through an upstream outage (distribution v2.8.3',
  '# registry/proxy/proxyregistry.go, storage/linkedblobstore.go). The cost: nothing is ever reclaimed;',
  '# `cache rm` is the way to free the space.',
  '',
].join('\n');

/** The registry's config file for `upstream`, as YAML. */
export function renderCacheConfig(upstream: CacheUpstream): string {
  const proxy: Record<string, string> = { remoteurl: upstream.remoteUrl };
  if (upstream.credentials) Object.assign(proxy, { username: upstream.credentials.username, password: upstream.credentials.password });
  const config = {
    version: 0.1,
    log: { fields: { service: 'registry' } },
    storage: { filesystem: { rootdirectory: CACHE_DATA_DIR }, delete: { enabled: false } },
    http: { addr: `:${CACHE_PORT}`, headers: { 'X-Content-Type-Options': ['nosniff'] } },
    proxy,
  };
  return HEADER + toYaml(config);
}

/** Where a running cache came from: a container whose labels differ from these is started again. */
export const CACHE_UPSTREAM_LABEL = 'dev.k3s-devreg/cache-upstream';
export const CACHE_CONFIG_LABEL = 'dev.k3s-devreg/cache-config';

export function cacheContainerLabels(upstream: CacheUpstream, configSha256: string): Record<string, string> {
  return { ...cacheLabels(upstream.host), [CACHE_UPSTREAM_LABEL]: upstream.remoteUrl, [CACHE_CONFIG_LABEL]: configSha256 };
}

/**
 * `docker run` for one cache: config mounted read-only from `configFile`, data in the labelled volume,
 * no port published (the clusters reach it on their docker networks by its name).
 */
export function cacheRunArgs(upstream: CacheUpstream, options: { configFile: string; network: string; image: string; configSha256?: string }): string[] {
  const labels = Object.entries(options.configSha256 ? cacheContainerLabels(upstream, options.configSha256) : cacheLabels(upstream.host)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  return [
    'run', '-d', '--name', cacheContainerName(upstream.host), ...labels, '--restart', 'unless-stopped',
    '--network', options.network, '--network-alias', cacheContainerName(upstream.host),
    '-v', `${cacheVolumeName(upstream.host)}:${CACHE_DATA_DIR}`, '-v', `${options.configFile}:${CACHE_CONFIG_PATH}:ro`,
    options.image,
  ];
}

export const cacheEndpoint = (host: string): string => `http://${cacheContainerName(host)}:${CACHE_PORT}`;

export interface MergedMirrors {
  document: RegistriesDocument;
  notes: string[];
}

/**
 * Adds a mirror per cached upstream, the cache as its only endpoint (k3s tries the upstream itself,
 * the default endpoint, last). A mirror the user's registries file already has for that host wins.
 */
export function withCacheMirrors(document: RegistriesDocument, spec: CacheSpec, userHosts: ReadonlySet<string> = new Set()): MergedMirrors {
  const mirrors: Record<string, unknown> = { ...(document.mirrors ?? {}) };
  const notes: string[] = [];
  // A user's "*" mirror covers every host (a company proxy, say, where the upstreams themselves may be
  // out of reach): a mirror of ours would take docker.io away from it, and the fallback with it.
  if (userHosts.has('*')) {
    return { document, notes: ['your registries file has a "*" mirror: it is kept for every host, and the pull-through cache is not used'] };
  }
  for (const { host } of spec.upstreams) {
    if (userHosts.has(host) || host in mirrors) {
      notes.push(`your registries file has a mirror for ${host}: it is kept, and the pull-through cache is not used for ${host}`);
      continue;
    }
    mirrors[host] = { endpoint: [cacheEndpoint(host)] };
  }
  return { document: { ...document, mirrors }, notes };
}
