/**
 * The package as a user gets it: `npm pack`, then `npx ./k3s-devreg-*.tgz` in an empty folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('packed tarball', () => {
  it('runs --help, --version and render through npx in an empty folder', () => {
    execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: root, stdio: 'pipe' });
    const { version } = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: root, encoding: 'utf8' }));
    const tarball = `k3s-devreg-${version}.tgz`;
    expect(readdirSync(work)).toEqual([tarball]);
    // What the commands read at run time beyond dist/: the node scripts, the k3d schema (up), the example (verify).
    const packed = execFileSync('tar', ['-tzf', join(work, tarball)], { encoding: 'utf8' }).split('\n');
    for (const file of ['dist/bin.cjs', 'assets/hosts-inject.sh', 'assets/registries-writer.sh', 'assets/schemas/k3d-v1alpha5.schema.json', 'example/Dockerfile', 'example/pod.yaml']) {
      expect(packed, file).toContain(`package/${file}`);
    }
    expect(packed.filter((f) => f.startsWith('package/test/') || f.startsWith('package/src/'))).toEqual([]);
    // npm fixes a bin's mode when it installs one; an unpacked tarball (or another installer) may not.
    expect(execFileSync('tar', ['-tvzf', join(work, tarball), 'package/dist/bin.cjs'], { encoding: 'utf8' })).toMatch(/^-rwxr-xr-x /);
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
    expect(npx(['--version']).trim()).toBe(version);
    const state = join(work, 'state');
    const files = JSON.parse(npx(['render', '--yes', '--json', '--dir', state])) as Record<string, string | string[]>;
    expect(Object.keys(files).sort()).toEqual(['caCert', 'caKey', 'credentials', 'gitignore', 'htpasswd', 'k3dConfig', 'manifests', 'nodeCaCert', 'registriesYaml', 'renderStamp', 'settings', 'tlsCert', 'tlsKey']);
    // Written where it says, into --dir, with the hosts script from the package's assets/ in its ConfigMap.
    for (const path of Object.values(files).flat()) expect(statSync(path).isFile() && path.startsWith(`${state}/`), path).toBe(true);
    expect(files.manifests).toHaveLength(7);
    const script = readFileSync(join(root, 'assets', 'hosts-inject.sh'), 'utf8');
    expect(parse(readFileSync(join(state, 'manifests', '40-hosts-script.yaml'), 'utf8')).data['hosts-inject.sh']).toBe(script);
  }, 240_000);
});
