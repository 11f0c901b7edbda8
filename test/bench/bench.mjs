// `npm run bench`: medians of whole-command wall times, each as a ratio to a bare `node -e 0` measured
// in the same run. NODE_EXTRA_CA_CERTS is unset for every run: this machine sets it and it adds ~86 ms
// to each node start, which no user's laptop pays. Targets (issue 11): --help <= 1.4x, fresh render
// <= 5x, re-render <= 3x; a no-op `up` in <= 8 external calls and <= 5 serial groups.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../dist/bin.cjs', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 11);
const work = mkdtempSync(join(tmpdir(), 'k3s-devreg-bench-'));
const { NODE_EXTRA_CA_CERTS: _unset, ...baseEnv } = process.env;
const env = { ...baseEnv, K3S_DEVREG_HOME: join(work, 'home'), CI: 'true' };

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

const rows = [];
// Warm the file cache first: the first start of anything reads it from disk.
time(['-e', '0']);
const node = time(['-e', '0']);
rows.push({ name: 'node -e 0', ms: node, note: 'the baseline' });
const ratio = (name, ms, target) => rows.push({ name, ms, ratio: ms / node, target, ok: ms / node <= target });

ratio('k3s-devreg --help', time([bin, '--help']), 1.4);
const fresh = join(work, 'fresh');
ratio('render (fresh folder)', time([bin, 'render', '--yes', '--dir', fresh], () => rmSync(fresh, { recursive: true, force: true })), 5);
const again = join(work, 'again');
time([bin, 'render', '--yes', '--dir', again]);
ratio('render (again, nothing changes)', time([bin, 'render', '--yes', '--dir', again]), 3);

for (const extra of (await import('./bench-extra.mjs')).default) {
  const extraEnv = extra.env ? extra.env(work) : {};
  if (extra.warmUp) time(extra.args(bin, work), undefined, extraEnv);
  const ms = time(extra.args(bin, work), () => extra.prepare?.(work), extraEnv);
  const checks = extra.check ? extra.check(work) : [];
  rows.push({ name: extra.name, ms, ratio: ms / node, note: extra.note ?? '' });
  for (const c of checks) rows.push({ name: `  ${c.name}`, value: c.value, target: c.target, ok: c.value <= c.target, note: c.note ?? '' });
}

console.log(`medians of ${runs} runs on this machine (node ${process.version}, NODE_EXTRA_CA_CERTS unset):`);
for (const row of rows) {
  const measured = row.ms !== undefined ? `${row.ms.toFixed(1).padStart(8)} ms${row.ratio !== undefined ? ` ${row.ratio.toFixed(2).padStart(5)}x` : '       '}` : `${String(row.value).padStart(8)}         `;
  const target = row.target !== undefined ? `target <= ${row.target}${row.ms !== undefined ? 'x' : ''}` : '';
  const verdict = row.ok === undefined ? '' : row.ok ? '  ok' : '  MISSED';
  console.log(`  ${row.name.padEnd(34)} ${measured}  ${target}${verdict}${row.note ? `  ${row.note}` : ''}`);
}
rmSync(work, { recursive: true, force: true });
if (rows.some((row) => row.ok === false)) process.exitCode = 1;
