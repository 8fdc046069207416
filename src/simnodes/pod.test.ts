// The simulated pod lifecycle as a table of (pod, time) → next status: start, readiness, run-to-completion by
// restartPolicy, crash back-off, ContainerCreating, deletion; plus image normalisation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { crashBackoffMs, equal, imageID, killingEvents, normalizeImage, planPod, stoppedStatus, type PodContext } from './pod.js';

type Obj = Record<string, any>;

const T0 = Date.parse('2026-01-01T00:00:00Z');
const ctx = (now: number): PodContext => ({ now, hostIP: '10.240.0.1', podIP: () => '10.244.0.7', backoffBaseMs: 10_000 });

function pod(annotations: Record<string, string> = {}, spec: Obj = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u-1', resourceVersion: '5', annotations },
    spec: { nodeName: 'sim-node-0', restartPolicy: 'Always', containers: [{ name: 'main', image: 'busybox:1.36' }], ...spec },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

/** Applies plans until time `until`, following each plan's wake-up; returns the final pod and every event reason. */
function runTo(p: KubeObject, until: number, from = T0): { pod: KubeObject; reasons: string[]; writes: number } {
  let now = from;
  const reasons: string[] = [];
  let writes = 0;
  for (let i = 0; i < 100; i++) {
    const plan = planPod(p, ctx(now));
    if (plan.status) {
      p = { ...p, status: plan.status };
      writes++;
    }
    reasons.push(...plan.events.map((e) => e.reason));
    if (plan.wakeInMs === undefined || now + plan.wakeInMs > until) break;
    now += Math.max(plan.wakeInMs, 1);
  }
  return { pod: p, reasons, writes };
}

const st = (p: KubeObject): Obj => p.status as Obj;
const cond = (p: KubeObject, type: string): string | undefined => st(p).conditions?.find((c: Obj) => c.type === type)?.status;

test('a pending pod starts Running and Ready with the kubelet status shape and Pulled/Created/Started events', () => {
  const plan = planPod(pod(), ctx(T0));
  const s = plan.status as Obj;
  assert.equal(s.phase, 'Running');
  assert.equal(s.qosClass, 'BestEffort', 'qosClass kept');
  assert.equal(s.podIP, '10.244.0.7');
  assert.deepEqual(s.podIPs, [{ ip: '10.244.0.7' }]);
  assert.equal(s.hostIP, '10.240.0.1');
  assert.deepEqual(s.hostIPs, [{ ip: '10.240.0.1' }]);
  assert.equal(s.startTime, '2026-01-01T00:00:00Z');
  assert.deepEqual(
    s.conditions.map((c: Obj) => `${c.type}=${c.status}`),
    ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
  );
  const cs = s.containerStatuses[0];
  assert.equal(cs.name, 'main');
  assert.equal(cs.ready, true);
  assert.equal(cs.started, true);
  assert.equal(cs.restartCount, 0);
  assert.equal(cs.image, 'docker.io/library/busybox:1.36');
  assert.match(cs.imageID, /^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
  assert.match(cs.containerID, /^sim:\/\/[0-9a-f]{64}$/);
  assert.deepEqual(cs.state, { running: { startedAt: '2026-01-01T00:00:00Z' } });
  assert.deepEqual(
    plan.events.map((e) => `${e.reason} ${e.fieldPath}: ${e.message}`),
    ['Pulled spec.containers{main}: Container image "busybox:1.36" already present on machine', 'Created spec.containers{main}: Created container: main', 'Started spec.containers{main}: Started container main'],
  );
  assert.equal(plan.wakeInMs, undefined, 'nothing more to do for a pod that runs forever');
  // Level-triggered: the same pod at a later time needs no write.
  assert.equal(planPod({ ...pod(), status: s }, ctx(T0 + 60_000)).status, undefined);
});

test('the scheduler’s PodScheduled condition and foreign conditions are kept', () => {
  const p = pod();
  (p.status as Obj).conditions = [
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-12-31T23:59:00Z' },
    { type: 'example.com/gate', status: 'True' },
  ];
  const s = planPod(p, ctx(T0)).status as Obj;
  assert.deepEqual(s.conditions.find((c: Obj) => c.type === 'PodScheduled').lastTransitionTime, '2025-12-31T23:59:00Z');
  assert.equal(s.conditions.at(-1).type, 'example.com/gate');
});

test('hostNetwork pods get the node address; init containers complete and sidecars run', () => {
  const s = planPod(
    pod({}, { hostNetwork: true, initContainers: [{ name: 'setup', image: 'busybox' }, { name: 'proxy', image: 'envoy:1', restartPolicy: 'Always' }] }),
    ctx(T0),
  ).status as Obj;
  assert.equal(s.podIP, '10.240.0.1');
  assert.equal(s.initContainerStatuses[0].state.terminated.reason, 'Completed');
  assert.equal(s.initContainerStatuses[0].state.terminated.exitCode, 0);
  assert.ok(s.initContainerStatuses[1].state.running);
  assert.equal(s.initContainerStatuses[1].ready, true);
});

test('readiness: ready-seconds delays Ready, "never" keeps it False', () => {
  const late = runTo(pod({ 'sim.k8ts.io/ready-seconds': '5' }), T0 + 4_000);
  assert.equal(cond(late.pod, 'Ready'), 'False');
  assert.equal(st(late.pod).conditions.find((c: Obj) => c.type === 'Ready').message, 'containers with unready status: [main]');
  assert.equal(st(late.pod).phase, 'Running');
  assert.equal(cond(runTo(pod({ 'sim.k8ts.io/ready-seconds': '5' }), T0 + 5_000).pod, 'Ready'), 'True');
  const never = runTo(pod({ 'sim.k8ts.io/ready-seconds': 'never' }), T0 + 3600_000);
  assert.equal(cond(never.pod, 'Ready'), 'False');
  assert.equal(never.writes, 1);
});

test('start-seconds: Pending in ContainerCreating, then Running', () => {
  const first = planPod(pod({ 'sim.k8ts.io/start-seconds': '3' }), ctx(T0));
  const s = first.status as Obj;
  assert.equal(s.phase, 'Pending');
  assert.equal(s.podIP, undefined);
  assert.deepEqual(s.containerStatuses[0].state, { waiting: { reason: 'ContainerCreating' } });
  assert.equal(first.wakeInMs, 3_000);
  assert.deepEqual(first.events, []);
  const later = runTo(pod({ 'sim.k8ts.io/start-seconds': '3' }), T0 + 3_000);
  assert.equal(st(later.pod).phase, 'Running');
  assert.equal(st(later.pod).startTime, '2026-01-01T00:00:00Z');
  assert.deepEqual(later.reasons, ['Pulled', 'Created', 'Started']);
});

const completionCases: Array<{ name: string; restartPolicy: string; exit: string; phase: string; reason?: string; restarts?: number }> = [
  { name: 'Never, exit 0 → Succeeded/Completed', restartPolicy: 'Never', exit: '0', phase: 'Succeeded', reason: 'Completed' },
  { name: 'Never, exit 3 → Failed/Error', restartPolicy: 'Never', exit: '3', phase: 'Failed', reason: 'Error' },
  { name: 'OnFailure, exit 0 → Succeeded', restartPolicy: 'OnFailure', exit: '0', phase: 'Succeeded', reason: 'Completed' },
  { name: 'OnFailure, exit 1 → restarted, Running', restartPolicy: 'OnFailure', exit: '1', phase: 'Running', restarts: 1 },
  { name: 'Always, exit 0 → restarted, Running', restartPolicy: 'Always', exit: '0', phase: 'Running', restarts: 1 },
];

for (const c of completionCases) {
  test(`run-seconds: ${c.name}`, () => {
    const p = pod({ 'sim.k8ts.io/run-seconds': '5', 'sim.k8ts.io/exit-code': c.exit }, { restartPolicy: c.restartPolicy });
    const before = runTo(p, T0 + 4_999);
    assert.equal(st(before.pod).phase, 'Running');
    const r = runTo(p, T0 + 5_000);
    const s = st(r.pod);
    assert.equal(s.phase, c.phase);
    const cs = s.containerStatuses[0];
    if (c.reason) {
      assert.equal(cs.state.terminated.reason, c.reason);
      assert.equal(cs.state.terminated.exitCode, Number(c.exit));
      assert.equal(cs.state.terminated.startedAt, '2026-01-01T00:00:00Z');
      assert.equal(cs.state.terminated.finishedAt, '2026-01-01T00:00:05Z');
      assert.equal(cs.ready, false);
      assert.equal(cond(r.pod, 'Ready'), 'False');
      assert.equal(s.conditions.find((x: Obj) => x.type === 'Ready').reason, 'PodCompleted');
      assert.equal(planPod(r.pod, ctx(T0 + 60_000)).status, undefined, 'terminal pods stay as they are');
    } else {
      assert.equal(cs.restartCount, c.restarts);
      assert.ok(cs.state.running, 'the first restart is immediate');
      assert.equal(cs.lastState.terminated.exitCode, Number(c.exit));
      assert.equal(cs.ready, true);
    }
  });
}

test('restarts after the first wait in CrashLoopBackOff for the kubelet back-off', () => {
  assert.deepEqual([0, 1, 2, 3, 10].map((n) => crashBackoffMs(n, 10_000)), [0, 10_000, 20_000, 40_000, 300_000]);
  const p = pod({ 'sim.k8ts.io/run-seconds': '1', 'sim.k8ts.io/exit-code': '2' });
  // t=1 s: exit, immediate restart #1; t=2 s: exit again → back-off 10 s.
  const backoff = runTo(p, T0 + 2_000);
  const cs = st(backoff.pod).containerStatuses[0];
  assert.equal(cs.restartCount, 1);
  assert.equal(cs.state.waiting.reason, 'CrashLoopBackOff');
  assert.equal(cs.state.waiting.message, 'back-off 10s restarting failed container=main pod=p_ns(u-1)');
  assert.equal(cs.lastState.terminated.exitCode, 2);
  assert.equal(st(backoff.pod).phase, 'Running');
  assert.ok(backoff.reasons.includes('BackOff'));
  const restarted = runTo(p, T0 + 12_000);
  const cs2 = st(restarted.pod).containerStatuses[0];
  assert.equal(cs2.restartCount, 2);
  assert.ok(cs2.state.running);
});

test('a deleted pod is reported stopped (Failed, containers ended by SIGTERM) with Killing events', () => {
  const running = runTo(pod(), T0).pod;
  assert.deepEqual(killingEvents(running).map((e) => e.message), ['Stopping container main']);
  const s = stoppedStatus(running, T0 + 1_000) as Obj;
  assert.equal(s.phase, 'Failed');
  assert.equal(s.containerStatuses[0].state.terminated.reason, 'Error');
  assert.equal(s.containerStatuses[0].state.terminated.exitCode, 143);
  assert.equal(s.conditions.find((c: Obj) => c.type === 'Ready').status, 'False');
  assert.equal(s.containerStatuses[0].ready, false);
  assert.equal(stoppedStatus(pod(), T0), undefined, 'never started: nothing to report');
});

test('image names are normalised as container runtimes report them', () => {
  assert.equal(normalizeImage('nginx'), 'docker.io/library/nginx:latest');
  assert.equal(normalizeImage('bitnami/redis:7'), 'docker.io/bitnami/redis:7');
  assert.equal(normalizeImage('registry.k8s.io/pause:3.9'), 'registry.k8s.io/pause:3.9');
  assert.equal(normalizeImage('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.match(imageID('registry.k8s.io/pause:3.9'), /^registry\.k8s\.io\/pause@sha256:[0-9a-f]{64}$/);
});

test('status equality ignores key order and null-vs-absent, nothing else', () => {
  assert.ok(equal({ a: 1, b: [{ x: null, y: 2 }] }, { b: [{ y: 2 }], a: 1 }));
  assert.ok(!equal({ a: 1 }, { a: 2 }));
  assert.ok(!equal({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!equal({ a: {} }, { a: null }));
});

test('a status the server stored without nulls and in another key order needs no rewrite', () => {
  const s = planPod(pod(), ctx(T0)).status as Obj;
  const stripped = JSON.parse(JSON.stringify(s, (_k, v: unknown) => (v === null ? undefined : v))) as Obj;
  const reordered = Object.fromEntries(Object.entries(stripped).reverse());
  assert.equal(planPod({ ...pod(), status: reordered }, ctx(T0 + 1_000)).status, undefined);
});
