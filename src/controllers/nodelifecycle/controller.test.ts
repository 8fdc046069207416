// Node lifecycle controller on the fake client, with a hand-driven clock: health from Lease and heartbeat, the
// Unknown conditions and their wording, NoSchedule/NoExecute taints on and off, pods marked not Ready, node
// events, per-zone rate limiting and the full-disruption stop; then one run() against real timers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { NodeLifecycleController, nodeCondition, type NodeLifecycleOptions } from './controller.js';
import { taintsOf } from './taints.js';
import { rfc3339 } from '../../api/time.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const settle = () => new Promise((r) => setImmediate(r));

function node(name: string, o: { ready?: string; heartbeat?: number; labels?: Record<string, string>; taints?: unknown[]; unschedulable?: boolean; noStatus?: boolean } = {}): KubeObject {
  const hb = rfc3339(o.heartbeat ?? T0);
  const c = (type: string, status: string) => ({ type, status, lastHeartbeatTime: hb, lastTransitionTime: rfc3339(T0 - 60_000), reason: `Kubelet${type}`, message: `kubelet says ${type}` });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: o.labels ?? {}, creationTimestamp: rfc3339(T0 - 3_600_000) },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: o.noStatus ? {} : { conditions: [c('MemoryPressure', 'False'), c('DiskPressure', 'False'), c('PIDPressure', 'False'), c('Ready', o.ready ?? 'True')] },
  };
}

const lease = (name: string, renew: number): KubeObject => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name, namespace: 'kube-node-lease' },
  spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(renew).toISOString().replace('Z', '000Z') },
});

function runningPod(name: string, nodeName: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, containers: [{ name: 'c', image: 'x' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(T0 - 60_000) }] },
  };
}

interface Rig {
  c: FakeClient;
  nlc: NodeLifecycleController;
  clock: { t: number };
  sync(name: string): Promise<void>;
  node(name: string): KubeObject;
  taints(name: string): string[];
  events(): string[];
}

async function rig(seed: (c: FakeClient) => void, opts: NodeLifecycleOptions = {}): Promise<Rig> {
  const c = new FakeClient();
  seed(c);
  const clock = { t: T0 };
  const nlc = new NodeLifecycleController(c, { now: () => clock.t, ...opts });
  nlc.nodes.start();
  nlc.leases.start();
  nlc.pods.start();
  await Promise.all([nlc.nodes.hasSynced, nlc.leases.hasSynced, nlc.pods.hasSynced]);
  return {
    c,
    nlc,
    clock,
    async sync(name) {
      await nlc.syncNode(name);
      await settle();
    },
    node: (name) => c.peek('nodes', undefined, name)!,
    taints: (name) => taintsOf(c.peek('nodes', undefined, name)!).map((t) => `${t.key}:${t.effect}`),
    events: () => c.all('events').map((e) => `${(e.involvedObject as { kind: string; name: string }).kind}/${(e.involvedObject as { name: string }).name} ${e.type} ${e.reason}: ${e.message}`),
  };
}

async function stop(r: Rig): Promise<void> {
  await r.nlc.stop();
}

test('a node renewing its Lease stays healthy; first sight records RegisteredNode', async () => {
  const r = await rig((c) => {
    c.seed('nodes', node('n1'));
    c.seed('leases', lease('n1', T0));
  });
  await r.sync('n1');
  for (let i = 1; i <= 6; i++) {
    r.clock.t = T0 + i * 10_000;
    const l = r.c.peek('leases', 'kube-node-lease', 'n1')!;
    await r.c.update({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true }, 'kube-node-lease', { ...l, spec: { ...(l.spec as object), renewTime: new Date(r.clock.t).toISOString() } });
    await settle();
    await r.sync('n1');
  }
  assert.equal(nodeCondition(r.node('n1'), 'Ready')?.status, 'True');
  assert.deepEqual(r.c.actions.filter((a) => a.resource === 'nodes' && a.verb !== 'get' && a.verb !== 'list' && a.verb !== 'watch'), []);
  await r.nlc.recorder.flush();
  assert.deepEqual(r.events(), ['Node/n1 Normal RegisteredNode: Node n1 event: Registered Node n1 in Controller']);
  await stop(r);
});

