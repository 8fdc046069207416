// Informer tests against the fake client: initial list, watch events into the cache, re-list on 410 with
// deletes for what vanished meanwhile, resync, the hasSynced promise, and shared caches on a shareInformers client.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { FakeClient } from './fake.js';
import { Informer, shareInformers } from './informer.js';
import { ApiError, type ListOptions, type ObjectList, type Resource } from './interface.js';

const CM: Resource = { group: '', version: 'v1', resource: 'configmaps', namespaced: true };
const cm = (name: string, ns = 'default', data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function recorder() {
  const log: string[] = [];
  return {
    log,
    handler: {
      add: (o: KubeObject) => log.push(`add ${o.metadata.name}`),
      update: (a: KubeObject, b: KubeObject) => log.push(a === b ? `resync ${b.metadata.name}` : `update ${b.metadata.name}`),
      delete: (o: KubeObject) => log.push(`delete ${o.metadata.name}`),
    },
  };
}

test('lists into the cache, resolves hasSynced, then follows the watch', async () => {
  const c = new FakeClient();
  c.seed('configmaps', cm('a'));
  const inf = new Informer(c, CM);
  const r = recorder();
  inf.addEventHandler(r.handler);
  inf.start();
  await inf.hasSynced;
  assert.deepEqual(r.log, ['add a']);
  assert.equal(inf.get('default/a')?.metadata.name, 'a');
  assert.equal(inf.get('default/a')?.kind, 'ConfigMap');

  await until(() => c.openWatches === 1, 'the watch');
  await c.create(CM, 'default', cm('b'));
  const a = c.peek('configmaps', 'default', 'a')!;
  await c.update(CM, 'default', { ...a, data: { k: 'v' } });
  await c.delete(CM, 'default', 'b');
  await until(() => r.log.length === 4, 'three events');
  assert.deepEqual(r.log, ['add a', 'add b', 'update a', 'delete b']);
  assert.deepEqual(inf.list().map((o) => o.metadata.name), ['a']);
  assert.deepEqual(inf.get('default/a')?.data, { k: 'v' });
  await inf.stop();
  assert.equal(c.openWatches, 0);
});

test('410 Expired re-lists and reports objects deleted while the watch was down', async () => {
  const c = new FakeClient();
  c.seed('configmaps', cm('a'));
  c.seed('configmaps', cm('b'));
  const inf = new Informer(c, CM);
  const r = recorder();
  inf.addEventHandler(r.handler);
  inf.start();
  await inf.hasSynced;
  await until(() => c.openWatches === 1, 'the watch');
  // Change the world without the informer seeing it, then expire its watch.
  await c.silently(async () => {
    await c.delete(CM, 'default', 'a');
    await c.create(CM, 'default', cm('c'));
  });
  c.expireWatches();
  await until(() => r.log.includes('delete a') && r.log.includes('add c'), 're-list results');
  assert.equal(c.actionsOf('list').length, 2, 'one list at start, one after 410');
  assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['b', 'c']);
  await inf.stop();
});

test('a watch the server ends normally is resumed from the last resourceVersion without a re-list', async () => {
  const c = new FakeClient();
  const inf = new Informer(c, CM, { retryBaseMs: 1 });
  inf.start();
  await inf.hasSynced;
  await until(() => c.openWatches === 1, 'the watch');
  await c.create(CM, 'default', cm('x'));
  await until(() => inf.get('default/x') !== undefined, 'x');
  const rv = inf.get('default/x')!.metadata.resourceVersion;
  c.closeWatches();
  await until(() => c.actionsOf('watch').length === 2, 'a second watch');
  assert.equal(c.actionsOf('list').length, 1);
  assert.equal(c.actionsOf('watch')[1]!.detail, rv);
  await inf.stop();
});

test('a failed list is retried and hasSynced waits for it', async () => {
  const c = new FakeClient();
  const { ApiError } = await import('./interface.js');
  c.failures.set('list configmaps', new ApiError(500, 'InternalError', 'boom'));
  const errors: unknown[] = [];
  const inf = new Informer(c, CM, { retryBaseMs: 1, onError: (e) => errors.push(e) });
  inf.start();
  await inf.hasSynced;
  assert.equal(errors.length, 1);
  assert.equal(c.actionsOf('list').length, 2);
  await inf.stop();
});

test('resync re-delivers cached objects as updates with old === new', async () => {
  const c = new FakeClient();
  c.seed('configmaps', cm('a'));
  const inf = new Informer(c, CM, { resyncMs: 5 });
  const r = recorder();
  inf.addEventHandler(r.handler);
  inf.start();
  await inf.hasSynced;
  await until(() => r.log.includes('resync a'), 'a resync');
  await inf.stop();
});

