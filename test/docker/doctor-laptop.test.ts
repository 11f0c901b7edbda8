/**
 * doctor's laptop checks against what the real docker CLI writes and the real registry answers:
 * `docker login` into a temporary DOCKER_CONFIG is found (and matched with credentials.json),
 * `docker logout` and a password changed since (a re-render, as reset does) are each a failure
 * with how to log in again, and the port answers 401/200 over TLS trusted through the state CA.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/finding.js';
import { dockerLoginFinding, registryPortFinding } from '../../src/steps/doctor-laptop.js';
import { createRunner } from '../../src/tools/run.js';
import { DoctorNodeBed } from '../helpers/doctor-node-bed.js';
import { docker, dockerAvailable } from '../helpers/docker.js';

const bed = new DoctorNodeBed();
const config = mkdtempSync(join(tmpdir(), 'k3s-devreg-doctor-docker-config-'));
const env = { DOCKER_CONFIG: config };
const seen: Finding[] = [];
const run = createRunner();

async function login(stateDir = bed.stateDir): Promise<Finding> {
  const finding = await dockerLoginFinding({ run, name: 'devreg', stateDir, env, port: bed.port });
  seen.push(finding);
  return finding;
}

describe.skipIf(!dockerAvailable)('doctor on this machine (the real docker CLI and registry)', () => {
  beforeAll(async () => {
    await bed.setup();
  }, 120_000);
  afterAll(() => {
    bed.teardown();
    rmSync(config, { recursive: true, force: true });
    expect(JSON.stringify(seen)).not.toContain(bed.password);
  });

  it('after docker login: logged in as the saved user, and the port answers as our registry', async () => {
    docker(['--config', config, 'login', `localhost:${bed.port}`, '--username', 'team-user', '--password-stdin'], bed.password);
    expect(await login()).toMatchObject({ check: 'docker login', where: 'laptop', status: 'ok', summary: `docker is logged in to localhost:${bed.port} as team-user` });
    const findings = [await login(), await registryPortFinding({ stateDir: bed.stateDir, port: bed.port, running: true, why: '' })];
    seen.push(...findings);
    expect(findings.map((f) => [f.check, f.status, f.summary])).toEqual([
      ['docker login', 'ok', `docker is logged in to localhost:${bed.port} as team-user`],
      ['registry port', 'ok', `https://localhost:${bed.port}/v2/ answers 401 without and 200 with the credentials`],
    ]);
  });

  it('a password changed since docker logged in (a reset) is a failure naming neither password', async () => {
    const copy = bed.copyState('new-password');
    await bed.rerender(copy, `another ${bed.suffix} password`);
    const finding = await login(copy);
    expect(finding).toMatchObject({ status: 'fail', summary: `docker's saved password for localhost:${bed.port} is not the one in credentials.json (a reset or a new password since the last login)` });
    expect(JSON.stringify(finding)).not.toContain(`another ${bed.suffix} password`);
  });

  it('after docker logout: not logged in, with how to log in', async () => {
    docker(['--config', config, 'logout', `localhost:${bed.port}`]);
    const finding = await login();
    expect(finding).toMatchObject({ status: 'fail', summary: `docker is not logged in to localhost:${bed.port}: docker push to it is refused` });
    expect(finding.fix).toContain(`docker login localhost:${bed.port} --username team-user --password-stdin`);
  });
});
