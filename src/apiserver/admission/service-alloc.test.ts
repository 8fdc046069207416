// ClusterIP / NodePort allocation: uniqueness, requested values, range errors, release and repair.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { MemStore } from '../testing/memstore.js';
import { ServiceAllocator } from './service-alloc.js';

test('dynamic IPs are unique and inside the range; requested IPs honoured once', async () => {
  const a = new ServiceAllocator(new MemStore(), { serviceCIDR: '10.43.0.0/27', nodePortRange: [30000, 30010] });
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const r = await a.allocateIP(`ns/s${i}`, undefined, false);
    assert.ok(r.ip, r.error);
    assert.ok(!seen.has(r.ip!), `duplicate ${r.ip}`);
    assert.match(r.ip!, /^10\.43\.0\.([1-9]|[12]\d|30)$/);
    seen.add(r.ip!);
  }
  assert.equal((await a.allocateIP('ns/full', undefined, false)).error, 'failed to allocate a serviceIP: range is full');
  assert.match((await a.allocateIP('ns/x', '10.0.0.1', false)).error!, /not in the valid range. The range of valid IPs is 10.43.0.0\/27/);
});

test('requested IP and port: already allocated; same owner may re-reserve; dry run reserves nothing', async () => {
  const a = new ServiceAllocator(new MemStore());
  assert.deepEqual(await a.allocateIP('ns/a', '10.43.0.50', false), { ip: '10.43.0.50' });
  assert.deepEqual(await a.allocateIP('ns/a', '10.43.0.50', false), { ip: '10.43.0.50' });
  assert.equal((await a.allocateIP('ns/b', '10.43.0.50', false)).error, 'failed to allocate IP 10.43.0.50: provided IP is already allocated');
  assert.deepEqual(await a.allocatePort('ns/a', 30080, false), { port: 30080 });
  assert.equal((await a.allocatePort('ns/b', 30080, false)).error, 'provided port is already allocated');
  assert.equal((await a.allocatePort('ns/b', 80, false)).error, 'provided port is not in the valid range. The range of valid ports is 30000-32767');
  assert.deepEqual(await a.allocatePort('ns/c', 30081, true), { port: 30081 });
  assert.deepEqual(await a.allocatePort('ns/d', 30081, false), { port: 30081 }, 'dry run did not reserve');
});

test('repair frees reservations no Service holds', async () => {
  const a = new ServiceAllocator(new MemStore());
  await a.allocateIP('ns/a', '10.43.0.60', false);
  await a.allocateIP('ns/b', '10.43.0.61', false);
  await a.allocatePort('ns/b', 30100, false);
  const svcA: KubeObject = { metadata: { name: 'a', namespace: 'ns' }, spec: { clusterIP: '10.43.0.60', clusterIPs: ['10.43.0.60'] } };
  assert.equal(await a.repair(async () => [svcA], 0), 2);
  assert.equal((await a.allocateIP('ns/c', '10.43.0.61', false)).ip, '10.43.0.61');
  assert.equal((await a.allocateIP('ns/c', '10.43.0.60', false)).error, 'failed to allocate IP 10.43.0.60: provided IP is already allocated');
});
