/**
 * The registry Deployment as `images prune` drives it through kubectl, played by the real registry
 * container: `set env` recreates the container with the new env on the same data volume and port
 * (the Recreate strategy: the old one is gone before the new one starts), `rollout status` is the
 * wait for it to answer, `exec deployment/registry -- ARGV` is `docker exec` of the same ARGV, and
 * `get deployment` shows the current env. docker itself is the real one. Every call is recorded.
 */
import { spawnSync } from 'node:child_process';
import { createRunner, type CommandResult, type Runner } from '../../src/tools/run.js';
import type { RecordedCall } from './recording-runner.js';
import { startRenderedRegistry, type Obj } from './registry-container.js';

export interface RegistryDeployment {
  runner: Runner;
  calls: RecordedCall[];
  /** kubectl calls only, as lines. */
  kubectlLines(): string[];
  env: Record<string, string>;
  port: number;
  container: string;
  /** Starts it (first time) with the rendered Deployment's env plus `env`. */
  start(): Promise<void>;
}

export function registryDeployment(options: { container: string; dir: string; deployment: Obj; secret: Obj; ca: string; dataVolume: string }): RegistryDeployment {
  const real = createRunner();
  const calls: RecordedCall[] = [];
  const state = { port: 0 };
  const env: Record<string, string> = {};
  const restart = async () => {
    spawnSync('docker', ['rm', '-f', options.container], { stdio: 'ignore' });
    state.port = await startRenderedRegistry({ name: options.container, dir: options.dir, deployment: options.deployment, secret: options.secret, ca: options.ca, dataVolume: options.dataVolume, extraEnv: env, ...(state.port ? { port: state.port } : {}) });
  };
  const kubectl = async (args: string[]): Promise<Partial<CommandResult>> => {
    const rest = args.slice(4); // after --context C --namespace N
    if (rest[0] === 'get' && rest[1] === 'deployment') {
      const rendered = options.deployment.spec.template.spec.containers[0].env as { name: string; value: string }[];
      const live = { ...options.deployment, spec: { ...options.deployment.spec, template: { spec: { containers: [{ name: 'registry', env: [...rendered.filter((e) => !(e.name in env)), ...Object.entries(env).map(([name, value]) => ({ name, value }))] }] } } } };
      return { stdout: JSON.stringify(live) };
    }
    if (rest[0] === 'set' && rest[1] === 'env') {
      for (const assignment of rest.slice(4)) {
        if (assignment.endsWith('-')) delete env[assignment.slice(0, -1)];
        else env[assignment.slice(0, assignment.indexOf('='))] = assignment.slice(assignment.indexOf('=') + 1);
      }
      await restart();
      return { stdout: 'deployment.apps/registry env updated' };
    }
    if (rest[0] === 'rollout' && rest[1] === 'status') return { stdout: 'deployment "registry" successfully rolled out' };
    if (rest[0] === 'exec' && rest[4] === '--') return real('docker', ['exec', options.container, ...rest.slice(5)]);
    throw new Error(`unscripted kubectl ${args.join(' ')}`);
  };
  const runner: Runner = async (file, args, runOptions = {}) => {
    calls.push({ file, args: [...args], ...(runOptions.timeoutMs !== undefined ? { timeoutMs: runOptions.timeoutMs } : {}) });
    if (file !== 'kubectl') return real(file, args, runOptions);
    return { exitCode: 0, stdout: '', stderr: '', ...(await kubectl([...args])) };
  };
  return {
    runner,
    calls,
    kubectlLines: () => calls.filter((c) => c.file === 'kubectl').map((c) => [c.file, ...c.args].join(' ')),
    env,
    get port() {
      return state.port;
    },
    container: options.container,
    start: restart,
  };
}
