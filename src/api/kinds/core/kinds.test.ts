// Tests for the remaining core/v1 strategies (namespaces, configmaps, secrets, nodes, events, endpoints, RCs,
// PVs, PVCs, quotas, limit ranges, pod templates, service accounts) and the coreKinds discovery list.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorBody, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import type { KindDef } from '../types.js';
import { coreKinds } from './index.js';

type Obj = Record<string, unknown>;
const msgs = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
const NOW = Date.parse('2025-01-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString().replace('.000Z', 'Z');
const kind = (k: string): KindDef => {
  const d = coreKinds.find((x) => x.kind === k);
  assert.ok(d, k);
  return d;
};

function create(k: string, o: Omit<KubeObject, 'metadata'> & { metadata?: KubeObject['metadata'] }): { obj: KubeObject; errs: string[]; cells: unknown[] } {
  const d = kind(k);
  const obj = { ...o, metadata: { creationTimestamp: ago(120), ...(o.metadata ?? {}) } } as KubeObject;
  if (d.namespaced) obj.metadata.namespace ??= 'default';
  d.defaults?.(obj);
  d.prepareForCreate?.(obj);
  return { obj, errs: msgs(d.validate?.(obj) ?? []), cells: d.table!.cells(obj, NOW) };
}

function update(k: string, old: KubeObject, mut: (o: KubeObject) => void): string[] {
  const d = kind(k);
  const o = structuredClone(old);
  mut(o);
  d.defaults?.(o);
  d.prepareForUpdate?.(o, old);
  return msgs([...(d.validate?.(o) ?? []), ...(d.validateUpdate?.(o, old) ?? [])]);
}

test('coreKinds: discovery order, names, short names, scopes, subresources', () => {
  assert.deepEqual(
    coreKinds.map((k) => [k.plural, k.singular, (k.shortNames ?? []).join(','), k.namespaced ? 'ns' : 'cluster', k.status ? 'status' : '', k.scale ? 'scale' : '']),
    [
      ['configmaps', 'configmap', 'cm', 'ns', '', ''],
      ['endpoints', 'endpoints', 'ep', 'ns', '', ''],
      ['events', 'event', 'ev', 'ns', '', ''],
      ['limitranges', 'limitrange', 'limits', 'ns', '', ''],
      ['namespaces', 'namespace', 'ns', 'cluster', 'status', ''],
      ['nodes', 'node', 'no', 'cluster', 'status', ''],
      ['persistentvolumeclaims', 'persistentvolumeclaim', 'pvc', 'ns', 'status', ''],
      ['persistentvolumes', 'persistentvolume', 'pv', 'cluster', 'status', ''],
      ['pods', 'pod', 'po', 'ns', 'status', ''],
      ['podtemplates', 'podtemplate', '', 'ns', '', ''],
      ['replicationcontrollers', 'replicationcontroller', 'rc', 'ns', 'status', 'scale'],
      ['resourcequotas', 'resourcequota', 'quota', 'ns', 'status', ''],
      ['secrets', 'secret', '', 'ns', '', ''],
      ['serviceaccounts', 'serviceaccount', 'sa', 'ns', '', ''],
      ['services', 'service', 'svc', 'ns', 'status', ''],
    ],
  );
  assert.deepEqual(coreKinds.filter((k) => k.categories?.includes('all')).map((k) => k.plural), ['pods', 'replicationcontrollers', 'services']);
  assert.deepEqual(kind('Namespace').verbs, ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
  assert.deepEqual(kind('Namespace').extraSubresources, [{ name: 'finalize', group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] }]);
  assert.deepEqual(kind('ServiceAccount').extraSubresources, [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }]);
  assert.deepEqual(kind('Node').extraSubresources!.map((s) => s.name), ['proxy']);
  for (const k of coreKinds) {
    assert.ok(k.table, `${k.kind} has a table`);
    const t = k.table;
    assert.equal(t.columns[0].name === 'Name' || k.kind === 'Event', true, `${k.kind} starts with Name`);
  }
});

