// Tests for decoding Kubernetes protobuf bodies: real bodies captured from kubectl 1.32 (testdata/, see capture.mjs)
// against hand-written expectations and against kubectl's own JSON of the same objects, then hand-built bytes for
// the special types, zero-value rules and every malformed-input path.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ApiError } from '../errors.js';
import { decodeMessageJSON, decodeProtobufObject, formatDuration, PROTOBUF_MAGIC } from './decode.js';

const testdata = new URL('../../../../src/api/protobuf/testdata/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(`${name}.bin`, testdata));

// ---- a tiny independent protobuf writer for hand-built bodies ----
function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const tag = (num: number, wire: number): Buffer => varint((num << 3) | wire);
const vField = (num: number, n: number | bigint): Buffer => Buffer.concat([tag(num, 0), varint(n)]);
const bField = (num: number, ...parts: (Buffer | string)[]): Buffer => {
  const b = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  return Buffer.concat([tag(num, 2), varint(b.length), b]);
};
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([PROTOBUF_MAGIC, bField(1, bField(1, apiVersion), bField(2, kind)), bField(2, raw), bField(3, ''), bField(4, '')]);
const meta = (name: string): Buffer => bField(1, bField(1, name));

function expectStatus(fn: () => unknown, code: number, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

// ---- real bodies ----

test('real kubectl bodies decode to the JSON kubectl would have sent', () => {
  const cases: [string, unknown][] = [
    [
      'create-deployment', // kubectl create deployment web --image=nginx:1.25 --replicas=2
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', resources: {} }] } },
          strategy: {},
        },
        status: {},
      },
    ],
    [
      'create-deployment-zero', // --replicas=0 --port=8080: the pointer field keeps its 0
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'zero', labels: { app: 'zero' } },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'zero' } },
          template: { metadata: { labels: { app: 'zero' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 8080 }], resources: {} }] } },
          strategy: {},
        },
        status: {},
      },
    ],
    [
      'create-configmap', // --from-literal=a=1 --from-literal=empty= --from-file=blob=<ff 00 fe 01>
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1', empty: '' }, binaryData: { blob: Buffer.from([0xff, 0, 0xfe, 1]).toString('base64') } },
    ],
    [
      'create-secret-generic',
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, data: { user: Buffer.from('admin').toString('base64'), empty: '' }, type: 'Opaque' },
    ],
    ['create-namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' }, spec: {}, status: {} }],
    [
      'create-service-clusterip', // --tcp=80:8080
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'svc', labels: { app: 'svc' } },
        spec: { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 'svc' }, type: 'ClusterIP' },
        status: { loadBalancer: {} },
      },
    ],
    [
      'create-job', // create job pi --image=busybox -- echo hi
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'pi' },
        spec: { template: { metadata: {}, spec: { containers: [{ name: 'pi', image: 'busybox', command: ['echo', 'hi'], resources: {} }], restartPolicy: 'Never' } } },
        status: {},
      },
    ],
    ['create-serviceaccount', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } }],
    [
      'create-token', // create token robot --duration=10m --audience=api
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { audiences: ['api'], expirationSeconds: 600 }, status: { token: '' } },
    ],
    [
      'autoscale', // autoscale deployment web --min=2 --max=5 --cpu-percent=80
      {
        apiVersion: 'autoscaling/v1',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web' },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
        status: { currentReplicas: 0, desiredReplicas: 0 },
      },
    ],
    [
      'auth-can-i', // auth can-i create pods
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        metadata: {},
        spec: { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } },
        status: { allowed: false },
      },
    ],
    ['auth-can-i-list', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: {}, spec: { namespace: 'default' }, status: { incomplete: false } }],
    ['auth-whoami', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {}, status: { userInfo: {} } }],
    [
      'create-pdb', // --min-available=0: a pointer IntOrString keeps its 0
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'pdb1' },
        spec: { minAvailable: 0, selector: { matchLabels: { app: 'web' } } },
        status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
      },
    ],
    [
      'create-quota',
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { cpu: '1', memory: '1Gi', pods: '10' }, scopes: ['NotTerminating'] }, status: {} },
    ],
    ['drain-disable-eviction', { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 }], // pods delete with --grace-period=0
  ];
  for (const [name, want] of cases) assert.deepStrictEqual(decodeProtobufObject(fixture(name)), want, name);
});

