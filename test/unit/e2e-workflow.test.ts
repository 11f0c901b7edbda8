/**
 * The workflow that runs the real-k3d suites on GitHub (k3d cannot run here): it must install a k3d
 * that `up` accepts, run exactly the e2e script, and fit in its time budget.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MIN_K3D_VERSION } from '../../src/steps/preflight.js';

interface Workflow {
  jobs: Record<string, { 'timeout-minutes': number; env: Record<string, string>; steps: { run?: string; uses?: string }[] }>;
}
const workflow = parse(readFileSync(new URL('../../.github/workflows/e2e.yml', import.meta.url), 'utf8')) as Workflow;
const job = workflow.jobs.e2e!;
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
const numeric = (v: string) => v.replace(/^v/, '').split('.').map(Number);

describe('.github/workflows/e2e.yml', () => {
  it('installs a k3d that preflight accepts, and kubectl', () => {
    const [major, minor] = numeric(job.env.K3D_TAG!);
    const [minMajor, minMinor] = numeric(MIN_K3D_VERSION);
    expect(major).toBe(minMajor);
    expect(minor).toBeGreaterThanOrEqual(minMinor!);
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('TAG="${K3D_TAG}"');
    expect(runs).toContain('${KUBECTL_VERSION}/bin/linux/amd64/kubectl');
  });

  it('runs the e2e script after npm ci, within an hour', () => {
    const runs = job.steps.map((s) => s.run?.trim()).filter(Boolean);
    expect(runs.indexOf('npm ci')).toBeGreaterThanOrEqual(0);
    expect(runs.indexOf('npm run test:e2e')).toBeGreaterThan(runs.indexOf('npm ci'));
    expect(pkg.scripts['test:e2e']).toBe('npm run build && vitest run --config test/e2e/vitest.config.ts');
    expect(job['timeout-minutes']).toBeLessThanOrEqual(60);
  });
});
