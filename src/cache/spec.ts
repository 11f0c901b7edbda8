/**
 * The pull-through cache shared by every cluster on a docker daemon (issue 12): which upstreams it
 * caches, validated before anything is created, and the docker names and labels of each one.
 */
import { UserError } from '../errors.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../spec.js';

/** Marks a docker object as one upstream's cache; the value is the upstream host. */
export const CACHE_LABEL = 'dev.k3s-devreg/cache';
/** Port inside the docker network only; the cache is never published on a host interface. */
export const CACHE_PORT = 5000;
export const DEFAULT_UPSTREAMS: Readonly<Record<string, string>> = { 'docker.io': 'https://registry-1.docker.io' };

export interface CacheCredentials {
  username: string;
  password: string;
}

export interface CacheUpstream {
  /** The registry host pods name in their images (`docker.io`, `ghcr.io`, `host:port`). */
  host: string;
  remoteUrl: string;
  credentials?: CacheCredentials;
}

export interface CacheSpec {
  upstreams: CacheUpstream[];
}

export interface CacheInput {
  mirrors?: Record<string, string>;
  credentials?: Record<string, CacheCredentials>;
}

// What k3s uses as a mirror key: a DNS name, optionally with a port; no scheme, path or wildcard.
const REGISTRY_HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$/;

function checkHost(host: string): void {
  const port = Number(host.split(':')[1] ?? '1');
  if (!REGISTRY_HOST.test(host) || port < 1 || port > 65535) {
    throw new UserError(`cache mirror "${host}" is not a registry host k3s would match`, 'name it as images do, e.g. ghcr.io or registry.example.com:5000 (no scheme, path or "*")');
  }
}

function checkUrl(host: string, remoteUrl: string): string {
  let url: URL | undefined;
  try {
    url = new URL(remoteUrl);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:' || !url.hostname || (url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw new UserError(`cache upstream for ${host} is not an https URL: ${JSON.stringify(remoteUrl)}`, `use the registry's https root, e.g. https://${host}`);
  }
  return `https://${url.host}`;
}

/** The default docker.io upstream plus the team config's mirrors; throws a one-line UserError. */
export function cacheSpec(input: CacheInput = {}): CacheSpec {
  const merged: Record<string, string> = { ...DEFAULT_UPSTREAMS };
  const seenUrls = new Map<string, string>();
  const upstreams: CacheUpstream[] = [];
  for (const [host, remoteUrl] of Object.entries(input.mirrors ?? {})) {
    checkHost(host);
    merged[host] = remoteUrl;
  }
  for (const [host, remoteUrl] of Object.entries(merged)) {
    const normalized = checkUrl(host, remoteUrl);
    const other = seenUrls.get(normalized);
    if (other) throw new UserError(`cache upstream ${normalized} is given twice (for ${other} and ${host})`, `keep one of the two mirrors in the cache settings`);
    seenUrls.set(normalized, host);
    const credentials = input.credentials?.[host];
    upstreams.push({ host, remoteUrl: normalized, ...(credentials ? { credentials } : {}) });
  }
  return { upstreams };
}

const slug = (host: string): string => host.replace(/[.:]/g, '-');

export const cacheContainerName = (host: string): string => `k3s-devreg-cache-${slug(host)}`;
export const cacheVolumeName = (host: string): string => `k3s-devreg-cache-${slug(host)}-data`;
export const cacheLabels = (host: string): Record<string, string> => ({ [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [CACHE_LABEL]: host });
