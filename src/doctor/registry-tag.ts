/**
 * What the registry itself says about the image a failed pull names, when that image is ours
 * (localhost:PORT/... or container-registry.local:5000/...): a missing tag or repository is then
 * the answer, whatever endpoint containerd's error happened to name last. Pure: the asking is in
 * steps/doctor-registry-tag.ts.
 */
import { REGISTRY_HOST, REGISTRY_PORT } from '../spec.js';
import type { PullErrorExplanation } from './pull-errors.js';

export interface RegistryImage {
  /** As the pod names it. */
  image: string;
  repository: string;
  /** A tag, or a digest (sha256:...). */
  reference: string;
}

export type TagAnswer = { state: 'present' } | { state: 'no-tag'; tags: string[] } | { state: 'no-repository' };

const SHOWN_TAGS = 5;

/** The image a kubelet event or containerd error is about ("Failed to pull image "X"", "PullImage "X"", "pull and unpack image "X""). */
export function pulledImageOf(message: string): string | undefined {
  return /(?:pull image|PullImage|pull and unpack image) \\?"([^"\\\s]+)\\?"/.exec(message)?.[1];
}

/** The repository and tag (or digest) of an image on our registry, by either of its names; undefined for any other. */
export function onOurRegistry(image: string, port: number | undefined): RegistryImage | undefined {
  const hosts = [`${REGISTRY_HOST}:${REGISTRY_PORT}`, ...(port !== undefined ? [`localhost:${port}`] : [])];
  const host = hosts.find((h) => image.startsWith(`${h}/`));
  if (!host) return undefined;
  const rest = image.slice(host.length + 1);
  const at = rest.indexOf('@');
  const colon = rest.lastIndexOf(':');
  const [repository, reference] = at !== -1 ? [rest.slice(0, at), rest.slice(at + 1)] : colon > rest.lastIndexOf('/') ? [rest.slice(0, colon), rest.slice(colon + 1)] : [rest, 'latest'];
  return repository && reference ? { image, repository, reference } : undefined;
}

/** What the registry holds instead, in a few words: at most SHOWN_TAGS tags. */
export function registrySays(target: RegistryImage, answer: Exclude<TagAnswer, { state: 'present' }>): string {
  const { repository, reference } = target;
  if (answer.state === 'no-repository') return `the registry has no repository ${repository}`;
  const tags = [...answer.tags].sort();
  const shown = tags.slice(0, SHOWN_TAGS).join(', ');
  const more = tags.length > SHOWN_TAGS ? ` and ${tags.length - SHOWN_TAGS} more` : '';
  return `the registry has no ${reference.includes(':') ? 'manifest' : 'tag'} ${reference} of ${repository} (${tags.length > 0 ? `it has: ${shown}${more}` : 'it has no tags'})`;
}

/**
 * The explanation of a failed pull of `target` once the registry was asked: a missing tag or
 * repository replaces whatever the error's words suggested (with what the registry said, for the
 * evidence); a present one, or no answer, leaves the classified explanation as it is (undefined).
 */
export function registryVerdict(target: RegistryImage, answer: TagAnswer | undefined, localPort: number | undefined): { explanation: PullErrorExplanation; evidence: string } | undefined {
  if (!answer || answer.state === 'present') return undefined;
  const said = registrySays(target, answer);
  const push = localPort !== undefined ? `localhost:${localPort}/${target.repository}:${target.reference.includes(':') ? '<tag>' : target.reference}` : `localhost:<port>/${target.repository}:<tag>`;
  return {
    explanation: {
      kind: 'manifest-unknown',
      cause: `${said}, so no endpoint could serve ${target.image}`,
      fix: `push it (docker tag IMAGE ${push} && docker push ${push}) or correct the name and tag in the pod spec; k3s-devreg images ls shows what the registry holds`,
    },
    evidence: said,
  };
}
