/**
 * The registry's htpasswd file: bcrypt entries made with bcryptjs, and a check that reads the file the
 * way distribution v2.8 does, so an existing file is kept only when the registry would let the user in.
 */
import { createRequire } from 'node:module';
import type Bcrypt from 'bcryptjs';
import { UserError } from '../errors.js';
import { validatePassword, validateUsername } from '../spec.js';

// Apache htpasswd -B's own default. The registry runs bcrypt on every authenticated request (each
// blob of a push), so a high cost slows every push; the generated password has 144 random bits.
const DEFAULT_COST = 5;
// The registry (golang bcrypt) takes $2a$, $2b$ and $2y$; anything else (SHA, MD5, plaintext) never logs in.
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
// Go's strings.TrimSpace: unicode.IsSpace, which differs from String.prototype.trim (U+0085 yes, U+FEFF no).
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\p{Zs}\\u2028\\u2029]';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'gu');

// Loaded on first use: bcryptjs costs start-up time that a render keeping its htpasswd need not pay.
const require = createRequire(import.meta.url);
let bcryptModule: typeof Bcrypt | undefined;
const bcrypt = (): typeof Bcrypt => (bcryptModule ??= require('bcryptjs') as typeof Bcrypt);

/** One `user:hash` line with its newline. */
export function htpasswdEntry(username: string, password: string, cost = DEFAULT_COST): string {
  validateUsername(username);
  validatePassword(password);
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) {
    throw new UserError(`invalid bcrypt cost ${JSON.stringify(cost)}`, 'use a whole number from 4 to 31 (default 5)');
  }
  // bcryptjs writes $2b$; $2y$ is the same algorithm and the prefix Apache htpasswd itself writes,
  // which every htpasswd reader (older Apache builds included) accepts.
  const salt = bcrypt().genSaltSync(cost).replace(/^\$2b\$/, '$2y$');
  return `${username}:${bcrypt().hashSync(password, salt)}\n`;
}

/**
 * Whether the registry would accept this username and password with this file: lines split at the
 * first ':', blank and '#' lines skipped, the last entry for a user wins, and a line without ':' makes
 * the whole file unusable (the registry refuses to start).
 */
export function htpasswdMatches(content: string, username: string, password: string): boolean {
  let hash: string | undefined;
  for (const rawLine of content.split('\n')) {
    const line = rawLine.replace(GO_TRIM, '');
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) return false;
    if (line.slice(0, colon) === username) hash = line.slice(colon + 1);
  }
  if (hash === undefined || !BCRYPT_HASH.test(hash)) return false;
  try {
    return bcrypt().compareSync(password, hash);
  } catch {
    return false;
  }
}
