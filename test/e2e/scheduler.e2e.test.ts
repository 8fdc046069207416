// End-to-end: the scheduler run by `k8ts server` — Node objects created with kubectl (status.allocatable set on
// create), pods bound by nodeSelector and resources (NODE column, Scheduled event), an unschedulable pod left
// Pending with upstream's FailedScheduling message, re-queued and bound when a fitting node appears, and pods of
// another scheduler left alone, and preemption by a pod whose PriorityClass outranks the node's occupant.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, podObject, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

after(async () => {
  await srv?.stop();
});

function node(name: string, cpu: string, memory: string, labels: Record<string, string>): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const res = { cpu, memory, pods: '110', 'ephemeral-storage': '50Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: {
      capacity: res,
      allocatable: res,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'e2e node', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  };
}

interface PodOpts {
  cpu?: string;
  nodeSelector?: Record<string, string>;
  schedulerName?: string;
  spec?: Record<string, unknown>;
}

function pod(name: string, o: PodOpts = {}): Record<string, unknown> {
  const p = podObject(name, { containers: [{ name: 'main', image: 'busybox:1.36', ...(o.cpu ? { resources: { requests: { cpu: o.cpu } } } : {}) }] }) as { spec: Record<string, unknown> };
  if (o.nodeSelector) p.spec.nodeSelector = o.nodeSelector;
  if (o.schedulerName) p.spec.schedulerName = o.schedulerName;
  Object.assign(p.spec, o.spec);
  return p;
}

async function row(k: Kubectl, name: string): Promise<Record<string, string>> {
  const t = parseTable((await k.ok(['get', 'pod', name, '-o', 'wide'])).stdout);
  return t.rows[0] as Record<string, string>;
}

const boundTo = (k: Kubectl, name: string): Promise<string> =>
  eventually(async () => {
    const n = (await row(k, name)).NODE;
    return n !== '<none>' && n;
  }, 15_000, `pod ${name} bound${srv.logTail()}`);

