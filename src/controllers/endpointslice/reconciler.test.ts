// EndpointSlice reconciler plans (pure): slice shape, 100 endpoints per slice, small changes staying small,
// the placeholder, slices of other owners or address types, pods on unknown nodes, and the create→update merge.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { endpointKey, mergeCreatesIntoDeletes, reconcile, sliceOf, type Endpoint, type ReconcilePlan } from './reconciler.js';

function svc(o: { selector?: Record<string, string>; clusterIP?: string; publishNotReady?: boolean; labels?: Record<string, string>; ports?: unknown[] } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', labels: o.labels ?? { app: 'web' }, creationTimestamp: '2026-01-01T12:00:00Z' },
    spec: { clusterIP: o.clusterIP ?? '10.43.0.5', ipFamilies: ['IPv4'], selector: o.selector ?? { app: 'web' }, ports: o.ports ?? [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], publishNotReadyAddresses: o.publishNotReady },
  };
}

function pod(i: number, o: { ready?: boolean; deleting?: boolean; node?: string; hostname?: string } = {}): KubeObject {
  const ip = `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${String(i).padStart(4, '0')}`, namespace: 'ns', uid: `uid-${i}`, labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T12:05:00Z' } : {}) },
    spec: { nodeName: o.node ?? 'node-a', hostname: o.hostname, subdomain: o.hostname ? 'web' : undefined, containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

const NODES: Record<string, KubeObject> = {
  'node-a': { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } } },
  'node-b': { metadata: { name: 'node-b' } },
};

let seq = 0;
/** Carries out a plan the way the API would: created slices get names and uids. */
function apply(existing: KubeObject[], plan: ReconcilePlan): KubeObject[] {
  const byName = new Map(existing.map((s) => [s.metadata.name!, s]));
  for (const d of plan.delete) byName.delete(d.metadata.name!);
  for (const u of plan.update) byName.set(u.metadata.name!, structuredClone(u));
  for (const c of plan.create) {
    const s = structuredClone(c);
    s.metadata.name = `${c.metadata.generateName}x${++seq}`;
    s.metadata.uid = `slice-${seq}`;
    byName.set(s.metadata.name, s);
  }
  return [...byName.values()];
}

const plan = (service: KubeObject, pods: KubeObject[], slices: KubeObject[] = []) => mergeCreatesIntoDeletes(reconcile({ service, pods, slices, node: (n) => NODES[n] }), service);
const counts = (slices: KubeObject[]) => slices.map((s) => (sliceOf(s).endpoints ?? []).length).sort((a, b) => b - a);

