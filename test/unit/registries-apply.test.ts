/** `registries apply` and `registries status` against a recorded kubectl: exact argv, stdin, output. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { printOutcome } from '../../src/cli.js';
import { apply } from '../../src/commands/registries.js';
import type { Io } from '../../src/io.js';
import type { ApplyRequest } from '../../src/registries/apply.js';
import type { Runner } from '../../src/tools/run.js';
import { captureIo } from '../helpers/io.js';
import { recordingRunner, type RecordedCall } from '../helpers/recording-runner.js';
import { APPLY, CONTEXTS, fakeCluster, GET_CONTEXTS, GET_DS, GET_NODES, GET_PODS, GET_SECRET, K3S, line, ROLLOUT } from '../helpers/writer-cluster.js';

/** `registries apply` with a typed request, its outcome printed as cli.ts prints it. */
const applyRegistries = async (request: ApplyRequest, io: Io, runner: Runner): Promise<number> => printOutcome(await apply(request, io, runner), io);

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const OLD_PASS = 'old-pass-31337-abc';
const NEW_PASS = 'new-pass-42424-xyz';
const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-apply-'));
writeFileSync(join(dir, 'registries.yaml'), 'mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com"]\nconfigs:\n  mirror.example.com:\n    auth:\n      username: ci\n      password: {fromEnv: REG_PASS}\n');

const request = { context: 'prod', file: 'registries.yaml', strict: true, json: false, yes: true };
const io = () => captureIo({ env: { REG_PASS: NEW_PASS }, cwd: dir });

