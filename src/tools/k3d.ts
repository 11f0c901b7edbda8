/**
 * One tiny function per k3d command. `k3d version` and `k3d cluster list -o json` are parsed;
 * the cluster itself is described only by the config file (which holds no secret).
 */
import { ToolError } from '../errors.js';
import { redact } from '../redact.js';
import { K3D_PHASE_TIMEOUT_SECONDS, serverContainer } from '../spec.js';
import { ANSI, ensureOk, K3D, lastMessage, parseJson } from './failure.js';
import type { Runner } from './run.js';

const QUICK_MS = 30_000;
/**
 * k3d bounds each of the three phases of a create by the config's timeout (K3D_PHASE_TIMEOUT_SECONDS),
 * so it may take 3x that; ours is longer, so k3d itself says what took too long and rolls back,
 * instead of being killed mid-create (which leaves a half-made cluster for the next up to delete).
 */
export const CREATE_MS = (3 * K3D_PHASE_TIMEOUT_SECONDS + 60) * 1000;
const START_STOP_MS = 5 * 60_000;

export interface K3dVersion {
  /** e.g. '5.6.0' */
  k3d: string;
  /** e.g. 'v1.27.4-k3s1', when reported */
  k3s?: string;
}

export interface K3dNode {
  name: string;
  /** server | agent | loadbalancer | registry */
  role: string;
  /** docker's State.Running, which is also true while docker restarts a crashed container. */
  running: boolean;
  /** docker's State.Status: running | restarting | exited | created | paused | dead */
  status: string;
}

export interface K3dCluster {
  name: string;
  serversCount: number;
  serversRunning: number;
  agentsCount: number;
  agentsRunning: number;
  nodes: K3dNode[];
}

export async function k3dVersion(run: Runner): Promise<K3dVersion> {
  const result = ensureOk(K3D, 'report its version', await run('k3d', ['version'], { timeoutMs: QUICK_MS }), K3D.install, QUICK_MS);
  const k3d = /k3d version v?(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1];
  if (!k3d) {
    throw new ToolError(`cannot read the k3d version from ${JSON.stringify(result.stdout.split('\n')[0] ?? '')}`, K3D.install);
  }
  const k3s = /k3s version (\S+)/.exec(result.stdout)?.[1];
  return k3s ? { k3d, k3s } : { k3d };
}

interface RawCluster {
  name?: string;
  serversCount?: number;
  serversRunning?: number;
  agentsCount?: number;
  agentsRunning?: number;
  nodes?: { name?: string; role?: string; State?: { Running?: boolean; Status?: string } }[] | null;
}

export async function listClusters(run: Runner): Promise<K3dCluster[]> {
  const action = 'list its clusters';
  const result = ensureOk(
    K3D,
    action,
    await run('k3d', ['cluster', 'list', '--output', 'json'], { timeoutMs: QUICK_MS }),
    'check that docker is running and `k3d cluster list` works',
    QUICK_MS,
  );
  // k3d's logger writes INFO/DEBUG lines to stdout (k3d-io/k3d cmd/root.go, initLogging: a writer hook on
  // os.Stdout); the JSON itself is one line printed with fmt.Println (cmd/cluster/clusterList.go).
  const jsonLine = result.stdout.split(/\r?\n/).filter((line) => line.trimStart().startsWith('[')).at(-1) ?? result.stdout;
  const raw = parseJson<RawCluster[] | null>(K3D, action, jsonLine.trim() || '[]') ?? [];
  return raw.map((c) => ({
    name: c.name ?? '',
    serversCount: c.serversCount ?? 0,
    serversRunning: c.serversRunning ?? 0,
    agentsCount: c.agentsCount ?? 0,
    agentsRunning: c.agentsRunning ?? 0,
    // k3d copies State.Running and State.Status from docker (pkg/runtimes/docker/translate.go), and
    // counts a node as running by State.Running alone, which docker keeps true while it restarts a
    // crashed container (moby container/state.go SetRestarting): the status tells them apart.
    nodes: (c.nodes ?? []).map((n) => ({ name: n.name ?? '', role: n.role ?? '', running: n.State?.Running === true, status: n.State?.Status ?? '' })),
  }));
}

