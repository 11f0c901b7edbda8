/**
 * The pure decision doctor makes once the registry was asked about the image a failed pull names:
 * which images are ours, what the registry's answer says, and how it changes a pod's finding (a
 * missing tag replaces whatever the fallback endpoint's words suggested; a present one or no answer
 * leaves the classifier's explanation).
 */
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/doctor/finding.js';
import { nodePullErrors, pullErrorsFinding } from '../../../src/doctor/node-trust.js';
import { failedPullMessage, podPullFinding } from '../../../src/doctor/pod-pull.js';
import { explainPullError } from '../../../src/doctor/pull-errors.js';
import { onOurRegistry, pulledImageOf, registrySays, registryVerdict, type TagAnswer } from '../../../src/doctor/registry-tag.js';
import type { PodEvent, PodSummary } from '../../../src/tools/kubectl-objects.js';

const PORT = 40123;
/** The event a missing tag pulled by localhost:PORT ends in: k3s's fallback endpoint, refused in the node. */
const FALLBACK_REFUSED = `Failed to pull image "localhost:${PORT}/app:missing": rpc error: code = Unknown desc = failed to pull and unpack image "localhost:${PORT}/app:missing": failed to resolve reference "localhost:${PORT}/app:missing": failed to do request: Head "http://localhost:${PORT}/v2/app/manifests/missing": dial tcp 127.0.0.1:${PORT}: connect: connection refused`;

const pod: PodSummary = {
  name: 'web', node: 'k3d-x-agent-0', phase: 'Pending', annotations: {}, ready: false, terminating: false, init: {}, env: {},
  containers: { web: { running: false, waitingReason: 'ImagePullBackOff', waitingMessage: `Back-off pulling image "localhost:${PORT}/app:missing"` } },
};
const events: PodEvent[] = [{ type: 'Warning', reason: 'Failed', message: FALLBACK_REFUSED, count: 2, last: '2026-12-02T05:00:00Z' }];
const target = onOurRegistry(`localhost:${PORT}/app:missing`, PORT)!;
const finding = (answer: TagAnswer | undefined, findings: Finding[] = []) =>
  podPullFinding({ ref: { namespace: 'default', name: 'web' }, context: 'k3d-x', pod, events, findings, nodes: ['k3d-x-agent-0'], port: PORT, registry: { target, answer } });

describe('which images are on our registry', () => {
  it('by localhost:PORT or container-registry.local:5000, tag, digest or none (latest)', () => {
    expect(onOurRegistry(`localhost:${PORT}/app:missing`, PORT)).toEqual({ image: `localhost:${PORT}/app:missing`, repository: 'app', reference: 'missing' });
    expect(onOurRegistry('container-registry.local:5000/team/app', PORT)).toEqual({ image: 'container-registry.local:5000/team/app', repository: 'team/app', reference: 'latest' });
    expect(onOurRegistry(`localhost:${PORT}/team/app@sha256:abc`, PORT)).toMatchObject({ repository: 'team/app', reference: 'sha256:abc' });
    expect(onOurRegistry(`localhost:${PORT + 1}/app:1`, PORT)).toBeUndefined();
    expect(onOurRegistry(`localhost:${PORT}/app:1`, undefined)).toBeUndefined();
    expect(onOurRegistry('docker.io/library/busybox:1', PORT)).toBeUndefined();
  });
  it('the image a kubelet event or containerd line names', () => {
    expect(pulledImageOf(FALLBACK_REFUSED)).toBe(`localhost:${PORT}/app:missing`);
    expect(pulledImageOf('time="t" level=error msg="PullImage \\"localhost:1/a:b\\" failed"')).toBe('localhost:1/a:b');
    expect(pulledImageOf('Back-off pulling image')).toBeUndefined();
    expect(failedPullMessage(pod, events)).toBe(FALLBACK_REFUSED);
  });
});

describe("what the registry's answer says", () => {
  it('a missing tag with at most five of the tags there are, a missing repository, a tagless one', () => {
    expect(registrySays(target, { state: 'no-tag', tags: ['v7', '1', '2', 'v3', 'latest', 'v6'] })).toBe('the registry has no tag missing of app (it has: 1, 2, latest, v3, v6 and 1 more)');
    expect(registrySays(target, { state: 'no-tag', tags: [] })).toBe('the registry has no tag missing of app (it has no tags)');
    expect(registrySays(target, { state: 'no-repository' })).toBe('the registry has no repository app');
    expect(registrySays({ ...target, reference: 'sha256:abc' }, { state: 'no-tag', tags: ['1'] })).toBe('the registry has no manifest sha256:abc of app (it has: 1)');
  });
  it('present, or not asked: no verdict (the classifier stands)', () => {
    expect(registryVerdict(target, { state: 'present' }, PORT)).toBeUndefined();
    expect(registryVerdict(target, undefined, PORT)).toBeUndefined();
    expect(registryVerdict(target, { state: 'no-repository' }, PORT)?.explanation.kind).toBe('manifest-unknown');
  });
});

