/**
 * The package as a user gets it: `npm pack`, then `npx ./k3s-devreg-*.tgz` in an empty folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('packed tarball', () => {
  it('runs --help, --version and render through npx in an empty folder', () => {
    execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: root, stdio: 'pipe' });
    const tarball = readdirSync(work).find((f) => f.startsWith('k3s-devreg-') && f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const empty = join(work, 'empty');
    execFileSync('mkdir', ['-p', empty]);
    const npx = (args: string[]) =>
      execFileSync('npx', ['--yes', `../${tarball}`, ...args], {
        cwd: empty,
        encoding: 'utf8',
        env: { ...process.env, K3S_DEVREG_HOME: join(work, 'home'), npm_config_cache: join(work, 'npm-cache'), npm_config_prefer_offline: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    expect(npx(['--help'])).toMatch(/Commands:[\s\S]*\bup\b[\s\S]*\brender\b/);
    const { version } = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: root, encoding: 'utf8' }));
    expect(npx(['--version']).trim()).toBe(version);
    const files = JSON.parse(npx(['render', '--yes', '--json', '--dir', join(work, 'state')])) as Record<string, unknown>;
    expect(Object.keys(files).sort()).toEqual(['caCert', 'htpasswd', 'k3dConfig', 'manifests', 'registriesYaml', 'tlsCert', 'tlsKey']);
  }, 240_000);
});
