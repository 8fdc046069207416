// StatefulSet controller on the fake client: ordinal identity and ordering (OrderedReady, Parallel), per-ordinal
// claims and their retention policy, scale-down from the highest ordinal, recreation under the same name,
// RollingUpdate by descending ordinal with partition (counted from ordinals.start), OnDelete, ControllerRevisions
// and the status fields `kubectl rollout status/history/undo statefulset` read.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { PODS, POD_INDEX_LABEL, POD_NAME_LABEL, PVCS, STATEFULSETS, StatefulSetController, type StatefulSetStatus } from './controller.js';

const HOLD = 'test.k8ts.io/hold';

interface SetOpts {
  replicas?: number;
  policy?: 'OrderedReady' | 'Parallel';
  strategy?: unknown;
  claims?: string[];
  retention?: { whenDeleted?: string; whenScaled?: string };
  start?: number;
  image?: string;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  /** Pods keep a finalizer, so a deleted pod stays Terminating until release(). */
  hold?: boolean;
}

/** A StatefulSet as the API server stores it (defaults applied). */
function statefulSet(name: string, o: SetOpts = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'ns', generation: 1 },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: `${name}-svc`,
      selector: { matchLabels: { app: name } },
      podManagementPolicy: o.policy ?? 'OrderedReady',
      updateStrategy: o.strategy ?? { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: o.revisionHistoryLimit ?? 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain', ...(o.retention ?? {}) },
      ...(o.start !== undefined ? { ordinals: { start: o.start } } : {}),
      ...(o.minReadySeconds ? { minReadySeconds: o.minReadySeconds } : {}),
      template: {
        metadata: { labels: { app: name }, ...(o.hold ? { finalizers: [HOLD] } : {}) },
        spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: o.image ?? 'db:1' }] },
      },
      volumeClaimTemplates: (o.claims ?? []).map((c) => ({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: c },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
      })),
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

async function controller(c: FakeClient, now?: () => number): Promise<StatefulSetController> {
  const ctl = new StatefulSetController(c, now ? { now } : {});
  for (const i of [ctl.sets, ctl.pods, ctl.claims, ctl.revisions]) i.start();
  await Promise.all([ctl.sets.hasSynced, ctl.pods.hasSynced, ctl.claims.hasSynced, ctl.revisions.hasSynced]);
  return ctl;
}

/** One sync, then let the informers see its writes. */
async function sync(ctl: StatefulSetController, key = 'ns/web'): Promise<void> {
  await ctl.sync(key);
  await settle();
}

const podNames = (c: FakeClient): string[] => c.all('pods').map((p) => p.metadata.name!).sort();
const claimNames = (c: FakeClient): string[] => c.all('persistentvolumeclaims').map((p) => p.metadata.name!).sort();
const pod = (c: FakeClient, name: string): KubeObject => c.peek('pods', 'ns', name)!;
const podCreates = (c: FakeClient): string[] => c.actionsOf('create').filter((a) => a.resource === 'pods').map((a) => a.name!);
const podDeletes = (c: FakeClient): string[] => c.actionsOf('delete').filter((a) => a.resource === 'pods').map((a) => a.name!);
const revisionOf = (p: KubeObject): string => p.metadata.labels!['controller-revision-hash'];
const imageOf = (p: KubeObject | undefined): string | undefined => (p?.spec as { containers?: Array<{ image: string }> } | undefined)?.containers?.[0]?.image;
const status = (c: FakeClient, name = 'web'): StatefulSetStatus => c.peek('statefulsets', 'ns', name)!.status as StatefulSetStatus;
const terminating = (c: FakeClient, name: string): boolean => !!pod(c, name)?.metadata.deletionTimestamp;

async function setPodStatus(c: FakeClient, name: string, st: Record<string, unknown>): Promise<void> {
  const p = pod(c, name);
  await c.patch(PODS, 'ns', name, 'application/merge-patch+json', { metadata: { resourceVersion: p.metadata.resourceVersion }, status: st });
  await settle();
}

async function markReady(c: FakeClient, name: string, at = '2026-01-01T00:00:00Z'): Promise<void> {
  await setPodStatus(c, name, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at }] });
}

async function markUnready(c: FakeClient, name: string): Promise<void> {
  await setPodStatus(c, name, { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] });
}

