/**
 * A re-render that would change nothing should cost little more than reading the files. renderState
 * leaves a stamp (render-stamp.json: a hash of what went into the files, and one of each file as
 * written); when the inputs hash the same, every file still hashes as written, and the server
 * certificate is not due for renewal, the files are kept as they are, without loading the renderers
 * (yaml, bcrypt, node-forge). Anything else renders in full. A registries file takes the full path
 * always: its credential references may resolve to new values while the file stays the same.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { packageVersion, readAsset } from '../assets.js';
import { sha256 } from '../hash.js';
import { readCredentials } from '../state/credentials.js';
import { STATE_FILES, statePath } from '../state/layout.js';
import { readIfExists, type RenderedFile } from '../state/write-files.js';
import type { RenderRequest, RenderResult } from './render-types.js';

/** The server certificate is renewed when it has fewer days left than this (as ensurePki does). */
const RENEW_WITHIN_MS = 30 * 86_400_000;

interface Stamp {
  inputs: string;
  /** Relative path -> [sha256 of the content, mode]. */
  files: Record<string, [string, number]>;
}

/** Everything but the password and the existing files that decides what renderState writes. */
async function inputsHash(request: RenderRequest): Promise<string> {
  const version = packageVersion();
  return sha256(JSON.stringify({ version, spec: request.spec, strict: request.strict, script: sha256(await readAsset('hosts-inject.sh')) }));
}

export async function stampOf(request: RenderRequest, files: readonly RenderedFile[]): Promise<{ path: string; content: string; mode: number }> {
  const stamp: Stamp = { inputs: await inputsHash(request), files: Object.fromEntries(files.map((f) => [f.path, [sha256(f.content), f.mode]])) };
  // 0600: it hashes files that hold the password.
  return { path: STATE_FILES.renderStamp, content: `${JSON.stringify(stamp)}\n`, mode: 0o600 };
}

/** The result of a render that keeps every file, or undefined when a full render is needed. */
export async function keptRender(request: RenderRequest): Promise<RenderResult | undefined> {
  if (request.registriesFile) return undefined;
  const dir = request.spec.stateDir;
  const text = await readIfExists(statePath(dir, 'renderStamp'));
  if (!text) return undefined;
  let stamp: Stamp;
  try {
    stamp = JSON.parse(text) as Stamp;
  } catch {
    return undefined;
  }
  if (stamp.inputs !== (await inputsHash(request))) return undefined;
  const asWritten = await Promise.all(
    Object.entries(stamp.files).map(async ([path, [hash, mode]]) => {
      const [content, info] = await Promise.all([readIfExists(join(dir, path)), stat(join(dir, path)).catch(() => undefined)]);
      return content !== undefined && sha256(content) === hash && (info!.mode & 0o777) === mode;
    }),
  );
  const images = await stat(statePath(dir, 'imagesDir')).catch(() => undefined);
  if (!asWritten.every(Boolean) || !images?.isDirectory()) return undefined;
  const [credentials, tlsCert] = await Promise.all([readCredentials(dir), readFile(statePath(dir, 'tlsCert'), 'utf8')]);
  if (!credentials) return undefined;
  if (request.password !== undefined && request.password !== credentials.password) return undefined;
  if (request.password === undefined && credentials.username !== request.spec.username) return undefined;
  const now = (request.now ?? new Date()).getTime();
  const cert = new X509Certificate(tlsCert);
  if (new Date(cert.validFrom).getTime() > now || new Date(cert.validTo).getTime() - now <= RENEW_WITHIN_MS) return undefined;
  return { files: filesOf(dir, Object.keys(stamp.files)), credentials, changed: [], warnings: [] };
}

export function filesOf(dir: string, relative: readonly string[]): RenderResult['files'] {
  return {
    k3dConfig: statePath(dir, 'k3dConfig'),
    registriesYaml: statePath(dir, 'registriesYaml'),
    manifests: relative.filter((path) => path.startsWith(`${STATE_FILES.manifestsDir}/`)).map((path) => join(dir, path)),
    caCert: statePath(dir, 'caCert'),
    caKey: statePath(dir, 'caKey'),
    nodeCaCert: statePath(dir, 'nodeCaCert'),
    tlsCert: statePath(dir, 'tlsCert'),
    tlsKey: statePath(dir, 'tlsKey'),
    htpasswd: statePath(dir, 'htpasswd'),
    credentials: statePath(dir, 'credentials'),
    settings: statePath(dir, 'settings'),
    gitignore: statePath(dir, 'gitignore'),
    renderStamp: statePath(dir, 'renderStamp'),
  };
}
