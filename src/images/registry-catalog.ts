/**
 * What our registry holds, from its manifests (no I/O): Docker schema2 and OCI image manifests,
 * manifest lists and OCI indexes; what each tag takes (manifest + config + layers, and for a list
 * its platforms' images), the per-repository unique bytes, the `images ls` table.
 */
import { MEDIA } from '../tools/registry-api.js';

export interface Blob {
  digest: string;
  size: number;
}

export type ParsedManifest =
  | { kind: 'image'; config: Blob; layers: Blob[] }
  | { kind: 'index'; manifests: (Blob & { platform?: string })[] }
  | { kind: 'other' };

interface ManifestJson {
  schemaVersion?: number;
  mediaType?: string;
  config?: Partial<Blob>;
  layers?: Partial<Blob>[];
  manifests?: (Partial<Blob> & { platform?: { os?: string; architecture?: string; variant?: string } })[];
}

const blob = (b: Partial<Blob> | undefined): Blob => ({ digest: String(b?.digest ?? ''), size: Number(b?.size ?? 0) });

/** The kind comes from the Content-Type, else the body's own mediaType or shape (OCI makes mediaType optional). */
export function parseManifest(contentType: string, body: string): ParsedManifest {
  let parsed: ManifestJson;
  try {
    parsed = JSON.parse(body) as ManifestJson;
  } catch {
    return { kind: 'other' };
  }
  const type = [MEDIA.dockerManifest, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.ociIndex].find((t) => contentType.startsWith(t)) ?? parsed.mediaType ?? '';
  const isIndex = type === MEDIA.dockerList || type === MEDIA.ociIndex || (!type && Array.isArray(parsed.manifests));
  const isImage = type === MEDIA.dockerManifest || type === MEDIA.ociManifest || (!type && parsed.schemaVersion === 2 && parsed.config !== undefined);
  if (isIndex) {
    return {
      kind: 'index',
      manifests: (parsed.manifests ?? []).map((m) => {
        const p = m.platform;
        return { ...blob(m), ...(p?.os ? { platform: [p.os, p.architecture, p.variant].filter(Boolean).join('/') } : {}) };
      }),
    };
  }
  if (isImage) return { kind: 'image', config: blob(parsed.config), layers: (parsed.layers ?? []).map(blob) };
  return { kind: 'other' };
}

/** The `created` time of an image config, when it has one. */
export function configCreated(config: Buffer | string | undefined): string | undefined {
  if (config === undefined) return undefined;
  try {
    const created = (JSON.parse(config.toString()) as { created?: unknown }).created;
    return typeof created === 'string' && !Number.isNaN(Date.parse(created)) ? created : undefined;
  } catch {
    return undefined;
  }
}

export interface TagInfo {
  tag: string;
  digest: string;
  mediaType: string;
  /** Bytes of the manifest and everything it references (for a list: each platform's image too). */
  size: number;
  /** The image config's creation time (for a list: its newest platform image's). */
  created?: string;
  /** A list's platforms, e.g. linux/amd64. */
  platforms?: string[];
  /** A list's platform images by digest: what it needs kept to pull (prune, rm). */
  children?: string[];
  /** Every blob and manifest the tag holds, with its size: what `du` counts once per repository. */
  blobs: Blob[];
}

export interface RepositoryInfo {
  name: string;
  tags: TagInfo[];
}

const sum = (blobs: readonly Blob[]): number => blobs.reduce((total, b) => total + b.size, 0);

/** A single image's blobs: its manifest, config and layers. */
export function imageBlobs(manifest: Blob, parsed: ParsedManifest): Blob[] {
  return parsed.kind === 'image' ? [manifest, parsed.config, ...parsed.layers] : [manifest];
}

/** A tag's record from its manifest's blobs (for a list: the children's blobs and times too). */
export function tagInfo(tag: string, mediaType: string, blobs: Blob[], created: (string | undefined)[], list?: { platforms: string[]; children: string[] }): TagInfo {
  const unique = uniqueBlobs(blobs);
  const newest = created.filter((c): c is string => c !== undefined).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
  return { tag, digest: blobs[0]?.digest ?? '', mediaType, size: sum(unique), ...(newest ? { created: newest } : {}), ...(list ? { platforms: list.platforms, children: list.children } : {}), blobs: unique };
}

export function uniqueBlobs(blobs: readonly Blob[]): Blob[] {
  return [...new Map(blobs.map((b) => [b.digest, b])).values()];
}

/** Bytes a repository's tags reference, each blob counted once (shared layers within it too). */
export const repositoryBytes = (repo: RepositoryInfo): number => sum(uniqueBlobs(repo.tags.flatMap((t) => t.blobs)));

/** docker's way of writing sizes (go-units HumanSize: decimal units, 4 significant digits), so they compare with docker's. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(4))}${units[unit]}`;
}

export const shortDigest = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** `images ls` for people: one line per tag. */
export function imagesTable(repos: readonly RepositoryInfo[]): string {
  const rows = [['REPOSITORY', 'TAG', 'DIGEST', 'SIZE', 'CREATED']];
  for (const repo of repos) {
    for (const t of repo.tags) {
      const platforms = t.platforms ? ` (${t.platforms.join(', ')})` : '';
      rows.push([repo.name, t.tag, shortDigest(t.digest), humanBytes(t.size), `${t.created ?? '-'}${platforms}`]);
    }
  }
  return table(rows);
}

/** `images ls --json`: the same without the blob lists. */
export function imagesJson(registry: string, repos: readonly RepositoryInfo[]): object {
  return { registry, repositories: repos.map((r) => ({ name: r.name, bytes: repositoryBytes(r), tags: r.tags.map(({ blobs: _blobs, children: _children, ...t }) => t) })) };
}

/** `images du` for people: the volume, then each repository's unique bytes. */
export function duTable(volume: { name: string; size: string }, repos: readonly RepositoryInfo[]): string {
  const rows = [['REPOSITORY', 'TAGS', 'SIZE'], ...repos.map((r) => [r.name, String(r.tags.length), humanBytes(repositoryBytes(r))])];
  return [`${volume.name}: ${volume.size} on disk`, ...(repos.length > 0 ? ['', table(rows)] : [])].join('\n');
}
