/**
 * Shared by the end-to-end suites: each runs the built CLI (dist/bin.cjs) in a child process, as a
 * user does, inside a sandbox of its own (cluster name, state home, kubeconfig, docker config,
 * working folder), so it never touches the developer's own setup. Without k3d, kubectl or docker a
 * suite FAILS: it never skips (requireE2eTools in beforeAll). With K3S_DEVREG_E2E_IMAGES set, every
 * sandbox's cluster starts with the prepared image archives (images.ts), and every cluster deleted
 * through runTool or runCli (down, reset) has its nodes' images recorded first.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach } from 'vitest';
import { freePort } from '../helpers/tools.js';
import { preloadImages, recordNodeImages } from './images.js';

export { freePort };
/** For a cluster made by k3d alone: `k3d cluster create NAME ...k3dPreloadArgs(join(work, 'images'))`. */
export { k3dPreloadArgs, preloadImages } from './images.js';

export const bin = fileURLToPath(new URL('../../dist/bin.cjs', import.meta.url));

export type CliResult = SpawnSyncReturns<string> & { all: string };

export interface Sandbox {
  /** A fresh cluster name, `<prefix>-<6 hex>`. */
  name: string;
  /** A temporary folder for everything below, and the CLI's working folder; the suite removes it in afterAll. */
  work: string;
  /** K3S_DEVREG_HOME */
  home: string;
  /** The cluster's state folder (home/name). */
  stateDir: string;
  /** The environment of every child process; tests may set variables on it between runs. */
  env: NodeJS.ProcessEnv;
}

/**
 * The docker endpoint of the current docker context, read with the developer's own docker config
 * (Docker Desktop, colima and rootless docker select theirs through a context stored there). The
 * sandbox has a docker config of its own, so without this its docker, k3d and the CLI would all fall
 * back to /var/run/docker.sock.
 */
function currentDockerHost(env: NodeJS.ProcessEnv): string | undefined {
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  const docker = (args: string[]) => {
    const r = spawnSync('docker', args, { env, encoding: 'utf8', timeout: 30_000 });
    return r.status === 0 ? r.stdout.trim() : '';
  };
  // The default context is what an empty docker config gives anyway (GitHub's runners).
  const context = docker(['context', 'show']);
  if (context === '' || context === 'default') return undefined;
  return docker(['context', 'inspect', '--format', '{{.Endpoints.docker.Host}}']) || undefined;
}

export function createSandbox(prefix: string): Sandbox {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-e2e-'));
  const home = join(work, 'home');
  // Nothing of the developer's k3s-devreg settings leaks in: K3S_DEVREG_PASSWORD would make `reset`
  // keep the password, K3S_DEVREG_HOME would point at the real state folders.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('K3S_DEVREG_')));
  const dockerHost = currentDockerHost(process.env);
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}),
    K3S_DEVREG_HOME: home,
    KUBECONFIG: join(work, 'kubeconfig'),
    // `up` and `verify` log docker in to localhost:PORT with the docker config of their environment:
    // this one, never the developer's (the tests push with it too).
    DOCKER_CONFIG: join(work, 'docker'),
    CI: 'true',
  };
  mkdirSync(join(work, 'docker'), { recursive: true });
  const stateDir = join(home, name);
  // Before `up` renders the rest of the state folder: k3s imports these when each node starts.
  preloadImages(join(stateDir, 'images'));
  return { name, work, home, stateDir, env };
}

/**
 * The built CLI with these arguments, run from `cwd` (the sandbox's folder: a k3s-devreg.yaml in the
 * repository must not change what the tests run); `all` is stdout followed by stderr.
 */
export function runCli(env: NodeJS.ProcessEnv, args: readonly string[], cwd: string): CliResult {
  const named = args.indexOf('--name');
  if ((args[0] === 'down' || args[0] === 'reset') && named > 0 && args[named + 1]) recordNodeImages(env, args[named + 1]!, args[0]);
  const result = spawnSync(process.execPath, [bin, ...args], { env, cwd, encoding: 'utf8', timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 });
  const all = `${result.stdout}${result.stderr}`;
  return Object.assign(result, { all });
}

/** An external program (docker, k3d, kubectl) in the sandbox's environment. */
export function runTool(env: NodeJS.ProcessEnv, file: string, args: readonly string[], timeoutMs = 5 * 60_000): SpawnSyncReturns<string> {
  if (file === 'k3d' && args[0] === 'cluster' && args[1] === 'delete') {
    for (const cluster of args.slice(2).filter((a) => !a.startsWith('-'))) recordNodeImages(env, cluster, 'k3d cluster delete');
  }
  return spawnSync(file, [...args], { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

/** Throws with what the program said when it did not exit 0; returns its stdout. */
export function toolOk(result: SpawnSyncReturns<string>, what: string): string {
  if (result.error || result.status !== 0) {
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  }
  return result.stdout;
}

/** Loud, not skipped: an e2e run without its tools is a failed run. */
export function requireE2eTools(env: NodeJS.ProcessEnv): void {
  for (const [file, args, hint] of [
    ['k3d', ['version'], 'install k3d v5.5+ (https://k3d.io)'],
    ['kubectl', ['version', '--client'], 'install kubectl'],
    ['docker', ['info'], 'start docker'],
  ] as const) {
    const r = runTool(env, file, [...args]);
    if (r.error || r.status !== 0) throw new Error(`the e2e suite needs ${file}, which is missing or not working (${r.error?.message ?? r.stderr}): ${hint}`);
  }
}

export function readCredentials(stateDir: string): { username: string; password: string } {
  return JSON.parse(readFileSync(join(stateDir, 'credentials.json'), 'utf8')) as { username: string; password: string };
}

export function expectOk(result: CliResult): void {
  if (result.status !== 0) throw new Error(`exit ${result.status}${result.error ? ` (${result.error.message})` : ''}:\n${result.all}`);
}

/** Retries `attempt` every 3 s until it returns without throwing, or the time is up (then its last error). */
export async function eventually<T>(what: string, timeoutMs: number, attempt: () => T | Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} (waited ${timeoutMs / 1000}s): ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}

/**
 * When a test fails, prints what the clusters looked like before afterAll deletes them: the nodes,
 * every pod and the latest events of each kube context, and the docker containers. A first run on a
 * fresh runner is otherwise hard to read after the fact.
 */
export function printDiagnosticsOnFailure(env: NodeJS.ProcessEnv, contexts: () => string[]): void {
  beforeEach(({ onTestFailed, task }) => {
    onTestFailed(() => {
      const sections: string[] = [`=== diagnostics after the failed test "${task.name}" ===`];
      const show = (file: string, args: string[]) => {
        const r = runTool(env, file, args);
        const text = `${r.error ? `(${r.error.message}) ` : ''}${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
        sections.push(`$ ${file} ${args.join(' ')}\n${text.length > 20_000 ? `...${text.slice(-20_000)}` : text}`);
      };
      show('k3d', ['cluster', 'list']);
      show('docker', ['ps', '--all', '--format', '{{.Names}}\t{{.Status}}\t{{.Ports}}']);
      for (const context of contexts()) {
        const k = ['--context', context, '--request-timeout=20s'];
        show('kubectl', [...k, 'get', 'nodes', '--output', 'wide']);
        show('kubectl', [...k, 'get', 'pods', '--all-namespaces', '--output', 'wide']);
        show('kubectl', [...k, 'get', 'events', '--all-namespaces', '--sort-by=.lastTimestamp']);
      }
      console.error(sections.join('\n\n'));
    });
  });
}
