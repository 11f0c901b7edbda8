// `npm run bench`: medians of whole-command wall times, beside bare node start-up.
// Targets (issue 2): --help within 2x of `node -e 0`; fresh render < 1 s; re-render < 0.5 s.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 11);
const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-bench-'));
const env = { ...process.env, K3S_DEVREG_HOME: join(work, 'home'), CI: 'true' };

function time(args, prepare = () => {}, extraEnv = {}) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    prepare(i);
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const results = [];
const node = time(['-e', '0']);
results.push(['node -e 0', node, '']);
const help = time([bin, '--help']);
results.push(['k3s-devreg --help', help, `target <= ${(2 * node).toFixed(0)} ms (2x node)`, help <= 2 * node]);
const fresh = time([bin, 'render', '--yes', '--dir', join(work, 'fresh')], () => rmSync(join(work, 'fresh'), { recursive: true, force: true }));
results.push(['render (fresh folder)', fresh, 'target < 1000 ms', fresh < 1000]);
time([bin, 'render', '--yes', '--dir', join(work, 'again')]);
const again = time([bin, 'render', '--yes', '--dir', join(work, 'again')]);
results.push(['render (again, nothing changes)', again, 'target < 500 ms', again < 500]);

for (const extra of (await import('./bench-extra.mjs').catch(() => ({ default: [] }))).default) {
  const extraEnv = extra.env ? extra.env(work) : {};
  if (extra.warmUp) time(extra.args(bin, work), undefined, extraEnv);
  const ms = time(extra.args(bin, work), () => extra.prepare?.(work), extraEnv);
  const note = extra.note ? ` ${extra.note(work)}` : '';
  results.push([extra.name, ms, `${extra.target ?? ''}${note}`, extra.ok ? extra.ok(ms, node) : undefined]);
}

console.log(`medians of ${runs} runs on this machine (node ${process.version}):`);
for (const [name, ms, target, ok] of results) {
  const verdict = ok === undefined ? '' : ok ? '  ok' : '  MISSED';
  console.log(`  ${name.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms  ${target}${verdict}`);
}
rmSync(work, { recursive: true, force: true });
