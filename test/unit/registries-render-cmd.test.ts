/** `registries render --dir`: the manifests as files, the Secret 0600, stable across re-renders. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { printOutcome, runCli } from '../../src/cli.js';
import { render } from '../../src/commands/registries.js';
import type { Io } from '../../src/io.js';
import type { RenderRequest } from '../../src/registries/render-writer.js';
import type { Runner } from '../../src/tools/run.js';
import { captureIo } from '../helpers/io.js';
import { recordingRunner } from '../helpers/recording-runner.js';
import { schemaErrors } from '../helpers/schemas.js';

/** `registries render` with a typed request, its outcome printed as cli.ts prints it. */
const renderRegistriesWriterFiles = async (request: RenderRequest & { json: boolean }, io: Io, runner: Runner): Promise<number> => printOutcome(await render(request, io, runner), io);

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const PASS = 'render-pass-0042-q';
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const cwd = mkdtempSync(join(tmpdir(), 'k3s-devreg-render-'));
writeFileSync(join(cwd, 'registries.yaml'), `configs:\n  r.example.com:\n    auth: {username: u, password: ${PASS}}\n    tls: {ca_file: /etc/k3s-devreg/ca.crt}\n`);
writeFileSync(join(cwd, 'ca.crt'), CA);
writeFileSync(join(cwd, 'key.pem'), `${CA}-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n`);
const request = { dir: 'out', file: 'registries.yaml', ca: 'ca.crt', strict: true, json: true };

