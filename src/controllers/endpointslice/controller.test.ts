// EndpointSlice controller on the fake client: slices follow pods, a burst of pod events never makes a duplicate
// slice (the tracker waits for the cache), a slice deleted by someone else comes back, foreign edits are undone,
// selector-less Services get none, and the tracker's staleness rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { ENDPOINTSLICES, EndpointSliceController, PODS } from './controller.js';
import { sliceOf } from './reconciler.js';
import { EndpointSliceTracker } from './tracker.js';

function svc(name: string, selector: Record<string, string> | null = { app: 'web' }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'ns', uid: `svc-${name}`, creationTimestamp: '2026-01-01T12:00:00Z' },
    spec: { clusterIP: '10.43.0.9', ipFamilies: ['IPv4'], ...(selector ? { selector } : {}), ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  };
}

function pod(i: number, ready = true): KubeObject {
  const ip = `10.244.0.${i + 1}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace: 'ns', uid: `uid-${i}`, labels: { app: 'web' } },
    spec: { nodeName: 'node-a', containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-01-01T12:00:10Z' }] },
  };
}

const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'z1' } } };

async function until(what: string, fn: () => boolean, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function running(c: FakeClient, fn: () => Promise<void>): Promise<void> {
  const ctl = new EndpointSliceController(c, { maxEndpointsPerSlice: 3 });
  const done = ctl.run();
  try {
    await fn();
  } finally {
    await ctl.stop();
    await done;
  }
}

const addresses = (c: FakeClient) =>
  c
    .all('endpointslices')
    .flatMap((s) => (sliceOf(s).endpoints ?? []).flatMap((e) => e.addresses))
    .sort();

test('slices follow the pods without duplicates, at most 3 endpoints each here', async () => {
  const c = new FakeClient();
  c.seed('nodes', node);
  c.seed('services', svc('web'));
  c.seed('services', svc('manual', null));
  await running(c, async () => {
    await until('placeholder', () => c.all('endpointslices').length === 1);
    // A burst of creates: each event syncs, and only the cache catching up allows the next write.
    for (let i = 0; i < 7; i++) await c.create(PODS, 'ns', pod(i));
    await until('7 endpoints', () => addresses(c).length === 7);
    await new Promise((r) => setTimeout(r, 50));
    const slices = c.all('endpointslices');
    const sizes = slices.map((s) => (sliceOf(s).endpoints ?? []).length);
    assert.ok(sizes.every((n) => n >= 1 && n <= 3) && sizes.length >= 3, `slice sizes ${sizes.join(',')}`);
    for (const s of slices) {
      assert.match(s.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.equal(s.metadata.labels?.['kubernetes.io/service-name'], 'web');
      assert.equal(s.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'] !== undefined, true);
    }
    assert.equal(new Set(addresses(c)).size, 7, 'no endpoint twice');
    assert.ok(!c.all('endpointslices').some((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'manual'), 'a Service without selector gets none');
    const zones = new Set(c.all('endpointslices').flatMap((s) => (sliceOf(s).endpoints ?? []).map((e) => e.zone)));
    assert.deepEqual([...zones], ['z1']);

    await c.delete(PODS, 'ns', 'p3');
    await until('6 endpoints', () => addresses(c).length === 6);
  });
});

test('a slice deleted or edited by someone else is put right', async () => {
  const c = new FakeClient();
  c.seed('nodes', node);
  c.seed('services', svc('web'));
  c.seed('pods', pod(0));
  c.seed('pods', pod(1));
  await running(c, async () => {
    await until('2 endpoints', () => addresses(c).length === 2);
    const s = c.all('endpointslices')[0]!;
    s.endpoints = [];
    await c.update(ENDPOINTSLICES, 'ns', s);
    await until('edit undone', () => addresses(c).length === 2, 5000);
    await c.delete(ENDPOINTSLICES, 'ns', c.all('endpointslices')[0]!.metadata.name!);
    await until('slice back', () => addresses(c).length === 2, 5000);
  });
});

test('tracker: stale while our writes are not yet in the cache; foreign changes need a sync', () => {
  const t = new EndpointSliceTracker();
  const slice = (uid: string, rv: string): KubeObject => ({ metadata: { name: uid, namespace: 'ns', uid, resourceVersion: rv, labels: { 'kubernetes.io/service-name': 'web' } } });
  assert.equal(t.staleSlices('ns', 'web', []), false);
  t.update(slice('a', '10'));
  assert.equal(t.staleSlices('ns', 'web', []), true, 'created but not seen');
  assert.equal(t.staleSlices('ns', 'web', [slice('a', '9')]), true, 'older than our write');
  assert.equal(t.staleSlices('ns', 'web', [slice('a', '10')]), false);
  assert.equal(t.shouldSync(slice('a', '10')), false, 'our own write');
  assert.equal(t.shouldSync(slice('a', '12')), true, 'written after us');
  t.expectDeletion(slice('a', '10'));
  assert.equal(t.staleSlices('ns', 'web', [slice('a', '10')]), true, 'deleted but still cached');
  assert.equal(t.staleSlices('ns', 'web', []), false);
  assert.equal(t.handleDeletion(slice('a', '10')), true);
  assert.equal(t.has(slice('a', '10')), false);
});
