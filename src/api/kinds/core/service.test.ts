// Tests for the Service strategy: defaults, IP-family init, update patching, type switches, validation messages,
// Table cells and field selectors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorBody, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { services } from './service.js';

type Obj = Record<string, unknown>;
const msgs = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
const NOW = Date.parse('2025-01-01T12:00:00Z');

function create(spec: Obj, name = 'web'): { obj: KubeObject; errs: string[] } {
  const o: KubeObject = { metadata: { name, namespace: 'default', creationTimestamp: '2025-01-01T11:58:00Z' }, spec };
  services.defaults!(o);
  services.prepareForCreate!(o);
  return { obj: o, errs: msgs(services.validate!(o)) };
}

/** The store's update path: status carried over, defaults, prepareForUpdate, validate + validateUpdate. */
function update(old: KubeObject, spec: Obj): { obj: KubeObject; errs: string[] } {
  const o: KubeObject = { metadata: structuredClone(old.metadata), spec, status: structuredClone(old.status) };
  services.defaults!(o);
  services.prepareForUpdate!(o, old);
  return { obj: o, errs: msgs([...services.validate!(o), ...services.validateUpdate!(o, old)]) };
}

test('defaults: `kubectl expose` style ClusterIP service', () => {
  const { obj, errs } = create({ selector: { app: 'web' }, ports: [{ port: 80 }] });
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.spec, {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  assert.deepEqual(obj.status, { loadBalancer: {} });
});

test('defaults by type', () => {
  const lb = create({ type: 'LoadBalancer', ports: [{ port: 443, targetPort: 'https' }] }).obj.spec as Obj;
  assert.equal(lb.externalTrafficPolicy, 'Cluster');
  assert.equal(lb.allocateLoadBalancerNodePorts, true);
  assert.deepEqual(lb.ports, [{ port: 443, targetPort: 'https', protocol: 'TCP' }]);
  const ext = create({ type: 'ExternalName', externalName: 'example.com' }).obj.spec as Obj;
  assert.equal(ext.ipFamilies, undefined);
  assert.equal(ext.internalTrafficPolicy, undefined);
  const headless = create({ clusterIP: 'None' }).obj.spec as Obj;
  assert.deepEqual([headless.clusterIPs, headless.ipFamilyPolicy, headless.ipFamilies], [['None'], 'RequireDualStack', ['IPv4']]);
  const affinity = create({ ports: [{ port: 80 }], sessionAffinity: 'ClientIP' }).obj.spec as Obj;
  assert.deepEqual(affinity.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  const fixed = create({ ports: [{ port: 80 }], clusterIP: '10.96.0.10' }).obj.spec as Obj;
  assert.deepEqual(fixed.clusterIPs, ['10.96.0.10']);
});

test('validation messages', () => {
  const cases: [string, Obj, string[], string?][] = [
    ['no ports', {}, ['spec.ports: Required value']],
    ['bad type', { type: 'Magic', ports: [{ port: 80 }] }, ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ['bad port', { ports: [{ port: 0 }] }, ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive', 'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive']],
    ['multiple ports need names', { ports: [{ port: 80 }, { port: 443 }] }, ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']],
    [
      'duplicate port names',
      { ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] },
      ['spec.ports[1].name: Duplicate value: "http"'],
    ],
    ['nodePort on ClusterIP', { ports: [{ port: 80, nodePort: 30001 }] }, ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    ['bad protocol', { ports: [{ port: 80, protocol: 'HTTP' }] }, ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']],
    ['bad clusterIP', { ports: [{ port: 80 }], clusterIP: '10.0.0.300' }, ['spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    ['headless NodePort', { type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] }, ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"]],
    ['ExternalName without name', { type: 'ExternalName' }, ['spec.externalName: Required value']],
    [
      'externalTrafficPolicy on ClusterIP',
      { ports: [{ port: 80 }], externalTrafficPolicy: 'Local' },
      ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services'],
    ],
    ['bad sessionAffinity', { ports: [{ port: 80 }], sessionAffinity: 'Sticky' }, ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"']],
    [
      'name is a DNS-1035 label',
      { ports: [{ port: 80 }] },
      [
        `metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      ],
      '1web',
    ],
    ['loopback externalIP', { ports: [{ port: 80 }], externalIPs: ['127.0.0.1'] }, ['spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']],
  ];
  for (const [name, spec, want, svcName] of cases) assert.deepEqual(create(spec, svcName).errs, want, name);
});

test('update keeps allocated clusterIP and nodePorts the client omitted', () => {
  const { obj: old } = create({ type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
  (old.spec as Obj).clusterIP = '10.96.0.20';
  (old.spec as Obj).clusterIPs = ['10.96.0.20'];
  const { obj, errs } = update(old, { type: 'NodePort', selector: { app: 'web2' }, ports: [{ name: 'http', port: 80 }] });
  assert.deepEqual(errs, []);
  const s = obj.spec as Obj;
  assert.equal(s.clusterIP, '10.96.0.20');
  assert.deepEqual(s.clusterIPs, ['10.96.0.20']);
  assert.equal((s.ports as Obj[])[0].nodePort, 30080);
});

test('update: clusterIP is immutable; NodePort → ClusterIP drops unchanged nodePorts', () => {
  const { obj: old } = create({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
  (old.spec as Obj).clusterIP = '10.96.0.20';
  (old.spec as Obj).clusterIPs = ['10.96.0.20'];
  const changed = update(old, { ...structuredClone(old.spec as Obj), clusterIP: '10.96.0.21', clusterIPs: ['10.96.0.21'] });
  assert.deepEqual(changed.errs, ['spec.clusterIPs[0]: Invalid value: ["10.96.0.21"]: may not change once set']);
  const toClusterIP = update(old, { ...structuredClone(old.spec as Obj), type: 'ClusterIP' });
  assert.deepEqual(toClusterIP.errs, []);
  const s = toClusterIP.obj.spec as Obj;
  assert.equal((s.ports as Obj[])[0].nodePort, undefined);
  assert.equal(s.externalTrafficPolicy, undefined);
});

test('Table cells', () => {
  const mk = (spec: Obj, status: Obj = {}): KubeObject => {
    const { obj } = create(spec);
    obj.status = { loadBalancer: {}, ...status };
    return obj;
  };
  const cases: [string, KubeObject, unknown[]][] = [
    ['cluster ip', mk({ ports: [{ port: 80 }], clusterIP: '10.96.0.1', selector: { b: '2', a: '1' } }), ['web', 'ClusterIP', '10.96.0.1', '<none>', '80/TCP', '2m', 'a=1,b=2']],
    ['node port', mk({ type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 53, protocol: 'UDP', nodePort: 30053 }] }), ['web', 'NodePort', '<none>', '<none>', '80:30080/TCP,53:30053/UDP', '2m', '<none>']],
    ['lb pending', mk({ type: 'LoadBalancer', ports: [{ port: 443, nodePort: 31443 }] }), ['web', 'LoadBalancer', '<none>', '<pending>', '443:31443/TCP', '2m', '<none>']],
    [
      'lb with ingress and external IPs',
      mk({ type: 'LoadBalancer', ports: [{ port: 443 }], externalIPs: ['192.0.2.10'] }, { loadBalancer: { ingress: [{ ip: '203.0.113.5', ipMode: 'VIP' }, { hostname: 'lb.example.com' }] } }),
      ['web', 'LoadBalancer', '<none>', '203.0.113.5,lb.example.com,192.0.2.10', '443/TCP', '2m', '<none>'],
    ],
    ['external name', mk({ type: 'ExternalName', externalName: 'db.example.com' }), ['web', 'ExternalName', '<none>', 'db.example.com', '<none>', '2m', '<none>']],
    ['headless', mk({ clusterIP: 'None', ports: [{ port: 5432 }] }), ['web', 'ClusterIP', 'None', '<none>', '5432/TCP', '2m', '<none>']],
  ];
  for (const [name, o, want] of cases) assert.deepEqual(services.table!.cells(o, NOW), want, name);
});

test('field labels and discovery metadata', () => {
  const { obj } = create({ type: 'NodePort', ports: [{ port: 80 }] });
  (obj.spec as Obj).clusterIP = '10.96.0.3';
  assert.deepEqual(services.fieldLabels!(obj), { 'spec.clusterIP': '10.96.0.3', 'spec.type': 'NodePort' });
  assert.deepEqual([services.shortNames, services.categories, services.status, services.extraSubresources!.map((s) => s.name)], [['svc'], ['all'], true, ['proxy']]);
});
