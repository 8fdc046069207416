// End-to-end: Endpoints and EndpointSlices on `k8ts server --simulate-nodes 2` with the real kubectl 1.32 —
// `kubectl expose` a Deployment and `get endpoints` lists the pod IPs (`+ N more...` past three), scaling changes
// them, `get endpointslices` and `describe svc` print as upstream, a never-ready pod is a notReadyAddress (and a
// not-ready slice endpoint), named target ports resolve per pod, and deleting the Service takes both away.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start({ extraArgs: ['--simulate-nodes', '2'] });
});

after(async () => {
  await srv?.stop();
});

async function readyPodIPs(k: Kubectl, selector: string, n: number): Promise<string[]> {
  return await eventually(
    async () => {
      const out = (await k.ok(['get', 'pods', '-l', selector, '-o', 'jsonpath={range .items[*]}{.status.podIP}/{.status.conditions[?(@.type=="Ready")].status}/{.metadata.deletionTimestamp}{"\\n"}{end}'])).stdout;
      const rows = out.trim().split('\n').filter(Boolean).map((l) => l.split('/'));
      return rows.length === n && rows.every(([ip, ready, del]) => ip && ready === 'True' && !del) && rows.map(([ip]) => ip!).sort();
    },
    20_000,
    `${n} ready pods ${selector}`,
  );
}

/** What `kubectl get endpoints` prints for these addresses: sorted as the controller stores them, three then "+ N more...". */
function formatted(ips: string[], port: number): string {
  const list = [...ips].sort().map((ip) => `${ip}:${port}`);
  return list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
}

async function endpointsRow(k: Kubectl, name: string): Promise<Record<string, string>> {
  const t = parseTable((await k.ok(['get', 'endpoints', name])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'ENDPOINTS', 'AGE']);
  return t.rows[0]!;
}

