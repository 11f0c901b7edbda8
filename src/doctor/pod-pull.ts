/**
 * `doctor --pod`: what a pod's events and container states say about its image pulls, the pull
 * error quoted and classified, and which of doctor's other findings explains it (an x509 event and a
 * failing CA check on the pod's node: "explained by: CA on k3d-devreg-agent-0"). Pure: no I/O.
 */
import { UserError } from '../errors.js';
import type { PodEvent, PodSummary } from '../tools/kubectl-objects.js';
import type { Finding } from './finding.js';
import { quoteOf } from './containerd-log.js';
import { explainPullError, type PullErrorKind } from './pull-errors.js';
import { registryVerdict, type RegistryImage, type TagAnswer } from './registry-tag.js';

export interface PodRef {
  namespace: string;
  name: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `NAMESPACE/POD`, or `POD` in namespace default. */
export function parsePodRef(text: string): PodRef {
  const [first = '', second, ...more] = text.split('/');
  const ref = second === undefined ? { namespace: 'default', name: first } : { namespace: first, name: second };
  if (more.length > 0 || !DNS_LABEL.test(ref.namespace) || ref.namespace.length > 63 || !DNS_SUBDOMAIN.test(ref.name) || ref.name.length > 253) {
    throw new UserError(`--pod ${JSON.stringify(text)} is not a pod name`, 'give --pod POD (namespace default) or --pod NAMESPACE/POD, lower-case as kubectl get pods shows them');
  }
  return ref;
}

/** The checks whose failure can cause each kind of pull error, most telling first. */
const EXPLAINED_BY: Record<PullErrorKind, readonly string[]> = {
  x509: ['CA', 'certificate', 'clock', 'hosts.toml', 'registries.yaml'],
  unauthorized: ['credentials', 'registries.yaml', 'hosts.toml'],
  forbidden: ['hosts entry', 'registries.yaml'],
  'no-such-host': ['hosts entry', 'registries.yaml'],
  'connection-refused': ['registry pod', 'registries.yaml', 'hosts entry', 'hosts.toml'],
  // Only a node without our localhost mirror makes this error for a tag that exists.
  'mirror-not-found': ['hosts.toml', 'registries.yaml'],
  'no-route': ['hosts entry', 'registry service'],
  'manifest-unknown': [],
  'http-to-https': ['registries.yaml', 'hosts.toml', 'hosts entry'],
  timeout: ['hosts entry', 'registry pod', 'registry service'],
};

const PULL_WAITS = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);

export interface PodPullInput {
  ref: PodRef;
  context: string;
  pod: PodSummary | undefined;
  events: readonly PodEvent[];
  /** doctor's other findings, and the k3s node names (a finding there speaks only for that node). */
  findings: readonly Finding[];
  nodes: readonly string[];
  /** The registry's port on this machine (the localhost:PORT name pods pull by), when known. */
  port?: number;
  /** What the registry said about the image the failed pull names, when it was asked. */
  registry?: { target: RegistryImage; answer: TagAnswer | undefined };
}

/** The pull error a pod's last "Failed to pull image" event (or its ErrImagePull message) holds. */
export function failedPullMessage(pod: PodSummary, events: readonly PodEvent[]): string | undefined {
  const failedEvent = [...events].reverse().find((e) => /^Failed to pull image/.test(e.message));
  const waiting = Object.values({ ...pod.init, ...pod.containers }).find((c) => c.waitingReason && PULL_WAITS.has(c.waitingReason));
  // ImagePullBackOff's own message is only "Back-off pulling image": the event keeps the error.
  return failedEvent?.message ?? (waiting?.waitingReason === 'ErrImagePull' ? waiting.waitingMessage : undefined);
}

/** The failing findings that explain this kind of error for a pod on `node`, most telling first. */
export function explainers(kind: PullErrorKind, node: string | undefined, findings: readonly Finding[], nodes: readonly string[]): Finding[] {
  const relevant = (f: Finding) => f.status === 'fail' && (!nodes.includes(f.where) || f.where === node || f.check === 'registry pod');
  const checks = EXPLAINED_BY[kind];
  // A missing tag needs no other finding: the registry itself answered.
  if (checks.length === 0) return [];
  const direct = checks.flatMap((check) => findings.filter((f) => f.check === check && relevant(f)));
  // containerd's own log on the pod's node names the endpoint the event leaves out.
  return direct.length > 0 ? direct : findings.filter((f) => f.check === 'pull errors' && f.status === 'fail' && f.where === node);
}

export function podPullFinding(input: PodPullInput): Finding {
  const { ref, context, pod } = input;
  const where = `${ref.namespace}/${ref.name}`;
  const check = 'pod events';
  const describe = `kubectl --context ${context} --namespace ${ref.namespace} describe pod ${ref.name}`;
  if (!pod) {
    return { check, where, status: 'fail', summary: `there is no pod ${ref.name} in namespace ${ref.namespace}`, fix: `find its name and namespace with kubectl --context ${context} get pods --all-namespaces, then run doctor --pod NAMESPACE/POD` };
  }
  const containers = Object.entries({ ...pod.init, ...pod.containers });
  const waiting = containers.find(([, c]) => c.waitingReason && PULL_WAITS.has(c.waitingReason));
  const failedEvent = [...input.events].reverse().find((e) => /^Failed to pull image/.test(e.message));
  const message = failedPullMessage(pod, input.events);
  const stillFailing = waiting !== undefined || (containers.length === 0 && pod.phase === 'Pending' && failedEvent !== undefined);
  if (!stillFailing) {
    const other = containers.find(([, c]) => c.waitingReason && c.waitingReason !== 'ContainerCreating' && c.waitingReason !== 'PodInitializing');
    if (other) {
      const [name, c] = other;
      return { check, where, status: 'warn', summary: `no pull failure, but container ${name} waits: ${c.waitingReason}`, ...(c.waitingMessage ? { evidence: quoteOf(c.waitingMessage) } : {}), fix: describe };
    }
    const earlier = failedEvent ? explainPullError(failedEvent.message, input.port)?.kind : undefined;
    return { check, where, status: 'ok', summary: `its images were pulled${pod.node ? ` on ${pod.node}` : ''}${failedEvent ? ` (an earlier pull failed${earlier ? `: ${earlier}` : ''})` : ''}` };
  }
  const reason = waiting?.[1].waitingReason ?? 'ErrImagePull';
  // The registry's own answer about the tag outranks the words of whichever endpoint containerd tried last.
  const told = input.registry && registryVerdict(input.registry.target, input.registry.answer, input.port);
  const explanation = told?.explanation ?? (message ? explainPullError(message, input.port) : undefined);
  const by = explanation ? explainers(explanation.kind, pod.node, input.findings, input.nodes) : [];
  const said = explanation ? `${explanation.kind}: ${explanation.cause}` : 'the pull failed for a reason doctor does not know';
  const because = by.length > 0 ? `; explained by: ${by.map((f) => `${f.check} on ${f.where}`).join(', ')}` : '';
  return {
    check,
    where,
    status: 'fail',
    summary: `${reason}${pod.node ? ` on ${pod.node}` : ''}: ${said}${because}`,
    evidence: `${told ? `${told.evidence}; the pull error: ` : ''}${message ? quoteOf(message) : `container ${waiting?.[0] ?? '?'} waits: ${reason}`}`,
    fix: by[0]?.fix ?? explanation?.fix ?? describe,
  };
}
