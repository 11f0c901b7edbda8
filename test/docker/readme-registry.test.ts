/**
 * The README's "Using the registry" shell lines, run as written (only the port differs) against the
 * real registry serving a rendered state folder in a stand-in $HOME: docker login with the saved
 * password on stdin, and curl asking the catalog with its credentials on stdin.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../src/cli.js';
import { forgetSecretsForTests } from '../../src/redact.js';
import { dockerAvailable } from '../helpers/docker.js';
import { captureIo } from '../helpers/io.js';
import { requireTool } from '../helpers/tools.js';
import { startRenderedRegistry } from '../helpers/registry-container.js';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const home = mkdtempSync(join(tmpdir(), 'k3s-devreg-readme-home-'));
const name = `k3s-devreg-test-readme-registry-${randomBytes(4).toString('hex')}`;

const curlAvailable = dockerAvailable && requireTool(spawnSync('curl', ['--version']).status === 0, 'curl', 'apt-get install curl');

describe.skipIf(!curlAvailable)("the README's registry commands", () => {
  afterAll(() => {
    spawnSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore' });
    rmSync(home, { recursive: true, force: true });
  });

  it('log docker in with the saved password and list the catalog with curl', async () => {
    forgetSecretsForTests();
    const io = captureIo({ cwd: home, env: { K3S_DEVREG_HOME: join(home, '.k3s-devreg') } });
    expect(await runCli(['render', '--yes'], io), io.all()).toBe(0);
    const state = join(home, '.k3s-devreg', 'devreg');
    const manifest = (file: string) => parse(readFileSync(join(state, 'manifests', file), 'utf8'));
    const port = await startRenderedRegistry({ name, dir: home, deployment: manifest('20-deployment.yaml'), secret: manifest('10-secret.yaml'), ca: readFileSync(join(state, 'pki', 'ca.crt'), 'utf8') });
    const block = readme.split('## Using the registry')[1]!.split('```sh\n')[2]!.split('```')[0]!;
    expect(block).toContain('docker login localhost:31113');
    mkdirSync(join(home, 'docker'));
    const run = spawnSync('sh', ['-c', block.replaceAll('31113', String(port))], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: home, DOCKER_CONFIG: join(home, 'docker') } });
    expect(run.stdout, run.stderr).toBe('Login Succeeded\n{"repositories":[]}\n');
    expect(run.status).toBe(0);
  }, 120_000);
});