test('kubectl expose: get endpoints/endpointslices and describe svc show the pod IPs, and follow scaling', async () => {
  const k = await withNamespace(srv, 'e2e-ep');
  await k.ok(['create', 'deployment', 'kubia', '--image=luksa/kubia', '--replicas=3', '--port=8080']);
  await k.ok(['expose', 'deployment', 'kubia', '--port=80', '--target-port=8080']);
  let ips = await readyPodIPs(k, 'app=kubia', 3);
  await eventually(async () => (await endpointsRow(k, 'kubia')).ENDPOINTS === formatted(ips, 8080), 15_000, `endpoints ${formatted(ips, 8080)}`);

  const slices = parseTable((await k.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=kubia'])).stdout);
  assert.deepEqual(slices.headers, ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
  assert.equal(slices.rows.length, 1);
  assert.match(slices.rows[0]!.NAME!, /^kubia-[a-z0-9]{5}$/);
  assert.equal(slices.rows[0]!.ADDRESSTYPE, 'IPv4');
  assert.equal(slices.rows[0]!.PORTS, '8080');
  assert.deepEqual(slices.rows[0]!.ENDPOINTS!.split(',').sort(), ips);
  const meta = JSON.parse((await k.ok(['get', 'endpointslices', slices.rows[0]!.NAME!, '-o', 'json'])).stdout) as { metadata: { labels: Record<string, string>; ownerReferences: Array<{ kind: string; name: string; controller: boolean }> }; endpoints: Array<{ conditions: Record<string, boolean>; nodeName: string; targetRef: { kind: string } }> };
  assert.equal(meta.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  assert.deepEqual(meta.metadata.ownerReferences.map((o) => `${o.kind}/${o.name}/${o.controller}`), ['Service/kubia/true']);
  for (const e of meta.endpoints) {
    assert.deepEqual(e.conditions, { ready: true, serving: true, terminating: false });
    assert.match(e.nodeName, /^sim-node-[01]$/);
    assert.equal(e.targetRef.kind, 'Pod');
  }

  const describe = (await k.ok(['describe', 'svc', 'kubia'])).stdout;
  // kubectl 1.32 describes a Service from its EndpointSlices, in slice order.
  const epLine = /^Endpoints:\s+(.*)$/m.exec(describe)?.[1] ?? '';
  assert.deepEqual(epLine.split(',').sort(), ips.map((ip) => `${ip}:8080`), describe);

  await k.ok(['scale', 'deployment', 'kubia', '--replicas=5']);
  ips = await readyPodIPs(k, 'app=kubia', 5);
  await eventually(async () => (await endpointsRow(k, 'kubia')).ENDPOINTS === formatted(ips, 8080), 15_000, 'five endpoints');
  assert.match((await endpointsRow(k, 'kubia')).ENDPOINTS!, / \+ 2 more\.\.\.$/);
  const all = (await k.ok(['get', 'endpoints', 'kubia', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).stdout.split(' ').sort();
  assert.deepEqual(all, ips);

  await k.ok(['scale', 'deployment', 'kubia', '--replicas=1']);
  ips = await readyPodIPs(k, 'app=kubia', 1);
  await eventually(async () => (await endpointsRow(k, 'kubia')).ENDPOINTS === formatted(ips, 8080), 15_000, 'one endpoint');
  await eventually(async () => (await k.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=kubia', '-o', 'jsonpath={.items[*].endpoints[*].addresses[0]}'])).stdout.trim() === ips[0], 15_000, 'one slice endpoint');
});

test('a pod that never turns ready is a notReadyAddress, and not ready in its slice', async () => {
  const k = await withNamespace(srv, 'e2e-ep');
  const pod = (name: string, annotations?: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'slow' }, ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36', ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      pod('fast'),
      pod('never', { 'sim.k8ts.io/ready-seconds': 'never' }),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'slow' }, spec: { selector: { app: 'slow' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } },
    ),
  });
  await k.ok(['wait', '--for=condition=Ready', 'pod/fast', '--timeout=20s']);
  const ip = async (name: string) => await eventually(async () => (await k.ok(['get', 'pod', name, '-o', 'jsonpath={.status.podIP}'])).stdout.trim(), 20_000, `${name} has an IP`);
  const fastIP = await ip('fast');
  const neverIP = await ip('never');
  await eventually(
    async () => {
      const out = (await k.ok(['get', 'endpoints', 'slow', '-o', 'jsonpath={.subsets[*].addresses[*].ip}/{.subsets[*].notReadyAddresses[*].ip}/{.subsets[*].ports[*].port}'])).stdout;
      return out === `${fastIP}/${neverIP}/8080`;
    },
    15_000,
    'fast ready, never not ready, named port resolved to 8080',
  );
  assert.equal((await endpointsRow(k, 'slow')).ENDPOINTS, `${fastIP}:8080`);
  const describe = (await k.ok(['describe', 'endpoints', 'slow'])).stdout;
  assert.match(describe, new RegExp(`^\\s+Addresses:\\s+${fastIP.replace(/\./g, '\\.')}$`, 'm'), describe);
  assert.match(describe, new RegExp(`^\\s+NotReadyAddresses:\\s+${neverIP.replace(/\./g, '\\.')}$`, 'm'), describe);
  assert.match(describe, /^\s+web\s+8080\s+TCP$/m, describe);
  const conditions = (await k.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=slow', '-o', `jsonpath={.items[0].endpoints[?(@.addresses[0]=="${neverIP}")].conditions.ready}`])).stdout;
  assert.equal(conditions, 'false');
  assert.match((await k.ok(['describe', 'svc', 'slow'])).stdout, new RegExp(`^Endpoints:\\s+${fastIP.replace(/\./g, '\\.')}:8080$`, 'm'));

  await k.ok(['delete', 'svc', 'slow']);
  await eventually(async () => (await k.run(['get', 'endpoints', 'slow'])).code !== 0, 15_000, 'endpoints deleted with the service');
  await eventually(async () => (await k.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=slow', '-o', 'name'])).stdout.trim() === '', 15_000, 'slices garbage collected');
});

test('a Service without a selector keeps the Endpoints written by hand', async () => {
  const k = await withNamespace(srv, 'e2e-ep');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external-db' }, spec: { ports: [{ port: 5432 }] } },
      { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external-db' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }, { ip: '192.0.2.11' }], ports: [{ port: 5432 }] }] },
    ),
  });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await endpointsRow(k, 'external-db')).ENDPOINTS, '192.0.2.10:5432,192.0.2.11:5432');
  assert.equal((await k.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=external-db', '-o', 'name'])).stdout.trim(), '');
});
