// SimulatedNodes on the fake client: registration (Node shape, Leases owned by their Nodes), lease renewal, pods
// driven to Running with per-node addresses and kubelet Events, deletion with grace 0, the down annotation, and
// pods on other nodes left alone. Waits follow the fake client's watch streams, never the clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { FakeClient } from '../client/fake.js';
import type { DeleteOptions, Resource } from '../client/interface.js';
import { ANNOTATION_DOWN, LEASES, NODES, PODS, SimulatedNodes } from './simnodes.js';

type Obj = Record<string, any>;

/** Resolves with the first object of `r` satisfying pred, looking at the current state and then at the watch. */
async function until(c: FakeClient, r: Resource, pred: (o: KubeObject) => boolean, what: string, timeoutMs = 5_000): Promise<KubeObject> {
  const now = c.all(r.resource).find(pred);
  if (now) return now;
  return await new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      w.stop();
      reject(new Error(`timed out waiting for ${what}; actions: ${c.actions.map((a) => `${a.verb} ${a.resource}/${a.name ?? ''}`).join(', ')}`));
    }, timeoutMs);
    const w = c.watch(r, undefined, {}, (ev) => {
      if (ev.type !== 'DELETED' && pred(ev.object)) {
        clearTimeout(t);
        w.stop();
        resolve(ev.object);
      }
    });
  });
}

