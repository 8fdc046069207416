// Tests for the Pod strategy: create pipeline (defaults, admission defaults, status), update rules, status
// updates, the Table cells of `kubectl get pods` and field selectors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorBody, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { admissionDefaults, podCells, pods } from './pod.js';

type Obj = Record<string, unknown>;
const msgs = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
const NOW = Date.parse('2025-01-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString().replace('.000Z', 'Z');

/** What the generic store does on create: defaults → prepareForCreate → validate. */
function create(o: KubeObject): { obj: KubeObject; errs: string[] } {
  o.metadata.creationTimestamp ??= ago(300);
  pods.defaults!(o);
  pods.prepareForCreate!(o);
  return { obj: o, errs: msgs(pods.validate!(o)) };
}

const newPod = (spec: Obj = {}, meta: Obj = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', ...meta },
  spec: { containers: [{ name: 'web', image: 'nginx:1.25' }], ...spec },
});

test('create: `kubectl run web --image=nginx:1.25` becomes what upstream stores', () => {
  const { obj, errs } = create(newPod());
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.spec, {
    containers: [{ name: 'web', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} }],
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    serviceAccountName: 'default',
    serviceAccount: 'default',
  });
  assert.deepEqual(obj.status, { phase: 'Pending', qosClass: 'BestEffort' });
});

test('create: requests default to limits on Pods, QoS Guaranteed', () => {
  const { obj } = create(newPod({ containers: [{ name: 'a', image: 'x:1', resources: { limits: { cpu: '1', memory: '512Mi' } } }] }));
  const c = ((obj.spec as Obj).containers as Obj[])[0];
  assert.deepEqual(c.resources, { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '1', memory: '512Mi' } });
  assert.equal((obj.status as Obj).qosClass, 'Guaranteed');
});

