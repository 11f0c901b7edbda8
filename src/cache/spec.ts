/**
 * The pull-through cache shared by every cluster on a docker daemon (issue 12): which upstreams it
 * caches, validated before anything is created, and the docker names and labels of each one.
 */
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { parseReference } from '../registries/credentials.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, type CacheSpec, type CacheUpstreamSpec, type CredentialReference } from '../spec.js';

export type { CacheSpec, CacheUpstreamSpec } from '../spec.js';

/** Marks a docker object as one upstream's cache; the value is the upstream host. */
export const CACHE_LABEL = 'dev.k3s-devreg/cache';
/** Port inside the docker network only; the cache is never published on a host interface. */
export const CACHE_PORT = 5000;
export const DEFAULT_UPSTREAMS: Readonly<Record<string, string>> = { 'docker.io': 'https://registry-1.docker.io' };

export interface CacheCredentials {
  username: string;
  password: string;
}

/** One upstream with its credentials resolved: what the cache's config file is rendered from. */
export interface CacheUpstream {
  host: string;
  remoteUrl: string;
  credentials?: CacheCredentials;
}

export interface CacheInput {
  mirrors?: Record<string, string>;
  credentials?: Record<string, { username: string; password: CredentialReference }>;
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
  const upstreams: CacheUpstreamSpec[] = [];
  for (const [host, remoteUrl] of Object.entries(input.mirrors ?? {})) {
    checkHost(host);
    merged[host] = remoteUrl;
  }
  for (const host of Object.keys(input.credentials ?? {})) {
    if (!(host in merged)) throw new UserError(`cache credentials for ${host}, which the cache has no mirror for`, `add ${host} under cache.mirrors, or remove its credentials`);
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
/** A docker object of ours that is a cache (both labels). */
export const isOurCache = (labels: Record<string, string>): boolean => labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && Boolean(labels[CACHE_LABEL]);

export const cacheLabels = (host: string): Record<string, string> => ({ [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [CACHE_LABEL]: host });

/** Each upstream's config file (it may hold credentials: 0600), shared by every cluster of this machine. */
export const cacheConfigPath = (stateRoot: string, host: string): string => join(stateRoot, 'cache', `${slug(host)}.yml`);

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The team file's `cache:`: false (off), true (the default docker.io cache) or a mapping of
 * `mirrors` (host: https URL) and `credentials` (host: {username, password: a reference}).
 */
export function parseCacheSetting(value: unknown, where: string): CacheSpec | false {
  if (value === false) return false;
  if (value === true || value === null) return cacheSpec();
  const fix = 'write cache: false, or cache: {mirrors: {ghcr.io: https://ghcr.io}, credentials: {docker.io: {username: me, password: {fromEnv: DOCKERHUB_TOKEN}}}}';
  if (!isMapping(value)) throw new UserError(`${where} must be true, false or a mapping`, fix);
  const unknown = Object.keys(value).filter((key) => key !== 'mirrors' && key !== 'credentials');
  if (unknown.length > 0) throw new UserError(`${where}: unknown field ${JSON.stringify(unknown[0])}`, 'use mirrors and credentials');
  const { mirrors = {}, credentials = {} } = value;
  if (!isMapping(mirrors) || Object.values(mirrors).some((url) => typeof url !== 'string')) {
    throw new UserError(`${where}.mirrors must map registry hosts to https URLs`, fix);
  }
  if (!isMapping(credentials)) throw new UserError(`${where}.credentials must map registry hosts to {username, password}`, fix);
  const parsed: NonNullable<CacheInput['credentials']> = {};
  for (const [host, entry] of Object.entries(credentials)) {
    const at = `${where}.credentials.${host}`;
    if (!isMapping(entry) || typeof entry.username !== 'string' || entry.username === '' || entry.password === undefined) {
      throw new UserError(`${at} needs a username and a password`, `write ${host}: {username: NAME, password: {fromEnv: VARIABLE}}`);
    }
    if (!isMapping(entry.password)) {
      // A team file is committed: a password written into it would be in the repository's history.
      throw new UserError(`${at}.password is written out in the file`, 'give where to find it instead: {fromEnv: NAME}, {fromFile: PATH} or {fromCommand: [program, arg, ...]}');
    }
    parsed[host] = { username: entry.username, password: parseReference(entry.password, `${at}.password`) };
  }
  return cacheSpec({ mirrors: mirrors as Record<string, string>, credentials: parsed });
}
