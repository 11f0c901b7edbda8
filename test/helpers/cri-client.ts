/**
 * A minimal CRI image client (runtime.v1.ImageService over containerd's unix socket): the calls a
 * kubelet makes to pull, with no credentials in the request (test/node/cri-image.proto).
 */
import { fileURLToPath } from 'node:url';
import { callCri, criClient, type CriClient } from './cri-grpc.js';

const PROTO = fileURLToPath(new URL('../node/cri-image.proto', import.meta.url));

interface ImageStatus {
  image: { id: string; repo_tags: string[]; repo_digests: string[] } | null;
}

export class CriImages {
  private readonly client: CriClient;

  constructor(socket: string) {
    this.client = criClient(PROTO, 'ImageService', socket);
  }

  /** PullImage as the kubelet sends it for a pod without imagePullSecrets; resolves to the image id. */
  pull(image: string, seconds = 90): Promise<string> {
    return callCri<{ image_ref: string }>(this.client, 'PullImage', { image: { image } }, seconds).then((r) => r.image_ref);
  }

  /** The pull's error message (containerd's own words), or throws when the pull succeeds. */
  async pullError(image: string, seconds = 90): Promise<string> {
    const ref = await this.pull(image, seconds).catch((error: Error) => ({ error: error.message }));
    if (typeof ref === 'string') throw new Error(`expected the pull of ${image} to fail, but it pulled ${ref}`);
    return ref.error;
  }

  status(image: string): Promise<ImageStatus['image']> {
    return callCri<ImageStatus>(this.client, 'ImageStatus', { image: { image } }, 10).then((r) => r.image);
  }

  async remove(image: string): Promise<void> {
    await callCri(this.client, 'RemoveImage', { image: { image } }, 10);
  }

  close(): void {
    this.client.close();
  }
}
