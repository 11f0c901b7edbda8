/** What a tag holds and takes, from manifests as distribution serves them; the table and JSON of images ls. */
import { describe, expect, it } from 'vitest';
import {
  configCreated, duTable, humanBytes, imageBlobs, imagesJson, imagesTable, parseManifest, repositoryBytes, tagInfo, type RepositoryInfo,
} from '../../../src/images/registry-catalog.js';
import { MEDIA, nextLink } from '../../../src/tools/registry-api.js';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const image = (mediaType?: string) => JSON.stringify({
  schemaVersion: 2,
  ...(mediaType ? { mediaType } : {}),
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1469, digest: d(1) },
  layers: [{ size: 2_000_000, digest: d(2) }, { size: 30, digest: d(3) }],
});

describe('parseManifest', () => {
  it('Docker schema2 and OCI image manifests: config and layers with their sizes', () => {
    for (const [type, body] of [[MEDIA.dockerManifest, image(MEDIA.dockerManifest)], [MEDIA.ociManifest, image()], ['', image(MEDIA.ociManifest)], ['', image()]]) {
      expect(parseManifest(type!, body!), type).toEqual({ kind: 'image', config: { digest: d(1), size: 1469 }, layers: [{ digest: d(2), size: 2_000_000 }, { digest: d(3), size: 30 }] });
    }
  });

  it('manifest lists and OCI indexes (mediaType optional in OCI): the platform manifests', () => {
    const body = JSON.stringify({ schemaVersion: 2, manifests: [{ digest: d(4), size: 500, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }, { digest: d(5), size: 400 }] });
    const expected = { kind: 'index', manifests: [{ digest: d(4), size: 500, platform: 'linux/arm64/v8' }, { digest: d(5), size: 400 }] };
    expect(parseManifest(MEDIA.ociIndex, body)).toEqual(expected);
    expect(parseManifest(`${MEDIA.dockerList}; charset=utf-8`, body)).toEqual(expected);
    expect(parseManifest('', body)).toEqual(expected);
  });

  it('schema1 and garbage are "other": counted by their own bytes only', () => {
    expect(parseManifest('application/vnd.docker.distribution.manifest.v1+prettyjws', JSON.stringify({ schemaVersion: 1, fsLayers: [] }))).toEqual({ kind: 'other' });
    expect(parseManifest(MEDIA.dockerManifest, 'not json')).toEqual({ kind: 'other' });
  });
});

describe('sizes and times', () => {
  it('a tag takes its manifest, config and layers; a blob it names twice counts once', () => {
    const head = { digest: d(6), size: 524 };
    const parsed = parseManifest(MEDIA.dockerManifest, image(MEDIA.dockerManifest));
    const t = tagInfo('v1', MEDIA.dockerManifest, [...imageBlobs(head, parsed), { digest: d(3), size: 30 }], ['2024-05-01T10:00:00Z']);
    expect(t).toMatchObject({ tag: 'v1', digest: d(6), size: 524 + 1469 + 2_000_000 + 30, created: '2024-05-01T10:00:00Z' });
  });

  it('a list is as new as its newest platform image', () => {
    expect(tagInfo('multi', MEDIA.ociIndex, [{ digest: d(7), size: 300 }], ['2024-01-01T00:00:00Z', undefined, '2024-03-01T00:00:00.5Z'], { platforms: ['linux/amd64'], children: [d(8)] }).created).toBe('2024-03-01T00:00:00.5Z');
  });

  it('created comes from the config JSON, when it is a time', () => {
    expect(configCreated(Buffer.from('{"created":"2024-05-01T10:00:00.123456789Z","architecture":"amd64"}'))).toBe('2024-05-01T10:00:00.123456789Z');
    expect(configCreated('{"architecture":"amd64"}')).toBeUndefined();
    expect(configCreated('{"created":"yesterday"}')).toBeUndefined();
    expect(configCreated(undefined)).toBeUndefined();
  });

  it('sizes are written as docker writes them (decimal, 4 significant digits)', () => {
    expect([0, 524, 999, 1000, 1234, 329_651, 2_000_000, 1_234_567_890].map(humanBytes)).toEqual(['0B', '524B', '999B', '1kB', '1.234kB', '329.7kB', '2MB', '1.235GB']);
  });
});

const repos: RepositoryInfo[] = [
  { name: 'team/api', tags: [
    { tag: 'v1', digest: d(1), mediaType: MEDIA.dockerManifest, size: 1500, created: '2024-05-01T10:00:00Z', blobs: [{ digest: d(1), size: 500 }, { digest: d(9), size: 1000 }] },
    { tag: 'v2', digest: d(2), mediaType: MEDIA.ociIndex, size: 1600, platforms: ['linux/amd64', 'linux/arm64'], blobs: [{ digest: d(2), size: 600 }, { digest: d(9), size: 1000 }] },
  ] },
];

describe('images ls and du output', () => {
  it('the table: one line per tag, short digests, docker sizes, created or -, a list\'s platforms', () => {
    expect(imagesTable(repos).split('\n')).toEqual([
      'REPOSITORY  TAG  DIGEST        SIZE   CREATED',
      'team/api    v1   111111111111  1.5kB  2024-05-01T10:00:00Z',
      'team/api    v2   222222222222  1.6kB  - (linux/amd64, linux/arm64)',
    ]);
  });

  it('the JSON: repositories with their unique bytes, tags without blob lists', () => {
    const json = imagesJson('localhost:31113', repos) as { repositories: { bytes: number; tags: object[] }[] };
    expect(json).toMatchObject({ registry: 'localhost:31113', repositories: [{ name: 'team/api', bytes: 2100 }] });
    expect(json.repositories[0]!.tags[1]).toEqual({ tag: 'v2', digest: d(2), mediaType: MEDIA.ociIndex, size: 1600, platforms: ['linux/amd64', 'linux/arm64'] });
    expect(repositoryBytes(repos[0]!)).toBe(500 + 600 + 1000);
  });

  it('du: the volume first, then each repository', () => {
    expect(duTable({ name: 'k3s-devreg-devreg-registry', size: '12.3MB' }, repos)).toBe('k3s-devreg-devreg-registry: 12.3MB on disk\n\nREPOSITORY  TAGS  SIZE\nteam/api    2     2.1kB');
    expect(duTable({ name: 'v', size: '0B' }, [])).toBe('v: 0B on disk');
  });
});

describe('nextLink', () => {
  it('the next page of a Link header, as a path; none without rel="next"', () => {
    expect(nextLink('</v2/_catalog?last=team%2Fapi&n=100>; rel="next"')).toBe('/v2/_catalog?last=team%2Fapi&n=100');
    expect(nextLink(['<https://localhost:31113/v2/a/tags/list?last=v9&n=100>; rel="next"'])).toBe('/v2/a/tags/list?last=v9&n=100');
    expect(nextLink(undefined)).toBeUndefined();
    expect(nextLink('</v2/_catalog?last=a>; rel="prev"')).toBeUndefined();
  });
});
