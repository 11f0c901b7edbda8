/**
 * A KUBECONFIG that lists two files, with the real kubectl: a context in the first file is found,
 * new entries land in the first file (why `up` writes there), and removing the context edits only
 * the file that holds it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureKubeContext, kubeconfigTarget, removeKubeContext } from '../../src/steps/kubeconfig.js';
import { createRunner, type Runner } from '../../src/tools/run.js';
import { requireTool } from '../helpers/tools.js';

const kubectlAvailable = requireTool(spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0, 'kubectl', 'install kubectl');
const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-kubeconfig-'));
const [first, second] = [join(dir, 'first.yaml'), join(dir, 'second.yaml')];
const env = { KUBECONFIG: [first, second].join(delimiter) };
const real = createRunner();
/** The real runner, with the test's KUBECONFIG (the CLI's children inherit the user's). */
const run: Runner = (file, args, options = {}) => real(file, args, { ...options, env: { ...options.env, ...env } });
const kubectl = (...args: string[]) => spawnSync('kubectl', args, { encoding: 'utf8', env: { ...process.env, ...env } });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!kubectlAvailable)('a KUBECONFIG of two files, with the real kubectl', () => {
  it('kubectl writes a new entry into the first file, which is where up writes the context', () => {
    writeFileSync(first, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    writeFileSync(second, 'apiVersion: v1\nkind: Config\ncurrent-context: work\nclusters: [{name: work, cluster: {server: "https://10.0.0.1:6443"}}]\ncontexts: [{name: work, context: {cluster: work, user: work}}]\nusers: [{name: work, user: {token: t}}]\n');
    expect(kubectl('config', 'set-context', 'probe', '--cluster=x').status).toBe(0);
    expect(readFileSync(first, 'utf8')).toContain('probe');
    expect(readFileSync(second, 'utf8')).not.toContain('probe');
    expect(kubeconfigTarget(env)).toBe(first);
    expect(kubectl('config', 'delete-context', 'probe').status).toBe(0);
  });

  it('finds the context k3d merged into the first file, and after down removes it from there only', async () => {
    // What `k3d kubeconfig merge devreg --output FIRST --kubeconfig-switch-context=true` leaves.
    for (const args of [
      ['config', 'set-cluster', 'k3d-devreg', '--server=https://127.0.0.1:41234', `--kubeconfig=${first}`],
      ['config', 'set-credentials', 'admin@k3d-devreg', '--token=abc', `--kubeconfig=${first}`],
      ['config', 'set-context', 'k3d-devreg', '--cluster=k3d-devreg', '--user=admin@k3d-devreg', `--kubeconfig=${first}`],
      ['config', 'use-context', 'k3d-devreg'],
    ]) {
      expect(kubectl(...args).status).toBe(0);
    }
    const secondBefore = readFileSync(second, 'utf8');
    // Found with nothing to do: no k3d call is needed (the stand-in would fail if one were made).
    expect(await ensureKubeContext(run, 'devreg', env)).toEqual({ context: 'k3d-devreg', current: 'k3d-devreg', restored: false });
    expect(await removeKubeContext(run, 'devreg', env)).toBe(true);
    const firstAfter = readFileSync(first, 'utf8');
    expect(firstAfter).not.toContain('k3d-devreg');
    expect(readFileSync(second, 'utf8')).toBe(secondBefore);
    expect(kubectl('config', 'get-contexts', '--output', 'name').stdout.trim()).toBe('work');
    // Removing again finds nothing to remove.
    expect(await removeKubeContext(run, 'devreg', env)).toBe(false);
  });
});
