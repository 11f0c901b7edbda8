/**
 * doctor asks the registry itself, from this machine (the published port, the state folder's CA and
 * credentials), whether the repository and tag a failed pull names exist: the one answer containerd's
 * error cannot give when the endpoint it tried last was not the registry. Reads only.
 */
import { isKnownError } from '../errors.js';
import { onOurRegistry, type RegistryImage, type TagAnswer } from '../doctor/registry-tag.js';
import { headManifest } from '../tools/registry-api.js';
import { tagNames } from './images-registry.js';

export type TagAsker = (target: RegistryImage) => Promise<TagAnswer | undefined>;

/** What the asking needs of the state folder, as doctor read it once (doctor-node.ts readStateFacts). */
export interface RegistryTrust {
  caCert?: string;
  credentials?: { username: string; password: string };
}

/** One asker for a doctor run: each repository and tag asked once, however many nodes and the pod name it. */
export function tagAsker(state: RegistryTrust, port: number): TagAsker {
  const answers = new Map<string, Promise<TagAnswer | undefined>>();
  return (target) => {
    const key = `${target.repository}@${target.reference}`;
    if (!answers.has(key)) answers.set(key, askRegistryForTag(state, port, target));
    return answers.get(key)!;
  };
}

/** What the registry says about each of `images` that is ours (by localhost:`port` or its own name), by image. */
export async function askAboutImages(ask: TagAsker, images: readonly (string | undefined)[], port: number | undefined): Promise<Map<string, TagAnswer | undefined>> {
  const ours = [...new Set(images)].flatMap((image) => {
    const target = image === undefined ? undefined : onOurRegistry(image, port);
    return target ? [target] : [];
  });
  return new Map(await Promise.all(ours.map(async (t) => [t.image, await ask(t)] as const)));
}

/** A doctor run waits for this answer: shorter than images' 30 s. */
const TIMEOUT_MS = 10_000;

/** Present, no such tag (with the tags there are), or no such repository; undefined when the registry cannot be asked. */
export async function askRegistryForTag(state: RegistryTrust, port: number, target: RegistryImage): Promise<TagAnswer | undefined> {
  const { credentials, caCert } = state;
  if (!credentials || !caCert) return undefined;
  const endpoint = { port, caCert, credentials, timeoutMs: TIMEOUT_MS };
  try {
    if (await headManifest(endpoint, target.repository, target.reference)) return { state: 'present' };
    const tags = await tagNames(endpoint, target.repository);
    return tags === undefined ? { state: 'no-repository' } : { state: 'no-tag', tags };
  } catch (error) {
    if (isKnownError(error)) return undefined;
    throw error;
  }
}
