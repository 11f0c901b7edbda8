/**
 * doctor's docker-login check against real files: a temporary DOCKER_CONFIG with the config.json
 * docker writes (auths, credsStore, credHelpers), and credential helpers as real programs on PATH
 * that answer `list` and `get` (the server on stdin) as docker-credential-* helpers do, run through
 * the real runner.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { forgetSecretsForTests, redact } from '../../../src/redact.js';
import { dockerLoginFinding } from '../../../src/steps/doctor-laptop.js';
import { createRunner } from '../../../src/tools/run.js';
import { recordingRunner } from '../../helpers/recording-runner.js';

const PASSWORD = 'Doctor-Login-Secret-77';
const OLD_PASSWORD = 'Before-The-Reset-12';
const tmp = mkdtempSync(join(tmpdir(), 'k3s-devreg-doctor-login-'));
const stateDir = join(tmp, 'state');
const bin = join(tmp, 'bin');
const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

beforeAll(() => {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'credentials.json'), JSON.stringify({ username: 'devreg', password: PASSWORD }));
  mkdirSync(bin);
  // What `docker-credential-<helper> list` prints: server -> username; `get` reads the server on stdin and prints
  // {ServerURL, Username, Secret}, or "credentials not found in native keychain" and exit 1; a failing backend exits 1.
  const helper = (name: string, password: string, get = true) => {
    const answer = `{"ServerURL":"localhost:31113","Username":"devreg","Secret":"${password}"}`;
    const getPart = get
      ? `[ "$1" = get ] && { read -r server; [ "$server" = localhost:31113 ] && { echo '${answer}'; exit 0; }; echo 'credentials not found in native keychain'; exit 1; }\n`
      : `[ "$1" = get ] && { echo 'error getting credentials - err: exit status 1, out: \`User interaction is not allowed.\`' >&2; exit 1; }\n`;
    writeFileSync(join(bin, `docker-credential-${name}`), `#!/bin/sh\n${getPart}[ "$1" = list ] || exit 3\necho '{"https://index.docker.io/v1/":"someone","localhost:31113":"devreg","https://localhost:40000":"intruder"}'\n`);
    chmodSync(join(bin, `docker-credential-${name}`), 0o755);
  };
  helper('k3sdevregtest', PASSWORD);
  helper('k3sdevregstale', OLD_PASSWORD);
  helper('k3sdevregnoget', PASSWORD, false);
  writeFileSync(join(bin, 'docker-credential-k3sdevreglocked'), '#!/bin/sh\necho "error getting credentials - err: exit status 1, out: `User interaction is not allowed.`" >&2\nexit 1\n');
  chmodSync(join(bin, 'docker-credential-k3sdevreglocked'), 0o755);
  vi.stubEnv('PATH', `${bin}${delimiter}${process.env.PATH ?? ''}`);
});
afterEach(() => forgetSecretsForTests());
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(tmp, { recursive: true, force: true });
});

/** A DOCKER_CONFIG folder holding this config.json (or none). */
function dockerConfig(config?: unknown): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmp, 'docker-'));
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return { DOCKER_CONFIG: dir };
}

const check = (env: NodeJS.ProcessEnv, port = 31113, run = createRunner()) => dockerLoginFinding({ run, name: 'devreg', stateDir, env, port });

