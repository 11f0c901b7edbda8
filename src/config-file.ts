/**
 * The team config file, `k3s-devreg.yaml`: the same fields as the flags, committed to a repo so a
 * team shares one setup. Unknown keys are errors: a typo must not silently fall back to a default.
 */
import { dirname, join, resolve } from 'node:path';
import { parseCacheSetting, type CacheSpec } from './cache/spec.js';
import { UserError } from './errors.js';
import { nearest } from './nearest.js';
import * as spec from './spec.js';
import { readIfExists } from './state/write-files.js';

export interface TeamConfig {
  name?: string;
  agents?: number;
  username?: string;
  port?: number;
  registryImage?: string;
  hostsImage?: string;
  k3sImage?: string;
  registriesFile?: string;
  strict?: boolean;
  /** Start from an `images load` bundle only (--offline). */
  offline?: boolean;
  /** Your own images for `images save` to bundle for the nodes (as --with). */
  images?: string[];
  /** The pull-through cache: false turns it off (cache/spec.ts parseCacheSetting). */
  cache?: CacheSpec | false;
}

/** Each field's YAML type (settings.json shares them). */
export const FIELDS: Record<keyof TeamConfig, 'string' | 'number' | 'boolean' | 'cache' | 'list'> = {
  name: 'string',
  agents: 'number',
  username: 'string',
  port: 'number',
  registryImage: 'string',
  hostsImage: 'string',
  k3sImage: 'string',
  registriesFile: 'string',
  strict: 'boolean',
  offline: 'boolean',
  images: 'list',
  cache: 'cache',
};

export const DEFAULT_CONFIG_FILE = 'k3s-devreg.yaml';

/** What a type error shows as an example: the default where there is one. */
const EXAMPLES: Partial<Record<keyof TeamConfig, string>> = {
  name: spec.DEFAULT_CLUSTER_NAME,
  agents: String(spec.DEFAULT_AGENTS),
  username: spec.DEFAULT_USERNAME,
  port: String(spec.NODE_PORT),
  registryImage: spec.DEFAULT_REGISTRY_IMAGE,
  hostsImage: spec.DEFAULT_HOSTS_IMAGE,
  k3sImage: spec.DEFAULT_K3S_IMAGE,
  registriesFile: './registries.yaml',
};

/**
 * The value checks of the fields that name the cluster's shape, with the file and the field as the
 * source: an error says which line to change, not a flag nobody passed. Shared with settings.json.
 */
export const FIELD_CHECKS: Partial<Record<keyof TeamConfig, (value: never, source: spec.InputSource) => unknown>> = {
  name: (v: string, source) => spec.validateClusterName(v, source),
  agents: (v: number, source) => spec.validateAgents(v, source),
  username: (v: string, source) => spec.validateUsername(v, source),
  port: (v: number, source) => spec.validateHostPort(v, source),
  registryImage: (v: string, source) => spec.validateImage(v, source),
  hostsImage: (v: string, source) => spec.validateImage(v, source),
  k3sImage: (v: string, source) => spec.validateImage(v, source),
};

/**
 * The team file nearest to `cwd`: this folder, then each parent (as git finds .git), so running from
 * a subfolder of the repository still uses it.
 */
async function findTeamFile(cwd: string): Promise<{ path: string; text: string } | undefined> {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const path = join(dir, DEFAULT_CONFIG_FILE);
    const text = await readIfExists(path);
    if (text !== undefined) return { path, text };
    if (dirname(dir) === dir) return undefined;
  }
}

export async function loadConfigFile(explicit: string | undefined, cwd: string): Promise<{ config: TeamConfig; path?: string }> {
  let found: { path: string; text: string } | undefined;
  if (explicit) {
    const path = resolve(cwd, explicit);
    const text = await readIfExists(path);
    if (text === undefined) throw new UserError(`config file ${path} does not exist`, 'check the --config path');
    found = { path, text };
  } else {
    found = await findTeamFile(cwd);
  }
  if (!found) return { config: {} };
  const { path, text } = found;
  // Loaded only when there is a team file: yaml costs start-up time a plain re-render need not pay.
  const { parse } = await import('yaml');
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    // yaml's first line ends "at line L, column C:" before a code frame that is dropped here.
    const summary = (error as Error).message.split('\n')[0]?.replace(/:\s*$/, '') ?? '';
    throw new UserError(`${path} is not valid YAML: ${summary}`, 'fix the YAML syntax (indentation, quotes, a missing colon)');
  }
  if (value === null || value === undefined) return { config: {}, path };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(`${path} must be a YAML mapping`, `use fields like "name: devreg" (${Object.keys(FIELDS).join(', ')})`);
  }
  for (const [key, field] of Object.entries(value)) {
    const expected = FIELDS[key as keyof TeamConfig];
    if (!expected) {
      const guess = nearest(key, Object.keys(FIELDS), (s) => s.toLowerCase());
      throw new UserError(`${path}: unknown field ${JSON.stringify(key)}`, `${guess ? `did you mean ${guess}? (fields: ` : 'use one of '}${Object.keys(FIELDS).join(', ')}${guess ? ')' : ''}`);
    }
    if (expected === 'list') {
      if (!Array.isArray(field) || field.some((item) => typeof item !== 'string' || item === '')) {
        throw new UserError(`${path}: field ${key} must be a list of image names`, `e.g. ${key}: [ghcr.io/me/app:1.0, postgres:16]`);
      }
      for (const item of field as string[]) spec.validateImage(item, { file: path, field: key });
      continue;
    }
    if (expected === 'cache') {
      (value as TeamConfig).cache = parseCacheSetting(field, `${path}: cache`);
      continue;
    }
    if (typeof field !== expected) {
      throw new UserError(`${path}: field ${key} must be a ${expected}`, `e.g. ${key}: ${EXAMPLES[key as keyof TeamConfig] ?? (expected === 'boolean' ? 'true' : 'value')}`);
    }
    // An empty string would silently mean "not set" to every `??` and `if` downstream.
    if (field === '') throw new UserError(`${path}: field ${key} is empty`, `give ${key} a value, or remove the line`);
    FIELD_CHECKS[key as keyof TeamConfig]?.(field as never, { file: path, field: key });
  }
  return { config: value as TeamConfig, path };
}
