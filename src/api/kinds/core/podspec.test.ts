// Tests for PodSpec defaulting, validation messages (exact upstream strings) and QoS classification.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorBody, type FieldError } from '../../errors.js';
import { defaultImagePullPolicy, defaultPodSpec, defaultPodTemplateSpec, podQOSClass, validatePodSpec, validatePodTemplateSpec } from './podspec.js';

type Obj = Record<string, unknown>;
const msgs = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);

/** A defaulted, valid spec with one container; `mut` edits it before validation. */
function spec(mut: (s: Obj) => void = () => {}): Obj {
  const s: Obj = { containers: [{ name: 'app', image: 'nginx:1.25' }] };
  mut(s);
  defaultPodSpec(s);
  return s;
}
const c0 = (s: Obj): Obj => (s.containers as Obj[])[0];

test('imagePullPolicy defaults from the image tag', () => {
  const cases: [string, string][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['docker.io/library/nginx:1.25', 'IfNotPresent'],
    ['localhost:5000/app', 'Always'],
    ['localhost:5000/app:v1', 'IfNotPresent'],
    ['registry.example.com/team/app', 'Always'],
    ['nginx@sha256:' + 'a'.repeat(64), 'IfNotPresent'],
    ['nginx:1.25@sha256:' + 'b'.repeat(64), 'IfNotPresent'],
    ['Nginx', 'IfNotPresent'],
    ['', 'IfNotPresent'],
  ];
  for (const [image, want] of cases) assert.equal(defaultImagePullPolicy(image), want, image);
});

test('defaultPodSpec fills upstream PodSpec defaults', () => {
  const s: Obj = {
    containers: [
      {
        name: 'app',
        image: 'nginx',
        ports: [{ containerPort: 80 }],
        livenessProbe: { httpGet: { port: 80 } },
        readinessProbe: { grpc: { port: 9000 } },
        resources: { limits: { cpu: 0.5, memory: '1024Mi' } },
        env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }],
      },
    ],
    volumes: [{ name: 'a' }, { name: 'b', secret: { secretName: 's' } }, { name: 'c', configMap: { name: 'c' } }, { name: 'd', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }, { name: 'e', hostPath: { path: '/x' } }],
  };
  defaultPodSpec(s);
  assert.deepEqual(
    { ...s, containers: undefined, volumes: undefined },
    { containers: undefined, volumes: undefined, dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', securityContext: {}, terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler' },
  );
  const c = c0(s);
  assert.equal(c.imagePullPolicy, 'Always');
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(c.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual((c.readinessProbe as Obj).grpc, { port: 9000, service: '' });
  assert.deepEqual(c.resources, { limits: { cpu: '500m', memory: '1Gi' } }, 'quantities canonical, requests only defaulted on Pods');
  const env = c.env as Obj[];
  assert.equal(((env[0].valueFrom as Obj).fieldRef as Obj).apiVersion, 'v1');
  assert.equal(((env[1].valueFrom as Obj).resourceFieldRef as Obj).divisor, '0');
  assert.deepEqual(s.volumes, [
    { name: 'a', emptyDir: {} },
    { name: 'b', secret: { secretName: 's', defaultMode: 420 } },
    { name: 'c', configMap: { name: 'c', defaultMode: 420 } },
    { name: 'd', projected: { sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 3600 } }], defaultMode: 420 } },
    { name: 'e', hostPath: { path: '/x', type: '' } },
  ]);
});

test('defaultPodSpec keeps explicit values and mirrors serviceAccount', () => {
  const s: Obj = { restartPolicy: 'Never', dnsPolicy: 'None', terminationGracePeriodSeconds: 0, serviceAccount: 'legacy', containers: [{ name: 'a', image: 'x', imagePullPolicy: 'Never' }] };
  defaultPodSpec(s);
  assert.equal(s.restartPolicy, 'Never');
  assert.equal(s.dnsPolicy, 'None');
  assert.equal(s.terminationGracePeriodSeconds, 0);
  assert.equal(c0(s).imagePullPolicy, 'Never');
  assert.equal(s.serviceAccountName, 'legacy');
  assert.equal(s.serviceAccount, 'legacy');
});

test('defaultPodTemplateSpec adds creationTimestamp: null and defaults the spec', () => {
  const t: Obj = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'a', image: 'x:1' }] } };
  defaultPodTemplateSpec(t);
  assert.deepEqual(t.metadata, { labels: { app: 'x' }, creationTimestamp: null });
  assert.equal((t.spec as Obj).restartPolicy, 'Always');
});

test('validatePodSpec accepts a defaulted minimal spec', () => {
  assert.deepEqual(msgs(validatePodSpec(spec(), 'spec')), []);
});