test('create: scheduling gates add the SchedulingGated condition; nodeName with gates is forbidden', () => {
  const { obj, errs } = create(newPod({ schedulingGates: [{ name: 'example.com/wait' }], nodeName: 'n1' }));
  assert.deepEqual((obj.status as Obj).conditions, [
    { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: null, reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' },
  ]);
  assert.deepEqual(errs, ['spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared']);
});

test('create: ephemeral containers are rejected, image whitespace too', () => {
  const { errs } = create(newPod({ containers: [{ name: 'a', image: ' nginx' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] }));
  assert.deepEqual(errs, ['spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace', 'spec.ephemeralContainers: Forbidden: cannot be set on create']);
});

test('admissionDefaults keeps explicit service accounts (priority and tolerations are admission plugins\')', () => {
  const p = newPod({ serviceAccountName: 'builder', priorityClassName: 'system-node-critical' });
  admissionDefaults(p);
  assert.equal((p.spec as Obj).serviceAccountName, 'builder');
  assert.equal((p.spec as Obj).priority, undefined, 'resolved by the Priority admission plugin');
});

test('update: image changes are allowed, other spec changes are forbidden with upstream text', () => {
  const { obj: old } = create(newPod());
  const next = structuredClone(old);
  ((next.spec as Obj).containers as Obj[])[0].image = 'nginx:1.26';
  pods.defaults!(next);
  assert.deepEqual(msgs(pods.validateUpdate!(next, old)), []);

  const bad = structuredClone(old);
  ((bad.spec as Obj).containers as Obj[])[0].ports = [{ containerPort: 80 }];
  pods.defaults!(bad);
  const errs = msgs(pods.validateUpdate!(bad, old));
  assert.equal(errs.length, 1);
  assert.ok(
    errs[0].startsWith(
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
    ),
    errs[0],
  );
});

test('update: container count, activeDeadlineSeconds and tolerations rules', () => {
  const tolerations = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ];
  const { obj: old } = create(newPod({ activeDeadlineSeconds: 100, tolerations }));
  const cases: [string, (s: Obj) => void, string[]][] = [
    ['add container', (s) => (s.containers as Obj[]).push({ name: 'b', image: 'x' }), ['spec.containers: Forbidden: pod updates may not add or remove containers']],
    ['raise deadline', (s) => (s.activeDeadlineSeconds = 200), ['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']],
    ['lower deadline', (s) => (s.activeDeadlineSeconds = 50), []],
    ['unset deadline', (s) => delete s.activeDeadlineSeconds, ['spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value']],
    ['add toleration', (s) => (s.tolerations as Obj[]).push({ key: 'k', operator: 'Exists' }), []],
    ['change tolerationSeconds', (s) => ((s.tolerations as Obj[])[0].tolerationSeconds = 10), []],
    ['remove toleration', (s) => (s.tolerations as Obj[]).pop(), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']],
  ];
  for (const [name, mut, want] of cases) {
    const next = structuredClone(old);
    mut(next.spec as Obj);
    assert.deepEqual(msgs(pods.validateUpdate!(next, old)), want, name);
  }
});

test('status update: nodeName and qosClass are protected', () => {
  const { obj: old } = create(newPod());
  const next = structuredClone(old);
  (next.spec as Obj).nodeName = 'n1';
  (next.status as Obj).qosClass = 'Guaranteed';
  assert.deepEqual(msgs(pods.validateStatusUpdate!(next, old)), [
    'status.nodeName: Forbidden: may not be changed directly',
    'status.qosClass: Invalid value: "Guaranteed": field is immutable',
  ]);
});

const running = { running: { startedAt: ago(100) } };
const cs = (name: string, state: Obj, extra: Obj = {}): Obj => ({ name, state, ready: false, restartCount: 0, image: 'x', imageID: '', ...extra });

test('Table cells follow printPod', () => {
  const cases: [string, Obj, Obj, Obj, unknown[]][] = [
    ['pending, unscheduled', {}, { phase: 'Pending' }, {}, ['0/1', 'Pending', '0']],
    ['creating', { nodeName: 'n1' }, { phase: 'Pending', containerStatuses: [cs('web', { waiting: { reason: 'ContainerCreating' } })] }, {}, ['0/1', 'ContainerCreating', '0']],
    ['running ready', { nodeName: 'n1' }, { phase: 'Running', podIPs: [{ ip: '10.1.0.5' }], containerStatuses: [cs('web', running, { ready: true })] }, {}, ['1/1', 'Running', '0']],
    [
      'crash loop with restarts',
      {},
      {
        phase: 'Running',
        containerStatuses: [cs('web', { waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 5, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(300) } } })],
      },
      {},
      ['0/1', 'CrashLoopBackOff', '5 (5m ago)'],
    ],
    ['completed', {}, { phase: 'Succeeded', containerStatuses: [cs('web', { terminated: { exitCode: 0, reason: 'Completed' } })] }, {}, ['0/1', 'Completed', '0']],
    ['exit code without reason', {}, { phase: 'Failed', containerStatuses: [cs('web', { terminated: { exitCode: 3 } })] }, {}, ['0/1', 'ExitCode:3', '0']],
    ['signal without reason', {}, { phase: 'Failed', containerStatuses: [cs('web', { terminated: { exitCode: 137, signal: 9 } })] }, {}, ['0/1', 'Signal:9', '0']],
    ['terminating', {}, { phase: 'Running', containerStatuses: [cs('web', running, { ready: true })] }, { deletionTimestamp: ago(1) }, ['1/1', 'Terminating', '0']],
    ['node lost', {}, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: ago(1) }, ['0/1', 'Unknown', '0']],
    ['evicted', {}, { phase: 'Failed', reason: 'Evicted' }, {}, ['0/1', 'Evicted', '0']],
    [
      'init running',
      { initContainers: [{ name: 'init', image: 'x' }] },
      { phase: 'Pending', initContainerStatuses: [cs('init', running)], containerStatuses: [cs('web', { waiting: { reason: 'PodInitializing' } })] },
      {},
      ['0/1', 'Init:0/1', '0'],
    ],
    [
      'init crash loop',
      { initContainers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }] },
      { phase: 'Pending', initContainerStatuses: [cs('a', { terminated: { exitCode: 0 } }), cs('b', { waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 2 })] },
      {},
      ['0/1', 'Init:CrashLoopBackOff', '2'],
    ],
    [
      'init failed',
      { initContainers: [{ name: 'a', image: 'x' }] },
      { phase: 'Pending', initContainerStatuses: [cs('a', { terminated: { exitCode: 2, reason: 'Error' } })] },
      {},
      ['0/1', 'Init:Error', '0'],
    ],
    [
      'sidecar counts toward ready',
      { initContainers: [{ name: 'side', image: 'x', restartPolicy: 'Always' }] },
      {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [cs('side', running, { ready: true, started: true })],
        containerStatuses: [cs('web', running, { ready: true })],
      },
      {},
      ['2/2', 'Running', '0'],
    ],
    [
      'completed but one still running and ready',
      { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }] },
      { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [cs('a', { terminated: { exitCode: 0, reason: 'Completed' } }), cs('b', running, { ready: true })] },
      {},
      ['1/2', 'Running', '0'],
    ],
    ['scheduling gated', {}, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }, {}, ['0/1', 'SchedulingGated', '0']],
  ];
  for (const [name, spec, status, meta, want] of cases) {
    const p = newPod(spec, { creationTimestamp: ago(600), ...meta });
    p.status = status;
    const cells = podCells(p, NOW);
    assert.deepEqual(cells.slice(1, 4), want, name);
    assert.equal(cells[0], 'web');
    assert.equal(cells[4], '10m');
  }
});

