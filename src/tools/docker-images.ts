/** One tiny function per docker image command the offline bundle uses (images save/load). */
import { DOCKER, ensureOk, parseJson } from './failure.js';
import { NOT_RUNNING_FIX } from './docker.js';
import type { Runner } from './run.js';

const QUICK_MS = 30_000;
// Pulling, saving or loading a few hundred MB.
const IMAGE_MS = 20 * 60_000;

/** docker's architecture (`docker version`: Server.Arch, e.g. amd64, arm64: the names image configs use). */
export async function dockerArchitecture(run: Runner): Promise<string> {
  const result = await run('docker', ['version', '--format', '{{.Server.Arch}}'], { timeoutMs: QUICK_MS });
  ensureOk(DOCKER, 'ask docker for its architecture', result, NOT_RUNNING_FIX, QUICK_MS);
  return result.stdout.trim();
}

/** The images docker has, of those named (one `docker image inspect`), with each one's architecture. */
export async function imagesPresent(run: Runner, images: readonly string[]): Promise<Map<string, { architecture: string }>> {
  const found = new Map<string, { architecture: string }>();
  if (images.length === 0) return found;
  const result = await run('docker', ['image', 'inspect', '--format', '{{json .RepoTags}} {{.Architecture}}', ...images], { timeoutMs: QUICK_MS });
  // docker prints the images it has and exits 1 naming each one it has not.
  const other = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/no such (image|object)/i.test(line));
  if (result.exitCode !== 0 && (result.notFound || result.timedOut || other.length > 0)) ensureOk(DOCKER, 'look for the images', result, NOT_RUNNING_FIX, QUICK_MS);
  const tags = new Set<string>();
  const archOf = new Map<string, string>();
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    const [json = '[]', architecture = ''] = line.split(' ');
    for (const tag of parseJson<string[] | null>(DOCKER, 'look for the images', json) ?? []) {
      tags.add(tag);
      archOf.set(tag, architecture);
    }
  }
  for (const image of images) {
    const short = image.replace(/^docker\.io\/(library\/)?/, '');
    const tag = [image, short].find((name) => tags.has(name));
    if (tag) found.set(image, { architecture: archOf.get(tag)! });
  }
  return found;
}

export async function pullImage(run: Runner, image: string): Promise<void> {
  ensureOk(DOCKER, `pull ${image}`, await run('docker', ['pull', image], { timeoutMs: IMAGE_MS }), 'check the network and the image name, or docker login to its registry', IMAGE_MS);
}

/** `docker save --output FILE IMAGE...`: one archive in docker's format, which both docker load and k3s import. */
export async function saveImages(run: Runner, file: string, images: readonly string[]): Promise<void> {
  ensureOk(DOCKER, `save ${images.length} image(s) to ${file}`, await run('docker', ['save', '--output', file, ...images], { timeoutMs: IMAGE_MS }), 'check the free space where the bundle goes', IMAGE_MS);
}

export async function loadImages(run: Runner, file: string): Promise<void> {
  ensureOk(DOCKER, `load the images in ${file}`, await run('docker', ['load', '--input', file], { timeoutMs: IMAGE_MS }), 'check the free space of docker (docker system df)', IMAGE_MS);
}

/** The host port docker published for a container port (`docker port NAME 5000/tcp`: 127.0.0.1:49153). */
export async function publishedPort(run: Runner, container: string, port: number): Promise<number> {
  const result = await run('docker', ['port', container, `${port}/tcp`], { timeoutMs: QUICK_MS });
  ensureOk(DOCKER, `ask docker which port ${container} got`, result, NOT_RUNNING_FIX, QUICK_MS);
  const published = Number(/:(\d+)\s*$/m.exec(result.stdout)?.[1]);
  if (!Number.isInteger(published) || published <= 0) throw new Error(`docker port ${container} ${port}/tcp printed no port: ${result.stdout.trim()}`);
  return published;
}

export async function retagImage(run: Runner, from: string, to: string): Promise<void> {
  ensureOk(DOCKER, `tag ${from} as ${to}`, await run('docker', ['tag', from, to], { timeoutMs: QUICK_MS }), NOT_RUNNING_FIX, QUICK_MS);
}

/** Removes one name of an image (`docker rmi NAME`); the image stays while another name has it. */
export async function untagImage(run: Runner, name: string): Promise<void> {
  ensureOk(DOCKER, `remove the name ${name}`, await run('docker', ['rmi', name], { timeoutMs: QUICK_MS }), NOT_RUNNING_FIX, QUICK_MS);
}
