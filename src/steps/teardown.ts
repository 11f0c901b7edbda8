/**
 * `down` and `reset`: delete only what carries our labels. `down` keeps the state folder and the
 * registry volume; `reset` removes both after confirmation.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { UserError } from '../errors.js';
import { confirm, type Ask } from '../ask.js';
import type { Step } from '../progress.js';
import { STATE_FILES } from '../state/layout.js';
import { isOurCache } from '../cache/spec.js';
import { CLUSTER_LABEL, clusterNetwork, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../spec.js';
import { inspectContainers } from '../tools/docker.js';
import { disconnectNetwork, inspectNetwork, removeNetwork, type NetworkInfo } from '../tools/docker-networks.js';
import { deleteCluster } from '../tools/k3d.js';
import type { Runner } from '../tools/run.js';
import { removeKubeContext } from './kubeconfig.js';
import { checkDocker, checkK3d, inspectCluster, refuseForeign } from './preflight.js';

/** Deletes the cluster when it exists and is ours; a missing cluster is not an error. */
export async function deleteOurCluster(run: Runner, name: string, env: NodeJS.ProcessEnv, kept: string[] = []): Promise<'deleted' | 'absent'> {
  const facts = await inspectCluster(run, name);
  if (!facts.cluster) {
    await releaseClusterNetwork(run, name);
    return 'absent';
  }
  refuseForeign(facts);
  // The cache leaves first: k3d cannot remove a network it made while another container is on it.
  const network = await inspectNetwork(run, clusterNetwork(name));
  if (network) kept.push(...(await detachCaches(run, network)));
  await deleteCluster(run, name);
  await removeKubeContext(run, name, env);
  await releaseClusterNetwork(run, name);
  return 'deleted';
}

/** Takes our cache containers off the network; returns their names. */
async function detachCaches(run: Runner, network: NetworkInfo): Promise<string[]> {
  const caches = await inspectContainers(run, network.containers);
  const ours = [...caches.values()].filter((c) => isOurCache(c.labels));
  await Promise.all(ours.map((c) => disconnectNetwork(run, network.name, c.name)));
  return ours.map((c) => c.name);
}

/** The network up made for the cache (k3d joined it, so k3d leaves it): removed once nothing but our caches is on it. */
async function releaseClusterNetwork(run: Runner, name: string): Promise<void> {
  const network = await inspectNetwork(run, clusterNetwork(name));
  if (!network || network.labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE || network.labels[CLUSTER_LABEL] !== name) return;
  await detachCaches(run, network);
  await removeNetwork(run, network.name);
}

/** The steps `down` and `reset` share: check docker and k3d, then delete the cluster if it is ours. */
export function deleteClusterSteps(run: Runner, name: string, env: NodeJS.ProcessEnv, outcome: { result: 'deleted' | 'absent' }): Step<unknown>[] {
  return [
    {
      title: 'Checking docker and k3d',
      readOnly: true,
      run: async () => {
        await checkDocker(run);
        await checkK3d(run);
      },
    },
    {
      title: `Deleting the cluster ${name}`,
      run: async (_ctx, step) => {
        const kept: string[] = [];
        outcome.result = await deleteOurCluster(run, name, env, kept);
        step.title(outcome.result === 'deleted' ? `Deleted the cluster ${name}` : `No cluster named ${name}`);
        // Every cluster shares it: it outlives this one (cache rm is the way to remove it).
        if (kept.length > 0) step.note(`kept the pull-through cache (${kept.join(', ')}), which every cluster shares: k3s-devreg cache rm removes it`);
      },
    },
  ];
}

/** Asks before reset destroys anything; --yes answers for the user; without a terminal, --yes is required. */
export async function confirmReset(request: { name: string; stateDir: string; yes: boolean; canPrompt: boolean; ask?: Ask }): Promise<boolean> {
  if (request.yes) return true;
  if (!request.canPrompt || !request.ask) {
    throw new UserError(
      `reset deletes the cluster ${request.name}, its CA, credentials and pushed images, and needs confirmation`,
      'run it again with --yes',
    );
  }
  return confirm(request.ask, `Delete the cluster ${request.name}, ${request.stateDir} (CA, credentials) and every pushed image, then set up anew?`);
}

/**
 * Removes a state folder, but only one that is inside the state root and looks like ours
 * (it holds one of our files), so a mistyped path can never erase anything else. What holds no
 * secret stays: images/ (the next cluster's nodes import its archives instead of pulling them again),
 * settings.json (the answers the new setup is made with) and the .gitignore that keeps the folder out of git.
 */
const KEPT = new Set<string>([STATE_FILES.imagesDir, STATE_FILES.settings, STATE_FILES.gitignore]);

export async function removeStateDir(stateDir: string, root: string): Promise<'removed' | 'absent'> {
  const inside = relative(root, stateDir);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new UserError(`refusing to delete ${stateDir}: it is not inside ${root}`, `delete it yourself if you are sure`);
  }
  if (!(await exists(stateDir))) return 'absent';
  const entries = await readdir(stateDir);
  // What an earlier reset kept: nothing of ours is left to delete.
  if (entries.every((entry) => KEPT.has(entry))) return 'absent';
  const markers = [STATE_FILES.credentials, STATE_FILES.k3dConfig, STATE_FILES.caCert];
  const ours = await Promise.all(markers.map((m) => exists(`${stateDir}/${m}`)));
  if (!ours.some(Boolean)) {
    throw new UserError(`refusing to delete ${stateDir}: it holds none of k3s-devreg's files`, 'delete it yourself if you are sure');
  }
  await Promise.all(entries.filter((entry) => !KEPT.has(entry)).map((entry) => rm(join(stateDir, entry), { recursive: true, force: true })));
  return 'removed';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
