/** Which tags prune deletes and keeps, what rm's argument names, and when garbage collection may drop untagged manifests. */
import { describe, expect, it } from 'vitest';
import { describePrune, listsNeeding, newestFirst, orderNote, parseRemoveTarget, planPrune, removedTags } from '../../../src/images/prune-plan.js';
import type { RepositoryInfo, TagInfo } from '../../../src/images/registry-catalog.js';
import { canDeleteUntagged, garbageCollectArgv, parseGcSummary, READ_ONLY_ENV, READ_ONLY_VALUE } from '../../../src/images/registry-gc.js';
import { MEDIA } from '../../../src/tools/registry-api.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const tag = (name: string, d: string, created?: string, mediaType: string = MEDIA.dockerManifest): TagInfo => ({ tag: name, digest: digest(d), mediaType, size: 1, blobs: [], ...(created ? { created } : {}) });
const index = (name: string, d: string, created: string, children: string[]): TagInfo => ({ ...tag(name, d, created, MEDIA.ociIndex), platforms: children.map((_, i) => `linux/arch${i}`), children: children.map(digest) });

describe('planPrune', () => {
  it('keeps the newest N by created time, deletes the rest digest by digest', () => {
    const repos: RepositoryInfo[] = [{ name: 'api', tags: [tag('a', '1', '2024-01-01T00:00:00Z'), tag('c', '3', '2024-03-01T00:00:00Z'), tag('b', '2', '2024-02-01T00:00:00Z')] }];
    expect(planPrune(repos, 1)).toEqual([{ repository: 'api', keep: ['c'], remove: [{ digest: digest('2'), tags: ['b'] }, { digest: digest('1'), tags: ['a'] }] }]);
    expect(planPrune(repos, 3)[0]!.remove).toEqual([]);
    expect(planPrune(repos, 0)[0]).toMatchObject({ keep: [], remove: [{ tags: ['c'] }, { tags: ['b'] }, { tags: ['a'] }] });
  });

  it('a digest a kept tag points at is never deleted, so a tag sharing it stays; tags sharing a doomed digest go together', () => {
    const repos: RepositoryInfo[] = [{ name: 'api', tags: [tag('latest', '3', '2024-03-01T00:00:00Z'), tag('v3', '3', '2024-03-01T00:00:00Z'), tag('v2', '2', '2024-02-01T00:00:00Z'), tag('v2-rc', '2', '2024-02-01T00:00:00Z')] }];
    const [plan] = planPrune(repos, 1);
    expect([...plan!.keep].sort()).toEqual(['latest', 'v3']);
    expect(plan!.remove).toEqual([{ digest: digest('2'), tags: ['v2-rc', 'v2'] }]);
    expect(removedTags([plan!])).toBe(2);
    expect(describePrune([plan!])).toEqual(['api: delete v2-rc, v2; keep v3, latest']);
  });

  it('without created times: those count as oldest, then the highest tag name (numerically) is newest', () => {
    const order = newestFirst([tag('v9', '1'), tag('v10', '2'), tag('old', '3', '2020-01-01T00:00:00Z'), tag('v2', '4')]).map((t) => t.tag);
    expect(order).toEqual(['old', 'v10', 'v9', 'v2']);
  });

  it('a kept manifest list keeps its platform images, even one tagged on its own that would fall out', () => {
    // v2 is an index over A and B; A is also tagged amd64-v2 (older by its config): deleting A breaks v2 on amd64.
    const repos: RepositoryInfo[] = [{ name: 'app', tags: [index('v2', '9', '2024-03-01T00:00:00Z', ['a', 'b']), tag('amd64-v2', 'a', '2024-02-01T00:00:00Z'), tag('v1', '1', '2024-01-01T00:00:00Z')] }];
    const [plan] = planPrune(repos, 1);
    expect(plan!.keep.sort()).toEqual(['amd64-v2', 'v2']);
    expect(plan!.remove).toEqual([{ digest: digest('1'), tags: ['v1'] }]);
    // A list that goes frees its platform images too.
    expect(planPrune([{ name: 'app', tags: [tag('v3', '3', '2024-04-01T00:00:00Z'), ...repos[0]!.tags] }], 1)[0]!.remove.map((r) => r.tags)).toEqual([['v2'], ['amd64-v2'], ['v1']]);
  });

  it('--keep N counts images (digests), not tags: latest and v3 on one digest take one place', () => {
    const repos: RepositoryInfo[] = [{ name: 'api', tags: [tag('latest', '3', '2024-03-01T00:00:00Z'), tag('v3', '3', '2024-03-01T00:00:00Z'), tag('v2', '2', '2024-02-01T00:00:00Z'), tag('v1', '1', '2024-01-01T00:00:00Z')] }];
    const [plan] = planPrune(repos, 2);
    expect(plan!.keep.sort()).toEqual(['latest', 'v2', 'v3']);
    expect(plan!.remove).toEqual([{ digest: digest('1'), tags: ['v1'] }]);
  });

  it('ko/jib/bazel images (created 1970 or none): ordered by tag name, and the note says so; distinct times need no note', () => {
    const ko: RepositoryInfo = { name: 'ko-app', tags: [tag('v9', '1', '1970-01-01T00:00:00Z'), tag('v10', '2', '1970-01-01T00:00:00Z'), tag('v2', '3')] };
    expect(planPrune([ko], 1)[0]!.keep).toEqual(['v10']);
    expect(orderNote([ko], 1)).toBe('ko-app: created times missing (or 1970, as ko, jib and bazel write them) or equal, so those images were ordered by tag name, highest (v10 before v9) newest.');
    const same: RepositoryInfo = { name: 'same', tags: [tag('a', '1', '2024-01-01T00:00:00Z'), tag('b', '2', '2024-01-01T00:00:00Z')] };
    expect(orderNote([same], 1)).toMatch(/^same: /);
    const dated: RepositoryInfo = { name: 'dated', tags: [tag('a', '1', '2024-01-01T00:00:00Z'), tag('b', '2', '2024-01-02T00:00:00Z'), tag('latest', '2', '2024-01-02T00:00:00Z')] };
    expect(orderNote([dated], 1)).toBeUndefined();
    // Nothing to choose between: no note.
    expect(orderNote([ko], 3)).toBeUndefined();
  });

  it('rm: the tags of remaining lists that name a digest about to go', () => {
    const tags = [index('v2', '9', '2024-03-01T00:00:00Z', ['a', 'b']), tag('amd64-v2', 'a'), tag('v1', '1')];
    expect(listsNeeding(tags, new Set([digest('a')]))).toEqual(['v2']);
    expect(listsNeeding(tags, new Set([digest('a'), digest('9')]))).toEqual([]);
    expect(listsNeeding(tags, new Set([digest('1')]))).toEqual([]);
  });

  it('repositories are planned one by one', () => {
    const plan = planPrune([{ name: 'a', tags: [tag('1', '1', '2024-01-01T00:00:00Z')] }, { name: 'b', tags: [tag('1', '1', '2024-01-01T00:00:00Z'), tag('2', '2', '2024-01-02T00:00:00Z')] }], 1);
    expect(plan.map((p) => [p.repository, p.keep, p.remove.map((r) => r.tags)])).toEqual([['a', ['1'], []], ['b', ['2'], [['1']]]]);
    expect(describePrune(plan)).toEqual(['b: delete 1; keep 2']);
  });
});

