/**
 * Our registry's HTTP API (distribution v2.8), from this machine: one tiny function per call.
 * TLS is verified against the state folder's CA for the name `localhost` (what the certificate
 * carries) while connecting to 127.0.0.1; the password travels only in the Authorization header.
 * `registryRequest` is the one HTTPS request (steps/registry-probe.ts's GET /v2/ uses it too).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { ToolError } from '../errors.js';

export interface RegistryEndpoint {
  port: number;
  /** PEM of the CA that signed the registry's certificate. */
  caCert: string;
  credentials: { username: string; password: string };
  timeoutMs?: number;
}

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

/** Without every kind in Accept, distribution answers a schema2 request for an OCI image with 404. */
const ACCEPT = Object.values(MEDIA).join(', ');
const PAGE = 100;

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const FIX = 'check that the cluster runs (k3s-devreg status); k3s-devreg up repairs the registry';
const CERT_FIX = 'run k3s-devreg up to re-apply the registry certificate, or k3s-devreg reset to start over';

export interface HttpsCall {
  /** Where to connect. */
  host: string;
  /** The name the certificate must carry, when it is not the host (the registry's: localhost). */
  servername?: string;
  port: number;
  method: string;
  path: string;
  /** PEM of the only CA trusted: the state folder's. */
  caCert: string;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** The fix when nothing answers. */
  unreachableFix: string;
}

/** Why a TLS handshake failed, as the user can act on it; undefined when it was not the certificate. */
function certificateProblem(code: string, at: string, name: string): string | undefined {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the registry's certificate at ${at} does not name ${name} (${code})`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return `the registry at ${at} does not present a certificate signed by the state folder's CA (${code})`;
  return undefined;
}

/**
 * One HTTPS request to our registry, the one way this program makes one: only the given CA trusted,
 * no connection pool (agent: false, so nothing keeps the process alive), a timeout that destroys
 * the socket, and a failure as a one-line ToolError (the certificate's, or no answer) with its fix.
 */
export function registryRequest(call: HttpsCall): Promise<Reply> {
  const name = call.servername ?? call.host;
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      { host: call.host, ...(call.servername ? { servername: call.servername } : {}), port: call.port, path: call.path, method: call.method, ca: call.caCert, timeout: call.timeoutMs, agent: false, headers: call.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${call.timeoutMs / 1000}s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  }).catch((error: NodeJS.ErrnoException) => {
    const code = error.code ?? '';
    const at = `${name}:${call.port}`;
    const tls = certificateProblem(code, at, name);
    if (tls) throw new ToolError(tls, CERT_FIX);
    throw new ToolError(`the registry does not answer on https://${at}/v2/ (${code || error.message})`, call.unreachableFix);
  });
}

function send(endpoint: RegistryEndpoint, method: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const { username, password } = endpoint.credentials;
  const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  return registryRequest({
    host: '127.0.0.1',
    servername: 'localhost',
    port: endpoint.port,
    method,
    path,
    caCert: endpoint.caCert,
    timeoutMs: endpoint.timeoutMs ?? 30_000,
    headers: { ...headers, authorization },
    unreachableFix: FIX,
  });
}

/** Anything but the expected statuses: 401 means the saved password no longer matches. */
function expect(reply: Reply, action: string, ok: number[]): Reply {
  if (ok.includes(reply.status)) return reply;
  if (reply.status === 401) throw new ToolError(`the registry refused the saved credentials when asked to ${action}`, 'run k3s-devreg up to re-apply them');
  const said = reply.body.toString('utf8').slice(0, 200).trim();
  throw new ToolError(`the registry answered ${reply.status} when asked to ${action}${said ? ` (${said})` : ''}`, FIX);
}

/** The `next` page of a Link header (`</v2/_catalog?last=x&n=100>; rel="next"`), as a path. */
export function nextLink(link: string | string[] | undefined): string | undefined {
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec([link ?? []].flat().join(', '));
  if (!match) return undefined;
  const url = new URL(match[1]!, 'https://localhost');
  return `${url.pathname}${url.search}`;
}

