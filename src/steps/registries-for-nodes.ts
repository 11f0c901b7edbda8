/**
 * What the k3d nodes get as registries.yaml: our own registry's entries, merged with the user's
 * --registries-file (kept as-is, checked strictly), and how a change to it is shown (redacted).
 */
import { loadRegistriesFile } from '../registries/load.js';
import { mergeRegistries } from '../registries/merge.js';
import { redactedDiff } from '../registries/redacted-diff.js';
import type { RegistriesConfig } from '../registries/types.js';
import type { RegistriesDocument } from '../render/registries-yaml.js';
import { NODE_CONFIG_DIR } from '../spec.js';
import type { Runner } from '../tools/run.js';

/** Folders a k3d node can read: ours (mounted) and the node image's own certificate folders. */
export const K3D_NODE_VISIBLE_DIRS = [NODE_CONFIG_DIR, '/etc/ssl/certs', '/etc/pki'];

export interface NodesRegistries {
  document: RegistriesDocument;
  warnings: string[];
  diff: (oldText: string | undefined, newText: string) => string;
}

export async function registriesForNodes(
  ours: RegistriesDocument,
  request: { registriesFile?: string; strict: boolean; runner: Runner; env: NodeJS.ProcessEnv },
): Promise<NodesRegistries> {
  const diff = (oldText: string | undefined, newText: string) => redactedDiff(oldText, newText, 'registries.yaml');
  if (!request.registriesFile) return { document: ours, warnings: [], diff };
  const theirs = await loadRegistriesFile(request.registriesFile, {
    strict: request.strict,
    nodeVisibleDirs: K3D_NODE_VISIBLE_DIRS,
    runner: request.runner,
    env: request.env,
  });
  const document = mergeRegistries(ours as RegistriesConfig, theirs.config) as RegistriesDocument;
  return { document, warnings: theirs.warnings, diff };
}
