import { X509Certificate, createPrivateKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { isIP } from 'node:net';
import { certificateSummary, daysLeft, ensurePki, isIpAddress, type Pki, type PkiRequest } from '../../src/render/pki.js';

const DAY = 86_400_000;
const NOW = new Date('2026-03-01T12:00:00Z');
const DNS = ['container-registry.local', 'localhost', 'registry.container-registry.svc', 'registry.container-registry.svc.cluster.local'];
const request = (now = NOW, extra: Partial<PkiRequest> = {}): PkiRequest => ({ dnsNames: DNS, ipAddresses: ['127.0.0.1'], now, ...extra });
const x509 = (pem: string) => new X509Certificate(pem);
const signedBy = (cert: string, ca: string) => x509(cert).checkIssued(x509(ca)) && x509(cert).verify(x509(ca).publicKey);

let first: Pki;
let other: Pki;
beforeAll(() => {
  first = ensurePki({}, request()).pki;
  other = ensurePki({}, request()).pki;
});

describe('ensurePki: a new state folder', () => {
  it('creates a CA and a server certificate it signs, each matching its key', () => {
    const plan = ensurePki({}, request());
    expect(plan).toMatchObject({ caCreated: true, serverCertIssued: true });
    expect(signedBy(plan.pki.tlsCert, plan.pki.caCert)).toBe(true);
    expect(x509(plan.pki.caCert).checkPrivateKey(createPrivateKey(plan.pki.caKey))).toBe(true);
    expect(x509(plan.pki.tlsCert).checkPrivateKey(createPrivateKey(plan.pki.tlsKey))).toBe(true);
    expect(plan.pki.caKey).not.toEqual(plan.pki.tlsKey);
  });

  it('uses ECDSA P-256 keys for the CA and the server certificate', () => {
    for (const key of [first.caKey, first.tlsKey]) {
      const k = createPrivateKey(key);
      expect([k.asymmetricKeyType, k.asymmetricKeyDetails?.namedCurve]).toEqual(['ec', 'prime256v1']);
    }
    expect(x509(first.tlsCert).publicKey.asymmetricKeyType).toBe('ec');
  });

  it('makes the CA a CA valid for about ten years, named k3s-devreg local CA', () => {
    const ca = x509(first.caCert);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=k3s-devreg local CA');
    expect(ca.issuer).toBe(ca.subject);
    // Exactly ten years of 365 days from issuance, not merely at least that.
    expect(daysLeft(first.caCert, NOW)).toBe(3650);
  });

  it('issues a one-year, back-dated server certificate with every requested name', () => {
    const tls = x509(first.tlsCert);
    const summary = certificateSummary(first.tlsCert);
    expect(tls.ca).toBe(false);
    expect(tls.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extKeyUsage serverAuth
    expect(summary.subject).toBe('CN=container-registry.local');
    expect(summary.issuer).toBe('CN=k3s-devreg local CA');
    expect(summary.dnsNames).toEqual(DNS);
    expect(summary.ipAddresses).toEqual(['127.0.0.1']);
    const skewMinutes = (NOW.getTime() - summary.notBefore.getTime()) / 60_000;
    expect(skewMinutes).toBeGreaterThan(1);
    expect(skewMinutes).toBeLessThan(30);
    expect(daysLeft(first.tlsCert, NOW)).toBe(365);
  });

  it('gives every certificate a different positive serial', () => {
    const serials = [first.caCert, first.tlsCert, other.caCert, other.tlsCert].map((pem) => x509(pem).serialNumber);
    expect(new Set(serials).size).toBe(4);
    for (const serial of serials) expect(Number.parseInt(serial.slice(0, 1), 16)).toBeLessThan(8);
  });
});

describe('ensurePki: an existing state folder', () => {
  it('returns the existing PEMs byte for byte when nothing needs to change', () => {
    const plan = ensurePki({ ...first }, request(new Date(NOW.getTime() + 10 * DAY)));
    expect(plan).toEqual({ pki: first, caCreated: false, serverCertIssued: false });
    expect(plan.reason).toBeUndefined();
  });

  it('renews the server certificate 340 days after issuance, with the same CA', () => {
    const later = new Date(NOW.getTime() + 340 * DAY);
    const plan = ensurePki({ ...first }, request(later));
    expect(plan).toMatchObject({ caCreated: false, serverCertIssued: true });
    expect(plan.reason).toMatch(/expires in 25 days/);
    expect(plan.pki.caCert).toBe(first.caCert);
    expect(plan.pki.caKey).toBe(first.caKey);
    expect(plan.pki.tlsCert).not.toBe(first.tlsCert);
    expect(signedBy(plan.pki.tlsCert, first.caCert)).toBe(true);
    expect(daysLeft(plan.pki.tlsCert, later)).toBe(365);
    // The renewed set is itself stable.
    expect(ensurePki(plan.pki, request(later)).serverCertIssued).toBe(false);
  });

  it('keeps a certificate with 31 days left and renews one with 29', () => {
    const notAfter = certificateSummary(first.tlsCert).notAfter.getTime();
    const at31 = new Date(notAfter - 31 * DAY);
    expect(daysLeft(first.tlsCert, at31)).toBe(31);
    expect(ensurePki({ ...first }, request(at31)).pki).toEqual(first);
    expect(ensurePki({ ...first }, request(new Date(notAfter - 29 * DAY))).serverCertIssued).toBe(true);
  });

  it('reissues when a name is added to the request', () => {
    const plan = ensurePki({ ...first }, request(NOW, { ipAddresses: ['127.0.0.1', '10.43.0.10'] }));
    expect(plan.serverCertIssued).toBe(true);
    expect(plan.reason).toContain('10.43.0.10');
    expect(certificateSummary(plan.pki.tlsCert).ipAddresses).toEqual(['127.0.0.1', '10.43.0.10']);
    expect(plan.pki.caCert).toBe(first.caCert);
  });

  it('reissues when the server certificate is missing, foreign, mismatched or unreadable', () => {
    const cases: [Partial<Pki>, RegExp][] = [
      [{ caCert: first.caCert, caKey: first.caKey }, /no server certificate/],
      [{ ...first, tlsCert: other.tlsCert, tlsKey: other.tlsKey }, /not signed by this CA/],
      [{ ...first, tlsKey: other.tlsKey }, /key does not match/],
      [{ ...first, tlsCert: 'not a certificate' }, /cannot be read/],
    ];
    for (const [existing, reason] of cases) {
      const plan = ensurePki(existing, request());
      expect(plan.reason).toMatch(reason);
      expect(plan).toMatchObject({ caCreated: false, serverCertIssued: true, pki: { caCert: first.caCert } });
      expect(signedBy(plan.pki.tlsCert, first.caCert)).toBe(true);
    }
  });

  it('refuses an inconsistent or expired CA with a UserError that names the fix', () => {
    const inconsistent: Partial<Pki>[] = [
      { caCert: first.caCert, caKey: other.caKey },
      { caCert: first.caCert },
      { caKey: first.caKey, tlsCert: first.tlsCert, tlsKey: first.tlsKey },
      { caCert: 'garbage', caKey: first.caKey },
    ];
    const fix = expect.stringContaining('k3s-devreg reset');
    for (const existing of inconsistent) {
      expect(() => ensurePki(existing, request())).toThrow(expect.objectContaining({ name: 'UserError', problem: expect.stringContaining('pki/ is inconsistent'), fix }));
      expect(() => ensurePki(existing, request())).toThrow(UserError);
    }
    const expired = () => ensurePki({ ...first }, request(new Date(NOW.getTime() + 3700 * DAY)));
    expect(expired).toThrow(expect.objectContaining({ name: 'UserError', problem: expect.stringMatching(/expired CA/), fix }));
  });

  it('rejects names that are not DNS names or IP addresses', () => {
    expect(() => ensurePki({}, request(NOW, { ipAddresses: ['localhost'] }))).toThrow(UserError);
    expect(() => ensurePki({}, request(NOW, { dnsNames: ['bad name'] }))).toThrow(UserError);
  });
});

describe('daysLeft', () => {
  it('floors to whole days and goes negative after expiry', () => {
    const notAfter = certificateSummary(first.tlsCert).notAfter.getTime();
    expect(daysLeft(first.tlsCert, new Date(notAfter - 1.5 * DAY))).toBe(1);
    expect(daysLeft(first.tlsCert, new Date(notAfter + 0.5 * DAY))).toBe(-1);
  });
});

describe('isIpAddress: what node:net isIP accepts, without loading node:net', () => {
  const cases = [
    '127.0.0.1', '0.0.0.0', '255.255.255.255', '10.43.0.10', '256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4.', '.1.2.3.4', '1..2.3',
    '::1', '::', 'fe80::1', '2001:db8::8a2e:370:7334', '2001:0db8:0000:0000:0000:ff00:0042:8329', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9', ':::1', '1::2::3', 'g::1', '[::1]', 'localhost', '', ' 127.0.0.1', '127.0.0.1 ', '1.2.3.4/8',
  ];
  it.each(cases)('%j', (ip) => {
    expect(isIpAddress(ip)).toBe(isIP(ip) !== 0);
  });
  it('refuses a zone index, which isIP takes but a certificate cannot hold', () => {
    expect([isIP('fe80::1%eth0'), isIpAddress('fe80::1%eth0')]).toEqual([6, false]);
  });
});
