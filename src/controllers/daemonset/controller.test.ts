// DaemonSet controller on the fake client: which nodes get a daemon pod (selector, taints, default tolerations),
// how it follows node relabelling and tainting, pod shape (matchFields pinning, revision hash), RollingUpdate within
// maxUnavailable and maxSurge, OnDelete, ControllerRevisions and status.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { DAEMONSETS, DaemonSetController, NODES, PODS, nodeShouldRunDaemonPod, targetNodeName, type DaemonSetStatus } from './controller.js';

function node(name: string, labels: Record<string, string> = {}, taints: unknown[] = []): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: taints.length ? { taints } : {} };
}

function daemonSet(name: string, o: { nodeSelector?: Record<string, string>; image?: string; strategy?: unknown; tolerations?: unknown[] } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'ns', generation: 1 },
    spec: {
      selector: { matchLabels: { app: name } },
      updateStrategy: o.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      template: {
        metadata: { labels: { app: name } },
        spec: { ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}), ...(o.tolerations ? { tolerations: o.tolerations } : {}), containers: [{ name: 'c', image: o.image ?? 'agent:1' }] },
      },
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

async function controller(c: FakeClient): Promise<DaemonSetController> {
  const ctl = new DaemonSetController(c);
  for (const i of [ctl.daemonsets, ctl.pods, ctl.nodes, ctl.revisions]) i.start();
  await Promise.all([ctl.daemonsets.hasSynced, ctl.pods.hasSynced, ctl.nodes.hasSynced, ctl.revisions.hasSynced]);
  return ctl;
}

/** One sync, then let the informers see its writes. */
async function sync(ctl: DaemonSetController, key = 'ns/ds'): Promise<void> {
  await ctl.sync(key);
  await settle();
}

const podsByNode = (c: FakeClient): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const p of c.all('pods')) (out[targetNodeName(p) ?? '?'] ??= []).push(p.metadata.name!);
  return out;
};
const nodesWithPods = (c: FakeClient) => Object.keys(podsByNode(c)).sort();
const podCreates = (c: FakeClient) => c.actionsOf('create').filter((a) => a.resource === 'pods').length;
const podDeletes = (c: FakeClient) => c.actionsOf('delete').filter((a) => a.resource === 'pods').map((a) => a.name);

async function markReady(c: FakeClient, name: string): Promise<void> {
  const p = c.peek('pods', 'ns', name)!;
  await c.patch(PODS, 'ns', name, 'application/merge-patch+json', {
    metadata: { resourceVersion: p.metadata.resourceVersion },
    spec: { nodeName: targetNodeName(p) },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  });
}

async function markAllReady(c: FakeClient): Promise<void> {
  for (const p of c.all('pods')) if (!(p.status as { phase?: string } | undefined)?.phase) await markReady(c, p.metadata.name!);
  await settle();
}

async function relabel(c: FakeClient, name: string, labels: Record<string, string>): Promise<void> {
  const n = c.peek('nodes', undefined, name)!;
  await c.patch(NODES, undefined, name, 'application/merge-patch+json', { metadata: { labels, resourceVersion: n.metadata.resourceVersion } });
  await settle();
}

