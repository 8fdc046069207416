// ServiceLB: the pure ingress rules (table) and the controller on the fake client.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { FakeClient } from '../client/fake.js';
import { NODES, SERVICES } from '../client/resources.js';
import { ingressPatch, lbIngress, ServiceLB, servedByServiceLB } from './servicelb.js';

const node = (name: string, ip: string, ready = true, unschedulable = false): KubeObject =>
  ({
    metadata: { name },
    spec: unschedulable ? { unschedulable: true } : {},
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] },
  }) as KubeObject;

const svc = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = { loadBalancer: {} }): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP: '10.43.0.9', ports: [{ port: 80 }], ...spec }, status }) as KubeObject;

test('lbIngress: Ready, schedulable nodes, InternalIPs sorted numerically', () => {
  const cases: Array<[KubeObject[], string[]]> = [
    [[], []],
    [[node('a', '10.0.0.10'), node('b', '10.0.0.9')], ['10.0.0.9', '10.0.0.10']],
    [[node('a', '10.0.0.10', false), node('b', '10.0.0.9', true, true), node('c', '10.0.0.11')], ['10.0.0.11']],
  ];
  for (const [nodes, want] of cases) assert.deepEqual(lbIngress(nodes), want.map((ip) => ({ ip, ipMode: 'VIP' })));
});

test('servedByServiceLB and ingressPatch', () => {
  assert.equal(servedByServiceLB(svc('a', { type: 'LoadBalancer' })), true);
  assert.equal(servedByServiceLB(svc('a', { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' })), false);
  assert.equal(servedByServiceLB(svc('a', { type: 'NodePort' })), false);
  const want = [{ ip: '10.0.0.9', ipMode: 'VIP' as const }];
  assert.deepEqual(ingressPatch(svc('a', {}), want), { status: { loadBalancer: { ingress: want } } });
  assert.equal(ingressPatch(svc('a', {}, { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } }), want), undefined);
  assert.deepEqual(ingressPatch(svc('a', {}, { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } }), []), { status: { loadBalancer: { ingress: null } } });
});

test('ServiceLB writes the ingress of LoadBalancer services and follows node changes', async () => {
  const client = new FakeClient();
  client.seed('nodes', node('n1', '192.168.77.2'));
  client.seed('services', svc('lb', { type: 'LoadBalancer' }));
  client.seed('services', svc('plain', { type: 'ClusterIP' }));
  const lb = new ServiceLB(client);
  await lb.start();
  const ingressOf = (name: string) => (client.peek('services', 'default', name)?.status as { loadBalancer?: { ingress?: unknown } })?.loadBalancer?.ingress;
  const until = async (f: () => boolean) => {
    for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  try {
    await until(() => ingressOf('lb') !== undefined);
    assert.deepEqual(ingressOf('lb'), [{ ip: '192.168.77.2', ipMode: 'VIP' }]);
    assert.equal(ingressOf('plain'), undefined);
    await client.create(NODES, undefined, node('n2', '192.168.77.3'));
    await until(() => JSON.stringify(ingressOf('lb')).includes('77.3'));
    assert.deepEqual(ingressOf('lb'), [{ ip: '192.168.77.2', ipMode: 'VIP' }, { ip: '192.168.77.3', ipMode: 'VIP' }]);
    const patches = client.actionsOf('patch').length;
    await client.update(SERVICES, 'default', { ...client.peek('services', 'default', 'lb')!, metadata: { ...client.peek('services', 'default', 'lb')!.metadata, labels: { x: 'y' } } });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(client.actionsOf('patch').length, patches, 'an unchanged ingress is not rewritten');
  } finally {
    await lb.stop();
  }
});