test('on a shared client, equal informers share one list and one watch; each keeps its own handlers', async () => {
  const c = new FakeClient();
  shareInformers(c);
  c.seed('configmaps', cm('a'));
  const one = new Informer(c, CM);
  const r1 = recorder();
  one.addEventHandler(r1.handler);
  one.start();
  await one.hasSynced;
  await until(() => c.openWatches === 1, 'the first watch');

  // A second informer joining the running cache sees its contents as adds, without a list or watch of its own.
  const two = new Informer(c, CM);
  const r2 = recorder();
  two.addEventHandler(r2.handler);
  assert.deepEqual(r2.log, [], 'nothing before start');
  two.start();
  await two.hasSynced;
  assert.deepEqual(r2.log, ['add a']);
  assert.equal(c.actionsOf('list').length, 1);
  assert.equal(c.openWatches, 1);
  // Another selector is another cache.
  const other = new Informer(c, CM, { labelSelector: 'x=y' });
  other.start();
  await other.hasSynced;
  assert.equal(c.actionsOf('list').length, 2);
  await other.stop();

  await c.create(CM, 'default', cm('b'));
  await until(() => r1.log.length === 2 && r2.log.length === 2, 'the add in both');
  assert.deepEqual(r1.log, ['add a', 'add b']);
  assert.deepEqual(r2.log, ['add a', 'add b']);
  assert.equal(one.get('default/b'), two.get('default/b'), 'one cached object');

  // Stopping one leaves the other running; stopping the last ends the watch; a new one starts afresh.
  await one.stop();
  await c.delete(CM, 'default', 'a');
  await until(() => r2.log.length === 3, 'the delete in the survivor');
  assert.deepEqual(r1.log, ['add a', 'add b'], 'a stopped informer hears nothing');
  assert.equal(c.openWatches, 1);
  await two.stop();
  assert.equal(c.openWatches, 0);
  const three = new Informer(c, CM);
  three.start();
  await three.hasSynced;
  assert.deepEqual(three.list().map((o) => o.metadata.name), ['b']);
  assert.equal(c.actionsOf('list').length, 3, 'a fresh list after the last one stopped');
  await three.stop();
});

test('metadataOnly caches PartialObjectMetadata; on a shared client it joins an existing whole-object cache', async () => {
  const c = new FakeClient();
  c.seed('configmaps', cm('a', 'default', { k: 'v' }));
  const meta = new Informer(c, CM, { metadataOnly: true });
  const r = recorder();
  meta.addEventHandler(r.handler);
  meta.start();
  await meta.hasSynced;
  assert.equal(meta.get('default/a')?.kind, 'PartialObjectMetadata');
  assert.equal(meta.get('default/a')?.apiVersion, 'meta.k8s.io/v1');
  assert.equal(meta.get('default/a')?.data, undefined);
  await until(() => c.openWatches === 1, 'the watch');
  await c.create(CM, 'default', cm('b', 'default', { x: 'y' }));
  await until(() => r.log.length === 2, 'the add');
  assert.equal(meta.get('default/b')?.kind, 'PartialObjectMetadata');
  assert.equal(meta.get('default/b')?.data, undefined);
  await meta.stop();

  const s = new FakeClient();
  shareInformers(s);
  s.seed('configmaps', cm('a', 'default', { k: 'v' }));
  const full = new Informer(s, CM);
  full.start();
  await full.hasSynced;
  const joined = new Informer(s, CM, { metadataOnly: true });
  joined.start();
  await joined.hasSynced;
  assert.equal(s.actionsOf('list').length, 1, 'no second list');
  assert.equal(joined.get('default/a'), full.get('default/a'), 'the whole object serves the metadata view');
  // Without a whole-object cache, metadata-only informers share their own.
  const m1 = new Informer(s, { ...CM, resource: 'secrets' }, { metadataOnly: true });
  const m2 = new Informer(s, { ...CM, resource: 'secrets' }, { metadataOnly: true });
  m1.start();
  m2.start();
  await Promise.all([m1.hasSynced, m2.hasSynced]);
  assert.equal(s.actionsOf('list').length, 2);
  await Promise.all([full.stop(), joined.stop(), m1.stop(), m2.stop()]);
});

