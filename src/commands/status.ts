/** `status`: read-only health checks, as a table or (--json) one object; exit 0 only when healthy. */
import type { CommandMain, ParsedOptions } from '../command-types.js';
import type { Io } from '../io.js';
import { collectStatus, statusTable, type StatusRequest } from '../steps/status.js';
import { resolveTarget } from '../steps/target.js';
import { createRunner, type Runner } from '../tools/run.js';

export async function runStatus(parsed: ParsedOptions, io: Io, deps: { run: Runner; now: Date; probe?: StatusRequest['probe'] }): Promise<number> {
  const { name, stateDir } = await resolveTarget(parsed, io);
  const report = await collectStatus({ run: deps.run, name, stateDir, now: deps.now, ...(deps.probe ? { probe: deps.probe } : {}) });
  io.out(parsed.json === true ? JSON.stringify(report, null, 2) : statusTable(report));
  return report.healthy ? 0 : 1;
}

export const main: CommandMain = async (options, _positionals, io) => {
  const run = createRunner(options.verbose === true ? (line) => io.err(line) : undefined);
  return runStatus(options, io, { run, now: new Date() });
};
