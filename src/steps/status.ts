/**
 * Read-only health checks: cluster running, nodes Ready, registry Ready, the NodePort answering
 * (401 without, 200 with the saved credentials, over TLS trusted through the saved CA), the hosts
 * entry on every node, the pull-through cache (a warning at worst), and how long the registry
 * certificate stays valid. A failing check says why and what to do; checks that depend on it are skipped.
 */
import { isKnownError, ToolError } from '../errors.js';
import { daysLeft } from '../render/pki.js';
import { NAMESPACE, REGISTRY_HOST, SERVICE_NAME, kubeContext } from '../spec.js';
import { readCredentials } from '../state/credentials.js';
import { statePath } from '../state/layout.js';
import { readIfExists } from '../state/write-files.js';
import { getDeployment, getNodes, getServiceClusterIp } from '../tools/kubectl-objects.js';
import type { Runner } from '../tools/run.js';
import { checkDocker, inspectCluster, isOurs, isRunning, nodesDown, publishedRegistryPort, type ClusterFacts } from './preflight.js';
import { nodeStartTimes, restartedSince } from './node-restarts.js';
import { checkHostsEntries, k3sNodes, selectorOf, stuckPodReason } from './readiness.js';
import { probeProblem, probeRegistry } from './registry-probe.js';
import { registryVolumeUseIfKnown } from './images-du.js';
import { cacheCheck } from './status-cache.js';
import { readUpState } from './up-state.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface StatusCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface StatusReport {
  cluster: string;
  context: string;
  stateDir: string;
  registry?: string;
  /** Disk used by the registry's docker volume (docker's rounding), when docker could size it. */
  registryDiskBytes?: number;
  healthy: boolean;
  checks: StatusCheck[];
}

export interface StatusRequest {
  run: Runner;
  name: string;
  stateDir: string;
  now: Date;
  probe?: typeof probeRegistry;
}

const UP = 'run k3s-devreg up';
/** The server certificate is renewed by `up` when it has fewer days left than this. */
const RENEW_DAYS = 30;

export type CheckOutcome = Omit<StatusCheck, 'name'>;

/** Runs one check; a known error (tool missing, no answer) becomes a failed check with its fix. */
async function check(name: string, work: () => Promise<CheckOutcome>): Promise<StatusCheck> {
  try {
    return { name, ...(await work()) };
  } catch (error) {
    if (isKnownError(error)) return { name, status: 'fail', detail: error.problem, fix: error.fix };
    throw error;
  }
}

const skipped = (name: string, why: string): StatusCheck => ({ name, status: 'skip', detail: why });

/** Whether the cluster is there, ours and running, and when not, what to do (status and doctor). */
export function clusterOutcome(facts: ClusterFacts): CheckOutcome {
  const c = facts.cluster;
  if (!c) return { status: 'fail', detail: `no k3d cluster named ${facts.name}`, fix: UP };
  if (!isOurs(facts)) return { status: 'fail', detail: `the k3d cluster ${facts.name} was not created by k3s-devreg`, fix: 'choose another name with --name' };
  const counts = `${c.serversRunning}/${c.serversCount} server(s), ${c.agentsRunning}/${c.agentsCount} agent(s) running`;
  if (!isRunning(facts)) {
    const down = nodesDown(facts);
    // `k3d cluster start` (what up runs) leaves alone a node docker calls running: one it keeps
    // restarting (its log says why it stops) or one that is paused.
    const restarting = c.nodes.find((n) => n.status === 'restarting');
    const paused = c.nodes.find((n) => n.status === 'paused');
    const fix = restarting
      ? `see why ${restarting.name} keeps stopping: docker logs --tail 50 ${restarting.name}`
      : paused
        ? `docker unpause ${paused.name}`
        : `${UP} to start it`;
    return { status: 'fail', detail: down.length > 0 ? `${counts}; down: ${down.join(', ')}` : counts, fix };
  }
  return { status: 'ok', detail: counts };
}

