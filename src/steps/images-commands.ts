/**
 * What `images ls | rm | prune | du` print, from typed requests (commands/images.ts parses the
 * flags and makes the confirmation): the listing, the removal, the prune report, the disk use.
 */
import { PRUNE_ORDER } from '../images/prune-plan.js';
import { duTable, humanBytes, imagesJson, imagesTable, repositoryBytes } from '../images/registry-catalog.js';
import type { Runner } from '../tools/run.js';
import { registryVolumeUse } from './images-du.js';
import { pruneImages, type PruneRequest } from './images-prune.js';
import { listImages, type RegistryTarget } from './images-registry.js';
import { deleteRemovals, describeRemoval, planRemoval, type Confirm } from './images-remove.js';

export interface ImagesOutcome {
  code: number;
  out?: string[];
  json?: unknown;
  notes?: string[];
}

const NOT_DONE: ImagesOutcome = { code: 1, notes: ['Nothing was changed.'] };
const GC_HINT = 'The disk space comes back with the garbage collection of k3s-devreg images prune.';

export async function imagesLs(target: RegistryTarget, json: boolean): Promise<ImagesOutcome> {
  const repos = await listImages(target.endpoint);
  if (json) return { code: 0, json: imagesJson(target.registry, repos) };
  if (repos.length === 0) return { code: 0, out: [`${target.registry} holds no images. Push one: docker push ${target.registry}/NAME:TAG`] };
  return { code: 0, out: [imagesTable(repos)] };
}

export async function imagesDu(run: Runner, target: RegistryTarget, json: boolean): Promise<ImagesOutcome> {
  const volume = (await registryVolumeUse(run, target.cluster)) ?? { name: `the registry volume of ${target.cluster}`, size: 'unknown (docker does not list it)' };
  const repos = await listImages(target.endpoint);
  if (json) {
    const repositories = repos.map((r) => ({ name: r.name, tags: r.tags.length, bytes: repositoryBytes(r) }));
    return { code: 0, json: { volume: volume.name, size: volume.size, ...(volume.bytes !== undefined ? { bytes: volume.bytes } : {}), repositories } };
  }
  // Layers shared between repositories count in each: the sum can exceed the volume.
  return { code: 0, out: [duTable(volume, repos), ...(repos.length > 1 ? ['(a layer shared by several repositories counts in each)'] : [])] };
}

export async function imagesRm(request: { target: RegistryTarget; what: string; json: boolean; confirm: Confirm; say: (line: string) => void }): Promise<ImagesOutcome> {
  const { target, what } = request;
  const plan = await planRemoval(target.endpoint, what);
  const lines = describeRemoval(plan);
  for (const line of lines) request.say(`  ${line}`);
  if (!(await request.confirm(`Delete ${lines.length === 1 ? 'this image' : `these ${lines.length} images`} from ${target.registry}?`))) return NOT_DONE;
  const deleted = await deleteRemovals(target.endpoint, plan.repository, plan.removals);
  if (request.json) return { code: 0, json: { registry: target.registry, deleted } };
  return { code: 0, out: [`Deleted ${deleted.join(', ')}.`, GC_HINT] };
}

export async function imagesPrune(request: PruneRequest & { json: boolean }): Promise<ImagesOutcome> {
  const report = await pruneImages(request);
  if (!report.done) {
    if (!report.madeWritable) return NOT_DONE;
    return { code: 1, ...(request.json ? { json: report } : {}), notes: ['Nothing was deleted; the registry, left read-only by an interrupted prune, was made writable again (it restarted) and takes pushes.'] };
  }
  if (request.json) return { code: 0, json: report };
  const kept = report.plan.map((p) => `${p.repository}: ${p.keep.join(', ')}`);
  const freed = report.freedBytes !== undefined ? `Freed ${humanBytes(report.freedBytes)} (${humanBytes(report.bytesBefore!)} -> ${humanBytes(report.bytesAfter!)} on disk).` : 'docker could not size the registry volume, so the space freed is unknown.';
  return {
    code: 0,
    out: [
      report.deletedTags.length > 0 ? `Deleted ${report.deletedTags.length} tag(s): ${report.deletedTags.join(', ')}.` : 'Deleted no tags.',
      ...(kept.length > 0 ? [`Kept (${PRUNE_ORDER}):`, ...kept.map((k) => `  ${k}`)] : []),
      ...(report.orderNote ? [report.orderNote] : []),
      ...(report.gc ? [`Garbage collection removed ${report.gc.blobsDeleted} blob(s) and ${report.gc.manifestsDeleted} untagged manifest(s).`] : []),
      ...(report.deletedUntagged ? [] : ['Untagged manifests were kept: a remaining tag is a manifest list, whose platform images distribution v2.8 would delete with them.']),
      freed,
    ],
  };
}
