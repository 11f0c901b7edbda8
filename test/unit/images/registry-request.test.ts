/**
 * The one HTTPS request to the registry (tools/registry-api.ts registryRequest), which probeRegistry
 * (status, up, doctor) and the images API both use: against a real TLS server in this process with
 * certificates from render/pki.ts; each TLS failure is its own one-line message with the fix.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki, type Pki } from '../../../src/render/pki.js';
import { probeProblem, probeRegistry } from '../../../src/steps/registry-probe.js';
import { registryRequest } from '../../../src/tools/registry-api.js';

const now = new Date();
const AUTH = `Basic ${Buffer.from('devreg:Request-Test-Pass').toString('base64')}`;
let ours: Pki;
let foreign: Pki;
let server: Server;
let port = 0;

beforeAll(async () => {
  ours = ensurePki({}, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now }).pki;
  foreign = ensurePki({}, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now }).pki;
  server = createServer({ cert: ours.tlsCert, key: ours.tlsKey }, (req, res) => {
    res.statusCode = req.headers.authorization === AUTH ? 200 : 401;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const call = (over: Partial<Parameters<typeof registryRequest>[0]> = {}) =>
  registryRequest({ host: '127.0.0.1', servername: 'localhost', port, method: 'GET', path: '/v2/', caCert: ours.caCert, timeoutMs: 5_000, unreachableFix: 'check the port', ...over });

describe('registryRequest', () => {
  it('trusts the given CA, for the servername or the address, and returns status and body', async () => {
    const reply = await call({ headers: { authorization: AUTH } });
    expect([reply.status, reply.body.toString()]).toEqual([200, '{}']);
    expect((await call({ servername: undefined })).status).toBe(401);
  });

  it('a certificate that does not name the host says so (not "another CA")', async () => {
    await expect(call({ servername: 'container-registry.local' })).rejects.toThrow(
      "the registry's certificate at container-registry.local:" + port + ' does not name container-registry.local (ERR_TLS_CERT_ALTNAME_INVALID): run k3s-devreg up to re-apply the registry certificate, or k3s-devreg reset to start over',
    );
  });

  it('a certificate of another CA, and a closed port, are one line each with the fix', async () => {
    await expect(call({ caCert: foreign.caCert })).rejects.toThrow(/^the registry at localhost:\d+ does not present a certificate signed by the state folder's CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): run k3s-devreg up/);
    const closed = createServer({ cert: ours.tlsCert, key: ours.tlsKey });
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(call({ port: closedPort })).rejects.toThrow(`the registry does not answer on https://localhost:${closedPort}/v2/ (ECONNREFUSED): check the port`);
  });

  it('probeRegistry is built on it: 401 without, 200 with the credentials, and its messages as before', async () => {
    const result = await probeRegistry({ port, caCert: ours.caCert, credentials: { username: 'devreg', password: 'Request-Test-Pass' } });
    expect([result, probeProblem(result)]).toEqual([{ anonymous: 401, authenticated: 200 }, undefined]);
    await expect(probeRegistry({ port, caCert: foreign.caCert, credentials: { username: 'devreg', password: 'x' } })).rejects.toThrow(`the registry at 127.0.0.1:${port} does not present a certificate signed by the state folder's CA`);
    await expect(probeRegistry({ port, host: 'localhost', caCert: ours.caCert, credentials: { username: 'devreg', password: 'x' } })).resolves.toEqual({ anonymous: 401, authenticated: 401 });
  });
});