/** GET /v2/ on the published port from this machine: 401 without, 200 with the saved credentials, TLS through the saved CA. */
export async function registryPortOutcome(stateDir: string, port: number | undefined, probe: typeof probeRegistry = probeRegistry): Promise<CheckOutcome> {
  if (port === undefined) return { status: 'fail', detail: 'the loadbalancer publishes no port for the registry', fix: 'run k3s-devreg down, then up' };
  const caCert = await readIfExists(statePath(stateDir, 'caCert'));
  // A missing CA is reported as missing, whatever state the credentials are in.
  const credentials = caCert ? await readCredentials(stateDir) : undefined;
  if (!caCert || !credentials) return { status: 'fail', detail: `the CA or credentials are missing from ${stateDir}`, fix: UP };
  let result;
  try {
    result = await probe({ port, caCert, credentials });
  } catch (error) {
    // The probe's own fix points at status, which is where the user already is.
    if (!(error instanceof ToolError)) throw error;
    return { status: 'fail', detail: error.problem, fix: UP };
  }
  const problem = probeProblem(result);
  if (problem) return { status: 'fail', detail: problem, fix: UP };
  return { status: 'ok', detail: `https://localhost:${port}/v2/ answers 401 without and 200 with the credentials` };
}

export async function collectStatus(request: StatusRequest): Promise<StatusReport> {
  const { run, name, stateDir } = request;
  const context = kubeContext(name);
  const checks: StatusCheck[] = [];
  let facts: ClusterFacts | undefined;
  let dockerAnswers = false;

  checks.push(
    await check('cluster', async () => {
      await checkDocker(run);
      dockerAnswers = true;
      facts = await inspectCluster(run, name);
      return clusterOutcome(facts);
    }),
  );
  const clusterOk = checks[0]?.status === 'ok';
  const why = !facts ? 'the cluster could not be checked' : !facts.cluster ? 'there is no cluster' : !isOurs(facts) ? 'the cluster is not ours' : 'the cluster is not running';

  checks.push(
    clusterOk
      ? await check('nodes', async () => {
          const nodes = await getNodes(run, context);
          const notReady = nodes.filter((n) => !n.ready);
          if (nodes.length === 0) return { status: 'fail', detail: 'no nodes registered', fix: `kubectl --context ${context} get nodes` };
          if (notReady.length > 0) {
            return { status: 'fail', detail: `not Ready: ${notReady.map((n) => `${n.name} (${n.reason})`).join(', ')}`, fix: `kubectl --context ${context} describe nodes` };
          }
          return { status: 'ok', detail: `${nodes.length}/${nodes.length} Ready` };
        })
      : skipped('nodes', why),
  );

  checks.push(
    clusterOk
      ? await check('registry pod', async () => {
          const d = await getDeployment(run, context, NAMESPACE, SERVICE_NAME);
          if (!d) return { status: 'fail', detail: `deployment/${SERVICE_NAME} is missing in namespace ${NAMESPACE}`, fix: UP };
          if (d.desired === 0 || d.ready < d.desired) {
            const why = await stuckPodReason(run, context, selectorOf(SERVICE_NAME)).catch(() => undefined);
            return { status: 'fail', detail: `${d.ready}/${d.desired} ready${why ? `: ${why}` : ''}`, fix: `kubectl --context ${context} --namespace ${NAMESPACE} describe deployment/${SERVICE_NAME}` };
          }
          return { status: 'ok', detail: `${d.ready}/${d.desired} ready` };
        })
      : skipped('registry pod', why),
  );

  const port = facts ? publishedRegistryPort(facts) : undefined;
  checks.push(
    clusterOk
      ? await check('registry port', () => registryPortOutcome(stateDir, port, request.probe))
      : skipped('registry port', why),
  );

  checks.push(
    clusterOk
      ? await check('hosts entries', async () => {
          const ip = await getServiceClusterIp(run, context, NAMESPACE, SERVICE_NAME);
          if (!ip) return { status: 'fail', detail: `service/${SERVICE_NAME} has no ClusterIP`, fix: UP };
          const nodes = k3sNodes(facts?.cluster);
          const results = await checkHostsEntries(run, nodes, ip);
          const bad = results.filter((r) => !r.ok);
          if (bad.length > 0) {
            return { status: 'fail', detail: bad.map((b) => `${b.node}: ${b.detail}`).join('; '), fix: `kubectl --context ${context} --namespace ${NAMESPACE} logs daemonset/registry-hosts` };
          }
          return { status: 'ok', detail: `${REGISTRY_HOST} -> ${ip} on ${nodes.length} node(s)` };
        })
      : skipped('hosts entries', why),
  );

  checks.push(
    clusterOk && facts
      ? await check('node restarts', async () => {
          const now = nodeStartTimes(facts!);
          const restarted = restartedSince((await readUpState(stateDir)).nodesStartedAt, now);
          if (restarted.length === 0) return { status: 'ok', detail: 'no node restarted since the last up' };
          return {
            status: 'warn',
            detail: `${restarted.map((n) => `${n} (started ${now[n]})`).join(', ')} restarted since the last up: docker rebuilt their /etc/hosts, and the registry-hosts DaemonSet writes the ${REGISTRY_HOST} line again once its pod runs`,
            fix: `${UP} to wait for it and verify again`,
          };
        })
      : skipped('node restarts', why),
  );

  // The cache is shared by the daemon's clusters and outlives them: checked whenever docker answers.
  // (Without k3d there are no facts, but docker still answers about the cache.)
  checks.push(dockerAnswers ? await check('cache', () => cacheCheck(run, name, stateDir)) : skipped('cache', 'docker could not be checked'));

  checks.push(
    await check('certificate', async () => {
      const pem = await readIfExists(statePath(stateDir, 'tlsCert'));
      if (!pem) return { status: 'fail', detail: `no registry certificate in ${stateDir}`, fix: UP };
      const days = daysLeft(pem, request.now);
      if (days <= 0) return { status: 'fail', detail: 'the registry certificate has expired', fix: `${UP} to renew it` };
      if (days < RENEW_DAYS) return { status: 'warn', detail: `${days} day(s) left`, fix: `${UP} to renew it` };
      return { status: 'ok', detail: `${days} day(s) left` };
    }),
  );

  const report: StatusReport = {
    cluster: name,
    context,
    stateDir,
    healthy: checks.every((c) => c.status === 'ok' || c.status === 'warn'),
    checks,
  };
  if (port !== undefined) report.registry = `localhost:${port}`;
  // Information, not a check: a daemon too busy to size its volumes leaves it out. `docker system df`
  // walks every volume (seconds on a big daemon): only worth it when there is a running cluster.
  const disk = clusterOk ? await registryVolumeUseIfKnown(run, name) : undefined;
  if (disk?.bytes !== undefined) report.registryDiskBytes = disk.bytes;
  return report;
}

const MARK: Record<CheckStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** A table for people: CHECK, STATUS, DETAIL, and the fix under each check that is not ok. */
export function statusTable(report: StatusReport): string {
  const width = Math.max(5, ...report.checks.map((c) => c.name.length));
  const lines = [`${'CHECK'.padEnd(width)}  STATUS  DETAIL`];
  for (const c of report.checks) {
    lines.push(`${c.name.padEnd(width)}  ${MARK[c.status].padEnd(6)}  ${c.detail}`);
    if (c.fix && c.status !== 'ok' && c.status !== 'skip') lines.push(`${''.padEnd(width)}          fix: ${c.fix}`);
  }
  lines.push('');
  if (report.registryDiskBytes !== undefined) lines.push(`registry data: ${(report.registryDiskBytes / 1e6).toFixed(1)} MB on disk (k3s-devreg images du)`);
  lines.push(report.healthy ? `healthy: cluster ${report.cluster} (context ${report.context})` : `not healthy: cluster ${report.cluster}`);
  return lines.join('\n');
}
