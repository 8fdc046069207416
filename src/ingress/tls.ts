// TLS material of the Ingress controller: the self-signed default certificate served when no Ingress TLS entry
// covers the SNI name (as ingress-nginx's "Fake Certificate"), and secure contexts made from kubernetes.io/tls
// Secrets, cached per Secret resourceVersion.

import { webcrypto } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeObject } from '../api/types.js';

export const DEFAULT_CERT_CN = 'K8TS Ingress Controller Fake Certificate';

export interface KeyPair {
  cert: string;
  key: string;
}

const pem = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

/** A fresh self-signed ECDSA P-256 certificate (one year, SAN ingress.local), made in memory at start. */
export async function selfSignedCertificate(cn = DEFAULT_CERT_CN, dnsNames: string[] = ['ingress.local']): Promise<KeyPair> {
  await import('reflect-metadata'); // @peculiar/x509's DI container needs the Reflect polyfill
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto as unknown as Crypto;
  x509.cryptoProvider.set(crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${cn}, O=Acme Co`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })), false),
    ],
  });
  return { cert: `${cert.toString('pem')}\n`, key: pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

/** The key pair of a kubernetes.io/tls Secret (data tls.crt, tls.key), or an error saying what is wrong. */
export function secretKeyPair(secret: KubeObject): KeyPair | { error: string } {
  const s = secret as { type?: string; data?: Record<string, string> };
  if (s.type !== 'kubernetes.io/tls') return { error: `secret type is ${JSON.stringify(s.type ?? '')}, not kubernetes.io/tls` };
  const cert = s.data?.['tls.crt'];
  const key = s.data?.['tls.key'];
  if (!cert || !key) return { error: 'secret has no tls.crt or tls.key' };
  return { cert: Buffer.from(cert, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') };
}

/** Secure contexts of Secrets, rebuilt only when a Secret's resourceVersion changes; a bad Secret is reported once. */
export class ContextCache {
  private readonly cache = new Map<string, { rv: string; ctx: SecureContext | undefined }>();

  constructor(private readonly log: (m: string) => void = () => undefined) {}

  get(secret: KubeObject): SecureContext | undefined {
    const key = `${secret.metadata?.namespace}/${secret.metadata?.name}`;
    const rv = secret.metadata?.resourceVersion ?? '';
    const hit = this.cache.get(key);
    if (hit && hit.rv === rv) return hit.ctx;
    let ctx: SecureContext | undefined;
    const pair = secretKeyPair(secret);
    if ('error' in pair) this.log(`ingress: TLS secret ${key}: ${pair.error}; serving the default certificate`);
    else {
      try {
        ctx = createSecureContext({ cert: pair.cert, key: pair.key });
      } catch (e) {
        this.log(`ingress: TLS secret ${key}: ${(e as Error).message}; serving the default certificate`);
      }
    }
    this.cache.set(key, { rv, ctx });
    return ctx;
  }

  /** Forgets Secrets no longer present. */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.cache.keys()) if (!keys.has(k)) this.cache.delete(k);
  }
}