function json<T>(reply: Reply, action: string): T {
  try {
    return JSON.parse(reply.body.toString('utf8')) as T;
  } catch {
    throw new ToolError(`the registry gave an answer that is not JSON when asked to ${action}`, FIX);
  }
}

/** One page of GET /v2/_catalog; `page` is the path of the page a Link header named. */
export async function catalogPage(endpoint: RegistryEndpoint, page?: string): Promise<{ repositories: string[]; next?: string }> {
  const action = 'list its repositories';
  const reply = expect(await send(endpoint, 'GET', page ?? `/v2/_catalog?n=${PAGE}`), action, [200]);
  const next = nextLink(reply.headers.link);
  return { repositories: json<{ repositories?: string[] | null }>(reply, action).repositories ?? [], ...(next ? { next } : {}) };
}

/** One page of GET /v2/<repo>/tags/list; undefined when the repository is unknown. */
export async function tagsPage(endpoint: RegistryEndpoint, repository: string, page?: string): Promise<{ tags: string[]; next?: string } | undefined> {
  const action = `list the tags of ${repository}`;
  const reply = expect(await send(endpoint, 'GET', page ?? `/v2/${repository}/tags/list?n=${PAGE}`), action, [200, 404]);
  if (reply.status === 404) return undefined;
  const next = nextLink(reply.headers.link);
  return { tags: json<{ tags?: string[] | null }>(reply, action).tags ?? [], ...(next ? { next } : {}) };
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

/** HEAD of a manifest by tag or digest: its digest (Docker-Content-Digest), kind and size; undefined when unknown. */
export async function headManifest(endpoint: RegistryEndpoint, repository: string, reference: string): Promise<ManifestHead | undefined> {
  const reply = expect(await send(endpoint, 'HEAD', `/v2/${repository}/manifests/${reference}`, { accept: ACCEPT }), `find ${repository}:${reference}`, [200, 404]);
  if (reply.status === 404) return undefined;
  const digest = String(reply.headers['docker-content-digest'] ?? '');
  if (!digest) throw new ToolError(`the registry sent no Docker-Content-Digest for ${repository}:${reference}`, FIX);
  return { digest, mediaType: String(reply.headers['content-type'] ?? ''), size: Number(reply.headers['content-length'] ?? 0) };
}

/** GET of a manifest by tag or digest: the exact bytes (their sha256 is the digest); undefined when unknown. */
export async function getManifest(endpoint: RegistryEndpoint, repository: string, reference: string): Promise<{ digest: string; mediaType: string; body: string } | undefined> {
  const reply = expect(await send(endpoint, 'GET', `/v2/${repository}/manifests/${reference}`, { accept: ACCEPT }), `read ${repository}:${reference}`, [200, 404]);
  if (reply.status === 404) return undefined;
  return { digest: String(reply.headers['docker-content-digest'] ?? ''), mediaType: String(reply.headers['content-type'] ?? ''), body: reply.body.toString('utf8') };
}

/** GET of a small blob (an image config); undefined when the registry no longer has it. */
export async function getBlob(endpoint: RegistryEndpoint, repository: string, digest: string): Promise<Buffer | undefined> {
  const reply = expect(await send(endpoint, 'GET', `/v2/${repository}/blobs/${digest}`), `read blob ${digest} of ${repository}`, [200, 404]);
  return reply.status === 404 ? undefined : reply.body;
}

/** DELETE of a manifest by digest: every tag pointing at it goes with it. */
export async function deleteManifest(endpoint: RegistryEndpoint, repository: string, digest: string): Promise<'deleted' | 'absent'> {
  const action = `delete ${repository}@${digest}`;
  const reply = await send(endpoint, 'DELETE', `/v2/${repository}/manifests/${digest}`);
  if (reply.status === 405) {
    throw new ToolError(
      `the registry refused to ${action} (405: it is read-only, or deletes are off)`,
      'if a k3s-devreg images prune was interrupted, run it again (it makes the registry writable first); otherwise k3s-devreg up re-applies the registry with deletes on',
    );
  }
  return expect(reply, action, [202, 404]).status === 404 ? 'absent' : 'deleted';
}