test('one pod per matching node, pinned by matchFields with the default tolerations; follows relabelling', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('n0', { disk: 'ssd' }));
  c.seed('nodes', node('n1', { disk: 'hdd' }));
  c.seed('daemonsets', daemonSet('ds', { nodeSelector: { disk: 'ssd' } }));
  const ctl = await controller(c);
  await sync(ctl);
  assert.deepEqual(nodesWithPods(c), ['n0']);
  const [pod] = c.all('pods');
  const spec = pod.spec as Record<string, any>;
  assert.equal(spec.nodeName, undefined, 'the scheduler binds daemon pods');
  assert.deepEqual(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution, { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n0'] }] }] });
  const tol = (spec.tolerations as Array<{ key: string; effect: string }>).map((t) => `${t.key}:${t.effect}`);
  for (const k of ['not-ready:NoExecute', 'unreachable:NoExecute', 'disk-pressure:NoSchedule', 'memory-pressure:NoSchedule', 'pid-pressure:NoSchedule', 'unschedulable:NoSchedule']) assert.ok(tol.includes(`node.kubernetes.io/${k}`), k);
  assert.ok(!tol.some((t) => t.includes('network-unavailable')), 'only hostNetwork pods tolerate network-unavailable');
  assert.equal(pod.metadata.generateName, 'ds-');
  assert.match(pod.metadata.labels!['controller-revision-hash'], /^[a-z0-9]+$/);
  const revs = c.all('controllerrevisions');
  assert.deepEqual(revs.map((r) => r.metadata.name), [`ds-${pod.metadata.labels!['controller-revision-hash']}`]);
  assert.ok(c.all('events').some((e) => e.reason === 'SuccessfulCreate' && e.message === `Created pod: ${pod.metadata.name}`));

  // A synced set is quiet.
  await markAllReady(c);
  const before = c.actions.length;
  await sync(ctl);
  assert.equal(podCreates(c), 1);
  assert.ok(c.actions.slice(before).every((a) => a.resource !== 'pods' || a.verb === 'list' || a.verb === 'watch'));

  await relabel(c, 'n1', { disk: 'ssd' });
  assert.ok(ctl.queue.len() > 0, 'a relabelled node enqueues the DaemonSet');
  await sync(ctl);
  assert.deepEqual(nodesWithPods(c), ['n0', 'n1']);

  await relabel(c, 'n0', { disk: 'hdd' });
  await sync(ctl);
  assert.deepEqual(nodesWithPods(c), ['n1']);
  assert.equal(podDeletes(c).length, 1);
  assert.ok(c.all('events').some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted pod: ${podDeletes(c)[0]}`));

  // A new node appearing gets its pod.
  await c.create(NODES, undefined, node('n2', { disk: 'ssd' }));
  await settle();
  await sync(ctl);
  assert.deepEqual(nodesWithPods(c), ['n1', 'n2']);
  await ctl.stop();
});

test('taints: NoSchedule keeps running pods but places none; NoExecute evicts; default tolerations cover node conditions', () => {
  const ds = daemonSet('ds');
  assert.deepEqual(nodeShouldRunDaemonPod(node('a'), ds), [true, true]);
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]), ds), [false, true]);
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'dedicated', value: 'x', effect: 'NoExecute' }]), ds), [false, false]);
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'dedicated', value: 'x', effect: 'PreferNoSchedule' }]), ds), [true, true]);
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), ds), [true, true]);
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), ds), [true, true]);
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds), [false, true]);
  const tolerating = daemonSet('ds', { tolerations: [{ key: 'dedicated', operator: 'Exists' }] });
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'dedicated', value: 'x', effect: 'NoExecute' }]), tolerating), [true, true]);
  // Required node affinity in the template is honoured too.
  const aff = daemonSet('ds');
  (aff.spec as any).template.spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } };
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', { zone: 'a' }), aff), [true, true]);
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', { zone: 'b' }), aff), [false, false]);
});

test('a node tainted NoExecute loses its daemon pod; NoSchedule keeps it', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('n0'));
  c.seed('nodes', node('n1'));
  c.seed('daemonsets', daemonSet('ds'));
  const ctl = await controller(c);
  await sync(ctl);
  assert.deepEqual(nodesWithPods(c), ['n0', 'n1']);
  for (const [n, effect] of [['n0', 'NoSchedule'], ['n1', 'NoExecute']] as const) {
    const cur = c.peek('nodes', undefined, n)!;
    await c.patch(NODES, undefined, n, 'application/merge-patch+json', { metadata: { resourceVersion: cur.metadata.resourceVersion }, spec: { taints: [{ key: 'maint', effect }] } });
  }
  await settle();
  await sync(ctl);
  assert.deepEqual(nodesWithPods(c), ['n0']);
  await ctl.stop();
});

test('status counts desired, scheduled, ready, available, updated and misscheduled pods', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('n0', { disk: 'ssd' }));
  c.seed('nodes', node('n1', { disk: 'ssd' }));
  c.seed('nodes', node('n2'));
  c.seed('daemonsets', daemonSet('ds', { nodeSelector: { disk: 'ssd' } }));
  const ctl = await controller(c);
  await sync(ctl);
  await sync(ctl);
  let st = c.peek('daemonsets', 'ns', 'ds')!.status as Record<string, number>;
  assert.deepEqual(
    { ...st },
    { currentNumberScheduled: 2, numberMisscheduled: 0, desiredNumberScheduled: 2, numberReady: 0, observedGeneration: 1, updatedNumberScheduled: 2, numberAvailable: 0, numberUnavailable: 2 },
  );
  await markReady(c, podsByNode(c).n0[0]);
  await settle();
  await sync(ctl);
  st = c.peek('daemonsets', 'ns', 'ds')!.status as Record<string, number>;
  assert.equal(st.numberReady, 1);
  assert.equal(st.numberAvailable, 1);
  assert.equal(st.numberUnavailable, 1);
  await ctl.stop();
});

async function updateTemplate(c: FakeClient, image: string, strategy?: unknown): Promise<void> {
  const ds = c.peek('daemonsets', 'ns', 'ds')!;
  const spec = ds.spec as any;
  spec.template.spec.containers[0].image = image;
  if (strategy) spec.updateStrategy = strategy;
  ds.metadata.generation = (ds.metadata.generation ?? 1) + 1;
  await c.update(DAEMONSETS, 'ns', ds);
  await settle();
}

const hashes = (c: FakeClient) => c.all('pods').map((p) => p.metadata.labels!['controller-revision-hash']);

test('RollingUpdate replaces at most maxUnavailable pods at a time, waiting for the new ones to be ready', async () => {
  const c = new FakeClient();
  for (const n of ['n0', 'n1', 'n2']) c.seed('nodes', node(n));
  c.seed('daemonsets', daemonSet('ds'));
  const ctl = await controller(c);
  await sync(ctl);
  await markAllReady(c);
  const oldHash = hashes(c)[0];
  await updateTemplate(c, 'agent:2');
  await sync(ctl);
  assert.equal(podDeletes(c).length, 1, 'one old pod goes (maxUnavailable 1)');
  await sync(ctl);
  assert.equal(c.all('pods').length, 3, 'its node gets a new pod');
  const newHash = hashes(c).find((h) => h !== oldHash)!;
  assert.ok(newHash);
  await sync(ctl);
  assert.equal(podDeletes(c).length, 1, 'no further deletion while the new pod is not ready');
  for (let round = 0; round < 12 && hashes(c).some((h) => h === oldHash); round++) {
    await markAllReady(c);
    await sync(ctl);
    const ready = new Set(c.all('pods').filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running').map((p) => targetNodeName(p)));
    assert.ok(ready.size >= 2, `never more than one node without an available pod (round ${round})`);
  }
  for (let i = 0; i < 2; i++) {
    await sync(ctl); // the last node's replacement
    await markAllReady(c);
  }
  await sync(ctl);
  assert.deepEqual(hashes(c), [newHash, newHash, newHash]);
  assert.equal(podDeletes(c).length, 3);
  const st = c.peek('daemonsets', 'ns', 'ds')!.status as Record<string, number>;
  assert.equal(st.updatedNumberScheduled, 3);
  assert.equal(st.numberAvailable, 3);
  assert.equal(c.all('controllerrevisions').length, 2);
  await ctl.stop();
});

test('RollingUpdate with maxSurge starts the new pod before deleting the old one', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('n0'));
  c.seed('daemonsets', daemonSet('ds', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }));
  const ctl = await controller(c);
  await sync(ctl);
  await markAllReady(c);
  await updateTemplate(c, 'agent:2');
  await sync(ctl);
  assert.equal(c.all('pods').length, 2, 'surge: old and new side by side');
  assert.deepEqual(podDeletes(c), []);
  await sync(ctl);
  assert.deepEqual(podDeletes(c), [], 'the old pod stays until the new one is available');
  await markAllReady(c);
  await sync(ctl);
  assert.equal(podDeletes(c).length, 1);
  assert.equal(c.all('pods').length, 1);
  await ctl.stop();
});

test('OnDelete leaves old pods until they are deleted; the replacement has the new template', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('n0'));
  c.seed('daemonsets', daemonSet('ds', { strategy: { type: 'OnDelete' } }));
  const ctl = await controller(c);
  await sync(ctl);
  await markAllReady(c);
  const oldHash = hashes(c)[0];
  await updateTemplate(c, 'agent:2');
  await sync(ctl);
  await sync(ctl);
  assert.deepEqual(podDeletes(c), []);
  assert.deepEqual(hashes(c), [oldHash]);
  await c.delete(PODS, 'ns', c.all('pods')[0].metadata.name!);
  await settle();
  await sync(ctl);
  assert.equal(c.all('pods').length, 1);
  assert.notEqual(hashes(c)[0], oldHash);
  assert.equal(((c.all('pods')[0].spec as any).containers[0] as { image: string }).image, 'agent:2');
  await ctl.stop();
});

test('expectations: no second create before the first is observed', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('n0'));
  c.seed('daemonsets', daemonSet('ds'));
  const ctl = await controller(c);
  await ctl.sync('ns/ds');
  await ctl.sync('ns/ds'); // the informer has not seen the pod yet
  await settle();
  await ctl.sync('ns/ds');
  assert.equal(podCreates(c), 1);
  await ctl.stop();
});

test('RollingUpdate counts a node whose old pod is still terminating as unavailable (no second deletion meanwhile)', async () => {
  const c = new FakeClient();
  for (const n of ['n0', 'n1', 'n2']) c.seed('nodes', node(n));
  const ds = daemonSet('ds');
  (ds.spec as any).template.metadata.finalizers = ['test.k8ts.io/hold'];
  c.seed('daemonsets', ds);
  const ctl = await controller(c);
  await sync(ctl);
  await markAllReady(c);
  await updateTemplate(c, 'agent:2');
  await sync(ctl);
  assert.equal(podDeletes(c).length, 1);
  const [victim] = podDeletes(c);
  assert.ok(c.peek('pods', 'ns', victim!)!.metadata.deletionTimestamp, 'held in Terminating by its finalizer');
  await sync(ctl);
  await sync(ctl);
  assert.equal(podDeletes(c).length, 1, 'the terminating pod uses up maxUnavailable');
  assert.equal(c.all('pods').length, 3, 'no replacement before the old pod is gone');
  const p = c.peek('pods', 'ns', victim!)!;
  await c.patch(PODS, 'ns', victim!, 'application/merge-patch+json', { metadata: { finalizers: null, resourceVersion: p.metadata.resourceVersion } });
  await settle();
  await sync(ctl);
  assert.equal(c.all('pods').length, 3, 'its node gets the new pod');
  await sync(ctl);
  assert.equal(podDeletes(c).length, 1, 'the new pod is not ready yet: still nothing else goes');
  await ctl.stop();
});

test('a failed daemon pod is deleted and replaced, with a per-node back-off when it keeps failing', async () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const c = new FakeClient();
  c.seed('nodes', node('n0'));
  c.seed('daemonsets', daemonSet('ds'));
  const ctl = new DaemonSetController(c, { now: () => now });
  for (const i of [ctl.daemonsets, ctl.pods, ctl.nodes, ctl.revisions]) i.start();
  await Promise.all([ctl.daemonsets.hasSynced, ctl.pods.hasSynced, ctl.nodes.hasSynced, ctl.revisions.hasSynced]);
  const fail = async () => {
    const [p] = c.all('pods');
    await c.patch(PODS, 'ns', p!.metadata.name!, 'application/merge-patch+json', { metadata: { resourceVersion: p!.metadata.resourceVersion }, status: { phase: 'Failed' } });
    await settle();
  };
  await sync(ctl);
  await fail();
  await sync(ctl);
  assert.equal(podDeletes(c).length, 1);
  assert.ok(c.all('events').some((e) => e.reason === 'FailedDaemonPod'));
  await sync(ctl);
  assert.equal(c.all('pods').length, 1, 'replaced');
  await fail();
  await sync(ctl);
  assert.equal(podDeletes(c).length, 1, 'within the 1 s back-off the failed pod stays');
  now += 1_100;
  await sync(ctl);
  assert.equal(podDeletes(c).length, 2);
  await ctl.stop();
});

test('surge: an old pod that is no longer ready goes as soon as its replacement exists', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('n0'));
  c.seed('daemonsets', daemonSet('ds', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }));
  const ctl = await controller(c);
  await sync(ctl);
  await markAllReady(c);
  const [old] = c.all('pods');
  await updateTemplate(c, 'agent:2');
  await sync(ctl);
  assert.equal(c.all('pods').length, 2);
  await c.patch(PODS, 'ns', old!.metadata.name!, 'application/merge-patch+json', {
    metadata: { resourceVersion: c.peek('pods', 'ns', old!.metadata.name!)!.metadata.resourceVersion },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] },
  });
  await settle();
  await sync(ctl);
  assert.deepEqual(podDeletes(c), [old!.metadata.name]);
  await ctl.stop();
});

test('status written while expectations are pending keeps the old observedGeneration', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('n0'));
  c.seed('daemonsets', daemonSet('ds'));
  const ctl = await controller(c);
  await sync(ctl);
  await markAllReady(c);
  await sync(ctl);
  assert.equal((c.peek('daemonsets', 'ns', 'ds')!.status as DaemonSetStatus).observedGeneration, 1);
  await updateTemplate(c, 'agent:2');
  ctl.expectations.expect('ns/ds', 1);
  await sync(ctl);
  assert.equal((c.peek('daemonsets', 'ns', 'ds')!.status as DaemonSetStatus).observedGeneration, 1);
  ctl.expectations.delete('ns/ds');
  await sync(ctl);
  assert.equal((c.peek('daemonsets', 'ns', 'ds')!.status as DaemonSetStatus).observedGeneration, 2);
  await ctl.stop();
});
