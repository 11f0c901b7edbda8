/**
 * `images prune --keep N`: delete all but the newest N tags of each repository through the
 * registry's API, then its garbage collection in a read-only window (images-maintenance.ts), and
 * the volume's disk use before and after. A registry left read-only by an interrupted prune is
 * made writable first, whatever the user then answers.
 */
import { describePrune, orderNote, planPrune, PRUNE_ORDER, removedTags, type RepositoryPrune } from '../images/prune-plan.js';
import { canDeleteUntagged, type GcSummary } from '../images/registry-gc.js';
import type { RepositoryInfo } from '../images/registry-catalog.js';
import type { Runner } from '../tools/run.js';
import { registryVolumeUseIfKnown } from './images-du.js';
import { collectGarbage, isReadOnly, makeWritable } from './images-maintenance.js';
import { listImages, type RegistryTarget } from './images-registry.js';
import { deleteRemovals, type Confirm } from './images-remove.js';

export interface PruneRequest {
  run: Runner;
  target: RegistryTarget;
  keep: number;
  confirm: Confirm;
  say: (line: string) => void;
  signal?: AbortSignal;
}

export interface PruneReport {
  registry: string;
  keep: number;
  plan: RepositoryPrune[];
  deletedTags: string[];
  /** False when a remaining tag is a manifest list: v2.8 would delete its platform images (registry-gc.ts). */
  deletedUntagged: boolean;
  gc?: GcSummary;
  bytesBefore?: number;
  bytesAfter?: number;
  freedBytes?: number;
  /** True when a leftover read-only setting (an interrupted prune's) was removed first: the registry restarted. */
  madeWritable: boolean;
  /** How the newest were told apart where created times were missing (or 1970) or equal. */
  orderNote?: string;
  /** False when the user said no: nothing was deleted (madeWritable says whether the registry was repaired). */
  done: boolean;
}

const remainingAfter = (repos: readonly RepositoryInfo[], plan: readonly RepositoryPrune[]): RepositoryInfo[] =>
  repos.map((repo) => {
    const keep = new Set(plan.find((p) => p.repository === repo.name)?.keep ?? []);
    return { name: repo.name, tags: repo.tags.filter((t) => keep.has(t.tag)) };
  });

export async function pruneImages(request: PruneRequest): Promise<PruneReport> {
  const { run, target, keep, say } = request;
  const maintenance = { run, context: target.context, say, ...(request.signal ? { signal: request.signal } : {}) };
  // Deletes need a writable registry, and whatever the user answers, a leftover must not stay.
  const madeWritable = await isReadOnly(run, target.context);
  if (madeWritable) {
    say('The registry was left read-only by an interrupted k3s-devreg images prune.');
    await makeWritable(maintenance);
  }
  const repos = await listImages(target.endpoint);
  const plan = planPrune(repos, keep);
  const note = orderNote(repos, keep);
  const report: PruneReport = { registry: target.registry, keep, plan, deletedTags: [], deletedUntagged: false, madeWritable, ...(note ? { orderNote: note } : {}), done: false };
  const count = removedTags(plan);
  for (const line of describePrune(plan)) say(`  ${line}`);
  if (note) say(note);
  say(`--keep ${keep} keeps the ${keep} newest image(s) of each repository (tags on one image share its place, and a kept list's platform images stay): ${PRUNE_ORDER}. The registry then restarts twice for its garbage collection: no pushes meanwhile, and a few seconds without pulls at each restart.`);
  const question = count > 0 ? `Delete ${count} tag(s) from ${target.registry} and collect its garbage?` : `No tag to delete (at most ${keep} image(s) per repository): collect ${target.registry}'s garbage anyway?`;
  if (!(await request.confirm(question))) return report;
  const before = await registryVolumeUseIfKnown(run, target.cluster);
  for (const entry of plan) report.deletedTags.push(...(await deleteRemovals(target.endpoint, entry.repository, entry.remove)));
  report.deletedUntagged = canDeleteUntagged(remainingAfter(repos, plan));
  const gc = await collectGarbage(maintenance, report.deletedUntagged);
  if (gc) report.gc = gc;
  const after = await registryVolumeUseIfKnown(run, target.cluster);
  if (before?.bytes !== undefined) report.bytesBefore = before.bytes;
  if (after?.bytes !== undefined) report.bytesAfter = after.bytes;
  if (before?.bytes !== undefined && after?.bytes !== undefined) report.freedBytes = Math.max(0, before.bytes - after.bytes);
  report.done = true;
  return report;
}
