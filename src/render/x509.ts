/**
 * X.509 certificates for any key node:crypto makes (ECDSA P-256 by default, RSA for a CA made by an
 * earlier version). node-forge lays out the ASN.1 (names, validity, extensions; its certificate API
 * knows only RSA keys, so the key and signature fields are put in here), node:crypto signs natively.
 */
import { createHash, createPublicKey, KeyObject, sign } from 'node:crypto';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';

// node-forge is needed only to issue a certificate, and only its X.509 part (which brings ASN.1, PEM
// and the big-integer code): its index would load TLS, PKCS#12, SSH and more, 20 files we never use.
let forgeModule: typeof Forge | undefined;
const forge = (): typeof Forge => {
  if (!forgeModule) {
    const require = createRequire(import.meta.url);
    require('node-forge/lib/x509.js');
    forgeModule = require('node-forge/lib/forge.js') as typeof Forge;
  }
  return forgeModule;
};

/** ecdsa-with-SHA256 takes no parameters (RFC 5758); sha256WithRSAEncryption takes NULL (RFC 4055). */
const SIGNATURE_OID = { ec: '1.2.840.10045.4.3.2', rsa: '1.2.840.113549.1.1.11' } as const;
const TBS = { signature: 2, issuer: 3, subjectPublicKeyInfo: 6 } as const;

export type KeyType = keyof typeof SIGNATURE_OID;

export function keyTypeOf(key: KeyObject): KeyType {
  const type = key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa') throw new Error(`unsupported key type ${type ?? 'unknown'}`);
  return type;
}

const binary = (buffer: Buffer): string => buffer.toString('binary');
const bytes = (value: string): Buffer => Buffer.from(value, 'binary');

function algorithmIdentifier(type: KeyType): Forge.asn1.Asn1 {
  const { asn1 } = forge();
  const oid = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SIGNATURE_OID[type]).getBytes());
  const params = type === 'rsa' ? [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')] : [];
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [oid, ...params]);
}

// decodeBitStrings off: forge would otherwise parse an RSA key's BIT STRING into ASN.1 and drop its bytes.
const spkiAsn1 = (publicKey: KeyObject): Forge.asn1.Asn1 =>
  (forge().asn1.fromDer as unknown as (der: string, options: { decodeBitStrings: boolean }) => Forge.asn1.Asn1)(binary(publicKey.export({ type: 'spki', format: 'der' })), { decodeBitStrings: false });

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (what forge and openssl compute). */
export function subjectKeyIdentifier(publicKey: KeyObject): Buffer {
  const bitString = (spkiAsn1(publicKey).value as Forge.asn1.Asn1[])[1]!;
  // The first byte of a BIT STRING's content counts its unused bits.
  return createHash('sha1').update(bytes(bitString.value as string).subarray(1)).digest();
}

export interface CertificateRequest {
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  subject: { name: string; value: string }[];
  /** The issuer's subject as DER (from its certificate); absent for a self-signed certificate. */
  issuerDer?: Buffer;
  /** forge extension descriptions; a subjectKeyIdentifier is added from the public key. */
  extensions: object[];
  publicKey: KeyObject;
  signingKey: KeyObject;
}

export function issueCertificate(request: CertificateRequest): string {
  const { asn1, pki } = forge();
  const cert = pki.createCertificate();
  cert.serialNumber = request.serialHex;
  cert.validity.notBefore = request.notBefore;
  cert.validity.notAfter = request.notAfter;
  cert.setSubject(request.subject);
  cert.setIssuer(request.subject);
  const ski = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, binary(subjectKeyIdentifier(request.publicKey)));
  cert.setExtensions([...request.extensions, { name: 'subjectKeyIdentifier', value: ski }]);
  // forge writes the key and algorithm fields for RSA keys only: a stand-in key, replaced below.
  const { BigInteger } = forge().jsbn;
  cert.publicKey = { n: new BigInteger('1'), e: new BigInteger('1') } as unknown as Forge.pki.PublicKey;
  cert.siginfo.algorithmOid = SIGNATURE_OID.rsa;
  // Public in node-forge, missing from its type definitions.
  const tbs = (pki as unknown as { getTBSCertificate(c: Forge.pki.Certificate): Forge.asn1.Asn1 }).getTBSCertificate(cert);
  const fields = tbs.value as Forge.asn1.Asn1[];
  const type = keyTypeOf(request.signingKey);
  fields[TBS.signature] = algorithmIdentifier(type);
  fields[TBS.subjectPublicKeyInfo] = spkiAsn1(request.publicKey);
  if (request.issuerDer) fields[TBS.issuer] = asn1.fromDer(binary(request.issuerDer));
  const tbsDer = bytes(asn1.toDer(tbs).getBytes());
  // For EC keys node:crypto returns the DER-encoded (r, s) that X.509 expects.
  const signature = sign('sha256', tbsDer, request.signingKey);
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithmIdentifier(type),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\0${binary(signature)}`),
  ]);
  return toPem('CERTIFICATE', bytes(asn1.toDer(certificate).getBytes()));
}

/** PEM with LF line endings and 64-character lines, as openssl writes it. */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The subject of a certificate, as DER, to be the issuer of those it signs. */
export function subjectDer(certificatePem: string): Buffer {
  const { asn1, pem } = forge();
  const [block] = pem.decode(certificatePem);
  const tbs = (asn1.fromDer(block!.body).value as Forge.asn1.Asn1[])[0]!;
  return bytes(asn1.toDer((tbs.value as Forge.asn1.Asn1[])[5]!).getBytes());
}

export const publicKeyOf = (privateKey: KeyObject): KeyObject => createPublicKey(privateKey);
