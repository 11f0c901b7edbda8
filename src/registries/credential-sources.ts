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

export type CredentialReference = { fromEnv: string } | { fromFile: string } | { fromCommand: string[] };

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

async function fromCommand(argv: string[], where: string, context: ResolveContext): Promise<string> {
  const [file, ...args] = argv as [string, ...string[]];
  const shown = formatCommand(file, args);
  const timeoutMs = context.timeoutMs ?? 120_000;
  const result = await context.runner(file, args, { cwd: context.baseDir, timeoutMs });
  if (result.notFound) throw new UserError(`${where}: command ${file} not found`, `install ${file}, or fix the fromCommand list`);
  if (result.timedOut) {
    throw new ToolError(`${where}: \`${shown}\` did not finish within ${timeoutMs / 1000}s`, 'make sure it runs without waiting for input');
  }
  if (result.exitCode !== 0) {
    // stdout is never shown: a half-working command may have printed the secret before failing.
    const stderr = redact(result.stderr.trim().split('\n').slice(-5).join('\n  '));
    throw new ToolError(
      `${where}: \`${shown}\` failed with exit code ${result.exitCode}${stderr ? `:\n  ${stderr}` : ' and no error output'}`,
      'run the command yourself to see why, then try again',
    );
  }
  return finish(stripNewline(result.stdout), where, `\`${shown}\``);
}

export function resolveReference(ref: CredentialReference, where: string, context: ResolveContext): Promise<string> {
  if ('fromEnv' in ref) return Promise.resolve().then(() => fromEnv(ref.fromEnv, where, context));
  if ('fromFile' in ref) return fromFile(ref.fromFile, where, context);
  return fromCommand(ref.fromCommand, where, context);
}
