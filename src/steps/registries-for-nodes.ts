/**
 * What the k3d nodes get as registries.yaml: our own registry's entries, merged with the user's
 * --registries-file (kept as-is, checked strictly), and how a change to it is shown (redacted).
 */
import type { RegistriesConfig } from '../registries/types.js';
import type { RegistriesDocument } from '../render/registries-yaml.js';
import { NODE_CONFIG_DIR } from '../spec.js';
import type { Runner } from '../tools/run.js';

/** Folders a k3d node can read: ours (mounted) and the node image's own certificate folders. */
export const K3D_NODE_VISIBLE_DIRS = [NODE_CONFIG_DIR, '/etc/ssl/certs', '/etc/pki'];

export interface NodesRegistries {
  document: RegistriesDocument;
  warnings: string[];
  diff: (oldText: string | undefined, newText: string) => Promise<string>;
}

export async function registriesForNodes(
  ours: RegistriesDocument,
  request: { registriesFile?: string; strict: boolean; runner: Runner; env: NodeJS.ProcessEnv },
): Promise<NodesRegistries> {
  // Loaded only when needed: a re-run with nothing to merge or show starts faster (npm run bench).
  const diff = async (oldText: string | undefined, newText: string) =>
    (await import('../registries/redacted-diff.js')).redactedDiff(oldText, newText, 'registries.yaml');
  if (!request.registriesFile) return { document: ours, warnings: [], diff };
  const { loadRegistriesFile } = await import('../registries/load.js');
  const { mergeRegistries } = await import('../registries/merge.js');
  const theirs = await loadRegistriesFile(request.registriesFile, {
    strict: request.strict,
    nodeVisibleDirs: K3D_NODE_VISIBLE_DIRS,
    runner: request.runner,
    env: request.env,
  });
  const document = mergeRegistries(ours as RegistriesConfig, theirs.config) as RegistriesDocument;
  return { document, warnings: theirs.warnings, diff };
}