test('every captured body equals kubectl --dry-run=client -o json of the same command', () => {
  const names = readdirSync(testdata)
    .filter((f) => f.endsWith('.dryrun.json'))
    .map((f) => f.slice(0, -'.dryrun.json'.length));
  assert.ok(names.length >= 20, `only ${names.length} dry-run fixtures`);
  // kubectl prints creationTimestamp: null for a zero Time; decoding leaves the zero Time out instead.
  const dropNullTimestamps = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(dropNullTimestamps);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === 'creationTimestamp' && x === null)).map(([k, x]) => [k, dropNullTimestamps(x)]));
    return v;
  };
  for (const name of names) {
    const want = dropNullTimestamps(JSON.parse(readFileSync(new URL(`${name}.dryrun.json`, testdata), 'utf8')));
    assert.deepStrictEqual(decodeProtobufObject(fixture(name)), want, name);
  }
});

// ---- envelope and malformed input ----

test('malformed bodies are 400 BadRequest naming the problem', () => {
  const deployment = meta('web');
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /^empty data$/],
    ['JSON instead of protobuf', Buffer.from('{"kind":"Pod"}'), /does not appear to be a protobuf message, expected prefix \[107 56 115 0\]/],
    ['magic only', PROTOBUF_MAGIC, /^empty body$/],
    ['truncated envelope', Buffer.concat([PROTOBUF_MAGIC, Buffer.from([0x0a, 0x20, 0x0a])]), /unexpected EOF/],
    ['typeMeta as varint', Buffer.concat([PROTOBUF_MAGIC, vField(1, 5)]), /wrong wireType = 0 for field TypeMeta/],
    ['truncated object', envelope('apps/v1', 'Deployment', deployment.subarray(0, deployment.length - 2)), /Deployment in version "v1" cannot be handled as a Deployment: unexpected EOF/],
    ['spec as varint', envelope('apps/v1', 'Deployment', vField(2, 1)), /wrong wireType = 0 for field spec/],
    ['tag 0', envelope('apps/v1', 'Deployment', Buffer.from([0x02, 0x00])), /illegal tag 0/],
    ['end group without start', envelope('apps/v1', 'Deployment', Buffer.from([0x0c])), /end group/],
    ['wire type 7', envelope('apps/v1', 'Deployment', Buffer.from([0xff, 0x01, 0x00])), /illegal wireType 7/],
    ['varint overflow', envelope('apps/v1', 'Deployment', Buffer.concat([tag(2, 2), Buffer.alloc(11, 0xff)])), /integer overflow/],
    ['negative length', envelope('apps/v1', 'Deployment', Buffer.concat([tag(2, 2), varint(-1n)])), /negative length/],
    ['invalid quantity', envelope('v1', 'ResourceQuota', bField(2, bField(1, bField(1, 'cpu'), bField(2, bField(1, 'lots'))))), /quantities must match/],
    ['IntOrString of type 2', envelope('v1', 'Service', bField(2, bField(1, bField(4, vField(1, 2))))), /impossible IntOrString.Type/],
    ['raw extension not JSON', envelope('apps/v1', 'ControllerRevision', bField(2, bField(1, 'not json'))), /data: embedded raw data is not valid JSON/],
    ['time beyond year 9999', envelope('v1', 'ConfigMap', bField(1, bField(8, vField(1, 400_000_000_000)))), /creationTimestamp: timestamp out of range/],
    ['missing kind', Buffer.concat([PROTOBUF_MAGIC, bField(1, bField(1, 'v1')), bField(2, meta('x'))]), /Object 'Kind' is missing/],
    ['missing apiVersion', Buffer.concat([PROTOBUF_MAGIC, bField(1, bField(2, 'ConfigMap')), bField(2, meta('x'))]), /Object 'apiVersion' is missing/],
    ['kind that does not exist', envelope('apps/v1', 'Widget', deployment), /Widget in version "v1" cannot be handled as a Widget: no kind "Widget" is registered for version "apps\/v1"/],
  ];
  for (const [name, body, message] of cases) {
    assert.throws(
      () => decodeProtobufObject(body),
      (e: unknown) => e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && message.test(e.message),
      name,
    );
  }
});

