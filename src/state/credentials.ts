/** The registry credentials kept in the state folder (0600), so re-runs keep the same password. */
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';
import type { RegistryCredentials } from '../render/registries-yaml.js';
import { registerSecret } from '../redact.js';
import { validatePassword, validateUsername } from '../spec.js';
import { statePath } from './layout.js';
import { readIfExists } from './write-files.js';

export function generatePassword(): string {
  // 24 characters of base64url: 144 bits, no characters that need quoting anywhere.
  return randomBytes(18).toString('base64url');
}

const REPAIR = (path: string) =>
  `repair it (JSON: {"username": "...", "password": "..."}), or delete ${path} to get a new password on the next run (k3s-devreg reset starts over)`;

export function parseCredentials(text: string, path: string): RegistryCredentials {
  let value: Partial<RegistryCredentials> | undefined;
  try {
    value = JSON.parse(text) as Partial<RegistryCredentials>;
  } catch {
    /* reported below */
  }
  if (typeof value?.username !== 'string' || typeof value.password !== 'string') {
    throw new UserError(`${path} is not a valid credentials file`, REPAIR(path));
  }
  try {
    validateUsername(value.username, { file: path, field: 'username' });
    validatePassword(value.password, { file: path, field: 'password' });
  } catch (error) {
    // The check's own fix ("give a non-empty password") names no place to give it.
    if (error instanceof UserError) throw new UserError(error.problem, REPAIR(path));
    throw error;
  }
  return { username: value.username, password: value.password };
}

/** The state folder's credentials.json, checked, its password registered as a secret; undefined when there is none. */
export async function readCredentials(stateDir: string): Promise<RegistryCredentials | undefined> {
  const path = statePath(stateDir, 'credentials');
  const text = await readIfExists(path);
  if (text === undefined) return undefined;
  const credentials = parseCredentials(text, path);
  registerSecret(credentials.password);
  return credentials;
}

export function serializeCredentials(credentials: RegistryCredentials): string {
  return `${JSON.stringify({ username: credentials.username, password: credentials.password }, null, 2)}\n`;
}

/** An explicit password wins; otherwise the stored one is kept; otherwise a new one is generated. */
export function chooseCredentials(
  username: string,
  explicitPassword: string | undefined,
  stored: RegistryCredentials | undefined,
): RegistryCredentials {
  if (explicitPassword !== undefined) return { username, password: explicitPassword };
  if (stored) return { username, password: stored.password };
  return { username, password: generatePassword() };
}
