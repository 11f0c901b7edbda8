/** `registries status`: per node, does the host file match the Secret? Exact kubectl argv. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { formatStatusTable, registriesStatus, restartAdvice } from '../../src/registries/status.js';
import { ANNOTATION_CA, ANNOTATION_REGISTRIES } from '../../src/registries/writer-daemonset.js';
import { fakeFactory, runCommand } from '../helpers/commands.js';
import { captureIo } from '../helpers/io.js';
import { recordingRunner, type RecordedCall } from '../helpers/recording-runner.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const GOOD = 'a'.repeat(64);
const OLD = 'b'.repeat(64);
const annotations = { [ANNOTATION_REGISTRIES]: GOOD, [ANNOTATION_CA]: 'none' };
const NS = '--context lab --namespace kube-system';
const EXPECTED_ARGV = [
  `kubectl ${NS} get daemonset k3s-devreg-registries --ignore-not-found --output json`,
  `kubectl ${NS} get pods --selector app.kubernetes.io/name=k3s-devreg-registries --output json`,
  'kubectl --context lab get nodes --ignore-not-found --output json',
];

/** The long-running container: its readiness probe says whether the host file matches the Secret NOW. */
const READY = { ready: true, state: { running: { startedAt: '2024-01-01T00:00:00Z' } } };
const NOT_READY = { ready: false, state: { running: { startedAt: '2024-01-01T00:00:00Z' } } };
const STARTING = { ready: false, state: { waiting: { reason: 'ContainerCreating' } } };

const pod = (node: string, writer: Obj, podAnnotations: Obj = annotations, check: Obj = READY) => ({
  metadata: { name: `w-${node}`, annotations: podAnnotations },
  spec: { nodeName: node },
  status: {
    phase: writer.state?.terminated?.exitCode === 0 ? 'Running' : 'Pending',
    conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: check.ready ? 'True' : 'False' }],
    initContainerStatuses: [{ name: 'writer', ...writer }],
    containerStatuses: [{ name: 'check', ...check }],
  },
});
const done = (checksum: string, ca = 'none', result = 'updated', path = '/etc/rancher/k3s/registries.yaml') => ({
  state: { terminated: { exitCode: 0, message: `result=${result} checksum=${checksum} ca=${ca} path=${path}\n` } },
});
const REFUSED = 'node refused: k3s started with private-registry /etc/rancher/k3s/cli.yaml, but its config files now give /etc/rancher/k3s/registries.yaml (the default); ...: nothing written; restart k3s on this node or align its config, then apply again';

const PODS = [
  pod('ok', done(GOOD)),
  pod('stale', done(OLD)),
  pod('ca', done(GOOD, 'c'.repeat(64))),
  pod('broken', { state: { terminated: { exitCode: 1, message: 'mv: can\'t rename: Read-only file system\n' } } }, annotations, STARTING),
  pod('pulling', { state: { waiting: { reason: 'ImagePullBackOff' } } }, annotations, STARTING),
  // During a rollout the old pod may still be there; the current one counts.
  pod('rolling', done(OLD), { [ANNOTATION_REGISTRIES]: OLD }),
  pod('rolling', done(GOOD, 'none', 'unchanged')),
  // The writer wrote the right file, but it was edited on the host since: the probe says so now.
  pod('edited', done(GOOD), annotations, NOT_READY),
  pod('starting', done(GOOD), annotations, STARTING),
  // An RKE2 node whose config names another file: the writer reports where it wrote.
  pod('rke2', done(GOOD, 'none', 'created', '/etc/rancher/rke2/custom.yaml')),
  // The writer could not tell which file is read: its one line is the termination message.
  pod('refused', { state: { terminated: { exitCode: 0, message: `refused: ${REFUSED}\n` } } }, annotations, NOT_READY),
];
const NODES = ['ok', 'stale', 'ca', 'broken', 'pulling', 'rolling', 'edited', 'starting', 'rke2', 'refused', 'tainted'];
const versionOf = (name: string) => (name === 'rke2' ? 'v1.31.5+rke2r1' : 'v1.31.5+k3s1');

function cluster(withDaemonSet = true) {
  return (call: RecordedCall) => {
    const argv = [call.file, ...call.args].join(' ');
    if (argv === EXPECTED_ARGV[0]) return { stdout: withDaemonSet ? JSON.stringify({ spec: { template: { metadata: { annotations } } } }) : '' };
    if (argv === EXPECTED_ARGV[1]) return { stdout: JSON.stringify({ items: PODS }) };
    if (argv === EXPECTED_ARGV[2]) {
      const labels = (name: string) => (name === 'ok' || name === 'rke2' ? { 'node-role.kubernetes.io/master': 'true' } : {});
      return { stdout: JSON.stringify({ items: NODES.map((name) => ({ metadata: { name, labels: labels(name) }, status: { nodeInfo: { kubeletVersion: versionOf(name) } } })) }) };
    }
    return { exitCode: 1, stderr: `unexpected call: ${argv}` };
  };
}