/** Marks every pod without a phase (freshly created) Running and Ready. */
async function markNewReady(c: FakeClient): Promise<void> {
  for (const p of c.all('pods')) if (!(p.status as { phase?: string } | undefined)?.phase && !p.metadata.deletionTimestamp) await markReady(c, p.metadata.name!);
}

/** Lets a Terminating pod go (drops the hold finalizer). */
async function release(c: FakeClient, name: string): Promise<void> {
  const p = pod(c, name);
  await c.patch(PODS, 'ns', name, 'application/merge-patch+json', { metadata: { finalizers: null, resourceVersion: p.metadata.resourceVersion } });
  await settle();
}

async function updateSpec(c: FakeClient, mutate: (spec: Record<string, any>) => void, name = 'web'): Promise<void> {
  const s = c.peek('statefulsets', 'ns', name)!;
  mutate(s.spec as Record<string, any>);
  s.metadata.generation = (s.metadata.generation ?? 1) + 1;
  await c.update(STATEFULSETS, 'ns', s);
  await settle();
}

const setImage = (c: FakeClient, image: string) => updateSpec(c, (s) => (s.template.spec.containers[0].image = image));

/** Syncs, marking new pods ready after each pass, until the set is at `image` everywhere (or rounds run out). */
async function rollOut(c: FakeClient, ctl: StatefulSetController, done: () => boolean, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds && !done(); i++) {
    await sync(ctl);
    await markNewReady(c);
  }
  await sync(ctl);
}

test('OrderedReady: web-0 first, each next ordinal only once its predecessor is Running and Ready; identity, claims, status', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { claims: ['data'] }));
  const ctl = await controller(c);
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0']);
  const p0 = pod(c, 'web-0');
  const set = c.peek('statefulsets', 'ns', 'web')!;
  const [rev] = c.all('controllerrevisions');
  assert.deepEqual(p0.metadata.labels, { app: 'web', [POD_NAME_LABEL]: 'web-0', [POD_INDEX_LABEL]: '0', 'controller-revision-hash': rev.metadata.name });
  assert.equal(p0.metadata.generateName, undefined, 'stable names, never generated');
  assert.deepEqual(p0.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  const spec = p0.spec as Record<string, any>;
  assert.equal(spec.hostname, 'web-0');
  assert.equal(spec.subdomain, 'web-svc');
  assert.deepEqual(spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }]);

  // The claim is made first, labelled with the selector, owned by no one under the default Retain policy.
  assert.deepEqual(claimNames(c), ['data-web-0']);
  const claim = c.peek('persistentvolumeclaims', 'ns', 'data-web-0')!;
  assert.deepEqual(claim.metadata.labels, { app: 'web' });
  assert.equal(claim.metadata.ownerReferences, undefined);
  assert.deepEqual((claim.spec as { accessModes: string[] }).accessModes, ['ReadWriteOnce']);
  const creates = c.actionsOf('create').map((a) => `${a.resource}/${a.name}`);
  assert.ok(creates.indexOf('persistentvolumeclaims/data-web-0') < creates.indexOf('pods/web-0'), creates.join(' '));
  const events = c.all('events').map((e) => `${e.reason}: ${e.message}`);
  assert.ok(events.includes('SuccessfulCreate: create Claim data-web-0 Pod web-0 in StatefulSet web success'), events.join('\n'));
  assert.ok(events.includes('SuccessfulCreate: create Pod web-0 in StatefulSet web successful'), events.join('\n'));

  // Not yet running, then running but not ready: web-1 waits.
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0']);
  await markUnready(c, 'web-0');
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0']);
  assert.equal(status(c).replicas, 1);
  assert.equal(status(c).readyReplicas, 0);

  await markReady(c, 'web-0');
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0', 'web-1']);
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0', 'web-1'], 'web-2 waits for web-1');
  await markReady(c, 'web-1');
  await sync(ctl);
  await markReady(c, 'web-2');
  await sync(ctl);
  assert.deepEqual(podCreates(c), ['web-0', 'web-1', 'web-2']);
  assert.deepEqual(claimNames(c), ['data-web-0', 'data-web-1', 'data-web-2']);
  assert.deepEqual(
    { ...status(c) },
    { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, currentRevision: rev.metadata.name, updateRevision: rev.metadata.name },
  );

  // A synced set is quiet: no writes at all.
  const before = c.actions.length;
  await sync(ctl);
  assert.deepEqual(c.actions.slice(before).filter((a) => a.verb !== 'get' && a.verb !== 'list' && a.verb !== 'watch'), []);
  await ctl.stop();
});

