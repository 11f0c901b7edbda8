/**
 * One way to write a registries.yaml, used for the nodes' file and for both sides of every diff, so
 * that a diff shows only real changes. YAML 1.1 quoting: k3s reads with yaml.v2 (YAML 1.1), where an
 * unquoted `yes` or `0123` would stop being a string.
 */
import { stringify } from 'yaml';
import { REDACTED, registerSecret } from '../redact.js';
import { isPlainObject, isSecretKey } from './types.js';

// lineWidth 0: a long token folded over two lines could not be redacted line by line on the node.
export const serializeRegistries = (config: unknown): string => stringify(config ?? {}, { version: '1.1', lineWidth: 0 });

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;

/**
 * A copy with every username, password, auth and identity_token value (at any depth, so also in
 * unknown keys) replaced by <REDACTED>, and credentials in URLs (https://user:pass@host) too.
 * Nulls stay: they hold nothing, and showing them keeps the diff honest.
 */
export function redactRegistries(value: unknown): unknown {
  const walk = (node: unknown, key?: string): unknown => {
    if (key !== undefined && isSecretKey(key) && node !== null && !isPlainObject(node)) return REDACTED;
    if (typeof node === 'string') return node.replace(URL_USERINFO, `$1${REDACTED}@`);
    if (Array.isArray(node)) return node.map((item) => walk(item));
    if (!isPlainObject(node)) return node;
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, k)]));
  };
  return walk(value);
}

/** Literal secrets in a user's file are registered too, so no log line or error can carry them. */
export function registerConfigSecrets(value: unknown): void {
  const walk = (node: unknown, key?: string): void => {
    if (key !== undefined && key !== 'username' && isSecretKey(key) && typeof node === 'string') registerSecret(node);
    if (typeof node === 'string') for (const match of node.matchAll(URL_USERINFO)) registerSecret(match[2]);
    if (Array.isArray(node)) node.forEach((item) => walk(item));
    if (isPlainObject(node)) Object.entries(node).forEach(([k, v]) => walk(v, k));
  };
  walk(value);
}
