/**
 * `images ls | rm | prune | du` against the real registry (distribution v2.8, run with the rendered
 * Deployment's env, its data in a labelled docker volume named as up names it), filled by real
 * `docker push`es. kubectl's part (set env, rollout status, exec) is played by the same container
 * (test/helpers/registry-deployment.ts): the garbage collection is the very argv the step gives
 * kubectl exec, run by docker exec in the registry, read-only first.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_ONLY_ENV, READ_ONLY_VALUE, WRITABLE_VALUE } from '../../src/images/registry-gc.js';
import { forgetSecretsForTests, registerSecret } from '../../src/redact.js';
import { htpasswdEntry } from '../../src/render/htpasswd.js';
import { renderManifests } from '../../src/render/manifests.js';
import { ensurePki, type Pki } from '../../src/render/pki.js';
import { DEFAULT_HOSTS_IMAGE, registryVolumeName, type ClusterSpec } from '../../src/spec.js';
import { imagesDu, imagesLs, imagesPrune, imagesRm } from '../../src/steps/images-commands.js';
import { registryVolumeUse } from '../../src/steps/images-du.js';
import { pruneImages } from '../../src/steps/images-prune.js';
import { listImages, type RegistryTarget } from '../../src/steps/images-registry.js';
import { catalogPage, deleteManifest, tagsPage } from '../../src/tools/registry-api.js';
import { setDeploymentEnv } from '../../src/tools/kubectl-workloads.js';
import { dockerAvailable } from '../helpers/docker.js';
import { ensureRegistryImage } from '../helpers/images.js';
import { TEST_LABEL, type Obj } from '../helpers/registry-container.js';
import { registryDeployment, type RegistryDeployment } from '../helpers/registry-deployment.js';
import { registryPushes } from '../helpers/registry-pushes.js';

const USER = 'devreg';
const suffix = randomBytes(4).toString('hex');
const PASSWORD = `Housekeeping-${suffix}-Pass`;
const cluster = `imgtest${suffix}`;
const volume = registryVolumeName(cluster);
const MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const ns = `kubectl --context k3d-${cluster} --namespace container-registry`;

let dir = '';
let pki: Pki;
let registry: RegistryDeployment;
let target: RegistryTarget;
const imageIds = new Set<string>();

const { cli, ref, build, push, get, servedSize, putManifest } = registryPushes({ dir: () => dir, port: () => registry.port, caCert: () => pki.caCert, user: USER, password: PASSWORD, imageIds });

const pushed: Record<string, { digest: string; manifestSize: number; id: string }> = {};
const questions: string[] = [];
const yes = async (question: string) => (questions.push(question), true);
const say = () => {};

describe.skipIf(!dockerAvailable)('images ls | rm | prune | du against the real registry', () => {
  beforeAll(async () => {
    forgetSecretsForTests();
    registerSecret(PASSWORD);
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-housekeeping-'));
    mkdirSync(join(dir, 'docker-config'));
    ({ pki } = ensurePki({}, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now: new Date() }));
    const spec: ClusterSpec = { name: cluster, agents: 0, hostPort: 31113, username: USER, registryImage: 'registry:2.8.3', hostsImage: DEFAULT_HOSTS_IMAGE, k3sImage: 'rancher/k3s:v1.31.5-k3s1', stateDir: dir };
    const manifests = renderManifests(spec, { tlsCert: pki.tlsCert, tlsKey: pki.tlsKey, htpasswd: htpasswdEntry(USER, PASSWORD, 5), hostsScript: '' });
    const find = (kind: string): Obj => manifests.find((m) => m.object.kind === kind)!.object as Obj;
    ensureRegistryImage();
    expect(cli(['volume', 'create', '--label', TEST_LABEL, volume]).status).toBe(0);
    registry = registryDeployment({ container: `k3s-devreg-test-housekeeping-${suffix}`, dir, deployment: find('Deployment'), secret: find('Secret'), ca: pki.caCert, dataVolume: volume });
    await registry.start();
    target = { cluster, context: `k3d-${cluster}`, registry: `localhost:${registry.port}`, endpoint: { port: registry.port, caCert: pki.caCert, credentials: { username: USER, password: PASSWORD } } };
    expect(cli(['login', `localhost:${registry.port}`, '-u', USER, '--password-stdin'], PASSWORD).status).toBe(0);
    // Built one after another, so their created times order them: v1 oldest.
    for (const [repoTag, kb] of [['app-a:v1', 300], ['app-a:v2', 310], ['app-a:v3', 320], ['app-b:1.0', 200], ['app-b:2.0', 210], ['tool:only', 100]] as const) {
      const id = build(repoTag, kb);
      pushed[repoTag] = { ...push(repoTag), id };
    }
    // Another tag on the same image: rm of 2.0 takes it too.
    expect(cli(['tag', ref('app-b:2.0'), ref('app-b:latest')]).status).toBe(0);
    pushed['app-b:latest'] = { ...push('app-b:latest'), id: pushed['app-b:2.0']!.id };
  }, 300_000);

  afterAll(() => {
    if (registry) spawnSync('docker', ['rm', '-f', registry.container], { stdio: 'ignore' });
    spawnSync('docker', ['volume', 'rm', volume], { stdio: 'ignore' });
    if (imageIds.size > 0) spawnSync('docker', ['rmi', '-f', ...imageIds], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ls: every repository and tag, with the digests docker pushed and the sizes the registry serves', async () => {
    const outcome = await imagesLs(target, true);
    const json = outcome.json as { registry: string; repositories: { name: string; tags: { tag: string; digest: string; size: number; created?: string; mediaType: string }[] }[] };
    expect(json.registry).toBe(`localhost:${registry.port}`);
    expect(json.repositories.map((r) => [r.name, r.tags.map((t) => t.tag)])).toEqual([
      ['app-a', ['v1', 'v2', 'v3']],
      ['app-b', ['1.0', '2.0', 'latest']],
      ['tool', ['only']],
    ]);
    for (const repo of json.repositories) {
      for (const t of repo.tags) {
        const docker = pushed[`${repo.name}:${t.tag}`]!;
        expect(t.digest, `${repo.name}:${t.tag}`).toBe(docker.digest);
        expect(t.mediaType).toBe(MANIFEST);
        expect(t.size).toBe((await servedSize(repo.name, t.digest, docker.manifestSize)).size);
        expect(Date.parse(t.created!)).toBe(Date.parse(cli(['image', 'inspect', '--format', '{{.Created}}', docker.id]).out.trim()));
      }
    }
    const table = (await imagesLs(target, false)).out!.join('\n');
    expect(table.split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+SIZE\s+CREATED$/);
    expect(table).toMatch(new RegExp(`\\napp-a\\s+v2\\s+${pushed['app-a:v2']!.digest.slice(7, 19)}\\s+\\d`));
    expect(table).not.toContain(PASSWORD);
  });

  it('pages follow the registry\'s Link headers; a foreign certificate or a wrong password is one line with its fix', async () => {
    const first = await catalogPage(target.endpoint, '/v2/_catalog?n=2');
    expect(first).toEqual({ repositories: ['app-a', 'app-b'], next: '/v2/_catalog?last=app-b&n=2' });
    expect(await catalogPage(target.endpoint, first.next)).toEqual({ repositories: ['tool'] });
    // v2.8 sends every tag at once, whatever n says (v3 pages them with the same Link header, which tagsPage follows).
    expect(await tagsPage(target.endpoint, 'app-a', '/v2/app-a/tags/list?n=2')).toEqual({ tags: ['v1', 'v2', 'v3'] });
    expect(await tagsPage(target.endpoint, 'nothing-here')).toBeUndefined();
    const other = ensurePki({}, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now: new Date() }).pki;
    await expect(catalogPage({ ...target.endpoint, caCert: other.caCert })).rejects.toThrow("does not present a certificate signed by the state folder's CA");
    const wrong = await catalogPage({ ...target.endpoint, credentials: { username: USER, password: 'not-the-password' } }).catch((e: Error) => e.message);
    expect(wrong).toBe('the registry refused the saved credentials when asked to list its repositories: run k3s-devreg up to re-apply them');
  });

  it('rm REPO:TAG deletes the digest, names the tags sharing it, and refuses unknown names with the fix', async () => {
    const lines: string[] = [];
    const outcome = await imagesRm({ target, what: `localhost:${registry.port}/app-b:2.0`, json: false, confirm: yes, say: (l) => lines.push(l) });
    expect(lines.join('\n')).toContain('app-b:latest points at the same image and goes too');
    expect(outcome.out![0]).toBe('Deleted app-b:2.0, app-b:latest.');
    expect(questions.at(-1)).toBe(`Delete this image from localhost:${registry.port}?`);
    expect((await listImages(target.endpoint)).find((r) => r.name === 'app-b')!.tags.map((t) => t.tag)).toEqual(['1.0']);
    await expect(imagesRm({ target, what: 'app-b:9.9', json: false, confirm: yes, say })).rejects.toThrow('app-b has no tag 9.9: see what the registry holds with k3s-devreg images ls');
    await expect(imagesRm({ target, what: 'nothing-here', json: false, confirm: yes, say })).rejects.toThrow('the registry has no repository nothing-here: see what the registry holds with k3s-devreg images ls');
    const declined = await imagesRm({ target, what: 'tool:only', json: false, confirm: async () => false, say });
    expect(declined.code).toBe(1);
    expect((await get(`/v2/tool/manifests/only`, { Accept: MANIFEST })).status).toBe(200);
  });

  it(`read-only (${READ_ONLY_ENV}=${READ_ONLY_VALUE}): pulls work, pushes and deletes are refused; writable again after`, async () => {
    const rw = { context: target.context, namespace: 'container-registry', deployment: 'registry', container: 'registry' };
    await setDeploymentEnv(registry.runner, rw, { set: { [READ_ONLY_ENV]: READ_ONLY_VALUE } });
    expect(cli(['rmi', ref('app-b:1.0')]).status).toBe(0);
    const pulled = cli(['pull', ref('app-b:1.0')]);
    expect(pulled.status, pulled.out).toBe(0);
    build('late:1', 50);
    const refused = cli(['push', ref('late:1')]);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toMatch(/405|Method not allowed/i);
    await expect(deleteManifest(target.endpoint, 'tool', pushed['tool:only']!.digest)).rejects.toThrow('405');
    await setDeploymentEnv(registry.runner, rw, { set: { [READ_ONLY_ENV]: WRITABLE_VALUE } });
    expect(push('late:1').digest).toMatch(/^sha256:/);
    expect(registry.kubectlLines()).toEqual([
      `${ns} set env deployment/registry --containers=registry ${READ_ONLY_ENV}=${READ_ONLY_VALUE}`,
      `${ns} set env deployment/registry --containers=registry ${READ_ONLY_ENV}=${WRITABLE_VALUE}`,
    ]);
  });

  it('the variable per field (…_READONLY_ENABLED=true) stops distribution v2.8 from starting: why the whole map is set', () => {
    const name = `k3s-devreg-test-readonly-field-${suffix}`;
    const run = spawnSync('docker', ['run', '--rm', '--name', name, '--label', TEST_LABEL, '-e', `${READ_ONLY_ENV}_ENABLED=true`, ensureRegistryImage()], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain('readonly config key must contain additional keys');
  });

  it('prune --keep 1: only the newest tag of each repository stays, untagged manifests and their layers go, the disk shrinks', async () => {
    // Pushing tool:only again with new content leaves its old manifest untagged.
    const oldTool = pushed['tool:only']!;
    const oldToolLayers = (await servedSize('tool', oldTool.digest, oldTool.manifestSize)).layers;
    pushed['tool:only'] = { id: build('tool:only', 110), ...push('tool:only') };
    expect((await get(`/v2/tool/manifests/${oldTool.digest}`, { Accept: MANIFEST })).status).toBe(200);
    const layersOf = async (repo: string, digest: string) => (await servedSize(repo, digest, 0)).layers;
    const bytesOf = async (repo: string, layers: string[]) => (await Promise.all(layers.map(async (d) => (await get(`/v2/${repo}/blobs/${d}`)).body.length))).reduce((a, b) => a + b, 0);
    const doomedA = [...(await layersOf('app-a', pushed['app-a:v1']!.digest)), ...(await layersOf('app-a', pushed['app-a:v2']!.digest))];
    const doomedBytes = (await bytesOf('app-a', doomedA)) + (await bytesOf('tool', oldToolLayers));
    const before = registry.calls.length;
    const report = await pruneImages({ run: registry.runner, target, keep: 1, confirm: yes, say });
    expect(questions.at(-1)).toBe(`Delete 2 tag(s) from localhost:${registry.port} and collect its garbage?`);
    expect([...report.deletedTags].sort()).toEqual(['app-a:v1', 'app-a:v2']);
    expect(report.plan.map((p) => [p.repository, p.keep])).toEqual([['app-a', ['v3']], ['app-b', ['1.0']], ['late', ['1']], ['tool', ['only']]]);
    expect(report.deletedUntagged).toBe(true);
    expect(report.gc?.manifestsDeleted).toBe(1);
    expect(registry.calls.slice(before).filter((c) => c.file === 'kubectl').map((c) => [c.file, ...c.args].join(' '))).toEqual([
      `${ns} get deployment registry --ignore-not-found --output json`,
      `${ns} set env deployment/registry --containers=registry ${READ_ONLY_ENV}=${READ_ONLY_VALUE}`,
      `${ns} rollout status deployment/registry --timeout=180s`,
      `${ns} exec deployment/registry --container registry -- /bin/registry garbage-collect --delete-untagged /etc/docker/registry/config.yml`,
      `${ns} set env deployment/registry --containers=registry ${READ_ONLY_ENV}=${WRITABLE_VALUE}`,
      `${ns} rollout status deployment/registry --timeout=180s`,
    ]);
    expect(registry.env).toEqual({ [READ_ONLY_ENV]: WRITABLE_VALUE });
    expect((await get(`/v2/tool/manifests/${oldTool.digest}`, { Accept: MANIFEST })).status).toBe(404);
    for (const layer of doomedA) expect((await get(`/v2/app-a/blobs/${layer}`)).status).toBe(404);
    for (const layer of oldToolLayers) expect((await get(`/v2/tool/blobs/${layer}`)).status).toBe(404);
    expect((await listImages(target.endpoint)).map((r) => [r.name, r.tags.map((t) => t.tag)])).toEqual([['app-a', ['v3']], ['app-b', ['1.0']], ['late', ['1']], ['tool', ['only']]]);
    expect(report.freedBytes).toBeGreaterThanOrEqual(doomedBytes * 0.99);
    expect(report.bytesAfter).toBe((await registryVolumeUse(registry.runner, cluster))!.bytes);
    // The restart emptied the blob-descriptor cache: a deleted image pushed again uploads its layers and pulls.
    expect(push('app-a:v1').digest).toBe(pushed['app-a:v1']!.digest);
    expect(cli(['rmi', ref('app-a:v1')]).status).toBe(0);
    const pulled = cli(['pull', ref('app-a:v1')]);
    expect(pulled.status, pulled.out).toBe(0);
  });

  it('du: the volume as docker sizes it, and each repository\'s unique bytes', async () => {
    const outcome = await imagesDu(registry.runner, target, true);
    const json = outcome.json as { volume: string; bytes: number; repositories: { name: string; tags: number; bytes: number }[] };
    expect(json.volume).toBe(volume);
    expect(json.bytes).toBe((await registryVolumeUse(registry.runner, cluster))!.bytes);
    const repos = await listImages(target.endpoint);
    const appA = repos.find((r) => r.name === 'app-a')!;
    expect(json.repositories.find((r) => r.name === 'app-a')).toEqual({ name: 'app-a', tags: 2, bytes: appA.tags.reduce((n, t) => n + t.size, 0) });
    expect((await imagesDu(registry.runner, target, false)).out![0]).toMatch(new RegExp(`^${volume}: [0-9.]+[kM]B on disk`));
  });

  it('a registry left read-only by an interrupted prune is made writable first by the next prune, whatever the answer', async () => {
    const rw = { context: target.context, namespace: 'container-registry', deployment: 'registry', container: 'registry' };
    await setDeploymentEnv(registry.runner, rw, { set: { [READ_ONLY_ENV]: READ_ONLY_VALUE } });
    expect(cli(['push', ref('app-a:v1')]).status).not.toBe(0);
    const declined = await imagesPrune({ run: registry.runner, target, keep: 1, json: false, confirm: async () => false, say });
    expect(declined).toEqual({ code: 1, notes: ['Nothing was deleted; the registry, left read-only by an interrupted prune, was made writable again (it restarted) and takes pushes.'] });
    expect(registry.env).toEqual({ [READ_ONLY_ENV]: WRITABLE_VALUE });
    const declinedJson = await imagesPrune({ run: registry.runner, target, keep: 1, json: true, confirm: async () => false, say });
    expect(declinedJson).toMatchObject({ code: 1, notes: ['Nothing was changed.'] });
    expect(declinedJson).not.toHaveProperty('json');
    build('late:2', 40);
    expect(push('late:2').digest).toMatch(/^sha256:/);
    await setDeploymentEnv(registry.runner, rw, { set: { [READ_ONLY_ENV]: READ_ONLY_VALUE } });
    const before = registry.calls.length;
    const accepted = await pruneImages({ run: registry.runner, target, keep: 1, confirm: yes, say });
    expect([...accepted.deletedTags].sort()).toEqual(['app-a:v1', 'late:1']);
    expect(registry.calls.slice(before).filter((c) => c.file === 'kubectl').map((c) => c.args.slice(4, 6).join(' '))).toEqual(['get deployment', 'set env', 'rollout status', 'set env', 'rollout status', 'exec deployment/registry', 'set env', 'rollout status']);
    expect(registry.env).toEqual({ [READ_ONLY_ENV]: WRITABLE_VALUE });
    expect((await listImages(target.endpoint)).map((r) => [r.name, r.tags.map((t) => t.tag)])).toEqual([['app-a', ['v3']], ['app-b', ['1.0']], ['late', ['2']], ['tool', ['only']]]);
  });

  it('a manifest list whose platform images have no tag of their own: listed with its platforms, and prune keeps them (no --delete-untagged)', async () => {
    build('multi:amd64', 60);
    build('multi:arm64', 70);
    const children = [push('multi:amd64'), push('multi:arm64')];
    const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
    const platforms = [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux' }];
    const list = JSON.stringify({ schemaVersion: 2, mediaType: LIST, manifests: children.map((c, i) => ({ mediaType: MANIFEST, size: c.manifestSize, digest: c.digest, platform: platforms[i] })) });
    expect(await putManifest('multi', 'both', LIST, list)).toBe(201);
    // The platform tags move on: the list is all that points at the images it names.
    build('multi:amd64', 20);
    build('multi:arm64', 21);
    push('multi:amd64');
    push('multi:arm64');
    const both = (await listImages(target.endpoint)).find((r) => r.name === 'multi')!.tags.find((t) => t.tag === 'both')!;
    expect(both.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    const served = await Promise.all(children.map((c) => servedSize('multi', c.digest, c.manifestSize)));
    expect(both.size).toBe(Buffer.byteLength(list) + served[0]!.size + served[1]!.size);
    const report = await pruneImages({ run: registry.runner, target, keep: 3, confirm: yes, say });
    expect(report.deletedTags).toEqual([]);
    expect(report.deletedUntagged).toBe(false);
    expect(registry.kubectlLines().slice(-4)[1]).toBe(`${ns} exec deployment/registry --container registry -- /bin/registry garbage-collect /etc/docker/registry/config.yml`);
    for (const c of children) expect((await get(`/v2/multi/manifests/${c.digest}`, { Accept: MANIFEST })).status).toBe(200);
    for (const layer of served.flatMap((s) => s.layers)) expect((await get(`/v2/multi/blobs/${layer}`)).status).toBe(200);
  });

  it('a kept manifest list keeps its platform images: prune --keep 1 leaves one tagged on its own too, and rm of it is refused naming the list', async () => {
    // Clear the list of the test above: rm of a whole repository takes its lists and their platform images together.
    expect((await imagesRm({ target, what: 'multi', json: true, confirm: yes, say })).code).toBe(0);
    build('fat:v1', 30);
    const old = push('fat:v1');
    build('fat:amd64-v2', 31);
    build('fat:arm64-v2', 32);
    const children = [push('fat:amd64-v2'), push('fat:arm64-v2')];
    const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
    const platforms = [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux' }];
    const list = JSON.stringify({ schemaVersion: 2, mediaType: LIST, manifests: children.map((c, i) => ({ mediaType: MANIFEST, size: c.manifestSize, digest: c.digest, platform: platforms[i] })) });
    expect(await putManifest('fat', 'v2', LIST, list)).toBe(201);

    await expect(imagesRm({ target, what: 'fat:amd64-v2', json: true, confirm: yes, say })).rejects.toThrow(
      'fat:amd64-v2 is a platform image of fat:v2: deleting it would break that list on its platform: delete the list first (k3s-devreg images rm fat:v2), then this one if still wanted; or keep it',
    );
    await expect(imagesRm({ target, what: `fat@${children[1]!.digest}`, json: true, confirm: yes, say })).rejects.toThrow('is a platform image of fat:v2');
    expect((await get(`/v2/fat/manifests/${children[0]!.digest}`, { Accept: MANIFEST })).status).toBe(200);

    const lines: string[] = [];
    const report = await pruneImages({ run: registry.runner, target, keep: 1, confirm: yes, say: (line) => lines.push(line) });
    expect(report.deletedTags).toEqual(['fat:v1']);
    expect(report.plan.find((p) => p.repository === 'fat')!.keep.sort()).toEqual(['amd64-v2', 'arm64-v2', 'v2']);
    expect(report.deletedUntagged).toBe(false);
    // v2 and arm64-v2 share a created time (the list's is its newest image's): the note says how they were told apart.
    expect(lines).toContain('fat: created times missing (or 1970, as ko, jib and bazel write them) or equal, so those images were ordered by tag name, highest (v10 before v9) newest.');
    expect((await get(`/v2/fat/manifests/${old.digest}`, { Accept: MANIFEST })).status).toBe(404);
    for (const c of children) {
      expect((await get(`/v2/fat/manifests/${c.digest}`, { Accept: MANIFEST })).status).toBe(200);
      for (const layer of (await servedSize('fat', c.digest, c.manifestSize)).layers) expect((await get(`/v2/fat/blobs/${layer}`)).status).toBe(200);
    }
  });
});
