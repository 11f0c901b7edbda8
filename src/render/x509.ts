/**
 * X.509 certificates for any key node:crypto makes (ECDSA P-256 by default, RSA for a CA made by an
 * earlier version): node-forge's ASN.1 module lays out the structure (RFC 5280), node:crypto signs.
 */
import { createHash, createPublicKey, KeyObject, sign } from 'node:crypto';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';

type Asn1 = Forge.asn1.Asn1;
// Only forge's ASN.1 module (with the util and OID tables it needs): its certificate module would
// load the RSA, PRNG and cipher code too, 40 ms of start-up spent on arithmetic node:crypto does.
let forgeModule: typeof Forge | undefined;
const forge = (): typeof Forge => {
  if (!forgeModule) {
    const require = createRequire(import.meta.url);
    require('node-forge/lib/asn1.js');
    forgeModule = require('node-forge/lib/forge.js') as typeof Forge;
  }
  return forgeModule;
};

/** ecdsa-with-SHA256 takes no parameters (RFC 5758); sha256WithRSAEncryption takes NULL (RFC 4055). */
const SIGNATURE_OID = { ec: '1.2.840.10045.4.3.2', rsa: '1.2.840.113549.1.1.11' } as const;
const OID = {
  commonName: '2.5.4.3', subjectKeyIdentifier: '2.5.29.14', keyUsage: '2.5.29.15', subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19', authorityKeyIdentifier: '2.5.29.35', extKeyUsage: '2.5.29.37', serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;
/** RFC 5280 4.2.1.3: bit 0 is the most significant bit of the first byte. */
const KEY_USAGE_BIT = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

export type KeyType = keyof typeof SIGNATURE_OID;
export type KeyUsage = keyof typeof KEY_USAGE_BIT;

export function keyTypeOf(key: KeyObject): KeyType {
  const type = key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa') throw new Error(`unsupported key type ${type ?? 'unknown'}`);
  return type;
}

const binary = (buffer: Buffer): string => buffer.toString('binary');
const bytes = (value: string): Buffer => Buffer.from(value, 'binary');

function universal(type: number, value: string | Asn1[]): Asn1 {
  const { asn1 } = forge();
  return asn1.create(asn1.Class.UNIVERSAL, type, Array.isArray(value), value);
}
const sequence = (items: Asn1[]): Asn1 => universal(forge().asn1.Type.SEQUENCE, items);
const oid = (id: string): Asn1 => universal(forge().asn1.Type.OID, forge().asn1.oidToDer(id).getBytes());
const octets = (value: Buffer): Asn1 => universal(forge().asn1.Type.OCTETSTRING, binary(value));
const der = (node: Asn1): Buffer => bytes(forge().asn1.toDer(node).getBytes());

function algorithmIdentifier(type: KeyType): Asn1 {
  return sequence([oid(SIGNATURE_OID[type]), ...(type === 'rsa' ? [universal(forge().asn1.Type.NULL, '')] : [])]);
}

// decodeBitStrings off: forge would otherwise parse an RSA key's BIT STRING into ASN.1 and drop its bytes.
const fromDer = (value: Buffer): Asn1 =>
  (forge().asn1.fromDer as unknown as (der: string, options: { decodeBitStrings: boolean }) => Asn1)(binary(value), { decodeBitStrings: false });
const spkiAsn1 = (publicKey: KeyObject): Asn1 => fromDer(publicKey.export({ type: 'spki', format: 'der' }));

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (what forge and openssl compute). */
export function subjectKeyIdentifier(publicKey: KeyObject): Buffer {
  const bitString = (spkiAsn1(publicKey).value as Asn1[])[1]!;
  // The first byte of a BIT STRING's content counts its unused bits.
  return createHash('sha1').update(bytes(bitString.value as string).subarray(1)).digest();
}

/** A name of one common name; PrintableString where the value allows it, as openssl and forge write it. */
function name(commonName: string): Asn1 {
  const { asn1, util } = forge();
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(commonName);
  const value = universal(printable ? asn1.Type.PRINTABLESTRING : asn1.Type.UTF8, printable ? commonName : util.encodeUtf8(commonName));
  return sequence([universal(asn1.Type.SET, [sequence([oid(OID.commonName), value])])]);
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
function time(date: Date): Asn1 {
  const { asn1 } = forge();
  return date.getUTCFullYear() < 2050 ? universal(asn1.Type.UTCTIME, asn1.dateToUtcTime(date)) : universal(asn1.Type.GENERALIZEDTIME, asn1.dateToGeneralizedTime(date));
}

function extension(id: string, critical: boolean, value: Asn1): Asn1 {
  const { asn1 } = forge();
  return sequence([oid(id), ...(critical ? [universal(asn1.Type.BOOLEAN, '\xff')] : []), octets(der(value))]);
}

function keyUsageBits(usages: readonly KeyUsage[]): Asn1 {
  const bits = usages.map((usage) => KEY_USAGE_BIT[usage]);
  const last = Math.max(...bits);
  const content = Buffer.alloc(Math.floor(last / 8) + 1);
  for (const bit of bits) content[bit >> 3]! |= 0x80 >> (bit & 7);
  // The first content byte of a BIT STRING counts the unused bits after the last one set.
  return universal(forge().asn1.Type.BITSTRING, String.fromCharCode(7 - (last & 7)) + binary(content));
}

function contextTag(tag: number, value: string): Asn1 {
  const { asn1 } = forge();
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, false, value);
}

export interface CertificateRequest {
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  commonName: string;
  /** The issuer's subject as DER (from its certificate); absent for a self-signed certificate. */
  issuerDer?: Buffer;
  /** basicConstraints cA, critical. */
  ca: boolean;
  /** keyUsage, critical. */
  keyUsage: readonly KeyUsage[];
  serverAuth?: boolean;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  authorityKeyIdentifier?: Buffer;
  publicKey: KeyObject;
  signingKey: KeyObject;
}

function extensions(request: CertificateRequest): Asn1[] {
  const { asn1, util } = forge();
  const ipBytes = (ip: string): string => {
    // Public in node-forge, missing from its type definitions.
    const value = (util as unknown as { bytesFromIP(ip: string): string | null }).bytesFromIP(ip);
    if (value === null) throw new Error(`not an IPv4 or IPv6 address: ${ip}`);
    return value;
  };
  const altNames = [...(request.dnsNames ?? []).map((dns) => contextTag(2, dns)), ...(request.ipAddresses ?? []).map((ip) => contextTag(7, ipBytes(ip)))];
  return [
    extension(OID.basicConstraints, true, sequence(request.ca ? [universal(asn1.Type.BOOLEAN, '\xff')] : [])),
    extension(OID.keyUsage, true, keyUsageBits(request.keyUsage)),
    ...(request.serverAuth ? [extension(OID.extKeyUsage, false, sequence([oid(OID.serverAuth)]))] : []),
    ...(altNames.length > 0 ? [extension(OID.subjectAltName, false, sequence(altNames))] : []),
    ...(request.authorityKeyIdentifier ? [extension(OID.authorityKeyIdentifier, false, sequence([contextTag(0, binary(request.authorityKeyIdentifier))]))] : []),
    extension(OID.subjectKeyIdentifier, false, octets(subjectKeyIdentifier(request.publicKey))),
  ];
}

export function issueCertificate(request: CertificateRequest): string {
  const { asn1 } = forge();
  const type = keyTypeOf(request.signingKey);
  const subject = name(request.commonName);
  const tbs = sequence([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [universal(asn1.Type.INTEGER, '\x02')]),
    universal(asn1.Type.INTEGER, binary(Buffer.from(request.serialHex, 'hex'))),
    algorithmIdentifier(type),
    request.issuerDer ? fromDer(request.issuerDer) : subject,
    sequence([time(request.notBefore), time(request.notAfter)]),
    subject,
    spkiAsn1(request.publicKey),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [sequence(extensions(request))]),
  ]);
  // For EC keys node:crypto returns the DER-encoded (r, s) that X.509 expects.
  const signature = sign('sha256', der(tbs), request.signingKey);
  return toPem('CERTIFICATE', der(sequence([tbs, algorithmIdentifier(type), universal(asn1.Type.BITSTRING, `\0${binary(signature)}`)])));
}

/** PEM with LF line endings and 64-character lines, as openssl writes it. */
export function toPem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The subject of a certificate, as DER, to be the issuer of those it signs. */
export function subjectDer(certificatePem: string): Buffer {
  const base64 = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(certificatePem)?.[1];
  if (!base64) throw new Error('no certificate in the PEM text');
  const tbs = (fromDer(Buffer.from(base64, 'base64')).value as Asn1[])[0]!;
  return der((tbs.value as Asn1[])[5]!);
}

export const publicKeyOf = (privateKey: KeyObject): KeyObject => createPublicKey(privateKey);
