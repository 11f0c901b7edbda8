/**
 * `images save` takes what docker lacks from the pull-through cache when one runs for the image's
 * registry: what a cluster already pulled is not downloaded again. The cache is on no host port, so a
 * relay (the same registry image, in proxy mode in front of the cache, on the cache's network and on
 * 127.0.0.1 only, which docker pulls from over plain http) lives for the pulls and is removed after.
 */
import { CACHE_PORT, cacheContainerName, isOurCache } from '../cache/spec.js';
import { registryOf } from '../images/bundle.js';

export { registryOf } from '../images/bundle.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../spec.js';
import { inspectContainers } from '../tools/docker.js';
import { runDetached } from '../tools/docker-containers.js';
import { removeContainers } from '../tools/docker-labelled.js';
import { pullImage, publishedPort, retagImage, untagImage } from '../tools/docker-images.js';
import type { Runner } from '../tools/run.js';

export const RELAY_LABEL = 'dev.k3s-devreg/cache-relay';

export interface CachePullRequest {
  run: Runner;
  /** The image the relay runs (the cache's own: the registry image). */
  registryImage: string;
  say: (line: string) => void;
  /** Waits until the relay answers; injected by tests. */
  ready?: (port: number) => Promise<boolean>;
}

async function answers(port: number): Promise<boolean> {
  for (let tries = 0; tries < 50; tries++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/**
 * Pulls each image whose registry has a running cache of ours through it; returns the images it
 * could not get that way (pulled directly by the caller).
 */
export async function pullThroughCaches(images: readonly string[], request: CachePullRequest): Promise<string[]> {
  const { run } = request;
  const byHost = new Map<string, string[]>();
  for (const image of images) byHost.set(registryOf(image).host, [...(byHost.get(registryOf(image).host) ?? []), image]);
  const caches = await inspectContainers(run, [...byHost.keys()].map(cacheContainerName));
  const left: string[] = [];
  for (const [host, wanted] of byHost) {
    const cache = caches.get(cacheContainerName(host));
    const network = cache?.networks[0];
    if (!cache?.running || !isOurCache(cache.labels) || !network) {
      left.push(...wanted);
      continue;
    }
    const relay = `k3s-devreg-cache-relay-${process.pid}`;
    const args = [
      'run', '-d', '--name', relay, '--label', `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`, '--label', `${RELAY_LABEL}=${host}`,
      '--network', network, '-p', `127.0.0.1::${CACHE_PORT}`, '-e', `REGISTRY_PROXY_REMOTEURL=http://${cache.name}:${CACHE_PORT}`, request.registryImage,
    ];
    await runDetached(run, args, relay);
    try {
      const port = await publishedPort(run, relay, CACHE_PORT);
      if (!(await (request.ready ?? answers)(port))) {
        left.push(...wanted);
        continue;
      }
      for (const image of wanted) {
        const via = `127.0.0.1:${port}/${registryOf(image).path}`;
        request.say(`pulling ${image} through the pull-through cache ${cache.name}`);
        try {
          await pullImage(run, via);
          await retagImage(run, via, image);
          await untagImage(run, via);
        } catch {
          left.push(image);
        }
      }
    } finally {
      // With its own storage: an anonymous volume of the registry image.
      await removeContainers(run, [relay], { volumes: true });
    }
  }
  return left;
}
