/**
 * What `up` remembers between runs, so that a second run on a healthy setup changes nothing:
 * which registries.yaml the nodes were started with, which manifests were applied to which
 * cluster, and which setup was last verified. Lives in the state folder (no secret in it).
 */
import { statePath } from '../state/layout.js';
import { readIfExists, writeFileAtomic } from '../state/write-files.js';

export interface UpState {
  /** docker id of k3d-<name>-server-0: a new id means a new cluster. */
  clusterId?: string;
  /** sha256 of the registries.yaml the nodes' k3s last started with. */
  registriesSha256?: string;
  /** sha256 of cluster id + manifests last applied. */
  manifestsSha256?: string;
  verified?: { fingerprint: string; at: string };
  /** docker's State.StartedAt of each k3s node when up last ran: a later start lost the hosts line. */
  nodesStartedAt?: Record<string, string>;
  /** Set just before `k3d cluster create`, cleared once it succeeded: a cluster found while it is set is a leftover of an interrupted create. */
  creating?: boolean;
}

export async function readUpState(stateDir: string): Promise<UpState> {
  const text = await readIfExists(statePath(stateDir, 'upState'));
  if (!text) return {};
  try {
    const value = JSON.parse(text) as UpState;
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    // A damaged bookkeeping file only costs a re-apply and a re-verify.
    return {};
  }
}

/** Fields to change; a field set to undefined is removed. */
export type UpStatePatch = { [K in keyof UpState]?: UpState[K] | undefined };

/** The one way `up` changes up-state.json: the patch over what was saved, written at once. */
export async function saveUpState(stateDir: string, state: UpState, patch: UpStatePatch): Promise<UpState> {
  const next: Record<string, unknown> = { ...state, ...patch };
  for (const [key, value] of Object.entries(next)) if (value === undefined) delete next[key];
  await writeUpState(stateDir, next as UpState);
  return next as UpState;
}

export async function writeUpState(stateDir: string, state: UpState): Promise<void> {
  // 0600: the hashes cover files that hold the password; a weak password could be guessed offline from them.
  await writeFileAtomic(statePath(stateDir, 'upState'), `${JSON.stringify(state, null, 2)}\n`, 0o600);
}
