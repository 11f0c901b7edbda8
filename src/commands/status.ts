/** `status`: read-only health checks, as a table or (--json) one object; exit 0 only when healthy. */
import type { CommandMain } from '../command-types.js';
import { collectStatus, statusTable } from '../steps/status.js';
import { resolveTarget } from '../steps/target.js';
import { isSet, targetFlags } from './inputs.js';

export const main: CommandMain = async ({ options }, io, deps) => {
  const { name, stateDir } = await resolveTarget(targetFlags(options), io);
  const run = deps.runner(isSet(options, 'verbose'));
  const report = await collectStatus({ run, name, stateDir, now: new Date(deps.clock.now()), ...(deps.registryProbe ? { probe: deps.registryProbe } : {}) });
  const code = report.healthy ? 0 : 1;
  return isSet(options, 'json') ? { code, json: report } : { code, out: [statusTable(report)] };
};
