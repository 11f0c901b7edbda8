/**
 * Asks the registry, from this machine, for GET /v2/ over https, trusting only the state folder's
 * CA: 401 without credentials and 200 with them means it is up, serves our certificate, and checks
 * our password. The password goes in an Authorization header, never into a command line.
 */
import { request } from 'node:https';
import { ToolError } from '../errors.js';

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

function get(url: URL, caCert: string, timeoutMs: number, authorization?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', ca: caCert, timeout: timeoutMs, headers: authorization ? { authorization } : {}, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000}s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

export async function probeRegistry(probe: ProbeRequest): Promise<ProbeResult> {
  const url = new URL(`https://${probe.host ?? '127.0.0.1'}:${probe.port}/v2/`);
  const timeoutMs = probe.timeoutMs ?? 5_000;
  const basic = `Basic ${Buffer.from(`${probe.credentials.username}:${probe.credentials.password}`, 'utf8').toString('base64')}`;
  try {
    const anonymous = await get(url, probe.caCert, timeoutMs);
    const authenticated = await get(url, probe.caCert, timeoutMs, basic);
    return { anonymous, authenticated };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const message = (error as Error).message;
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      throw new ToolError(
        `the registry at ${url.host} does not present a certificate signed by the state folder's CA (${code})`,
        'run k3s-devreg up to re-apply the registry certificate, or k3s-devreg reset to start over',
      );
    }
    throw new ToolError(
      `the registry does not answer on ${url.href} (${code || message})`,
      'check that the cluster runs (k3s-devreg status) and that nothing else holds the port',
    );
  }
}

/** A one-line verdict: undefined when the registry answered as expected. */
export function probeProblem(result: ProbeResult): string | undefined {
  if (result.anonymous !== 401) return `GET /v2/ without credentials answered ${result.anonymous}, expected 401 (is authentication off?)`;
  if (result.authenticated !== 200) return `GET /v2/ with the saved credentials answered ${result.authenticated}, expected 200 (the registry's htpasswd does not match credentials.json)`;
  return undefined;
}
