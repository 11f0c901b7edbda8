/**
 * A minimal CRI image client (runtime.v1.ImageService over containerd's unix socket): the calls a
 * kubelet makes to pull, with no credentials in the request (test/node/cri-image.proto).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const PROTO = fileURLToPath(new URL('../node/cri-image.proto', import.meta.url));

interface ImageStatus {
  image: { id: string; repo_tags: string[]; repo_digests: string[] } | null;
}
type Call<Req, Res> = (request: Req, options: { deadline: Date }, callback: (error: grpc.ServiceError | null, response: Res) => void) => void;
interface ImageServiceClient extends grpc.Client {
  PullImage: Call<{ image: { image: string } }, { image_ref: string }>;
  ImageStatus: Call<{ image: { image: string } }, ImageStatus>;
  RemoveImage: Call<{ image: { image: string } }, object>;
}

let service: grpc.ServiceClientConstructor | undefined;
function imageService(): grpc.ServiceClientConstructor {
  if (!service) {
    const definition = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true });
    const runtime = (grpc.loadPackageDefinition(definition).runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    service = runtime.ImageService as grpc.ServiceClientConstructor;
  }
  return service;
}

export class CriImages {
  private readonly client: ImageServiceClient;

  constructor(socket: string) {
    this.client = new (imageService())(`unix://${socket}`, grpc.credentials.createInsecure()) as unknown as ImageServiceClient;
  }

  private call<Req, Res>(method: Call<Req, Res>, request: Req, seconds: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(this.client, request, { deadline: new Date(Date.now() + seconds * 1000) }, (error, response) =>
        error ? reject(new Error(error.details || error.message)) : resolve(response),
      );
    });
  }

  /** PullImage as the kubelet sends it for a pod without imagePullSecrets; resolves to the image id. */
  pull(image: string, seconds = 90): Promise<string> {
    return this.call(this.client.PullImage, { image: { image } }, seconds).then((r) => r.image_ref);
  }

  /** The pull's error message (containerd's own words), or throws when the pull succeeds. */
  async pullError(image: string, seconds = 90): Promise<string> {
    const ref = await this.pull(image, seconds).catch((error: Error) => ({ error: error.message }));
    if (typeof ref === 'string') throw new Error(`expected the pull of ${image} to fail, but it pulled ${ref}`);
    return ref.error;
  }

  status(image: string): Promise<ImageStatus['image']> {
    return this.call(this.client.ImageStatus, { image: { image } }, 10).then((r) => r.image);
  }

  async remove(image: string): Promise<void> {
    await this.call(this.client.RemoveImage, { image: { image } }, 10);
  }

  close(): void {
    this.client.close();
  }
}
