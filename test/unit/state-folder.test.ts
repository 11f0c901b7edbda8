/**
 * The state folder as a user meets it: never committed by accident (real git), nothing left by a
 * failed write (real failing writes, as root too), damaged files named with the repair.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { UserError } from '../../src/errors.js';
import type { ClusterSpec } from '../../src/spec.js';
import { STATE_GITIGNORE, renderState, type RenderRequest } from '../../src/steps/render-state.js';
import { writeFiles } from '../../src/state/write-files.js';
import { createRunner } from '../../src/tools/run.js';
import { captureIo } from '../helpers/io.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'k3s-devreg-state-'));

function request(stateDir: string): RenderRequest {
  const spec: ClusterSpec = {
    name: 'devreg', agents: 1, hostPort: 31113, username: 'devreg',
    registryImage: 'registry:2.8.3', hostsImage: 'busybox:1.36.1', k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir,
  };
  return { spec, strict: true, runner: createRunner(), env: {} };
}

function gitRepo(): string {
  const repo = fresh();
  execFileSync('git', ['init', '-q', repo]);
  return repo;
}
const gitStatus = (repo: string) => execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=all', '--ignored=no'], { encoding: 'utf8' });

describe('a state folder inside a git work tree', () => {
  it('K3S_DEVREG_HOME inside a repository: render writes everything and git status shows nothing', async () => {
    const repo = gitRepo();
    writeFileSync(join(repo, 'app.txt'), 'tracked later\n');
    const io = captureIo({ env: { K3S_DEVREG_HOME: join(repo, '.k3s-devreg') }, cwd: repo });
    expect(await runCli(['render', '--yes'], io)).toBe(0);
    expect(existsSync(join(repo, '.k3s-devreg', 'devreg', 'pki', 'ca.key'))).toBe(true);
    // Only the user's own file: no key, no credentials, no folder of ours.
    expect(gitStatus(repo)).toBe('?? app.txt\n');
    // Even `git add -A` picks nothing of ours.
    execFileSync('git', ['-C', repo, 'add', '-A']);
    expect(execFileSync('git', ['-C', repo, 'diff', '--cached', '--name-only'], { encoding: 'utf8' })).toBe('app.txt\n');
  });

  it('render --dir into a repository: the same; the .gitignore is only at the top (node/, which k3d mounts, has none)', async () => {
    const repo = gitRepo();
    const io = captureIo({ env: { K3S_DEVREG_HOME: fresh() }, cwd: repo });
    expect(await runCli(['render', '--yes', '--dir', 'out/state'], io)).toBe(0);
    expect(gitStatus(repo)).toBe('');
    expect(readFileSync(join(repo, 'out/state/.gitignore'), 'utf8')).toBe(STATE_GITIGNORE);
    expect(readdirSync(join(repo, 'out/state/node')).sort()).toEqual(['ca.crt', 'registries.yaml']);
  });

  it('refuses to render into a folder with a .gitignore of its own, and writes nothing there', async () => {
    const repo = gitRepo();
    writeFileSync(join(repo, '.gitignore'), 'node_modules/\n');
    const io = captureIo({ env: { K3S_DEVREG_HOME: fresh() }, cwd: repo });
    expect(await runCli(['render', '--yes', '--dir', '.'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/\.gitignore exists and is not ours.*--dir .*k3s-devreg-state/);
    expect(readdirSync(repo).sort()).toEqual(['.git', '.gitignore']);
    expect(readFileSync(join(repo, '.gitignore'), 'utf8')).toBe('node_modules/\n');
  });
});

describe('a failed write leaves nothing behind', () => {
  it('a manifests/ that cannot be a folder: no empty node/, auth/ or pki/ left (a file where the folder goes fails as root too)', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'manifests'), 'not a folder');
    await expect(renderState(request(dir))).rejects.toThrow(/cannot write .*manifests.*ENOTDIR/);
    expect(readdirSync(dir)).toEqual(['manifests']);
  });

  it('a state folder that did not exist is gone again, parents it made too', async () => {
    const parent = fresh();
    const dir = join(parent, 'new', 'state');
    // a/x is staged, then a/x/y needs a/x as a folder: the rename of a/x fails (EISDIR), for root as well.
    await expect(
      writeFiles(dir, [
        { path: 'a/x', content: 'file\n', mode: 0o644 },
        { path: 'a/x/y', content: 'file\n', mode: 0o600 },
      ]),
    ).rejects.toBeInstanceOf(UserError);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('keeps folders that were there before, and what is in them', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'keep'));
    writeFileSync(join(dir, 'keep', 'mine'), 'user file');
    await expect(
      writeFiles(dir, [
        { path: 'keep/new/x', content: 'x', mode: 0o644 },
        { path: 'keep/new/x/y', content: 'y', mode: 0o644 },
      ]),
    ).rejects.toBeInstanceOf(UserError);
    expect(readdirSync(dir)).toEqual(['keep']);
    expect(readdirSync(join(dir, 'keep'))).toEqual(['mine']);
  });
});

describe('damaged state files are named, with the repair', () => {
  it.each([
    ['an empty password', '{"username": "devreg", "password": ""}', /credentials\.json\) is empty/],
    ['a username with a colon', '{"username": "a:b", "password": "long-enough-1"}', /invalid registry username "a:b" \(username in .*credentials\.json\)/],
    ['broken JSON', '{"username": ', /credentials\.json is not a valid credentials file/],
  ])('credentials.json with %s', async (_what, text, problem) => {
    const home = fresh();
    mkdirSync(join(home, 'devreg'));
    const path = join(home, 'devreg', 'credentials.json');
    writeFileSync(path, text, { mode: 0o600 });
    const io = captureIo({ env: { K3S_DEVREG_HOME: home } });
    expect(await runCli(['render', '--yes'], io)).toBe(2);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toMatch(problem);
    expect(io.stderr[0]).toContain(`repair it (JSON: {"username": "...", "password": "..."}), or delete ${path} to get a new password`);
    expect(io.stderr[0]).toContain('k3s-devreg reset');
    expect(io.stderr[0]).not.toContain('give a non-empty password');
  });

  it('settings.json with a bad value names the file and the field', async () => {
    const home = fresh();
    mkdirSync(join(home, 'devreg'));
    const path = join(home, 'devreg', 'settings.json');
    writeFileSync(path, '{"agents": 12}');
    const io = captureIo({ env: { K3S_DEVREG_HOME: home } });
    expect(await runCli(['render', '--yes'], io)).toBe(2);
    expect(io.stderr[0]).toBe(`error: invalid number of agents 12 (agents in ${path}): set agents in ${path} to a whole number from 0 to 9, or delete ${path} to use the defaults again`);
    writeFileSync(path, '{"agents": ');
    const broken = captureIo({ env: { K3S_DEVREG_HOME: home } });
    expect(await runCli(['render', '--yes'], broken)).toBe(2);
    expect(broken.stderr[0]).toMatch(/settings\.json is not valid JSON: repair it, or delete .*settings\.json/);
  });
});

describe('re-running keeps every saved answer', () => {
  it('render with alice and 2 agents, then render --yes: the same answers, the same files', async () => {
    const home = fresh();
    const env = { K3S_DEVREG_HOME: home };
    const first = captureIo({ env });
    expect(await runCli(['render', '--yes', '--username', 'alice', '--agents', '2', '--port', '5001', '--hosts-image', 'mirror.local/busybox:1'], first)).toBe(0);
    const settings = join(home, 'devreg', 'settings.json');
    expect(JSON.parse(readFileSync(settings, 'utf8'))).toEqual({ name: 'devreg', agents: 2, username: 'alice', port: 5001, hostsImage: 'mirror.local/busybox:1' });
    expect(statSync(settings).mode & 0o777).toBe(0o644);
    const again = captureIo({ env });
    expect(await runCli(['render', '--yes'], again)).toBe(0);
    expect(again.stdout[0]).toContain('every file was already up to date');
    expect(again.stdout.join('\n')).toContain('Registry user alice;');
    // A flag still wins, and is saved as the new answer.
    expect(await runCli(['render', '--yes', '--agents', '0'], captureIo({ env }))).toBe(0);
    expect(JSON.parse(readFileSync(settings, 'utf8')).agents).toBe(0);
    expect(readFileSync(join(home, 'devreg', 'k3d-config.yaml'), 'utf8')).toMatch(/^agents: 0$/m);
  });
});
