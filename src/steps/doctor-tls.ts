/**
 * doctor's TLS check, made on this machine: a handshake with the registry on 127.0.0.1:<port> for
 * container-registry.local that trusts only the CA a node trusts, as containerd on that node does.
 * The chain and the name are checked (node's verification, not rejecting, so the served
 * certificate is kept for its own checks). No request is sent, so no credential either.
 */
import { connect } from 'node:tls';
import type { TlsCheck } from '../doctor/node-trust.js';
import { toPem } from '../render/x509.js';
import { REGISTRY_HOST } from '../spec.js';

export function checkRegistryTls(request: { port: number; caPem: string; host?: string; timeoutMs?: number }): Promise<TlsCheck> {
  const { port } = request;
  const timeoutMs = request.timeoutMs ?? 5_000;
  return new Promise((resolve) => {
    const socket = connect({ host: request.host ?? '127.0.0.1', port, servername: REGISTRY_HOST, ca: request.caPem, rejectUnauthorized: false, timeout: timeoutMs });
    const done = (result: TlsCheck) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate()?.raw;
      const error = socket.authorizationError;
      done({
        port,
        authorized: socket.authorized,
        ...(error ? { error: typeof error === 'string' ? error : ((error as NodeJS.ErrnoException).code ?? error.message) } : {}),
        ...(raw ? { servedPem: toPem('CERTIFICATE', raw) } : {}),
      });
    });
    socket.once('timeout', () => done({ port, authorized: false, unreachable: `no TLS answer within ${timeoutMs / 1000}s` }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ port, authorized: false, unreachable: error.code ?? error.message }));
  });
}
