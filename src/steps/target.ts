/**
 * Which cluster a command acts on, for commands that do not take the full set of cluster options
 * (down, status, verify): --name, else the team config file's name, else the default; and its state folder.
 */
import type { ParsedOptions } from '../command-types.js';
import { loadConfigFile } from '../config-file.js';
import type { Io } from '../io.js';
import { DEFAULT_CLUSTER_NAME, validateClusterName } from '../spec.js';
import { defaultStateDir, validateStateDir } from '../state/layout.js';

export interface Target {
  name: string;
  stateDir: string;
}

export async function resolveTarget(parsed: ParsedOptions, io: Io): Promise<Target> {
  const flag = typeof parsed.name === 'string' ? parsed.name : undefined;
  const team = flag === undefined ? (await loadConfigFile(typeof parsed.config === 'string' ? parsed.config : undefined, io.cwd)).config : {};
  const name = validateClusterName(flag ?? team.name ?? DEFAULT_CLUSTER_NAME);
  return { name, stateDir: validateStateDir(defaultStateDir(name, io.env)) };
}