describe('registries render', () => {
  afterEach(() => forgetSecretsForTests());

  it('writes the Secret (0600) and the writer (0644) as valid manifests, and JSON without secrets', async () => {
    const io = captureIo({ cwd });
    expect(await renderRegistriesWriterFiles(request, io, recordingRunner())).toBe(0);
    const result = JSON.parse(io.stdout.join('\n')) as Obj;
    expect(result.files.map((f: Obj) => [f.path, f.changed, f.mode])).toStrictEqual([
      [join(cwd, 'out', 'registries-secret.yaml'), true, '0600'],
      [join(cwd, 'out', 'registries-writer.yaml'), true, '0644'],
    ]);
    expect(statSync(join(cwd, 'out', 'registries-secret.yaml')).mode & 0o777).toBe(0o600);
    const secret = parse(readFileSync(join(cwd, 'out', 'registries-secret.yaml'), 'utf8')) as Obj;
    expect(schemaErrors('Secret', secret)).toStrictEqual([]);
    expect(Buffer.from(secret.data['ca.crt'], 'base64').toString()).toBe(CA);
    const writer = readFileSync(join(cwd, 'out', 'registries-writer.yaml'), 'utf8');
    expect(writer).not.toContain(PASS);
    expect(io.all()).not.toContain(PASS);
    expect(result.diff).toContain('password: <REDACTED>');
  });

  it('changes nothing when rendered again from the same input', async () => {
    const first = captureIo({ cwd });
    await renderRegistriesWriterFiles({ ...request, dir: 'again' }, first, recordingRunner());
    const again = captureIo({ cwd });
    await renderRegistriesWriterFiles({ ...request, dir: 'again' }, again, recordingRunner());
    const result = JSON.parse(again.stdout.join('\n')) as Obj;
    expect(result.files.map((f: Obj) => f.changed)).toStrictEqual([false, false]);
    expect(result.diff).toBe('registries.yaml: unchanged');
    expect(result.registriesChecksum).toBe((JSON.parse(first.stdout.join('\n')) as Obj).registriesChecksum);
  });

  it('refuses a --ca file holding a private key', async () => {
    const error = await renderRegistriesWriterFiles({ ...request, ca: 'key.pem' }, captureIo({ cwd }), recordingRunner()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).problem).toContain('private key');
  });

  it('needs --ca for a ca_file under /etc/k3s-devreg, and says how to get it there', async () => {
    const error = await renderRegistriesWriterFiles({ ...request, ca: undefined }, captureIo({ cwd }), recordingRunner()).catch((e: unknown) => e);
    expect((error as UserError).message).toContain('--ca FILE installs a CA as /etc/k3s-devreg/ca.crt');
  });

  it('with --no-strict, keeps a typo\'d auth key\'s value out of the output and out of the pre-redacted copy', async () => {
    const TOKEN = 's3cr3t-token-value';
    writeFileSync(join(cwd, 'typo.yaml'), `configs:\n  r.example.com:\n    auth: {username: bob, token: ${TOKEN}, other_key: ${TOKEN}-2}\n`);
    const io = captureIo({ cwd });
    await renderRegistriesWriterFiles({ ...request, file: 'typo.yaml', dir: 'typo', ca: undefined, strict: false, json: false }, io, recordingRunner());
    for (const line of io.all().split('\n')) expect(line).not.toContain(TOKEN);
    expect(io.stderr.join('\n')).toContain('configs."r.example.com".auth.token');
    const secret = parse(readFileSync(join(cwd, 'typo', 'registries-secret.yaml'), 'utf8')) as Obj;
    const redacted = Buffer.from(secret.data['registries.redacted.yaml'], 'base64').toString();
    expect(redacted).not.toContain(TOKEN);
    expect(redacted).toContain('token: <REDACTED>');
    expect(redacted).toContain('other_key: <REDACTED>');
    expect(readFileSync(join(cwd, 'typo', 'registries-writer.yaml'), 'utf8')).not.toContain(TOKEN);
  });

  it('uses --writer-image over K3S_DEVREG_WRITER_IMAGE for both containers, and rejects a malformed one', async () => {
    const images = async (extra: Obj, env: NodeJS.ProcessEnv) => {
      const dir = `out-image-${Object.keys(extra).length}-${Object.keys(env).length}`;
      expect(await renderRegistriesWriterFiles({ ...request, dir, ...extra }, captureIo({ cwd, env }), recordingRunner())).toBe(0);
      const docs = readFileSync(join(cwd, dir, 'registries-writer.yaml'), 'utf8').split(/^---$/m).map((d) => parse(d) as Obj);
      const pod = docs.find((d) => d?.kind === 'DaemonSet')!.spec.template.spec;
      return [...pod.initContainers, ...pod.containers].map((c: Obj) => c.image);
    };
    expect(await images({}, {})).toStrictEqual(['busybox:1.36.1', 'busybox:1.36.1']);
    expect(await images({}, { K3S_DEVREG_WRITER_IMAGE: 'mirror.local/busybox:1' })).toStrictEqual(['mirror.local/busybox:1', 'mirror.local/busybox:1']);
    expect(await images({ writerImage: 'flag.local/bb:2' }, { K3S_DEVREG_WRITER_IMAGE: 'mirror.local/busybox:1' })).toStrictEqual(['flag.local/bb:2', 'flag.local/bb:2']);
    await expect(renderRegistriesWriterFiles({ ...request, dir: 'bad', writerImage: 'not an image' }, captureIo({ cwd }), recordingRunner())).rejects.toThrow(
      /invalid image reference "not an image": pass --writer-image/,
    );
  });

  it('warns when --ca is given but no entry uses it', async () => {
    writeFileSync(join(cwd, 'plain.yaml'), 'mirrors:\n  docker.io: null\n');
    const io = captureIo({ cwd });
    await renderRegistriesWriterFiles({ ...request, file: 'plain.yaml', dir: 'plain' }, io, recordingRunner());
    expect(io.stderr.join('\n')).toContain('no configs entry has tls.ca_file: /etc/k3s-devreg/ca.crt');
  });

  it('without -f reads ./registries.yaml and says so; without one there, says what to pass; -f "" is refused', async () => {
    const io = captureIo({ cwd });
    expect(await runCli(['registries', 'render', '--dir', 'default-file', '--ca', 'ca.crt'], io)).toBe(0);
    expect(io.stderr).toContain(`No -f given: reading ${join(cwd, 'registries.yaml')}`);
    const empty = mkdtempSync(join(tmpdir(), 'k3s-devreg-nofile-'));
    for (const sub of [['render', '--dir', 'out'], ['apply', '--context', 'k3d-x']]) {
      const missing = captureIo({ cwd: empty });
      expect(await runCli(['registries', ...sub], missing)).toBe(2);
      expect(missing.stderr).toEqual([`error: no -f given, and there is no registries.yaml in ${empty}: pass -f FILE with your k3s registries.yaml (mirrors, configs)`]);
    }
    const blank = captureIo({ cwd });
    expect(await runCli(['registries', 'render', '--dir', 'out', '-f', ''], blank)).toBe(2);
    expect(blank.stderr).toEqual(['error: --file is empty: give --file a value, or leave it out']);
    const blankCa = captureIo({ cwd });
    expect(await runCli(['registries', 'render', '--dir', 'out', '--ca', ''], blankCa)).toBe(2);
    expect(blankCa.stderr).toEqual(['error: --ca is empty: give --ca a value, or leave it out']);
  });

  it('in a git work tree, the Secret is ignored (never committed by accident) and the writer stays visible for review', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'k3s-devreg-gitops-'));
    execFileSync('git', ['init', '-q', repo]);
    writeFileSync(join(repo, 'registries.yaml'), readFileSync(join(cwd, 'registries.yaml')));
    writeFileSync(join(repo, 'ca.crt'), CA);
    expect(await renderRegistriesWriterFiles({ ...request, dir: 'deploy' }, captureIo({ cwd: repo }), recordingRunner())).toBe(0);
    const status = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' });
    expect(status.split('\n').filter(Boolean).sort()).toEqual(['?? ca.crt', '?? deploy/.gitignore', '?? deploy/registries-writer.yaml', '?? registries.yaml']);
    expect(statSync(join(repo, 'deploy', 'registries-secret.yaml')).isFile()).toBe(true);

    // A .gitignore of the user's is kept when it covers the Secret, and refused (nothing written) when it does not.
    mkdirSync(join(repo, 'mine'));
    writeFileSync(join(repo, 'mine', '.gitignore'), '*.bak\nregistries-secret.yaml\n');
    expect(await renderRegistriesWriterFiles({ ...request, dir: 'mine' }, captureIo({ cwd: repo }), recordingRunner())).toBe(0);
    expect(readFileSync(join(repo, 'mine', '.gitignore'), 'utf8')).toBe('*.bak\nregistries-secret.yaml\n');
    mkdirSync(join(repo, 'other'));
    writeFileSync(join(repo, 'other', '.gitignore'), '*.bak\n');
    await expect(renderRegistriesWriterFiles({ ...request, dir: 'other' }, captureIo({ cwd: repo }), recordingRunner())).rejects.toThrow(
      /other\/\.gitignore does not ignore registries-secret\.yaml.*add the line registries-secret\.yaml to it/,
    );
    expect(readdirSync(join(repo, 'other'))).toEqual(['.gitignore']);
  });
});
