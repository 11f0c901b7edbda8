/**
 * Applies the rendered manifests with `kubectl apply -f -` (YAML on stdin). Skipped when the same
 * manifests were already applied to this very cluster and every object still exists, so a second
 * `up` makes no changing call.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { ToolError } from '../errors.js';
import { NAMESPACE, NODE_PORT, SERVICE_NAME } from '../spec.js';
import { READ_ONLY_ENV, isReadOnlyValue } from '../images/registry-gc.js';
import { applyYaml, getObjects, literalEnvByContainer, type LiveObject } from '../tools/kubectl.js';
import { servicesWithNodePort } from '../tools/kubectl-objects.js';
import { yamlStream } from '../render/yaml-stream.js';
import type { Runner } from '../tools/run.js';
import { sha256Of } from '../hash.js';

/** The manifest files joined into one multi-document stream, in the given (apply) order. */
export async function manifestStream(files: readonly string[]): Promise<string> {
  const texts = await Promise.all(files.map((file) => readFile(file, 'utf8')));
  return yamlStream(texts);
}

export const objectCount = (yaml: string): number =>
  parseAllDocuments(yaml).filter((doc) => doc.contents !== null && doc.toJS() !== null).length;

export interface ApplyRequest {
  run: Runner;
  context: string;
  manifestFiles: readonly string[];
  /** docker id of the server node: the same manifests on a new cluster must be applied again. */
  clusterId: string;
  /** The fingerprint of the last successful apply (up-state). */
  lastApplied?: string;
}

export interface ApplyResult {
  applied: boolean;
  fingerprint: string;
  /** When nothing was applied: the objects as they stand, with their rollout status. */
  live?: LiveObject[];
  /** kubectl's per-object lines ("deployment.apps/registry configured"), when applied. */
  lines: string[];
}

export async function applyManifests(request: ApplyRequest): Promise<ApplyResult> {
  const yaml = await manifestStream(request.manifestFiles);
  const fingerprint = sha256Of(request.clusterId, yaml);
  if (fingerprint === request.lastApplied) {
    const live = await getObjects(request.run, request.context, yaml);
    if (live.length === objectCount(yaml) && !leftReadOnly(live)) return { applied: false, fingerprint, lines: [], live };
  }
  const lines = await applyYaml(request.run, request.context, yaml).catch((error: unknown) => explainNodePortTaken(error, request));
  return { applied: true, fingerprint, lines };
}

/**
 * A registry an interrupted `images prune` left read-only (pushes refused): the apply sets the
 * rendered (writable) value back, since the variable is in the manifests kubectl apply owns.
 */
function leftReadOnly(live: readonly LiveObject[]): boolean {
  const registry = live.find((o) => o.kind === 'Deployment' && o.metadata.name === SERVICE_NAME && o.metadata.namespace === NAMESPACE);
  return isReadOnlyValue(literalEnvByContainer(registry?.spec?.template?.spec?.containers)[SERVICE_NAME]?.[READ_ONLY_ENV]);
}

/**
 * NODE_PORT lies in the band Kubernetes hands out at random (traefik takes two at start), so another
 * Service may hold it: kubectl then says only "provided port is already allocated".
 */
async function explainNodePortTaken(error: unknown, request: ApplyRequest): Promise<never> {
  if (!(error instanceof ToolError) || !/provided port is already allocated/.test(`${error.problem}\n${error.detail}`)) throw error;
  const holders = (await servicesWithNodePort(request.run, request.context, NODE_PORT).catch(() => [])).filter((s) => s !== `${NAMESPACE}/${SERVICE_NAME}`);
  const [namespace, name] = (holders[0] ?? '/').split('/');
  throw new ToolError(
    `NodePort ${NODE_PORT}, which the registry Service needs, is already taken${holders.length > 0 ? ` by the Service ${holders.join(', ')}` : ' by another Service'}`,
    holders.length > 0
      ? `give it another port (kubectl --context ${request.context} --namespace ${namespace} edit service ${name}: change nodePort ${NODE_PORT}, or delete that line to get a random one) or delete it, then run k3s-devreg up again`
      : `find it with \`kubectl --context ${request.context} get services --all-namespaces\`, move it to another nodePort, then run k3s-devreg up again`,
    error.detail,
  );
}
