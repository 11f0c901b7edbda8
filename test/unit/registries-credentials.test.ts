/** Credential references: {fromEnv}, {fromFile}, {fromCommand}, resolved before the strict check. */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ToolError, UserError } from '../../src/errors.js';
import { forgetSecretsForTests, redact } from '../../src/redact.js';
import { loadRegistriesFile } from '../../src/registries/load.js';
import { createRunner } from '../../src/tools/run.js';
import { recordingRunner } from '../helpers/recording-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-creds-'));
const write = (name: string, text: string, mode = 0o600) => {
  writeFileSync(join(dir, name), text);
  chmodSync(join(dir, name), mode);
  return join(dir, name);
};
const withAuth = (auth: string) => `configs:\n  registry.example.com:\n    auth:\n${auth}`;
const base = { strict: true, nodeVisibleDirs: [] as string[] };

async function failure(promise: Promise<unknown>): Promise<UserError | ToolError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof UserError || error instanceof ToolError)) throw new Error(`expected a UserError or ToolError, got ${String(error)}`);
  return error;
}

describe('credential references', () => {
  afterEach(() => forgetSecretsForTests());

  it('reads {fromEnv}, {fromFile} (one trailing newline stripped) and registers both as secrets', async () => {
    write('pass.txt', 'file-secret-9f8e\n');
    const file = write('env-file.yaml', withAuth('      username: {fromEnv: REG_USER}\n      password: {fromFile: pass.txt}\n'));
    const { config, warnings } = await loadRegistriesFile(file, { ...base, runner: recordingRunner(), env: { REG_USER: 'env-user-7c6d' } });
    expect(config.configs?.['registry.example.com']?.auth).toStrictEqual({ username: 'env-user-7c6d', password: 'file-secret-9f8e' });
    expect(warnings).toStrictEqual([]);
    expect(redact('env-user-7c6d and file-secret-9f8e')).toBe('<REDACTED> and <REDACTED>');
  });

  it('expands ~ in fromFile and warns when the file is readable by others', async () => {
    write('loose.txt', 'loose-secret-1234', 0o644);
    const file = write('home.yaml', withAuth('      password: {fromFile: ~/loose.txt}\n'));
    const { config, warnings } = await loadRegistriesFile(file, { ...base, runner: recordingRunner(), env: { HOME: dir } });
    expect(config.configs?.['registry.example.com']?.auth?.password).toBe('loose-secret-1234');
    expect(warnings.join()).toContain('chmod 600');
  });

  it('runs {fromCommand} as an argv list (no shell) in the file\'s folder, one call per reference', async () => {
    const runner = recordingRunner(() => ({ stdout: 'cmd-secret-5a4b\n' }));
    const file = write('cmd.yaml', withAuth('      identity_token: {fromCommand: [pass, show, "registry/token with space"]}\n'));
    const { config } = await loadRegistriesFile(file, { ...base, runner, env: {} });
    expect(runner.calls).toStrictEqual([{ file: 'pass', args: ['show', 'registry/token with space'], cwd: dir, timeoutMs: 120_000, rawStdout: true }]);
    expect(config.configs?.['registry.example.com']?.auth?.identity_token).toBe('cmd-secret-5a4b');
  });

  it('a real command: exactly one trailing newline is removed, as for fromFile (a second one is an error)', async () => {
    const one = write('one.yaml', withAuth('      password: {fromCommand: [printf, "cmd-sec-9876\\n"]}\n'));
    expect((await loadRegistriesFile(one, { ...base, runner: createRunner(), env: {} })).config.configs?.['registry.example.com']?.auth?.password).toBe('cmd-sec-9876');
    const two = write('two.yaml', withAuth('      password: {fromCommand: [printf, "cmd-sec-9876\\n\\n"]}\n'));
    expect((await failure(loadRegistriesFile(two, { ...base, runner: createRunner(), env: {} }))).message).toContain('gave more than one line');
  });

  it('resolves references before the strict check, so a typo next to one is still caught', async () => {
    const file = write('typo.yaml', withAuth('      token: {fromEnv: REG_TOKEN}\n'));
    const error = await failure(loadRegistriesFile(file, { ...base, runner: recordingRunner(), env: { REG_TOKEN: 'tok' } }));
    expect(error.message).toContain('configs."registry.example.com".auth.token (line 4): token is not an auth field k3s reads; did you mean identity_token?');
    const elsewhere = write('elsewhere.yaml', 'mirrors:\n  docker.io:\n    endpoint: [{fromEnv: X}]\n');
    const misplaced = await failure(loadRegistriesFile(elsewhere, { ...base, runner: recordingRunner(), env: { X: 'x' } }));
    expect(misplaced.message).toContain('credential references are allowed only in auth fields');
    const ok = write('ok.yaml', withAuth('      identity_token: {fromEnv: REG_TOKEN}\n'));
    const resolved = await loadRegistriesFile(ok, { ...base, runner: recordingRunner(), env: { REG_TOKEN: 'tok-1234' } });
    expect(resolved.config).toStrictEqual({ configs: { 'registry.example.com': { auth: { identity_token: 'tok-1234' } } } });
    expect(resolved.warnings).toStrictEqual([]);
  });

  it('gives a failing command\'s exit code and last stderr line in one line, never its stdout or a known secret', async () => {
    const runner = recordingRunner(() => ({
      exitCode: 3,
      stdout: 'half-printed-secret-77\nsecond-line-secret-88\n',
      stderr: 'starting\ndecryption of half-printed-secret-77 failed for env-user-7c6d\n\n',
    }));
    const file = write('fail.yaml', withAuth('      username: {fromEnv: REG_USER}\n      password: {fromCommand: [sops, -d, pass.enc]}\n'));
    const error = await failure(loadRegistriesFile(file, { ...base, runner, env: { REG_USER: 'env-user-7c6d' } }));
    expect(error).toBeInstanceOf(ToolError);
    expect(error.message).toBe(
      '`sops -d pass.enc` (credential for configs."registry.example.com".auth.password, line 5) failed with exit code 3: ' +
        'decryption of <REDACTED> failed for <REDACTED>: fix the command or run it by hand to see why',
    );
    // Whatever it printed on stdout may be the secret: no later line carries it either.
    expect(redact('half-printed-secret-77 second-line-secret-88')).toBe('<REDACTED> <REDACTED>');
  });

  it('keeps the secret out of the error when a real command echoes it on stderr and fails', async () => {
    const secret = 'echoed-secret-3141';
    write('leaky.sh', `echo ${secret}\necho "could not store ${secret}" >&2\nexit 3\n`, 0o700);
    const file = write('leaky.yaml', withAuth('      password: {fromCommand: [sh, leaky.sh]}\n'));
    const error = await failure(loadRegistriesFile(file, { ...base, runner: createRunner(), env: {} }));
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('`sh leaky.sh` (credential for configs."registry.example.com".auth.password, line 4) failed with exit code 3: could not store <REDACTED>: fix the command');
    const silent = write('silent.yaml', withAuth('      password: {fromCommand: [sh, -c, "exit 4"]}\n'));
    expect((await failure(loadRegistriesFile(silent, { ...base, runner: createRunner(), env: {} }))).message).toContain('failed with exit code 4 and no error output: fix the command');
  });

  it('says clearly when a command is missing or prints nothing', async () => {
    const file = write('missing.yaml', withAuth('      password: {fromCommand: [no-such-tool-xyz]}\n'));
    const missing = await failure(loadRegistriesFile(file, { ...base, runner: createRunner(), env: {} }));
    expect(missing.message).toContain('command no-such-tool-xyz not found');
    const empty = await failure(loadRegistriesFile(file, { ...base, runner: recordingRunner(() => ({ stdout: '' })), env: {} }));
    expect(empty.message).toContain('gave an empty value');
  });

  it.each([
    ['an unset variable', '{fromEnv: NOT_SET_ANYWHERE}', 'environment variable NOT_SET_ANYWHERE is not set'],
    ['a missing file', '{fromFile: nope.txt}', 'ENOENT'],
    ['a misspelt key', '{fromenv: X}', 'did you mean fromEnv?'],
    ['two keys', '{fromEnv: X, fromFile: y}', 'exactly one key'],
    ['a shell string', '{fromCommand: "age -d pass.age"}', 'list of program and arguments'],
    ['a bad variable name', '{fromEnv: "A-B"}', 'needs a variable name'],
  ])('rejects %s with a clear message', async (_, reference, message) => {
    const file = write('bad.yaml', withAuth(`      password: ${reference}\n`));
    const error = await failure(loadRegistriesFile(file, { ...base, runner: recordingRunner(), env: {} }));
    expect(error.message).toContain(message);
  });

  it('rejects a multi-line value rather than writing half a password', async () => {
    const file = write('multi.yaml', withAuth('      password: {fromEnv: TWO_LINES}\n'));
    const error = await failure(loadRegistriesFile(file, { ...base, runner: recordingRunner(), env: { TWO_LINES: 'line-one-aaaa\nline-two-bbbb' } }));
    expect(error.message).toContain('more than one line');
    expect(error.message).not.toContain('line-one-aaaa');
  });
});
