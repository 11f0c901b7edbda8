/**
 * Shared by the end-to-end suites: each runs the built CLI (dist/bin.js) in a child process, as a
 * user does, inside a sandbox of its own (cluster name, state home, kubeconfig, docker config), so
 * it never touches the developer's own setup. Without k3d, kubectl or docker a suite FAILS: it never
 * skips (requireE2eTools in beforeAll).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export type CliResult = SpawnSyncReturns<string> & { all: string };

export interface Sandbox {
  /** A fresh cluster name, `<prefix>-<6 hex>`. */
  name: string;
  /** A temporary folder for everything below; the suite removes it in afterAll. */
  work: string;
  /** K3S_DEVREG_HOME */
  home: string;
  /** The cluster's state folder (home/name). */
  stateDir: string;
  /** The environment of every child process; tests may set variables on it between runs. */
  env: NodeJS.ProcessEnv;
}

export function createSandbox(prefix: string): Sandbox {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-e2e-'));
  const home = join(work, 'home');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    K3S_DEVREG_HOME: home,
    KUBECONFIG: join(work, 'kubeconfig'),
    DOCKER_CONFIG: join(work, 'docker'),
    CI: 'true',
  };
  mkdirSync(join(work, 'docker'), { recursive: true });
  return { name, work, home, stateDir: join(home, name), env };
}

/** The built CLI with these arguments; `all` is stdout followed by stderr. */
export function runCli(env: NodeJS.ProcessEnv, args: readonly string[]): CliResult {
  const result = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 15 * 60_000 });
  const all = `${result.stdout}${result.stderr}`;
  return Object.assign(result, { all });
}

/** An external program (docker, k3d, kubectl) in the sandbox's environment. */
export function runTool(env: NodeJS.ProcessEnv, file: string, args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(file, [...args], { env, encoding: 'utf8', timeout: 5 * 60_000 });
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

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });

export function expectOk(result: CliResult): void {
  if (result.status !== 0) throw new Error(`exit ${result.status}:\n${result.all}`);
}
