/**
 * The round trip that proves the setup: log docker in to localhost:PORT (password on stdin),
 * build the example/ image, push it, run a pod from container-registry.local:5000 (so a node pulls
 * it through the hosts entry, the CA and the registries.yaml credentials), check that it says hello,
 * and delete the pod. Each phase is timed.
 */
import { readFile } from 'node:fs/promises';
import { packageUrl } from '../assets.js';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { toYaml } from '../render/yaml-stream.js';
import { ToolError } from '../errors.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, kubeContext, registryAddress, serverContainer } from '../spec.js';
import { dockerBuild, dockerLogin, dockerPush } from '../tools/docker.js';
import { createYaml } from '../tools/kubectl.js';
import { deletePod, getPod, podLogs } from '../tools/kubectl-objects.js';
import type { Runner } from '../tools/run.js';
import { waitFor, type Clock } from './wait.js';

/** example/ ships in the package next to dist/ and src/. */
export const EXAMPLE_DIR = fileURLToPath(packageUrl('example/'));
export const EXAMPLE_REPOSITORY = 'hello-world-example';
export const VERIFY_POD = 'k3s-devreg-verify';
export const VERIFY_NAMESPACE = 'default';

export interface VerifyRequest {
  run: Runner;
  /** Cluster name. */
  name: string;
  hostPort: number;
  credentials: { username: string; password: string };
  clock: Clock;
  signal?: AbortSignal;
  /** Image tag pushed and pulled (default latest, as in example/pod.yaml). */
  tag?: string;
  /** The example's base image (build arg BASE); default: the Dockerfile's own. */
  baseImage?: string;
  /** A DOCKER_CONFIG folder; default: the user's own, so docker stays logged in afterwards. */
  dockerConfig?: string;
  exampleDir?: string;
  podTimeoutMs?: number;
  /** Called as each phase starts, for progress. */
  onPhase?: (phase: string) => void;
}

export interface PhaseTiming {
  phase: string;
  ms: number;
}

export const pushRef = (hostPort: number, tag: string) => `localhost:${hostPort}/${EXAMPLE_REPOSITORY}:${tag}`;
export const clusterRef = (tag: string) => `${registryAddress()}/${EXAMPLE_REPOSITORY}:${tag}`;

/** The pod verify runs: example/pod.yaml with our name, label, tag and a pull that always reaches the registry. */
export async function verifyPodYaml(exampleDir: string, tag: string): Promise<string> {
  const pod = parse(await readFile(`${exampleDir}/pod.yaml`, 'utf8')) as {
    metadata?: Record<string, unknown>;
    spec?: { containers?: Record<string, unknown>[] };
  };
  const container = pod.spec?.containers?.[0];
  if (!container) throw new ToolError(`${exampleDir}/pod.yaml has no container`, 'restore example/pod.yaml from the package');
  container.image = clusterRef(tag);
  container.imagePullPolicy = 'Always';
  pod.metadata = { name: VERIFY_POD, namespace: VERIFY_NAMESPACE, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } };
  return toYaml(pod);
}

