// The kube-dns endpoints reconciler on the fake client: a node's slice and the union Endpoints are created, left
// alone when equal, corrected after drift; two nodes share the Endpoints; stop() withdraws the node's address.
// Plus the pure pieces: the union over slices (others' slices ignored) and the pod CIDR gateway.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { FakeClient } from '../client/fake.js';
import { ENDPOINTS, ENDPOINTSLICES } from '../client/resources.js';
import { KUBE_DNS_MANAGED_BY, KubeDnsEndpoints, kubeDnsSlice, listenersOf } from './endpoints.js';
import { podCidrGateway } from './dns.js';

const subsets = (c: FakeClient) => (c.peek('endpoints', 'kube-system', 'kube-dns') as unknown as { subsets?: unknown }).subsets;
const DNS_PORTS = [
  { name: 'dns', port: 53, protocol: 'UDP' },
  { name: 'dns-tcp', port: 53, protocol: 'TCP' },
];

test('kube-dns endpoints: the node slice and the Endpoints, no write when equal, corrected after drift', async () => {
  const client = new FakeClient();
  const r = new KubeDnsEndpoints(client, { nodeName: 'n1', ip: '10.42.0.1', port: 53 });
  await r.reconcile();
  const slice = client.peek('endpointslices', 'kube-system', 'kube-dns-n1') as unknown as { addressType: string; endpoints: unknown; ports: unknown; metadata: { labels: Record<string, string> } };
  assert.equal(slice.addressType, 'IPv4');
  assert.deepEqual(slice.metadata.labels, { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': KUBE_DNS_MANAGED_BY });
  assert.deepEqual(slice.endpoints, [{ addresses: ['10.42.0.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1' }]);
  assert.deepEqual(slice.ports, DNS_PORTS);
  assert.deepEqual(subsets(client), [{ addresses: [{ ip: '10.42.0.1', nodeName: 'n1' }], ports: DNS_PORTS }]);
  const ep = client.peek('endpoints', 'kube-system', 'kube-dns') as KubeObject;
  assert.equal(ep.metadata?.labels?.['endpointslice.kubernetes.io/skip-mirror'], 'true');

  const writes = () => client.actions.filter((a) => a.verb === 'create' || a.verb === 'update').length;
  const before = writes();
  await r.reconcile();
  assert.equal(writes(), before, 'no write when both match');

  await client.update(ENDPOINTS, 'kube-system', { ...ep, subsets: [] } as never);
  await client.update(ENDPOINTSLICES, 'kube-system', { ...client.peek('endpointslices', 'kube-system', 'kube-dns-n1')!, endpoints: [] } as never);
  await r.reconcile();
  assert.deepEqual(subsets(client), [{ addresses: [{ ip: '10.42.0.1', nodeName: 'n1' }], ports: DNS_PORTS }]);
  assert.deepEqual((client.peek('endpointslices', 'kube-system', 'kube-dns-n1') as unknown as { endpoints: Array<{ addresses: string[] }> }).endpoints[0]!.addresses, ['10.42.0.1']);
});

test('kube-dns endpoints: two nodes share the Endpoints; stop() withdraws one', async () => {
  const client = new FakeClient();
  const a = new KubeDnsEndpoints(client, { nodeName: 'n1', ip: '10.42.1.1', port: 53 });
  const b = new KubeDnsEndpoints(client, { nodeName: 'n2', ip: '10.42.0.1', port: 53 });
  await a.reconcile();
  await b.reconcile();
  await a.reconcile();
  assert.deepEqual(subsets(client), [{ addresses: [{ ip: '10.42.0.1', nodeName: 'n2' }, { ip: '10.42.1.1', nodeName: 'n1' }], ports: DNS_PORTS }]);
  await a.stop();
  assert.equal(client.peek('endpointslices', 'kube-system', 'kube-dns-n1'), undefined);
  assert.deepEqual(subsets(client), [{ addresses: [{ ip: '10.42.0.1', nodeName: 'n2' }], ports: DNS_PORTS }]);
  await b.stop();
  assert.equal(subsets(client), undefined, 'no listener: no subsets');
});

test('kube-dns endpoints: a listener serving /metrics carries the metrics port; others share no subset with it', async () => {
  const client = new FakeClient();
  const a = new KubeDnsEndpoints(client, { nodeName: 'n1', ip: '10.42.1.1', port: 53, metricsPort: 9153 });
  const b = new KubeDnsEndpoints(client, { nodeName: 'n2', ip: '10.42.0.1', port: 53 });
  await a.reconcile();
  await b.reconcile();
  const metrics = [...DNS_PORTS, { name: 'metrics', port: 9153, protocol: 'TCP' }];
  assert.deepEqual((client.peek('endpointslices', 'kube-system', 'kube-dns-n1') as unknown as { ports: unknown }).ports, metrics);
  assert.deepEqual(subsets(client), [
    { addresses: [{ ip: '10.42.0.1', nodeName: 'n2' }], ports: DNS_PORTS },
    { addresses: [{ ip: '10.42.1.1', nodeName: 'n1' }], ports: metrics },
  ]);
  assert.deepEqual(listenersOf([kubeDnsSlice('n1', '10.42.1.1', 53, 9153)]), [{ ip: '10.42.1.1', port: 53, metricsPort: 9153, nodeName: 'n1' }]);
});

test('listenersOf: our ready endpoints only', () => {
  const ours = kubeDnsSlice('n1', '10.42.0.1', 5353);
  const notReady = kubeDnsSlice('n2', '10.42.1.1', 53) as KubeObject & { endpoints: Array<{ conditions: { ready: boolean } }> };
  notReady.endpoints[0]!.conditions.ready = false;
  const foreign = { ...kubeDnsSlice('n3', '10.42.2.1', 53), metadata: { name: 'kube-dns-abc', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } } };
  assert.deepEqual(listenersOf([ours, notReady, foreign]), [{ ip: '10.42.0.1', port: 5353, nodeName: 'n1' }]);
});

test('podCidrGateway: the first address of the pod CIDR', () => {
  const cases: Array<[string, string | undefined]> = [
    ['10.42.0.0/24', '10.42.0.1'],
    ['10.42.7.0/24', '10.42.7.1'],
    ['10.42.7.130/25', '10.42.7.129'],
    ['192.168.0.0/16', '192.168.0.1'],
    ['10.0.0.0/31', undefined],
    ['fd00::/64', undefined],
    ['nonsense', undefined],
  ];
  for (const [cidr, want] of cases) assert.equal(podCidrGateway(cidr), want, cidr);
});
