/**
 * `registries apply`: show what would change on the nodes (redacted), confirm, apply the Secret,
 * ConfigMap and DaemonSet, wait for the writers, then report per node and say what to restart.
 */
import { UserError } from '../errors.js';
import type { Io } from '../io.js';
import { confirm, type Ask } from '../ask.js';
import { registriesWriterYaml, WRITER_NAME, WRITER_NAMESPACE } from '../render/registries-daemonset.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, NAMESPACE, NODE_CA_FILE, NODE_CONFIG_DIR } from '../spec.js';
import { applyYaml, rolloutStatus } from '../tools/kubectl.js';
import { getNamespaceLabels, getNodeRoles, getSecretData } from '../tools/kubectl-objects.js';
import type { Runner } from '../tools/run.js';
import { redactedDiff } from './redacted-diff.js';
import { requireKubeContext } from './kube-context.js';
import { nodeTable, nodeTargets, refuseCaRegressionNodes } from './node-targets.js';
import { formatStatusTable, registriesStatus, restartAdvice } from './status.js';
import { loadWriterFor } from './writer-manifests.js';

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

export async function applyRegistries(request: ApplyRequest, io: Io, runner: Runner): Promise<number> {
  const { context } = request;
  // The user's files first: a typo in them is reported before the cluster is even asked.
  const prepared = await loadWriterFor(request, io, runner);
  for (const warning of prepared.warnings) io.err(`warning: ${warning}`);
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
  const show = request.json ? io.err : io.out;
  show(`Context ${context}, compared with the Secret ${WRITER_NAMESPACE}/${WRITER_NAME}:`);
  show(diff);
  if (ca) show(ca);

  if (changed && !request.yes) {
    if (!request.ask) {
      throw new UserError(`not changing the nodes of ${context} without confirmation`, 'review the diff above, then run again with --yes');
    }
    if (!(await confirm(request.ask, `Write this registries.yaml to every node of ${context}?`))) {
      io.err('Nothing applied.');
      return 1;
    }
  }
  const timeout = request.timeoutSeconds ?? 180;
  io.err(`Applying to ${context} and waiting up to ${timeout}s for the writer on every node...`);
  await applyYaml(runner, context, registriesWriterYaml(prepared.render(current?.salt, nodeTable(targets))));
  try {
    await rolloutStatus(runner, context, WRITER_NAMESPACE, `daemonset/${WRITER_NAME}`, timeout);
  } catch (error) {
    // Which nodes are stuck, and why (image pull, read-only /etc), is what the user needs next.
    io.err(formatStatusTable(await registriesStatus(runner, context).catch(() => [])));
    throw error;
  }
  const nodes = await registriesStatus(runner, context);
  const allMatch = nodes.every((n) => n.state === 'matches');
  const advice = changed ? restartAdvice(nodes) : [];
  if (request.json) {
    io.out(JSON.stringify({ context, changed, diff, warnings: prepared.warnings, allMatch, nodes, restart: advice }, null, 2));
  } else {
    io.out(formatStatusTable(nodes));
    for (const line of advice.length ? advice : ['No node needs a restart of k3s or RKE2: no file on a node changed.']) io.out(line);
    io.out(`Per-node diffs: kubectl --context ${context} -n ${WRITER_NAMESPACE} logs -l app.kubernetes.io/name=${WRITER_NAME} -c writer --prefix --tail=-1`);
  }
  if (!allMatch) io.err(`Not every node has the new file yet: run k3s-devreg registries status --context ${context}`);
  return allMatch ? 0 : 1;
}
