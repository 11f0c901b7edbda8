/**
 * docker commands over objects found by their labels (the pull-through cache shared by every
 * cluster): list containers and volumes carrying every given label, their disk use, remove them.
 */
import { DOCKER, ensureOk, parseJson } from './failure.js';
import { NOT_RUNNING_FIX } from './docker.js';
import type { Runner } from './run.js';

const QUICK_MS = 30_000;
// `system df -v` sizes every volume on the daemon: slower than a listing on a full disk.
const DF_MS = 120_000;

/** `--filter label=K=V` per label (`label=K` for an undefined value: any value); docker ANDs them. */
export function labelFilters(labels: Record<string, string | undefined>): string[] {
  return Object.entries(labels).flatMap(([key, value]) => ['--filter', value === undefined ? `label=${key}` : `label=${key}=${value}`]);
}

const lines = (stdout: string): string[] => stdout.split('\n').map((line) => line.trim()).filter(Boolean);

/** Names of the containers, running or not, that carry every one of these labels. */
export async function containersLabelled(run: Runner, labels: Record<string, string | undefined>): Promise<string[]> {
  const result = await run('docker', ['ps', '--all', ...labelFilters(labels), '--format', '{{.Names}}'], { timeoutMs: QUICK_MS });
  ensureOk(DOCKER, 'list the containers by label', result, NOT_RUNNING_FIX, QUICK_MS);
  return lines(result.stdout);
}

/** Names of the volumes that carry every one of these labels. */
export async function volumesLabelled(run: Runner, labels: Record<string, string | undefined>): Promise<string[]> {
  const result = await run('docker', ['volume', 'ls', '--quiet', ...labelFilters(labels)], { timeoutMs: QUICK_MS });
  ensureOk(DOCKER, 'list the volumes by label', result, NOT_RUNNING_FIX, QUICK_MS);
  return lines(result.stdout);
}

export interface VolumeUse {
  /** As docker words it, e.g. 1.234GB (decimal units). */
  size: string;
  /** The same, in bytes (docker rounds to 3 significant digits); undefined when docker could not size it. */
  bytes?: number;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** docker's human size (go-units HumanSize: decimal, `kB`) back to bytes. */
export function parseDockerSize(size: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([kMGTP]?B)$/.exec(size.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * 1000 ** UNITS.indexOf(match[2]!));
}

/** Disk used by each volume, by name (`docker system df --verbose`); docker sizes only local volumes. */
export async function volumeDiskUse(run: Runner): Promise<Map<string, VolumeUse>> {
  const action = 'measure the disk used by volumes';
  const result = await run('docker', ['system', 'df', '--verbose', '--format', '{{json .Volumes}}'], { timeoutMs: DF_MS });
  ensureOk(DOCKER, action, result, NOT_RUNNING_FIX, DF_MS);
  const raw = parseJson<{ Name?: string; Size?: string }[] | null>(DOCKER, action, result.stdout.trim() || '[]') ?? [];
  const use = new Map<string, VolumeUse>();
  for (const volume of raw) {
    if (!volume.Name) continue;
    const size = volume.Size ?? 'N/A';
    const bytes = parseDockerSize(size);
    use.set(volume.Name, bytes === undefined ? { size } : { size, bytes });
  }
  return use;
}

/**
 * One `docker rm --force A B ...` (stopped first when running); ones already gone are fine.
 * `volumes`: their anonymous volumes go too (a throwaway container's).
 */
export async function removeContainers(run: Runner, names: readonly string[], options: { volumes?: boolean } = {}): Promise<void> {
  if (names.length === 0) return;
  const result = await run('docker', ['rm', '--force', ...(options.volumes ? ['--volumes'] : []), ...names], { timeoutMs: QUICK_MS });
  const other = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/no such container/i.test(line));
  if (result.exitCode !== 0 && !result.notFound && !result.timedOut && other.length === 0) return;
  ensureOk(DOCKER, `remove the container${names.length > 1 ? 's' : ''} ${names.join(', ')}`, result, NOT_RUNNING_FIX, QUICK_MS);
}