/** k3d's rollback lines say only that it failed; the lines before them say why. */
const ROLLBACK = /Rolling Back|Cluster creation FAILED|rolled back|Deleting (cluster|node|image volume)|Removing cluster details|Successfully deleted/i;

/** The distinct ERRO/FATA lines of k3d's log (without its prefixes), the rollback chatter left out. */
export function k3dErrorLines(log: string): string[] {
  const lines = log
    .replace(ANSI, '')
    .split(/\r?\n/)
    .filter((line) => /^(?:PANI|FATA|ERRO)\[|level=(?:panic|fatal|error)/.test(line))
    .map((line) => lastMessage(line))
    .filter((line) => line !== '' && !ROLLBACK.test(line));
  return [...new Set(lines)];
}

/** The whole of what k3d printed, for the log file a failed create leaves (redacted: it may echo the config). */
export const k3dLog = (result: { stdout: string; stderr: string }): string => redact(`${result.stdout}\n${result.stderr}`.replace(ANSI, '').trim());

export async function createCluster(run: Runner, configFile: string): Promise<void> {
  const result = await run('k3d', ['cluster', 'create', '--config', configFile], { timeoutMs: CREATE_MS });
  if (result.exitCode === 0 || result.notFound || result.timedOut) {
    ensureOk(K3D, `create the cluster from ${configFile}`, result, 'run k3s-devreg up again (it deletes what the stopped create left)', CREATE_MS);
    return;
  }
  const why = redact(k3dErrorLines(result.stderr).slice(0, 3).join(' / ') || lastMessage(result.stderr) || lastMessage(result.stdout));
  throw new ToolError(`k3d could not create the cluster from ${configFile} (exit ${result.exitCode}${why ? `: ${why}` : ''})`, 'fix what k3d says, then run k3s-devreg up again', k3dLog(result));
}

/**
 * `k3d cluster start` waits for the nodes by default (`--wait`), but with `--timeout` 0, i.e. for ever
 * (k3d-io/k3d cmd/cluster/clusterStart.go). Bounded here, below the runner's limit, so k3d itself says
 * which node did not come up.
 */
export const START_WAIT = '240s';

export async function startCluster(run: Runner, name: string): Promise<void> {
  const result = await run('k3d', ['cluster', 'start', name, `--timeout=${START_WAIT}`], { timeoutMs: START_STOP_MS });
  ensureOk(K3D, `start the cluster ${name}`, result, `see \`docker logs ${serverContainer(name)}\`; if it stays broken, run k3s-devreg down and then up`, START_STOP_MS);
}

export async function stopCluster(run: Runner, name: string): Promise<void> {
  const result = await run('k3d', ['cluster', 'stop', name], { timeoutMs: START_STOP_MS });
  ensureOk(K3D, `stop the cluster ${name}`, result, `check \`docker ps --filter name=k3d-${name}\`, then run k3s-devreg up again`, START_STOP_MS);
}

export async function deleteCluster(run: Runner, name: string): Promise<void> {
  const result = await run('k3d', ['cluster', 'delete', name], { timeoutMs: START_STOP_MS });
  ensureOk(K3D, `delete the cluster ${name}`, result, `check \`docker ps -a --filter name=k3d-${name}\` and try again`, START_STOP_MS);
}

/**
 * Writes the cluster's context into the default kubeconfig, or into `output` (k3d merges into an
 * existing file there: pkg/client/kubeconfig.go KubeconfigGetWrite), switching to it only when asked.
 */
export async function mergeKubeconfig(run: Runner, name: string, options: { output?: string; switchContext?: boolean } = {}): Promise<void> {
  const target = options.output ? ['--output', options.output] : ['--kubeconfig-merge-default'];
  const result = await run('k3d', ['kubeconfig', 'merge', name, ...target, `--kubeconfig-switch-context=${options.switchContext === true}`], {
    timeoutMs: QUICK_MS,
  });
  ensureOk(K3D, `write the kubeconfig of ${name}${options.output ? ` into ${options.output}` : ''}`, result, `check that ${options.output ?? 'your kubeconfig (KUBECONFIG or ~/.kube/config)'} is writable`, QUICK_MS);
}
