/**
 * Which cluster a command acts on, for commands that do not take the full set of cluster options
 * (down, status, verify): --name, else the team config file's name, else the default; and its state folder.
 */
import { loadConfigFile } from '../config-file.js';
import type { Io } from '../io.js';
import { DEFAULT_CLUSTER_NAME, validateClusterName } from '../spec.js';
import { defaultStateDir, validateStateDir } from '../state/layout.js';

export interface Target {
  name: string;
  stateDir: string;
}

/** --name and --config as given. */
export interface TargetFlags {
  name?: string;
  config?: string;
}

export async function resolveTarget(flags: TargetFlags, io: Io): Promise<Target> {
  const team = flags.name === undefined ? (await loadConfigFile(flags.config, io.cwd)).config : {};
  return targetOf(flags.name ?? team.name, io.env);
}

/** The cluster a name (or none: the default) means, and its state folder. */
export function targetOf(name: string | undefined, env: NodeJS.ProcessEnv): Target {
  const valid = validateClusterName(name ?? DEFAULT_CLUSTER_NAME);
  return { name: valid, stateDir: validateStateDir(defaultStateDir(valid, env)) };
}
