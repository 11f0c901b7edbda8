/**
 * The registry's certificates: a long-lived local CA the nodes trust, and a short-lived server
 * certificate it signs. ECDSA P-256 keys from node:crypto, signed natively (x509.ts); node's
 * X509Certificate reads them back.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { UserError } from '../errors.js';
import { REGISTRY_HOST } from '../spec.js';
import { issueCertificate, keyTypeOf, publicKeyOf, subjectDer, subjectKeyIdentifier, type KeyType } from './x509.js';

export interface Pki { caCert: string; caKey: string; tlsCert: string; tlsKey: string }
export interface PkiRequest { dnsNames: string[]; ipAddresses: string[]; now: Date }
export interface PkiPlan { pki: Pki; caCreated: boolean; serverCertIssued: boolean; reason?: string }
export interface CertificateSummary { subject: string; issuer: string; notBefore: Date; notAfter: Date; dnsNames: string[]; ipAddresses: string[] }

const CA_NAME = 'k3s-devreg local CA';
const DAY_MS = 86_400_000;
const RENEW_WITHIN_DAYS = 30;
// Back-dated so a node whose clock runs a little behind still accepts a fresh certificate.
const CLOCK_SKEW_MS = 5 * 60_000;
const PKI_FIX = 'run `k3s-devreg reset` to start over with a new CA, or restore both pki/ca.crt and pki/ca.key from a backup';

/**
 * Keeps an existing CA (a new CA would break the nodes' trust). Issues a new server certificate (same CA)
 * when it is missing, not signed by this CA, lacks a requested SAN, its key does not match, or it is within
 * 30 days of expiry. Otherwise returns the existing PEMs byte for byte.
 */
export function ensurePki(existing: Partial<Pki>, request: PkiRequest): PkiPlan {
  validateRequest(request);
  const { caCert, caKey } = existing;
  const caCreated = !caCert && !caKey;
  const ca = caCreated ? createCa(request.now) : checkCa(caCert, caKey, request.now);
  const reason = caCreated ? 'a new CA was created' : serverCertProblem(existing, ca.caCert, request);
  if (!reason) return { pki: { ...ca, tlsCert: existing.tlsCert!, tlsKey: existing.tlsKey! }, caCreated, serverCertIssued: false };
  return { pki: { ...ca, ...issueServerCert(ca, request) }, caCreated, serverCertIssued: true, reason };
}

export function certificateSummary(pem: string): CertificateSummary {
  const cert = new X509Certificate(pem);
  const names = [...(cert.subjectAltName ?? '').matchAll(/(DNS|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)/g)].map(
    ([, type, raw = '']) => ({ type, value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw.trim() }),
  );
  return {
    subject: cert.subject, issuer: cert.issuer, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo),
    dnsNames: names.filter((n) => n.type === 'DNS').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'IP Address').map((n) => n.value),
  };
}

/** Whole days until notAfter (floor), negative once expired. */
export function daysLeft(pem: string, now: Date): number {
  return Math.floor((new Date(new X509Certificate(pem).validTo).getTime() - now.getTime()) / DAY_MS);
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?!$)|$)){4}$/;

