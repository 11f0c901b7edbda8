/**
 * The redacted copy of a registries.yaml that every diff shows, and the registration of the literal
 * secrets a user's file holds. (The one way to write the file is render/registries-yaml.ts's
 * serializeRegistries.)
 */
import { REDACTED, registerSecret } from '../redact.js';
import { mapScalars } from './types.js';

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;

/**
 * A copy with every username, password, auth and identity_token value (at any depth, so also in
 * unknown keys), every value under an auth/auths mapping whatever its key (a typo such as `token`
 * that --no-strict let through), and credentials in URLs (https://user:pass@host) replaced by
 * <REDACTED>. Nulls stay: they hold nothing, and showing them keeps the diff honest.
 */
export function redactRegistries(value: unknown): unknown {
  return mapScalars(value, () => REDACTED, (scalar) => (typeof scalar === 'string' ? scalar.replace(URL_USERINFO, `$1${REDACTED}@`) : scalar));
}

/**
 * Literal secrets in a user's file are registered too, so no log line or error can carry them: every
 * value redactRegistries hides, except usernames (a literal `username: admin` would otherwise hide the
 * word everywhere; diffs still show it redacted), and credentials in URLs. Booleans are never secrets
 * (registering "true" would hide the word).
 */
export function registerConfigSecrets(value: unknown): void {
  const register = (scalar: unknown): void => {
    // A block scalar (`identity_token: |`) ends in a newline, which a log line would not carry.
    if (typeof scalar === 'string') [scalar, scalar.trim(), ...scalar.split('\n').map((l) => l.trim())].forEach(registerSecret);
    else if (typeof scalar === 'number') registerSecret(String(scalar));
    else if (Array.isArray(scalar)) scalar.forEach(register);
  };
  mapScalars(
    value,
    (path, scalar) => {
      if (path.at(-1) !== 'username') register(scalar);
    },
    (scalar) => {
      // user:pass, and the password on its own (a tool may print it without the user).
      if (typeof scalar === 'string') for (const match of scalar.matchAll(URL_USERINFO)) [match[2], match[2]?.split(':').slice(1).join(':')].forEach(registerSecret);
    },
  );
}
