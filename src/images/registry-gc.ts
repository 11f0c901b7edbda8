/**
 * The registry's garbage collection as `images prune` runs it (no I/O): the read-only setting that
 * keeps pushes out meanwhile, the command, and what its output says.
 *
 * distribution v2.8 reads `storage.maintenance.readonly` from the environment only as a whole map:
 * `REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}` (YAML of the map) refuses pushes and
 * deletes with 405 and serves pulls (`{"enabled":false}`, which the Deployment renders, is writable); `REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED=true` makes it
 * panic at start ("readonly config key must contain additional keys"). Tested in
 * test/docker/images-housekeeping.test.ts.
 */
import type { RepositoryInfo } from './registry-catalog.js';

export { READ_ONLY_ENV, READ_ONLY_VALUE, WRITABLE_VALUE } from '../render/manifests/registry.js';

/** Whether the variable's value (YAML of the map) switches read-only on; absent means writable. */
export const isReadOnlyValue = (value: string | undefined): boolean => value !== undefined && /(^|[{,\s])"?enabled"?\s*:\s*true\b/.test(value);

/** The configuration file of registry:2 (and of our test stand-in); the env adds to it, in exec too. */
export const REGISTRY_CONFIG = '/etc/docker/registry/config.yml';

/**
 * v2.8's `--delete-untagged` deletes every manifest no tag points at, including the platform
 * images of a tagged manifest list (buildx pushes one even for a single platform, with its
 * attestations), and then their layers: the list would stay but no longer pull. It is safe only
 * when no remaining tag is a list or index.
 */
export function canDeleteUntagged(remaining: readonly RepositoryInfo[]): boolean {
  return remaining.every((repo) => repo.tags.every((t) => t.platforms === undefined && !/manifest\.list|image\.index/.test(t.mediaType)));
}

export function garbageCollectArgv(deleteUntagged: boolean): string[] {
  return ['/bin/registry', 'garbage-collect', ...(deleteUntagged ? ['--delete-untagged'] : []), REGISTRY_CONFIG];
}

export interface GcSummary {
  blobsMarked: number;
  blobsDeleted: number;
  manifestsDeleted: number;
}

/** Its last line: `6 blobs marked, 4 blobs and 2 manifests eligible for deletion`. */
export function parseGcSummary(output: string): GcSummary | undefined {
  const match = /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/.exec(output);
  if (!match) return undefined;
  return { blobsMarked: Number(match[1]), blobsDeleted: Number(match[2]), manifestsDeleted: Number(match[3]) };
}
