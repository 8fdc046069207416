// Garbage collector tests on the fake client: the graph, background cascade with uid preconditions, dangling
// and surviving owners, orphaning, and foreground deletion waiting on blocking dependents only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, OwnerReference } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import type { ApiResource } from '../../client/interface.js';
import { GarbageCollector } from './controller.js';
import { Graph, type GraphNode } from './graph.js';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const RS: ApiResource = { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true, verbs: VERBS };
const PODS: ApiResource = { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, verbs: VERBS };
const EVENTS: ApiResource = { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, verbs: VERBS };

const ref = (owner: KubeObject, block = false): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.metadata.name!, uid: owner.metadata.uid!, blockOwnerDeletion: block });
const rs = (name: string): KubeObject => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'ns' } });
const pod = (name: string, owners: OwnerReference[], finalizers?: string[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', ownerReferences: owners, ...(finalizers ? { finalizers } : {}) } });

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function started(c: FakeClient): Promise<{ gc: GarbageCollector; done: Promise<void> }> {
  const gc = new GarbageCollector(c, { resyncMs: 0 });
  const done = gc.run();
  await gc.hasSynced;
  return { gc, done };
}

test('graph: dependents by owner uid, owner changes reported, removal unlinks', () => {
  const g = new Graph();
  const node = (uid: string, owners: OwnerReference[]): GraphNode => ({ uid, resource: PODS, namespace: 'ns', name: uid, owners, beingDeleted: false, deletingDependents: false, orphaning: false });
  const o = (uid: string, block = false): OwnerReference => ({ apiVersion: 'v1', kind: 'X', name: uid, uid, blockOwnerDeletion: block });
  assert.deepEqual(g.upsert(node('d1', [o('a', true)])).added.map((r) => r.uid), ['a']);
  g.upsert(node('d2', [o('a')]));
  assert.deepEqual(g.dependentsOf('a').map((n) => n.uid), ['d1', 'd2']);
  const ch = g.upsert(node('d1', [o('a'), o('b')]));
  assert.deepEqual([ch.added.map((r) => r.uid), ch.removed.map((r) => r.uid), ch.unblocked.map((r) => r.uid)], [['b'], [], ['a']]);
  assert.deepEqual(g.upsert(node('d1', [o('b')])).removed.map((r) => r.uid), ['a']);
  assert.deepEqual(g.dependentsOf('a').map((n) => n.uid), ['d2']);
  g.remove('d2');
  assert.deepEqual(g.dependentsOf('a'), []);
});

test('background: dependents of a deleted owner are deleted with a uid precondition; others stay; events are not watched', async () => {
  const c = new FakeClient([RS, PODS, EVENTS]);
  const owner = c.seed('replicasets', rs('owner'));
  const other = c.seed('replicasets', rs('other'));
  c.seed('pods', pod('dep', [ref(owner)]));
  c.seed('pods', pod('kept', [ref(other)]));
  const { gc, done } = await started(c);
  assert.ok(!c.actions.some((a) => a.resource === 'events'), 'events are ignored');
  await c.delete(RS, 'ns', 'owner');
  await until(() => !c.peek('pods', 'ns', 'dep'), 'dep to be collected');
  const del = c.actions.filter((a) => a.verb === 'delete' && a.resource === 'pods');
  assert.deepEqual(del.map((a) => [a.name, a.detail]), [['dep', 'Background']]);
  assert.ok(c.peek('pods', 'ns', 'kept'));
  await gc.stop();
  await done;
});

test('dangling owner: collected at start-up; with a surviving owner only the dead reference is dropped', async () => {
  const c = new FakeClient([RS, PODS]);
  const alive = c.seed('replicasets', rs('alive'));
  const ghost: OwnerReference = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'ghost', uid: 'no-such-uid' };
  c.seed('pods', pod('lonely', [ghost]));
  c.seed('pods', pod('half', [ghost, ref(alive)]));
  const { gc, done } = await started(c);
  await until(() => !c.peek('pods', 'ns', 'lonely'), 'lonely to be collected');
  await until(() => c.peek('pods', 'ns', 'half')?.metadata.ownerReferences?.length === 1, 'half to lose the ghost');
  assert.equal(c.peek('pods', 'ns', 'half')!.metadata.ownerReferences![0]!.uid, alive.metadata.uid);
  assert.ok(!c.actions.some((a) => a.verb === 'delete' && a.name === 'half'));
  await gc.stop();
  await done;
});

test('orphan: references to the owner are removed from dependents, then the orphan finalizer', async () => {
  const c = new FakeClient([RS, PODS]);
  const owner = c.seed('replicasets', rs('owner'));
  c.seed('pods', pod('dep', [ref(owner, true)]));
  const { gc, done } = await started(c);
  await c.delete(RS, 'ns', 'owner', { propagationPolicy: 'Orphan' });
  await until(() => !c.peek('replicasets', 'ns', 'owner'), 'owner to go');
  const dep = c.peek('pods', 'ns', 'dep');
  assert.ok(dep, 'the dependent stays');
  assert.equal(dep.metadata.ownerReferences, undefined);
  const patches = c.actions.filter((a) => a.verb === 'patch').map((a) => `${a.resource}/${a.name}`);
  assert.deepEqual(patches, ['pods/dep', 'replicasets/owner'], 'dependents first, then the finalizer');
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(c.peek('pods', 'ns', 'dep'), 'not collected afterwards either');
  await gc.stop();
  await done;
});

test('foreground: the owner keeps its finalizer while a blocking dependent remains, non-blocking ones do not hold it', async () => {
  const c = new FakeClient([RS, PODS]);
  const owner = c.seed('replicasets', rs('owner'));
  c.seed('pods', pod('blocker', [ref(owner, true)], ['example.com/hold']));
  c.seed('pods', pod('loose', [ref(owner, false)], ['example.com/hold']));
  const { gc, done } = await started(c);
  await c.delete(RS, 'ns', 'owner', { propagationPolicy: 'Foreground' });
  await until(() => !!c.peek('pods', 'ns', 'blocker')?.metadata.deletionTimestamp && !!c.peek('pods', 'ns', 'loose')?.metadata.deletionTimestamp, 'both dependents marked for deletion');
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(c.peek('replicasets', 'ns', 'owner')?.metadata.finalizers, ['foregroundDeletion']);

  // Releasing the non-blocking dependent changes nothing; releasing the blocking one lets the owner go.
  const release = async (name: string) => {
    const p = c.peek('pods', 'ns', name)!;
    await c.update(PODS, 'ns', { ...p, metadata: { ...p.metadata, finalizers: [] } });
  };
  await release('loose');
  await new Promise((r) => setTimeout(r, 30));
  assert.ok(c.peek('replicasets', 'ns', 'owner'), 'a non-blocking dependent does not hold the owner, but the blocker still does');
  await release('blocker');
  await until(() => !c.peek('replicasets', 'ns', 'owner'), 'owner to go');
  await gc.stop();
  await done;
});
