/**
 * Resolving one credential reference. The value is a secret: it is registered for redaction the
 * moment it is known, and no error message ever contains it (or a command's stdout, which may hold it).
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ToolError, UserError } from '../errors.js';
import { redact, registerSecret } from '../redact.js';
import { formatCommand, type Runner } from '../tools/run.js';

import type { CredentialReference } from '../spec.js';

export type { CredentialReference };

/** Where a reference sits in the registries file: its path (formatPath) and, when known, its line. */
export interface Site {
  path: string;
  line?: number;
}

export const describeSite = (site: Site): string => `${site.path}${site.line ? ` (line ${site.line})` : ''}`;

export interface ResolveContext {
  runner: Runner;
  env: NodeJS.ProcessEnv;
  /** Relative fromFile paths and fromCommand's working folder: the registries file's folder. */
  baseDir: string;
  /** Password managers may prompt; a bounded wait still ends a hung command. */
  timeoutMs?: number;
  warn: (line: string) => void;
}

// One trailing newline is what `echo`, editors and most CLIs add; anything else is kept.
const stripNewline = (text: string): string => text.replace(/\r?\n$/, '');

function finish(value: string, where: string, source: string): string {
  if (value.length === 0) throw new UserError(`${where}: ${source} gave an empty value`, 'make it print or hold the secret');
  registerSecret(value);
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r?\n/)) registerSecret(line.trim());
    throw new UserError(`${where}: ${source} gave more than one line`, 'make it print only the secret, on one line');
  }
  return value;
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path === '~' || path.startsWith('~/')) return join(env.HOME ?? homedir(), path.slice(1));
  return path;
}

async function fromFile(path: string, where: string, context: ResolveContext): Promise<string> {
  const expanded = expandHome(path, context.env);
  const full = isAbsolute(expanded) ? expanded : resolve(context.baseDir, expanded);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`${where}: cannot read ${full} (${code})`, 'check the fromFile path (relative paths start at the registries file)');
  }
  const mode = (await stat(full)).mode;
  if (mode & 0o077) context.warn(`${where}: ${full} is readable by other users; chmod 600 ${full}`);
  return finish(stripNewline(text), where, `file ${full}`);
}

function fromEnv(name: string, where: string, context: ResolveContext): string {
  const value = context.env[name];
  if (value === undefined) throw new UserError(`${where}: environment variable ${name} is not set`, `export ${name} before running k3s-devreg`);
  return finish(value, where, `environment variable ${name}`);
}

/**
 * One line of what a failing command wrote on stderr: the last one that reads like an error, else
 * the last one (tools like age end with a "report bugs at ..." line after the real reason).
 */
function reasonLine(text: string): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  const errors = lines.filter((line) => /\b(error|failed|fatal|denied|invalid|cannot|can't|unable|no such|not found)\b/i.test(line));
  return errors.at(-1) ?? lines.at(-1) ?? '';
}

async function fromCommand(argv: string[], site: Site, context: ResolveContext): Promise<string> {
  const [file, ...args] = argv as [string, ...string[]];
  const shown = formatCommand(file, args);
  const where = describeSite(site);
  const timeoutMs = context.timeoutMs ?? 120_000;
  // rawStdout: exactly one trailing newline is removed here, as for fromFile; execa would take another.
  const result = await context.runner(file, args, { cwd: context.baseDir, timeoutMs, rawStdout: true });
  if (result.notFound) throw new UserError(`${where}: command ${file} not found`, `install ${file}, or fix the fromCommand list`);
  if (result.exitCode !== 0 || result.timedOut) {
    // A half-working command may have printed the secret on stdout before failing, and echo it on
    // stderr too: every stdout line is a secret from now on, so neither this error nor any later
    // line shows it. stdout itself is never shown.
    registerSecret(result.stdout.trim());
    for (const line of result.stdout.split(/\r?\n/)) registerSecret(line.trim());
  }
  const credential = `\`${shown}\` (credential for ${site.path}${site.line ? `, line ${site.line}` : ''})`;
  if (result.timedOut) {
    throw new ToolError(`${credential} did not finish within ${timeoutMs / 1000}s`, 'make sure it runs without waiting for input');
  }
  if (result.exitCode !== 0) {
    const said = redact(reasonLine(result.stderr));
    throw new ToolError(
      `${credential} failed with exit code ${result.exitCode}${said ? `: ${said}` : ' and no error output'}`,
      'fix the command or run it by hand to see why',
    );
  }
  return finish(stripNewline(result.stdout), where, `\`${shown}\``);
}

export function resolveReference(ref: CredentialReference, site: Site, context: ResolveContext): Promise<string> {
  const where = describeSite(site);
  if ('fromEnv' in ref) return Promise.resolve().then(() => fromEnv(ref.fromEnv, where, context));
  if ('fromFile' in ref) return fromFile(ref.fromFile, where, context);
  return fromCommand(ref.fromCommand, site, context);
}
