import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/doctor/finding.js';
import { explainers, parsePodRef, podPullFinding } from '../../../src/doctor/pod-pull.js';
import { findingsTable } from '../../../src/doctor/table.js';
import type { PodEvent, PodSummary } from '../../../src/tools/kubectl-objects.js';

const NODES = ['k3d-x-server-0', 'k3d-x-agent-0'];
// As the kubelet words them (k8s.io/kubernetes pkg/kubelet/images/image_manager.go), with containerd's error.
const X509 =
  'Failed to pull image "container-registry.local:5000/app:1": rpc error: code = Unknown desc = failed to pull and unpack image "container-registry.local:5000/app:1": failed to resolve reference "container-registry.local:5000/app:1": failed to do request: Head "https://container-registry.local:5000/v2/app/manifests/1": tls: failed to verify certificate: x509: certificate signed by unknown authority';
const NOT_FOUND =
  'Failed to pull image "localhost:31113/app:missing": rpc error: code = NotFound desc = failed to pull and unpack image "localhost:31113/app:missing": failed to resolve reference "localhost:31113/app:missing": localhost:31113/app:missing: not found';

const event = (reason: string, message: string, last: string): PodEvent => ({ type: reason === 'Pulled' ? 'Normal' : 'Warning', reason, message, count: 1, last });
const pod = (waitingReason?: string, waitingMessage?: string): PodSummary => ({
  name: 'web',
  node: 'k3d-x-agent-0',
  phase: 'Pending',
  annotations: {},
  ready: false,
  terminating: false,
  init: {},
  containers: { web: { running: false, ...(waitingReason ? { waitingReason } : {}), ...(waitingMessage ? { waitingMessage } : {}) } },
  env: {},
});
const caFail: Finding = { check: 'CA', where: 'k3d-x-agent-0', status: 'fail', summary: 'the CA on the node does not verify the registry certificate', fix: 'run k3s-devreg up --name x' };
const caFailElsewhere: Finding = { ...caFail, where: 'k3d-x-server-0', fix: 'elsewhere' };
const ref = { namespace: 'default', name: 'web' };

describe('--pod NAMESPACE/POD', () => {
  it('takes POD (namespace default) or NAMESPACE/POD and refuses anything else with the fix', () => {
    expect(parsePodRef('web-1')).toEqual({ namespace: 'default', name: 'web-1' });
    expect(parsePodRef('shop/web-7d9f.x')).toEqual({ namespace: 'shop', name: 'web-7d9f.x' });
    for (const bad of ['', 'a/b/c', 'Web', 'shop/', '/web', 'sh op/web']) {
      expect(() => parsePodRef(bad)).toThrow(/is not a pod name: give --pod POD \(namespace default\) or --pod NAMESPACE\/POD/);
    }
  });
});

