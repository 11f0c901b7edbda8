/**
 * The "did you mean" part of a strict-check error. k3s ignores unknown keys without a word, so the
 * message has to name the key k3s actually reads, or where the key belongs.
 */
import { nearest } from '../nearest.js';

/** Mistakes seen in the wild (docs templates, Docker and containerd spellings, plurals). */
const KNOWN_MISTAKES: Record<string, string> = {
  token: 'identity_token',
  identitytoken: 'identity_token',
  endpoints: 'endpoint',
  url: 'endpoint',
  urls: 'endpoint',
  rewrites: 'rewrite',
  insecure: 'insecure_skip_verify',
  skip_verify: 'insecure_skip_verify',
  ca: 'ca_file',
  cacert: 'ca_file',
  cert: 'cert_file',
  key: 'key_file',
  user: 'username',
  pass: 'password',
  mirror: 'mirrors',
  config: 'configs',
  registries: 'mirrors',
};

/** Where each valid key lives, for keys written at the wrong level. */
const HOME_OF: Record<string, string> = {
  mirrors: 'the top level',
  configs: 'the top level',
  endpoint: 'mirrors.<registry>',
  rewrite: 'mirrors.<registry>',
  auth: 'configs.<host:port>',
  tls: 'configs.<host:port>',
  username: 'configs.<host:port>.auth',
  password: 'configs.<host:port>.auth',
  identity_token: 'configs.<host:port>.auth',
  ca_file: 'configs.<host:port>.tls',
  cert_file: 'configs.<host:port>.tls',
  key_file: 'configs.<host:port>.tls',
  insecure_skip_verify: 'configs.<host:port>.tls',
};

// caFile, CA-File and ca_file are the same key to a human.
const normalize = (key: string): string => key.toLowerCase().replace(/[-_\s]/g, '');

/** The allowed key the user most likely meant, if any is close enough to suggest. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  const known = KNOWN_MISTAKES[key] ?? KNOWN_MISTAKES[normalize(key)];
  if (known && allowed.includes(known)) return known;
  const exact = allowed.find((candidate) => normalize(candidate) === normalize(key));
  if (exact) return exact;
  return nearest(key, allowed, normalize);
}

/** A hint for an unknown key at a level whose valid keys are `allowed`. */
export function suggestKey(key: string, allowed: readonly string[]): string {
  const guess = closest(key, allowed);
  if (guess) return `did you mean ${guess}?`;
  const home = HOME_OF[key] ?? HOME_OF[KNOWN_MISTAKES[normalize(key)] ?? ''];
  const target = HOME_OF[key] ? key : KNOWN_MISTAKES[normalize(key)];
  if (home && target) return `${target} belongs under ${home}`;
  return `valid keys here: ${allowed.join(', ')}`;
}
