/**
 * Filling a test registry as a user does: FROM scratch images of random bytes built and pushed with
 * the docker CLI (its own DOCKER_CONFIG in the test's folder), manifest lists PUT as buildx pushes
 * them, and what the registry serves, measured from its bytes (not from our parsing).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { httpsGet, type Obj } from './registry-container.js';

const MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

export interface PushTarget {
  /** Read when used: the test's folder and the registry exist only once its beforeAll ran. */
  dir: () => string;
  port: () => number;
  caCert: () => string;
  user: string;
  password: string;
  /** Every image built, for the test's afterAll to remove. */
  imageIds: Set<string>;
}

export function registryPushes(t: PushTarget) {
  function cli(args: string[], input?: string): { status: number | null; out: string } {
    const r = spawnSync('docker', args, { input, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DOCKER_CONFIG: join(t.dir(), 'docker-config') } });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }
  const ref = (repoTag: string) => `localhost:${t.port()}/${repoTag}`;

  /** A FROM scratch image of `kb` KB of random (incompressible) bytes, so every layer is distinct and sized. */
  function build(repoTag: string, kb: number): string {
    const context = mkdtempSync(join(t.dir(), 'build-'));
    writeFileSync(join(context, 'data'), randomBytes(kb * 1024));
    writeFileSync(join(context, 'Dockerfile'), `FROM scratch\nCOPY data /data\n`);
    const built = cli(['build', '-q', '-t', ref(repoTag), context]);
    expect(built.status, built.out).toBe(0);
    const id = cli(['image', 'inspect', '--format', '{{.Id}}', ref(repoTag)]).out.trim();
    t.imageIds.add(id);
    return id;
  }

  /** docker push; what docker reports: the manifest's digest and size. */
  function push(repoTag: string): { digest: string; manifestSize: number } {
    const pushed = cli(['push', ref(repoTag)]);
    expect(pushed.status, pushed.out).toBe(0);
    const [, digest = '', size = '0'] = /digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(pushed.out) ?? [];
    return { digest, manifestSize: Number(size) };
  }

  const get = (path: string, headers: Obj = {}) => httpsGet({ port: t.port(), path, ca: t.caCert(), auth: `${t.user}:${t.password}`, headers });

  /** What a tag takes, measured from the bytes the registry serves. */
  async function servedSize(repo: string, digest: string, manifestSize: number): Promise<{ size: number; layers: string[] }> {
    const manifest = JSON.parse((await get(`/v2/${repo}/manifests/${digest}`, { Accept: MANIFEST })).body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
    let size = manifestSize;
    for (const blob of [manifest.config, ...manifest.layers]) size += (await get(`/v2/${repo}/blobs/${blob.digest}`)).body.length;
    return { size, layers: manifest.layers.map((l) => l.digest) };
  }

  /** PUT of a manifest (list) by tag, as buildx pushes one; returns its status. */
  function putManifest(repo: string, tag: string, mediaType: string, body: string): Promise<number> {
    const authorization = `Basic ${Buffer.from(`${t.user}:${t.password}`).toString('base64')}`;
    return new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', servername: 'localhost', port: t.port(), path: `/v2/${repo}/manifests/${tag}`, method: 'PUT', ca: t.caCert(), headers: { 'content-type': mediaType, authorization } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
        .on('error', reject)
        .end(body);
    });
  }

  return { cli, ref, build, push, get, servedSize, putManifest };
}
