/**
 * `doctor`: every check that explains why a pull from our registry fails, as findings. The cluster
 * first (k3d and docker: is it there, ours, running); then at once, inside every k3s node (hosts
 * line, registries.yaml, containerd's hosts.toml, CA, credentials, certificate and clock, containerd's
 * pull errors: doctor-node.ts), through kubectl (the registry pod, pressure on the nodes) and on this
 * machine (docker's login, the port answering); with --pod last, since it says which of the others
 * explains that pod's failed pull. Reads only; a check that cannot run becomes a failed finding.
 */
import { isKnownError } from '../errors.js';
import { hasProblem, type Finding } from '../doctor/finding.js';
import type { PodRef } from '../doctor/pod-pull.js';
import { NAMESPACE, SERVICE_NAME, kubeContext } from '../spec.js';
import { getServiceClusterIp } from '../tools/kubectl-objects.js';
import type { Runner } from '../tools/run.js';
import { podFinding, pressureFindings, registryPodFinding } from './doctor-cluster.js';
import { dockerLoginFinding, registryPortFinding } from './doctor-laptop.js';
import { diagnoseNode, readStateFacts } from './doctor-node.js';
import { tagAsker, type TagAsker } from './doctor-registry-tag.js';
import { checkDocker, inspectCluster, isOurs, publishedRegistryPort, type ClusterFacts } from './preflight.js';
import { k3sNodes } from './readiness.js';
import type { probeRegistry } from './registry-probe.js';
import { clusterOutcome } from './status.js';

export interface DoctorRequest {
  run: Runner;
  name: string;
  stateDir: string;
  /** Where docker's config.json is found (DOCKER_CONFIG, HOME). */
  env: NodeJS.ProcessEnv;
  now: Date;
  pod?: PodRef;
  probe?: typeof probeRegistry;
}

export interface DoctorReport {
  cluster: string;
  healthy: boolean;
  findings: Finding[];
}

/** Runs one check; a known error (a tool missing, no answer) becomes its failed finding, with the error's fix. */
async function guarded(check: string, where: string, work: () => Promise<Finding | Finding[]>): Promise<Finding[]> {
  try {
    return [await work()].flat();
  } catch (error) {
    if (!isKnownError(error)) throw error;
    return [{ check, where, status: 'fail', summary: error.problem, fix: error.fix }];
  }
}

const skipped = (check: string, where: string, why: string): Finding => ({ check, where, status: 'skip', summary: why });

async function clusterFinding(run: Runner, name: string): Promise<{ finding: Finding; facts?: ClusterFacts }> {
  let facts: ClusterFacts | undefined;
  const [finding] = await guarded('cluster', 'cluster', async () => {
    await checkDocker(run);
    facts = await inspectCluster(run, name);
    const outcome = clusterOutcome(facts);
    return { check: 'cluster', where: 'cluster', status: outcome.status, summary: outcome.detail, ...(outcome.fix ? { fix: outcome.fix } : {}) };
  });
  return { finding: finding!, ...(facts ? { facts } : {}) };
}

async function serviceFinding(run: Runner, context: string): Promise<{ finding: Finding; ip?: string }> {
  let ip: string | undefined;
  const [finding] = await guarded('registry service', 'cluster', async () => {
    ip = await getServiceClusterIp(run, context, NAMESPACE, SERVICE_NAME);
    if (ip) return { check: 'registry service', where: 'cluster', status: 'ok', summary: `service/${SERVICE_NAME} has the ClusterIP ${ip}` };
    return { check: 'registry service', where: 'cluster', status: 'fail', summary: `service/${SERVICE_NAME} is missing in namespace ${NAMESPACE} (or has no ClusterIP)`, fix: 'run k3s-devreg up, which creates it again (the nodes\' hosts lines follow its new address)' };
  });
  return { finding: finding!, ...(ip ? { ip } : {}) };
}

export async function runDoctor(request: DoctorRequest): Promise<DoctorReport> {
  const { run, name, stateDir, now } = request;
  const context = kubeContext(name);
  const cluster = await clusterFinding(run, name);
  const findings: Finding[] = [cluster.finding];
  const facts = cluster.facts;
  const running = cluster.finding.status === 'ok' && facts !== undefined;
  const port = facts ? publishedRegistryPort(facts) : undefined;
  const nodes = running ? k3sNodes(facts.cluster) : [];
  let askTag: TagAsker | undefined;
  const why = !facts ? 'the cluster could not be checked' : !facts.cluster ? 'there is no cluster' : !isOurs(facts) ? 'the cluster is not ours' : 'the cluster is not running';

  if (running) {
    const service = await serviceFinding(run, context);
    findings.push(service.finding);
    const ip = service.ip;
    // The state folder once for every node; each node guarded on its own, so one docker cannot exec into leaves the others checked.
    const state = await readStateFacts(stateDir);
    // The registry asked from this machine about the images of failed pulls, each once per run, with the CA and credentials just read.
    if (port !== undefined) askTag = tagAsker(state, port);
    const [inNodes, pod, pressure] = await Promise.all([
      Promise.all(nodes.map((node) => guarded('node', node, () => diagnoseNode({ run, node, now, ...(askTag ? { askTag } : {}), ...(ip ? { serviceIp: ip } : {}), ...(port !== undefined ? { port } : {}) }, state)))),
      guarded('registry pod', 'cluster', () => registryPodFinding(run, context)),
      guarded('disk pressure', 'cluster', () => pressureFindings(run, context, nodes)),
    ]);
    findings.push(...inNodes.flat(), ...pod, ...pressure);
  } else {
    findings.push(skipped('nodes', 'cluster', why));
  }

  // docker's login whenever the cluster publishes a port, running or not; each check guarded on its own (a broken credentials.json fails the login, and the port is still asked).
  if (port !== undefined) findings.push(...(await guarded('docker login', 'laptop', () => dockerLoginFinding({ run, name, stateDir, env: request.env, port }))));
  findings.push(...(await guarded('registry port', 'laptop', () => registryPortFinding({ stateDir, running, why, port, ...(request.probe ? { probe: request.probe } : {}) }))));

  if (request.pod) {
    const ref = request.pod;
    const where = `${ref.namespace}/${ref.name}`;
    const earlier = [...findings];
    findings.push(...(running ? await guarded('pod events', where, () => podFinding(run, context, ref, earlier, nodes, port, askTag)) : [skipped('pod events', where, why)]));
  }
  return { cluster: name, healthy: !hasProblem(findings), findings };
}
