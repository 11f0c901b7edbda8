/**
 * kubectl commands on a running Deployment (`images prune`'s maintenance window): read and change a
 * container's env, and run a command in its pod. Always an explicit `--context`.
 */
import { ensureOk, KUBECTL, parseJson } from './failure.js';
import { literalEnvByContainer, QUICK_MS, unreachableFix, type ContainerSpecJson } from './kubectl.js';
import type { Runner } from './run.js';

const scope = (context: string, namespace: string) => ['--context', context, '--namespace', namespace];

/** A container's literal env values (valueFrom entries are left out); undefined when the Deployment is missing. */
export async function deploymentEnv(run: Runner, context: string, namespace: string, deployment: string, container: string): Promise<Record<string, string> | undefined> {
  const action = `read deployment/${deployment} in namespace ${namespace}`;
  const args = [...scope(context, namespace), 'get', 'deployment', deployment, '--ignore-not-found', '--output', 'json'];
  const result = ensureOk(KUBECTL, action, await run('kubectl', args, { timeoutMs: QUICK_MS }), unreachableFix(context), QUICK_MS);
  if (result.stdout.trim() === '') return undefined;
  const d = parseJson<{ spec?: { template?: { spec?: { containers?: ContainerSpecJson[] } } } }>(KUBECTL, action, result.stdout);
  return literalEnvByContainer(d.spec?.template?.spec?.containers)[container] ?? {};
}

/**
 * `kubectl set env deployment/NAME --containers=C K=V ... K- ...`: sets and removes variables in the
 * pod template (a rollout follows when anything changed). No secrets: the values are in argv.
 */
export async function setDeploymentEnv(
  run: Runner,
  target: { context: string; namespace: string; deployment: string; container: string },
  change: { set?: Record<string, string>; unset?: string[] },
): Promise<void> {
  const { context, namespace, deployment, container } = target;
  const assignments = [...Object.entries(change.set ?? {}).map(([k, v]) => `${k}=${v}`), ...(change.unset ?? []).map((k) => `${k}-`)];
  const args = [...scope(context, namespace), 'set', 'env', `deployment/${deployment}`, `--containers=${container}`, ...assignments];
  const result = await run('kubectl', args, { timeoutMs: QUICK_MS });
  ensureOk(KUBECTL, `change the env of deployment/${deployment} in namespace ${namespace}`, result, unreachableFix(context), QUICK_MS);
}

/** `kubectl exec deployment/NAME --container C -- ARGV`: what the command printed, once it exited 0. */
export async function execInDeployment(
  run: Runner,
  target: { context: string; namespace: string; deployment: string; container: string },
  argv: readonly string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  const { context, namespace, deployment, container } = target;
  const args = [...scope(context, namespace), 'exec', `deployment/${deployment}`, '--container', container, '--', ...argv];
  const result = await run('kubectl', args, { timeoutMs });
  ensureOk(KUBECTL, `run ${argv.slice(0, 2).join(' ')} in deployment/${deployment}`, result, `look at \`kubectl --context ${context} --namespace ${namespace} logs deployment/${deployment}\``, timeoutMs);
  return { stdout: result.stdout, stderr: result.stderr };
}