const PULL_FAILURES = new Set(['ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

export async function verifyRoundTrip(request: VerifyRequest): Promise<PhaseTiming[]> {
  const { run, clock, credentials } = request;
  const tag = request.tag ?? 'latest';
  const exampleDir = request.exampleDir ?? EXAMPLE_DIR;
  const context = kubeContext(request.name);
  const registry = `localhost:${request.hostPort}`;
  const dockerConfig = request.dockerConfig ? { dockerConfig: request.dockerConfig } : {};
  const timings: PhaseTiming[] = [];
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    request.onPhase?.(name);
    const started = clock.now();
    try {
      return await work();
    } finally {
      timings.push({ phase: name, ms: clock.now() - started });
    }
  };

  await phase('docker login', () =>
    // Right after a rollout or a node restart the registry may not serve yet: connection failures are
    // retried for a minute; a refused password fails at once.
    waitFor({
      what: `the registry at ${registry} (docker login)`,
      timeoutMs: 60_000,
      intervalMs: 2_000,
      fix: 'check the registry with k3s-devreg status; the credentials are in the state folder\'s credentials.json',
      clock,
      ...(request.signal ? { signal: request.signal } : {}),
      probe: async () => {
        try {
          await dockerLogin(run, { registry, username: credentials.username, password: credentials.password, ...dockerConfig });
          return { ready: true, value: undefined };
        } catch (error) {
          // Judged on docker's own words (stderr), not our sentence: that names the port and the user,
          // and port 34010 or user "dev401" must not read as a refusal. A refusal always says
          // "unauthorized" ("unauthorized: authentication required", "401 Unauthorized").
          if (!(error instanceof ToolError) || /unauthori[sz]ed|incorrect username or password/i.test(error.detail)) throw error;
          return { ready: false, seen: error.problem };
        }
      },
    }),
  );
  await phase('build', () =>
    dockerBuild(run, {
      context: exampleDir,
      tag: pushRef(request.hostPort, tag),
      ...(request.baseImage ? { buildArgs: { BASE: request.baseImage } } : {}),
      ...dockerConfig,
    }),
  );
  await phase('push', () => dockerPush(run, { ref: pushRef(request.hostPort, tag), ...dockerConfig }));

  const podYaml = await verifyPodYaml(exampleDir, tag);
  let failed = false;
  try {
    await phase('run pod', async () => {
      // A pod left by an interrupted run would make create fail; pods cannot be changed in place.
      await deletePod(run, context, VERIFY_NAMESPACE, VERIFY_POD, true);
      await createPod(run, context, podYaml, clock, request.signal);
      let pullError: string | undefined;
      let podNode: string | undefined;
      await waitFor({
        what: `the pod ${VERIFY_POD} running ${clusterRef(tag)}`,
        timeoutMs: request.podTimeoutMs ?? 120_000,
        intervalMs: 1_000,
        clock,
        ...(request.signal ? { signal: request.signal } : {}),
        // The pod is deleted below (finally), so `kubectl describe pod` would answer NotFound; its events
        // outlive it (the API server keeps events for an hour by default).
        fix: () =>
          `see \`kubectl --context ${context} --namespace ${VERIFY_NAMESPACE} get events --field-selector involvedObject.name=${VERIFY_POD}\`; when the pull fails, containerd's log on the node says why: docker exec ${podNode ?? serverContainer(request.name)} tail -n 50 /var/lib/rancher/k3s/agent/containerd/containerd.log`,
        probe: async () => {
          const pod = await getPod(run, context, VERIFY_NAMESPACE, VERIFY_POD);
          if (!pod) return { ready: false, seen: 'no pod yet' };
          podNode = pod.node ?? podNode;
          if (pod.phase === 'Succeeded') return { ready: true, value: pod };
          if (pod.waitingReason === 'ErrImagePull' && pod.message) pullError = pod.message;
          let detail = [pod.waitingReason, pod.message].filter(Boolean).join(': ');
          if (pod.phase === 'Failed') return { ready: false, fatal: true, seen: `the container failed${detail ? ` (${detail})` : ''}` };
          if (pod.waitingReason && PULL_FAILURES.has(pod.waitingReason)) {
            // Before Kubernetes 1.32 (k3d 5.8's default k3s is 1.31) the back-off message is only
            // 'Back-off pulling image "..."' (kubernetes/kubernetes#127918 added the cause): the cause is
            // in the ErrImagePull message seen before it.
            if (pod.waitingReason === 'ImagePullBackOff' && pullError && !pod.message?.includes(pullError)) detail = `${detail}; last pull error: ${pullError}`;
            return { ready: false, fatal: true, seen: `the node${pod.node ? ` ${pod.node}` : ''} could not pull the image (${detail})` };
          }
          return { ready: false, seen: `${pod.phase}${detail ? ` (${detail})` : ''}` };
        },
      });
    });
    await phase('check log', async () => {
      const log = await podLogs(run, context, VERIFY_NAMESPACE, VERIFY_POD);
      if (!/hello/i.test(log)) {
        throw new ToolError(
          `the pod ran but its log does not say hello (it says ${JSON.stringify(log.trim().slice(0, 200))})`,
          `check example/Dockerfile; the image is ${pushRef(request.hostPort, tag)}`,
        );
      }
    });
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    try {
      await phase('clean up', () => deletePod(run, context, VERIFY_NAMESPACE, VERIFY_POD, false));
    } catch (cleanupError) {
      // The first failure is the one worth reporting.
      if (!failed) throw cleanupError;
    }
  }
  return timings;
}

/**
 * Creates the pod; on a cluster a few seconds old the namespace's default ServiceAccount may not
 * exist yet, which the API server reports as a refusal: that one is retried for a while.
 */
async function createPod(run: Runner, context: string, podYaml: string, clock: Clock, signal: AbortSignal | undefined): Promise<void> {
  await waitFor({
    what: `creating the pod ${VERIFY_POD}`,
    timeoutMs: 60_000,
    intervalMs: 2_000,
    clock,
    ...(signal ? { signal } : {}),
    fix: `check \`kubectl --context ${context} get serviceaccount default\``,
    probe: async () => {
      try {
        await createYaml(run, context, podYaml);
        return { ready: true, value: undefined };
      } catch (error) {
        if (error instanceof ToolError && /serviceaccount.*not found/i.test(error.problem)) return { ready: false, seen: error.problem };
        throw error;
      }
    },
  });
}

export function formatTimings(timings: readonly PhaseTiming[]): string {
  return timings.map((t) => `${t.phase} ${(t.ms / 1000).toFixed(1)}s`).join(', ');
}
