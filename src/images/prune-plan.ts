/**
 * Which tags `images prune --keep N` deletes (no I/O). N counts images (digests), not tags: `latest`
 * and `v3` on one digest take one place. Newest first by the image config's `created` time; images
 * without one count as oldest, and ties go by tag name, highest first (v10 before v9). The registry
 * deletes manifests, not tags: a digest any kept tag points at is never deleted, so a tag sharing it
 * stays too; nor is a platform image a kept manifest list or index names.
 */
import { UserError } from '../errors.js';
import { registryAddress } from '../spec.js';
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

/** ko, jib and bazel write `created` as 1970 (or leave it out): such times say nothing about age. */
const meaningfulTime = (t: TagInfo): number | undefined => {
  const time = t.created ? Date.parse(t.created) : Number.NaN;
  return Number.isNaN(time) || time <= 0 ? undefined : time;
};

const byTagName = new Intl.Collator('en', { numeric: true });

export function newestFirst(tags: readonly TagInfo[]): TagInfo[] {
  const time = (t: TagInfo) => meaningfulTime(t) ?? Number.NEGATIVE_INFINITY;
  return [...tags].sort((a, b) => time(b) - time(a) || byTagName.compare(b.tag, a.tag));
}

/** Tags grouped by the digest they point at, in the order the digests first appear. */
export function removalsFor(tags: readonly { tag: string; digest: string }[], digests: ReadonlySet<string>): DigestRemoval[] {
  const byDigest = new Map<string, string[]>();
  for (const t of tags) if (digests.has(t.digest)) byDigest.set(t.digest, [...(byDigest.get(t.digest) ?? []), t.tag]);
  return [...byDigest].map(([digest, names]) => ({ digest, tags: names }));
}

/** The digests of the platform images the given lists and indexes name. */
function childrenOf(tags: readonly TagInfo[]): Set<string> {
  return new Set(tags.flatMap((t) => t.children ?? []));
}

export function planPrune(repos: readonly RepositoryInfo[], keep: number): RepositoryPrune[] {
  return repos.map((repo) => {
    const ordered = newestFirst(repo.tags);
    const newestDigests = [...new Set(ordered.map((t) => t.digest))].slice(0, keep);
    const keptTags = ordered.filter((t) => newestDigests.includes(t.digest));
    // A kept list needs its platform images: deleting one (tagged on its own too) breaks the list's pull there.
    const kept = new Set([...newestDigests, ...childrenOf(keptTags)]);
    const doomed = new Set(ordered.filter((t) => !kept.has(t.digest)).map((t) => t.digest));
    return { repository: repo.name, keep: ordered.filter((t) => kept.has(t.digest)).map((t) => t.tag), remove: removalsFor(ordered, doomed) };
  });
}

/**
 * One line on how the newest were told apart when the created times could not do it: images built
 * by ko, jib or bazel carry 1970 or none, and equal times tie. undefined when every time differs.
 */
export function orderNote(repos: readonly RepositoryInfo[], keep: number): string | undefined {
  const byTime = repos.filter((repo) => {
    const perDigest = new Map(repo.tags.map((t) => [t.digest, meaningfulTime(t)]));
    const times = [...perDigest.values()];
    return perDigest.size > keep && (times.includes(undefined) || new Set(times).size < times.length);
  });
  if (byTime.length === 0) return undefined;
  return `${byTime.map((r) => r.name).join(', ')}: created times missing (or 1970, as ko, jib and bazel write them) or equal, so those images were ordered by tag name, highest (v10 before v9) newest.`;
}

/** The tags of lists and indexes that stay and name a digest about to go: deleting it would break their pull there. */
export function listsNeeding(tags: readonly TagInfo[], doomed: ReadonlySet<string>): string[] {
  return tags.filter((t) => !doomed.has(t.digest) && (t.children ?? []).some((c) => doomed.has(c))).map((t) => t.tag);
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

/** Our registry's own names in front of a repository: localhost:PORT as docker pushed it, 127.0.0.1:PORT, and the nodes' name. */
function ownHost(first: string, port: number | undefined): boolean {
  const local = /^(?:localhost|127\.0\.0\.1):(\d+)$/.exec(first);
  if (local) {
    if (port !== undefined && Number(local[1]) !== port) throw new UserError(`${first} is not this cluster's registry (localhost:${port})`, `name the image as k3s-devreg images ls shows it, or pick the cluster with --name`);
    return true;
  }
  return first === registryAddress();
}

/**
 * `images rm`'s argument: REPO, REPO:TAG or REPO@DIGEST; our registry's own name in front
 * (localhost:31113/app, as docker pushed it) is dropped. Any other host part stays: ghcr.io/org/app
 * is a repository name in our registry. `port` is the published one; undefined (before the cluster
 * is known) takes any localhost port.
 */
export function parseRemoveTarget(text: string, port: number | undefined): { repository: string; tag?: string; digest?: string } {
  const fix = 'name it as k3s-devreg images ls shows it: REPO, REPO:TAG or REPO@sha256:...';
  const [named = '', digest] = text.split('@');
  const [first = '', ...rest] = named.split('/');
  const withoutHost = rest.length > 0 && ownHost(first, port) ? rest.join('/') : named;
  const colon = withoutHost.lastIndexOf(':');
  const repository = colon > withoutHost.lastIndexOf('/') && colon >= 0 ? withoutHost.slice(0, colon) : withoutHost;
  const tag = repository === withoutHost ? undefined : withoutHost.slice(colon + 1);
  if (!REPO.test(repository)) throw new UserError(`${JSON.stringify(text)} is not a repository name`, fix);
  if (tag !== undefined && !TAG.test(tag)) throw new UserError(`${JSON.stringify(tag)} is not a valid tag`, fix);
  if (digest !== undefined && (!/^sha256:[0-9a-f]{64}$/.test(digest) || tag !== undefined)) throw new UserError(`${JSON.stringify(text)} is not REPO@sha256:<64 hex digits>`, fix);
  return { repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}