before(async () => {
  // Its hand-made Nodes post no heartbeats: keep node lifecycle from judging them Unknown mid-file.
  srv = await Server.start({ extraArgs: ['--node-monitor-grace-period', '10m'] });
  const admin = srv.client();
  await admin.ok(['create', '-f', '-'], {
    stdin: docs(node('e2e-small', '1', '2Gi', { disk: 'hdd' }), node('e2e-ssd', '4', '8Gi', { disk: 'ssd' }), node('e2e-big', '8', '16Gi', { disk: 'hdd' })),
  });
  const alloc = (await admin.ok(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.allocatable.cpu} {end}'])).stdout;
  assert.equal(alloc.trim(), 'e2e-big=8 e2e-small=1 e2e-ssd=4', 'allocatable kept from create');
});

test('pods are bound respecting nodeSelector and requests; Scheduled event from default-scheduler', async () => {
  const k = await withNamespace(srv, 'e2e-sched-bind');
  await k.ok(['create', '-f', '-'], { stdin: docs(pod('fast-disk', { nodeSelector: { disk: 'ssd' } }), pod('hungry', { cpu: '6' })) });
  assert.equal(await boundTo(k, 'fast-disk'), 'e2e-ssd');
  assert.equal(await boundTo(k, 'hungry'), 'e2e-big');
  const cond = (await k.ok(['get', 'pod', 'hungry', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}'])).stdout;
  assert.equal(cond, 'True');
  const out = await eventually(async () => {
    const d = (await k.ok(['describe', 'pod', 'hungry'])).stdout;
    return /Scheduled/.test(d) && d;
  }, 10_000, 'Scheduled event');
  assert.match(out, new RegExp(`Normal\\s+Scheduled\\s+\\S+\\s+default-scheduler\\s+Successfully assigned ${k.namespace}/hungry to e2e-big\\n`));
  assert.match(out, /^Node:\s+e2e-big\//m);
});

test('an unschedulable pod stays Pending with upstream FailedScheduling message, then binds when a node fits', async () => {
  const k = await withNamespace(srv, 'e2e-sched-fail');
  await k.ok(['create', '-f', '-'], { stdin: docs(pod('too-big', { cpu: '10', nodeSelector: { disk: 'hdd' } })) });
  const want =
    "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
  const describe = await eventually(async () => {
    const d = (await k.ok(['describe', 'pod', 'too-big'])).stdout;
    return /FailedScheduling/.test(d) && d;
  }, 15_000, `FailedScheduling event${srv.logTail()}`);
  const line = describe.split('\n').find((l) => l.includes('FailedScheduling'))!;
  assert.match(line, /^\s+Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+/);
  assert.equal(line.replace(/^\s+Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+/, ''), want);
  assert.equal((await row(k, 'too-big')).STATUS, 'Pending');
  const cond = await eventually(async () => {
    const c = (await k.ok(['get', 'pod', 'too-big', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")]}'])).stdout;
    return c ? (JSON.parse(c) as Record<string, string>) : undefined;
  }, 10_000, 'PodScheduled condition');
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'Unschedulable');
  assert.equal(cond.message, want);

  // A node that fits (cluster event NodeAdd) re-queues the pod.
  await srv.client().ok(['create', '-f', '-'], { stdin: docs(node('e2e-huge', '16', '32Gi', { disk: 'hdd' })) });
  assert.equal(await boundTo(k, 'too-big'), 'e2e-huge');
});

test('pods naming another scheduler are left alone', async () => {
  const k = await withNamespace(srv, 'e2e-sched-other');
  await k.ok(['create', '-f', '-'], { stdin: docs(pod('theirs', { schedulerName: 'my-scheduler' }), pod('ours')) });
  await boundTo(k, 'ours');
  // "ours" was created after "theirs" and is bound: the scheduler has seen both.
  const r = await row(k, 'theirs');
  assert.equal(r.NODE, '<none>');
  assert.equal(r.STATUS, 'Pending');
  assert.equal((await k.ok(['get', 'pod', 'theirs', '-o', 'jsonpath={.status.conditions}'])).stdout, '');
  assert.equal((await k.ok(['get', 'events', '--field-selector', 'involvedObject.name=theirs', '-o', 'name'])).stdout, '');
});

test('preemption: a pod of a higher PriorityClass evicts the lower-priority pod on the only node it may use', async () => {
  const k = await withNamespace(srv, 'e2e-sched-preempt');
  const dedicated = { key: 'dedicated', value: 'prio', effect: 'NoSchedule' };
  const taintedNode = node('e2e-prio', '2', '4Gi', { pool: 'prio' }) as { spec?: Record<string, unknown> };
  taintedNode.spec = { taints: [dedicated] };
  await srv.client().ok(['create', '-f', '-'], {
    stdin: docs(taintedNode, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'e2e-high' }, value: 1000 }),
  });
  const only = { nodeSelector: { pool: 'prio' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'prio', effect: 'NoSchedule' }] };
  // Grace 0: with no kubelet to finish a graceful deletion, the victim must go at once.
  await k.ok(['create', '-f', '-'], { stdin: docs(pod('occupant', { cpu: '2', spec: { ...only, terminationGracePeriodSeconds: 0 } })) });
  assert.equal(await boundTo(k, 'occupant'), 'e2e-prio');
  await k.ok(['create', '-f', '-'], { stdin: docs(pod('important', { cpu: '2', spec: { ...only, priorityClassName: 'e2e-high' } })) });
  assert.equal(await boundTo(k, 'important'), 'e2e-prio');
  const gone = await k.run(['get', 'pod', 'occupant']);
  assert.match(gone.stderr, /NotFound/);
  const reasons = (await k.ok(['get', 'events', '-o', 'jsonpath={range .items[*]}{.involvedObject.name}/{.reason}{"\\n"}{end}'])).stdout.trim().split('\n');
  assert.ok(reasons.includes('occupant/Preempted'), reasons.join(' '));
  assert.ok(reasons.includes('important/FailedScheduling'), reasons.join(' '));
  assert.ok(reasons.includes('important/Scheduled'), reasons.join(' '));
});