describe("a pod's failed pull once the registry was asked", () => {
  it('no such tag: manifest-unknown, the registry\'s words as evidence beside the event, the push fix; no other finding blamed', () => {
    const hostsToml: Finding = { check: 'hosts.toml', where: 'k3d-x-agent-0', status: 'fail', summary: 'x', fix: 'run k3s-devreg up' };
    const f = finding({ state: 'no-tag', tags: ['1', '2'] }, [hostsToml]);
    expect(f).toEqual({
      check: 'pod events',
      where: 'default/web',
      status: 'fail',
      summary: `ImagePullBackOff on k3d-x-agent-0: manifest-unknown: the registry has no tag missing of app (it has: 1, 2), so no endpoint could serve localhost:${PORT}/app:missing`,
      evidence: `the registry has no tag missing of app (it has: 1, 2); the pull error: ${FALLBACK_REFUSED}`,
      fix: `push it (docker tag IMAGE localhost:${PORT}/app:missing && docker push localhost:${PORT}/app:missing) or correct the name and tag in the pod spec; k3s-devreg images ls shows what the registry holds`,
    });
  });
  it('the tag exists: the fallback explanation, and a failing hosts.toml on the node explains it', () => {
    const classified = explainPullError(FALLBACK_REFUSED, PORT)!;
    expect(classified.kind).toBe('mirror-not-found');
    const plain = finding({ state: 'present' });
    expect(plain.summary).toBe(`ImagePullBackOff on k3d-x-agent-0: mirror-not-found: ${classified.cause}`);
    expect(plain.evidence).toBe(FALLBACK_REFUSED);
    expect(plain.fix).toBe(classified.fix);
    const hostsToml: Finding = { check: 'hosts.toml', where: 'k3d-x-agent-0', status: 'fail', summary: 'no hosts.toml for localhost', fix: 'run k3s-devreg up' };
    const explained = finding({ state: 'present' }, [hostsToml]);
    expect(explained.summary).toMatch(/; explained by: hosts.toml on k3d-x-agent-0$/);
    expect(explained.fix).toBe('run k3s-devreg up');
  });
  it('the registry could not be asked: the same as without asking', () => {
    expect(finding(undefined)).toEqual(podPullFinding({ ref: { namespace: 'default', name: 'web' }, context: 'k3d-x', pod, events, findings: [], nodes: ['k3d-x-agent-0'], port: PORT }));
  });
});

describe("a node's failed pulls in containerd.log once the registry was asked", () => {
  const hosts = ['container-registry.local:5000', `localhost:${PORT}`];
  const now = new Date('2026-12-02T05:10:00Z');
  const error = FALLBACK_REFUSED.replace(/^Failed to pull image "[^"]+": rpc error: code = Unknown desc = /, '');
  const logLine = `time="2026-12-02T05:00:00Z" level=error msg="PullImage \\"localhost:${PORT}/app:missing\\" failed" error="${error.replaceAll('"', '\\"')}"`;
  const read = { hostsToml: {}, files: {}, containerdLog: logLine, clock: now.getTime() / 1000 };
  it('the images to ask about are those of the errors the finding speaks of', () => {
    expect(nodePullErrors(read, hosts, undefined).map((e) => e.image)).toEqual([`localhost:${PORT}/app:missing`]);
    expect(nodePullErrors(read, hosts, '2026-12-02T05:05:00Z')).toEqual([]);
  });
  it('a missing tag: manifest-unknown with what the registry said before the log line; present or not asked: mirror-not-found', () => {
    const missing = pullErrorsFinding('k3d-x-agent-0', read, hosts, undefined, now, new Map([[`localhost:${PORT}/app:missing`, { state: 'no-tag', tags: ['1'] }]]));
    expect(missing).toMatchObject({ status: 'fail', evidence: `the registry has no tag missing of app (it has: 1); the log line: ${logLine}` });
    expect(missing.summary).toBe(`the pull of localhost:${PORT}/app:missing failed at 2026-12-02T05:00:00Z, 10 min ago (manifest-unknown): the registry has no tag missing of app (it has: 1), so no endpoint could serve localhost:${PORT}/app:missing`);
    expect(missing.fix).toMatch(/^push it \(docker tag IMAGE localhost:40123\/app:missing && docker push localhost:40123\/app:missing\)/);
    for (const answers of [new Map([[`localhost:${PORT}/app:missing`, { state: 'present' } as const]]), new Map(), undefined]) {
      const classified = pullErrorsFinding('k3d-x-agent-0', read, hosts, undefined, now, answers);
      expect(classified.summary).toMatch(/\(mirror-not-found\): containerd's last try was/);
      expect(classified.evidence).toBe(logLine);
    }
  });
});
