/**
 * `docker exec CONTAINER sh -c SCRIPT` for scripts that read files inside a container (doctor's read
 * of a k3s node). Their output can hold secrets (containerd's config.toml carries the registry
 * credentials), so it is returned and never quoted in an error; the script itself must hold none,
 * since it travels in argv.
 */
import { ToolError } from '../errors.js';
import { DOCKER, lastMessage, notInstalled } from './failure.js';
import type { Runner } from './run.js';

const EXEC_MS = 30_000;

/** Runs `script` with the container's sh and returns its stdout; `what` names what it reads, for the error. */
export async function readWithScript(run: Runner, container: string, script: string, what: string): Promise<string> {
  const result = await run('docker', ['exec', container, 'sh', '-c', script], { timeoutMs: EXEC_MS });
  if (result.notFound) throw notInstalled(DOCKER);
  const fix = `check that ${container} runs and answers: docker exec ${container} true`;
  if (result.timedOut) throw new ToolError(`docker could not read ${what} in ${container}: no answer within ${EXEC_MS / 1000}s`, fix);
  if (result.exitCode !== 0) {
    const said = lastMessage(result.stderr);
    throw new ToolError(`docker could not read ${what} in ${container} (exit ${result.exitCode}${said ? `: ${said}` : ''})`, fix);
  }
  return result.stdout;
}
