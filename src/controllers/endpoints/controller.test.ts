// Endpoints controller tests on the fake client: subsets from pod readiness and ports (numbers and names resolved
// per pod), hostnames, publishNotReadyAddresses, terminating and terminal pods, selector-less and ExternalName
// Services left alone, deletion with the Service, recreation after a delete, no-op syncs, truncation at 1000.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { ENDPOINTS, EndpointsController, PODS, SERVICES } from './controller.js';
import { desiredEndpoints, repackSubsets, truncateSubsets, type EndpointSubset } from './subsets.js';

const CREATED = '2026-01-01T12:00:00Z';

function svc(name: string, o: { selector?: Record<string, string> | null; ports?: unknown[]; clusterIP?: string; type?: string; publishNotReady?: boolean; labels?: Record<string, string> } = {}): KubeObject {
  const spec: Record<string, unknown> = {
    type: o.type ?? 'ClusterIP',
    clusterIP: o.clusterIP ?? '10.43.0.20',
    ports: o.ports ?? [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
  };
  if (o.selector !== null) spec.selector = o.selector ?? { app: 'web' };
  if (o.publishNotReady) spec.publishNotReadyAddresses = true;
  if (spec.clusterIP !== 'None') spec.ipFamilies = ['IPv4'];
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns', labels: o.labels, creationTimestamp: CREATED, uid: `svc-${name}` }, spec };
}

interface PodOpts {
  ip?: string;
  ready?: boolean;
  node?: string;
  labels?: Record<string, string>;
  phase?: string;
  deleting?: boolean;
  hostname?: string;
  subdomain?: string;
  containerPorts?: Array<{ name: string; containerPort: number; protocol?: string }>;
  readySince?: string;
}

function pod(name: string, o: PodOpts = {}): KubeObject {
  const spec: Record<string, unknown> = { nodeName: o.node ?? 'node-1', containers: [{ name: 'c', image: 'nginx', ports: o.containerPorts }] };
  if (o.hostname) spec.hostname = o.hostname;
  if (o.subdomain) spec.subdomain = o.subdomain;
  const status: Record<string, unknown> = { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readySince ?? '2026-01-01T12:00:05Z' }] };
  if (o.ip !== '') {
    status.podIP = o.ip ?? '10.244.0.1';
    status.podIPs = [{ ip: o.ip ?? '10.244.0.1' }];
  }
  const meta: KubeObject['metadata'] = { name, namespace: 'ns', labels: o.labels ?? { app: 'web' }, uid: `uid-${name}` };
  if (o.deleting) meta.deletionTimestamp = '2026-01-01T12:01:00Z';
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec, status };
}

