/**
 * Our running registry, read from this machine for `images ls | rm | prune | du`: where it answers
 * (the published port, the saved credentials and CA), its repositories and tags (every page of the
 * Link headers), and what each tag holds (manifests, and the config for its created time).
 */
import { UserError } from '../errors.js';
import { configCreated, imageBlobs, parseManifest, tagInfo, type Blob, type RepositoryInfo, type TagInfo } from '../images/registry-catalog.js';
import { kubeContext } from '../spec.js';
import { statePath } from '../state/layout.js';
import { readIfExists } from '../state/write-files.js';
import { catalogPage, getBlob, getManifest, tagsPage, type RegistryEndpoint } from '../tools/registry-api.js';
import type { Runner } from '../tools/run.js';
import { findVerifyTarget } from './verify-target.js';

export interface RegistryTarget {
  cluster: string;
  context: string;
  /** localhost:PORT, the name docker pushes to. */
  registry: string;
  endpoint: RegistryEndpoint;
}

export async function findRegistry(run: Runner, cluster: string, stateDir: string): Promise<RegistryTarget> {
  const { port, credentials } = await findVerifyTarget(run, cluster, stateDir);
  const caCert = await readIfExists(statePath(stateDir, 'caCert'));
  if (!caCert) throw new UserError(`no CA certificate at ${statePath(stateDir, 'caCert')}`, 'run k3s-devreg up (or reset, if the state folder was lost)');
  return { cluster, context: kubeContext(cluster), registry: `localhost:${port}`, endpoint: { port, caCert, credentials } };
}

async function allPages<T>(read: (page?: string) => Promise<{ items: T[]; next?: string } | undefined>): Promise<T[] | undefined> {
  const items: T[] = [];
  let page: string | undefined;
  do {
    const got = await read(page);
    if (!got) return page === undefined ? undefined : items;
    items.push(...got.items);
    page = got.next;
  } while (page);
  return items;
}

export async function repositoryNames(endpoint: RegistryEndpoint): Promise<string[]> {
  return (await allPages((page) => catalogPage(endpoint, page).then((p) => ({ items: p.repositories, ...(p.next ? { next: p.next } : {}) })))) ?? [];
}

/** Every tag of a repository; undefined when the registry does not know the repository. */
export async function tagNames(endpoint: RegistryEndpoint, repository: string): Promise<string[] | undefined> {
  return allPages((page) => tagsPage(endpoint, repository, page).then((p) => p && { items: p.tags, ...(p.next ? { next: p.next } : {}) }));
}

/** One image manifest's blobs and created time; a list's children the same way, one level down. */
async function readImage(endpoint: RegistryEndpoint, repository: string, reference: string): Promise<{ head: Blob; mediaType: string; blobs: Blob[]; created: (string | undefined)[]; list?: { platforms: string[]; children: string[] } } | undefined> {
  const manifest = await getManifest(endpoint, repository, reference);
  if (!manifest) return undefined;
  const head = { digest: manifest.digest, size: Buffer.byteLength(manifest.body, 'utf8') };
  const parsed = parseManifest(manifest.mediaType, manifest.body);
  if (parsed.kind === 'image') {
    return { head, mediaType: manifest.mediaType, blobs: imageBlobs(head, parsed), created: [configCreated(await getBlob(endpoint, repository, parsed.config.digest))] };
  }
  if (parsed.kind === 'index') {
    const children = await Promise.all(parsed.manifests.map((m) => readImage(endpoint, repository, m.digest)));
    const present = children.filter((c) => c !== undefined);
    return {
      head,
      mediaType: manifest.mediaType,
      blobs: [head, ...present.flatMap((c) => c.blobs)],
      created: present.flatMap((c) => c.created),
      list: { platforms: parsed.manifests.map((m) => m.platform ?? m.digest.slice(0, 19)), children: parsed.manifests.map((m) => m.digest) },
    };
  }
  return { head, mediaType: manifest.mediaType, blobs: [head], created: [] };
}

export async function describeTag(endpoint: RegistryEndpoint, repository: string, tag: string): Promise<TagInfo | undefined> {
  const image = await readImage(endpoint, repository, tag);
  return image && tagInfo(tag, image.mediaType, image.blobs, image.created, image.list);
}

/** A few requests at a time: enough to hide the round trips, few enough for a small registry pod. */
async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

/** A repository's tags described, in name order; undefined when the registry does not know it, and a tag deleted meanwhile left out. */
export async function repositoryTags(endpoint: RegistryEndpoint, repository: string): Promise<TagInfo[] | undefined> {
  const tags = await tagNames(endpoint, repository);
  if (!tags) return undefined;
  const described = await inBatches(tags.sort(), 8, (tag) => describeTag(endpoint, repository, tag));
  return described.filter((t) => t !== undefined);
}

/** Every repository with its tags described, in catalog order (a few repositories at a time, each a few tags at a time). */
export async function listImages(endpoint: RegistryEndpoint): Promise<RepositoryInfo[]> {
  const names = await repositoryNames(endpoint);
  const described = await inBatches(names, 4, async (name) => ({ name, tags: (await repositoryTags(endpoint, name)) ?? [] }));
  // A repository whose every tag was deleted stays in the catalog (v2.8 never forgets one): not shown.
  return described.filter((repo) => repo.tags.length > 0);
}
