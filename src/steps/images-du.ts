/**
 * Disk used by a cluster's registry volume (`images du`, `status`, and `images prune` before and
 * after): docker sizes it, with the rest of its volumes, in `docker system df --verbose`.
 */
import { isKnownError } from '../errors.js';
import { registryVolumeName } from '../spec.js';
import { volumeDiskUse, type VolumeUse } from '../tools/docker-labelled.js';
import type { Runner } from '../tools/run.js';

export interface RegistryVolumeUse extends VolumeUse {
  name: string;
}

/** undefined when docker does not list the volume (not created yet, or removed by reset). */
export async function registryVolumeUse(run: Runner, cluster: string): Promise<RegistryVolumeUse | undefined> {
  const name = registryVolumeName(cluster);
  const use = (await volumeDiskUse(run)).get(name);
  return use && { name, ...use };
}

/** The same, as information only: undefined too when docker fails to answer (busy, or gone). */
export function registryVolumeUseIfKnown(run: Runner, cluster: string): Promise<RegistryVolumeUse | undefined> {
  return registryVolumeUse(run, cluster).catch((error: unknown) => (isKnownError(error) ? undefined : Promise.reject(error)));
}
