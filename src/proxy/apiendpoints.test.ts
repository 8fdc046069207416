// The default/kubernetes endpoint reconciler on the fake client: creates both objects, corrects drift, and writes
// nothing when they match.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClient } from '../client/fake.js';
import { ENDPOINTS } from '../client/resources.js';
import { ApiEndpointsReconciler, kubernetesEndpoints } from './apiendpoints.js';

test('kubernetes endpoints: created, corrected after drift, left alone when equal', async () => {
  const client = new FakeClient();
  const r = new ApiEndpointsReconciler(client, { ip: '192.168.77.2', port: 6443 });
  await r.reconcile();
  const ep = client.peek('endpoints', 'default', 'kubernetes') as unknown as { subsets: unknown };
  assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '192.168.77.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
  const slice = client.peek('endpointslices', 'default', 'kubernetes') as unknown as { addressType: string; endpoints: unknown; metadata: { labels: Record<string, string> } };
  assert.equal(slice.addressType, 'IPv4');
  assert.equal(slice.metadata.labels['kubernetes.io/service-name'], 'kubernetes');
  assert.deepEqual(slice.endpoints, [{ addresses: ['192.168.77.2'], conditions: { ready: true } }]);

  const writes = () => client.actions.filter((a) => a.verb === 'create' || a.verb === 'update').length;
  const before = writes();
  await r.reconcile();
  assert.equal(writes(), before, 'no write when both match');

  await client.update(ENDPOINTS, 'default', { ...client.peek('endpoints', 'default', 'kubernetes')!, subsets: [] } as never);
  await r.reconcile();
  assert.deepEqual((client.peek('endpoints', 'default', 'kubernetes') as unknown as { subsets: unknown }).subsets, kubernetesEndpoints('192.168.77.2', 6443).endpoints.subsets);
  assert.equal(kubernetesEndpoints('fd00::2', 6443).slice.addressType, 'IPv6');
});