describe('registriesStatus', () => {
  it('reads the DaemonSet, the writer pods and the nodes with exact argv', async () => {
    const runner = recordingRunner(cluster());
    await registriesStatus(runner, 'lab');
    expect(runner.lines()).toStrictEqual(EXPECTED_ARGV);
  });

  it('tells, per node, whether the host file matches the Secret and why not', async () => {
    const rows = await registriesStatus(recordingRunner(cluster()), 'lab');
    expect(rows.map((r) => [r.node, r.state])).toStrictEqual([
      ['ok', 'matches'],
      ['stale', 'differs'],
      ['ca', 'differs'],
      ['broken', 'failed'],
      ['pulling', 'pending'],
      ['rolling', 'matches'],
      ['edited', 'differs'],
      ['starting', 'pending'],
      ['rke2', 'matches'],
      ['refused', 'failed'],
      ['tainted', 'no-pod'],
    ]);
    const byNode = Object.fromEntries(rows.map((r) => [r.node, r]));
    expect(byNode.ok!.restart).toBe('sudo systemctl restart k3s');
    expect(byNode.stale!.restart).toBe('sudo systemctl restart k3s-agent');
    expect(byNode.broken!.detail).toContain('Read-only file system');
    expect(byNode.pulling!.detail).toContain('ImagePullBackOff');
    expect(byNode.rolling!.result).toBe('unchanged');
    expect(byNode.ca!.detail).toContain('CA');
    expect(byNode.edited!.detail).toContain('changed on the host since the writer ran');
    expect(byNode.starting!.detail).toContain('ContainerCreating');
    expect(byNode.ok!.detail).toContain('checked every 10s');
    expect(byNode.ok!.path).toBe('/etc/rancher/k3s/registries.yaml');
    // RKE2: the file the writer found under /etc/rancher/rke2, and RKE2's own unit to restart.
    expect([byNode.rke2!.distribution, byNode.rke2!.path, byNode.rke2!.restart]).toStrictEqual(['rke2', '/etc/rancher/rke2/custom.yaml', 'sudo systemctl restart rke2-server']);
    expect(byNode.refused!.detail).toBe(REFUSED);
    expect(byNode.tainted!.path).toBeUndefined();
    const table = formatStatusTable(rows).split('\n');
    expect(table[0]).toMatch(/^NODE\s+ROLE\s+FILE\s+PATH\s+DETAIL$/);
    expect(table.find((l) => l.startsWith('rke2 '))).toMatch(/^rke2\s+server \(rke2\)\s+matches\s+\/etc\/rancher\/rke2\/custom\.yaml\s+created by the writer/);
  });

  it('advises the restart of each changed node with its own program and file', async () => {
    const rows = await registriesStatus(recordingRunner(cluster()), 'lab');
    const advice = restartAdvice(rows);
    expect(advice[0]).toBe('k3s and RKE2 read registries.yaml only when they start. Restart it on each node, one at a time:');
    expect(advice).toContain('  ok (server, /etc/rancher/k3s/registries.yaml): sudo systemctl restart k3s');
    expect(advice).toContain('  rke2 (server, /etc/rancher/rke2/custom.yaml): sudo systemctl restart rke2-server');
    expect(advice.at(-1)).toContain('/var/lib/rancher/rke2/agent/containerd/containerd.log');
  });

  it('says how to start when nothing was applied yet', async () => {
    const error = await registriesStatus(recordingRunner(cluster(false)), 'lab').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).fix).toContain('registries apply --context lab');
  });
});

describe('registries command', () => {
  it.each([
    [['status'], {}, 'needs --context'],
    [['apply'], {}, 'needs --context'],
    [['render'], {}, 'needs --dir'],
    [['frobnicate'], {}, 'unknown registries subcommand'],
    [[], {}, 'registries needs a subcommand: apply, status or render'],
  ])('rejects %j %j with a usage hint', async (positionals, options, message) => {
    const error = await runCommand('registries', options, captureIo(), fakeFactory(recordingRunner()), positionals).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).problem).toContain(message);
    expect((error as UserError).fix).toContain('k3s-devreg registries');
  });
});
