/**
 * `registries apply`: what would change on the nodes (redacted), then (once the command confirmed)
 * apply the Secret, ConfigMap and DaemonSet, wait for the writers, and report per node what to restart.
 */
import { UserError } from '../errors.js';
import type { Ask } from '../ask.js';
import { registriesWriterYaml, WRITER_NAME, WRITER_NAMESPACE } from './writer-daemonset.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, NAMESPACE, NODE_CA_FILE, NODE_CONFIG_DIR } from '../spec.js';
import { applyYaml, rolloutStatus } from '../tools/kubectl.js';
import { getNamespaceLabels, getNodeRoles, getSecretData } from '../tools/kubectl-objects.js';
import type { Runner } from '../tools/run.js';
import { redactedDiff } from './redacted-diff.js';
import { requireKubeContext } from './kube-context.js';
import { nodeTable, nodeTargets, refuseCaRegressionNodes, type NodeTarget } from './node-targets.js';
import { formatStatusTable, registriesStatus, restartAdvice, type NodeRegistriesStatus } from './status.js';
import type { LoadedWriter } from './writer-manifests.js';

export interface ApplyRequest {
  context: string;
  file: string;
  ca?: string;
  /** --writer-image */
  writerImage?: string;
  strict: boolean;
  yes: boolean;
  json: boolean;
  /** Bound on waiting for every node's writer (image pulls included). */
  timeoutSeconds?: number;
  /** The injected prompt; absent when prompting is not allowed (--yes, CI, no terminal). */
  ask?: Ask;
}

/**
 * A cluster made by `up` reads registries.yaml from its read-only /etc/k3s-devreg mount (k3s runs
 * with --private-registry), so a writer there would fail or write a file k3s never reads.
 */
async function refuseOurOwnK3dCluster(runner: Runner, context: string): Promise<void> {
  if (!context.startsWith('k3d-')) return;
  const labels = await getNamespaceLabels(runner, context, NAMESPACE);
  if (labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) {
    throw new UserError(
      `${context} was set up by k3s-devreg up, whose nodes read registries.yaml from the read-only ${NODE_CONFIG_DIR}`,
      `run k3s-devreg up --name ${context.slice('k3d-'.length)} --registries-file FILE instead`,
    );
  }
}

function caChange(previous: string | undefined, next: string | undefined): string | undefined {
  if (previous === next) return undefined;
  if (next === undefined) return 'ca.crt: no longer in the Secret (the copy already on the nodes is left in place)';
  return `ca.crt: ${previous === undefined ? 'new' : 'replaced'}, installed as ${NODE_CA_FILE} on every node`;
}

/** What apply would change, found before anything changes (the command shows it and asks). */
export interface ApplyPlan {
  context: string;
  prepared: LoadedWriter;
  current: Record<string, string> | undefined;
  targets: NodeTarget[];
  /** The redacted diff of registries.yaml against the Secret on the cluster. */
  diff: string;
  /** What happens to ca.crt, when anything does. */
  ca?: string;
  changed: boolean;
}

/** Checks the cluster (context, not one of ours, node programs) and compares with its Secret; changes nothing. */
export async function planApply(context: string, prepared: LoadedWriter, runner: Runner): Promise<ApplyPlan> {
  await requireKubeContext(runner, context);
  await refuseOurOwnK3dCluster(runner, context);
  // Which program each node runs and which file it read at start: refusals come before any change.
  const clusterNodes = await getNodeRoles(runner, context);
  const targets = nodeTargets(clusterNodes);
  refuseCaRegressionNodes(clusterNodes, prepared.configuresCaFile);
  const current = await getSecretData(runner, context, WRITER_NAMESPACE, WRITER_NAME);
  const diff = redactedDiff(current?.['registries.yaml'], prepared.registriesYaml, 'registries.yaml');
  const ca = caChange(current?.['ca.crt'], prepared.caCert);
  const changed = current?.['registries.yaml'] !== prepared.registriesYaml || ca !== undefined;
  return { context, prepared, current, targets, diff, ...(ca ? { ca } : {}), changed };
}

export interface ApplyResult {
  context: string;
  changed: boolean;
  diff: string;
  warnings: string[];
  allMatch: boolean;
  nodes: NodeRegistriesStatus[];
  /** What to restart on which node, when a file changed. */
  restart: string[];
}

/**
 * Applies the Secret, ConfigMap and DaemonSet and waits for the writer on every node; `stuck` gets
 * the per-node table when they do not all finish in time (which nodes, and why), before the error.
 */
export async function applyPlan(plan: ApplyPlan, runner: Runner, timeoutSeconds: number, stuck: (table: string) => void): Promise<ApplyResult> {
  const { context, prepared, current, changed, diff } = plan;
  await applyYaml(runner, context, registriesWriterYaml(prepared.render(current?.salt, nodeTable(plan.targets))));
  try {
    await rolloutStatus(runner, context, WRITER_NAMESPACE, `daemonset/${WRITER_NAME}`, timeoutSeconds);
  } catch (error) {
    stuck(formatStatusTable(await registriesStatus(runner, context).catch(() => [])));
    throw error;
  }
  const nodes = await registriesStatus(runner, context);
  const allMatch = nodes.every((n) => n.state === 'matches');
  return { context, changed, diff, warnings: prepared.warnings, allMatch, nodes, restart: changed ? restartAdvice(nodes) : [] };
}