test('Parallel creates every ordinal in one pass without waiting for readiness', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { policy: 'Parallel', claims: ['data'] }));
  const ctl = await controller(c);
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0', 'web-1', 'web-2']);
  assert.deepEqual(claimNames(c), ['data-web-0', 'data-web-1', 'data-web-2']);
  // Parallel scale-down removes every condemned pod at once, even unready ones.
  await updateSpec(c, (s) => (s.replicas = 1));
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0']);
  assert.deepEqual(claimNames(c), ['data-web-0', 'data-web-1', 'data-web-2'], 'claims outlive their pods');
  await ctl.stop();
});

test('a deleted pod comes back under the same name with the same claim; a failed or succeeded one is replaced', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { replicas: 2, claims: ['data'] }));
  const ctl = await controller(c);
  await rollOut(c, ctl, () => podNames(c).length === 2);
  const oldUid = pod(c, 'web-0').metadata.uid;
  const claimCreates = () => c.actionsOf('create').filter((a) => a.resource === 'persistentvolumeclaims').length;
  assert.equal(claimCreates(), 2);

  await c.delete(PODS, 'ns', 'web-0');
  await settle();
  await sync(ctl);
  const back = pod(c, 'web-0');
  assert.ok(back, 'web-0 recreated');
  assert.notEqual(back.metadata.uid, oldUid);
  assert.deepEqual((back.spec as Record<string, any>).volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }]);
  assert.equal(claimCreates(), 2, 'the existing claim is reused');

  for (const phase of ['Failed', 'Succeeded']) {
    await markReady(c, 'web-0');
    await setPodStatus(c, 'web-1', { phase });
    const uid = pod(c, 'web-1').metadata.uid;
    await sync(ctl);
    assert.equal(pod(c, 'web-1'), undefined, `a ${phase} pod is deleted`);
    await sync(ctl);
    assert.ok(pod(c, 'web-1') && pod(c, 'web-1').metadata.uid !== uid, `a ${phase} pod is replaced by a fresh web-1`);
  }
  assert.equal(claimCreates(), 2);
  await ctl.stop();
});

test('scale-down: highest ordinal first, one at a time, each gone before the next, never while a member is unhealthy; claims stay', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { claims: ['data'], hold: true }));
  const ctl = await controller(c);
  await rollOut(c, ctl, () => podNames(c).length === 3);
  assert.equal(status(c).readyReplicas, 3);

  await markUnready(c, 'web-0');
  await updateSpec(c, (s) => (s.replicas = 1));
  await sync(ctl);
  assert.deepEqual(podDeletes(c), [], 'no scale-down while web-0 is unready');

  await markReady(c, 'web-0');
  await sync(ctl);
  assert.deepEqual(podDeletes(c), ['web-2']);
  assert.ok(terminating(c, 'web-2'));
  await sync(ctl);
  assert.deepEqual(podDeletes(c), ['web-2'], 'web-1 waits for web-2 to be gone');
  await release(c, 'web-2');
  await sync(ctl);
  assert.deepEqual(podDeletes(c), ['web-2', 'web-1']);
  await release(c, 'web-1');
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0']);
  assert.deepEqual(claimNames(c), ['data-web-0', 'data-web-1', 'data-web-2']);
  assert.equal(status(c).replicas, 1);

  // Scaling up again reuses the kept claims.
  await updateSpec(c, (s) => (s.replicas = 2));
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0', 'web-1']);
  assert.equal(c.actionsOf('create').filter((a) => a.resource === 'persistentvolumeclaims').length, 3);
  await ctl.stop();
});

test('scale-down: an unhealthy condemned pod may go only when it is the first unhealthy member', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { replicas: 4 }));
  const ctl = await controller(c);
  await rollOut(c, ctl, () => podNames(c).length === 4);
  await markUnready(c, 'web-2');
  await updateSpec(c, (s) => (s.replicas = 2));
  // web-3 (healthy) goes first, then web-2 (the first unhealthy member) may go although unready.
  await sync(ctl);
  await sync(ctl);
  assert.deepEqual(podDeletes(c), ['web-3', 'web-2']);
  // With web-1 unready a condemned web-2 would wait; here web-1 is a replica, so nothing more happens.
  assert.deepEqual(podNames(c), ['web-0', 'web-1']);
  await ctl.stop();
});

