/**
 * settings.json in the state folder: the answers of the last run (agents, username, port, chosen
 * images), so a re-run with --yes or at the questions keeps them. No secret (credentials.json holds
 * the password). The cluster name is saved for the reader, never read back: it picks the folder.
 */
import { FIELD_CHECKS, FIELDS, type TeamConfig } from '../config-file.js';
import { UserError } from '../errors.js';
import * as spec from '../spec.js';
import { readCredentials } from './credentials.js';
import { statePath } from './layout.js';
import { readIfExists } from './write-files.js';

export type SavedSettings = Pick<TeamConfig, 'agents' | 'username' | 'port' | 'registryImage' | 'hostsImage' | 'k3sImage'> & {
  /** Saved only as false (`up --no-cache`): the cache stays off until `--cache` or the team file says otherwise. */
  cache?: false;
};

/** The fields settings.json holds, typed as in the team file. */
const SAVED = new Set<keyof TeamConfig>(['name', 'agents', 'username', 'port', 'registryImage', 'hostsImage', 'k3sImage']);

const DEFAULT_IMAGES = { registryImage: spec.DEFAULT_REGISTRY_IMAGE, hostsImage: spec.DEFAULT_HOSTS_IMAGE, k3sImage: spec.DEFAULT_K3S_IMAGE } as const;

/**
 * What a spec saves. An image is saved only when it is not the pinned default, so a user who never
 * chose one gets the next release's pin instead of a frozen copy of today's.
 */
export function serializeSettings(cluster: spec.ClusterSpec): string {
  const saved: Record<string, string | number> = { name: cluster.name, agents: cluster.agents, username: cluster.username, port: cluster.hostPort };
  for (const key of Object.keys(DEFAULT_IMAGES) as (keyof typeof DEFAULT_IMAGES)[]) {
    if (cluster[key] !== DEFAULT_IMAGES[key]) saved[key] = cluster[key];
  }
  return `${JSON.stringify(cluster.cacheOffSaved ? { ...saved, cache: false } : saved, null, 2)}\n`;
}

function damaged(path: string, problem: string): UserError {
  return new UserError(`${path} ${problem}`, `repair it, or delete ${path} to use the defaults again (the CA and credentials stay)`);
}

export function parseSettings(text: string, path: string): SavedSettings {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw damaged(path, 'is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw damaged(path, 'is not a JSON object');
  const settings: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === 'cache') {
      if (field !== false) throw damaged(path, `has cache ${JSON.stringify(field)}; only false is saved there`);
      settings.cache = false;
      continue;
    }
    // Unknown keys are a newer release's; ignoring them keeps a downgrade working.
    if (!SAVED.has(key as keyof TeamConfig)) continue;
    const expected = FIELDS[key as keyof TeamConfig];
    if (typeof field !== expected) throw damaged(path, `has ${key} ${JSON.stringify(field)}, not a ${expected}`);
    try {
      FIELD_CHECKS[key as keyof TeamConfig]?.(field as never, { file: path, field: key });
    } catch (error) {
      if (error instanceof UserError) throw new UserError(error.problem, `${error.fix}, or delete ${path} to use the defaults again`);
      throw error;
    }
    if (key !== 'name') settings[key] = field;
  }
  return settings as SavedSettings;
}

/**
 * The saved answers of the state folder `dir`. A folder from before settings.json still knows its
 * username, from credentials.json.
 */
export async function readSettings(dir: string): Promise<SavedSettings> {
  const path = statePath(dir, 'settings');
  const text = await readIfExists(path);
  if (text !== undefined) return parseSettings(text, path);
  const credentials = await readCredentials(dir);
  return credentials === undefined ? {} : { username: credentials.username };
}
