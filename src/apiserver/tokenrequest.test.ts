// TokenRequest and the service account token authenticator over the generic store: bound tokens authenticate as
// the account while the pod lives; bad requests get upstream's errors; foreign, expired or mis-addressed tokens are
// not ours.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { allKinds } from '../api/kinds/index.js';
import type { KindDef } from '../api/kinds/types.js';
import type { KubeObject } from '../api/types.js';
import { Admission } from './admission.js';
import { ResourceStore, type RequestContext } from './registry/store.js';
import { DEFAULT_ISSUER, TokenSigner, verifyToken } from './satoken.js';
import { MemStore } from './testing/memstore.js';
import { createToken, ServiceAccountTokenAuthenticator } from './tokenrequest.js';

const kind = (group: string, plural: string): KindDef | undefined => allKinds().find((k) => k.group === group && k.plural === plural);
const ctx = (): RequestContext => ({ user: { username: 'admin', groups: ['system:masters'] }, dryRun: false, warnings: [] });
const newKey = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const req = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as unknown as IncomingMessage;
const tokenOf = (tr: KubeObject) => (tr.status as { token: string }).token;
const AUD = [DEFAULT_ISSUER];

async function setup() {
  const rs = new ResourceStore(new MemStore(), new Admission());
  const sa = await rs.create(kind('', 'serviceaccounts')!, 'ns', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }, ctx());
  const pod = await rs.create(kind('', 'pods')!, 'ns', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { serviceAccountName: 'default', containers: [{ name: 'c', image: 'busybox' }] } }, ctx());
  const signer = new TokenSigner(newKey());
  const auth = new ServiceAccountTokenAuthenticator(signer, AUD, () => rs, kind);
  return { rs, sa, pod, signer, auth };
}

test('a pod-bound token authenticates as the service account until the pod is gone', async () => {
  const { rs, sa, pod, signer, auth } = await setup();
  const ref = { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: pod.metadata.uid };
  const tr = await createToken(rs, kind, signer, AUD, 'ns', 'default', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { expirationSeconds: 3607, boundObjectRef: ref } } as KubeObject);
  assert.equal(tr.kind, 'TokenRequest');
  assert.deepEqual((tr.spec as any).audiences, AUD);
  const exp = Date.parse((tr.status as any).expirationTimestamp);
  assert.ok(Math.abs(exp - (Date.now() + 3607_000)) < 5_000, 'status reports the requested lifetime');
  const claims = verifyToken(tokenOf(tr), signer.publicKey, DEFAULT_ISSUER, AUD)!;
  assert.equal(claims.sub, 'system:serviceaccount:ns:default');
  assert.ok(claims.exp - claims.iat > 3600 * 24 * 300, '3607 s kubelet tokens are extended to a year');
  assert.equal(claims['kubernetes.io'].warnafter, claims.iat + 3607);
  assert.deepEqual(claims['kubernetes.io'].pod, { name: 'p', uid: pod.metadata.uid });
  const u = await auth.authenticate(req(tokenOf(tr)));
  assert.deepEqual(u && { username: u.username, uid: u.uid, groups: u.groups, pod: u.extra?.['authentication.kubernetes.io/pod-name'] }, {
    username: 'system:serviceaccount:ns:default',
    uid: sa.metadata.uid,
    groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
    pod: ['p'],
  });
  // A plain (unbound) token with its own audience: only servers accepting that audience take it.
  const other = await createToken(rs, kind, signer, AUD, 'ns', 'default', { kind: 'TokenRequest', metadata: {}, spec: { audiences: ['vault'] } } as unknown as KubeObject);
  assert.equal(await auth.authenticate(req(tokenOf(other))), undefined);
  assert.ok(verifyToken(tokenOf(other), signer.publicKey, DEFAULT_ISSUER, ['vault']));
  await rs.delete(kind('', 'pods')!, 'ns', 'p', { gracePeriodSeconds: 0 }, ctx());
  assert.equal(await auth.authenticate(req(tokenOf(tr))), undefined, 'the bound pod is gone');
});

test('TokenRequest errors as upstream; foreign and malformed tokens are not ours', async () => {
  const { rs, pod, signer, auth } = await setup();
  const cases: Array<{ name: string; sa?: string; spec: Record<string, unknown>; code: number; message: RegExp }> = [
    { name: 'too short', spec: { expirationSeconds: 599 }, code: 422, message: /^TokenRequest\.authentication\.k8s\.io "default" is invalid: spec\.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes$/ },
    { name: 'missing account', sa: 'nobody', spec: {}, code: 404, message: /^serviceaccounts "nobody" not found$/ },
    { name: 'recreated pod', spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'old' } }, code: 409, message: /the UID in the bound object reference \(old\) does not match the UID in record/ },
    { name: 'unbindable kind', spec: { boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } }, code: 400, message: /^cannot bind token for object of type v1, Kind=ConfigMap$/ },
    { name: 'missing pod', spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'q' } }, code: 404, message: /^pods "q" not found$/ },
  ];
  for (const c of cases) {
    await assert.rejects(createToken(rs, kind, signer, AUD, 'ns', c.sa ?? 'default', { kind: 'TokenRequest', metadata: {}, spec: c.spec } as unknown as KubeObject), (e: Error & { code?: number }) => {
      assert.equal(e.code, c.code, c.name);
      assert.match(e.message, c.message, c.name);
      return true;
    });
  }
  const foreign = new TokenSigner(newKey());
  const t = foreign.sign(foreign.claims({ namespace: 'ns', serviceaccount: { name: 'default', uid: 'x' }, pod: { name: 'p', uid: pod.metadata.uid! } }, AUD, 3600));
  assert.equal(auth.authenticate(req(t)), undefined, 'signed by another key');
  const expired = signer.sign(signer.claims({ namespace: 'ns', serviceaccount: { name: 'default', uid: 'x' } }, AUD, 600, Math.floor(Date.now() / 1000) - 4000));
  assert.equal(auth.authenticate(req(expired)), undefined, 'expired');
  assert.equal(auth.authenticate(req('not.a.jwt')), undefined);
  assert.equal(auth.authenticate(req('x')), undefined);
});
