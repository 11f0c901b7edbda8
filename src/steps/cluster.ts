/**
 * The k3d cluster: created from the rendered config (validated against k3d's schema first),
 * started when stopped, restarted when registries.yaml changed (k3s reads it only at start),
 * left alone when it runs with the current registries.yaml.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { assetUrl } from '../assets.js';
import { dirname, join } from 'node:path';
import { ToolError, UserError } from '../errors.js';
import { serverContainer } from '../spec.js';
import { writeFileAtomic } from '../state/write-files.js';
import { createCluster, deleteCluster, startCluster, stopCluster } from '../tools/k3d.js';
import type { Runner } from '../tools/run.js';
import { inspectCluster, isRunning, nodesDown, someK3sNodeRuns, type ClusterFacts } from './preflight.js';

/** Validates a k3d config file against the k3d.io/v1alpha5 schema shipped in assets/schemas. */
export async function validateK3dConfigFile(path: string): Promise<void> {
  const [{ Ajv }, formats, schemaText, text] = await Promise.all([
    import('ajv'),
    import('ajv-formats'),
    readFile(assetUrl('schemas/k3d-v1alpha5.schema.json'), 'utf8'),
    readFile(path, 'utf8'),
  ]);
  const ajv = new Ajv({ strict: false, allErrors: true });
  (formats.default as unknown as (a: typeof ajv) => void)(ajv);
  const validate = ajv.compile(JSON.parse(schemaText) as object);
  if (!validate(parse(text))) {
    const errors = (validate.errors ?? [])
      .map((e) => {
        const extra = (e.params as { additionalProperty?: string }).additionalProperty;
        return `${e.instancePath || '/'} ${e.message ?? ''}${extra ? ` (${extra})` : ''}`;
      })
      .join('; ');
    throw new UserError(
      `the k3d config ${path} does not match k3d's k3d.io/v1alpha5 schema (${errors})`,
      'this is a bug in k3s-devreg: please report it with the file attached (it holds no secret)',
    );
  }
}

/** A failed create leaves k3d's whole log in the state folder, and the error names it. */
async function keepK3dLog(error: unknown, configFile: string): Promise<never> {
  if (!(error instanceof ToolError) || !error.detail) throw error;
  const log = join(dirname(configFile), 'logs', 'k3d-cluster-create.log');
  await writeFileAtomic(log, `${error.detail}\n`, 0o600);
  throw new ToolError(error.problem, `${error.fix} (k3d's whole log: ${log})`, error.detail);
}

export type ClusterAction = 'created' | 'started' | 'restarted' | 'running';

export interface EnsureClusterRequest {
  run: Runner;
  facts: ClusterFacts;
  configFile: string;
  /** True when the nodes' k3s was started with another registries.yaml than the current one. */
  registriesStale: boolean;
  /** True when the last `up` stopped while `k3d cluster create` ran: what it left is deleted and created again. */
  interruptedCreate?: boolean;
  /** Called just before `k3d cluster create` (up records that a create is under way). */
  beforeCreate?: () => Promise<void>;
  say: (line: string) => void;
}

export async function ensureCluster(request: EnsureClusterRequest): Promise<{ action: ClusterAction; facts: ClusterFacts }> {
  const { run, facts, say } = request;
  const name = facts.name;
  let action: ClusterAction;
  if (facts.cluster && request.interruptedCreate) {
    // k3d dies on Ctrl-C without rolling back; the half-made cluster carries our labels (refuseForeign ran).
    say(`the last run stopped while k3d was creating ${name}: deleting what it left and creating it again`);
    await deleteCluster(run, name);
  }
  if (!facts.cluster || request.interruptedCreate) {
    await validateK3dConfigFile(request.configFile);
    await request.beforeCreate?.();
    await createCluster(run, request.configFile).catch((error: unknown) => keepK3dLog(error, request.configFile));
    action = 'created';
  } else if (!isRunning(facts)) {
    // Starting re-reads registries.yaml, but k3d starts only the nodes that are not running
    // (k3d-io/k3d pkg/client/cluster.go ClusterStart): nodes still up keep the old file unless stopped first.
    if (request.registriesStale && someK3sNodeRuns(facts)) {
      say('registries.yaml changed and some nodes still run: stopping them first, because k3s reads it only when it starts');
      await stopCluster(run, name);
    }
    await startCluster(run, name);
    action = 'started';
  } else if (request.registriesStale) {
    say('registries.yaml changed: restarting the nodes, because k3s reads it only when it starts');
    await stopCluster(run, name);
    await startCluster(run, name);
    action = 'restarted';
  } else {
    return { action: 'running', facts };
  }
  const after = await inspectCluster(run, name);
  if (!after.cluster || !isRunning(after)) {
    const down = nodesDown(after);
    throw new UserError(
      `k3d reported success but the cluster ${name} is not running${down.length > 0 ? ` (${down.join(', ')})` : ''}`,
      `look at \`docker ps -a --filter name=k3d-${name}\` and \`docker logs ${serverContainer(name)}\`, then run k3s-devreg up again`,
    );
  }
  return { action, facts: after };
}