describe('registries apply', () => {
  afterEach(() => forgetSecretsForTests());

  it('reads the current Secret, applies on stdin, waits, then reads the per-node status: exact argv', async () => {
    const runner = recordingRunner(fakeCluster());
    const out = io();
    expect(await applyRegistries(request, out, runner)).toBe(0);
    expect(runner.lines()).toStrictEqual([GET_CONTEXTS, GET_NODES, GET_SECRET, APPLY, ROLLOUT, GET_DS, GET_PODS, GET_NODES].map(line));
    const docs = parseAllDocuments(runner.calls[3]!.input!).map((d) => d.toJS() as Obj);
    expect(docs.map((d) => d.kind)).toStrictEqual(['Secret', 'ConfigMap', 'DaemonSet']);
    expect(Buffer.from(docs[0]!.data['registries.yaml'], 'base64').toString()).toContain(`password: ${NEW_PASS}`);
    for (const call of runner.calls) expect(call.args.join(' ')).not.toContain(NEW_PASS);
    const printed = out.all();
    expect(printed).not.toContain(NEW_PASS);
    expect(printed).toContain('registries.yaml: new file (secrets redacted):');
    expect(printed).toContain('password: <REDACTED>');
    expect(printed).toContain('s1 (server, /etc/rancher/k3s/registries.yaml): sudo systemctl restart k3s');
    expect(printed).toContain('a1 (agent, /etc/rancher/k3s/registries.yaml): sudo systemctl restart k3s-agent');
  });

  it('diffs against the Secret in the cluster, keeps its salt, and shows neither old nor new secret', async () => {
    const old = 'configs:\n  mirror.example.com:\n    auth:\n      username: ci\n      password: ' + OLD_PASS + '\n';
    const runner = recordingRunner(fakeCluster({ 'registries.yaml': old, salt: 'kept-salt' }));
    const out = io();
    await applyRegistries(request, out, runner);
    for (const text of out.all().split('\n')) {
      expect(text).not.toContain(OLD_PASS);
      expect(text).not.toContain(NEW_PASS);
    }
    expect(out.all()).toContain('+  docker.io:');
    const secret = parseAllDocuments(runner.calls[3]!.input!)[0]!.toJS() as Obj;
    expect(Buffer.from(secret.data.salt, 'base64').toString()).toBe('kept-salt');
  });

  it('refuses to change nodes without --yes when it cannot ask, before applying anything', async () => {
    const runner = recordingRunner(fakeCluster());
    const error = await applyRegistries({ ...request, yes: false }, io(), runner).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).fix).toContain('--yes');
    expect(runner.lines()).toStrictEqual([line(GET_CONTEXTS), line(GET_NODES), line(GET_SECRET)]);
  });

  it('asks through the injected Ask, and applies nothing on no', async () => {
    const runner = recordingRunner(fakeCluster());
    const out = captureIo({ env: { REG_PASS: NEW_PASS }, cwd: dir, tty: true });
    const questions: string[] = [];
    const ask = async (q: { message: string }[]) => {
      questions.push(...q.map((x) => x.message));
      return { confirm: 'no' };
    };
    expect(await applyRegistries({ ...request, yes: false, ask }, out, runner)).toBe(1);
    expect(questions).toEqual(['Write this registries.yaml to every node of prod? (yes/no)']);
    expect(runner.lines()).toStrictEqual([line(GET_CONTEXTS), line(GET_NODES), line(GET_SECRET)]);
  });

  it('refuses, before reading or changing anything else, a k3d cluster that up set up', async () => {
    const getNamespace = ['kubectl', '--context', 'k3d-devreg', 'get', 'namespace', 'container-registry', '--ignore-not-found', '--output', 'json'];
    const runner = recordingRunner((call: RecordedCall) => {
      const argv = line([call.file, ...call.args]);
      if (argv === line(GET_CONTEXTS)) return CONTEXTS;
      return argv === line(getNamespace) ? { stdout: JSON.stringify({ metadata: { labels: { 'app.kubernetes.io/managed-by': 'k3s-devreg' } } }) } : { stdout: '' };
    });
    await expect(applyRegistries({ ...request, context: 'k3d-devreg' }, io(), runner)).rejects.toThrow(
      /set up by k3s-devreg up.*k3s-devreg up --name devreg --registries-file FILE/,
    );
    expect(runner.lines()).toStrictEqual([line(GET_CONTEXTS), line(getNamespace)]);
  });

  it('a missing file or a typo in it is reported before the cluster is asked anything', async () => {
    const runner = recordingRunner(fakeCluster());
    await expect(applyRegistries({ ...request, file: 'nope.yaml' }, io(), runner)).rejects.toThrow(UserError);
    writeFileSync(join(dir, 'typo.yaml'), 'mirrors:\n  docker.io:\n    endpoints: ["https://mirror.example.com"]\n');
    await expect(applyRegistries({ ...request, file: 'typo.yaml' }, io(), runner)).rejects.toThrow(/endpoints.*endpoint/);
    expect(runner.lines()).toStrictEqual([]);
  });

  it('a context the kubeconfig lacks is named, with the ones it has, before anything else is asked', async () => {
    const runner = recordingRunner(fakeCluster());
    await expect(applyRegistries({ ...request, context: 'prd' }, io(), runner)).rejects.toThrow(
      'your kubeconfig has no context named "prd" (it has k3d-devreg, k3d-plain, prod): pass one of `kubectl config get-contexts --output name` with --context',
    );
    expect(runner.lines()).toStrictEqual([line(GET_CONTEXTS)]);
  });

  it('accepts a plain k3d cluster (no namespace of ours)', async () => {
    const runner = recordingRunner((call: RecordedCall) => (line([call.file, ...call.args]) === line(GET_CONTEXTS) ? CONTEXTS : { stdout: '' }));
    await applyRegistries({ ...request, context: 'k3d-plain' }, io(), runner).catch(() => 'the stand-in has no writer pods');
    expect(runner.lines().slice(0, 5)).toStrictEqual([
      line(GET_CONTEXTS),
      'kubectl --context k3d-plain get namespace container-registry --ignore-not-found --output json',
      'kubectl --context k3d-plain get nodes --ignore-not-found --output json',
      'kubectl --context k3d-plain --namespace kube-system get secret k3s-devreg-registries --ignore-not-found --output json',
      'kubectl --context k3d-plain apply --filename -',
    ]);
  });

  it('needs no confirmation and advises no restart when nothing changed', async () => {
    const first = recordingRunner(fakeCluster());
    await applyRegistries(request, io(), first);
    const secret = parseAllDocuments(first.calls[3]!.input!)[0]!.toJS() as Obj;
    const current = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    const again = recordingRunner(fakeCluster(current, 'unchanged'));
    const out = io();
    expect(await applyRegistries({ ...request, yes: false }, out, again)).toBe(0);
    expect(out.all()).toContain('registries.yaml: unchanged');
    expect(out.all()).toContain('No node needs a restart of k3s or RKE2');
    expect(again.calls[3]!.input).toBe(first.calls[3]!.input);
  });

  it('shows which nodes are stuck when the rollout times out', async () => {
    const healthy = fakeCluster();
    const runner = recordingRunner((call) => (call.args.includes('rollout') ? { exitCode: 1, stderr: 'error: timed out waiting for the condition' } : healthy(call)));
    const out = io();
    const error = await applyRegistries(request, out, runner).catch((e: unknown) => e);
    expect((error as Error).message).toContain('timed out waiting for the condition');
    expect(out.stderr.join('\n')).toMatch(/NODE\s+ROLE\s+FILE/);
  });

  it('prints one JSON object with --json', async () => {
    const out = io();
    await applyRegistries({ ...request, json: true }, out, recordingRunner(fakeCluster()));
    const parsed = JSON.parse(out.stdout.join('\n')) as Obj;
    expect(parsed.allMatch).toBe(true);
    expect(parsed.nodes.map((n: Obj) => [n.node, n.role, n.state])).toStrictEqual([['s1', 'server', 'matches'], ['a1', 'agent', 'matches']]);
    expect(JSON.stringify(parsed)).not.toContain(NEW_PASS);
  });

  describe('which file each node reads', () => {
    const applied = (runner: ReturnType<typeof recordingRunner>) =>
      parseAllDocuments(runner.calls.find((c) => line([c.file, ...c.args]) === line(APPLY))!.input!).map((d) => d.toJS() as Obj);

    it('tells the writer, per node, the program (kubelet version) and the private-registry k3s started with (node-args)', async () => {
      const nodes = {
        s1: { version: 'v1.31.5+k3s1', annotations: { 'k3s.io/node-args': JSON.stringify(['server', '--private-registry', '/etc/rancher/k3s/other.yaml', '--token', '********']) } },
        a1: { version: 'v1.31.5+k3s1' },
      };
      const runner = recordingRunner(fakeCluster(undefined, 'updated', nodes));
      expect(await applyRegistries(request, io(), runner)).toBe(0);
      const configMap = applied(runner).find((d) => d.kind === 'ConfigMap')!;
      expect(configMap.data.nodes).toBe('s1 k3s /etc/rancher/k3s/other.yaml\na1 k3s -\n');
    });

    it('advises restarting rke2-server and rke2-agent on RKE2 nodes', async () => {
      const rke2 = { version: 'v1.31.5+rke2r1' };
      const runner = recordingRunner(fakeCluster(undefined, 'updated', { s1: rke2, a1: rke2 }));
      const out = io();
      expect(await applyRegistries(request, out, runner)).toBe(0);
      expect(applied(runner).find((d) => d.kind === 'ConfigMap')!.data.nodes).toBe('s1 rke2 -\na1 rke2 -\n');
      expect(out.all()).toContain('s1 (server, /etc/rancher/rke2/registries.yaml): sudo systemctl restart rke2-server');
      expect(out.all()).toContain('a1 (agent, /etc/rancher/rke2/registries.yaml): sudo systemctl restart rke2-agent');
      expect(out.all()).toContain('RKE2 reads registries.yaml only when it starts');
    });

    it.each([
      ['a node that is neither k3s nor RKE2', { s1: K3S, a1: { version: 'v1.31.5' } }, 'node a1 runs kubelet v1.31.5, which is neither k3s nor RKE2'],
      [
        'a node whose k3s reads a file outside /etc/rancher',
        { s1: { version: 'v1.31.5+k3s1', annotations: { 'k3s.io/node-args': '["server","--private-registry","/opt/registries.yaml"]' } }, a1: K3S },
        'k3s on node s1 reads "/opt/registries.yaml" (its private-registry setting), outside /etc/rancher',
      ],
    ])('refuses, before changing anything, %s', async (_name, nodes, message) => {
      const runner = recordingRunner(fakeCluster(undefined, 'updated', nodes));
      const error = await applyRegistries(request, io(), runner).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).problem).toContain(message);
      expect(JSON.stringify(error)).not.toContain(NEW_PASS);
      expect(runner.lines()).toStrictEqual([line(GET_CONTEXTS), line(GET_NODES)]);
    });

    it('refuses a k3s release that ignores tls.ca_file (k3s issue 9839) only when the file sets a ca_file', async () => {
      writeFileSync(join(dir, 'with-ca.yaml'), 'configs:\n  mirror.example.com:\n    tls:\n      ca_file: /etc/ssl/certs/ca-certificates.crt\n');
      const nodes = { s1: K3S, a1: { version: 'v1.28.8+k3s1' } };
      const runner = recordingRunner(fakeCluster(undefined, 'updated', nodes));
      const error = await applyRegistries({ ...request, file: 'with-ca.yaml' }, io(), runner).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).problem).toContain('k3s v1.28.8 (from node a1) ignores the registry CA');
      expect((error as UserError).fix).toContain('upgrade k3s on a1');
      expect(runner.lines()).toStrictEqual([line(GET_CONTEXTS), line(GET_NODES)]);
      // Without a ca_file the same nodes are fine.
      expect(await applyRegistries(request, io(), recordingRunner(fakeCluster(undefined, 'updated', nodes)))).toBe(0);
    });
  });
});