test('Namespace: label, finalizer, phase, finalizers frozen on update, status rules', () => {
  const { obj, errs, cells } = create('Namespace', { metadata: { name: 'dev' } });
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.metadata.labels, { 'kubernetes.io/metadata.name': 'dev' });
  assert.deepEqual(obj.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(obj.status, { phase: 'Active' });
  assert.deepEqual(cells, ['dev', 'Active', '2m']);
  assert.deepEqual(kind('Namespace').fieldLabels!(obj), { 'status.phase': 'Active', name: 'dev' });
  const d = kind('Namespace');
  const next = structuredClone(obj);
  (next.spec as Obj).finalizers = [];
  d.prepareForUpdate!(next, obj);
  assert.deepEqual((next.spec as Obj).finalizers, ['kubernetes'], 'finalizers change only via /finalize');
  const term = structuredClone(obj);
  (term.status as Obj).phase = 'Terminating';
  assert.deepEqual(msgs(d.validateStatusUpdate!(term, obj)), ["status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"]);
  assert.deepEqual(create('Namespace', { metadata: { name: 'a.b' } }).errs, [
    "metadata.name: Invalid value: \"a.b\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  ]);
  assert.deepEqual(create('Namespace', { metadata: { name: 'x' }, spec: { finalizers: ['foo'] } }).errs, [
    'spec.finalizers: Invalid value: "foo": name is neither a standard finalizer name nor is it fully qualified',
  ]);
});

test('ConfigMap: keys, size, immutability, table', () => {
  const { errs, cells, obj } = create('ConfigMap', { metadata: { name: 'c' }, data: { 'app.properties': 'a=b', 'bad/key': 'x' }, binaryData: { 'logo.png': 'iVBORw0KGgo=' } });
  assert.deepEqual(errs, [
    "data[bad/key]: Invalid value: \"bad/key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  ]);
  assert.deepEqual(cells, ['c', 3, '2m']);
  assert.deepEqual(create('ConfigMap', { metadata: { name: 'big' }, data: { a: 'x'.repeat(1024 * 1024 + 1) } }).errs, [': Too long: may not be more than 1048576 bytes']);
  assert.deepEqual(create('ConfigMap', { metadata: { name: 'dup' }, data: { a: 'x' }, binaryData: { a: 'eA==' } }).errs, ['data[a]: Invalid value: "a": duplicate of key present in binaryData']);
  const imm = { ...obj, immutable: true, data: { ok: '1' } } as KubeObject;
  assert.deepEqual(
    update('ConfigMap', imm, (o) => ((o.data as Obj).ok = '2')),
    ['data: Forbidden: field is immutable when `immutable` is set'],
  );
  assert.deepEqual(update('ConfigMap', imm, (o) => delete o.immutable), ['immutable: Forbidden: field is immutable when `immutable` is set']);
});

test('Secret: type default, stringData folding, base64, type rules, immutability', () => {
  const { obj, errs, cells } = create('Secret', { metadata: { name: 's' }, data: { user: 'YWRtaW4=' }, stringData: { pass: 'hunter2' } });
  assert.deepEqual(errs, []);
  assert.deepEqual([obj.type, obj.data, obj.stringData], ['Opaque', { user: 'YWRtaW4=', pass: 'aHVudGVyMg==' }, undefined]);
  assert.deepEqual(cells, ['s', 'Opaque', 2, '2m']);
  assert.deepEqual(kind('Secret').fieldLabels!(obj), { type: 'Opaque' });
  const cases: [string, Obj, string[]][] = [
    ['bad base64', { data: { a: 'not base64!' } }, ['data[a]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3']],
    ['tls keys', { type: 'kubernetes.io/tls', data: {} }, ['data[tls.crt]: Required value', 'data[tls.key]: Required value']],
    ['sa token needs annotation', { type: 'kubernetes.io/service-account-token' }, ['metadata.annotations[kubernetes.io/service-account.name]: Required value']],
    ['basic auth', { type: 'kubernetes.io/basic-auth', data: {} }, ['data[username]: Required value', 'data[password]: Required value']],
    ['dockerconfigjson', { type: 'kubernetes.io/dockerconfigjson', data: {} }, ['data[.dockerconfigjson]: Required value']],
  ];
  for (const [name, body, want] of cases) assert.deepEqual(create('Secret', { metadata: { name: 'x' }, ...body }).errs, want, name);
  assert.deepEqual(update('Secret', obj, (o) => (o.type = 'kubernetes.io/tls')).slice(-1), ['type: Invalid value: "kubernetes.io/tls": field is immutable']);
});

test('Node: defaults, roles, status cell, update rules, field labels', () => {
  const { obj, errs, cells } = create('Node', {
    metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'master' } },
    spec: { unschedulable: true, podCIDRs: ['10.244.0.0/24'] },
    status: {
      capacity: { cpu: 4, memory: '8192Mi', pods: '110' },
      conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: 'n1' }],
      nodeInfo: { kubeletVersion: 'v1.32.3', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'runc://1.1.12' },
    },
  });
  assert.deepEqual(errs, []);
  assert.deepEqual((obj.status as Obj).allocatable, { cpu: '4', memory: '8Gi', pods: '110' });
  assert.deepEqual((obj.status as Obj).daemonEndpoints, { kubeletEndpoint: { Port: 0 } });
  assert.deepEqual(cells, ['n1', 'Ready,SchedulingDisabled', 'control-plane,master', '2m', 'v1.32.3', '192.168.1.10', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'runc://1.1.12']);
  assert.deepEqual(kind('Node').fieldLabels!(obj), { 'spec.unschedulable': 'true' });
  const notReady = structuredClone(obj);
  (notReady.status as Obj).conditions = [{ type: 'Ready', status: 'Unknown' }];
  (notReady.spec as Obj).unschedulable = false;
  notReady.metadata.labels = {};
  assert.deepEqual(kind('Node').table!.cells(notReady, NOW).slice(1, 3), ['NotReady', '<none>']);
  const bare = create('Node', { metadata: { name: 'n2' } });
  assert.deepEqual(bare.cells.slice(1, 5), ['Unknown', '<none>', '2m', '']);
  assert.deepEqual(update('Node', obj, (o) => ((o.spec as Obj).podCIDRs = ['10.244.1.0/24'])), ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']);
  assert.deepEqual(create('Node', { metadata: { name: 'n3' }, spec: { taints: [{ key: 'k', effect: 'Sometimes' }] } }).errs, [
    'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  ]);
});

test('Event: serialized zero fields, legacy validation, table, field labels', () => {
  const { obj, errs, cells } = create('Event', {
    metadata: { name: 'web.17' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1', fieldPath: 'spec.containers{web}' },
    reason: 'Pulled',
    message: '  Successfully pulled image  ',
    type: 'Normal',
    source: { component: 'kubelet', host: 'n1' },
    firstTimestamp: ago(600),
    lastTimestamp: ago(90),
    count: 3,
  });
  assert.deepEqual(errs, []);
  assert.deepEqual([obj.eventTime, obj.reportingComponent, obj.reportingInstance], [null, '', '']);
  assert.deepEqual(cells, ['90s', 'Normal', 'Pulled', 'pod/web', 'spec.containers{web}', 'kubelet, n1', 'Successfully pulled image', '10m', 3, 'web.17']);
  assert.deepEqual(kind('Event').table!.columns.map((c) => `${c.name}:${c.priority}`), [
    'Last Seen:0',
    'Type:0',
    'Reason:0',
    'Object:0',
    'Subobject:1',
    'Source:1',
    'Message:0',
    'First Seen:1',
    'Count:1',
    'Name:1',
  ]);
  assert.deepEqual(kind('Event').fieldLabels!(obj), {
    'involvedObject.kind': 'Pod',
    'involvedObject.namespace': 'default',
    'involvedObject.name': 'web',
    'involvedObject.uid': 'u1',
    'involvedObject.apiVersion': '',
    'involvedObject.resourceVersion': '',
    'involvedObject.fieldPath': 'spec.containers{web}',
    reason: 'Pulled',
    reportingComponent: '',
    source: 'kubelet',
    type: 'Normal',
  });
  const newStyle = create('Event', {
    metadata: { name: 'e2' },
    involvedObject: { kind: 'Node', name: 'n1' },
    eventTime: '2025-01-01T11:59:00.000000Z',
    reportingComponent: 'kubelet',
    reportingInstance: 'n1',
    action: 'Starting',
    reason: 'Starting',
    series: { count: 7, lastObservedTime: '2025-01-01T11:59:30.000000Z' },
  });
  assert.deepEqual(newStyle.errs, []);
  assert.deepEqual(newStyle.cells.slice(0, 4), ['30s', '', 'Starting', 'node/n1']);
  assert.deepEqual(newStyle.cells.slice(7, 9), ['60s', 7]);
  assert.deepEqual(create('Event', { metadata: { name: 'e3' }, involvedObject: { kind: 'Pod', name: 'x', namespace: 'other' } }).errs, [
    'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
  ]);
});

test('Endpoints: protocol default, validation, "+ N more" cell', () => {
  const addrs = (n: number): Obj[] => Array.from({ length: n }, (_, i) => ({ ip: `10.1.0.${i + 1}` }));
  const { obj, errs, cells } = create('Endpoints', { metadata: { name: 'web' }, subsets: [{ addresses: addrs(5), ports: [{ port: 8080 }] }] });
  assert.deepEqual(errs, []);
  assert.equal(((obj.subsets as Obj[])[0].ports as Obj[])[0].protocol, 'TCP');
  assert.equal(cells[1], '10.1.0.1:8080,10.1.0.2:8080,10.1.0.3:8080 + 2 more...');
  assert.equal(create('Endpoints', { metadata: { name: 'e' } }).cells[1], '<none>');
  assert.equal(create('Endpoints', { metadata: { name: 'e' }, subsets: [{ addresses: addrs(2) }] }).cells[1], '10.1.0.1,10.1.0.2');
  assert.deepEqual(create('Endpoints', { metadata: { name: 'e' }, subsets: [{ ports: [{ port: 80 }] }] }).errs, ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`']);
  assert.deepEqual(create('Endpoints', { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }] }).errs, [
    'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
  ]);
});

test('ReplicationController: defaults from template, validation, scale, table', () => {
  const { obj, errs, cells } = create('ReplicationController', {
    metadata: { name: 'rc' },
    spec: { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }, { name: 'd', image: 'nginx' }] } } },
  });
  assert.deepEqual(errs, []);
  const spec = obj.spec as Obj;
  assert.deepEqual([spec.selector, spec.replicas, obj.metadata.labels, obj.status], [{ app: 'x' }, 1, { app: 'x' }, { replicas: 0 }]);
  assert.deepEqual(cells, ['rc', 1, 0, 0, '2m', 'c,d', 'busybox:1.36,nginx', 'app=x']);
  const d = kind('ReplicationController');
  assert.equal(d.scale!.selector(obj), 'app=x');
  assert.deepEqual(d.generationFields, ['spec']);
  assert.deepEqual(d.fieldLabels!(obj), { 'status.replicas': '0' });
  const bad = create('ReplicationController', {
    metadata: { name: 'rc2' },
    spec: { selector: { app: 'y' }, template: { metadata: { labels: { app: 'x' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  assert.deepEqual(bad.errs, [
    'spec.template.metadata.labels: Invalid value: {"app":"x"}: `selector` does not match template `labels`',
    'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
  ]);
  const st = structuredClone(obj);
  st.status = { replicas: 1, readyReplicas: 2 };
  assert.deepEqual(msgs(d.validateStatusUpdate!(st, obj)), ['status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas']);
});

test('PersistentVolume and PersistentVolumeClaim', () => {
  const pv = create('PersistentVolume', {
    metadata: { name: 'pv1' },
    spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], hostPath: { path: '/data' }, claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'manual' },
  });
  assert.deepEqual(pv.errs, []);
  assert.deepEqual([(pv.obj.spec as Obj).persistentVolumeReclaimPolicy, (pv.obj.spec as Obj).volumeMode, (pv.obj.status as Obj).phase], ['Retain', 'Filesystem', 'Pending']);
  assert.deepEqual(pv.cells, ['pv1', '10Gi', 'RWO,ROX', 'Retain', 'Pending', 'default/data', 'manual', '<unset>', '', '2m', 'Filesystem']);
  assert.deepEqual(create('PersistentVolume', { metadata: { name: 'pv2' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } }).errs, [
    'spec: Required value: must specify a volume type',
  ]);
  const moved = update('PersistentVolume', pv.obj, (o) => (((o.spec as Obj).hostPath as Obj).path = '/other'));
  assert.equal(moved.length, 1);
  assert.ok(moved[0].startsWith('spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n'), moved[0]);

  const pvc = create('PersistentVolumeClaim', { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual' } });
  assert.deepEqual(pvc.errs, []);
  assert.deepEqual(pvc.obj.status, { phase: 'Pending' });
  assert.deepEqual(pvc.cells, ['data', 'Pending', '', '', '', 'manual', '<unset>', '2m', 'Filesystem']);
  const bound = structuredClone(pvc.obj);
  (bound.spec as Obj).volumeName = 'pv1';
  bound.status = { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '10Gi' } };
  assert.deepEqual(kind('PersistentVolumeClaim').table!.cells(bound, NOW).slice(1, 5), ['Bound', 'pv1', '10Gi', 'RWO']);
  assert.deepEqual(create('PersistentVolumeClaim', { metadata: { name: 'x' }, spec: {} }).errs, [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Required value',
  ]);
  const changed = update('PersistentVolumeClaim', pvc.obj, (o) => ((o.spec as Obj).storageClassName = 'fast'));
  assert.ok(changed[0].startsWith('spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n'), changed[0]);
  assert.deepEqual(update('PersistentVolumeClaim', pvc.obj, (o) => ((o.spec as Obj).volumeName = 'pv1')), [], 'volumeName may be set once');
});

test('ResourceQuota: names, scopes, table', () => {
  const { obj, errs } = create('ResourceQuota', { metadata: { name: 'q' }, spec: { hard: { pods: '10', 'requests.cpu': '1', 'limits.memory': '2Gi', 'count/deployments.apps': '5' } } });
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.status, {});
  obj.status = { hard: { pods: '10', 'requests.cpu': '1', 'limits.memory': '2Gi' }, used: { pods: '3', 'requests.cpu': '500m' } };
  assert.deepEqual(kind('ResourceQuota').table!.cells(obj, NOW), ['q', '2m', 'pods: 3/10, requests.cpu: 500m/1', 'limits.memory: 0/2Gi'], 'columns NAME AGE REQUEST LIMIT as upstream 1.32');
  assert.deepEqual(create('ResourceQuota', { metadata: { name: 'q2' }, spec: { hard: { widgets: '1' } } }).errs, [
    'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified',
    'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
  ]);
  assert.deepEqual(create('ResourceQuota', { metadata: { name: 'q3' }, spec: { hard: { pods: '1.5' } } }).errs, ['spec.hard[pods]: Invalid value: "1500m": must be an integer']);
  assert.deepEqual(create('ResourceQuota', { metadata: { name: 'q5' }, spec: { hard: { 'requests.cpu': '1' }, scopes: ['BestEffort'] } }).errs, [
    'spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource',
  ]);
  assert.deepEqual(create('ResourceQuota', { metadata: { name: 'q4' }, spec: { hard: { pods: '1' }, scopes: ['BestEffort', 'NotBestEffort'] } }).errs, [
    'spec.scopes: Invalid value: ["BestEffort","NotBestEffort"]: conflicting scopes',
  ]);
});

test('LimitRange: container defaults, checks, default table', () => {
  const { obj, errs, cells } = create('LimitRange', { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', max: { cpu: '2', memory: '1Gi' }, min: { cpu: '100m' }, default: { memory: '512Mi' } }] } });
  assert.deepEqual(errs, []);
  const item = ((obj.spec as Obj).limits as Obj[])[0];
  assert.deepEqual(item.default, { memory: '512Mi', cpu: '2' });
  assert.deepEqual(item.defaultRequest, { memory: '512Mi', cpu: '2' });
  assert.deepEqual(cells, ['l', obj.metadata.creationTimestamp]);
  assert.deepEqual(kind('LimitRange').table!.columns.map((c) => `${c.name}:${c.type}`), ['Name:string', 'Created At:date']);
  assert.deepEqual(create('LimitRange', { metadata: { name: 'l2' }, spec: { limits: [{ type: 'Pod', min: { cpu: '2' }, max: { cpu: '1' } }] } }).errs, [
    'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
  ]);
});

test('PodTemplate and ServiceAccount', () => {
  const { obj, errs, cells } = create('PodTemplate', { metadata: { name: 't' }, template: { metadata: { labels: { b: '2', a: '1' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } });
  assert.deepEqual(errs, []);
  assert.deepEqual(cells, ['t', 'c', 'x:1', 'a=1,b=2']);
  assert.deepEqual(kind('PodTemplate').generationFields, ['template']);
  assert.equal((((obj.template as Obj).spec as Obj).containers as Obj[])[0].terminationMessagePolicy, 'File');
  assert.deepEqual(create('PodTemplate', { metadata: { name: 't2' }, template: { spec: { containers: [] } } }).errs, ['template.spec.containers: Required value']);
  assert.deepEqual(create('ServiceAccount', { metadata: { name: 'builder' }, secrets: [{ name: 'a' }] }).cells, ['builder', 1, '2m']);
});
