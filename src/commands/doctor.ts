/** `doctor`: why a pull from our registry fails, as a table of findings or (--json) one object; exit 0 only when no finding fails. */
import type { CommandMain } from '../command-types.js';
import { parsePodRef } from '../doctor/pod-pull.js';
import { findingsTable } from '../doctor/table.js';
import { runDoctor } from '../steps/doctor.js';
import { resolveTarget } from '../steps/target.js';
import { isSet, targetFlags, text } from './inputs.js';

export const main: CommandMain = async ({ options }, io, deps) => {
  const podFlag = text(options, 'pod');
  // A malformed --pod is refused before anything runs.
  const pod = podFlag === undefined ? undefined : parsePodRef(podFlag);
  const { name, stateDir } = await resolveTarget(targetFlags(options), io);
  const run = deps.runner(isSet(options, 'verbose'));
  const report = await runDoctor({ run, name, stateDir, env: io.env, now: new Date(deps.clock.now()), ...(pod ? { pod } : {}), ...(deps.registryProbe ? { probe: deps.registryProbe } : {}) });
  const code = report.healthy ? 0 : 1;
  return isSet(options, 'json') ? { code, json: report } : { code, out: [findingsTable(report.cluster, report.findings)] };
};
