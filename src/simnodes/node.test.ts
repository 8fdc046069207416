// The simulated nodes' address plan and Lease shape: node and pod addresses never collide across nodes, pod
// /24s follow 10.244.<i>.0 and wrap inside 10/8, MicroTime formatting.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leaseObject, microTime, nodeIP, podCIDR, podIP, podIPHost } from './node.js';

test('node i: InternalIP 10.240.0.0/14 + i + 1, pods in 10.244.i.0/24 (wrapping within 10/8)', () => {
  assert.equal(nodeIP(0), '10.240.0.1');
  assert.equal(nodeIP(255), '10.240.1.0');
  assert.equal(podCIDR(0), '10.244.0.0/24');
  assert.equal(podCIDR(7), '10.244.7.0/24');
  assert.equal(podCIDR(256), '10.245.0.0/24');
  assert.equal(podCIDR(3072), '10.0.0.0/24', 'after 10.255.255.0 the plan wraps to 10.0.0.0, never leaving 10/8');
  assert.equal(podIP(3, 9), '10.244.3.9');
  assert.equal(podIPHost(3, '10.244.3.9'), 9);
  assert.equal(podIPHost(3, '10.244.4.9'), undefined);
  assert.equal(podIPHost(3, '10.244.3.255'), undefined);
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) seen.add(podCIDR(i));
  assert.equal(seen.size, 5000, '5,000 nodes get distinct pod /24s');
});

test('Lease renewTime is a MicroTime; the lease is owned by its Node', () => {
  assert.equal(microTime(Date.parse('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05.678000Z');
  const l = leaseObject('sim-node-0', 'uid-0', 0, '42');
  assert.equal(l.metadata.resourceVersion, '42');
  assert.deepEqual(l.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'sim-node-0', uid: 'uid-0' }]);
});
