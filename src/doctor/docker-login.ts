/**
 * Whether docker on this machine holds a login for our registry, read from its config.json as the
 * docker CLI reads it: `credHelpers` for that server first, then `credsStore`, then the file's own
 * `auths`. Pure: the file's text, a helper's `list` and `get` answers come in; no password ever goes
 * out (only whether it matches the saved credentials).
 */
import { registerSecret } from '../redact.js';

export interface DockerConfig {
  /** Server -> whether an `auth` (base64 user:password) or `identitytoken` is saved for it. */
  auths: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers: Record<string, string>;
}

/** The file's login parts; undefined when it is not a JSON object. */
export function parseDockerConfig(text: string): DockerConfig | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const raw = value as { auths?: unknown; credsStore?: unknown; credHelpers?: unknown };
  const record = (x: unknown) => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : {});
  const auths = Object.fromEntries(Object.entries(record(raw.auths)).map(([server, entry]) => [server, record(entry) as { auth?: string; identitytoken?: string }]));
  const credHelpers = Object.fromEntries(Object.entries(record(raw.credHelpers)).filter(([, h]) => typeof h === 'string')) as Record<string, string>;
  return { auths, credHelpers, ...(typeof raw.credsStore === 'string' && raw.credsStore !== '' ? { credsStore: raw.credsStore } : {}) };
}

/** A server key as docker compares them: without scheme and path (`https://localhost:31113/v2/` is `localhost:31113`). */
export const serverKey = (server: string): string => server.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');

/** The credential helper docker asks for this server, if any (credHelpers wins over credsStore). */
export function helperFor(config: DockerConfig, server: string): string | undefined {
  const specific = Object.entries(config.credHelpers).find(([key]) => serverKey(key) === server)?.[1];
  return specific || config.credsStore;
}

/** A helper becomes the program docker-credential-<helper>: only a plain name may run. */
export const isHelperName = (helper: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper);

export type LoginVerdict =
  | { state: 'missing' }
  | { state: 'token' }
  | { state: 'unreadable' }
  | { state: 'other-user'; username: string }
  | { state: 'stale-password'; username: string }
  | { state: 'ok'; username: string };

/** What the file's own `auths` entry for this server holds, compared with the saved credentials. */
export function fileLogin(config: DockerConfig, server: string, saved: { username: string; password: string }): LoginVerdict {
  const entry = Object.entries(config.auths).find(([key]) => serverKey(key) === server)?.[1];
  if (!entry || (!entry.auth && !entry.identitytoken)) return { state: 'missing' };
  if (!entry.auth) return { state: 'token' };
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { state: 'unreadable' };
  const password = decoded.slice(colon + 1);
  registerSecret(password);
  return compareLogin(decoded.slice(0, colon), password, saved);
}

/** A login docker holds (from its file or a helper's `get`), compared with the saved credentials in memory. */
export function compareLogin(username: string, password: string, saved: { username: string; password: string }): LoginVerdict {
  if (username !== saved.username) return { state: 'other-user', username };
  if (password !== saved.password) return { state: 'stale-password', username };
  return { state: 'ok', username };
}

/** The key a helper's `list` (server -> username) holds this server under, as docker compares them. */
export const listedServer = (listed: Record<string, string>, server: string): string | undefined => Object.keys(listed).find((key) => serverKey(key) === server);