test('past the grace period: conditions Unknown with upstream wording, pods not Ready, taints; back to healthy removes them', async () => {
  const r = await rig((c) => {
    c.seed('nodes', node('n1'));
    c.seed('leases', lease('n1', T0));
    c.seed('nodes', node('n2'));
    c.seed('leases', lease('n2', T0));
    c.seed('pods', runningPod('web', 'n1'));
    c.seed('pods', runningPod('other', 'n2'));
  });
  // n2 is seen healthy once, so the zone is not fully disrupted when n1 goes (that would stop tainting).
  await r.sync('n2');
  await r.sync('n1');
  r.clock.t = T0 + 40_000;
  await r.sync('n1');
  assert.equal(nodeCondition(r.node('n1'), 'Ready')?.status, 'True', 'exactly at the grace period it is still fine');
  r.clock.t = T0 + 40_001;
  await r.sync('n1');
  const n = r.node('n1');
  for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
    const cond = nodeCondition(n, type)!;
    assert.equal(cond.status, 'Unknown', type);
    assert.equal(cond.reason, 'NodeStatusUnknown');
    assert.equal(cond.message, 'Kubelet stopped posting node status.');
    assert.equal(cond.lastHeartbeatTime, rfc3339(T0), 'the heartbeat is left as the kubelet wrote it');
    assert.equal(cond.lastTransitionTime, rfc3339(T0 + 40_001));
  }
  assert.equal(r.c.actionsOf('update').filter((a) => a.resource === 'nodes' && a.subresource === 'status').length, 1);
  assert.deepEqual(r.taints('n1'), ['node.kubernetes.io/unreachable:NoSchedule']);
  const web = r.c.peek('pods', 'default', 'web')!;
  assert.deepEqual((web.status as { conditions: unknown[] }).conditions, [{ type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: rfc3339(T0 + 40_001) }]);
  assert.equal(((r.c.peek('pods', 'default', 'other')!.status as { conditions: Array<{ status: string }> }).conditions[0]!).status, 'True');

  // The node update it caused: queued for the NoExecute taint, which the rate-limited pass adds.
  await r.sync('n1');
  assert.deepEqual(r.taints('n1'), ['node.kubernetes.io/unreachable:NoSchedule']);
  await r.nlc.taintPass();
  await settle();
  assert.deepEqual(r.taints('n1'), ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  assert.equal(taintsOf(r.node('n1'))[1]!.timeAdded, rfc3339(r.clock.t));
  await r.sync('n1');
  assert.equal(r.c.actionsOf('update').filter((a) => a.subresource === 'status').length, 2, 'one node status write and one pod write, no more');

  await r.nlc.recorder.flush();
  assert.deepEqual(r.events(), [
    'Node/n2 Normal RegisteredNode: Node n2 event: Registered Node n2 in Controller',
    'Node/n1 Normal RegisteredNode: Node n1 event: Registered Node n1 in Controller',
    'Node/n1 Normal NodeNotReady: Node n1 status is now: NodeNotReady',
    'Pod/web Warning NodeNotReady: Node is not ready',
  ]);

  // The kubelet is back: Lease renewed, Ready posted with a fresh heartbeat.
  r.clock.t = T0 + 60_000;
  const cur = r.node('n1');
  const fresh = node('n1', { heartbeat: r.clock.t });
  await r.c.update({ group: '', version: 'v1', resource: 'nodes', namespaced: false }, undefined, { ...cur, status: fresh.status }, 'status');
  await settle();
  await r.sync('n1');
  assert.deepEqual(r.taints('n1'), []);
  assert.equal(nodeCondition(r.node('n1'), 'Ready')?.status, 'True');
  await stop(r);
});

