/**
 * doctor's docker-login check against real files: a temporary DOCKER_CONFIG with the config.json
 * docker writes (auths, credsStore, credHelpers), and a credential helper as a real program on PATH
 * that answers `list` as docker-credential-* helpers do, run through the real runner.
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
  // What `docker-credential-<helper> list` prints: server -> username; it exits 1 when its backend fails.
  writeFileSync(join(bin, 'docker-credential-k3sdevregtest'), '#!/bin/sh\n[ "$1" = list ] || exit 3\necho \'{"https://index.docker.io/v1/":"someone","localhost:31113":"devreg","https://localhost:40000":"intruder"}\'\n');
  writeFileSync(join(bin, 'docker-credential-k3sdevreglocked'), '#!/bin/sh\necho "error getting credentials - err: exit status 1, out: `User interaction is not allowed.`" >&2\nexit 1\n');
  chmodSync(join(bin, 'docker-credential-k3sdevregtest'), 0o755);
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

  it('credsStore: the helper on PATH is asked with `list` (usernames only), as docker would', async () => {
    const env = dockerConfig({ auths: { 'localhost:31113': {} }, credsStore: 'k3sdevregtest' });
    expect(await check(env)).toEqual({ check: 'docker login', where: 'laptop', status: 'ok', summary: 'docker is logged in to localhost:31113 as devreg', evidence: "read from docker's credential helper docker-credential-k3sdevregtest" });
    expect(await check(env, 40000)).toMatchObject({ status: 'fail', summary: "docker is logged in to localhost:40000 as intruder, but the registry's user is devreg" });
    expect(await check(env, 40001)).toMatchObject({ status: 'fail', summary: 'docker is not logged in to localhost:40001: docker push to it is refused' });
    const run = recordingRunner(() => ({ stdout: '{}' }));
    await check(env, 31113, run);
    expect(run.calls).toEqual([{ file: 'docker-credential-k3sdevregtest', args: ['list'], timeoutMs: 30_000 }]);
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
