/**
 * The writer pods as `registries status` needs them: the writer init container's outcome (its
 * termination message) and whether the pod is Ready (the check container's readiness probe: does the
 * host file match the Secret now). Same kubectl call as listPods in src/tools/kubectl.ts, which
 * does not report readiness; it belongs there once listPods does.
 */
import { WRITER_CHECK_CONTAINER, WRITER_INIT_CONTAINER, WRITER_NAMESPACE } from '../render/registries-daemonset.js';
import { ensureOk, KUBECTL, parseJson } from '../tools/failure.js';
import type { Runner } from '../tools/run.js';

const QUICK_MS = 30_000;

interface ContainerJson {
  name?: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string }; running?: object; terminated?: { exitCode?: number; reason?: string; message?: string } };
}

interface PodJson {
  metadata?: { name?: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type?: string; status?: string }[];
    initContainerStatuses?: ContainerJson[];
    containerStatuses?: ContainerJson[];
  };
}

export interface ContainerOutcome {
  exitCode?: number;
  message?: string;
  waitingReason?: string;
  running: boolean;
}

export interface WriterPod {
  name: string;
  node?: string;
  phase: string;
  annotations: Record<string, string>;
  /** The pod's Ready condition: the check container's probe passed on its last run. */
  ready: boolean;
  terminating: boolean;
  writer?: ContainerOutcome;
  check?: ContainerOutcome;
}

function outcome(statuses: ContainerJson[] | undefined, name: string): ContainerOutcome | undefined {
  const status = statuses?.find((s) => s.name === name);
  if (!status) return undefined;
  const terminated = status.state?.terminated;
  const result: ContainerOutcome = { running: status.state?.running !== undefined };
  if (terminated?.exitCode !== undefined) result.exitCode = terminated.exitCode;
  if (terminated?.message) result.message = terminated.message;
  if (status.state?.waiting?.reason) result.waitingReason = status.state.waiting.reason;
  return result;
}

export async function listWriterPods(run: Runner, context: string, selector: string): Promise<WriterPod[]> {
  const args = ['--context', context, '--namespace', WRITER_NAMESPACE, 'get', 'pods', '--selector', selector, '--output', 'json'];
  const action = `list pods ${selector} in namespace ${WRITER_NAMESPACE}`;
  const fix = `check that the cluster is running and that \`kubectl --context ${context} get nodes\` works`;
  const result = ensureOk(KUBECTL, action, await run('kubectl', args, { timeoutMs: QUICK_MS }), fix, QUICK_MS);
  const list = parseJson<{ items?: PodJson[] }>(KUBECTL, action, result.stdout);
  return (list.items ?? []).map((pod) => {
    const writer = outcome(pod.status?.initContainerStatuses, WRITER_INIT_CONTAINER);
    const check = outcome(pod.status?.containerStatuses, WRITER_CHECK_CONTAINER);
    return {
      name: pod.metadata?.name ?? '',
      ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
      phase: pod.status?.phase ?? 'Unknown',
      annotations: pod.metadata?.annotations ?? {},
      ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      terminating: pod.metadata?.deletionTimestamp !== undefined,
      ...(writer ? { writer } : {}),
      ...(check ? { check } : {}),
    };
  });
}
