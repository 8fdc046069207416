// Generic store behaviour with a fake Store and small fake kinds: create/update/delete semantics, optimistic
// concurrency, no-op writes, graceful deletion, finalizers, pagination, selectors and watch transitions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../api/errors.js';
import type { KindDef } from '../../api/kinds/types.js';
import { parseFieldSelector } from '../../api/selectors/fields.js';
import { parseLabelSelector } from '../../api/selectors/labels.js';
import type { KubeObject } from '../../api/types.js';
import { Admission } from '../admission.js';
import { namespaceLifecycle } from '../admission/namespace-lifecycle.js';
import { MemStore } from '../testing/memstore.js';
import { ResourceStore, type ObjectEvent, type RequestContext } from './store.js';

const nsDef: KindDef = { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, status: true };
const cmDef: KindDef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  validate: (o) => (typeof (o.data as Record<string, unknown> | undefined)?.bad === 'string' ? [{ type: 'FieldValueInvalid', field: 'data.bad', value: 'x', detail: 'bad key' }] : []),
};
const podDef: KindDef = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  status: true,
  gracePeriodSeconds: (o, requested) => ((o.spec as { nodeName?: string } | undefined)?.nodeName ? (requested ?? 30) : 0),
  fieldLabels: (o) => ({ 'spec.nodeName': String((o.spec as { nodeName?: string } | undefined)?.nodeName ?? '') }),
};
const deployDef: KindDef = { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true, status: true, generationFields: ['spec'] };

const ctx = (): RequestContext => ({ user: { username: 'test', groups: ['system:authenticated'] }, dryRun: false, warnings: [] });

async function setup() {
  const admission = new Admission([namespaceLifecycle(() => nsDef)]);
  const rs = new ResourceStore(new MemStore(), admission);
  await rs.create(nsDef, undefined, { metadata: { name: 'default' } }, ctx());
  return rs;
}

const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });

async function rejects(p: Promise<unknown>, code: number, reason: string, msg?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.reason, reason);
    if (msg) assert.match(e.message, msg);
    return true;
  });
}