describe('parseRemoveTarget', () => {
  it('REPO, REPO:TAG, REPO@DIGEST, with or without the registry host docker pushed to', () => {
    expect(parseRemoveTarget('api', 31113)).toEqual({ repository: 'api' });
    expect(parseRemoveTarget('team/api:v1.2', 31113)).toEqual({ repository: 'team/api', tag: 'v1.2' });
    expect(parseRemoveTarget('localhost:31113/team/api:v1', 31113)).toEqual({ repository: 'team/api', tag: 'v1' });
    expect(parseRemoveTarget('container-registry.local:5000/api', 31113)).toEqual({ repository: 'api' });
    expect(parseRemoveTarget(`api@${digest('a')}`, 31113)).toEqual({ repository: 'api', digest: digest('a') });
    expect(parseRemoveTarget('127.0.0.1:31113/api:2', 31113)).toEqual({ repository: 'api', tag: '2' });
  });

  it('another host in front is part of the repository name (ghcr.io/org/app is a repository in our registry)', () => {
    expect(parseRemoveTarget('ghcr.io/org/app:1', 31113)).toEqual({ repository: 'ghcr.io/org/app', tag: '1' });
    expect(parseRemoveTarget('docker.io/library/busybox', 31113)).toEqual({ repository: 'docker.io/library/busybox' });
    expect(parseRemoveTarget('registry.example.com/app@' + digest('b'), 31113)).toEqual({ repository: 'registry.example.com/app', digest: digest('b') });
  });

  it('localhost with another port is not our registry: one line naming ours; before the port is known, any localhost port passes', () => {
    expect(() => parseRemoveTarget('localhost:5001/api:1', 31113)).toThrow('localhost:5001 is not this cluster\'s registry (localhost:31113)');
    expect(parseRemoveTarget('localhost:5001/api:1', undefined)).toEqual({ repository: 'api', tag: '1' });
  });

  it('anything else is a one-line UserError with the fix', () => {
    expect(() => parseRemoveTarget('API:v1', 31113)).toThrow('"API:v1" is not a repository name: name it as k3s-devreg images ls shows it');
    expect(() => parseRemoveTarget('api:-x', 31113)).toThrow('"-x" is not a valid tag');
    expect(() => parseRemoveTarget('api@sha256:abc', 31113)).toThrow('"api@sha256:abc" is not REPO@sha256:<64 hex digits>');
    expect(() => parseRemoveTarget('', 31113)).toThrow('is not a repository name');
  });
});

