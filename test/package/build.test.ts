/**
 * The README's clone sequence (`npm ci && npm test`, then `npx k3s-devreg ...`): every script that
 * builds (`test`, `build`, `bench`, `test:e2e`) goes through `npm run build`, which re-creates dist/.
 * npm 10 (Node 20's own) runs the project's bin straight from dist/ through the shell, so a bin.cjs
 * without its execute bit fails with `sh: 1: k3s-devreg: Permission denied` (npm 11 happens to
 * chmod it itself). The build runs in a copy of the sources, so the repo's dist/ is left alone for
 * the tests that use it meanwhile.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIo } from '../helpers/io.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm run build in a clone', () => {
  it('leaves dist/bin.cjs executable, so the shell (and npx) can run it', () => {
    const clone = join(work, 'clone');
    for (const entry of ['package.json', 'tsconfig.json', 'rolldown.config.mjs', 'src']) cpSync(join(root, entry), join(clone, entry), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
    const bin = join(clone, 'dist', 'bin.cjs');
    const env = { ...process.env, npm_config_cache: join(work, 'npm-cache'), npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };
    const run = (file: string, args: string[]) => execFileSync(file, args, { cwd: clone, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    run('npm', ['run', 'build']);
    // The build starts from scratch: a bin.cjs left executable by an earlier build must not hide the bug.
    chmodSync(bin, 0o644);
    run('npm', ['run', 'build']);
    expect((statSync(bin).mode & 0o777).toString(8)).toBe('755');
    // What npm 10's npx does: put dist/ on PATH and let the shell run `k3s-devreg`.
    expect(run(bin, ['--help'])).toMatch(/^Usage: k3s-devreg <command>/m);
    expect(run('npx', ['k3s-devreg', '--help'])).toMatch(/^Usage: k3s-devreg <command>/m);
  }, 120_000);

  it('answers plain help and version from the built file exactly as the CLI would', async () => {
    const { runCli } = await import('../../src/cli.js');
    const built = join(root, 'dist', 'bin.cjs');
    for (const argv of [[], ['-h'], ['--help'], ['help'], ['--version'], ['-V']]) {
      const io = captureIo();
      const code = await runCli(argv, io);
      const child = spawnSync(process.execPath, [built, ...argv], { encoding: 'utf8' });
      expect({ argv, stdout: child.stdout, stderr: child.stderr, code: child.status }).toEqual({ argv, stdout: `${io.stdout.join('\n')}\n`, stderr: '', code });
    }
  });
});
