/**
 * The typed spec every renderer reads, its defaults, and the validation of user input.
 * Validation errors are UserErrors: one line naming the problem and the fix.
 */
import { UserError } from './errors.js';

export const TOOL_NAME = 'k3s-devreg';
/** Label carried by every object and container we create; only objects carrying it are ever deleted. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = TOOL_NAME;
/** Docker label on k3d node containers and volumes naming the cluster they belong to. */
export const CLUSTER_LABEL = 'dev.k3s-devreg/cluster';

export const NAMESPACE = 'container-registry';
export const SERVICE_NAME = 'registry';
export const REGISTRY_HOST = 'container-registry.local';
export const REGISTRY_PORT = 5000;
export const NODE_PORT = 31113;
/** Where the state folder's node/ subfolder (registries.yaml, ca.crt) appears inside every k3d node. */
export const NODE_CONFIG_DIR = '/etc/k3s-devreg';
/**
 * The CA as every node sees it: on k3d nodes through the mount, on an existing cluster's hosts where
 * the registries writer installs it (the same path, so one ca_file works on both).
 */
export const NODE_CA_FILE = `${NODE_CONFIG_DIR}/ca.crt`;
/** Where the registry's data volume appears inside every k3d node (hostPath for the registry pod). */
export const NODE_REGISTRY_DATA_DIR = '/var/lib/k3s-devreg/registry';

export const DEFAULT_CLUSTER_NAME = 'devreg';
export const DEFAULT_USERNAME = 'devreg';
export const DEFAULT_AGENTS = 1;
/** Pinned: `registry:2` moves; a pinned tag keeps every laptop on the same registry. */
export const DEFAULT_REGISTRY_IMAGE = 'registry:2.8.3';
export const DEFAULT_HOSTS_IMAGE = 'busybox:1.36.1';
/** The registries writer DaemonSet's image (registries apply): the same pinned busybox. */
export const DEFAULT_WRITER_IMAGE = DEFAULT_HOSTS_IMAGE;
export const BCRYPT_MAX_BYTES = 72;
/**
 * Pinned: k3d bakes its own default k3s into each build (k3d v5.6.3: v1.28.8, which ignores our CA:
 * k3s issue 9839), so without a pin nobody knows what runs. The default of k3d v5.8.3, which the e2e
 * suite runs.
 */
export const DEFAULT_K3S_IMAGE = 'rancher/k3s:v1.31.5-k3s1';
/**
 * k3d's own per-phase timeout (options.k3d.timeout). k3d applies it to each of three phases of a
 * create (prepare, create nodes, start: k3d-io/k3d pkg/client/cluster.go), so a create may take 3x it.
 */
export const K3D_PHASE_TIMEOUT_SECONDS = 300;
/** Where k3s imports image archives from at start; the state folder's images/ is mounted there. */
export const NODE_IMAGES_DIR = '/var/lib/rancher/k3s/agent/images';

export interface ClusterSpec {
  /** k3d cluster name; node containers are k3d-<name>-server-0 and so on. */
  name: string;
  agents: number;
  /** Port on the developer's machine (127.0.0.1) published to the registry's NodePort. */
  hostPort: number;
  username: string;
  registryImage: string;
  hostsImage: string;
  /** The k3s node image k3d runs (pinned: DEFAULT_K3S_IMAGE). */
  k3sImage: string;
  /** Absolute path of the cluster's state folder on the developer's machine. */
  stateDir: string;
  /** The pull-through cache every cluster shares (cache/spec.ts makes and checks it); absent: off. */
  cache?: CacheSpec;
  /** Off by --no-cache (this run's or a saved one): settings.json keeps it off for the next run. */
  cacheOffSaved?: true;
  /** --offline / `offline: true`: every image from an `images load` bundle, nodes never fall back to the internet. */
  offline?: true;
}

/** A secret given by where to find it, never by value (a team file is committed). */
export type CredentialReference = { fromEnv: string } | { fromFile: string } | { fromCommand: string[] };

export interface CacheUpstreamSpec {
  /** The registry host pods name in their images (`docker.io`, `ghcr.io`, `host:port`). */
  host: string;
  /** Its https root, e.g. https://registry-1.docker.io. */
  remoteUrl: string;
  /** To raise rate limits or reach a private upstream; resolved only when the cache is started. */
  credentials?: { username: string; password: CredentialReference };
}

export interface CacheSpec {
  upstreams: CacheUpstreamSpec[];
}

export const registryAddress = (): string => `${REGISTRY_HOST}:${REGISTRY_PORT}`;
export const kubeContext = (name: string): string => `k3d-${name}`;
/** The cluster's docker network (k3d's own name for it); the pull-through cache joins it. */
export const clusterNetwork = (name: string): string => `k3d-${name}`;
/** k3d's first server node container, which carries our docker labels when we created the cluster. */
export const serverContainer = (name: string): string => `k3d-${name}-server-0`;
export const registryVolumeName = (name: string): string => `k3s-devreg-${name}-registry`;
export const serviceDnsNames = (): string[] => [
  `${SERVICE_NAME}.${NAMESPACE}.svc`,
  `${SERVICE_NAME}.${NAMESPACE}.svc.cluster.local`,
];

