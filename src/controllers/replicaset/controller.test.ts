// ReplicaSet/RC controller tests on the fake client: scale up in slow-start batches, self-healing, expectations
// holding back a second create until the informer sees the first, scale-down victims in upstream order,
// adoption and release, status with minReadySeconds, ReplicaFailure and events.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { ApiError } from '../../client/interface.js';
import { PODS, REPLICASETS, REPLICATIONCONTROLLER_KIND, ReplicaSetController, slowStartBatch, type ReplicaStatus } from './controller.js';
import { podsToDelete } from './victims.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

function rs(name: string, replicas: number, extra: { minReadySeconds?: number } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'ns', generation: 1 },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name, extra: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }, ...extra },
  };
}

interface PodOpts {
  node?: string;
  phase?: string;
  ready?: boolean;
  readyAgoMs?: number;
  restarts?: number;
  createdAgoMs?: number;
  owner?: KubeObject;
  labels?: Record<string, string>;
}

function pod(name: string, o: PodOpts = {}): KubeObject {
  const meta: KubeObject['metadata'] = { name, namespace: 'ns', labels: o.labels ?? { app: 'web', extra: 'x' }, creationTimestamp: iso(o.createdAgoMs ?? 60_000) };
  if (o.owner) meta.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner.metadata.name!, uid: o.owner.metadata.uid!, controller: true, blockOwnerDeletion: true }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta,
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: iso(o.readyAgoMs ?? 60_000) }],
      containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 }],
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** A controller whose informers have synced; sync() is driven by the test. */
async function controller(c: FakeClient, kind = undefined as undefined | typeof REPLICATIONCONTROLLER_KIND): Promise<ReplicaSetController> {
  const ctl = new ReplicaSetController(c, kind, { now: () => NOW });
  ctl.owners.start();
  ctl.pods.start();
  await Promise.all([ctl.owners.hasSynced, ctl.pods.hasSynced]);
  return ctl;
}

async function done(ctl: ReplicaSetController): Promise<void> {
  await ctl.stop();
}

const creates = (c: FakeClient) => c.actionsOf('create').filter((a) => a.resource === 'pods');
const deletes = (c: FakeClient) => c.actionsOf('delete').filter((a) => a.resource === 'pods').map((a) => a.name);
const events = (c: FakeClient) => c.all('events').map((e) => `${e.type} ${e.reason} ${e.message}`);

test('slow start: creations go in batches of 1, 2, 4, … and stop after a failing batch', async () => {
  const batches: number[] = [];
  let inBatch = 0;
  let calls = 0;
  const r = await slowStartBatch(10, 1, async () => {
    calls++;
    inBatch++;
    await Promise.resolve();
    if (inBatch) (batches.push(inBatch), (inBatch = 0));
  });
  assert.deepEqual(r, { created: 10 });
  assert.equal(calls, 10);
  assert.deepEqual(batches, [1, 2, 4, 3]);
  let n = 0;
  const f = await slowStartBatch(10, 1, async () => {
    if (++n === 3) throw new Error('quota');
  });
  assert.equal(n, 3, 'the batch after the failing one never runs');
  assert.equal(f.created, 2);
  assert.match(String(f.error), /quota/);
});

