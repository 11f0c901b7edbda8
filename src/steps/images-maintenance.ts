/**
 * The registry's garbage collection, run safely: the Deployment is made read-only first (an env
 * variable; its Recreate strategy stops the old pod before the new one starts, so no writable
 * registry is left), then `registry garbage-collect` runs in its pod, and the variable is set back
 * to writable in a finally. That second restart also empties the registry's in-memory blob-descriptor
 * cache, which would otherwise claim the deleted layers still exist and skip their next upload.
 * The variable is part of the rendered Deployment, so `up` sets a leftover read-only back too
 * (steps/manifests.ts); every prune also looks for one first and makes the registry writable.
 */
import { Interrupted, isKnownError, ToolError, UserError } from '../errors.js';
import { READ_ONLY_ENV, READ_ONLY_VALUE, WRITABLE_VALUE, garbageCollectArgv, isReadOnlyValue, parseGcSummary, type GcSummary } from '../images/registry-gc.js';
import { NAMESPACE, SERVICE_NAME } from '../spec.js';
import { rolloutStatus } from '../tools/kubectl.js';
import { deploymentEnv, execInDeployment, setDeploymentEnv } from '../tools/kubectl-workloads.js';
import type { Runner } from '../tools/run.js';

const ROLLOUT_SECONDS = 180;
// The whole storage is walked: generous, for a registry of many gigabytes on a slow disk.
const GC_MS = 30 * 60_000;

export interface MaintenanceRequest {
  run: Runner;
  context: string;
  signal?: AbortSignal;
  say: (line: string) => void;
}

const target = (context: string) => ({ context, namespace: NAMESPACE, deployment: SERVICE_NAME, container: SERVICE_NAME });

/** True when the registry's Deployment carries the read-only setting (a prune was interrupted). */
export async function isReadOnly(run: Runner, context: string): Promise<boolean> {
  const env = await deploymentEnv(run, context, NAMESPACE, SERVICE_NAME, SERVICE_NAME);
  if (!env) throw new UserError(`deployment/${SERVICE_NAME} is missing in namespace ${NAMESPACE}`, 'run k3s-devreg up');
  return isReadOnlyValue(env[READ_ONLY_ENV]);
}

async function setReadOnly(request: MaintenanceRequest, on: boolean): Promise<void> {
  const { run, context } = request;
  await setDeploymentEnv(run, target(context), { set: { [READ_ONLY_ENV]: on ? READ_ONLY_VALUE : WRITABLE_VALUE } });
  await rolloutStatus(run, context, NAMESPACE, `deployment/${SERVICE_NAME}`, ROLLOUT_SECONDS);
}

/** A failure here leaves pushes refused: the error says so, and how to finish the job. */
export async function makeWritable(request: MaintenanceRequest): Promise<void> {
  request.say('Making the registry writable again (it restarts)...');
  try {
    await setReadOnly(request, false);
  } catch (error) {
    if (!isKnownError(error)) throw error;
    throw new ToolError(`the registry may still be read-only, refusing pushes: ${error.problem}`, 'run k3s-devreg images prune again once the cluster answers: it makes the registry writable first', error instanceof ToolError ? error.detail : '');
  }
}

/** Read-only, garbage-collect, writable again (always, once the read-only change was attempted). */
export async function collectGarbage(request: MaintenanceRequest, deleteUntagged: boolean): Promise<GcSummary | undefined> {
  const stopIfAborted = () => {
    if (request.signal?.aborted) throw new Interrupted();
  };
  stopIfAborted();
  try {
    request.say('Making the registry read-only (pulls keep working, pushes are refused; it restarts)...');
    await setReadOnly(request, true);
    stopIfAborted();
    request.say(`Running the registry's garbage collection${deleteUntagged ? ' (untagged manifests too)' : ''}...`);
    const { stdout } = await execInDeployment(request.run, target(request.context), garbageCollectArgv(deleteUntagged), GC_MS);
    return parseGcSummary(stdout);
  } finally {
    await makeWritable(request);
  }
}
