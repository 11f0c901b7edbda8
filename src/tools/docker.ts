/**
 * One tiny function per docker command. Argument arrays only; passwords travel on stdin
 * (`docker login --password-stdin`); JSON output is parsed into small typed records.
 */
import { UserError } from '../errors.js';
import { DOCKER, ensureOk, lastMessage, notInstalled, parseJson } from './failure.js';
import type { Runner } from './run.js';

const QUICK_MS = 30_000;
const BUILD_MS = 10 * 60_000;

export interface ContainerInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  running: boolean;
  /** created | running | paused | restarting | removing | exited | dead */
  status: string;
  /** The image the container was created from, e.g. rancher/k3s:v1.31.5-k3s1. */
  image: string;
  /** When docker last started it (State.StartedAt): a later value means it restarted (and lost /etc/hosts lines). */
  startedAt: string;
  /** Names of the docker volumes mounted into it. */
  volumes: string[];
  /** Host ports published for a container port, e.g. { '31113/tcp': [{ hostIp: '127.0.0.1', hostPort: 31113 }] }. */
  ports: Record<string, { hostIp: string; hostPort: number }[]>;
  /** The docker networks it is attached to, by name. */
  networks: string[];
}

export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
}

export const NOT_RUNNING_FIX = 'start Docker (Docker Desktop, or `sudo systemctl start docker` on Linux) and check that `docker info` works';

const PERMISSION_FIX =
  'add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again) or use a docker context you may access';

const noSuch = (stderr: string) => /no such (container|object|volume)/i.test(stderr);

/** The daemon's version; throws when docker is missing or its daemon cannot be reached. */
export async function dockerServerVersion(run: Runner): Promise<string> {
  const result = await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: QUICK_MS });
  if (result.notFound) throw notInstalled(DOCKER);
  if (result.exitCode !== 0 || result.timedOut || result.stdout.trim() === '') {
    // Older clients follow the connection error with a template error about the missing .Server
    // (`nil pointer evaluating *types.ServerVersion.Version`): the connection line is the one that explains.
    const connection = result.stderr
      .split(/\r?\n/)
      .map((line) => line.trim())
      .find((line) => /cannot connect|error during connect|permission denied|docker daemon/i.test(line));
    const said = connection ?? lastMessage(result.stderr);
    // On Linux a user outside the docker group gets "permission denied ... /var/run/docker.sock";
    // a daemon docker reaches over the network (DOCKER_HOST, a context) is not one to start here.
    const remote = /\b(tcp|ssh|https?):\/\/[^\s/"]+/.exec(said)?.[0];
    const fix = /permission denied/i.test(said)
      ? PERMISSION_FIX
      : remote
        ? `docker talks to ${remote.replace(/[.,]+$/, '')} (DOCKER_HOST or the current docker context), which does not answer: unset DOCKER_HOST or run \`docker context use default\` for this machine's docker`
        : NOT_RUNNING_FIX;
    throw new UserError(`the docker daemon is not reachable${said ? ` (${said})` : ''}`, fix);
  }
  return result.stdout.trim();
}

interface RawContainer {
  Id?: string;
  Name?: string;
  Config?: { Labels?: Record<string, string> | null; Image?: string };
  State?: { Running?: boolean; Status?: string; StartedAt?: string };
  Mounts?: { Type?: string; Name?: string }[] | null;
  NetworkSettings?: { Ports?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null; Networks?: Record<string, unknown> | null };
  HostConfig?: { PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null };
}

function portsOf(raw: RawContainer): ContainerInfo['ports'] {
  // NetworkSettings.Ports holds what is bound now; PortBindings what is configured (also when stopped).
  const source = { ...(raw.HostConfig?.PortBindings ?? {}), ...(raw.NetworkSettings?.Ports ?? {}) };
  const ports: ContainerInfo['ports'] = {};
  for (const [containerPort, bindings] of Object.entries(source)) {
    ports[containerPort] = (bindings ?? [])
      .map((b) => ({ hostIp: b.HostIp ?? '', hostPort: Number(b.HostPort) }))
      .filter((b) => Number.isInteger(b.hostPort) && b.hostPort > 0);
  }
  return ports;
}

