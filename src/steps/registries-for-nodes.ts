/**
 * What the k3d nodes get as registries.yaml: our own registry's entries, merged with the user's
 * --registries-file (kept as-is, checked strictly), and how a change to it is shown (redacted).
 */
import { readdir } from 'node:fs/promises';
import { withCacheMirrors } from '../cache/render.js';
import type { RegistriesConfig } from '../registries/types.js';
import type { RegistriesDocument } from '../render/registries-yaml.js';
import { NODE_CONFIG_DIR, type CacheSpec } from '../spec.js';
import { statePath } from '../state/layout.js';
import type { Runner } from '../tools/run.js';

/** The node image's own certificate folders, which every k3d node can read. */
const NODE_IMAGE_CERT_DIRS = ['/etc/ssl/certs', '/etc/pki'];

/**
 * What a k3d node can read of ours: exactly the files in the state folder's node/ (mounted at
 * NODE_CONFIG_DIR), plus the CA and registries.yaml that render writes there.
 */
async function nodeVisiblePaths(stateDir: string): Promise<string[]> {
  const present = await readdir(statePath(stateDir, 'nodeDir')).catch(() => [] as string[]);
  const names = new Set([...present, 'ca.crt', 'registries.yaml']);
  return [...[...names].sort().map((name) => `${NODE_CONFIG_DIR}/${name}`), ...NODE_IMAGE_CERT_DIRS];
}

export interface NodesRegistries {
  document: RegistriesDocument;
  warnings: string[];
  diff: (oldText: string | undefined, newText: string) => Promise<string>;
}

export async function registriesForNodes(
  ours: RegistriesDocument,
  request: { spec: { stateDir: string; cache?: CacheSpec }; registriesFile?: string; strict: boolean; runner: Runner; env: NodeJS.ProcessEnv },
): Promise<NodesRegistries> {
  const cache = request.spec.cache;
  if (!request.registriesFile) {
    const document = cache ? withCacheMirrors(ours, cache).document : ours;
    return { document, warnings: [], diff: diffAgainst(document) };
  }
  const { loadRegistriesFile } = await import('../registries/load.js');
  const { mergeRegistries } = await import('../registries/merge.js');
  const theirs = await loadRegistriesFile(request.registriesFile, {
    strict: request.strict,
    nodeVisibleDirs: await nodeVisiblePaths(request.spec.stateDir),
    nodeFileHint: `put the file in ${statePath(request.spec.stateDir, 'nodeDir')}/ and it appears in ${NODE_CONFIG_DIR}/ on every node`,
    runner: request.runner,
    env: request.env,
  });
  const merged = mergeRegistries(ours as RegistriesConfig, theirs.config) as RegistriesDocument;
  // The user's own mirror for a cached upstream wins: their file is kept as it is.
  const { document, notes } = cache ? withCacheMirrors(merged, cache, new Set(Object.keys(theirs.config.mirrors ?? {}))) : { document: merged, notes: [] };
  return { document, warnings: [...theirs.warnings, ...notes], diff: diffAgainst(document) };
}

/** The diff to show, for a new text rendered from `document` (a new file is shown from the document itself). */
function diffAgainst(document: RegistriesDocument): NodesRegistries['diff'] {
  // Loaded only when needed: a re-run with nothing to merge or show starts faster (npm run bench).
  return async (oldText, newText) =>
    oldText === undefined
      ? (await import('../registries/redacted-preview.js')).redactedPreviewOf(document, 'registries.yaml')
      : (await import('../registries/redacted-diff.js')).redactedDiff(oldText, newText, 'registries.yaml');
}
