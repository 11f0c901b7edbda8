/**
 * Asks the registry, from this machine, for GET /v2/ over https, trusting only the state folder's
 * CA: 401 without credentials and 200 with them means it is up, serves our certificate, and checks
 * our password. The password goes in an Authorization header, never into a command line.
 */
import { registryRequest } from '../tools/registry-api.js';

export interface ProbeRequest {
  port: number;
  /** PEM of the CA that signed the registry's certificate. */
  caCert: string;
  credentials: { username: string; password: string };
  host?: string;
  timeoutMs?: number;
}

export interface ProbeResult {
  /** Status of GET /v2/ without credentials (401 expected). */
  anonymous: number;
  /** Status of GET /v2/ with the credentials (200 expected). */
  authenticated: number;
}

export async function probeRegistry(probe: ProbeRequest): Promise<ProbeResult> {
  const host = probe.host ?? '127.0.0.1';
  const basic = `Basic ${Buffer.from(`${probe.credentials.username}:${probe.credentials.password}`, 'utf8').toString('base64')}`;
  const get = async (authorization?: string) =>
    (
      await registryRequest({
        host,
        port: probe.port,
        method: 'GET',
        path: '/v2/',
        caCert: probe.caCert,
        timeoutMs: probe.timeoutMs ?? 5_000,
        headers: authorization ? { authorization } : {},
        unreachableFix: 'check that the cluster runs (k3s-devreg status) and that nothing else holds the port',
      })
    ).status;
  const anonymous = await get();
  const authenticated = await get(basic);
  return { anonymous, authenticated };
}

/** A one-line verdict: undefined when the registry answered as expected. */
export function probeProblem(result: ProbeResult): string | undefined {
  if (result.anonymous !== 401) return `GET /v2/ without credentials answered ${result.anonymous}, expected 401 (is authentication off?)`;
  if (result.authenticated !== 200) return `GET /v2/ with the saved credentials answered ${result.authenticated}, expected 200 (the registry's htpasswd does not match credentials.json)`;
  return undefined;
}