/**
 * Where a value came from, so an error names what to change: a flag (`'--port'`), or a field of a
 * file (the team file, settings.json, credentials.json).
 */
export type InputSource = string | { file: string; field: string } | typeof ANSWER;

/** The source of an answer typed at a prompt: its fix says what to answer, not which flag to pass. */
export const ANSWER = { answer: true } as const;

/** ` (port in /repo/k3s-devreg.yaml)` for a file's field; nothing for a flag or an answer, which the fix names. */
export const fromSource = (source: InputSource): string => (typeof source === 'string' || 'answer' in source ? '' : ` (${source.field} in ${source.file})`);

/** `pass --port with WHAT`, `set port in FILE to WHAT`, or at a prompt `answer with WHAT`. */
export const changeSource = (source: InputSource, what: string): string =>
  typeof source === 'string' ? `pass ${source} with ${what}` : 'answer' in source ? `answer with ${what}` : `set ${source.field} in ${source.file} to ${what}`;

// k3d prefixes the name with "k3d-" and uses it in container and host names, so DNS label rules
// apply, with room for "k3d-" and "-serverlb" inside the 63-character label limit.
const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const MAX_CLUSTER_NAME = 32;

export function validateClusterName(name: string, source: InputSource = '--name'): string {
  if (!CLUSTER_NAME.test(name) || name.length > MAX_CLUSTER_NAME) {
    throw new UserError(
      `invalid cluster name ${JSON.stringify(name)}${fromSource(source)}`,
      changeSource(source, `1-${MAX_CLUSTER_NAME} lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. devreg)`),
    );
  }
  // The state root's `cache/` folder holds the pull-through cache's config files (cache/spec.ts),
  // which `cache rm` deletes: a cluster's state folder must never be that folder.
  if (RESERVED_NAMES.includes(name)) throw new UserError(`the cluster name ${JSON.stringify(name)}${fromSource(source)} is reserved: its state folder would be the pull-through cache's`, changeSource(source, 'another name (e.g. devreg)'));
  return name;
}

const RESERVED_NAMES: readonly string[] = ['cache'];

export function validateUsername(username: string, source: InputSource = '--username'): string {
  if (username.length === 0 || username.length > 64) {
    throw new UserError(`invalid registry username${fromSource(source)}: it must be 1-64 characters`, changeSource(source, 'a name of 1-64 characters, e.g. devreg'));
  }
  if (username.includes(':')) {
    throw new UserError(
      `invalid registry username ${JSON.stringify(username)}${fromSource(source)}: htpasswd splits user and hash at ':'`,
      changeSource(source, "a username without ':'"),
    );
  }
  if (/[\s\p{Cc}]/u.test(username)) {
    throw new UserError(
      `invalid registry username ${JSON.stringify(username)}${fromSource(source)}: it contains whitespace or control characters`,
      changeSource(source, 'a username of visible characters only'),
    );
  }
  return username;
}

/** Never echoes the password itself: errors describe it (and name where it came from, when given). */
export function validatePassword(password: string, source?: InputSource): string {
  const from = source === undefined ? '' : typeof source === 'string' ? ` (from ${source})` : fromSource(source);
  if (password.length === 0) {
    throw new UserError(`the registry password${from} is empty`, 'give a non-empty password, or leave it unset to generate one');
  }
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes > BCRYPT_MAX_BYTES) {
    throw new UserError(
      `the registry password${from} is ${bytes} bytes long; bcrypt reads only the first ${BCRYPT_MAX_BYTES}`,
      `use a password of at most ${BCRYPT_MAX_BYTES} bytes`,
    );
  }
  if (/\p{Cc}/u.test(password)) {
    throw new UserError(
      `the registry password${from} contains a control character (newline, tab, ...)`,
      'use printable characters only',
    );
  }
  return password;
}

export function validateAgents(agents: number, source: InputSource = '--agents'): number {
  if (!Number.isInteger(agents) || agents < 0 || agents > 9) {
    throw new UserError(`invalid number of agents ${JSON.stringify(agents)}${fromSource(source)}`, changeSource(source, 'a whole number from 0 to 9'));
  }
  return agents;
}

export function validateHostPort(port: number, source: InputSource = '--port'): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserError(`invalid port ${JSON.stringify(port)}${fromSource(source)}`, changeSource(source, 'a whole number from 1 to 65535 (default 31113)'));
  }
  return port;
}

export function validateImage(image: string, source: InputSource): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/.test(image)) {
    throw new UserError(`invalid image reference ${JSON.stringify(image)}${fromSource(source)}`, typeof source === 'string' ? `pass ${source} like registry:2.8.3` : changeSource(source, 'an image reference like registry:2.8.3'));
  }
  return image;
}