test('an upstream kind without a descriptor is 415 UnsupportedMediaType (JSON works for it)', () => {
  expectStatus(
    () => decodeProtobufObject(envelope('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', meta('x'))),
    415,
    /unknown format.*application\/json.*admissionregistration\.k8s\.io\/v1, Kind=ValidatingWebhookConfiguration/,
  );
  expectStatus(() => decodeProtobufObject(envelope('apps/v1beta1', 'Deployment', meta('x'))), 415, /apps\/v1beta1, Kind=Deployment/);
});

test('the route fills an envelope without apiVersion/kind and names the expected kind in errors', () => {
  const body = Buffer.concat([PROTOBUF_MAGIC, bField(2, meta('cfg'))]);
  assert.deepStrictEqual(decodeProtobufObject(body, { apiVersion: 'v1', kind: 'ConfigMap' }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } });
  expectStatus(() => decodeProtobufObject(envelope('v1', 'Widget', meta('x')), { apiVersion: 'v1', kind: 'ConfigMap' }), 400, /Widget in version "v1" cannot be handled as a ConfigMap/);
});

test('DeleteOptions decode under any group version (typed clients of every group send them)', () => {
  const body = envelope('apps/v1', 'DeleteOptions', Buffer.concat([vField(1, 30), bField(4, 'Foreground'), bField(5, 'All')]));
  assert.deepStrictEqual(decodeProtobufObject(body), { apiVersion: 'apps/v1', kind: 'DeleteOptions', gracePeriodSeconds: 30, propagationPolicy: 'Foreground', dryRun: ['All'] });
});

test('unknown fields of every wire type are skipped', () => {
  const unknown = Buffer.concat([
    vField(90, 7),
    bField(91, 'x'),
    tag(92, 5),
    Buffer.alloc(4),
    tag(93, 1),
    Buffer.alloc(8),
    tag(94, 3),
    vField(1, 1),
    bField(2, 'nested'),
    tag(94, 4),
  ]);
  const body = envelope('v1', 'ConfigMap', Buffer.concat([unknown, meta('cfg'), unknown]));
  assert.deepStrictEqual(decodeProtobufObject(body), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } });
});

// ---- zero values ----

test('zero values: non-pointer zeros dropped, pointer zeros kept, absent structs become {}', () => {
  // DeploymentSpec: replicas (*int32) = 0, minReadySeconds (int32) = 0, paused (bool) = false, selector absent.
  const spec = Buffer.concat([vField(1, 0), vField(5, 0), vField(7, 0)]);
  const got = decodeProtobufObject(envelope('apps/v1', 'Deployment', Buffer.concat([meta('web'), bField(2, spec)])));
  assert.deepStrictEqual(got, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 0, template: { metadata: {}, spec: {} }, strategy: {} },
    status: {},
  });
  // Non-pointer fields without omitempty keep their zero (ContainerPort.containerPort), like Go's JSON.
  assert.deepStrictEqual(decodeMessageJSON('core.v1.ContainerPort', vField(3, 0)), { containerPort: 0 });
  assert.deepStrictEqual(decodeMessageJSON('core.v1.ContainerPort', Buffer.alloc(0)), { containerPort: 0 });
  // Absent fields of an inlined embed are filled into the parent (EphemeralContainer ⊃ EphemeralContainerCommon).
  assert.deepStrictEqual(decodeMessageJSON('core.v1.EphemeralContainer', Buffer.alloc(0)), { name: '', resources: {} });
  // Empty strings in maps and lists are values, not zeros.
  const cm = decodeProtobufObject(envelope('v1', 'ConfigMap', Buffer.concat([meta('c'), bField(2, bField(1, 'k'), bField(2, ''))])));
  assert.deepStrictEqual(cm.data, { k: '' });
});

test('a message field seen twice is merged; a scalar seen twice keeps the last value', () => {
  const raw = Buffer.concat([bField(1, bField(1, 'first')), bField(1, bField(11, bField(1, 'a'), bField(2, 'b'))), bField(1, bField(1, 'web'))]);
  assert.deepStrictEqual(decodeProtobufObject(envelope('v1', 'ConfigMap', raw)).metadata, { name: 'web', labels: { a: 'b' } });
});