test('Ready=False from the kubelet: not-ready taints; an unreachable NoExecute taint is swapped at once', async () => {
  const r = await rig((c) => {
    c.seed('nodes', node('n1', { ready: 'False', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: rfc3339(T0) }] }));
    c.seed('nodes', node('n2', { ready: 'False' }));
    c.seed('nodes', node('n3'));
    c.seed('nodes', node('n4'));
    c.seed('nodes', node('n5'));
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5']) c.seed('leases', lease(n, T0));
  });
  // First sight removes the NoExecute taints (markNodeAsReachable), as upstream on every controller start.
  for (const n of ['n3', 'n4', 'n5', 'n1', 'n2']) await r.sync(n);
  assert.deepEqual(r.taints('n1'), ['node.kubernetes.io/not-ready:NoSchedule']);
  await r.nlc.taintPass();
  await settle();
  // One token per zone: n1 first; n2 waits ten seconds (0.1 nodes/s).
  assert.deepEqual(r.taints('n1'), ['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
  assert.deepEqual(r.taints('n2'), ['node.kubernetes.io/not-ready:NoSchedule']);
  r.clock.t = T0 + 5_000;
  await r.nlc.taintPass();
  await settle();
  assert.deepEqual(r.taints('n2'), ['node.kubernetes.io/not-ready:NoSchedule']);
  r.clock.t = T0 + 10_000;
  await r.nlc.taintPass();
  await settle();
  assert.deepEqual(r.taints('n2'), ['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);

  // The same node going unreachable: the controller swaps the NoExecute taint itself, without the queue.
  r.clock.t = T0 + 41_000;
  await r.sync('n1');
  await r.sync('n1');
  assert.deepEqual(r.taints('n1').sort(), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
  await stop(r);
});

test('conditions and cordon map to NoSchedule taints (TaintNodesByCondition)', async () => {
  const n = node('n1', { unschedulable: true, taints: [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }, { key: 'dedicated', value: 'x', effect: 'NoSchedule' }] });
  (n.status as { conditions: Array<{ type: string; status: string }> }).conditions.find((c) => c.type === 'MemoryPressure')!.status = 'True';
  const r = await rig((c) => {
    c.seed('nodes', n);
    c.seed('leases', lease('n1', T0));
  });
  await r.sync('n1');
  assert.deepEqual(r.taints('n1'), ['dedicated:NoSchedule', 'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule']);
  await stop(r);
});

test('every node down is a full disruption: no NoExecute taints until one node is back', async () => {
  const r = await rig((c) => {
    for (const n of ['a', 'b']) {
      c.seed('nodes', node(n));
      c.seed('leases', lease(n, T0));
    }
  });
  await r.sync('a');
  await r.sync('b');
  r.clock.t = T0 + 50_000;
  await r.sync('a');
  await r.sync('b');
  await r.sync('a');
  await r.sync('b');
  await r.nlc.taintPass();
  await settle();
  assert.deepEqual(r.taints('a'), ['node.kubernetes.io/unreachable:NoSchedule']);
  assert.deepEqual(r.taints('b'), ['node.kubernetes.io/unreachable:NoSchedule']);
  assert.equal(r.nlc.zoneStates.get(''), 'FullDisruption');
  // a comes back: tainting resumes, b (still Unknown) once the zone's limiter has a token again (the swap from a
  // stopped limiter starts the new one drained, as upstream's SwapLimiter).
  r.clock.t = T0 + 60_000;
  const cur = r.node('a');
  await r.c.update({ group: '', version: 'v1', resource: 'nodes', namespaced: false }, undefined, { ...cur, status: node('a', { heartbeat: r.clock.t }).status }, 'status');
  await settle();
  await r.sync('a');
  assert.equal(r.nlc.zoneStates.get(''), 'Normal');
  await r.sync('b');
  await r.nlc.taintPass();
  await settle();
  assert.deepEqual(r.taints('b'), ['node.kubernetes.io/unreachable:NoSchedule']);
  r.clock.t = T0 + 70_000;
  await r.nlc.taintPass();
  await settle();
  assert.deepEqual(r.taints('b'), ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  assert.deepEqual(r.taints('a'), []);
  await stop(r);
});

test('a node that never posted status gets NodeStatusNeverUpdated conditions after the start-up grace', async () => {
  const r = await rig((c) => c.seed('nodes', node('n1', { noStatus: true })));
  r.clock.t = T0 - 3_600_000 + 60_001;
  await r.sync('n1');
  const ready = nodeCondition(r.node('n1'), 'Ready')!;
  assert.equal(ready.status, 'Unknown');
  assert.equal(ready.reason, 'NodeStatusNeverUpdated');
  assert.equal(ready.message, 'Kubelet never posted node status.');
  assert.equal(ready.lastHeartbeatTime, rfc3339(T0 - 3_600_000));
  assert.equal(nodeCondition(r.node('n1'), 'PIDPressure')?.status, 'Unknown');
  await stop(r);
});

test('a pod bound to a not-Ready node is marked not Ready; a deleted node records RemovingNode', async () => {
  const r = await rig((c) => {
    c.seed('nodes', node('n1', { ready: 'False' }));
    c.seed('leases', lease('n1', T0));
  });
  await r.sync('n1');
  await r.c.create({ group: '', version: 'v1', resource: 'pods', namespaced: true }, 'default', runningPod('late', 'n1'));
  await settle();
  await r.nlc.syncPod('default/late');
  assert.equal(((r.c.peek('pods', 'default', 'late')!.status as { conditions: Array<{ status: string }> }).conditions[0]!).status, 'False');
  await r.c.delete({ group: '', version: 'v1', resource: 'nodes', namespaced: false }, undefined, 'n1');
  await settle();
  await r.sync('n1');
  await r.nlc.recorder.flush();
  assert.ok(r.events().includes('Node/n1 Normal RemovingNode: Node n1 event: Removing Node n1 from Controller'), r.events().join('\n'));
  assert.ok(r.events().includes('Pod/late Warning NodeNotReady: Node is not ready'));
  await stop(r);
});

test('run(): a silent node turns Unknown and is tainted NoExecute on time, without polling', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('n1', { heartbeat: Date.now() }));
  c.seed('nodes', node('n2', { heartbeat: Date.now() }));
  c.seed('leases', lease('n1', Date.now()));
  c.seed('leases', lease('n2', Date.now()));
  const nlc = new NodeLifecycleController(c, { nodeMonitorGracePeriodMs: 300, taintPassMs: 20 });
  const done = nlc.run();
  // n2 keeps renewing; n1 is silent.
  const renew = setInterval(() => {
    const l = c.peek('leases', 'kube-node-lease', 'n2')!;
    void c.update({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true }, 'kube-node-lease', { ...l, spec: { ...(l.spec as object), renewTime: new Date().toISOString() } });
  }, 50);
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && !taintsOf(c.peek('nodes', undefined, 'n1')!).some((t) => t.effect === 'NoExecute')) await new Promise((r) => setTimeout(r, 20));
  clearInterval(renew);
  assert.equal(nodeCondition(c.peek('nodes', undefined, 'n1')!, 'Ready')?.status, 'Unknown');
  assert.deepEqual(taintsOf(c.peek('nodes', undefined, 'n1')!).map((t) => `${t.key}:${t.effect}`).sort(), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
  assert.equal(nodeCondition(c.peek('nodes', undefined, 'n2')!, 'Ready')?.status, 'True');
  assert.deepEqual(taintsOf(c.peek('nodes', undefined, 'n2')!), []);
  await nlc.stop();
  await done;
});