test('RollingUpdate replaces pods by descending ordinal, each replacement Running and Ready before the next; revisions and status', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web'));
  const ctl = await controller(c);
  await rollOut(c, ctl, () => podNames(c).length === 3);
  const [rev1] = c.all('controllerrevisions');
  await setImage(c, 'db:2');
  await sync(ctl);
  assert.deepEqual(podDeletes(c), ['web-2']);
  const revs = c.all('controllerrevisions').sort((a, b) => Number((a as any).revision) - Number((b as any).revision));
  assert.equal(revs.length, 2);
  const rev2 = revs[1];
  assert.deepEqual(revs.map((r) => (r as any).revision), [1, 2]);
  for (const r of revs) {
    const hash = r.metadata.labels!['controller-revision-hash'];
    assert.equal(r.metadata.name, `web-${hash}`);
    assert.equal(r.metadata.labels!.app, 'web', 'revisions carry the template labels (kubectl finds them by selector)');
    assert.equal(r.metadata.ownerReferences?.[0]?.controller, true);
    assert.equal(((r as any).data.spec.template as { $patch: string }).$patch, 'replace');
    // Keys sorted at every level, as Go marshals a map: kubectl's `rollout undo` compares these bytes with its own.
    assert.deepEqual(Object.keys((r as any).data.spec.template), ['$patch', 'metadata', 'spec']);
    assert.deepEqual(Object.keys((r as any).data.spec.template.spec), ['containers', 'restartPolicy']);
  }
  await sync(ctl);
  assert.equal(revisionOf(pod(c, 'web-2')), rev2.metadata.name);
  assert.equal(imageOf(pod(c, 'web-2')), 'db:2');
  let st = status(c);
  assert.deepEqual([st.currentRevision, st.updateRevision, st.updatedReplicas, st.currentReplicas, st.observedGeneration], [rev1.metadata.name, rev2.metadata.name, 1, 2, 2]);
  await sync(ctl);
  assert.deepEqual(podDeletes(c), ['web-2'], 'web-1 waits for the new web-2 to be ready');

  await rollOut(c, ctl, () => podNames(c).every((n) => revisionOf(pod(c, n)) === rev2.metadata.name) && status(c).readyReplicas === 3);
  assert.deepEqual(podDeletes(c), ['web-2', 'web-1', 'web-0']);
  st = status(c);
  assert.deepEqual([st.currentRevision, st.updateRevision, st.updatedReplicas, st.currentReplicas, st.readyReplicas], [rev2.metadata.name, rev2.metadata.name, 3, 3, 3]);

  // Back to the first template (what `kubectl rollout undo` patches in): revision 1 becomes revision 3, no new object.
  await setImage(c, 'db:1');
  await sync(ctl);
  const after = c.all('controllerrevisions');
  assert.equal(after.length, 2);
  assert.equal((after.find((r) => r.metadata.name === rev1.metadata.name) as any).revision, 3);
  await rollOut(c, ctl, () => podNames(c).every((n) => imageOf(pod(c, n)) === 'db:1') && status(c).readyReplicas === 3);
  assert.equal(status(c).currentRevision, rev1.metadata.name);
  await ctl.stop();
});