describe('doctor: docker logged in to localhost:PORT', () => {
  it('auths holding the saved user and password: ok, and the auth value is never in the finding', async () => {
    const env = dockerConfig({ auths: { 'localhost:31113': { auth: auth('devreg', PASSWORD) } } });
    const finding = await check(env, 31113, recordingRunner());
    expect(finding).toEqual({ check: 'docker login', where: 'laptop', status: 'ok', summary: 'docker is logged in to localhost:31113 as devreg', evidence: `read from ${join(env.DOCKER_CONFIG!, 'config.json')}` });
    expect(JSON.stringify(finding)).not.toContain(auth('devreg', PASSWORD));
  });

  it('no login, another user, an old password (after a reset), no config.json, a broken one: each fails with how to log in', async () => {
    const cases: [unknown, RegExp][] = [
      [{ auths: { 'localhost:5000': { auth: auth('devreg', PASSWORD) } } }, /^docker is not logged in to localhost:31113: docker push to it is refused$/],
      [{ auths: { 'https://localhost:31113': { auth: auth('alice', PASSWORD) } } }, /^docker is logged in to localhost:31113 as alice, but the registry's user is devreg$/],
      [{ auths: { 'localhost:31113': { auth: auth('devreg', OLD_PASSWORD) } } }, /^docker's saved password for localhost:31113 is not the one in credentials.json/],
      [undefined, /^docker holds no login for localhost:31113: there is no .*config\.json$/],
      ['{ not json', /config\.json is not a JSON object, so docker reads no login from it$/],
    ];
    for (const [config, summary] of cases) {
      const finding = await check(dockerConfig(config), 31113, recordingRunner());
      expect(finding.status, String(summary)).toBe('fail');
      expect(finding.summary).toMatch(summary);
      expect(finding.fix).toContain('k3s-devreg verify --name devreg (it logs docker in to localhost:31113), or `docker login localhost:31113 --username devreg --password-stdin`');
      const all = JSON.stringify(finding);
      for (const secret of [PASSWORD, OLD_PASSWORD, auth('devreg', OLD_PASSWORD), auth('alice', PASSWORD)]) expect(all).not.toContain(secret);
    }
    // The stale password read from the file is a secret from then on: redacted wherever it might appear.
    await check(dockerConfig({ auths: { 'localhost:31113': { auth: auth('devreg', OLD_PASSWORD) } } }), 31113, recordingRunner());
    expect(redact(`x ${OLD_PASSWORD} y`)).toBe('x <REDACTED> y');
  });

  it('credsStore: the helper on PATH is asked with `list`, then `get` (the server on stdin) to compare the password, as docker would', async () => {
    const env = dockerConfig({ auths: { 'localhost:31113': {} }, credsStore: 'k3sdevregtest' });
    expect(await check(env)).toEqual({ check: 'docker login', where: 'laptop', status: 'ok', summary: 'docker is logged in to localhost:31113 as devreg', evidence: "read from docker's credential helper docker-credential-k3sdevregtest" });
    expect(await check(env, 40000)).toMatchObject({ status: 'fail', summary: "docker is logged in to localhost:40000 as intruder, but the registry's user is devreg" });
    expect(await check(env, 40001)).toMatchObject({ status: 'fail', summary: 'docker is not logged in to localhost:40001: docker push to it is refused' });
    // The real runner, recorded: the secret comes back on stdout and is in no argv, no stdin.
    const real = createRunner();
    const run = recordingRunner();
    const answers: string[] = [];
    const recorded: typeof real = async (file, args, options) => {
      await run(file, args, options);
      const result = await real(file, args, options);
      answers.push(result.stdout);
      return result;
    };
    expect(await check(env, 31113, recorded)).toMatchObject({ status: 'ok' });
    expect(run.calls).toEqual([
      { file: 'docker-credential-k3sdevregtest', args: ['list'], timeoutMs: 30_000 },
      { file: 'docker-credential-k3sdevregtest', args: ['get'], input: 'localhost:31113', timeoutMs: 30_000 },
    ]);
    expect(answers[1]).toContain(PASSWORD);
    expect(JSON.stringify(run.calls)).not.toContain(PASSWORD);
    // Registered the moment it was read.
    expect(redact(`x ${PASSWORD} y`)).toBe('x <REDACTED> y');
  });

  it('a helper holding an old password (a reset since docker logged in): a failure naming neither password', async () => {
    const finding = await check(dockerConfig({ credsStore: 'k3sdevregstale' }));
    expect(finding).toMatchObject({ status: 'fail', summary: "docker's saved password for localhost:31113 is not the one in credentials.json (a reset or a new password since the last login)", evidence: "read from docker's credential helper docker-credential-k3sdevregstale" });
    expect(finding.fix).toContain('docker login localhost:31113 --username devreg --password-stdin');
    expect(JSON.stringify(finding)).not.toContain(OLD_PASSWORD);
    expect(JSON.stringify(finding)).not.toContain(PASSWORD);
    expect(redact(`x ${OLD_PASSWORD} y`)).toBe('x <REDACTED> y');
  });

  it('a helper whose `get` fails: a warning that the password was not compared, with the fix', async () => {
    const finding = await check(dockerConfig({ credsStore: 'k3sdevregnoget' }));
    expect(finding).toMatchObject({
      status: 'warn',
      summary: 'docker is logged in to localhost:31113 as devreg, but its password was not compared: docker-credential-k3sdevregnoget could not get the login it holds for localhost:31113 (exit 1: error getting credentials - err: exit status 1, out: `User interaction is not allowed.`)',
    });
    expect(finding.fix).toMatch(/^check that `echo localhost:31113 \| docker-credential-k3sdevregnoget get` works \(a locked keychain has to be unlocked first\); or log in again: run k3s-devreg verify/);
  });

  it('credHelpers for this server wins over credsStore and over auths', async () => {
    const env = dockerConfig({ auths: { 'localhost:31113': { auth: auth('devreg', PASSWORD) } }, credsStore: 'desktop', credHelpers: { 'localhost:31113': 'k3sdevregtest' } });
    expect(await check(env)).toMatchObject({ status: 'ok', evidence: "read from docker's credential helper docker-credential-k3sdevregtest" });
  });

  it('a helper that is not installed, that fails, or that is no plain name: a failure saying so, with the fix', async () => {
    expect(await check(dockerConfig({ credsStore: 'k3sdevregmissing' }))).toMatchObject({
      status: 'fail',
      summary: 'docker cannot read its logins: docker-credential-k3sdevregmissing is not installed (or not on PATH)',
      fix: 'install docker-credential-k3sdevregmissing, or remove "credsStore"/"credHelpers" naming k3sdevregmissing from docker\'s config.json',
    });
    const locked = await check(dockerConfig({ credsStore: 'k3sdevreglocked' }));
    expect(locked.status).toBe('fail');
    expect(locked.summary).toContain('docker-credential-k3sdevreglocked could not list the logins it holds (exit 1: error getting credentials');
    const run = recordingRunner();
    expect(await check(dockerConfig({ credsStore: '../../bin/sh' }), 31113, run)).toMatchObject({ status: 'fail', evidence: '"../../bin/sh"' });
    expect(run.calls).toEqual([]);
  });
});
