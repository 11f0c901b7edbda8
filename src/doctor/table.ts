/** doctor's findings as a table for people: one line each, the evidence and fix under each one that is not ok. */
import type { Finding, FindingStatus } from './finding.js';

const MARK: Record<FindingStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function findingsTable(cluster: string, findings: readonly Finding[]): string {
  const checkWidth = Math.max(5, ...findings.map((f) => f.check.length));
  const whereWidth = Math.max(5, ...findings.map((f) => f.where.length));
  const indent = ' '.repeat(checkWidth + whereWidth + 12);
  const lines = [`${'CHECK'.padEnd(checkWidth)}  ${'WHERE'.padEnd(whereWidth)}  STATUS  FINDING`];
  for (const f of findings) {
    lines.push(`${f.check.padEnd(checkWidth)}  ${f.where.padEnd(whereWidth)}  ${MARK[f.status].padEnd(6)}  ${f.summary}`);
    if (f.status === 'ok' || f.status === 'skip') continue;
    if (f.evidence) lines.push(`${indent}evidence: ${f.evidence}`);
    if (f.fix) lines.push(`${indent}fix: ${f.fix}`);
  }
  const failed = findings.filter((f) => f.status === 'fail').length;
  const warned = findings.filter((f) => f.status === 'warn').length;
  lines.push('');
  lines.push(
    failed === 0
      ? `no problem found: cluster ${cluster}${warned > 0 ? ` (${warned} warning(s))` : ''}`
      : `${failed} problem(s) found: cluster ${cluster}; the fixes are under each FAIL line`,
  );
  return lines.join('\n');
}