test('one slice for a small Service: labels, owner, ports, conditions, node and zone', () => {
  const p = plan(svc({ labels: { app: 'web', team: 'x' } }), [pod(0), pod(1, { ready: false, node: 'node-b' }), pod(2, { deleting: true }), pod(3, { hostname: 'web-3' })]);
  assert.equal(p.create.length, 1);
  assert.deepEqual([p.update.length, p.delete.length, p.errors.length], [0, 0, 0]);
  const s = p.create[0]!;
  assert.equal(s.metadata.generateName, 'web-');
  assert.deepEqual(s.metadata.labels, { app: 'web', team: 'x', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
  assert.deepEqual(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  assert.equal(sliceOf(s).addressType, 'IPv4');
  assert.deepEqual(sliceOf(s).ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const byName = new Map((sliceOf(s).endpoints ?? []).map((e) => [e.targetRef?.name, e]));
  assert.deepEqual(byName.get('p0000'), { addresses: ['10.244.0.1'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'ns', name: 'p0000', uid: 'uid-0' }, nodeName: 'node-a', zone: 'zone-1' });
  assert.deepEqual(byName.get('p0001')!.conditions, { ready: false, serving: false, terminating: false });
  assert.equal(byName.get('p0001')!.zone, undefined);
  assert.deepEqual(byName.get('p0002')!.conditions, { ready: false, serving: true, terminating: true }, 'terminating pods stay, not ready');
  assert.equal(byName.get('p0003')!.hostname, 'web-3');
});

test('250 endpoints make 100 + 100 + 50; removing one touches one slice; adding fills the slice with room', () => {
  const s = svc();
  let pods = Array.from({ length: 250 }, (_, i) => pod(i));
  let slices = apply([], plan(s, pods));
  assert.deepEqual(counts(slices), [100, 100, 50]);
  assert.equal(plan(s, pods, slices).update.length + plan(s, pods, slices).create.length, 0, 'steady state writes nothing');

  const full = slices.find((x) => (sliceOf(x).endpoints ?? []).length === 100)!;
  const victim = (sliceOf(full).endpoints ?? [])[7]!.targetRef!.name;
  pods = pods.filter((p) => p.metadata.name !== victim);
  const p1 = plan(s, pods, slices);
  assert.deepEqual([p1.create.length, p1.update.length, p1.delete.length], [0, 1, 0]);
  slices = apply(slices, p1);
  assert.deepEqual(counts(slices), [100, 99, 50]);

  pods = [...pods, pod(300), pod(301)];
  const p2 = plan(s, pods, slices);
  assert.deepEqual([p2.create.length, p2.update.length, p2.delete.length], [0, 1, 0]);
  slices = apply(slices, p2);
  assert.deepEqual(counts(slices), [100, 99, 52], 'the slice that ends closest to full without overflowing');

  // A pod turning unready updates the slice it is in, in place.
  pods = pods.map((p) => (p.metadata.name === 'p0100' ? pod(100, { ready: false }) : p));
  const p3 = plan(s, pods, slices);
  assert.equal(p3.update.length, 1);
  const changed = (sliceOf(p3.update[0]!).endpoints ?? []).find((e: Endpoint) => e.targetRef?.name === 'p0100')!;
  assert.equal(changed.conditions?.ready, false);
});

test('no endpoints: one placeholder slice, kept as is, then reused for the first endpoints', () => {
  const s = svc();
  const p0 = plan(s, []);
  assert.equal(p0.create.length, 1);
  assert.deepEqual([sliceOf(p0.create[0]!).endpoints, sliceOf(p0.create[0]!).ports], [[], []]);
  let slices = apply([], p0);
  const again = plan(s, [], slices);
  assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0]);
  const p1 = plan(s, [pod(0)], slices);
  assert.deepEqual([p1.create.length, p1.update.length, p1.delete.length], [0, 1, 0], 'the placeholder becomes the slice');
  assert.equal(p1.update[0]!.metadata.name, slices[0]!.metadata.name);
  slices = apply(slices, p1);
  assert.deepEqual(sliceOf(slices[0]!).ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  // Back to nothing: the slice becomes the placeholder again.
  const p2 = plan(s, [], slices);
  assert.deepEqual([p2.create.length, p2.update.length, p2.delete.length], [0, 1, 0]);
  assert.deepEqual(sliceOf(p2.update[0]!).endpoints, []);
});

test('slices owned by another Service of the same name, or of an address type not wanted, are deleted', () => {
  const s = svc();
  const stranger: KubeObject = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-old', namespace: 'ns', uid: 's1', ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'old-uid' }] }, addressType: 'IPv4', endpoints: [], ports: [] };
  const v6: KubeObject = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-v6', namespace: 'ns', uid: 's2', ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid' }] }, addressType: 'IPv6', endpoints: [], ports: [] };
  const p = reconcile({ service: s, pods: [pod(0)], slices: [stranger, v6], node: (n) => NODES[n] });
  assert.deepEqual(p.delete.map((d) => d.metadata.name).sort(), ['web-old', 'web-v6']);
  const merged = mergeCreatesIntoDeletes(p, s);
  assert.equal(merged.create.length, 1, 'a slice of another owner is never reused');
});

test('a pod on an unknown node is skipped with an error, unless publishNotReadyAddresses; headless slices are labelled', () => {
  const p = plan(svc(), [pod(0), pod(1, { node: 'ghost' })]);
  assert.equal((sliceOf(p.create[0]!).endpoints ?? []).length, 1);
  assert.match(p.errors[0]!, /skipping Pod p0001 for Service ns\/web: Node ghost Not Found/);
  const pub = plan(svc({ publishNotReady: true }), [pod(0), pod(1, { node: 'ghost', ready: false })]);
  assert.equal((sliceOf(pub.create[0]!).endpoints ?? []).length, 2);
  assert.ok((sliceOf(pub.create[0]!).endpoints ?? []).every((e) => e.conditions?.ready === true));
  const headless = plan(svc({ clusterIP: 'None', ports: [] }), [pod(0)]);
  assert.equal(headless.create[0]!.metadata.labels?.['service.kubernetes.io/headless'], '');
  assert.deepEqual(sliceOf(headless.create[0]!).ports, []);
});

test('endpointKey ignores conditions, node and address order', () => {
  const a: Endpoint = { addresses: ['10.0.0.2', '10.0.0.1'], conditions: { ready: true }, targetRef: { namespace: 'ns', name: 'p' }, nodeName: 'x' };
  const b: Endpoint = { addresses: ['10.0.0.1', '10.0.0.2'], conditions: { ready: false }, targetRef: { namespace: 'ns', name: 'p' } };
  assert.equal(endpointKey(a), endpointKey(b));
});

test('Service label changes update every slice', () => {
  const s = svc();
  const slices = apply([], plan(s, [pod(0)]));
  const p = plan(svc({ labels: { app: 'web', env: 'prod' } }), [pod(0)], slices);
  assert.equal(p.update.length, 1);
  assert.equal(p.update[0]!.metadata.labels?.env, 'prod');
});
