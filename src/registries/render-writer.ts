/**
 * `registries render --dir DIR`: the manifests `registries apply` would apply, written to files for
 * review or GitOps. The Secret goes to its own 0600 file; re-rendering the same input changes nothing
 * (the salt is read back from the previous render).
 */
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { UserError } from '../errors.js';
import type { Io } from '../io.js';
import { manifestsYaml } from './writer-daemonset.js';
import { readIfExists, writeFiles } from '../state/write-files.js';
import type { Runner } from '../tools/run.js';
import { redactedDiff } from './redacted-diff.js';
import { isPlainObject } from './types.js';
import { loadWriterFor } from './writer-manifests.js';

export const SECRET_FILE = 'registries-secret.yaml';
export const WRITER_FILE = 'registries-writer.yaml';
/**
 * The Secret holds the registry passwords: ignored by git so it is never committed by accident; the
 * writer (no secret) stays visible, for review or GitOps.
 */
export const WRITER_GITIGNORE = `# k3s-devreg: ${SECRET_FILE} holds registry passwords. Never commit it.\n${SECRET_FILE}\n`;

/** A .gitignore of the user's is kept when it already ignores the Secret, and refused otherwise (never rewritten). */
function gitignoreFile(dir: string, existing: string | undefined): { path: string; content: string; mode: number }[] {
  if (existing === undefined || existing === WRITER_GITIGNORE) return [{ path: '.gitignore', content: WRITER_GITIGNORE, mode: 0o644 }];
  const lines = existing.split(/\r?\n/).map((line) => line.trim());
  if (lines.includes(SECRET_FILE) || lines.includes(`/${SECRET_FILE}`) || lines.includes('*')) return [];
  throw new UserError(
    `${join(dir, '.gitignore')} does not ignore ${SECRET_FILE}, which holds the registry passwords`,
    `add the line ${SECRET_FILE} to it, or render into another --dir`,
  );
}

export interface RenderRequest {
  dir: string;
  file: string;
  ca?: string;
  /** --writer-image */
  writerImage?: string;
  strict: boolean;
}

/** The previous render's Secret data (decoded), when the folder has one. */
function previousData(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  try {
    const secret: unknown = parse(text);
    const data = isPlainObject(secret) && isPlainObject(secret.data) ? secret.data : {};
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]));
  } catch {
    return {};
  }
}

export interface RenderedWriterFiles {
  dir: string;
  files: { path: string; changed: boolean; mode: string }[];
  registriesChecksum: string;
  /** The redacted diff of registries.yaml against the previous render. */
  diff: string;
  warnings: string[];
}

/** Writes the files; `warn` gets the warnings of a non-strict check as soon as they are known. */
export async function renderRegistriesWriterFiles(request: RenderRequest, io: Io, runner: Runner, warn: (warning: string) => void): Promise<RenderedWriterFiles> {
  const dir = resolve(io.cwd, request.dir);
  const previous = previousData(await readIfExists(join(dir, SECRET_FILE)).catch(() => undefined));
  const ignore = gitignoreFile(dir, await readIfExists(join(dir, '.gitignore')).catch(() => undefined));
  const prepared = await loadWriterFor(request, io, runner);
  for (const warning of prepared.warnings) warn(warning);
  // writeFiles makes the folder, and takes it away again when a file cannot be written.
  const rendered = prepared.render(previous.salt);
  const { secret, configMap, daemonSet } = rendered;
  const written = await writeFiles(dir, [
    // First: in place before the Secret is.
    ...ignore,
    { path: SECRET_FILE, content: manifestsYaml([secret]), mode: 0o600 },
    { path: WRITER_FILE, content: manifestsYaml([configMap, daemonSet]), mode: 0o644 },
  ]);
  const results = written.slice(ignore.length);
  const diff = redactedDiff(previous['registries.yaml'], prepared.registriesYaml, 'registries.yaml');
  const files = results.map((r, i) => ({ path: r.path, changed: r.changed, mode: i === 0 ? '0600' : '0644' }));
  return { dir, files, registriesChecksum: rendered.registriesChecksum, diff, warnings: prepared.warnings };
}
