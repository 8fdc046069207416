// Authentication (x509 client certificates signed by the cluster CA, bearer tokens from a token file; service
// account tokens in tokenrequest.ts) and the
// authorization stage (a pluggable Authorizer; allow-all-authenticated for now, RBAC plugs in here later).

import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface Authenticator {
  /** Synchronous when the answer needs no lookups (x509, token file); a promise when it does (bound tokens). */
  authenticate(req: IncomingMessage): UserInfo | undefined | Promise<UserInfo | undefined>;
}

/** Token file: CSV lines `token,user,uid[,"group1,group2"]`, as kube-apiserver's --token-auth-file. */
export function parseTokenFile(text: string): Map<string, UserInfo> {
  const out = new Map<string, UserInfo>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields: string[] = [];
    let cur = '';
    let quoted = false;
    for (const c of line) {
      if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) {
        fields.push(cur);
        cur = '';
      } else cur += c;
    }
    fields.push(cur);
    if (fields.length < 3) continue;
    const [token, username, uid, groups] = fields;
    out.set(token, { username, uid, groups: groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [] });
  }
  return out;
}

export class TokenFileAuthenticator implements Authenticator {
  private tokens: Map<string, UserInfo>;
  constructor(path: string) {
    this.tokens = parseTokenFile(readFileSync(path, 'utf8'));
  }
  authenticate(req: IncomingMessage): UserInfo | undefined {
    const h = req.headers.authorization;
    if (!h || !/^bearer\s+/i.test(h)) return undefined;
    const u = this.tokens.get(h.replace(/^bearer\s+/i, '').trim());
    return u ? { ...u, groups: [...u.groups, 'system:authenticated'] } : undefined;
  }
}

/**
 * Client certificates verified by the TLS layer against the cluster CA: CN = user, O = groups. The peer
 * certificate cannot change on a connection (no renegotiation), so the user is worked out once per socket:
 * getPeerCertificate() builds a fresh object each call and was ~10% of a create's CPU.
 */
export class X509Authenticator implements Authenticator {
  private readonly bySocket = new WeakMap<TLSSocket, UserInfo | null>();

  authenticate(req: IncomingMessage): UserInfo | undefined {
    const sock = req.socket as TLSSocket;
    let u = this.bySocket.get(sock);
    if (u === undefined) {
      u = X509Authenticator.fromSocket(sock);
      this.bySocket.set(sock, u);
    }
    return u ?? undefined;
  }

  private static fromSocket(sock: TLSSocket): UserInfo | null {
    if (!sock.authorized) return null;
    const cert = sock.getPeerCertificate?.();
    if (!cert || !cert.subject) return null;
    const cn = cert.subject.CN;
    if (!cn) return null;
    const o = cert.subject.O as string | string[] | undefined;
    const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
    return Object.freeze({ username: Array.isArray(cn) ? cn[0] : cn, groups: Object.freeze([...groups, 'system:authenticated']) as string[] });
  }
}

export class UnionAuthenticator implements Authenticator {
  constructor(private readonly list: Authenticator[]) {}
  authenticate(req: IncomingMessage, from = 0): UserInfo | undefined | Promise<UserInfo | undefined> {
    for (let i = from; i < this.list.length; i++) {
      const u = this.list[i].authenticate(req);
      if (u instanceof Promise) return u.then((x) => x ?? this.authenticate(req, i + 1));
      if (u) return u;
    }
    return undefined;
  }
}

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  namespace?: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  path?: string;
  resourceRequest: boolean;
}

export interface Decision {
  allowed: boolean;
  reason?: string;
}

export interface Authorizer {
  authorize(a: AuthorizationAttributes): Promise<Decision> | Decision;
}

/** Every authenticated user may do everything (until RBAC lands). */
export class AllowAuthenticatedAuthorizer implements Authorizer {
  authorize(a: AuthorizationAttributes): Decision {
    return a.user.groups.includes('system:authenticated') ? { allowed: true } : { allowed: false, reason: 'not authenticated' };
  }
}
