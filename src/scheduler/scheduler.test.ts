// Scheduler tests on the fake client: binding through pods/binding with a Scheduled event, PodScheduled=False
// with upstream's message and a FailedScheduling event, queue order by priority (PriorityClass too), re-queue
// on node add, other schedulers' pods left alone, assumed pods counted, and preemption of lower priorities.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import type { Pod, PodCondition } from '../api/corev1/types.js';
import { Scheduler, numFeasibleNodesToFind, type SchedulerOptions } from './scheduler.js';
import { FakeClusterClient, makeNode, makePod } from './testing.js';

async function until<T>(what: string, fn: () => T | undefined | false, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function start(c: FakeClusterClient, opts: SchedulerOptions = {}): { s: Scheduler; done: Promise<void> } {
  const s = new Scheduler(c, { statusPatch: 'merge', queue: { initialBackoffMs: 10, maxBackoffMs: 20, flushIntervalMs: 10 }, ...opts });
  const done = s.run();
  return { s, done };
}

const nodeOf = (c: FakeClusterClient, name: string, ns = 'default'): string | undefined => (c.peek('pods', ns, name) as Pod | undefined)?.spec?.nodeName;
const scheduledCond = (c: FakeClusterClient, name: string): PodCondition | undefined => (c.peek('pods', 'default', name) as Pod | undefined)?.status?.conditions?.find((x) => x.type === 'PodScheduled');
const events = (c: FakeClusterClient, reason: string): KubeObject[] => c.all('events').filter((e) => e.reason === reason);

test('binds a pod through pods/binding and records Scheduled', async () => {
  const c = new FakeClusterClient();
  c.seed('nodes', makeNode('n1'));
  c.seed('pods', makePod('web', { cpu: '1' }));
  const { s, done } = start(c);
  await until('binding', () => nodeOf(c, 'web'));
  await s.settle();
  const bind = c.actions.find((a) => a.verb === 'create' && a.resource === 'pods' && a.subresource === 'binding' && a.name === 'web');
  assert.ok(bind, 'POST pods/web/binding');
  const ev = events(c, 'Scheduled');
  assert.equal(ev.length, 1);
  assert.equal(ev[0].message, 'Successfully assigned default/web to n1');
  assert.equal(ev[0].type, 'Normal');
  assert.deepEqual(ev[0].source, { component: 'default-scheduler' });
  assert.equal((ev[0].involvedObject as { kind: string }).kind, 'Pod');
  await s.stop();
  await done;
});

test('an unschedulable pod gets PodScheduled=False and FailedScheduling with upstream wording; a new node fixes it', async () => {
  const c = new FakeClusterClient();
  c.seed('nodes', makeNode('small', { cpu: '1' }));
  c.seed('nodes', makeNode('gpu-a', { labels: { disk: 'hdd' } }));
  c.seed('nodes', makeNode('gpu-b', { labels: { disk: 'hdd' } }));
  c.seed('pods', makePod('big', { cpu: '2', spec: { nodeSelector: { disk: 'ssd' } } }));
  c.seed('pods', makePod('fat', { cpu: '2' }));
  const { s, done } = start(c);
  await until('fat bound', () => nodeOf(c, 'fat'));
  const cond = await until('condition', () => scheduledCond(c, 'big'));
  const want =
    "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'Unschedulable');
  assert.equal(cond.message, want);
  await s.settle();
  const fs = events(c, 'FailedScheduling');
  assert.ok(fs.length >= 1);
  assert.equal(fs[0].type, 'Warning');
  assert.equal(fs[0].message, want);
  assert.equal(nodeOf(c, 'big'), undefined);
  // Retries after backoff give the same answer without rewriting the condition.
  const statusPatches = () => c.actions.filter((a) => a.verb === 'patch' && a.subresource === 'status' && a.name === 'big').length;
  assert.equal(statusPatches(), 1);
  await c.create({ group: '', version: 'v1', resource: 'nodes', namespaced: false }, undefined, makeNode('fast', { labels: { disk: 'ssd' } }));
  assert.equal(await until('big bound', () => nodeOf(c, 'big')), 'fast');
  await s.stop();
  await done;
});

test('counts reasons per node and sorts them as upstream', async () => {
  const c = new FakeClusterClient();
  c.seed('nodes', makeNode('a', { cpu: '1', labels: { zone: 'z1' } }));
  c.seed('nodes', makeNode('b', { labels: { zone: 'z2' } }));
  c.seed('nodes', makeNode('c', { labels: { zone: 'z3' } }));
  c.seed('pods', makePod('p', { cpu: '2', spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] } } } } }));
  const { s, done } = start(c);
  const cond = await until('condition', () => scheduledCond(c, 'p'));
  assert.equal(
    cond.message,
    "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
  );
  await s.stop();
  await done;
});

