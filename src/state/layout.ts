/**
 * Where a cluster's state lives on the developer's machine. Per cluster, under the user's home
 * (never the npx cache, which npm may clear), overridable with K3S_DEVREG_HOME.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.K3S_DEVREG_HOME;
  if (!override) return join(homedir(), '.k3s-devreg');
  // Taken from the current folder, a relative one put the CA key and credentials into whatever work tree the command ran in.
  if (!isAbsolute(override)) {
    throw new UserError(
      `K3S_DEVREG_HOME must be an absolute path, got ${JSON.stringify(override)}`,
      'set it to a full path, e.g. K3S_DEVREG_HOME="$HOME/.k3s-devreg", or unset it',
    );
  }
  return resolve(override);
}

export function defaultStateDir(cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(env), cluster);
}

/**
 * The state folder is mounted into k3d nodes through the k3d config, where k3d expands `$`
 * and splits volume specs at ':' and ','. `from` says where the path came from: the error names it.
 */
export function validateStateDir(dir: string, from?: '--dir' | 'K3S_DEVREG_HOME' | 'home'): string {
  const absolute = isAbsolute(dir) ? dir : resolve(dir);
  if (/[$:,\s]/.test(absolute)) {
    const source = from === 'home' ? ' (your home folder)' : from ? ` (from ${from})` : '';
    const fix =
      from === '--dir' ? 'choose another --dir' : from === undefined ? 'choose another --dir or set K3S_DEVREG_HOME to a plain path' : 'set K3S_DEVREG_HOME to a plain path, e.g. /tmp/k3s-devreg';
    throw new UserError(`the state folder ${JSON.stringify(absolute)}${source} contains '$', ':', ',' or whitespace, which k3d volume mounts cannot carry`, fix);
  }
  return absolute;
}

/** Every file in a state folder, relative to it. node/ is what the k3d nodes see. */
export const STATE_FILES = {
  /** Ignores everything, itself included: a state folder inside a work tree never shows in `git status`. */
  gitignore: '.gitignore',
  credentials: 'credentials.json',
  /** The answers of the last run (name, agents, username, port, chosen images): the defaults of the next. No secret. */
  settings: 'settings.json',
  /** What the last render wrote and from what, so a re-render that would change nothing reads only. */
  renderStamp: 'render-stamp.json',
  caCert: 'pki/ca.crt',
  caKey: 'pki/ca.key',
  tlsCert: 'pki/tls.crt',
  tlsKey: 'pki/tls.key',
  htpasswd: 'auth/htpasswd',
  nodeDir: 'node',
  registriesYaml: 'node/registries.yaml',
  nodeCaCert: 'node/ca.crt',
  /** Image archives every node's k3s imports when it starts (mounted at NODE_IMAGES_DIR). */
  imagesDir: 'images',
  k3dConfig: 'k3d-config.yaml',
  manifestsDir: 'manifests',
  /** What `up` last did (nodes' registries.yaml, applied manifests, last verify), so re-runs skip it. */
  upState: 'up-state.json',
} as const;

export type StateFileKey = keyof typeof STATE_FILES;

export function statePath(dir: string, key: StateFileKey): string {
  return join(dir, STATE_FILES[key]);
}
