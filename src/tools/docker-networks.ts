/** One tiny function per `docker network` command: the pull-through cache joins each cluster's network. */
import { DOCKER, ensureOk, parseJson } from './failure.js';
import { NOT_RUNNING_FIX } from './docker.js';
import type { Runner } from './run.js';

const QUICK_MS = 30_000;

export interface NetworkInfo {
  name: string;
  labels: Record<string, string>;
  /** Names of the containers attached to it. */
  containers: string[];
}

/** `docker network inspect NAME`; undefined when there is no such network. */
export async function inspectNetwork(run: Runner, name: string): Promise<NetworkInfo | undefined> {
  const action = `inspect the docker network ${name}`;
  const result = await run('docker', ['network', 'inspect', name], { timeoutMs: QUICK_MS });
  if (result.exitCode !== 0 && !result.notFound && /no such network|not found/i.test(result.stderr)) return undefined;
  ensureOk(DOCKER, action, result, NOT_RUNNING_FIX, QUICK_MS);
  const [raw] = parseJson<{ Name?: string; Labels?: Record<string, string> | null; Containers?: Record<string, { Name?: string }> | null }[]>(DOCKER, action, result.stdout);
  if (!raw) return undefined;
  return { name: raw.Name ?? name, labels: raw.Labels ?? {}, containers: Object.values(raw.Containers ?? {}).map((c) => c.Name ?? '').filter(Boolean) };
}

export async function createNetwork(run: Runner, name: string, labels: Record<string, string>): Promise<void> {
  const args = ['network', 'create', ...Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]), name];
  ensureOk(DOCKER, `create the docker network ${name}`, await run('docker', args, { timeoutMs: QUICK_MS }), NOT_RUNNING_FIX, QUICK_MS);
}

/** Attaches a container; one already attached is left as it is. */
export async function connectNetwork(run: Runner, network: string, container: string): Promise<void> {
  const result = await run('docker', ['network', 'connect', network, container], { timeoutMs: QUICK_MS });
  if (result.exitCode !== 0 && /already exists|already attached/i.test(result.stderr)) return;
  ensureOk(DOCKER, `attach ${container} to the docker network ${network}`, result, `check both exist: docker network inspect ${network}; docker ps -a --filter name=${container}`, QUICK_MS);
}

/** Detaches a container; one not attached (or gone) is fine. */
export async function disconnectNetwork(run: Runner, network: string, container: string): Promise<void> {
  const result = await run('docker', ['network', 'disconnect', '--force', network, container], { timeoutMs: QUICK_MS });
  if (result.exitCode !== 0 && /is not connected|no such|not found/i.test(result.stderr)) return;
  ensureOk(DOCKER, `detach ${container} from the docker network ${network}`, result, NOT_RUNNING_FIX, QUICK_MS);
}

export async function removeNetwork(run: Runner, name: string): Promise<void> {
  const result = await run('docker', ['network', 'rm', name], { timeoutMs: QUICK_MS });
  if (result.exitCode !== 0 && /no such network|not found/i.test(result.stderr)) return;
  ensureOk(DOCKER, `remove the docker network ${name}`, result, `see what still uses it: docker network inspect ${name}`, QUICK_MS);
}
