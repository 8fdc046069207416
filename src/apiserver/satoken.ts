// Service account tokens as upstream's serviceaccount.JWTTokenGenerator issues them: ES256 JWTs with the
// `kubernetes.io` private claims (namespace, service account, bound pod/secret and node), and their verification.
// node:crypto signs and verifies; the JOSE framing (compact serialisation, P1363 signatures) is a few lines.

import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

/** Upstream's default issuer and API audience (kubeadm, k3s: `--service-account-issuer`). */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** The kubelet's kube-api-access token lifetime; tokens asked for this long are extended (upstream WarnOnlyBoundTokenExpirationSeconds). */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
/** What such tokens are extended to: one year (upstream ExpirationExtensionSeconds). */
export const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;

export interface Ref {
  name: string;
  uid: string;
}

/** The `kubernetes.io` claim of a bound token. */
export interface PrivateClaims {
  namespace: string;
  serviceaccount: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
  warnafter?: number;
}

export interface Claims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti: string;
  nbf: number;
  sub: string;
  'kubernetes.io': PrivateClaims;
}

export class TokenSigner {
  private readonly key: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;

  /** `privateKeyPem`: a PKCS#8 EC P-256 key (pki/sa.key). */
  constructor(privateKeyPem: string, readonly issuer = DEFAULT_ISSUER) {
    this.key = createPrivateKey(privateKeyPem);
    this.publicKey = createPublicKey(this.key);
    // Upstream's key id: the base64url SHA-256 of the DER public key.
    this.kid = createHash('sha256').update(this.publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
  }

  /** The claims of a token for `sa` valid `seconds` from `now` (seconds since the epoch). */
  claims(p: PrivateClaims, audiences: string[], seconds: number, now = Math.floor(Date.now() / 1000)): Claims {
    return {
      aud: audiences,
      exp: now + seconds,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': p,
      nbf: now,
      sub: `system:serviceaccount:${p.namespace}:${p.serviceaccount.name}`,
    };
  }

  sign(c: Claims): string {
    const head = Buffer.from(JSON.stringify({ alg: 'ES256', kid: this.kid })).toString('base64url');
    const body = Buffer.from(JSON.stringify(c)).toString('base64url');
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return `${head}.${body}.${sig.toString('base64url')}`;
  }
}

/**
 * The claims of `token` if this issuer signed it, it is within its validity window and names one of `audiences`;
 * undefined otherwise (another authenticator may know the token). Leeway 60 s, as upstream's.
 */
export function verifyToken(token: string, publicKey: KeyObject, issuer: string, audiences: string[], now = Math.floor(Date.now() / 1000)): Claims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  let head: { alg?: string };
  let c: Claims;
  try {
    head = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    c = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (head.alg !== 'ES256' || typeof c !== 'object' || c === null) return undefined;
  if (c.iss !== issuer) return undefined;
  if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'))) return undefined;
  const leeway = 60;
  if (typeof c.exp !== 'number' || now > c.exp + leeway) return undefined;
  if (typeof c.nbf === 'number' && now + leeway < c.nbf) return undefined;
  const aud = Array.isArray(c.aud) ? c.aud : typeof c.aud === 'string' ? [c.aud] : [];
  if (!aud.some((a) => audiences.includes(a))) return undefined;
  const k = c['kubernetes.io'];
  if (!k || typeof k.namespace !== 'string' || typeof k.serviceaccount?.name !== 'string') return undefined;
  return c;
}
