/**
 * Our certificates as the real openssl sees them. Needs no docker; without openssl the file is skipped
 * with a notice, except under CI=true, where that fails.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki, type Pki } from '../../src/render/pki.js';
import { requireTool } from '../helpers/tools.js';

const opensslAvailable = requireTool(spawnSync('openssl', ['version'], { stdio: 'pipe' }).error === undefined, 'openssl', 'apt-get install openssl');

const DAY = 86_400_000;
const SANS = ['container-registry.local', 'localhost', 'registry.container-registry.svc', 'registry.container-registry.svc.cluster.local'];
const NOW = new Date();

describe.skipIf(!opensslAvailable)('certificates checked with openssl', () => {
  let dir: string;
  let pki: Pki;
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' });
  const write = (set: Pki) => {
    writeFileSync(file('ca.crt'), set.caCert);
    writeFileSync(file('ca.key'), set.caKey);
    writeFileSync(file('tls.crt'), set.tlsCert);
    writeFileSync(file('tls.key'), set.tlsKey);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'k3s-devreg-pki-'));
    pki = ensurePki({}, { dnsNames: SANS, ipAddresses: ['127.0.0.1'], now: NOW }).pki;
    write(pki);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the server certificate against the CA for TLS server use', () => {
    expect(openssl('verify', '-purpose', 'sslserver', '-CAfile', file('ca.crt'), file('tls.crt'))).toContain(': OK');
    expect(() => openssl('verify', '-CAfile', file('tls.crt'), file('ca.crt'))).toThrow();
  });

  it('lists every requested name in subjectAltName', () => {
    const san = openssl('x509', '-in', file('tls.crt'), '-noout', '-ext', 'subjectAltName');
    for (const name of SANS) expect(san).toContain(`DNS:${name}`);
    expect(san).toContain('IP Address:127.0.0.1');
  });

  it('pairs each certificate with its own key', () => {
    for (const [cert, key] of [['tls.crt', 'tls.key'], ['ca.crt', 'ca.key']] as const) {
      const fromCert = openssl('x509', '-in', file(cert), '-noout', '-pubkey');
      expect(fromCert).toContain('BEGIN PUBLIC KEY');
      expect(openssl('pkey', '-in', file(key), '-pubout')).toBe(fromCert);
    }
    expect(openssl('pkey', '-in', file('ca.key'), '-pubout')).not.toBe(openssl('pkey', '-in', file('tls.key'), '-pubout'));
  });

  it('marks the CA as a critical CA:TRUE cert signer and the server certificate as a serverAuth leaf', () => {
    const ca = openssl('x509', '-in', file('ca.crt'), '-noout', '-text');
    expect(ca).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(ca).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(ca).toContain('Subject: CN = k3s-devreg local CA');
    const tls = openssl('x509', '-in', file('tls.crt'), '-noout', '-text');
    expect(tls).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    // ECDSA keys sign; keyEncipherment is for RSA key transport only (RFC 5480).
    expect(tls).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(tls).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication/);
    for (const text of [ca, tls]) {
      expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
      expect(text).toContain('Public-Key: (256 bit)');
      expect(text).toContain('NIST CURVE: P-256');
    }
    const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(ca)?.[1];
    expect(caSki).toBeTruthy();
    expect(tls).toMatch(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${caSki}`));
  });

  it('writes PEM as openssl does: LF line endings, 64-character lines', () => {
    for (const pem of [pki.caCert, pki.caKey, pki.tlsCert, pki.tlsKey]) {
      expect(pem).not.toContain('\r');
      expect(pem.endsWith('-----\n')).toBe(true);
      expect(pem.split('\n').filter((l) => !l.startsWith('-----') && l !== '').every((l) => l.length <= 64)).toBe(true);
    }
    // openssl re-encodes the certificate to the same text.
    expect(openssl('x509', '-in', file('tls.crt'))).toBe(pki.tlsCert);
  });

  it('an RSA CA made by an earlier version keeps working: renewals use RSA and verify against it', () => {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('rsa-ca.key'), '-out', file('rsa-ca.crt'), '-days', '3650', '-subj', '/CN=k3s-devreg local CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash');
    const old = { caCert: openssl('x509', '-in', file('rsa-ca.crt')), caKey: openssl('pkey', '-in', file('rsa-ca.key')) };
    const plan = ensurePki(old, { dnsNames: SANS, ipAddresses: ['127.0.0.1'], now: NOW });
    expect(plan.caCreated).toBe(false);
    expect(plan.pki.caCert).toBe(old.caCert);
    writeFileSync(file('rsa-tls.crt'), plan.pki.tlsCert);
    expect(openssl('verify', '-purpose', 'sslserver', '-CAfile', file('rsa-ca.crt'), file('rsa-tls.crt'))).toContain(': OK');
    const tls = openssl('x509', '-in', file('rsa-tls.crt'), '-noout', '-text');
    expect(tls).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(tls).toContain('Public-Key: (2048 bit)');
    expect(tls).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(openssl('x509', '-in', file('rsa-ca.crt'), '-noout', '-text'))?.[1];
    expect(tls).toMatch(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${caSki}`));
  });

  it('verifies a renewed server certificate with the original CA', () => {
    const later = new Date(NOW.getTime() + 340 * DAY);
    const renewed = ensurePki(pki, { dnsNames: SANS, ipAddresses: ['127.0.0.1'], now: later }).pki;
    expect(renewed.caCert).toBe(pki.caCert);
    writeFileSync(file('renewed.crt'), renewed.tlsCert);
    const at = String(Math.floor(later.getTime() / 1000));
    expect(openssl('verify', '-attime', at, '-CAfile', file('ca.crt'), file('renewed.crt'))).toContain(': OK');
  });

  it('completes a TLS handshake that checks the host name and the IP (openssl s_client)', async () => {
    // The client closes (s_client does once its stdin ends): a server that ends first races the
    // close_notify, and OpenSSL 3 exits 1 on "unexpected eof" after a successful verification.
    const server = createTlsServer({ cert: pki.tlsCert, key: pki.tlsKey }, (socket) => {
      socket.on('error', () => {});
      socket.write('hello\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const client = (check: string[]) =>
      new Promise<{ code: number; output: string }>((resolve) => {
        const child = execFile(
          'openssl',
          ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', file('ca.crt'), '-verify_return_error', ...check],
          { timeout: 20_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
        );
        child.stdin?.end();
      });
    try {
      const byName = await client(['-servername', 'container-registry.local', '-verify_hostname', 'container-registry.local']);
      expect(byName.output).toContain('Verify return code: 0 (ok)');
      expect(byName.code).toBe(0);
      expect((await client(['-verify_ip', '127.0.0.1'])).code).toBe(0);
      const wrongName = await client(['-verify_hostname', 'example.com']);
      expect(wrongName.code).not.toBe(0);
      expect(wrongName.output).toMatch(/hostname mismatch/i);
    } finally {
      server.close();
    }
  });
});