describe('garbage collection', () => {
  it('the read-only setting is the whole map in one variable (the per-field variable crashes v2.8)', () => {
    expect([READ_ONLY_ENV, JSON.parse(READ_ONLY_VALUE)]).toEqual(['REGISTRY_STORAGE_MAINTENANCE_READONLY', { enabled: true }]);
  });

  it('--delete-untagged only when no remaining tag is a manifest list or index', () => {
    const plain: RepositoryInfo[] = [{ name: 'a', tags: [tag('1', '1'), tag('2', '2', undefined, MEDIA.ociManifest)] }];
    expect(canDeleteUntagged(plain)).toBe(true);
    expect(canDeleteUntagged([...plain, { name: 'b', tags: [tag('multi', '3', undefined, MEDIA.ociIndex)] }])).toBe(false);
    expect(canDeleteUntagged([{ name: 'b', tags: [tag('multi', '3', undefined, MEDIA.dockerList)] }])).toBe(false);
    expect(garbageCollectArgv(true)).toEqual(['/bin/registry', 'garbage-collect', '--delete-untagged', '/etc/docker/registry/config.yml']);
    expect(garbageCollectArgv(false)).toEqual(['/bin/registry', 'garbage-collect', '/etc/docker/registry/config.yml']);
  });

  it('its summary line, as v2.8 prints it', () => {
    const output = 'tool\nmanifest eligible for deletion: sha256:aa\ntool: marking manifest sha256:bb \n\n6 blobs marked, 4 blobs and 2 manifests eligible for deletion\nblob eligible for deletion: sha256:cc\n';
    expect(parseGcSummary(output)).toEqual({ blobsMarked: 6, blobsDeleted: 4, manifestsDeleted: 2 });
    expect(parseGcSummary('something else')).toBeUndefined();
  });
});