test('no nodes: "no nodes available to schedule pods", retried when a node registers', async () => {
  const c = new FakeClusterClient();
  c.seed('pods', makePod('lonely'));
  const { s, done } = start(c);
  const cond = await until('condition', () => scheduledCond(c, 'lonely'));
  assert.equal(cond.message, 'no nodes available to schedule pods');
  assert.equal(cond.reason, 'Unschedulable');
  await until('parked until a cluster event', () => s.queue.stats().unschedulable === 1);
  await c.create({ group: '', version: 'v1', resource: 'nodes', namespaced: false }, undefined, makeNode('first'));
  assert.equal(await until('bound once a node registers', () => nodeOf(c, 'lonely')), 'first');
  await s.stop();
  await done;
});

test('pods of another scheduler, bound pods and terminating pods are left alone', async () => {
  const c = new FakeClusterClient();
  c.seed('nodes', makeNode('n1'));
  c.seed('pods', makePod('mine'));
  c.seed('pods', makePod('theirs', { spec: { schedulerName: 'other-scheduler' } }));
  c.seed('pods', makePod('bound', { nodeName: 'n1' }));
  const dying = makePod('dying');
  dying.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
  dying.metadata.finalizers = ['x/y'];
  c.seed('pods', dying);
  const { s, done } = start(c);
  await until('mine bound', () => nodeOf(c, 'mine'));
  await s.settle();
  assert.deepEqual([...c.bindings.keys()], ['default/mine']);
  assert.equal(scheduledCond(c, 'theirs'), undefined);
  await s.stop();
  await done;
});

