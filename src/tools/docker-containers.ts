/** One tiny function per docker command that starts or removes a container of ours (the pull-through cache). */
import { DOCKER, ensureOk } from './failure.js';
import { removeContainers } from './docker-labelled.js';
import type { Runner } from './run.js';

const QUICK_MS = 30_000;
// `docker run` pulls the image first when it is missing.
const RUN_MS = 10 * 60_000;

/** `docker run -d ...` (the argv a renderer made); returns the new container's id. */
export async function runDetached(run: Runner, args: readonly string[], name: string): Promise<string> {
  if (args[0] !== 'run' || !args.includes('-d')) throw new Error(`not a detached docker run: ${args.slice(0, 2).join(' ')}`);
  const result = await run('docker', args, { timeoutMs: RUN_MS });
  ensureOk(DOCKER, `start the container ${name}`, result, `see why: docker logs ${name} (or remove it: docker rm -f ${name})`, RUN_MS);
  return result.stdout.trim();
}

export async function startContainer(run: Runner, name: string): Promise<void> {
  ensureOk(DOCKER, `start the container ${name}`, await run('docker', ['start', name], { timeoutMs: QUICK_MS }), `see why: docker logs ${name}`, QUICK_MS);
}

/** One container: `docker rm --force NAME` (docker-labelled.ts removes several in one call). */
export const removeContainer = (run: Runner, name: string): Promise<void> => removeContainers(run, [name]);
