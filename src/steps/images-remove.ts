/**
 * `images rm REPO[:TAG]`: which digests go (the registry deletes manifests, so every tag sharing a
 * digest goes with it, and is named before asking), then one DELETE per digest.
 */
import { UserError } from '../errors.js';
import { listsNeeding, parseRemoveTarget, removalsFor, type DigestRemoval } from '../images/prune-plan.js';
import { shortDigest } from '../images/registry-catalog.js';
import { deleteManifest, type RegistryEndpoint } from '../tools/registry-api.js';
import { repositoryTags } from './images-registry.js';

/** Answers a yes/no question, or refuses (UserError) when nobody can be asked; --yes answers yes. */
export type Confirm = (question: string) => Promise<boolean>;

export interface RemovalPlan {
  repository: string;
  /** The tag asked for, if one was. */
  tag?: string;
  removals: DigestRemoval[];
}

const LS = 'see what the registry holds with k3s-devreg images ls';

export async function planRemoval(endpoint: RegistryEndpoint, text: string): Promise<RemovalPlan> {
  const { repository, tag, digest } = parseRemoveTarget(text, endpoint.port);
  const tags = await repositoryTags(endpoint, repository);
  if (!tags || tags.length === 0) throw new UserError(`the registry has no repository ${repository}`, LS);
  const wanted = tag !== undefined ? tags.find((t) => t.tag === tag)?.digest : digest;
  if (tag !== undefined && wanted === undefined) throw new UserError(`${repository} has no tag ${tag}`, LS);
  if (digest !== undefined && !tags.some((t) => t.digest === digest)) throw new UserError(`no tag of ${repository} points at ${digest}`, LS);
  const doomed = new Set(wanted !== undefined ? [wanted] : tags.map((t) => t.digest));
  const lists = listsNeeding(tags, doomed).map((t) => `${repository}:${t}`);
  if (lists.length > 0) {
    throw new UserError(
      `${text} is a platform image of ${lists.join(', ')}: deleting it would break ${lists.length === 1 ? 'that list' : 'those lists'} on its platform`,
      `delete the list first (k3s-devreg images rm ${lists[0]}), then this one if still wanted; or keep it`,
    );
  }
  return { repository, ...(tag !== undefined ? { tag } : {}), removals: removalsFor(tags, doomed) };
}

/** One line per digest: the tags that go, and the ones beside the asked-for tag that go with it. */
export function describeRemoval(plan: RemovalPlan): string[] {
  const askedTag = plan.tag;
  return plan.removals.map(({ digest, tags }) => {
    const others = tags.filter((t) => t !== askedTag);
    const also = askedTag !== undefined && others.length > 0 ? ` (${others.map((t) => `${plan.repository}:${t}`).join(', ')} point${others.length === 1 ? 's' : ''} at the same image and go${others.length === 1 ? 'es' : ''} too)` : '';
    return `${tags.map((t) => `${plan.repository}:${t}`).join(', ')} @${shortDigest(digest)}${also}`;
  });
}

/** DELETE of each digest; returns the tags that went (a digest already gone counts as gone). */
export async function deleteRemovals(endpoint: RegistryEndpoint, repository: string, removals: readonly DigestRemoval[]): Promise<string[]> {
  const gone: string[] = [];
  for (const { digest, tags } of removals) {
    await deleteManifest(endpoint, repository, digest);
    gone.push(...tags.map((t) => `${repository}:${t}`));
  }
  return gone;
}