describe('a pod\'s failed pull, explained by the other findings', () => {
  it('an x509 event and a failing CA finding on the pod\'s node: explained by that CA, with its fix', () => {
    const finding = podPullFinding({
      ref,
      context: 'k3d-x',
      pod: pod('ImagePullBackOff', 'Back-off pulling image "container-registry.local:5000/app:1"'),
      events: [event('Scheduled', 'Successfully assigned default/web to k3d-x-agent-0', '2026-12-01T08:00:00Z'), event('Failed', X509, '2026-12-01T08:00:05Z'), event('BackOff', 'Back-off pulling image "container-registry.local:5000/app:1"', '2026-12-01T08:00:09Z')],
      findings: [caFailElsewhere, caFail],
      nodes: NODES,
    });
    expect(finding).toMatchObject({ check: 'pod events', where: 'default/web', status: 'fail', evidence: X509, fix: 'run k3s-devreg up --name x' });
    expect(finding.summary).toMatch(/^ImagePullBackOff on k3d-x-agent-0: x509: containerd on the node does not trust the registry's certificate/);
    // The CA of another node does not explain this pod's pull.
    expect(finding.summary).toMatch(/; explained by: CA on k3d-x-agent-0$/);
  });

  it('a very long pull error is quoted with its end, where Go\'s error chain names the cause', () => {
    const long = X509.replace('failed to resolve reference', `failed to resolve reference${' "mirror"'.repeat(120)}`);
    expect(long.length).toBeGreaterThan(1000);
    const finding = podPullFinding({ ref, context: 'k3d-x', pod: pod('ErrImagePull', long), events: [], findings: [], nodes: NODES });
    expect(finding.evidence).toHaveLength(600);
    expect(finding.evidence).toMatch(/^Failed to pull image "container-registry\.local:5000\/app:1".* … .*x509: certificate signed by unknown authority$/);
  });

  it('without a finding that explains it, the classifier\'s cause and fix; manifest unknown names no other finding', () => {
    // containerd's log on the node holds the same error: a quote of it, not its cause.
    const logged: Finding = { check: 'pull errors', where: 'k3d-x-agent-0', status: 'fail', summary: 'manifest-unknown', fix: 'from the log' };
    const finding = podPullFinding({ ref, context: 'k3d-x', pod: pod('ErrImagePull', NOT_FOUND.replace(/^Failed to pull image "[^"]+": /, '')), events: [], findings: [caFail, logged], nodes: NODES });
    expect(finding.status).toBe('fail');
    expect(finding.summary).toBe('ErrImagePull on k3d-x-agent-0: manifest-unknown: the registry answered, but holds no image of that repository and tag');
    expect(finding.fix).toMatch(/^push it first/);
    expect(finding.evidence).toContain('localhost:31113/app:missing: not found');
  });

  it('a failing cluster-wide finding explains a refused connection wherever the pod runs', () => {
    const registryDown: Finding = { check: 'registry pod', where: 'k3d-x-server-0', status: 'fail', summary: 'pod registry-1 is CrashLoopBackOff', fix: 'look at the registry' };
    expect(explainers('connection-refused', 'k3d-x-agent-0', [registryDown], NODES)).toEqual([registryDown]);
    expect(explainers('no-such-host', 'k3d-x-agent-0', [{ check: 'hosts entry', where: 'k3d-x-server-0', status: 'fail', summary: '' }], NODES)).toEqual([]);
    // Nothing else explains it: containerd's log on the pod's node, which names the endpoint the event leaves out.
    const logged: Finding = { check: 'pull errors', where: 'k3d-x-agent-0', status: 'fail', summary: 'x509 for https://container-registry.local:5000/v2/' };
    expect(explainers('x509', 'k3d-x-agent-0', [logged, { ...logged, where: 'k3d-x-server-0' }], NODES)).toEqual([logged]);
  });

  it('a pod that pulled (even after a failure) is ok; one waiting for another reason is a warning; a missing pod fails with how to find it', () => {
    const running: PodSummary = { ...pod(), phase: 'Running', ready: true, containers: { web: { running: true } } };
    expect(podPullFinding({ ref, context: 'k3d-x', pod: running, events: [event('Failed', X509, '1'), event('Pulled', 'Successfully pulled image', '2')], findings: [], nodes: NODES })).toEqual({
      check: 'pod events',
      where: 'default/web',
      status: 'ok',
      summary: 'its images were pulled on k3d-x-agent-0 (an earlier pull failed: x509)',
    });
    expect(podPullFinding({ ref, context: 'k3d-x', pod: pod('CrashLoopBackOff', 'back-off 10s'), events: [], findings: [], nodes: NODES })).toMatchObject({
      status: 'warn',
      summary: 'no pull failure, but container web waits: CrashLoopBackOff',
      fix: 'kubectl --context k3d-x --namespace default describe pod web',
    });
    expect(podPullFinding({ ref: { namespace: 'shop', name: 'gone' }, context: 'k3d-x', pod: undefined, events: [], findings: [], nodes: NODES })).toEqual({
      check: 'pod events',
      where: 'shop/gone',
      status: 'fail',
      summary: 'there is no pod gone in namespace shop',
      fix: 'find its name and namespace with kubectl --context k3d-x get pods --all-namespaces, then run doctor --pod NAMESPACE/POD',
    });
  });
});

describe('the findings table', () => {
  it('one line per finding; evidence and fix under each that is not ok; the verdict last', () => {
    const table = findingsTable('x', [
      { check: 'cluster', where: 'cluster', status: 'ok', summary: '1/1 server(s) running', evidence: 'not shown when ok' },
      caFail,
      { check: 'clock', where: 'k3d-x-agent-0', status: 'warn', summary: 'the clock is 3 minutes ahead', evidence: 'date: 08:03', fix: 'restart Docker Desktop' },
    ]);
    expect(table.split('\n')).toEqual([
      'CHECK    WHERE          STATUS  FINDING',
      'cluster  cluster        ok      1/1 server(s) running',
      'CA       k3d-x-agent-0  FAIL    the CA on the node does not verify the registry certificate',
      '                                fix: run k3s-devreg up --name x',
      'clock    k3d-x-agent-0  WARN    the clock is 3 minutes ahead',
      '                                evidence: date: 08:03',
      '                                fix: restart Docker Desktop',
      '',
      '1 problem(s) found: cluster x; the fixes are under each FAIL line',
    ]);
    expect(findingsTable('x', [{ check: 'cluster', where: 'cluster', status: 'ok', summary: 'fine' }]).split('\n').at(-1)).toBe('no problem found: cluster x');
  });
});