test('create fills system metadata; generateName; duplicate → AlreadyExists', async () => {
  const rs = await setup();
  const a = await rs.create(cmDef, 'default', cm('a'), ctx());
  assert.ok(a.metadata.uid && a.metadata.creationTimestamp && a.metadata.resourceVersion);
  assert.equal(a.metadata.namespace, 'default');
  assert.equal(a.metadata.generation, undefined);
  const g = await rs.create(cmDef, 'default', { metadata: { generateName: 'web-' } }, ctx());
  assert.match(g.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  await rejects(rs.create(cmDef, 'default', cm('a'), ctx()), 409, 'AlreadyExists', /configmaps "a" already exists/);
});

test('invalid objects and missing namespaces are refused and nothing is written', async () => {
  const rs = await setup();
  await rejects(rs.create(cmDef, 'default', cm('Bad_Name'), ctx()), 422, 'Invalid', /ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
  await rejects(rs.create(cmDef, 'default', cm('x', { bad: 'v' }), ctx()), 422, 'Invalid', /data.bad: Invalid value/);
  await rejects(rs.create(cmDef, 'nope', cm('y'), ctx()), 404, 'NotFound', /namespaces "nope" not found/);
  assert.equal((await rs.list(cmDef, 'default')).items.length, 0);
});

test('update: stale resourceVersion → Conflict; no-op keeps resourceVersion; generation bumps on spec change', async () => {
  const rs = await setup();
  const a = structuredClone(await rs.create(cmDef, 'default', cm('a', { k: 'v' }), ctx()));
  const upd = await rs.update(cmDef, 'default', 'a', { ...structuredClone(a), data: { k: 'v2' } }, ctx());
  assert.notEqual(upd.object.metadata.resourceVersion, a.metadata.resourceVersion);
  await rejects(rs.update(cmDef, 'default', 'a', { ...a, data: { k: 'v3' } }, ctx()), 409, 'Conflict', /the object has been modified/);
  const same = await rs.update(cmDef, 'default', 'a', structuredClone(upd.object), ctx());
  assert.equal(same.object.metadata.resourceVersion, upd.object.metadata.resourceVersion);

  const d = await rs.create(deployDef, 'default', { metadata: { name: 'd' }, spec: { replicas: 1 }, status: { replicas: 5 } }, ctx());
  assert.equal(d.metadata.generation, 1);
  const d2 = await rs.update(deployDef, 'default', 'd', { ...d, spec: { replicas: 2 }, status: { replicas: 9 } }, ctx());
  assert.equal(d2.object.metadata.generation, 2);
  assert.deepEqual(d2.object.status, { replicas: 5 }, 'status is ignored on the main resource');
  const d3 = await rs.guaranteedUpdate(deployDef, 'default', 'd', ctx(), (cur) => ({ ...cur, spec: { replicas: 7 }, status: { replicas: 2 } }), { subresource: 'status' });
  assert.deepEqual(d3.object.spec, { replicas: 2 }, 'spec is ignored on /status');
  assert.deepEqual(d3.object.status, { replicas: 2 });
  assert.equal(d3.object.metadata.generation, 2);
});

test('/status: metadata from the request except what the kind resets (pods: ownerReferences; deployments: labels)', async () => {
  const rs = await setup();
  const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }];
  const p = await rs.create({ ...podDef, statusResetsMetadata: ['ownerReferences'] }, 'default', { metadata: { name: 'p', labels: { a: '1' }, ownerReferences: owner }, spec: { nodeName: 'n1' } }, ctx());
  const body = structuredClone(p);
  body.metadata.labels = { a: '2' };
  body.metadata.annotations = { note: 'x' };
  body.metadata.ownerReferences = [];
  body.metadata.finalizers = ['example.com/f'];
  body.spec = { nodeName: 'other' };
  body.status = { phase: 'Running' };
  const out = (await rs.update({ ...podDef, statusResetsMetadata: ['ownerReferences'] }, 'default', 'p', body, ctx(), 'status')).object;
  assert.deepEqual(out.metadata.labels, { a: '2' }, 'pods/status may change labels, as upstream');
  assert.deepEqual(out.metadata.annotations, { note: 'x' });
  assert.deepEqual(out.metadata.finalizers, ['example.com/f']);
  assert.deepEqual(out.metadata.ownerReferences, owner, 'pods/status cannot touch ownerReferences');
  assert.deepEqual(out.spec, { nodeName: 'n1' }, 'spec comes from the stored pod');
  assert.equal((out.status as { phase?: string }).phase, 'Running');
  assert.equal(out.metadata.uid, p.metadata.uid);

  const dDef: KindDef = { ...deployDef, statusResetsMetadata: ['labels'] };
  const d = await rs.create(dDef, 'default', { metadata: { name: 'd', labels: { app: 'web' } }, spec: { replicas: 1 } }, ctx());
  const dBody = structuredClone(d);
  dBody.metadata.labels = {};
  dBody.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' };
  dBody.status = { observedGeneration: 1 };
  const dOut = (await rs.update(dDef, 'default', 'd', dBody, ctx(), 'status')).object;
  assert.deepEqual(dOut.metadata.labels, { app: 'web' }, 'deployments/status resets labels');
  assert.deepEqual(dOut.metadata.annotations, { 'deployment.kubernetes.io/revision': '1' }, 'the revision annotation is written through /status, as upstream');
  assert.equal(dOut.metadata.generation, 1, 'a status write does not bump generation');
});

test('delete: immediate, graceful (deletionTimestamp), and finalizers hold the object', async () => {
  const rs = await setup();
  await rs.create(cmDef, 'default', cm('a'), ctx());
  const r = await rs.delete(cmDef, 'default', 'a', {}, ctx());
  assert.equal(r.deleted, true);
  await rejects(rs.get(cmDef, 'default', 'a'), 404, 'NotFound', /configmaps "a" not found/);

  await rs.create(podDef, 'default', { metadata: { name: 'p' }, spec: { nodeName: 'n1' } }, ctx());
  const g = await rs.delete(podDef, 'default', 'p', {}, ctx());
  assert.equal(g.deleted, false);
  assert.equal(g.object.metadata.deletionGracePeriodSeconds, 30);
  assert.ok(g.object.metadata.deletionTimestamp);
  const g0 = await rs.delete(podDef, 'default', 'p', { gracePeriodSeconds: 0 }, ctx());
  assert.equal(g0.deleted, true);

  await rs.create(cmDef, 'default', { metadata: { name: 'f', finalizers: ['example.com/x'] } }, ctx());
  const f = await rs.delete(cmDef, 'default', 'f', {}, ctx());
  assert.equal(f.deleted, false);
  const held = await rs.get(cmDef, 'default', 'f');
  assert.ok(held.metadata.deletionTimestamp);
  await rejects(
    rs.guaranteedUpdate(cmDef, 'default', 'f', ctx(), (c) => ({ ...c, metadata: { ...c.metadata, finalizers: ['example.com/x', 'example.com/y'] } })),
    422,
    'Invalid',
    /no new finalizers can be added/,
  );
  await rs.guaranteedUpdate(cmDef, 'default', 'f', ctx(), (c) => ({ ...c, metadata: { ...c.metadata, finalizers: [] } }));
  await rejects(rs.get(cmDef, 'default', 'f'), 404, 'NotFound');

  await rs.create(cmDef, 'default', cm('o'), ctx());
  const o = await rs.delete(cmDef, 'default', 'o', { propagationPolicy: 'Orphan' }, ctx());
  assert.deepEqual(o.object.metadata.finalizers, ['orphan']);
});

