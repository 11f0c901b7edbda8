/**
 * Reading a user's registries.yaml: parse (YAML 1.1, as k3s's yaml.v2 does, so `yes` and `0123` mean
 * what they mean to k3s), resolve credential references, then the strict check.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { UserError } from '../errors.js';
import type { Runner } from '../tools/run.js';
import { resolveCredentialReferences } from './credentials.js';
import { registerConfigSecrets } from './serialize.js';
import { checkRegistries } from './strict.js';
import type { RegistriesConfig } from './types.js';

export interface LoadOptions {
  strict: boolean;
  nodeVisibleDirs: string[];
  runner: Runner;
  env: NodeJS.ProcessEnv;
  /** How a file gets onto the nodes, said when ca_file and friends point elsewhere. */
  nodeFileHint?: string;
}

/** The 1-based line of the key at `path` (or of the deepest part of it that exists). */
function locator(doc: Document, lines: LineCounter): (path: readonly string[]) => number | undefined {
  return (path) => {
    let node: unknown = doc.contents;
    let line: number | undefined;
    for (const key of path) {
      if (!isMap(node)) break;
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (!pair || !range) break;
      line = lines.linePos(range[0]).line;
      node = pair.value;
    }
    return line;
  };
}

export function parseRegistriesYaml(text: string, label: string): { value: unknown; locate: ReturnType<typeof locator> } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', lineCounter: lines, prettyErrors: false });
  const [error] = doc.errors;
  if (error) {
    const at = lines.linePos(error.pos[0]);
    const where = at.line > 0 ? ` at line ${at.line}, column ${at.col}` : '';
    throw new UserError(`${label} is not valid YAML${where}: ${error.message.split('\n')[0]}`, 'fix the YAML syntax (indentation, quotes, a missing colon)');
  }
  return { value: doc.toJS({ maxAliasCount: 100 }) ?? {}, locate: locator(doc, lines) };
}

export const DEFAULT_REGISTRIES_FILE = 'registries.yaml';

/**
 * `registries apply/render` without -f: ./registries.yaml, and `say` tells which file that is (a
 * file picked silently is a surprise); without one there, the error says what to pass.
 */
export async function defaultRegistriesFile(cwd: string, say: (line: string) => void): Promise<string> {
  const path = join(cwd, DEFAULT_REGISTRIES_FILE);
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new UserError(`no -f given, and there is no ${DEFAULT_REGISTRIES_FILE} in ${cwd}`, 'pass -f FILE with your k3s registries.yaml (mirrors, configs)');
  }
  say(`No -f given: reading ${path}`);
  return path;
}

export async function loadRegistriesFile(path: string, options: LoadOptions): Promise<{ config: RegistriesConfig; warnings: string[] }> {
  const full = resolve(path);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`cannot read the registries file ${full} (${code})`, 'check the path (relative paths start at the current folder, or at k3s-devreg.yaml for its registriesFile)');
  }
  const { value, locate } = parseRegistriesYaml(text, full);
  const warnings: string[] = [];
  const resolved = await resolveCredentialReferences(value, {
    runner: options.runner,
    env: options.env,
    baseDir: dirname(full),
    locate,
    warn: (line) => warnings.push(line),
  });
  registerConfigSecrets(resolved);
  const checked = checkRegistries(resolved, {
    strict: options.strict,
    nodeVisibleDirs: options.nodeVisibleDirs,
    locate,
    label: full,
    ...(options.nodeFileHint ? { nodeFileHint: options.nodeFileHint } : {}),
  });
  return { config: resolved as RegistriesConfig, warnings: [...warnings, ...checked.warnings] };
}