test('validatePodSpec messages match upstream', () => {
  const cases: [string, (s: Obj) => void, string[]][] = [
    ['no containers', (s) => (s.containers = []), ['spec.containers: Required value']],
    ['missing image', (s) => (c0(s).image = ''), ['spec.containers[0].image: Required value']],
    ['missing name', (s) => (c0(s).name = ''), ['spec.containers[0].name: Required value']],
    [
      'bad container name',
      (s) => (c0(s).name = 'App_1'),
      [
        `spec.containers[0].name: Invalid value: "App_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      ],
    ],
    [
      'duplicate container names',
      (s) => (s.containers = [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }]),
      ['spec.containers[1].name: Duplicate value: "a"'],
    ],
    ['bad restartPolicy', (s) => (s.restartPolicy = 'Sometimes'), ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    [
      'bad dnsPolicy',
      (s) => (s.dnsPolicy = 'Foo'),
      ['spec.dnsPolicy: Unsupported value: "Foo": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'],
    ],
    ['bad pull policy', (s) => (c0(s).imagePullPolicy = 'Sometimes'), ['spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"']],
    [
      'bad port protocol and range',
      (s) => (c0(s).ports = [{ containerPort: 70000, protocol: 'HTTP' }]),
      [
        'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
        'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      ],
    ],
    ['missing containerPort', (s) => (c0(s).ports = [{ protocol: 'TCP' }]), ['spec.containers[0].ports[0].containerPort: Required value']],
    [
      'bad port name',
      (s) => (c0(s).ports = [{ name: 'HTTP_port', containerPort: 80, protocol: 'TCP' }]),
      [
        'spec.containers[0].ports[0].name: Invalid value: "HTTP_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      ],
    ],
    [
      'requests above limits',
      (s) => (c0(s).resources = { requests: { cpu: '2' }, limits: { cpu: '1' } }),
      ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'],
    ],
    [
      'negative quantity',
      (s) => (c0(s).resources = { requests: { memory: '-1Gi' } }),
      ['spec.containers[0].resources.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0'],
    ],
    [
      'malformed quantity',
      (s) => (c0(s).resources = { limits: { cpu: 'lots' } }),
      [`spec.containers[0].resources.limits[cpu]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`],
    ],
    [
      'unknown resource name',
      (s) => (c0(s).resources = { limits: { gpu: '1' } }),
      [
        'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified',
        'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
      ],
    ],
    [
      'extended resource request must equal limit',
      (s) => (c0(s).resources = { requests: { 'example.com/gpu': '1' }, limits: { 'example.com/gpu': '2' } }),
      ['spec.containers[0].resources.requests: Invalid value: "1": must be equal to example.com/gpu limit of 2'],
    ],
    ['volume without source (defaulted to emptyDir) and name', (s) => (s.volumes = [{}]), ['spec.volumes[0].name: Required value']],
    [
      'volume with two sources',
      (s) => (s.volumes = [{ name: 'v', configMap: { name: 'c' }, secret: { secretName: 's' } }]),
      ['spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type'],
    ],
    ['duplicate volume', (s) => (s.volumes = [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {} }]), ['spec.volumes[1].name: Duplicate value: "v"']],
    ['secret volume without name', (s) => (s.volumes = [{ name: 'v', secret: {} }]), ['spec.volumes[0].secret.secretName: Required value']],
    [
      'bad defaultMode',
      (s) => (s.volumes = [{ name: 'v', configMap: { name: 'c', defaultMode: 1000 } }]),
      ['spec.volumes[0].configMap.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive'],
    ],
    ['mount without mountPath', (s) => ((s.volumes = [{ name: 'v', emptyDir: {} }]), (c0(s).volumeMounts = [{ name: 'v' }])), ['spec.containers[0].volumeMounts[0].mountPath: Required value']],
    [
      'env var name',
      (s) => (c0(s).env = [{ name: 'A=B', value: 'x' }]),
      ["spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"],
    ],
    ['env var name required', (s) => (c0(s).env = [{ value: 'x' }]), ['spec.containers[0].env[0].name: Required value']],
    [
      'env valueFrom empty',
      (s) => (c0(s).env = [{ name: 'A', valueFrom: {} }]),
      ['spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'],
    ],
    [
      'env fieldRef unsupported',
      (s) => (c0(s).env = [{ name: 'A', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.phase' } } }]),
      [
        'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
      ],
    ],
    [
      'liveness successThreshold',
      (s) => (c0(s).livenessProbe = { exec: { command: ['true'] }, successThreshold: 2 }),
      ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
    ],
    ['probe without handler', (s) => (c0(s).readinessProbe = { periodSeconds: 5 }), ['spec.containers[0].readinessProbe: Required value: must specify a handler type']],
    [
      'init container with probe',
      (s) => (s.initContainers = [{ name: 'init', image: 'busybox', livenessProbe: { exec: { command: ['x'] } } }]),
      ['spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always'],
    ],
    ['init name clashes with container', (s) => (s.initContainers = [{ name: 'app', image: 'busybox' }]), ['spec.initContainers[0].name: Duplicate value: "app"']],
    [
      'toleration operator',
      (s) => (s.tolerations = [{ operator: 'Equal', value: 'x' }]),
      ['spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"'],
    ],
    [
      'tolerationSeconds without NoExecute',
      (s) => (s.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }]),
      ["spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"],
    ],
    [
      'nodeSelector label value',
      (s) => (s.nodeSelector = { disk: 'ssd fast' }),
      [
        `spec.nodeSelector: Invalid value: "ssd fast": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ],
    ],
    ['activeDeadlineSeconds', (s) => (s.activeDeadlineSeconds = 0), ['spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive']],
    [
      'dnsPolicy None without config',
      (s) => (s.dnsPolicy = 'None'),
      ['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None'],
    ],
    [
      'hostPort conflict',
      (s) => (s.containers = [{ name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }, { name: 'b', image: 'x', ports: [{ containerPort: 81, hostPort: 8080 }] }]),
      ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"'],
    ],
    [
      'required node affinity without terms',
      (s) => (s.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } }),
      ['spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term'],
    ],
    [
      'pod anti-affinity without topologyKey',
      (s) => (s.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { a: 'b' } } }] } }),
      [
        'spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty',
        `spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: "": name part must be non-empty`,
        `spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      ],
    ],
  ];
  for (const [name, mut, want] of cases) {
    const s = spec(mut);
    assert.deepEqual(msgs(validatePodSpec(s, 'spec')), want, name);
  }
});

test('an undefaulted volume without a source needs a volume type', () => {
  const s = spec();
  s.volumes = [{ name: 'v' }];
  assert.deepEqual(msgs(validatePodSpec(s, 'spec')), ['spec.volumes[0]: Required value: must specify a volume type']);
});

test('a mount of an unknown volume is a NotFound error', () => {
  const s = spec((x) => (c0(x).volumeMounts = [{ name: 'nope', mountPath: '/x' }]));
  const errs = validatePodSpec(s, 'spec');
  assert.equal(errs.length, 1);
  assert.equal(errs[0].type as string, 'FieldValueNotFound');
  assert.equal(errs[0].field, 'spec.containers[0].volumeMounts[0].name');
  assert.equal(errs[0].value, 'nope');
});

test('hostNetwork pods must use hostPort == containerPort', () => {
  const s = spec((x) => ((x.hostNetwork = true), (c0(x).ports = [{ containerPort: 80, hostPort: 81 }])));
  assert.deepEqual(msgs(validatePodSpec(s, 'spec', { resourceIsPod: true })), [
    'spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true',
  ]);
});

test('validatePodTemplateSpec reports labels at <path>.labels and forbids ephemeral containers', () => {
  const t: Obj = { metadata: { labels: { 'bad key!': 'x' } }, spec: { containers: [{ name: 'a', image: 'x' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] } };
  defaultPodTemplateSpec(t);
  const got = msgs(validatePodTemplateSpec(t, 'spec.template'));
  assert.ok(got[0].startsWith('spec.template.labels: Invalid value: "bad key!": name part must consist of'), got[0]);
  assert.equal(got.at(-1), 'spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template');
});

test('podQOSClass', () => {
  const ctr = (resources: Obj): Obj => ({ name: 'c', image: 'x', resources });
  const cases: [string, Obj[], string][] = [
    ['no resources', [ctr({})], 'BestEffort'],
    ['zero requests are ignored', [ctr({ requests: { cpu: '0' } })], 'BestEffort'],
    ['limits only (requests default to limits)', [ctr({ limits: { cpu: '1', memory: '1Gi' } })], 'Guaranteed'],
    ['equal requests and limits', [ctr({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '0.5', memory: '1024Mi' } })], 'Guaranteed'],
    ['requests below limits', [ctr({ requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })], 'Burstable'],
    ['cpu limit only', [ctr({ limits: { cpu: '1' } })], 'Burstable'],
    ['one guaranteed, one besteffort', [ctr({ limits: { cpu: '1', memory: '1Gi' } }), ctr({})], 'Burstable'],
    ['extended resources do not count', [ctr({ limits: { 'example.com/gpu': '1' } })], 'BestEffort'],
  ];
  for (const [name, containers, want] of cases) assert.equal(podQOSClass({ containers }), want, name);
  assert.equal(podQOSClass({ containers: [ctr({ limits: { cpu: '1', memory: '1Gi' } })], initContainers: [ctr({ requests: { cpu: '1' } })] }), 'Burstable', 'init containers count');
});