test('list: pagination with continue, label and field selectors', async () => {
  const rs = await setup();
  for (let i = 0; i < 7; i++) await rs.create(cmDef, 'default', cm(`c${i}`, {}, { i: String(i), even: String(i % 2 === 0) }), ctx());
  const p1 = await rs.list(cmDef, 'default', { limit: 3 });
  assert.deepEqual(p1.items.map((o) => o.metadata.name), ['c0', 'c1', 'c2']);
  assert.ok(p1.continueToken);
  assert.equal(p1.remainingItemCount, 4);
  const p2 = await rs.list(cmDef, 'default', { limit: 3, continueToken: p1.continueToken });
  assert.deepEqual(p2.items.map((o) => o.metadata.name), ['c3', 'c4', 'c5']);
  assert.equal(p2.resourceVersion, p1.resourceVersion);
  const p3 = await rs.list(cmDef, 'default', { limit: 3, continueToken: p2.continueToken });
  assert.deepEqual(p3.items.map((o) => o.metadata.name), ['c6']);
  assert.equal(p3.continueToken, undefined);
  const even = await rs.list(cmDef, 'default', { labelSelector: parseLabelSelector('even=true,i notin (4)') });
  assert.deepEqual(even.items.map((o) => o.metadata.name), ['c0', 'c2', 'c6']);
  const byName = await rs.list(cmDef, 'default', { fieldSelector: parseFieldSelector('metadata.name=c5') });
  assert.deepEqual(byName.items.map((o) => o.metadata.name), ['c5']);
  const notName = await rs.list(cmDef, undefined, { fieldSelector: parseFieldSelector('metadata.name!=c5,metadata.namespace=default') });
  assert.equal(notName.items.length, 6);
});

test('watch: selector transitions give ADDED/MODIFIED/DELETED', async () => {
  const rs = await setup();
  const start = Number((await rs.list(cmDef, 'default')).resourceVersion);
  const sel = parseLabelSelector('app=web');
  const got: ObjectEvent[] = [];
  const w = rs.watch(cmDef, 'default', start, (o) => sel.matches(o.metadata.labels), (evs) => got.push(...evs), (e) => assert.fail(e));
  const a = await rs.create(cmDef, 'default', cm('a', {}, { app: 'web' }), ctx());
  await rs.create(cmDef, 'default', cm('b', {}, { app: 'db' }), ctx());
  const a2 = await rs.update(cmDef, 'default', 'a', { ...a, data: { x: '1' } }, ctx());
  await rs.update(cmDef, 'default', 'a', { ...a2.object, metadata: { ...a2.object.metadata, labels: { app: 'other' } } }, ctx());
  await rs.update(cmDef, 'default', 'b', { ...(await rs.get(cmDef, 'default', 'b')), metadata: { ...(await rs.get(cmDef, 'default', 'b')).metadata, labels: { app: 'web' } } }, ctx());
  await rs.delete(cmDef, 'default', 'b', {}, ctx());
  await new Promise((r) => setTimeout(r, 10));
  w.close();
  assert.deepEqual(
    got.map((e) => `${e.type}:${e.object.metadata.name}`),
    ['ADDED:a', 'MODIFIED:a', 'DELETED:a', 'ADDED:b', 'DELETED:b'],
  );
  const revs = got.map((e) => e.revision);
  assert.deepEqual(revs, [...revs].sort((x, y) => x - y));
});

test('terminating namespace refuses new content with upstream Forbidden', async () => {
  const rs = await setup();
  await rs.create(nsDef, undefined, { metadata: { name: 'gone', finalizers: ['kubernetes'] } }, ctx());
  await rs.delete(nsDef, undefined, 'gone', {}, ctx());
  await rejects(rs.create(cmDef, 'gone', cm('x'), ctx()), 403, 'Forbidden', /configmaps "x" is forbidden: unable to create new content in namespace gone because it is being terminated/);
});
