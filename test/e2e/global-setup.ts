/**
 * Once per e2e run: a records file every test file appends to (images.ts), and at the end the report
 * of what was pulled and the timing, on the terminal and, on GitHub, in the job summary.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { preparedImages, readRecords, summarize } from './images.js';

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

/** Images docker has now and had not once prepare-images.sh was done: pulled (or built) during the run. */
function newDockerImages(prepared: string): string {
  const before = new Set(lines(join(prepared, 'docker-images.txt')));
  const now = spawnSync('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' });
  if (now.status !== 0) return 'docker image ls failed';
  const added = [...new Set(now.stdout.split('\n').filter(Boolean))].filter((i) => !before.has(i) && !i.includes('<none>') && !/^(localhost|127\.)/.test(i));
  return added.length === 0 ? 'none' : added.join(' ');
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-e2e-report-'));
  const file = join(dir, 'records.jsonl');
  writeFileSync(file, '');
  project.provide('e2eReport', file);
  return () => {
    const prepared = preparedImages();
    const text = [
      summarize({
        records: readRecords(file),
        preloaded: prepared ? lines(join(prepared, 'preloaded.txt')) : [],
        preparePulls: prepared ? lines(join(prepared, 'pulls.txt')) : [],
      }),
      prepared
        ? `New docker images on this machine since prepare-images.sh (pulled or built): ${newDockerImages(prepared)}`
        : 'K3S_DEVREG_E2E_IMAGES was not set: nothing was preloaded, so every image above was pulled.',
    ].join('\n');
    console.log(`\n${text}\n`);
    if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, `\n\`\`\`\n${text}\n\`\`\`\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