/** A fake that serves lists in pages (limit/continue) from one snapshot, as the API server does. */
class PagingClient extends FakeClient {
  readonly pages: Array<{ limit?: number; continue?: string; metadataOnly?: boolean }> = [];
  /** Answer the next continued page with 410 Expired (its snapshot compacted). */
  expireNextContinue = false;
  private snapshots = new Map<string, { items: KubeObject[]; rv: string }>();
  override async list(r: Resource, ns: string | undefined, opts?: ListOptions): Promise<ObjectList> {
    this.pages.push({ limit: opts?.limit, continue: opts?.continue, metadataOnly: opts?.metadataOnly });
    if (!opts?.limit) return super.list(r, ns, opts);
    let snap: { items: KubeObject[]; rv: string };
    let start = 0;
    if (opts.continue) {
      if (this.expireNextContinue) {
        this.expireNextContinue = false;
        throw new ApiError(410, 'Expired', 'The provided continue parameter is too old');
      }
      const [id, at] = opts.continue.split(':');
      snap = this.snapshots.get(id)!;
      start = Number(at);
    } else {
      const whole = await super.list(r, ns, { ...opts, limit: undefined });
      snap = { items: whole.items.map((o) => ({ ...o, apiVersion: whole.apiVersion, kind: whole.kind })), rv: whole.metadata.resourceVersion ?? '' };
      this.snapshots.set(String(this.snapshots.size), snap);
    }
    const id = [...this.snapshots].find(([, s]) => s === snap)![0];
    const items = snap.items.slice(start, start + opts.limit).map(({ apiVersion: _a, kind: _k, ...o }) => o as KubeObject);
    const more = start + opts.limit < snap.items.length;
    return { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: snap.rv, ...(more ? { continue: `${id}:${start + opts.limit}` } : {}) }, items };
  }
}

test('the list is read in pages of pageSize from one snapshot; a compacted continue falls back to one whole list', async () => {
  const c = new PagingClient();
  for (let i = 0; i < 5; i++) c.seed('configmaps', cm(`cm${i}`));
  const inf = new Informer(c, CM, { pageSize: 2 });
  const r = recorder();
  inf.addEventHandler(r.handler);
  inf.start();
  await inf.hasSynced;
  assert.deepEqual(c.pages.map((p) => [p.limit, p.continue]), [[2, undefined], [2, '0:2'], [2, '0:4']]);
  assert.deepEqual(r.log, ['add cm0', 'add cm1', 'add cm2', 'add cm3', 'add cm4'], 'handlers see the whole list once, after the last page');
  assert.equal(inf.get('default/cm3')?.kind, 'ConfigMap');
  // The watch starts from the snapshot's revision: a write after it arrives as an event.
  await until(() => c.openWatches === 1, 'the watch');
  await c.create(CM, 'default', cm('late'));
  await until(() => r.log.length === 6, 'the add');
  await inf.stop();

  const d = new PagingClient();
  for (let i = 0; i < 3; i++) d.seed('configmaps', cm(`cm${i}`));
  d.expireNextContinue = true;
  const again = new Informer(d, CM, { pageSize: 2 });
  again.start();
  await again.hasSynced;
  assert.deepEqual(d.pages.map((p) => [p.limit, p.continue]), [[2, undefined], [2, '0:2'], [undefined, undefined]]);
  assert.deepEqual(again.list().map((o) => o.metadata.name).sort(), ['cm0', 'cm1', 'cm2'], 'nothing twice, nothing lost');
  await again.stop();
});

test('a shareInformers client with stripManagedFields caches objects without managedFields', async () => {
  const mf = [{ manager: 'kubectl', operation: 'Update' as const, apiVersion: 'v1', fieldsType: 'FieldsV1' as const, fieldsV1: { 'f:data': {} } }];
  const s = new FakeClient();
  shareInformers(s, { stripManagedFields: true });
  s.seed('configmaps', { ...cm('a', 'default', { k: 'v' }), metadata: { name: 'a', namespace: 'default', labels: { x: 'y' }, managedFields: mf } });
  const inf = new Informer(s, CM);
  inf.start();
  await inf.hasSynced;
  assert.equal(inf.get('default/a')?.metadata.managedFields, undefined);
  assert.deepEqual(inf.get('default/a')?.metadata.labels, { x: 'y' }, 'the rest of metadata stays');
  await until(() => s.openWatches === 1, 'the watch');
  await s.create(CM, 'default', { ...cm('b'), metadata: { name: 'b', namespace: 'default', managedFields: mf } });
  await until(() => inf.get('default/b') !== undefined, 'the add');
  assert.equal(inf.get('default/b')?.metadata.managedFields, undefined);
  assert.ok(s.peek('configmaps', 'default', 'b')?.metadata.managedFields, 'the stored object keeps them');
  await inf.stop();

  // Without the option nothing is dropped.
  const plain = new FakeClient();
  plain.seed('configmaps', { ...cm('a'), metadata: { name: 'a', namespace: 'default', managedFields: mf } });
  const keep = new Informer(plain, CM);
  keep.start();
  await keep.hasSynced;
  assert.deepEqual(keep.get('default/a')?.metadata.managedFields, mf);
  await keep.stop();
});