const containerInfo = (raw: RawContainer): ContainerInfo => ({
  id: raw.Id ?? '',
  name: (raw.Name ?? '').replace(/^\//, ''),
  labels: raw.Config?.Labels ?? {},
  running: raw.State?.Running === true,
  status: raw.State?.Status ?? 'unknown',
  image: raw.Config?.Image ?? '',
  startedAt: raw.State?.StartedAt ?? '',
  volumes: (raw.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!),
  ports: portsOf(raw),
  networks: Object.keys(raw.NetworkSettings?.Networks ?? {}),
});

/**
 * One `docker container inspect A B C` for several containers, keyed by name; missing ones are
 * left out. docker then exits 1 but still prints the ones it found, so only other errors count.
 */
export async function inspectContainers(run: Runner, names: readonly string[]): Promise<Map<string, ContainerInfo>> {
  const found = new Map<string, ContainerInfo>();
  if (names.length === 0) return found;
  const action = `inspect the container${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
  const result = await run('docker', ['container', 'inspect', ...names], { timeoutMs: QUICK_MS });
  const otherErrors = result.stderr.split(/\r?\n/).filter((line) => line.trim() !== '' && !noSuch(line));
  if (result.exitCode !== 0 && !result.notFound && !result.timedOut && otherErrors.length === 0) {
    if (!result.stdout.trim().startsWith('[')) return found;
  } else {
    ensureOk(DOCKER, action, result, NOT_RUNNING_FIX, QUICK_MS);
  }
  for (const raw of parseJson<RawContainer[]>(DOCKER, action, result.stdout)) {
    const info = containerInfo(raw);
    found.set(info.name, info);
  }
  return found;
}

/** `docker container inspect NAME`; undefined when there is no such container. */
export async function inspectContainer(run: Runner, name: string): Promise<ContainerInfo | undefined> {
  return (await inspectContainers(run, [name])).get(name);
}

/** Names of the containers (running or not) that publish this host port. */
export async function containersPublishing(run: Runner, hostPort: number): Promise<string[]> {
  const result = await run('docker', ['ps', '--all', '--filter', `publish=${hostPort}`, '--format', '{{.Names}}'], { timeoutMs: QUICK_MS });
  ensureOk(DOCKER, `list the containers publishing port ${hostPort}`, result, NOT_RUNNING_FIX, QUICK_MS);
  return result.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** `docker volume inspect NAME`; undefined when there is no such volume. */
export async function inspectVolume(run: Runner, name: string): Promise<VolumeInfo | undefined> {
  const action = `inspect the volume ${name}`;
  const result = await run('docker', ['volume', 'inspect', name], { timeoutMs: QUICK_MS });
  if (result.exitCode !== 0 && !result.notFound && noSuch(result.stderr)) return undefined;
  ensureOk(DOCKER, action, result, NOT_RUNNING_FIX, QUICK_MS);
  const [raw] = parseJson<{ Name?: string; Labels?: Record<string, string> | null }[]>(DOCKER, action, result.stdout);
  if (!raw) return undefined;
  return { name: raw.Name ?? name, labels: raw.Labels ?? {} };
}

export async function createVolume(run: Runner, name: string, labels: Record<string, string>): Promise<void> {
  const args = ['volume', 'create'];
  for (const [key, value] of Object.entries(labels)) args.push('--label', `${key}=${value}`);
  args.push(name);
  ensureOk(DOCKER, `create the volume ${name}`, await run('docker', args, { timeoutMs: QUICK_MS }), NOT_RUNNING_FIX, QUICK_MS);
}

export async function removeVolume(run: Runner, name: string): Promise<void> {
  const result = await run('docker', ['volume', 'rm', name], { timeoutMs: QUICK_MS });
  ensureOk(DOCKER, `remove the volume ${name}`, result, `check what still uses it with \`docker ps -a --filter volume=${name}\`, remove that, and try again`, QUICK_MS);
}

/** Runs a program inside a running container and returns its stdout. */
export async function execInContainer(run: Runner, container: string, argv: readonly string[]): Promise<string> {
  const result = await run('docker', ['exec', container, ...argv], { timeoutMs: QUICK_MS });
  ensureOk(DOCKER, `run \`${argv.join(' ')}\` in ${container}`, result, `check that ${container} is running: docker ps --filter name=${container}`, QUICK_MS);
  return result.stdout;
}

const withConfig = (dockerConfig: string | undefined) => (dockerConfig ? { env: { DOCKER_CONFIG: dockerConfig } } : {});

/** `docker login HOST -u USER --password-stdin`: the password goes on stdin, never in argv. */
export async function dockerLogin(
  run: Runner,
  login: { registry: string; username: string; password: string; dockerConfig?: string },
): Promise<void> {
  const result = await run('docker', ['login', login.registry, '--username', login.username, '--password-stdin'], {
    input: login.password,
    timeoutMs: QUICK_MS,
    ...withConfig(login.dockerConfig),
  });
  // The registry accepted the password but docker's credential helper could not store it: waiting
  // will not help, the user's docker config must be fixed (e.g. credsStore naming a helper not installed).
  if (result.exitCode !== 0 && /error (storing|getting|saving) credentials|docker-credential-/i.test(result.stderr)) {
    throw new UserError(
      `docker could not store the login for ${login.registry}: its credential helper failed (${lastMessage(result.stderr)})`,
      `fix or remove "credsStore"/"credHelpers" in ${login.dockerConfig ?? '$DOCKER_CONFIG or ~/.docker'}/config.json, or install the helper it names, then run k3s-devreg verify`,
    );
  }
  ensureOk(
    DOCKER,
    `log in to ${login.registry} as ${login.username}`,
    result,
    `check the registry answers (k3s-devreg status); the credentials are in the state folder's credentials.json`,
    QUICK_MS,
  );
}

export async function dockerBuild(
  run: Runner,
  build: { context: string; tag: string; buildArgs?: Record<string, string>; dockerConfig?: string },
): Promise<void> {
  const args = ['build', '--tag', build.tag];
  for (const [key, value] of Object.entries(build.buildArgs ?? {})) args.push('--build-arg', `${key}=${value}`);
  args.push(build.context);
  const result = await run('docker', args, { timeoutMs: BUILD_MS, ...withConfig(build.dockerConfig) });
  ensureOk(DOCKER, `build ${build.tag} from ${build.context}`, result, 'check that docker can pull the base image (docker pull busybox:1.36.1) and try again', BUILD_MS);
}

export async function dockerPush(run: Runner, push: { ref: string; dockerConfig?: string }): Promise<void> {
  const result = await run('docker', ['push', push.ref], { timeoutMs: BUILD_MS, ...withConfig(push.dockerConfig) });
  ensureOk(DOCKER, `push ${push.ref}`, result, 'check the registry answers with k3s-devreg status, then run k3s-devreg verify', BUILD_MS);
}