test('partition: only ordinals at or above it update; a deleted pod below it comes back at the current revision', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { strategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
  const ctl = await controller(c);
  await rollOut(c, ctl, () => podNames(c).length === 3);
  const [rev1] = c.all('controllerrevisions');
  await setImage(c, 'db:2');
  await rollOut(c, ctl, () => imageOf(pod(c, 'web-2')) === 'db:2' && status(c).readyReplicas === 3);
  await sync(ctl);
  assert.deepEqual(podDeletes(c), ['web-2']);
  assert.deepEqual(podNames(c).map((n) => imageOf(pod(c, n))), ['db:1', 'db:1', 'db:2']);
  let st = status(c);
  assert.equal(st.updatedReplicas, 1);
  assert.equal(st.currentRevision, rev1.metadata.name, 'a partitioned rollout never completes the revision');
  assert.notEqual(st.updateRevision, rev1.metadata.name);

  await c.delete(PODS, 'ns', 'web-0');
  await settle();
  await sync(ctl);
  assert.equal(imageOf(pod(c, 'web-0')), 'db:1', 'below the partition: recreated from the current revision');
  assert.equal(revisionOf(pod(c, 'web-0')), rev1.metadata.name);

  await markNewReady(c);
  await updateSpec(c, (s) => (s.updateStrategy.rollingUpdate.partition = 0));
  await rollOut(c, ctl, () => podNames(c).every((n) => imageOf(pod(c, n)) === 'db:2') && status(c).readyReplicas === 3);
  assert.deepEqual(podDeletes(c), ['web-2', 'web-0', 'web-1', 'web-0']);
  st = status(c);
  assert.equal(st.currentRevision, st.updateRevision);
  assert.equal(st.updatedReplicas, 3);
  await ctl.stop();
});

test('ordinals.start numbers pods from start; the partition counts replicas from start', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { replicas: 2, start: 5, claims: ['data'], strategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }));
  const ctl = await controller(c);
  await rollOut(c, ctl, () => podNames(c).length === 2);
  assert.deepEqual(podNames(c), ['web-5', 'web-6']);
  assert.deepEqual(claimNames(c), ['data-web-5', 'data-web-6']);
  assert.equal(pod(c, 'web-5').metadata.labels![POD_INDEX_LABEL], '5');
  await setImage(c, 'db:2');
  await rollOut(c, ctl, () => imageOf(pod(c, 'web-6')) === 'db:2' && status(c).readyReplicas === 2);
  await sync(ctl);
  assert.deepEqual(podDeletes(c), ['web-6']);
  assert.equal(imageOf(pod(c, 'web-5')), 'db:1');
  // Scaling down from start: web-6 is the highest ordinal.
  await updateSpec(c, (s) => (s.replicas = 1));
  await sync(ctl);
  assert.deepEqual(podDeletes(c), ['web-6', 'web-6']);
  await ctl.stop();
});

test('OnDelete leaves pods at their revision until deleted; a replacement has the new template', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { replicas: 2, strategy: { type: 'OnDelete' } }));
  const ctl = await controller(c);
  await rollOut(c, ctl, () => podNames(c).length === 2);
  await setImage(c, 'db:2');
  await sync(ctl);
  await sync(ctl);
  assert.deepEqual(podDeletes(c), []);
  assert.deepEqual(podNames(c).map((n) => imageOf(pod(c, n))), ['db:1', 'db:1']);
  await c.delete(PODS, 'ns', 'web-1');
  await settle();
  await sync(ctl);
  assert.equal(imageOf(pod(c, 'web-1')), 'db:2');
  await markNewReady(c);
  await sync(ctl);
  const st = status(c);
  assert.equal(st.updatedReplicas, 1);
  assert.equal(st.currentReplicas, 1);
  assert.notEqual(st.currentRevision, st.updateRevision, 'OnDelete never completes a rollout on its own');
  await ctl.stop();
});

