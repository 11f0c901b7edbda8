/** The registry credentials kept in the state folder (0600), so re-runs keep the same password. */
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';
import type { RegistryCredentials } from '../render/registries-yaml.js';

export function generatePassword(): string {
  // 24 characters of base64url: 144 bits, no characters that need quoting anywhere.
  return randomBytes(18).toString('base64url');
}

export function parseCredentials(text: string, path: string): RegistryCredentials {
  try {
    const value = JSON.parse(text) as Partial<RegistryCredentials>;
    if (typeof value.username === 'string' && typeof value.password === 'string') {
      return { username: value.username, password: value.password };
    }
  } catch {
    /* reported below */
  }
  throw new UserError(
    `${path} is not a valid credentials file`,
    'restore it, or run k3s-devreg reset to start over with new credentials',
  );
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