/** node:net's isIP would load the whole net module (5 ms of every render) for two addresses. */
export function isIpAddress(ip: string): boolean {
  if (IPV4.test(ip)) return true;
  if (!ip.includes(':') || !/^[\da-f:.]+$/i.test(ip)) return false;
  try {
    // The WHATWG URL parser accepts exactly the IPv6 address syntax in brackets.
    return new URL(`http://[${ip}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

function validateRequest({ dnsNames, ipAddresses }: PkiRequest): void {
  const bad = [...ipAddresses.filter((ip) => !isIpAddress(ip)), ...dnsNames.filter((n) => !/^[\w*]([\w.-]*\w)?$/.test(n))];
  if (bad.length > 0) {
    throw new UserError(`invalid certificate names ${JSON.stringify(bad)}`, 'give DNS names like container-registry.local and IP addresses like 127.0.0.1');
  }
}

function checkCa(caCert: string | undefined, caKey: string | undefined, now: Date): { caCert: string; caKey: string } {
  let problem = !caCert ? 'is inconsistent: pki/ca.key exists without pki/ca.crt' : !caKey ? 'is inconsistent: pki/ca.crt exists without pki/ca.key' : '';
  if (caCert && caKey) {
    try {
      const cert = new X509Certificate(caCert);
      if (!cert.checkPrivateKey(createPrivateKey(caKey))) problem = 'is inconsistent: pki/ca.key does not belong to pki/ca.crt';
      else if (new Date(cert.validTo) <= now) problem = `holds an expired CA: pki/ca.crt expired on ${cert.validTo}`;
    } catch {
      problem = 'is inconsistent: pki/ca.crt or pki/ca.key cannot be read as PEM';
    }
  }
  if (problem) throw new UserError(`the state folder's pki/ ${problem}`, PKI_FIX);
  return { caCert: caCert!, caKey: caKey! };
}

/** Why the existing server certificate cannot be kept, or undefined when it can. */
function serverCertProblem(existing: Partial<Pki>, caPem: string, request: PkiRequest): string | undefined {
  if (!existing.tlsCert || !existing.tlsKey) return 'no server certificate or key';
  try {
    const cert = new X509Certificate(existing.tlsCert);
    const ca = new X509Certificate(caPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'the server certificate is not signed by this CA';
    if (!cert.checkPrivateKey(createPrivateKey(existing.tlsKey))) return 'the server key does not match its certificate';
    const missing = [
      ...request.dnsNames.filter((name) => !cert.checkHost(name, { subject: 'never', wildcards: false })),
      ...request.ipAddresses.filter((ip) => !cert.checkIP(ip)),
    ];
    if (missing.length > 0) return `the server certificate lacks ${missing.join(', ')}`;
    if (new Date(cert.validFrom) > request.now) return 'the server certificate is not valid yet';
    const left = new Date(cert.validTo).getTime() - request.now.getTime();
    if (left <= RENEW_WITHIN_DAYS * DAY_MS) return `the server certificate expires in ${Math.floor(left / DAY_MS)} days`;
  } catch {
    return 'the server certificate or key cannot be read';
  }
  return undefined;
}

/** A fresh key of the given type: ECDSA P-256 for new setups (0.4 ms), RSA-2048 to match a CA made by an earlier version. */
function newKey(type: KeyType): { key: string; keyObject: KeyObject } {
  const { privateKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, keyObject: privateKey };
}

/** A random positive serial, and validity from a little before `now`. */
function basics(now: Date, days: number): { serialHex: string; notBefore: Date; notAfter: Date } {
  const serial = randomBytes(16);
  // DER integers are signed and minimal: a clear top bit keeps it positive, a non-zero byte keeps it minimal.
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return { serialHex: serial.toString('hex'), notBefore: new Date(now.getTime() - CLOCK_SKEW_MS), notAfter: new Date(now.getTime() + days * DAY_MS) };
}

function createCa(now: Date): { caCert: string; caKey: string } {
  const { key, keyObject } = newKey('ec');
  const caCert = issueCertificate({
    ...basics(now, 3650),
    commonName: CA_NAME,
    ca: true,
    keyUsage: ['keyCertSign', 'cRLSign'],
    publicKey: publicKeyOf(keyObject),
    signingKey: keyObject,
  });
  return { caCert, caKey: key };
}

function issueServerCert(ca: { caCert: string; caKey: string }, request: PkiRequest): { tlsCert: string; tlsKey: string } {
  const caKey = createPrivateKey(ca.caKey);
  // The CA's own key type: an RSA CA from an earlier version keeps issuing RSA (its nodes trust it).
  const type = keyTypeOf(caKey);
  const { key, keyObject } = newKey(type);
  const tlsCert = issueCertificate({
    ...basics(request.now, 365),
    commonName: REGISTRY_HOST,
    issuerDer: subjectDer(ca.caCert),
    ca: false,
    // keyEncipherment is for RSA key transport only (RFC 5480 forbids it for EC keys).
    keyUsage: type === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'],
    serverAuth: true,
    dnsNames: [...new Set(request.dnsNames)],
    ipAddresses: [...new Set(request.ipAddresses)],
    authorityKeyIdentifier: subjectKeyIdentifier(publicKeyOf(caKey)),
    publicKey: publicKeyOf(keyObject),
    signingKey: caKey,
  });
  return { tlsCert, tlsKey: key };
}
