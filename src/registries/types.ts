/**
 * The shape of a k3s registries.yaml (rancher/wharfie pkg/registries/types.go). Every level may be
 * null: k3s accepts `docker.io:` with nothing under it, and the docs use that form.
 */
export interface RegistryMirror {
  /** Singular key upstream, although it holds a list. */
  endpoint?: string[] | null;
  /** Singular key upstream: regex -> replacement (`$1` style), kept byte for byte. */
  rewrite?: Record<string, string> | null;
}

export interface RegistryAuth {
  username?: string | null;
  password?: string | null;
  /** base64(username:password) */
  auth?: string | null;
  identity_token?: string | null;
}

export interface RegistryTls {
  ca_file?: string | null;
  cert_file?: string | null;
  key_file?: string | null;
  insecure_skip_verify?: boolean | null;
}

export interface RegistryConfigEntry {
  auth?: RegistryAuth | null;
  tls?: RegistryTls | null;
}

export interface RegistriesConfig {
  mirrors?: Record<string, RegistryMirror | null> | null;
  /** Keyed by the host[:port] containerd talks to (the endpoint's host), or "*". */
  configs?: Record<string, RegistryConfigEntry | null> | null;
  /** Deprecated upstream in favour of configs.<host>.auth; passed through untouched. */
  auths?: Record<string, RegistryAuth | null> | null;
}

/** The auth fields whose values are secrets: redacted in every diff, resolvable from references. */
export const SECRET_KEYS = ['username', 'password', 'auth', 'identity_token'] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export const isSecretKey = (key: string): key is SecretKey => (SECRET_KEYS as readonly string[]).includes(key);

/**
 * A copy of `value` in which every secret scalar is replaced by `secret(path, value)` and every other
 * scalar by `other(value)`. Secret: the value of a SECRET_KEYS key (a list there counts as one value)
 * and every non-null scalar at any depth under a mapping held by auth, auths or another SECRET_KEYS
 * key. configs.<host>.auth and the deprecated auths.<host> hold nothing but credentials, so a typo
 * that --no-strict lets through (`token:`) is a secret too. Matched by key name at any depth, as
 * SECRET_KEYS are: unsure means secret. Nulls hold nothing and stay.
 */
export function mapScalars(value: unknown, secret: (path: string[], scalar: unknown) => unknown, other: (scalar: unknown) => unknown = (s) => s): unknown {
  const walk = (node: unknown, path: string[], underAuth: boolean): unknown => {
    if (node === null || node === undefined) return node;
    const key = path.at(-1);
    const secretKey = key !== undefined && isSecretKey(key);
    if (Array.isArray(node)) {
      if (secretKey && !underAuth) return secret(path, node);
      return node.map((item, i) => walk(item, [...path, String(i)], underAuth));
    }
    if (isPlainObject(node)) {
      const opens = underAuth || secretKey || key === 'auths';
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k], opens)]));
    }
    return underAuth || secretKey ? secret(path, node) : other(node);
  };
  return walk(value, [], false);
}

/** The fields that name a file on the node (not on the developer's machine). */
export const NODE_FILE_KEYS = ['ca_file', 'cert_file', 'key_file'] as const;

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A readable path like configs."registry.example.com:5000".auth.password (keys with dots are quoted). */
export function formatPath(path: readonly string[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((key, i) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${i ? '.' : ''}${key}` : `${i ? '.' : ''}${JSON.stringify(key)}`)).join('');
}