test('queue order: higher priority first (spec.priority or PriorityClass), then creation time', async () => {
  const c = new FakeClusterClient();
  c.seed('nodes', makeNode('n1', { pods: 2 }));
  c.seed('priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
  c.seed('pods', makePod('old-low', { creationTimestamp: '2024-01-01T00:00:00Z' }));
  c.seed('pods', makePod('new-low', { creationTimestamp: '2024-01-01T00:00:05Z' }));
  const viaClass = makePod('via-class', { creationTimestamp: '2024-01-01T00:00:09Z' });
  delete viaClass.spec!.priority;
  viaClass.spec!.priorityClassName = 'high';
  c.seed('pods', viaClass);
  const { s, done } = start(c);
  await until('two bound', () => c.bindings.size === 2);
  await s.settle();
  assert.deepEqual([...c.bindings.keys()], ['default/via-class', 'default/old-low']);
  const cond = await until('condition', () => scheduledCond(c, 'new-low'));
  assert.match(cond.message!, /^0\/1 nodes are available: 1 Too many pods\./);
  await s.stop();
  await done;
});

test('assumed pods count: two pods that each fill the node do not both land on it', async () => {
  const c = new FakeClusterClient();
  c.seed('nodes', makeNode('n1', { cpu: '2' }));
  c.seed('nodes', makeNode('n2', { cpu: '2' }));
  c.seed('pods', makePod('a', { cpu: '2' }));
  c.seed('pods', makePod('b', { cpu: '2' }));
  c.seed('pods', makePod('c', { cpu: '2' }));
  const { s, done } = start(c);
  await until('two bound', () => c.bindings.size === 2);
  await until('third rejected', () => scheduledCond(c, 'c')?.status === 'False');
  await s.settle();
  assert.notEqual(nodeOf(c, 'a'), nodeOf(c, 'b'));
  assert.match(scheduledCond(c, 'c')!.message!, /^0\/2 nodes are available: 2 Insufficient cpu\. preemption: 0\/2 nodes are available: 2 No preemption victims found for incoming pod\.$/);
  // Deleting a bound pod frees room: the pending one is retried and bound.
  await c.delete({ group: '', version: 'v1', resource: 'pods', namespaced: true }, 'default', 'a');
  await until('c bound', () => nodeOf(c, 'c'));
  await s.stop();
  await done;
});

test('preemption: a high-priority pod evicts the lowest-priority pod and is nominated, then bound', async () => {
  const c = new FakeClusterClient();
  c.seed('nodes', makeNode('n1', { cpu: '2' }));
  c.seed('pods', makePod('low', { cpu: '1', priority: 10, nodeName: 'n1' }));
  c.seed('pods', makePod('mid', { cpu: '1', priority: 50, nodeName: 'n1' }));
  c.seed('pods', makePod('vip', { cpu: '1', priority: 100 }));
  const { s, done } = start(c);
  await until('vip bound', () => nodeOf(c, 'vip'));
  await s.settle();
  assert.equal(c.peek('pods', 'default', 'low'), undefined, 'low evicted');
  assert.ok(c.peek('pods', 'default', 'mid'), 'mid kept');
  const nominated = c.actions.find((a) => a.verb === 'patch' && a.name === 'vip' && a.subresource === 'status');
  assert.equal((nominated?.detail as { status: { nominatedNodeName?: string } }).status.nominatedNodeName, 'n1');
  assert.equal(events(c, 'Preempted').length, 1);
  const marked = c.actions.find((a) => a.verb === 'patch' && a.name === 'low' && a.subresource === 'status');
  const conds = (marked?.detail as { status: { conditions: PodCondition[] } }).status.conditions;
  assert.deepEqual(
    conds.filter((x) => x.type === 'DisruptionTarget').map((x) => [x.status, x.reason, x.message]),
    [['True', 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod']],
  );
  await s.stop();
  await done;
});

test('preemption keeps the freed room for the nominee against lower-priority pending pods', async () => {
  const c = new FakeClusterClient();
  c.seed('nodes', makeNode('n1', { cpu: '2' }));
  c.seed('pods', makePod('low', { cpu: '2', priority: 10, nodeName: 'n1' }));
  c.seed('pods', makePod('thief', { cpu: '2', priority: 5, creationTimestamp: '2024-01-01T00:00:00Z' }));
  c.seed('pods', makePod('vip', { cpu: '2', priority: 100, creationTimestamp: '2024-01-01T00:00:01Z' }));
  const { s, done } = start(c, { queue: { initialBackoffMs: 200, maxBackoffMs: 200, flushIntervalMs: 10 } });
  assert.equal(await until('vip bound', () => nodeOf(c, 'vip'), 5000), 'n1');
  await s.settle();
  assert.ok(c.peek('pods', 'default', 'thief'), 'thief never bound, so never preempted in turn');
  assert.equal(nodeOf(c, 'thief'), undefined);
  assert.equal(c.bindings.has('default/thief'), false);
  assert.deepEqual(events(c, 'Preempted').map((e) => (e.involvedObject as { name: string }).name), ['low']);
  await s.stop();
  await done;
});

test('preemptionPolicy Never: not eligible, with upstream message', async () => {
  const c = new FakeClusterClient();
  c.seed('nodes', makeNode('n1', { cpu: '1' }));
  c.seed('pods', makePod('low', { cpu: '1', priority: 10, nodeName: 'n1' }));
  c.seed('pods', makePod('polite', { cpu: '1', priority: 100, spec: { preemptionPolicy: 'Never' } }));
  const { s, done } = start(c);
  const cond = await until('condition', () => scheduledCond(c, 'polite'));
  assert.equal(cond.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
  assert.ok(c.peek('pods', 'default', 'low'));
  await s.stop();
  await done;
});

test('numFeasibleNodesToFind follows the adaptive percentage', () => {
  assert.equal(numFeasibleNodesToFind(50), 50);
  assert.equal(numFeasibleNodesToFind(100), 100);
  assert.equal(numFeasibleNodesToFind(1000), 420);
  assert.equal(numFeasibleNodesToFind(5000), 500);
  assert.equal(numFeasibleNodesToFind(10000), 500);
});

test('stop() ends run() even when the caches never fill', async () => {
  const c = new FakeClusterClient();
  c.failures.set('list pods', new (await import('../client/interface.js')).ApiError(503, 'ServiceUnavailable', 'down'));
  const s = new Scheduler(c, { statusPatch: 'merge' });
  const done = s.run();
  await until('list attempted', () => c.actionsOf('list').some((a) => a.resource === 'pods'));
  await s.stop();
  await done;
});