function pod(name: string, nodeName: string, extra: { annotations?: Record<string, string>; restartPolicy?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', annotations: extra.annotations },
    spec: { nodeName, restartPolicy: extra.restartPolicy ?? 'Always', terminationGracePeriodSeconds: 30, containers: [{ name: 'main', image: 'nginx:1.27' }] },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

/** The component's timers are unref'd (they must not hold a server open); a test holds the event loop itself. */
function holdEventLoop(): () => void {
  const t = setInterval(() => {}, 1000);
  return () => clearInterval(t);
}

const phaseIs = (name: string, phase: string) => (o: KubeObject) => o.metadata.name === name && (o.status as Obj | undefined)?.phase === phase;

test('registers nodes as a kubelet does, each with a Lease owned by its Node', async () => {
  const c = new FakeClient();
  const sim = new SimulatedNodes(c, { count: 3, cpu: '4', memory: '16Gi', pods: 50, events: false, log: () => {} });
  try {
    await sim.start();
    assert.deepEqual(sim.nodeNames, ['sim-node-0', 'sim-node-1', 'sim-node-2']);
    const n = c.peek('nodes', undefined, 'sim-node-1')!;
    const labels = n.metadata.labels!;
    assert.equal(labels['kubernetes.io/hostname'], 'sim-node-1');
    assert.equal(labels['kubernetes.io/os'], 'linux');
    assert.equal(labels['kubernetes.io/arch'], 'amd64');
    assert.equal(labels.type, 'simulated');
    const s = n.status as Obj;
    assert.deepEqual(s.capacity, { cpu: '4', 'ephemeral-storage': '100Gi', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '16Gi', pods: '50' });
    assert.deepEqual(s.allocatable, s.capacity);
    assert.deepEqual(
      s.conditions.map((x: Obj) => `${x.type}=${x.status} ${x.reason}`),
      ['MemoryPressure=False KubeletHasSufficientMemory', 'DiskPressure=False KubeletHasNoDiskPressure', 'PIDPressure=False KubeletHasSufficientPID', 'Ready=True KubeletReady'],
    );
    assert.equal(s.conditions[3].message, 'kubelet is posting ready status');
    assert.deepEqual(s.addresses, [
      { type: 'InternalIP', address: '10.240.0.2' },
      { type: 'Hostname', address: 'sim-node-1' },
    ]);
    assert.match(s.nodeInfo.kubeletVersion, /^v1\.32\.3-k8ts/);
    assert.equal(s.daemonEndpoints.kubeletEndpoint.Port, 10250);
    assert.equal((n.spec as Obj).podCIDR, '10.244.1.0/24');
    const lease = c.peek('leases', 'kube-node-lease', 'sim-node-1')!;
    assert.equal((lease.spec as Obj).holderIdentity, 'sim-node-1');
    assert.equal((lease.spec as Obj).leaseDurationSeconds, 40);
    assert.match((lease.spec as Obj).renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.deepEqual(lease.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'sim-node-1', uid: n.metadata.uid }]);
  } finally {
    await sim.stop();
  }
});

test('an existing Node (an earlier run) gets its status re-posted instead of a second create', async () => {
  const c = new FakeClient();
  c.seed('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'sim-node-0' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } });
  const sim = new SimulatedNodes(c, { count: 1, events: false, log: () => {} });
  try {
    await sim.start();
    const ready = ((c.peek('nodes', undefined, 'sim-node-0')!.status as Obj).conditions as Obj[]).find((x) => x.type === 'Ready')!;
    assert.equal(ready.status, 'True');
    assert.ok(c.actions.some((a) => a.verb === 'patch' && a.resource === 'nodes' && a.subresource === 'status'));
  } finally {
    await sim.stop();
  }
});

test('leases are renewed on their interval', async () => {
  const c = new FakeClient();
  const sim = new SimulatedNodes(c, { count: 2, leaseRenewMs: 50, events: false, log: () => {} });
  try {
    await sim.start();
    const first = c.peek('leases', 'kube-node-lease', 'sim-node-0')!;
    const renewed = await until(c, LEASES, (l) => l.metadata.name === 'sim-node-0' && Number(l.metadata.resourceVersion) > Number(first.metadata.resourceVersion), 'a renewal of sim-node-0');
    assert.equal((renewed.spec as Obj).holderIdentity, 'sim-node-0');
    assert.ok(c.actions.some((a) => a.verb === 'update' && a.resource === 'leases' && a.name === 'sim-node-0'));
  } finally {
    await sim.stop();
  }
});

test('a bound pod runs with an address from its node’s /24 and kubelet events; pods on other nodes are left alone', async () => {
  const c = new FakeClient();
  const sim = new SimulatedNodes(c, { count: 2, log: () => {} });
  try {
    await sim.start();
    c.seed('pods', pod('web', 'sim-node-1'));
    c.seed('pods', pod('elsewhere', 'real-node'));
    c.seed('pods', pod('web-2', 'sim-node-1'));
    const p = await until(c, PODS, phaseIs('web', 'Running'), 'web Running');
    const p2 = await until(c, PODS, phaseIs('web-2', 'Running'), 'web-2 Running');
    const s = p.status as Obj;
    assert.match(s.podIP, /^10\.244\.1\.\d+$/);
    assert.notEqual(s.podIP, (p2.status as Obj).podIP, 'distinct addresses');
    assert.equal(s.hostIP, '10.240.0.2');
    assert.equal(s.containerStatuses[0].ready, true);
    assert.ok(c.actions.some((a) => a.verb === 'patch' && a.resource === 'pods' && a.subresource === 'status' && a.name === 'web'));
    const events = await until(c, { group: '', version: 'v1', resource: 'events', namespaced: true }, (e) => (e.involvedObject as Obj).name === 'web' && e.reason === 'Started', 'Started event');
    assert.deepEqual(events.source, { component: 'kubelet', host: 'sim-node-1' });
    assert.equal((events.involvedObject as Obj).fieldPath, 'spec.containers{main}');
    assert.equal((c.peek('pods', 'default', 'elsewhere')!.status as Obj).phase, 'Pending');
    assert.ok(!c.actions.some((a) => a.resource === 'pods' && a.name === 'elsewhere' && a.verb !== 'get'));
  } finally {
    await sim.stop();
  }
});

test('a run-to-completion pod ends Succeeded', async () => {
  const c = new FakeClient();
  const sim = new SimulatedNodes(c, { count: 1, events: false, log: () => {} });
  try {
    await sim.start();
    c.seed('pods', pod('job', 'sim-node-0', { restartPolicy: 'Never', annotations: { 'sim.k8ts.io/run-seconds': '0' } }));
    const p = await until(c, PODS, phaseIs('job', 'Succeeded'), 'job Succeeded');
    assert.equal((p.status as Obj).containerStatuses[0].state.terminated.reason, 'Completed');
  } finally {
    await sim.stop();
  }
});

/** A fake that also tells the test about deletions it receives (with their options). */
class DeleteWatchingFake extends FakeClient {
  readonly deletes: Array<{ name: string; opts: DeleteOptions | undefined }> = [];
  private waiter: (() => void) | undefined;
  override async delete(r: Resource, ns: string | undefined, name: string, opts?: DeleteOptions): Promise<unknown> {
    const out = await super.delete(r, ns, name, opts);
    this.deletes.push({ name, opts });
    this.waiter?.();
    return out;
  }
  async nextDelete(n: number): Promise<void> {
    while (this.deletes.length < n) await new Promise<void>((r) => (this.waiter = r));
  }
}

test('a deleted pod is stopped (Killing), reported terminated, then deleted with grace 0 and its uid', async () => {
  const c = new DeleteWatchingFake();
  const sim = new SimulatedNodes(c, { count: 1, stopMs: 10, log: () => {} });
  const release = holdEventLoop();
  try {
    await sim.start();
    const p = pod('doomed', 'sim-node-0');
    p.metadata.finalizers = ['example.com/hold']; // keeps the object visible after the deletes, to inspect it
    c.seed('pods', p);
    const running = await until(c, PODS, phaseIs('doomed', 'Running'), 'doomed Running');
    await c.delete(PODS, 'default', 'doomed'); // as `kubectl delete pod`: the object gets a deletionTimestamp
    await c.nextDelete(2);
    assert.deepEqual(c.deletes[1], { name: 'doomed', opts: { gracePeriodSeconds: 0, preconditions: { uid: running.metadata.uid } } });
    const writes = c.actions.filter((a) => a.resource === 'pods' && a.name === 'doomed' && (a.verb === 'patch' || a.verb === 'delete')).map((a) => `${a.verb}${a.subresource ? '/' + a.subresource : ''}`);
    assert.deepEqual(writes.slice(-3), ['delete', 'patch/status', 'delete'], 'deletion, then stopped status, then delete with grace 0');
    const s = c.peek('pods', 'default', 'doomed')!.status as Obj;
    assert.equal(s.phase, 'Failed');
    assert.equal(s.containerStatuses[0].state.terminated.exitCode, 143);
    await until(c, { group: '', version: 'v1', resource: 'events', namespaced: true }, (e) => e.reason === 'Killing' && e.message === 'Stopping container main', 'Killing event');
    assert.equal(c.deletes.length, 2, 'deleted once, not again on its own status write');
  } finally {
    release();
    await sim.stop();
  }
});

test('a node annotated down stops renewing its lease and running pods; removing the annotation resumes both', async () => {
  const c = new FakeClient();
  const sim = new SimulatedNodes(c, { count: 1, leaseRenewMs: 20, events: false, log: () => {} });
  const release = holdEventLoop();
  try {
    await sim.start();
    const node = c.peek('nodes', undefined, 'sim-node-0')!;
    await c.patch(NODES, undefined, 'sim-node-0', 'application/merge-patch+json', { metadata: { annotations: { [ANNOTATION_DOWN]: 'true' } } });
    // Once the down annotation has been seen, no further lease write may happen.
    await until(c, NODES, (n) => n.metadata.annotations?.[ANNOTATION_DOWN] === 'true', 'annotation');
    await new Promise<void>((r) => setImmediate(r));
    c.seed('pods', pod('stuck', 'sim-node-0'));
    const leaseWrites = () => c.actions.filter((a) => a.resource === 'leases' && a.verb === 'update').length;
    const before = leaseWrites();
    // A quiet period long enough for several renewals (20 ms) and a pod sync: none must happen.
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(leaseWrites() - before <= 1, `at most one renewal already in flight, saw ${leaseWrites() - before}`);
    assert.equal((c.peek('pods', 'default', 'stuck')!.status as Obj).phase, 'Pending');
    await c.patch(NODES, undefined, 'sim-node-0', 'application/merge-patch+json', { metadata: { annotations: { [ANNOTATION_DOWN]: null } } });
    await until(c, PODS, phaseIs('stuck', 'Running'), 'stuck Running after the node came back');
    assert.ok(node.metadata.uid);
  } finally {
    release();
    await sim.stop();
  }
});

test('after a restart the component adopts the addresses it gave earlier and rewrites nothing that is current', async () => {
  const c = new FakeClient();
  const first = new SimulatedNodes(c, { count: 1, events: false, log: () => {} });
  await first.start();
  c.seed('pods', pod('old', 'sim-node-0'));
  const old = await until(c, PODS, phaseIs('old', 'Running'), 'old Running');
  await first.stop();
  const oldIP = (old.status as Obj).podIP;
  const second = new SimulatedNodes(c, { count: 1, events: false, log: () => {} });
  try {
    const mark = c.actions.length;
    await second.start();
    c.seed('pods', pod('new', 'sim-node-0'));
    const fresh = await until(c, PODS, phaseIs('new', 'Running'), 'new Running');
    assert.notEqual((fresh.status as Obj).podIP, oldIP, 'the old pod keeps its address; the new one gets another');
    assert.ok(!c.actions.slice(mark).some((a) => a.resource === 'pods' && a.name === 'old' && a.verb === 'patch'), 'no write for a pod whose status is current');
  } finally {
    await second.stop();
  }
});

test('node status is re-posted with a fresh heartbeat, keeping lastTransitionTime', async () => {
  const c = new FakeClient();
  const sim = new SimulatedNodes(c, { count: 1, statusReportMs: 1, events: false, log: () => {} });
  const release = holdEventLoop();
  try {
    await sim.start();
    const ready = (n: KubeObject) => ((n.status as Obj).conditions as Obj[]).find((x) => x.type === 'Ready')!;
    const before = ready(c.peek('nodes', undefined, 'sim-node-0')!);
    const after = await until(c, NODES, (n) => ready(n).lastHeartbeatTime !== before.lastHeartbeatTime, 'a heartbeat', 5_000);
    assert.equal(ready(after).lastTransitionTime, before.lastTransitionTime);
    assert.equal(ready(after).status, 'True');
  } finally {
    release();
    await sim.stop();
  }
});
