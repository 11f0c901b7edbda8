/**
 * Which tags `images prune --keep N` deletes (no I/O). Newest first by the image config's `created`
 * time; images without one count as oldest, and ties go by tag name, highest first (v10 before v9).
 * The registry deletes manifests, not tags: a digest any kept tag points at is never deleted, so a
 * tag sharing it stays too.
 */
import { UserError } from '../errors.js';
import { registryOf } from './bundle.js';
import type { RepositoryInfo, TagInfo } from './registry-catalog.js';

export interface DigestRemoval {
  digest: string;
  /** Every tag of the repository that points at the digest: all go with it. */
  tags: string[];
}

export interface RepositoryPrune {
  repository: string;
  keep: string[];
  remove: DigestRemoval[];
}

export const PRUNE_ORDER = "newest first by the image's created time (images without one count as oldest, then by tag name)";

const byTagName = new Intl.Collator('en', { numeric: true });

export function newestFirst(tags: readonly TagInfo[]): TagInfo[] {
  const time = (t: TagInfo) => (t.created ? Date.parse(t.created) : Number.NEGATIVE_INFINITY);
  return [...tags].sort((a, b) => time(b) - time(a) || byTagName.compare(b.tag, a.tag));
}

/** Tags grouped by the digest they point at, in the order the digests first appear. */
export function removalsFor(tags: readonly { tag: string; digest: string }[], digests: ReadonlySet<string>): DigestRemoval[] {
  const byDigest = new Map<string, string[]>();
  for (const t of tags) if (digests.has(t.digest)) byDigest.set(t.digest, [...(byDigest.get(t.digest) ?? []), t.tag]);
  return [...byDigest].map(([digest, names]) => ({ digest, tags: names }));
}

export function planPrune(repos: readonly RepositoryInfo[], keep: number): RepositoryPrune[] {
  return repos.map((repo) => {
    const ordered = newestFirst(repo.tags);
    const kept = new Set(ordered.slice(0, keep).map((t) => t.digest));
    const doomed = new Set(ordered.filter((t) => !kept.has(t.digest)).map((t) => t.digest));
    return { repository: repo.name, keep: ordered.filter((t) => kept.has(t.digest)).map((t) => t.tag), remove: removalsFor(ordered, doomed) };
  });
}

export const removedTags = (plan: readonly RepositoryPrune[]): number => plan.reduce((n, r) => n + r.remove.reduce((m, d) => m + d.tags.length, 0), 0);

/** What the prompt and the dry summary say: each repository's deleted and kept tags. */
export function describePrune(plan: readonly RepositoryPrune[]): string[] {
  return plan
    .filter((r) => r.remove.length > 0)
    .map((r) => `${r.repository}: delete ${r.remove.flatMap((d) => d.tags).join(', ')}; keep ${r.keep.join(', ') || 'none'}`);
}

const REPO = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * `images rm`'s argument: REPO, REPO:TAG or REPO@DIGEST; a registry host in front (localhost:31113/app,
 * as docker pushed it) is dropped, since there is only our registry.
 */
export function parseRemoveTarget(text: string): { repository: string; tag?: string; digest?: string } {
  const fix = 'name it as k3s-devreg images ls shows it: REPO, REPO:TAG or REPO@sha256:...';
  const [named = '', digest] = text.split('@');
  const { host, path } = registryOf(named);
  const withoutHost = host === 'docker.io' && !named.startsWith('docker.io/') ? named : path;
  const colon = withoutHost.lastIndexOf(':');
  const repository = colon > withoutHost.lastIndexOf('/') && colon >= 0 ? withoutHost.slice(0, colon) : withoutHost;
  const tag = repository === withoutHost ? undefined : withoutHost.slice(colon + 1);
  if (!REPO.test(repository)) throw new UserError(`${JSON.stringify(text)} is not a repository name`, fix);
  if (tag !== undefined && !TAG.test(tag)) throw new UserError(`${JSON.stringify(tag)} is not a valid tag`, fix);
  if (digest !== undefined && (!/^sha256:[0-9a-f]{64}$/.test(digest) || tag !== undefined)) throw new UserError(`${JSON.stringify(text)} is not REPO@sha256:<64 hex digits>`, fix);
  return { repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}
