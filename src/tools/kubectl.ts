/**
 * One tiny function per kubectl command. Always an explicit `--context` (never whatever context
 * happens to be current), manifests on stdin (`-f -`), JSON output parsed into small records.
 * This file: the kubeconfig, applying manifests and waiting for rollouts; kubectl-objects.ts reads
 * single objects (nodes, pods, Services, Secrets, DaemonSets) and deletes pods.
 */
import { ensureOk, KUBECTL, parseJson } from './failure.js';
import type { Runner } from './run.js';

/** Shared with kubectl-objects.ts. */
export const QUICK_MS = 30_000;
const APPLY_MS = 120_000;

/** k3d-* contexts are most likely up's own clusters, which `status` diagnoses; any other is the user's. */
export const unreachableFix = (context: string): string =>
  context.startsWith('k3d-')
    ? `check that the cluster is running (k3s-devreg status) and that \`kubectl --context ${context} get nodes\` works`
    : `check that \`kubectl --context ${context} get nodes\` works (the cluster is up and reachable, your credentials are valid)`;

export async function kubectlClientVersion(run: Runner): Promise<string> {
  const action = 'report its version';
  const result = ensureOk(KUBECTL, action, await run('kubectl', ['version', '--client', '--output', 'json'], { timeoutMs: QUICK_MS }), KUBECTL.install, QUICK_MS);
  const parsed = parseJson<{ clientVersion?: { gitVersion?: string } }>(KUBECTL, action, result.stdout);
  return parsed.clientVersion?.gitVersion ?? 'unknown';
}

/**
 * Removes a context, its cluster and its user from the kubeconfig files (kubectl edits the file that
 * holds each), and unsets the current context when it was this one.
 */
export async function deleteKubeconfigEntries(run: Runner, entries: { context: string; cluster: string; user: string; wasCurrent: boolean }): Promise<void> {
  const fix = 'check that the files KUBECONFIG lists are writable';
  for (const args of [
    ['config', 'delete-context', entries.context],
    ['config', 'delete-cluster', entries.cluster],
    ['config', 'delete-user', entries.user],
    ...(entries.wasCurrent ? [['config', 'unset', 'current-context']] : []),
  ]) {
    const result = await run('kubectl', args, { timeoutMs: QUICK_MS });
    // An entry already gone is what we want.
    if (result.exitCode !== 0 && !result.notFound && /not (found|in)/i.test(result.stderr)) continue;
    ensureOk(KUBECTL, `remove ${args.slice(1).join(' ')} from the kubeconfig`, result, fix, QUICK_MS);
  }
}

/** Every context in the kubeconfig, by name. */
export async function listContexts(run: Runner): Promise<string[]> {
  const result = await run('kubectl', ['config', 'get-contexts', '--output', 'name'], { timeoutMs: QUICK_MS });
  ensureOk(KUBECTL, 'read the kubeconfig contexts', result, 'check your kubeconfig (KUBECONFIG or ~/.kube/config)', QUICK_MS);
  return result.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** `kubectl apply -f -` with the YAML on stdin; returns kubectl's one line per object. */
export async function applyYaml(run: Runner, context: string, yaml: string): Promise<string[]> {
  const result = await run('kubectl', ['--context', context, 'apply', '--filename', '-'], { input: yaml, timeoutMs: APPLY_MS });
  ensureOk(KUBECTL, `apply the manifests to ${context}`, result, unreachableFix(context), APPLY_MS);
  return result.stdout.split('\n').filter(Boolean);
}

/** `kubectl create -f -` with the YAML on stdin. */
export async function createYaml(run: Runner, context: string, yaml: string): Promise<void> {
  const result = await run('kubectl', ['--context', context, 'create', '--filename', '-'], { input: yaml, timeoutMs: QUICK_MS });
  ensureOk(KUBECTL, `create objects in ${context}`, result, unreachableFix(context), QUICK_MS);
}

/** An object as the API server returns it: enough to tell what it is and how its rollout stands. */
/** A container in a pod spec or a workload's pod template, as kubectl's JSON has it (only what is read of it). */
export interface ContainerSpecJson {
  name?: string;
  env?: { name?: string; value?: string }[];
}

/** Each container's literal env values by container name; valueFrom entries (a Secret's or a field's) are left out. */
export function literalEnvByContainer(containers: readonly ContainerSpecJson[] | undefined): Record<string, Record<string, string>> {
  return Object.fromEntries(
    (containers ?? []).filter((c) => c.name).map((c) => [c.name!, Object.fromEntries((c.env ?? []).filter((e) => e.name && e.value !== undefined).map((e) => [e.name!, e.value!]))]),
  );
}

export interface LiveObject {
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number };
  spec?: { replicas?: number; clusterIP?: string; template?: { spec?: { containers?: ContainerSpecJson[] } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
}

/** The objects of the YAML that exist, with their status, in one read (`get -f - -o json`). */
export async function getObjects(run: Runner, context: string, yaml: string): Promise<LiveObject[]> {
  const action = `read objects from ${context}`;
  const result = await run('kubectl', ['--context', context, 'get', '--filename', '-', '--ignore-not-found', '--output', 'json'], { input: yaml, timeoutMs: QUICK_MS });
  ensureOk(KUBECTL, action, result, unreachableFix(context), QUICK_MS);
  if (result.stdout.trim() === '') return [];
  // Several objects come as a List; a single one as itself.
  const parsed = parseJson<LiveObject & { items?: LiveObject[] }>(KUBECTL, action, result.stdout);
  return parsed.kind === 'List' ? (parsed.items ?? []) : [parsed];
}

/** The kubeconfig's context names and current context, in one read (`config view`; secrets are left out by kubectl). */
export async function readKubeconfig(run: Runner): Promise<{ contexts: string[]; current?: string }> {
  const action = 'read the kubeconfig';
  const result = ensureOk(KUBECTL, action, await run('kubectl', ['config', 'view', '--output', 'json'], { timeoutMs: QUICK_MS }), 'check your kubeconfig (KUBECONFIG or ~/.kube/config)', QUICK_MS);
  const view = parseJson<{ contexts?: { name?: string }[] | null; 'current-context'?: string }>(KUBECTL, action, result.stdout);
  const current = view['current-context'];
  return { contexts: (view.contexts ?? []).map((c) => c.name ?? '').filter(Boolean), ...(current ? { current } : {}) };
}

/** Waits (bounded by kubectl itself) until a Deployment or DaemonSet has rolled out. */
export async function rolloutStatus(run: Runner, context: string, namespace: string, resource: string, timeoutSeconds: number): Promise<void> {
  const result = await run(
    'kubectl',
    ['--context', context, '--namespace', namespace, 'rollout', 'status', resource, `--timeout=${timeoutSeconds}s`],
    { timeoutMs: (timeoutSeconds + 30) * 1000 },
  );
  ensureOk(
    KUBECTL,
    `see ${resource} in namespace ${namespace} roll out within ${timeoutSeconds}s`,
    result,
    `look at \`kubectl --context ${context} --namespace ${namespace} describe ${resource}\` and its pods' events`,
    (timeoutSeconds + 30) * 1000,
  );
}
