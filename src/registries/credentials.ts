/**
 * Credential references: a registries file may hold, in place of a secret string, a one-key mapping
 *
 *   password: {fromEnv: REG_PASS}
 *   password: {fromFile: ~/.config/registry/password}
 *   password: {fromCommand: [age, -d, -i, key.txt, pass.age]}
 *
 * A mapping can never be a real value there (k3s wants a string), so it cannot be mistaken for one.
 * They are allowed only in the auth fields and are resolved before the strict check (whose schema
 * allows strings only). fromCommand is an argv list, run without a shell.
 */
import { UserError } from '../errors.js';
import { describeSite, resolveReference, type CredentialReference, type ResolveContext } from './credential-sources.js';
import { suggestKey } from './suggest.js';
import { formatPath, isPlainObject, isSecretKey, SECRET_KEYS } from './types.js';

export type { ResolveContext } from './credential-sources.js';
const REFERENCE_KEYS = ['fromEnv', 'fromFile', 'fromCommand'];
const SYNTAX = 'write {fromEnv: NAME}, {fromFile: PATH} or {fromCommand: [program, arg, ...]}';

export function parseReference(value: Record<string, unknown>, where: string): CredentialReference {
  const keys = Object.keys(value);
  const [key] = keys;
  if (keys.length !== 1 || key === undefined) {
    throw new UserError(`${where}: a credential reference has exactly one key, found ${keys.length}`, SYNTAX);
  }
  const inner = value[key];
  if (key === 'fromEnv' && typeof inner === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(inner)) return { fromEnv: inner };
  if (key === 'fromFile' && typeof inner === 'string' && inner.length > 0) return { fromFile: inner };
  if (key === 'fromCommand' && Array.isArray(inner) && inner.length > 0 && inner.every((a) => typeof a === 'string' && a.length > 0)) {
    return { fromCommand: inner as string[] };
  }
  if (key === 'fromCommand') {
    throw new UserError(`${where}: fromCommand must be a list of program and arguments (no shell is used)`, 'write it as [program, arg, ...], e.g. [age, -d, -i, key.txt, pass.age]');
  }
  if (REFERENCE_KEYS.includes(key)) throw new UserError(`${where}: ${key} needs ${key === 'fromEnv' ? 'a variable name' : 'a path'}`, SYNTAX);
  throw new UserError(`${where}: unknown credential reference ${JSON.stringify(key)}; ${suggestKey(key, REFERENCE_KEYS)}`, SYNTAX);
}

const looksLikeReference = (value: unknown): value is Record<string, unknown> =>
  isPlainObject(value) && Object.keys(value).some((k) => REFERENCE_KEYS.includes(k));

/** Where references are allowed: configs.<host>.auth.<secret key> and the deprecated auths.<host>.<secret key>. */
function isSecretSlot(path: readonly string[]): boolean {
  const [section, , middle, last] = path;
  if (section === 'configs' && path.length === 4 && middle === 'auth') return isSecretKey(last ?? '');
  if (section === 'auths' && path.length === 3) return isSecretKey(middle ?? '');
  return false;
}

/** Returns a copy with every reference replaced by its value; the input is not modified. */
export async function resolveCredentialReferences(
  value: unknown,
  context: ResolveContext & { locate?: (path: readonly string[]) => number | undefined },
): Promise<unknown> {
  const walk = async (node: unknown, path: string[]): Promise<unknown> => {
    const line = context.locate?.(path);
    const site = { path: formatPath(path), ...(line ? { line } : {}) };
    const where = describeSite(site);
    if (isSecretSlot(path) && isPlainObject(node)) return resolveReference(parseReference(node, where), site, context);
    const [section, , middle, field] = path;
    if (looksLikeReference(node) && section === 'configs' && middle === 'auth' && path.length === 4) {
      throw new UserError(`${where}: ${field} is not an auth field k3s reads; ${suggestKey(field ?? '', SECRET_KEYS)}`, 'use username, password, auth or identity_token');
    }
    if (looksLikeReference(node)) {
      throw new UserError(`${where}: credential references are allowed only in auth fields`, 'use them for username, password, auth or identity_token under configs.<host:port>.auth');
    }
    if (Array.isArray(node)) return Promise.all(node.map((item, i) => walk(item, [...path, String(i)])));
    if (!isPlainObject(node)) return node;
    const out: Record<string, unknown> = {};
    // Sequential, so commands that prompt (pinentry, a password manager) never run at the same time.
    for (const [key, child] of Object.entries(node)) out[key] = await walk(child, [...path, key]);
    return out;
  };
  return walk(value, []);
}
