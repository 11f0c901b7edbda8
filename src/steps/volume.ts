/**
 * The docker volume holding the registry's data, mounted into every node. Created (labelled as
 * ours) before the cluster, so k3d does not create an unlabelled one; kept by `down`; removed by
 * `reset`, and only when it carries our labels.
 */
import { UserError } from '../errors.js';
import { CLUSTER_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, registryVolumeName } from '../spec.js';
import { createVolume, inspectVolume, removeVolume, type VolumeInfo } from '../tools/docker.js';
import type { Runner } from '../tools/run.js';

export const volumeLabels = (cluster: string): Record<string, string> => ({
  [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
  [CLUSTER_LABEL]: cluster,
});

const isOurVolume = (volume: VolumeInfo, cluster: string) =>
  volume.labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && volume.labels[CLUSTER_LABEL] === cluster;

export async function ensureRegistryVolume(run: Runner, cluster: string): Promise<'created' | 'exists'> {
  const name = registryVolumeName(cluster);
  const volume = await inspectVolume(run, name);
  if (volume) {
    if (!isOurVolume(volume, cluster)) {
      throw new UserError(
        `a docker volume named ${name} exists but was not created by k3s-devreg`,
        `rename or remove it (docker volume rm ${name}) if it is not needed, or choose another cluster name with --name`,
      );
    }
    return 'exists';
  }
  await createVolume(run, name, volumeLabels(cluster));
  return 'created';
}

/** Removes the volume when it is ours; leaves anything else alone and says so. */
export async function removeRegistryVolume(run: Runner, cluster: string): Promise<'removed' | 'absent' | 'not ours'> {
  const name = registryVolumeName(cluster);
  const volume = await inspectVolume(run, name);
  if (!volume) return 'absent';
  if (!isOurVolume(volume, cluster)) return 'not ours';
  await removeVolume(run, name);
  return 'removed';
}