test('map entries with a missing key or value get Go zero values', () => {
  // Secret.data: an entry with only key "k" (value → ""), an entry with only the value "v" (key → "").
  const raw = Buffer.concat([meta('s'), bField(2, bField(1, 'k')), bField(2, bField(2, 'v'))]);
  assert.deepStrictEqual(decodeProtobufObject(envelope('v1', 'Secret', raw)).data, { k: '', '': 'dg==' });
});

test('int64 and int32 negatives, packed and unpacked repeated scalars', () => {
  assert.deepStrictEqual(decodeMessageJSON('meta.v1.DeleteOptions', vField(1, -1)), { gracePeriodSeconds: -1 });
  assert.deepStrictEqual(decodeMessageJSON('core.v1.ContainerPort', vField(3, -5)), { containerPort: -5 });
  assert.deepStrictEqual(decodeMessageJSON('meta.v1.DeleteOptions', vField(1, 2 ** 40)), { gracePeriodSeconds: 2 ** 40 });
  // PodSecurityContext.supplementalGroups = 4: [int64]
  const unpacked = Buffer.concat([vField(4, 1), vField(4, 2000), vField(4, -3)]);
  const packed = bField(4, varint(1), varint(2000), varint(-3));
  assert.deepStrictEqual(decodeMessageJSON('core.v1.PodSecurityContext', unpacked), { supplementalGroups: [1, 2000, -3] });
  assert.deepStrictEqual(decodeMessageJSON('core.v1.PodSecurityContext', packed), { supplementalGroups: [1, 2000, -3] });
});

test('strings are UTF-8 and bytes are base64', () => {
  const raw = Buffer.concat([meta('ünï-☃'), bField(2, bField(1, 'bin'), bField(2, Buffer.from([0, 1, 2, 250])))]);
  const got = decodeProtobufObject(envelope('v1', 'Secret', raw));
  assert.equal(got.metadata.name, 'ünï-☃');
  assert.deepStrictEqual(got.data, { bin: 'AAEC+g==' });
});

// ---- special types ----

test('Time is RFC 3339 to the second, MicroTime to the microsecond, zero times are left out', () => {
  const time = (s: number, n = 0): Buffer => Buffer.concat([vField(1, s), vField(2, n)]);
  // ObjectMeta: creationTimestamp = 8 (Time), deletionTimestamp = 9 (*Time).
  assert.deepStrictEqual(decodeMessageJSON('meta.v1.ObjectMeta', Buffer.concat([bField(8, time(1700000000, 999_999_999)), bField(9, time(0))])), {
    creationTimestamp: '2023-11-14T22:13:20Z',
    deletionTimestamp: '1970-01-01T00:00:00Z',
  });
  assert.deepStrictEqual(decodeMessageJSON('meta.v1.ObjectMeta', Buffer.concat([bField(8, ''), bField(9, '')])), {});
  // core.v1.Event.eventTime = 10 (MicroTime).
  const ev = decodeMessageJSON('core.v1.Event', bField(10, time(1700000000, 123_456_789)));
  assert.equal(ev.eventTime, '2023-11-14T22:13:20.123456Z');
  assert.equal(decodeMessageJSON('core.v1.Event', bField(10, time(-1, 0))).eventTime, '1969-12-31T23:59:59.000000Z');
});

test('IntOrString becomes a number or a string; a pointer keeps its zero', () => {
  const ios = (type: number, i: number, s: string): Buffer => Buffer.concat([vField(1, type), vField(2, i), bField(3, s)]);
  // ServicePort.targetPort = 4 (IntOrString, not a pointer, omitempty); port (int32, no omitempty) shows its zero.
  assert.deepStrictEqual(decodeMessageJSON('core.v1.ServicePort', bField(4, ios(1, 0, 'http'))), { port: 0, targetPort: 'http' });
  assert.deepStrictEqual(decodeMessageJSON('core.v1.ServicePort', bField(4, ios(0, 8080, ''))), { port: 0, targetPort: 8080 });
  assert.deepStrictEqual(decodeMessageJSON('core.v1.ServicePort', Buffer.concat([vField(3, 80), bField(4, ios(0, 0, ''))])), { port: 80 });
  // RollingUpdateDeployment.maxUnavailable = 1 (*IntOrString)
  assert.deepStrictEqual(decodeMessageJSON('apps.v1.RollingUpdateDeployment', Buffer.concat([bField(1, ios(0, 0, '')), bField(2, ios(1, 0, '25%'))])), {
    maxUnavailable: 0,
    maxSurge: '25%',
  });
});