async function until(what: string, fn: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function running(c: FakeClient, fn: (ctl: EndpointsController) => Promise<void>): Promise<void> {
  const ctl = new EndpointsController(c);
  const done = ctl.run();
  try {
    await fn(ctl);
  } finally {
    await ctl.stop();
    await done;
  }
}

const ips = (ss: EndpointSubset[] | undefined, field: 'addresses' | 'notReadyAddresses') => (ss ?? []).flatMap((s) => (s[field] ?? []).map((a) => a.ip));

test('ready and not-ready pods become addresses and notReadyAddresses with targetRef, nodeName and the trigger time', async () => {
  const c = new FakeClient();
  c.seed('services', svc('web', { labels: { app: 'web', tier: 'front' } }));
  c.seed('pods', pod('a', { ip: '10.244.0.3' }));
  c.seed('pods', pod('b', { ip: '10.244.0.2', node: 'node-2' }));
  c.seed('pods', pod('c', { ip: '10.244.0.4', ready: false }));
  c.seed('pods', pod('other', { ip: '10.244.0.9', labels: { app: 'db' } }));
  c.seed('pods', pod('pending', { ip: '' }));
  await running(c, async () => {
    await until('endpoints', () => !!c.peek('endpoints', 'ns', 'web'));
    const ep = c.peek('endpoints', 'ns', 'web')!;
    const subsets = ep.subsets as EndpointSubset[];
    assert.equal(subsets.length, 1);
    assert.deepEqual(subsets[0]!.addresses, [
      { ip: '10.244.0.2', nodeName: 'node-2', targetRef: { kind: 'Pod', namespace: 'ns', name: 'b', uid: 'uid-b' } },
      { ip: '10.244.0.3', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } },
    ]);
    assert.deepEqual(ips(subsets, 'notReadyAddresses'), ['10.244.0.4']);
    assert.deepEqual(subsets[0]!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(ep.metadata.labels, { app: 'web', tier: 'front' });
    // First sight of the Service: its creation time.
    assert.equal(ep.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2026-01-01T12:00:00Z');
  });
});

test('pods come and go, turn ready; unchanged state writes nothing', async () => {
  const c = new FakeClient();
  c.seed('services', svc('web'));
  c.seed('pods', pod('a', { ip: '10.244.0.1' }));
  await running(c, async () => {
    await until('endpoints', () => !!c.peek('endpoints', 'ns', 'web'));
    await c.create(PODS, 'ns', pod('b', { ip: '10.244.0.2', ready: false, readySince: '2026-01-01T12:00:30Z' }));
    await until('b not ready', () => ips(c.peek('endpoints', 'ns', 'web')!.subsets as EndpointSubset[], 'notReadyAddresses').includes('10.244.0.2'));
    const b = c.peek('pods', 'ns', 'b')!;
    b.status = { ...(b.status as object), conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T12:00:40Z' }] };
    await c.update(PODS, 'ns', b, 'status');
    await until('b ready', () => ips(c.peek('endpoints', 'ns', 'web')!.subsets as EndpointSubset[], 'addresses').join() === '10.244.0.1,10.244.0.2');
    assert.equal(c.peek('endpoints', 'ns', 'web')!.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2026-01-01T12:00:40Z');
    // A label-only change of an unrelated kind (annotation) is no reason to write.
    const writes = () => c.actions.filter((a) => a.resource === 'endpoints' && (a.verb === 'update' || a.verb === 'create')).length;
    const before = writes();
    const a = c.peek('pods', 'ns', 'a')!;
    a.metadata.annotations = { touched: 'yes' };
    await c.update(PODS, 'ns', a);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(writes(), before);
    await c.delete(PODS, 'ns', 'a');
    await until('a gone', () => ips(c.peek('endpoints', 'ns', 'web')!.subsets as EndpointSubset[], 'addresses').join() === '10.244.0.2');
  });
});

test('the Service going deletes its Endpoints; a deleted Endpoints comes back; selector-less and ExternalName are left alone', async () => {
  const c = new FakeClient();
  c.seed('services', svc('web'));
  c.seed('services', svc('manual', { selector: null }));
  c.seed('services', { ...svc('ext', { type: 'ExternalName', selector: { app: 'web' } }), spec: { type: 'ExternalName', externalName: 'example.com', selector: { app: 'web' } } });
  c.seed('endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: 'ns' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 80, protocol: 'TCP' }] }] });
  c.seed('endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'orphan', namespace: 'ns' } });
  c.seed('endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'lock', namespace: 'ns', annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } } });
  c.seed('pods', pod('a'));
  await running(c, async () => {
    await until('endpoints', () => !!c.peek('endpoints', 'ns', 'web'));
    await until('orphan removed', () => !c.peek('endpoints', 'ns', 'orphan'));
    assert.ok(c.peek('endpoints', 'ns', 'lock'), 'leader-election endpoints are kept');
    assert.deepEqual(ips(c.peek('endpoints', 'ns', 'manual')!.subsets as EndpointSubset[], 'addresses'), ['192.0.2.1']);
    assert.equal(c.peek('endpoints', 'ns', 'ext'), undefined);
    await c.delete(ENDPOINTS, 'ns', 'web');
    await until('endpoints back', () => !!c.peek('endpoints', 'ns', 'web'));
    await c.delete(SERVICES, 'ns', 'web');
    await until('endpoints gone', () => !c.peek('endpoints', 'ns', 'web'));
    assert.ok(c.peek('endpoints', 'ns', 'manual'), 'never touched');
  });
});

test('desiredEndpoints: named targetPorts resolve per pod; ports with the same addresses share a subset', () => {
  const s = svc('web', {
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' },
      { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090 },
    ],
  });
  const pods = [
    pod('a', { ip: '10.244.0.1', containerPorts: [{ name: 'web', containerPort: 8080 }] }),
    pod('b', { ip: '10.244.0.2', containerPorts: [{ name: 'web', containerPort: 8080 }] }),
    pod('c', { ip: '10.244.0.3', containerPorts: [{ name: 'web', containerPort: 9000 }] }),
    pod('d', { ip: '10.244.0.4', containerPorts: [{ name: 'other', containerPort: 1 }] }),
    pod('udp', { ip: '10.244.0.5', containerPorts: [{ name: 'web', containerPort: 53, protocol: 'UDP' }] }),
  ];
  const { subsets } = desiredEndpoints(s, pods);
  const shape = subsets.map((ss) => `${ips([ss], 'addresses').join(',')} → ${(ss.ports ?? []).map((p) => `${p.name}:${p.port}`).join(',')}`).sort();
  assert.deepEqual(shape, ['10.244.0.1,10.244.0.2 → http:8080', '10.244.0.1,10.244.0.2,10.244.0.3,10.244.0.4,10.244.0.5 → metrics:9090', '10.244.0.3 → http:9000']);
});

test('desiredEndpoints: publishNotReadyAddresses, terminating and terminal pods, hostnames, headless without ports', () => {
  const pods = [
    pod('ready', { ip: '10.244.0.1', hostname: 'web-0', subdomain: 'web' }),
    pod('unready', { ip: '10.244.0.2', ready: false, hostname: 'web-1', subdomain: 'other' }),
    pod('leaving', { ip: '10.244.0.3', deleting: true }),
    pod('done', { ip: '10.244.0.4', phase: 'Succeeded' }),
  ];
  const plain = desiredEndpoints(svc('web'), pods).subsets;
  assert.deepEqual(ips(plain, 'addresses'), ['10.244.0.1']);
  assert.deepEqual(ips(plain, 'notReadyAddresses'), ['10.244.0.2']);
  assert.equal(plain[0]!.addresses![0]!.hostname, 'web-0');
  assert.equal(plain[0]!.notReadyAddresses![0]!.hostname, undefined, 'subdomain names another Service');
  const publish = desiredEndpoints(svc('web', { publishNotReady: true }), pods).subsets;
  assert.deepEqual(ips(publish, 'addresses'), ['10.244.0.1', '10.244.0.2', '10.244.0.3']);
  assert.deepEqual(ips(publish, 'notReadyAddresses'), []);
  const headless = desiredEndpoints(svc('web', { clusterIP: 'None', ports: [] }), pods).subsets;
  assert.equal(headless.length, 1);
  assert.equal(headless[0]!.ports, undefined);
  assert.deepEqual(ips(headless, 'addresses'), ['10.244.0.1']);
  assert.deepEqual(desiredEndpoints(svc('web', { ports: [] }), pods).subsets, [], 'a ClusterIP Service without ports has no endpoints');
});

test('repackSubsets: not-ready wins over ready for one address; no-port sentinels keep their addresses', () => {
  const a = { ip: '10.0.0.1', targetRef: { kind: 'Pod', name: 'a', uid: 'a' } };
  const p = { name: 'http', port: 80, protocol: 'TCP' };
  const out = repackSubsets([{ addresses: [a], ports: [p] }, { notReadyAddresses: [a], ports: [p] }]);
  assert.deepEqual(out, [{ notReadyAddresses: [a], ports: [p] }]);
  assert.deepEqual(repackSubsets([{ addresses: [a], ports: [] }]), [{ addresses: [a] }]);
});

test('truncateSubsets: ready addresses first, proportional shares rounded up, then not-ready', () => {
  const addrs = (n: number, base: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.${base}.${Math.floor(i / 250)}.${i % 250}` }));
  assert.equal(truncateSubsets([{ addresses: addrs(600, 1), notReadyAddresses: addrs(400, 2) }]), undefined, '1000 fits');
  const overReady = truncateSubsets([
    { addresses: addrs(900, 1), notReadyAddresses: addrs(10, 3), ports: [{ port: 1 }] },
    { addresses: addrs(300, 2), ports: [{ port: 2 }] },
  ])!;
  assert.equal(overReady[0]!.addresses!.length, 750);
  assert.equal(overReady[1]!.addresses!.length, 250);
  assert.equal(overReady[0]!.notReadyAddresses, undefined);
  const overNotReady = truncateSubsets([
    { addresses: addrs(800, 1), notReadyAddresses: addrs(150, 3) },
    { notReadyAddresses: addrs(150, 4) },
  ])!;
  assert.equal(overNotReady[0]!.addresses!.length, 800);
  assert.equal(overNotReady[0]!.notReadyAddresses!.length, 100);
  assert.equal(overNotReady[1]!.notReadyAddresses!.length, 100);
});

test('over 1000 pods: the Endpoints is truncated and annotated, and the annotation goes when it fits again', async () => {
  const c = new FakeClient();
  c.seed('services', svc('big'));
  for (let i = 0; i < 1005; i++) c.seed('pods', pod(`p${i}`, { ip: `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
  await running(c, async () => {
    await until('endpoints', () => !!c.peek('endpoints', 'ns', 'big'), 10_000);
    const ep = c.peek('endpoints', 'ns', 'big')!;
    assert.equal(ips(ep.subsets as EndpointSubset[], 'addresses').length, 1000);
    assert.equal(ep.metadata.annotations?.['endpoints.kubernetes.io/over-capacity'], 'truncated');
    for (let i = 0; i < 10; i++) await c.delete(PODS, 'ns', `p${i}`);
    await until('annotation cleared', () => c.peek('endpoints', 'ns', 'big')!.metadata.annotations?.['endpoints.kubernetes.io/over-capacity'] === undefined, 10_000);
    assert.equal(ips(c.peek('endpoints', 'ns', 'big')!.subsets as EndpointSubset[], 'addresses').length, 995);
  });
});

test('headless Services get the service.kubernetes.io/headless label', async () => {
  const c = new FakeClient();
  c.seed('services', svc('db', { clusterIP: 'None' }));
  c.seed('pods', pod('a'));
  await running(c, async () => {
    await until('endpoints', () => !!c.peek('endpoints', 'ns', 'db'));
    assert.deepEqual(c.peek('endpoints', 'ns', 'db')!.metadata.labels, { 'service.kubernetes.io/headless': '' });
  });
});
