// `serviceaccounts/<name>/token` (authentication.k8s.io/v1 TokenRequest) and the authenticator that accepts the
// tokens it issues, as upstream's TokenREST and the service-account token authenticator: a token bound to a pod,
// secret or node stops working once that object (or the account) is gone or was recreated under another uid.

import type { IncomingMessage } from 'node:http';
import { badRequest, conflict, invalidError, type FieldError } from '../api/errors.js';
import type { KindDef } from '../api/kinds/types.js';
import { isObject, type KubeObject } from '../api/types.js';
import type { Authenticator, UserInfo } from './auth.js';
import { nowRFC3339 } from './registry/store.js';
import type { ResourceStore } from './registry/store.js';
import { EXTENDED_EXPIRATION_SECONDS, verifyToken, WARN_ONLY_EXPIRATION_SECONDS, type PrivateClaims, type TokenSigner } from './satoken.js';

type KindOf = (group: string, plural: string) => KindDef | undefined;

const BINDABLE: Record<string, string> = { Pod: 'pods', Secret: 'secrets', Node: 'nodes' };

interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

/** POST serviceaccounts/<name>/token: a signed token for the account, bound to the referenced object if any. */
export async function createToken(
  store: ResourceStore,
  kind: KindOf,
  signer: TokenSigner,
  apiAudiences: string[],
  ns: string,
  name: string,
  body: KubeObject,
  opts: { extendExpiration?: boolean } = {},
): Promise<KubeObject> {
  if (!isObject(body)) throw badRequest('the body is not a TokenRequest object');
  if (body.kind !== undefined && body.kind !== 'TokenRequest') throw badRequest(`${String(body.kind)} in version "v1" cannot be handled as a TokenRequest`);
  const spec = (isObject(body.spec) ? body.spec : {}) as TokenRequestSpec;
  const requested = spec.expirationSeconds ?? 3600;
  const errs: FieldError[] = [];
  if (!Number.isInteger(requested)) errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: requested, detail: 'must be an integer' });
  else if (requested < 600) errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: requested, detail: 'may not specify a duration less than 10 minutes' });
  else if (requested > 2 ** 32) errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: requested, detail: 'may not specify a duration larger than 2^32 seconds' });
  if (errs.length) throw invalidError('authentication.k8s.io', 'TokenRequest', name, errs);
  const audiences = spec.audiences?.length ? spec.audiences : apiAudiences;

  const sa = await store.get(kind('', 'serviceaccounts')!, ns, name);
  const claims: PrivateClaims = { namespace: ns, serviceaccount: { name, uid: sa.metadata.uid ?? '' } };
  let pod: KubeObject | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    const plural = BINDABLE[ref.kind ?? ''];
    if (!plural || (ref.apiVersion && ref.apiVersion !== 'v1')) throw badRequest(`cannot bind token for object of type ${ref.apiVersion ?? 'v1'}, Kind=${ref.kind ?? ''}`);
    const def = kind('', plural)!;
    const obj = await store.get(def, def.namespaced ? ns : undefined, ref.name ?? '');
    if (ref.uid && ref.uid !== obj.metadata.uid)
      throw conflict('', ref.kind ?? '', ref.name ?? '', `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    const bound = { name: obj.metadata.name ?? '', uid: obj.metadata.uid ?? '' };
    if (ref.kind === 'Pod') {
      pod = obj;
      const podSA = (obj.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? 'default';
      if (podSA !== name) throw badRequest(`cannot bind token for serviceaccount "${name}" to pod "${bound.name}" which uses serviceaccount "${podSA}"`);
      claims.pod = bound;
      const nodeName = (obj.spec as { nodeName?: string } | undefined)?.nodeName;
      if (nodeName) {
        const node = await store.tryGet(kind('', 'nodes')!, undefined, nodeName);
        if (node) claims.node = { name: nodeName, uid: node.metadata.uid ?? '' };
      }
    } else if (ref.kind === 'Secret') claims.secret = bound;
    else claims.node = bound;
  }
  // The kubelet's kube-api-access lifetime is extended to a year; the kubelet still renews after `requested`.
  let seconds = requested;
  const now = Math.floor(Date.now() / 1000);
  if ((opts.extendExpiration ?? true) && pod && requested === WARN_ONLY_EXPIRATION_SECONDS && audiences.every((a) => apiAudiences.includes(a))) {
    seconds = EXTENDED_EXPIRATION_SECONDS;
    claims.warnafter = now + requested;
  }
  const token = signer.sign(signer.claims(claims, audiences, seconds, now));
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace: ns, creationTimestamp: nowRFC3339() },
    spec: { audiences, expirationSeconds: requested, ...(ref ? { boundObjectRef: ref } : {}) },
    status: { token, expirationTimestamp: new Date((now + requested) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
}

/** Bearer tokens this server's signer issued, as `system:serviceaccount:<ns>:<name>` while what they are bound to lives. */
export class ServiceAccountTokenAuthenticator implements Authenticator {
  constructor(
    private readonly signer: TokenSigner,
    private readonly audiences: string[],
    private readonly store: () => ResourceStore,
    private readonly kind: KindOf,
  ) {}

  authenticate(req: IncomingMessage): Promise<UserInfo | undefined> | undefined {
    const h = req.headers.authorization;
    if (!h || !/^bearer\s+/i.test(h)) return undefined;
    const c = verifyToken(h.replace(/^bearer\s+/i, '').trim(), this.signer.publicKey, this.signer.issuer, this.audiences);
    if (!c) return undefined;
    return this.stillValid(c['kubernetes.io']).then((ok) => {
      if (!ok) return undefined;
      const k = c['kubernetes.io'];
      const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${c.jti}`] };
      if (k.pod) {
        extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
        extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
      }
      if (k.node) {
        extra['authentication.kubernetes.io/node-name'] = [k.node.name];
        extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
      }
      return {
        username: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
        uid: k.serviceaccount.uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
        extra,
      };
    });
  }

  /** The account and every bound object still exist with the uids in the token, and are not past deletion. */
  private async stillValid(k: PrivateClaims): Promise<boolean> {
    const store = this.store();
    const live = async (plural: string, ns: string | undefined, ref: { name: string; uid: string } | undefined): Promise<boolean> => {
      if (!ref) return true;
      const o = await store.tryGet(this.kind('', plural)!, ns, ref.name);
      if (!o || o.metadata.uid !== ref.uid) return false;
      const del = o.metadata.deletionTimestamp;
      return !del || Date.parse(del) > Date.now();
    };
    const [sa, pod, secret] = await Promise.all([
      live('serviceaccounts', k.namespace, k.serviceaccount),
      live('pods', k.namespace, k.pod),
      live('secrets', k.namespace, k.secret),
    ]);
    return sa && pod && secret;
  }
}
