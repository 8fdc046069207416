// Pod status as upstream's kubelet reports it: getPhase over restart policies, the conditions with their reasons,
// container states (waiting/running/terminated, lastState, restartCount), QoS classes and cgroup settings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatus } from '../runtime/interface.js';
import { containerResources, podCgroupParent, qosClass } from './qos.js';
import { computePodStatus, podPhase, type ContainerView } from './status.js';
import type { Pod } from './types.js';

const pod = (spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'a', image: 'busybox' }], ...spec },
  status,
});

let n = 0;
const cs = (state: ContainerStatus['state'], extra: Partial<ContainerStatus> = {}, attempt = 0): ContainerStatus => ({
  id: `c${++n}`,
  podSandboxId: 's',
  metadata: { name: 'a', attempt },
  image: 'sha256:x',
  state,
  createdAt: 1_700_000_000_000,
  labels: {},
  annotations: {},
  logPath: '/x',
  ...(state !== 'CONTAINER_CREATED' ? { startedAt: 1_700_000_001_000 } : {}),
  ...extra,
});
const running = (attempt = 0): ContainerView => ({ name: 'a', current: cs('CONTAINER_RUNNING', {}, attempt), ready: true, started: true });
const exited = (code: number, attempt = 0): ContainerView => ({ name: 'a', current: cs('CONTAINER_EXITED', { exitCode: code, finishedAt: 1_700_000_002_000 }, attempt), ready: false, started: false });

test('getPhase: restart policies decide between Running, Succeeded and Failed', () => {
  const cases: Array<[string, string, ContainerView[], string]> = [
    ['Always', 'running', [running()], 'Running'],
    ['Always', 'exited 0 (to be restarted)', [exited(0)], 'Running'],
    ['Never', 'exited 0', [exited(0)], 'Succeeded'],
    ['Never', 'exited 1', [exited(1)], 'Failed'],
    ['OnFailure', 'exited 0', [exited(0)], 'Succeeded'],
    ['OnFailure', 'exited 1 (to be restarted)', [exited(1)], 'Running'],
    ['Always', 'not started', [{ name: 'a', ready: false, started: false, waiting: { reason: 'ContainerCreating' } }], 'Pending'],
    ['Always', 'crash loop', [{ ...exited(1, 3), waiting: { reason: 'CrashLoopBackOff' } }], 'Running'],
  ];
  for (const [policy, what, views, want] of cases) assert.equal(podPhase(pod({ restartPolicy: policy }), [], views), want, `${policy}, ${what}`);
  // An init container that failed with restartPolicy Never fails the pod; a running one keeps it Pending.
  assert.equal(podPhase(pod({ restartPolicy: 'Never' }), [{ ...exited(1), name: 'init' }], [{ name: 'a', ready: false, started: false }]), 'Failed');
  assert.equal(podPhase(pod(), [{ ...running(), name: 'init' }], [{ name: 'a', ready: false, started: false }]), 'Pending');
});

test('status: conditions, container states, restartCount and lastState', () => {
  const p = pod({}, { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] });
  const prev = cs('CONTAINER_EXITED', { exitCode: 137, reason: 'OOMKilled', finishedAt: 1_700_000_000_500 }, 1);
  const view: ContainerView = { name: 'a', current: cs('CONTAINER_RUNNING', {}, 2), previous: prev, ready: false, started: true, imageID: 'k8ts.local/busybox@sha256:abc' };
  const s = computePodStatus({ pod: p, hostIP: '10.0.0.1', podIPs: ['10.42.0.5'], sandboxReady: true, initContainers: [], containers: [view], nowMs: 1_700_000_003_000 }) as any;
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.42.0.5');
  assert.deepEqual(s.podIPs, [{ ip: '10.42.0.5' }]);
  assert.equal(s.qosClass, 'BestEffort');
  const byType = Object.fromEntries(s.conditions.map((c: any) => [c.type, c]));
  assert.deepEqual(Object.keys(byType), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  assert.equal(byType.Ready.status, 'False');
  assert.equal(byType.Ready.reason, 'ContainersNotReady');
  assert.equal(byType.Ready.message, 'containers with unready status: [a]');
  assert.equal(byType.PodScheduled.lastTransitionTime, '2024-01-01T00:00:00Z', 'foreign conditions are kept');
  const c = s.containerStatuses[0];
  assert.equal(c.restartCount, 2);
  assert.ok(c.state.running.startedAt);
  assert.equal(c.lastState.terminated.reason, 'OOMKilled');
  assert.equal(c.lastState.terminated.exitCode, 137);
  assert.equal(c.containerID, `runc://${view.current!.id}`);
  assert.equal(c.imageID, 'k8ts.local/busybox@sha256:abc');
  assert.equal(c.ready, false);

  // Crash loop: waiting with the message, the exited instance as lastState.
  const loop = computePodStatus({ pod: p, hostIP: '10.0.0.1', podIPs: ['10.42.0.5'], sandboxReady: true, initContainers: [], containers: [{ ...exited(1, 4), waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=a pod=p_default(u1)' } }], nowMs: 1_700_000_003_000 }) as any;
  assert.equal(loop.containerStatuses[0].state.waiting.reason, 'CrashLoopBackOff');
  assert.equal(loop.containerStatuses[0].lastState.terminated.reason, 'Error');
  assert.equal(loop.containerStatuses[0].restartCount, 4);
});

test('status: init containers keep the pod Pending with PodInitializing and ContainersNotInitialized', () => {
  const p = pod({ initContainers: [{ name: 'init', image: 'busybox' }] });
  const s = computePodStatus({ pod: p, hostIP: '10.0.0.1', podIPs: ['10.42.0.6'], sandboxReady: true, initContainers: [{ ...running(), name: 'init' }], containers: [{ name: 'a', ready: false, started: false }], nowMs: 1_700_000_003_000 }) as any;
  assert.equal(s.phase, 'Pending');
  const init = s.conditions.find((c: any) => c.type === 'Initialized');
  assert.equal(init.reason, 'ContainersNotInitialized');
  assert.equal(init.message, 'containers with incomplete status: [init]');
  assert.equal(s.containerStatuses[0].state.waiting.reason, 'PodInitializing');
  assert.ok(s.initContainerStatuses[0].state.running);
});

test('QoS class, cgroup parent and container cgroup settings', () => {
  const g = pod({ containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '500m', memory: '64Mi' } } }] });
  const b = pod({ containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '100m' } } }] });
  const be = pod();
  assert.equal(qosClass(g), 'Guaranteed');
  assert.equal(qosClass(b), 'Burstable');
  assert.equal(qosClass(be), 'BestEffort');
  assert.equal(qosClass(pod({ containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '100m', memory: '1Mi' }, limits: { cpu: '200m', memory: '1Mi' } } }] })), 'Burstable');
  assert.equal(podCgroupParent(g), 'k8ts/kubepods/podu1');
  assert.equal(podCgroupParent(b), 'k8ts/kubepods/burstable/podu1');
  assert.equal(podCgroupParent(be), 'k8ts/kubepods/besteffort/podu1');
  assert.deepEqual(containerResources(g.spec!.containers[0]), { cpuShares: 512, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitBytes: 64 * 1024 * 1024 });
  assert.deepEqual(containerResources(be.spec!.containers[0]), { cpuShares: 2 });
});
