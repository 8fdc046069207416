// End-to-end: `k8ts server --simulate-nodes 3` driven by the real kubectl — nodes listed Ready as upstream prints
// them, Leases renewed, a pod bound to a simulated node running with an address and kubelet events, a prompt
// `kubectl delete pod`, and pods that declare how they end reaching Completed and Error.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, podObject, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start({ extraArgs: ['--simulate-nodes', '3'] });
});

after(async () => {
  await srv?.stop();
});

function boundPod(name: string, node: string, o: { annotations?: Record<string, string>; restartPolicy?: string } = {}): Record<string, unknown> {
  const p = podObject(name, { annotations: o.annotations }) as { spec: Record<string, unknown> };
  p.spec.nodeName = node;
  if (o.restartPolicy) p.spec.restartPolicy = o.restartPolicy;
  return p;
}

async function podRow(k: Kubectl, name: string): Promise<Record<string, string>> {
  const t = parseTable((await k.ok(['get', 'pod', name, '-o', 'wide'])).stdout);
  assert.equal(t.rows.length, 1);
  return t.rows[0]!;
}

test('kubectl get nodes lists the simulated nodes Ready, with upstream columns', async () => {
  const k = srv.client();
  const t = await eventually(
    async () => {
      const t = parseTable((await k.ok(['get', 'nodes'])).stdout);
      return t.rows.length === 3 && t.rows.every((r) => r.STATUS === 'Ready') && t;
    },
    15_000,
    'three Ready nodes',
  );
  assert.deepEqual(t.headers, ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
  assert.deepEqual(
    t.rows.map((r) => r.NAME),
    ['sim-node-0', 'sim-node-1', 'sim-node-2'],
  );
  for (const r of t.rows) {
    assert.equal(r.ROLES, '<none>');
    assert.match(r.VERSION!, /^v1\.32\.3-k8ts/);
  }
  const wide = parseTable((await k.ok(['get', 'node', 'sim-node-2', '-o', 'wide'])).stdout);
  assert.equal(wide.rows[0]!['INTERNAL-IP'], '10.240.0.3');
  assert.equal((await k.ok(['get', 'nodes', '-l', 'type=simulated,kubernetes.io/os=linux', '-o', 'name'])).stdout.split('\n').filter(Boolean).length, 3);
  const holders = (await k.ok(['get', 'leases', '-n', 'kube-node-lease', '-o', 'jsonpath={range .items[*]}{.spec.holderIdentity}/{.metadata.ownerReferences[0].kind}{"\\n"}{end}'])).stdout;
  assert.deepEqual(holders.trim().split('\n').sort(), ['sim-node-0/Node', 'sim-node-1/Node', 'sim-node-2/Node']);
});

test('a pod bound to a simulated node runs Ready with an IP, with kubelet events; kubectl delete returns promptly', async () => {
  const k = await withNamespace(srv, 'e2e-sim');
  await k.ok(['create', '-f', '-'], { stdin: docs(boundPod('web', 'sim-node-1')) });
  await k.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']);
  const row = await podRow(k, 'web');
  assert.equal(row.READY, '1/1');
  assert.equal(row.STATUS, 'Running');
  assert.equal(row.RESTARTS, '0');
  assert.match(row.IP!, /^10\.244\.1\.\d+$/);
  assert.equal(row.NODE, 'sim-node-1');
  const hostIP = (await k.ok(['get', 'pod', 'web', '-o', 'jsonpath={.status.hostIP} {.status.containerStatuses[0].containerID}'])).stdout;
  assert.match(hostIP, /^10\.240\.0\.2 sim:\/\/[0-9a-f]{64}$/);
  const events = await eventually(
    async () => {
      const out = (await k.ok(['get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={range .items[*]}{.reason}/{.source.component}/{.source.host}{"\\n"}{end}'])).stdout;
      const got = new Set(out.trim().split('\n'));
      return ['Pulled', 'Created', 'Started'].every((r) => got.has(`${r}/kubelet/sim-node-1`)) && got;
    },
    10_000,
    'Pulled, Created and Started events from the kubelet on sim-node-1',
  );
  assert.ok(events.size >= 3);
  const began = Date.now();
  const del = await k.ok(['delete', 'pod', 'web', '--timeout=20s']);
  assert.equal(del.stdout, 'pod "web" deleted\n');
  assert.ok(Date.now() - began < 10_000, `kubectl delete took ${Date.now() - began} ms`);
  const gone = await k.run(['get', 'pod', 'web']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /NotFound/);
});

test('a pod bound later through pods/binding (as a scheduler binds) is picked up and runs', async () => {
  const k = await withNamespace(srv, 'e2e-sim-bind');
  // Another scheduler's pod: the default scheduler leaves it alone, so it waits unbound until we bind it.
  const late = podObject('late') as { spec: Record<string, unknown> };
  late.spec.schedulerName = 'e2e-manual-scheduler';
  await k.ok(['create', '-f', '-'], { stdin: docs(late) });
  const pending = await podRow(k, 'late');
  assert.equal(pending.STATUS, 'Pending');
  assert.equal(pending.NODE, '<none>');
  const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'late' }, target: { apiVersion: 'v1', kind: 'Node', name: 'sim-node-2' } };
  await k.ok(['create', '--raw', `/api/v1/namespaces/${k.namespace}/pods/late/binding`, '-f', '-'], { stdin: JSON.stringify(binding) });
  await k.ok(['wait', '--for=condition=Ready', 'pod/late', '--timeout=20s']);
  const row = await podRow(k, 'late');
  assert.equal(row.NODE, 'sim-node-2');
  assert.match(row.IP!, /^10\.244\.2\.\d+$/);
});

test('pods that declare how they end: exit 0 → Completed, exit 3 → Error', async () => {
  const k = await withNamespace(srv, 'e2e-sim-run');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      boundPod('done', 'sim-node-0', { restartPolicy: 'Never', annotations: { 'sim.k8ts.io/run-seconds': '1', 'sim.k8ts.io/exit-code': '0' } }),
      boundPod('broken', 'sim-node-2', { restartPolicy: 'Never', annotations: { 'sim.k8ts.io/run-seconds': '1', 'sim.k8ts.io/exit-code': '3' } }),
    ),
  });
  await k.ok(['wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/done', '--timeout=20s']);
  await k.ok(['wait', '--for=jsonpath={.status.phase}=Failed', 'pod/broken', '--timeout=20s']);
  const done = await podRow(k, 'done');
  assert.equal(done.STATUS, 'Completed');
  assert.equal(done.READY, '0/1');
  const broken = await podRow(k, 'broken');
  assert.equal(broken.STATUS, 'Error');
  assert.equal((await k.ok(['get', 'pod', 'broken', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}'])).stdout, '3');
});

test('node leases are renewed', async () => {
  const k = srv.client();
  const renewTime = async () => (await k.ok(['get', 'lease', 'sim-node-0', '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.renewTime}'])).stdout;
  const first = await renewTime();
  assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  await eventually(async () => (await renewTime()) !== first, 20_000, 'a lease renewal (every 10 s)');
});
