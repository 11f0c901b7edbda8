/**
 * The offline image bundle (issue 13): which images a cluster needs to start and pass `verify`, split
 * by who runs them (docker on this machine, or containerd in every node), and the manifest that
 * names them inside the bundle, checked before anything of a bundle is loaded.
 */
import { UserError } from '../errors.js';
import type { ClusterSpec } from '../spec.js';

export const BUNDLE_FORMAT = 'k3s-devreg-bundle/1';
export const BUNDLE_MANIFEST = 'k3s-devreg-bundle.json';
/** docker loads this part; the nodes' k3s imports the other. */
export const DOCKER_PART = 'docker-images.tar';
export const NODE_PART = 'node-images.tar';
/** The node part's name in a state folder's images/ (mounted at k3s's images path): a .tar, never a .txt, which k3s would read as a list to pull. */
export const NODE_ARCHIVE = 'k3s-devreg-bundle.tar';

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  /** The k3s node image the bundle's system images belong to. */
  k3sImage: string;
  k3dVersion: string;
  /** docker's name for it (docker version: Server.Arch), e.g. amd64. */
  architecture: string;
  docker: string[];
  node: string[];
}

/** The registry host an image name names (docker.io when it names none) and the path below it. */
export function registryOf(image: string): { host: string; path: string } {
  const [first = '', ...rest] = image.split('/');
  if (rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) return { host: first, path: rest.join('/') };
  return { host: 'docker.io', path: rest.length === 0 ? `library/${image}` : image };
}

/** docker.io/library/busybox:1.36.1 for busybox:1.36.1, as containerd names what it imports. */
export function fullName(image: string): string {
  const { host, path } = registryOf(image);
  return `${host}/${path}`;
}

/** `rancher/k3s:v1.31.5-k3s1` -> `v1.31.5+k3s1`, the release whose image list applies; undefined for another image. */
export function k3sRelease(k3sImage: string): string | undefined {
  const tag = /^(?:docker\.io\/)?rancher\/k3s:(v\d+\.\d+\.\d+)-(k3s\d+)$/.exec(k3sImage);
  return tag ? `${tag[1]}+${tag[2]}` : undefined;
}

/**
 * k3d's own images, tagged with its version, or what k3d's own variables name instead (k3d-io/k3d
 * pkg/types/images.go: K3D_IMAGE_LOADBALANCER, K3D_IMAGE_TOOLS, K3D_HELPER_IMAGE_TAG).
 */
export function k3dHelperImages(k3dVersion: string, env: NodeJS.ProcessEnv = {}): string[] {
  const tag = env.K3D_HELPER_IMAGE_TAG || k3dVersion;
  return [env.K3D_IMAGE_LOADBALANCER || `ghcr.io/k3d-io/k3d-proxy:${tag}`, env.K3D_IMAGE_TOOLS || `ghcr.io/k3d-io/k3d-tools:${tag}`];
}

export interface BundleRequest {
  spec: Pick<ClusterSpec, 'k3sImage' | 'registryImage' | 'hostsImage'>;
  k3dVersion: string;
  /** The example's base image (verify builds on it here). */
  exampleBase: string;
  /** The user's own images (--with, the team file's images:), for the nodes. */
  extra: readonly string[];
  /** The system images of each k3s release (assets/k3s-system-images.json). */
  releases: Readonly<Record<string, readonly string[]>>;
  /** k3d's image variables, if set (see k3dHelperImages). */
  env?: NodeJS.ProcessEnv;
}

/** What docker runs (the nodes, k3d's helpers, verify's base) and what the nodes import (the rest). */
export function bundleImages(request: BundleRequest): { docker: string[]; node: string[] } {
  const release = k3sRelease(request.spec.k3sImage);
  const system = release ? request.releases[release] : undefined;
  if (!system) {
    const known = Object.keys(request.releases).join(', ');
    throw new UserError(`the system images of ${request.spec.k3sImage} are not known to this version of k3s-devreg (it knows ${known})`, `bundle the pinned k3s: drop --k3s-image (or k3sImage in the team file)`);
  }
  const unique = (images: readonly string[]): string[] => [...new Set(images)];
  return {
    docker: unique([request.spec.k3sImage, ...k3dHelperImages(request.k3dVersion, request.env), request.exampleBase]),
    node: unique([...system, request.spec.registryImage, request.spec.hostsImage, ...request.extra]),
  };
}

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0);

/** The manifest of a bundle file, or a one-line error naming the file and what is wrong with it. */
export function parseBundleManifest(text: string | undefined, file: string): BundleManifest {
  const foreign = (problem: string) => new UserError(`${file} is not a k3s-devreg image bundle (${problem})`, 'make one with k3s-devreg images save on a connected machine');
  if (text === undefined) throw foreign(`no ${BUNDLE_MANIFEST} in it`);
  let value: Partial<BundleManifest>;
  try {
    value = JSON.parse(text) as Partial<BundleManifest>;
  } catch {
    throw foreign(`${BUNDLE_MANIFEST} is not JSON`);
  }
  if (value.format !== BUNDLE_FORMAT) throw foreign(`format ${JSON.stringify(value.format)}, expected ${BUNDLE_FORMAT}`);
  const { k3sImage, k3dVersion, architecture, docker, node } = value;
  if (typeof k3sImage !== 'string' || typeof k3dVersion !== 'string' || typeof architecture !== 'string' || !isStringList(docker) || !isStringList(node)) {
    throw foreign(`${BUNDLE_MANIFEST} lacks k3sImage, k3dVersion, architecture or its image lists`);
  }
  return { format: BUNDLE_FORMAT, k3sImage, k3dVersion, architecture, docker, node };
}

/** A bundle made for another machine or another k3s: refused before anything of it is loaded. */
export function checkBundleFits(manifest: BundleManifest, here: { architecture: string; k3sImage: string }, file: string): void {
  if (manifest.architecture !== here.architecture) {
    throw new UserError(`${file} holds ${manifest.architecture} images, and this docker runs ${here.architecture}`, `make the bundle on a ${here.architecture} machine (or with docker's --platform) and load that one`);
  }
  if (manifest.k3sImage !== here.k3sImage) {
    throw new UserError(`${file} is for ${manifest.k3sImage}, and this setup runs ${here.k3sImage}`, `make a bundle for ${here.k3sImage} with k3s-devreg images save, or pass --k3s-image ${manifest.k3sImage}`);
  }
}