test('Quantity stays the string as sent; a non-pointer zero Quantity is "0"', () => {
  const limits = bField(1, bField(1, 'cpu'), bField(2, bField(1, '500m')));
  assert.deepStrictEqual(decodeMessageJSON('core.v1.ResourceRequirements', limits), { limits: { cpu: '500m' } });
  // ResourceFieldSelector.divisor (resource.Quantity, not a pointer): gogo writes a zero as "0".
  assert.deepStrictEqual(decodeMessageJSON('core.v1.ResourceFieldSelector', Buffer.concat([bField(2, 'limits.cpu'), bField(3, bField(1, '0'))])), { resource: 'limits.cpu', divisor: '0' });
});

test('RawExtension and FieldsV1 carry embedded JSON', () => {
  assert.deepStrictEqual(decodeMessageJSON('apps.v1.ControllerRevision', Buffer.concat([meta('r'), bField(2, bField(1, '{"spec":{"a":[1,2]}}')), vField(3, 4)])), {
    metadata: { name: 'r' },
    data: { spec: { a: [1, 2] } },
    revision: 4,
  });
  const mf = bField(17, bField(1, 'kubectl'), bField(2, 'Update'), bField(3, 'v1'), bField(6, 'FieldsV1'), bField(7, bField(1, '{"f:data":{"f:a":{}}}')));
  assert.deepStrictEqual(decodeMessageJSON('meta.v1.ObjectMeta', mf), {
    managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }],
  });
});

test('ExtraValue maps decode to lists of strings', () => {
  // SubjectAccessReviewSpec: user = 3, extra = 5 map<string, ExtraValue{items}>
  const spec = Buffer.concat([bField(3, 'alice'), bField(5, bField(1, 'scopes'), bField(2, bField(1, 'a'), bField(1, 'b'))), bField(5, bField(1, 'none'))]);
  assert.deepStrictEqual(decodeMessageJSON('authorization.v1.SubjectAccessReviewSpec', spec), { user: 'alice', extra: { scopes: ['a', 'b'], none: [] } });
});

test('durations print as Go does', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [1, '1ns'],
    [1500, '1.5µs'],
    [1_000_000, '1ms'],
    [1_500_000_000, '1.5s'],
    [60_000_000_000, '1m0s'],
    [3_600_000_000_000, '1h0m0s'],
    [3_723_500_000_000, '1h2m3.5s'],
    [-2_000_000_000, '-2s'],
  ];
  for (const [ns, s] of cases) assert.equal(formatDuration(ns), s, String(ns));
});

// ---- robustness ----

test('arbitrary bytes never crash the decoder: an object or a 400', () => {
  const bodies = readdirSync(testdata)
    .filter((f) => f.endsWith('.bin'))
    .map((f) => readFileSync(new URL(f, testdata)));
  const outcome = (body: Buffer): void => {
    try {
      const obj = decodeProtobufObject(body);
      assert.equal(typeof obj.kind, 'string');
    } catch (e) {
      if (!(e instanceof ApiError) || (e.code !== 400 && e.code !== 415)) throw e;
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => outcome(envelope('apps/v1', 'Deployment', Buffer.from(raw)))),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.constantFrom(...bodies), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (body, at, byte, cut) => {
      const b = Buffer.from(body);
      b[PROTOBUF_MAGIC.length + (at % (b.length - PROTOBUF_MAGIC.length))] = byte;
      outcome(b);
      outcome(b.subarray(0, PROTOBUF_MAGIC.length + (cut % (b.length - PROTOBUF_MAGIC.length))));
    }),
    { numRuns: 500 },
  );
});