test('scale up: pods from the template with generateName, controller ref and events', async () => {
  const c = new FakeClient();
  const owner = c.seed('replicasets', rs('web', 3));
  const ctl = await controller(c);
  await ctl.sync('ns/web');
  const made = c.all('pods');
  assert.equal(made.length, 3);
  for (const p of made) {
    assert.match(p.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(p.metadata.generateName, 'web-');
    assert.deepEqual(p.metadata.labels, { app: 'web', extra: 'x' });
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  await ctl.recorder.flush();
  assert.deepEqual(events(c).sort(), made.map((p) => `Normal SuccessfulCreate Created pod: ${p.metadata.name}`).sort());
  // Status counts the pods seen before this pass's creations (as upstream); the next pass sees all three.
  assert.equal((c.peek('replicasets', 'ns', 'web')!.status as ReplicaStatus).replicas, 0);
  await settle();
  await ctl.sync('ns/web');
  assert.equal(creates(c).length, 3);
  const st = c.peek('replicasets', 'ns', 'web')!.status as ReplicaStatus;
  assert.deepEqual(st, { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });
  await done(ctl);
});

test('expectations: no second round of creates before the informer has seen the first', async () => {
  const c = new FakeClient();
  c.seed('replicasets', rs('web', 2));
  const ctl = new ReplicaSetController(c, undefined, { now: () => NOW });
  ctl.owners.start();
  await ctl.owners.hasSynced; // the pod informer is not running: the controller cannot see its pods yet
  await ctl.sync('ns/web');
  await ctl.sync('ns/web');
  assert.equal(creates(c).length, 2, 'second sync waits for its expectations');
  assert.deepEqual(ctl.expectations.pending('ns/web'), { add: 2, del: 0 });
  ctl.pods.start();
  await ctl.pods.hasSynced;
  await settle();
  assert.deepEqual(ctl.expectations.pending('ns/web'), { add: 0, del: 0 }, 'creations observed');
  await ctl.sync('ns/web');
  assert.equal(creates(c).length, 2, 'nothing more to create');
  await done(ctl);
});

test('self-healing: a deleted pod is replaced, once', async () => {
  const c = new FakeClient();
  c.seed('replicasets', rs('web', 2));
  const ctl = await controller(c);
  await ctl.sync('ns/web');
  await settle();
  const victim = c.all('pods')[0]!;
  await c.delete(PODS, 'ns', victim.metadata.name!);
  await settle();
  await ctl.sync('ns/web');
  await settle();
  await ctl.sync('ns/web');
  assert.equal(creates(c).length, 3);
  assert.equal(c.all('pods').length, 2);
  await done(ctl);
});

test('scale down deletes in upstream order: unscheduled, pending, not ready, more restarts, newer', async () => {
  const c = new FakeClient();
  const owner = c.seed('replicasets', { ...rs('web', 1) });
  const o = { owner };
  c.seed('pods', pod('old-ready', { ...o, node: 'n1', createdAgoMs: 10 * 3600_000, readyAgoMs: 10 * 3600_000 }));
  c.seed('pods', pod('restarts', { ...o, node: 'n2', restarts: 5, createdAgoMs: 10 * 3600_000, readyAgoMs: 10 * 3600_000 }));
  c.seed('pods', pod('not-ready', { ...o, node: 'n3', ready: false }));
  c.seed('pods', pod('pending', { ...o, node: 'n4', phase: 'Pending', ready: false }));
  c.seed('pods', pod('unscheduled', { ...o, phase: 'Pending', ready: false }));
  const ctl = await controller(c);
  await ctl.sync('ns/web');
  assert.deepEqual(deletes(c), ['unscheduled', 'pending', 'not-ready', 'restarts']);
  await ctl.recorder.flush();
  assert.ok(events(c).includes('Normal SuccessfulDelete Deleted pod: restarts'));
  await settle();
  assert.deepEqual(ctl.expectations.pending('ns/web'), { add: 0, del: 0 }, 'each deletion observed once');
  await done(ctl);
});

test('victim order table (ActivePodsWithRanks)', () => {
  const cases: Array<{ name: string; pods: KubeObject[]; want: string }> = [
    { name: 'unknown before running', pods: [pod('run', { node: 'n' }), pod('unk', { node: 'n', phase: 'Unknown' })], want: 'unk' },
    { name: 'newer before older', pods: [pod('old', { node: 'n', createdAgoMs: 3600_000 * 20 }), pod('new', { node: 'n', createdAgoMs: 1000 })], want: 'new' },
    { name: 'ready for less time first', pods: [pod('long', { node: 'n', readyAgoMs: 3600_000 * 20 }), pod('short', { node: 'n', readyAgoMs: 2000 })], want: 'short' },
    { name: 'lower deletion cost first', pods: [{ ...pod('cheap', { node: 'n' }), metadata: { ...pod('cheap', { node: 'n' }).metadata, annotations: { 'controller.kubernetes.io/pod-deletion-cost': '-5' } } }, pod('dear', { node: 'n', createdAgoMs: 1 })], want: 'cheap' },
  ];
  for (const tc of cases) {
    assert.equal(podsToDelete(tc.pods, tc.pods, 1, NOW)[0]!.metadata.name, tc.want, tc.name);
  }
  // Doubled-up pods (more related pods on their node) go first.
  const a = pod('crowded', { node: 'busy' });
  const b = pod('alone', { node: 'quiet' });
  const related = [a, b, pod('other', { node: 'busy' })];
  assert.equal(podsToDelete([b, a], related, 1, NOW)[0]!.metadata.name, 'crowded');
});

test('adoption and release: orphans that match are adopted, owned pods that stop matching are released', async () => {
  const c = new FakeClient();
  const owner = c.seed('replicasets', rs('web', 2));
  c.seed('pods', pod('orphan'));
  c.seed('pods', pod('strayed', { owner, labels: { app: 'other' } }));
  c.seed('pods', pod('foreign', { owner: { metadata: { name: 'x', uid: 'someone-else' } } }));
  const ctl = await controller(c);
  await ctl.sync('ns/web');
  assert.equal(c.peek('pods', 'ns', 'orphan')!.metadata.ownerReferences?.[0]?.uid, owner.metadata.uid);
  assert.equal(c.peek('pods', 'ns', 'strayed')!.metadata.ownerReferences, undefined, 'released');
  assert.equal(c.peek('pods', 'ns', 'foreign')!.metadata.ownerReferences?.[0]?.uid, 'someone-else', 'never touched');
  assert.equal(creates(c).length, 1, 'the adopted pod counts: one more to reach 2');
  await done(ctl);
});

test('status: ready and available honour minReadySeconds; fully-labeled needs every template label', async () => {
  const c = new FakeClient();
  const owner = c.seed('replicasets', rs('web', 3, { minReadySeconds: 30 }));
  c.seed('pods', pod('a', { owner, readyAgoMs: 60_000 }));
  c.seed('pods', pod('b', { owner, readyAgoMs: 5_000 }));
  c.seed('pods', pod('c', { owner, ready: false, labels: { app: 'web' } }));
  const ctl = await controller(c);
  await ctl.sync('ns/web');
  const st = c.peek('replicasets', 'ns', 'web')!.status as ReplicaStatus;
  assert.deepEqual(st, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 1 });
  await done(ctl);
});

test('a refused create: FailedCreate event, ReplicaFailure condition, error to retry; cleared once creates work', async () => {
  const c = new FakeClient();
  c.seed('replicasets', rs('web', 1));
  c.failures.set('create pods', new ApiError(403, 'Forbidden', 'pods "web-" is forbidden: exceeded quota'));
  const ctl = await controller(c);
  await assert.rejects(ctl.sync('ns/web'), /exceeded quota/);
  await ctl.recorder.flush();
  assert.deepEqual(events(c), ['Warning FailedCreate Error creating: pods "web-" is forbidden: exceeded quota']);
  let st = c.peek('replicasets', 'ns', 'web')!.status as ReplicaStatus;
  assert.equal(st.conditions?.[0]?.type, 'ReplicaFailure');
  assert.equal(st.conditions?.[0]?.reason, 'FailedCreate');
  assert.deepEqual(ctl.expectations.pending('ns/web'), { add: 0, del: 0 }, 'the failed create is not waited for');
  await settle();
  await ctl.sync('ns/web');
  st = c.peek('replicasets', 'ns', 'web')!.status as ReplicaStatus;
  assert.equal(st.conditions, undefined);
  assert.equal(c.all('pods').length, 1);
  await done(ctl);
});

test('ReplicationController: map selector, v1 controller ref', async () => {
  const c = new FakeClient();
  const rc = c.seed('replicationcontrollers', {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'rc', namespace: 'ns', generation: 1 },
    spec: { replicas: 2, selector: { app: 'rc' }, template: { metadata: { labels: { app: 'rc' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  });
  const ctl = await controller(c, REPLICATIONCONTROLLER_KIND);
  await ctl.sync('ns/rc');
  const pods = c.all('pods');
  assert.equal(pods.length, 2, JSON.stringify(c.actions.map((a) => `${a.verb} ${a.resource}`)));
  assert.deepEqual(pods[0]!.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'rc', uid: rc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  await settle();
  await ctl.sync('ns/rc');
  assert.equal((c.peek('replicationcontrollers', 'ns', 'rc')!.status as ReplicaStatus).replicas, 2);
  assert.equal(c.all('replicasets').length, 0);
  void REPLICASETS;
  await done(ctl);
});