test('Table wide cells: IP, node, nominated node, readiness gates', () => {
  const p = newPod({ nodeName: 'n1', readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] }, { creationTimestamp: ago(60) });
  p.status = { phase: 'Running', podIPs: [{ ip: '10.1.0.5' }], nominatedNodeName: 'n2', conditions: [{ type: 'example.com/lb', status: 'True' }] };
  assert.deepEqual(podCells(p, NOW).slice(5), ['10.1.0.5', 'n1', 'n2', '1/2']);
  assert.deepEqual(podCells(newPod(), NOW).slice(5), ['<none>', '<none>', '<none>', '<none>']);
  assert.deepEqual(
    pods.table!.columns.map((c) => [c.name, c.type, c.priority]),
    [
      ['Name', 'string', 0],
      ['Ready', 'string', 0],
      ['Status', 'string', 0],
      ['Restarts', 'string', 0],
      ['Age', 'string', 0],
      ['IP', 'string', 1],
      ['Node', 'string', 1],
      ['Nominated Node', 'string', 1],
      ['Readiness Gates', 'string', 1],
    ],
  );
});

test('field labels and graceful deletion period', () => {
  const { obj } = create(newPod({ hostNetwork: true, containers: [{ name: 'a', image: 'x:1' }] }));
  (obj.spec as Obj).nodeName = 'n1';
  (obj.status as Obj).podIPs = [{ ip: '10.0.0.9' }];
  assert.deepEqual(pods.fieldLabels!(obj), {
    'spec.nodeName': 'n1',
    'spec.restartPolicy': 'Always',
    'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': 'default',
    'spec.hostNetwork': 'true',
    'status.phase': 'Pending',
    'status.podIP': '10.0.0.9',
    'status.nominatedNodeName': '',
  });
  assert.equal(pods.gracePeriodSeconds!(obj, undefined), 30);
  (obj.spec as Obj).terminationGracePeriodSeconds = 5;
  assert.equal(pods.gracePeriodSeconds!(obj, undefined), 5);
  (obj.status as Obj).phase = 'Succeeded';
  assert.equal(pods.gracePeriodSeconds!(obj, undefined), 0, 'terminal pods go at once');
  assert.equal(pods.gracePeriodSeconds!(newPod(), 5), 0, 'unscheduled pods go at once');
});

test('discovery metadata', () => {
  assert.deepEqual([pods.plural, pods.singular, pods.shortNames, pods.categories, pods.status, pods.namespaced], ['pods', 'pod', ['po'], ['all'], true, true]);
  assert.deepEqual(
    pods.extraSubresources!.map((s) => `${s.name}:${s.group}/${s.version}/${s.kind}`),
    ['attach:/v1/PodAttachOptions', 'binding:/v1/Binding', 'ephemeralcontainers:/v1/Pod', 'eviction:policy/v1/Eviction', 'exec:/v1/PodExecOptions', 'log:/v1/Pod', 'portforward:/v1/PodPortForwardOptions', 'proxy:/v1/PodProxyOptions'],
  );
  assert.equal(pods.generationFields, undefined, 'pods have no generation in 1.32');
});
