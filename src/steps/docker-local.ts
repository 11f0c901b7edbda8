/**
 * k3d nodes bind-mount the state folder (node/, images/) from the machine the docker daemon runs on.
 * Two setups break that without a word: a daemon on another machine (DOCKER_HOST or a docker context
 * over ssh:// or tcp://), where the folder does not exist, and Ubuntu's snap docker, whose confinement
 * (the `home` interface) hides folders whose names start with '.' in the user's home. Both would start
 * k3s without our registries.yaml; they are refused before anything is created.
 */
import { createHash } from 'node:crypto';
import { access, constants, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, relative, sep } from 'node:path';
import { UserError } from '../errors.js';

const readJson = async (path: string): Promise<Record<string, unknown> | undefined> => {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

/** The folder of docker's config.json, as the docker CLI finds it. */
export const dockerConfigDir = (env: NodeJS.ProcessEnv): string => env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');

/**
 * The daemon address the docker CLI uses, as it resolves it: DOCKER_HOST, else the context named by
 * DOCKER_CONTEXT or config.json's currentContext, whose meta.json lives under contexts/meta/<sha256 of its name>/.
 */
export async function dockerEndpoint(env: NodeJS.ProcessEnv): Promise<{ host: string; from: string } | undefined> {
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, from: 'DOCKER_HOST' };
  const configDir = dockerConfigDir(env);
  const context = env.DOCKER_CONTEXT || (await readJson(join(configDir, 'config.json')))?.currentContext;
  if (typeof context !== 'string' || context === '' || context === 'default') return undefined;
  const meta = await readJson(join(configDir, 'contexts', 'meta', createHash('sha256').update(context).digest('hex'), 'meta.json'));
  const host = (meta?.Endpoints as { docker?: { Host?: string } } | undefined)?.docker?.Host;
  return host ? { host, from: `the docker context ${context}` } : undefined;
}

/** True for an address on another machine: ssh://, or tcp:// and http(s):// to a host that is not this one. */
export function isRemoteEndpoint(host: string): boolean {
  const match = /^(ssh|tcp|https?):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/.exec(host);
  if (!match) return false;
  if (match[1] === 'ssh') return true;
  return !/^(localhost|127(\.\d+){3}|\[::1\])$/i.test(match[2] ?? '');
}

/** The first executable `docker` on PATH (what the runner will start), without running it. */
export async function dockerOnPath(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'docker');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Under snap's confinement docker reads the home folder, but no hidden folder in it, and nothing outside it. */
export function snapCanRead(path: string, home: string): boolean {
  const inside = relative(home, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return false;
  return !inside.split(sep).some((part) => part.startsWith('.'));
}

export interface DockerLocalRequest {
  env: NodeJS.ProcessEnv;
  stateDir: string;
  /** The docker program that will run (default: found on PATH); snap's is /snap/bin/docker. */
  dockerPath?: string;
}

export async function refuseUnmountableDocker(request: DockerLocalRequest): Promise<void> {
  const endpoint = await dockerEndpoint(request.env);
  if (endpoint && isRemoteEndpoint(endpoint.host)) {
    throw new UserError(
      `docker talks to a daemon on another machine (${endpoint.host}, from ${endpoint.from}), whose k3d nodes cannot mount ${request.stateDir} from this one`,
      'run k3s-devreg on the machine docker runs on, or use a local daemon (unset DOCKER_HOST, or `docker context use default`)',
    );
  }
  const docker = request.dockerPath ?? (await dockerOnPath(request.env));
  const home = request.env.HOME || homedir();
  if (docker?.startsWith('/snap/bin/') && !snapCanRead(request.stateDir, home)) {
    throw new UserError(
      `docker is the snap package (${docker}), which cannot read ${request.stateDir} (a hidden folder, or outside your home), so k3s would start without our registries.yaml`,
      `set K3S_DEVREG_HOME to a folder in your home that is not hidden, e.g. K3S_DEVREG_HOME=${join(home, 'k3s-devreg')}, or install Docker from its own packages`,
    );
  }
}