test('retention policy: claims are owned by the set while in range and by the pod once scaled down; a stale claim blocks its ordinal', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { replicas: 2, policy: 'Parallel', claims: ['data'], retention: { whenDeleted: 'Delete', whenScaled: 'Delete' } }));
  const ctl = await controller(c);
  await sync(ctl);
  await markNewReady(c);
  await sync(ctl);
  const setUid = c.peek('statefulsets', 'ns', 'web')!.metadata.uid;
  const owners = (n: string) => c.peek('persistentvolumeclaims', 'ns', n)?.metadata.ownerReferences?.map((r) => `${r.kind}/${r.name}/${r.uid === setUid ? 'set' : r.uid}/${r.controller}`);
  assert.deepEqual(owners('data-web-0'), ['StatefulSet/web/set/true']);
  assert.deepEqual(owners('data-web-1'), ['StatefulSet/web/set/true']);

  const uid1 = pod(c, 'web-1').metadata.uid;
  await updateSpec(c, (s) => (s.replicas = 1));
  await sync(ctl);
  assert.equal(pod(c, 'web-1'), undefined);
  assert.deepEqual(owners('data-web-1'), [`Pod/web-1/${uid1}/true`], 'the scaled-down pod owns its claim, for the garbage collector');
  assert.deepEqual(owners('data-web-0'), ['StatefulSet/web/set/true']);

  // Scaling back up before the collector removed the claim: web-1 waits for it to go.
  await updateSpec(c, (s) => (s.replicas = 2));
  await sync(ctl);
  assert.equal(pod(c, 'web-1'), undefined, 'not recreated on a stale claim');
  await c.delete(PVCS, 'ns', 'data-web-1');
  await settle();
  assert.ok(ctl.queue.len() > 0, 'the claim going away wakes the set');
  await sync(ctl);
  assert.ok(pod(c, 'web-1'));
  assert.deepEqual(owners('data-web-1'), ['StatefulSet/web/set/true']);

  // Changing the policy to Retain strips our owner refs from existing claims.
  await markNewReady(c);
  await updateSpec(c, (s) => (s.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Retain', whenScaled: 'Retain' }));
  await sync(ctl);
  assert.equal(owners('data-web-0'), undefined);
  assert.equal(owners('data-web-1'), undefined);
  await ctl.stop();
});

test('minReadySeconds: the next ordinal waits until its predecessor has been ready that long', async () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { replicas: 2, minReadySeconds: 10 }));
  const ctl = await controller(c, () => now);
  await sync(ctl);
  await markReady(c, 'web-0', '2026-01-01T00:00:00Z');
  now += 5_000;
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0']);
  assert.deepEqual([status(c).readyReplicas, status(c).availableReplicas], [1, 0]);
  now += 6_000;
  await sync(ctl);
  assert.deepEqual(podNames(c), ['web-0', 'web-1']);
  assert.equal(status(c).availableReplicas, 1);
  await ctl.stop();
});

test('claiming: adopts an orphan named for the set and repairs its identity labels; ignores pods of other names', async () => {
  const c = new FakeClient();
  // OnDelete: under RollingUpdate the adopted pod, carrying no revision label, would be replaced (as upstream).
  c.seed('statefulsets', statefulSet('web', { replicas: 1, strategy: { type: 'OnDelete' } }));
  c.seed('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'ns', labels: { app: 'web' } }, spec: {}, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  c.seed('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: 'ns', labels: { app: 'web' } }, spec: {} });
  const ctl = await controller(c);
  await sync(ctl);
  await sync(ctl);
  const p = pod(c, 'web-0');
  assert.equal(p.metadata.ownerReferences?.[0]?.name, 'web');
  assert.equal(p.metadata.labels![POD_NAME_LABEL], 'web-0');
  assert.equal(p.metadata.labels![POD_INDEX_LABEL], '0');
  assert.equal(pod(c, 'other').metadata.ownerReferences, undefined);
  assert.deepEqual(podCreates(c), []);
  assert.deepEqual(podDeletes(c), []);
  await ctl.stop();
});

test('revisionHistoryLimit keeps the live revisions and the newest old ones', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { replicas: 1, revisionHistoryLimit: 1 }));
  const ctl = await controller(c);
  for (const image of ['db:2', 'db:3', 'db:4']) {
    await rollOut(c, ctl, () => podNames(c).length === 1 && status(c)?.readyReplicas === 1 && imageOf(pod(c, 'web-0')) === (c.peek('statefulsets', 'ns', 'web')!.spec as any).template.spec.containers[0].image);
    await setImage(c, image);
  }
  await rollOut(c, ctl, () => imageOf(pod(c, 'web-0')) === 'db:4' && status(c).readyReplicas === 1);
  await sync(ctl);
  const revs = c.all('controllerrevisions').map((r) => (r as any).revision).sort();
  assert.deepEqual(revs, [3, 4], 'one old revision beyond the live one');
  await ctl.stop();
});

test('expectations: no second create before the first is observed', async () => {
  const c = new FakeClient();
  c.seed('statefulsets', statefulSet('web', { replicas: 1 }));
  const ctl = await controller(c);
  await ctl.sync('ns/web');
  await ctl.sync('ns/web'); // the informer has not seen the pod yet
  await settle();
  await ctl.sync('ns/web');
  assert.equal(podCreates(c).length, 1);
  await ctl.stop();
});
