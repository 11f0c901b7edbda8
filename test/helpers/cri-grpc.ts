/**
 * What both CRI clients share: a service of the runtime.v1 package loaded from its proto, a client
 * on containerd's unix socket, and one unary call with a deadline that rejects with the server's words.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

type Unary = (request: object, options: { deadline: Date }, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void;
export type CriClient = grpc.Client & Record<string, Unary>;

const services = new Map<string, grpc.ServiceClientConstructor>();

/** A client of runtime.v1.<service> on `socket`; enums as their names (NODE, SANDBOX_READY). */
export function criClient(protoPath: string, service: string, socket: string): CriClient {
  const key = `${protoPath}#${service}`;
  let constructor = services.get(key);
  if (!constructor) {
    const definition = protoLoader.loadSync(protoPath, { keepCase: true, defaults: true, enums: String });
    const runtime = (grpc.loadPackageDefinition(definition).runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    constructor = runtime[service] as grpc.ServiceClientConstructor;
    services.set(key, constructor);
  }
  return new constructor(`unix://${socket}`, grpc.credentials.createInsecure()) as unknown as CriClient;
}

export function callCri<Res>(client: CriClient, method: string, request: object, seconds: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    client[method]!.call(client, request, { deadline: new Date(Date.now() + seconds * 1000) }, (error, response) =>
      error ? reject(new Error(error.details || error.message)) : resolve(response as Res),
    );
  });
}
