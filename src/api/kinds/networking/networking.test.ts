// networking.k8s.io/v1: Ingress validation and columns, IngressClass, NetworkPolicy defaults and validation.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../types.js';
import { GO_VALUE_TODO, goValuesRendered, messages, obj } from '../meta/testutil.js';
import { ingressKind } from './ingress.js';
import { ingressClassKind } from './ingressclass.js';
import { networkPolicyKind } from './networkpolicy.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');
const backend = { service: { name: 'web', port: { number: 80 } } };
const ing = (spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject => {
  const o = obj('networking.k8s.io/v1', 'Ingress', 'main', { spec });
  if (annotations) o.metadata.annotations = annotations;
  return o;
};
const rule = (host: string | undefined, paths: unknown[]): Record<string, unknown> => ({ ...(host ? { host } : {}), http: { paths } });

describe('Ingress validation messages', () => {
  const cases: { name: string; spec: Record<string, unknown>; annotations?: Record<string, string>; want: string[]; go?: boolean }[] = [
    { name: 'valid', spec: { ingressClassName: 'nginx', rules: [rule('example.com', [{ path: '/', pathType: 'Prefix', backend }])] }, want: [] },
    { name: 'no rules, no default backend', spec: {}, want: ['spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified'], go: true },
    { name: 'pathType is required', spec: { rules: [rule('example.com', [{ path: '/', backend }])] }, want: ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified'] },
    {
      name: 'unknown pathType',
      spec: { rules: [rule(undefined, [{ path: '/', pathType: 'Regex', backend }])] },
      want: ['spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"'],
    },
    {
      name: 'relative and unsafe paths',
      spec: { rules: [rule(undefined, [{ path: 'api', pathType: 'Exact', backend }, { path: '/a//b/..', pathType: 'Prefix', backend }])] },
      want: [
        'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
        "spec.rules[0].http.paths[1].path: Invalid value: \"/a//b/..\": must not contain '//'",
        "spec.rules[0].http.paths[1].path: Invalid value: \"/a//b/..\": cannot end with '/..'",
      ],
    },
    { name: 'IP host', spec: { rules: [rule('10.0.0.1', [{ path: '/', pathType: 'Prefix', backend }])] }, want: ['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'] },
    {
      name: 'backend port: neither name nor number; both service and resource',
      spec: { rules: [rule(undefined, [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: {} } } }, { path: '/x', pathType: 'Prefix', backend: { ...backend, resource: { kind: 'Bucket', name: 'b' } } }])] },
      want: ['spec.rules[0].http.paths[0].backend: Required value: port name or number is required', 'spec.rules[0].http.paths[1].backend: Invalid value: "": cannot set both resource and service backends'],
    },
    {
      name: 'port number out of range, bad service name',
      spec: { defaultBackend: { service: { name: 'Web', port: { number: 70000 } } } },
      want: [
        "spec.defaultBackend.service.name: Invalid value: \"Web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        'spec.defaultBackend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive',
      ],
    },
    {
      name: 'class annotation must match ingressClassName',
      spec: { ingressClassName: 'nginx', defaultBackend: backend },
      annotations: { 'kubernetes.io/ingress.class': 'traefik' },
      want: ['annotations.kubernetes.io/ingress.class: Invalid value: "traefik": must match `ingressClassName` when both are specified'],
    },
    { name: 'wildcard hosts are allowed', spec: { tls: [{ hosts: ['*.example.com'], secretName: 'tls' }], rules: [rule('*.example.com', [{ path: '/', pathType: 'Prefix', backend }])] }, want: [] },
  ];
  for (const c of cases)
    test(c.name, { todo: c.go && !goValuesRendered ? GO_VALUE_TODO : undefined }, () => {
      assert.deepEqual(messages(ingressKind.validate!(ing(c.spec, c.annotations))), c.want);
    });
});

describe('Ingress table', () => {
  test('class, hosts, address and ports', () => {
    const i = ing({ ingressClassName: 'nginx', tls: [{ hosts: ['a.example.com'] }], rules: ['a', 'b', 'c', 'd'].map((h) => rule(`${h}.example.com`, [{ path: '/', pathType: 'Prefix', backend }])) });
    ingressKind.prepareForCreate!(i);
    assert.deepEqual(i.status, { loadBalancer: {} });
    assert.deepEqual(ingressKind.table!.cells(i, NOW), ['main', 'nginx', 'a.example.com,b.example.com,c.example.com + 1 more...', '', '80, 443', '5m']);
    i.status = { loadBalancer: { ingress: [{ ip: '192.0.2.10' }, { hostname: 'lb.example.com' }, { ip: '192.0.2.10' }] } };
    delete (i.spec as any).ingressClassName;
    delete (i.spec as any).tls;
    (i.spec as any).rules = [rule(undefined, [{ path: '/', pathType: 'Prefix', backend }])];
    assert.deepEqual(ingressKind.table!.cells(i, NOW), ['main', '<none>', '*', '192.0.2.10,lb.example.com', '80', '5m']);
  });
});

describe('IngressClass', () => {
  const ic = (spec: Record<string, unknown>): KubeObject => obj('networking.k8s.io/v1', 'IngressClass', 'nginx', { spec }, undefined);
  test('defaults the parameters scope and shows the parameters reference', () => {
    const c = ic({ controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } });
    ingressClassKind.defaults!(c);
    assert.equal((c.spec as any).parameters.scope, 'Cluster');
    assert.deepEqual(ingressClassKind.validate!(c), []);
    assert.deepEqual(ingressClassKind.table!.cells(c, NOW), ['nginx', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/external-lb', '5m']);
  });
  test('controller must be a domain-prefixed path and is immutable', () => {
    assert.deepEqual(messages(ingressClassKind.validate!(ic({ controller: 'nginx' }))), ['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
    const a = ic({ controller: 'k8s.io/a' });
    const b = ic({ controller: 'k8s.io/b' });
    assert.deepEqual(messages(ingressClassKind.validateUpdate!(b, a)), ['spec.controller: Invalid value: "k8s.io/b": field is immutable']);
  });
  test('namespace-scoped parameters need a namespace', () => {
    assert.deepEqual(messages(ingressClassKind.validate!(ic({ controller: 'k8s.io/a', parameters: { kind: 'P', name: 'p', scope: 'Namespace' } }))), [
      "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
    ]);
  });
});

describe('NetworkPolicy', () => {
  const np = (spec: Record<string, unknown>): KubeObject => obj('networking.k8s.io/v1', 'NetworkPolicy', 'deny', { spec });
  test('policyTypes default to Ingress (+Egress with egress rules); ports default to TCP', () => {
    const a = np({ podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] });
    networkPolicyKind.defaults!(a);
    assert.deepEqual((a.spec as any).policyTypes, ['Ingress']);
    assert.deepEqual((a.spec as any).ingress[0].ports[0], { port: 80, protocol: 'TCP' });
    const b = np({ podSelector: {}, egress: [{}] });
    networkPolicyKind.defaults!(b);
    assert.deepEqual((b.spec as any).policyTypes, ['Ingress', 'Egress']);
  });
  const cases: { name: string; spec: Record<string, unknown>; want: string[] }[] = [
    { name: 'valid', spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { podSelector: {}, namespaceSelector: {} }] }], policyTypes: ['Ingress'] }, want: [] },
    { name: 'empty peer', spec: { podSelector: {}, ingress: [{ from: [{}] }] }, want: ['spec.ingress[0].from[0]: Required value: must specify a peer'] },
    { name: 'ipBlock with another peer', spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }, want: ['spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer'] },
    {
      name: 'bad CIDRs',
      spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['192.168.0.0/16', 'nope'] } }] }] },
      want: ['spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "192.168.0.0/16": must be a strict subset of `cidr`', 'spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "nope": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'],
    },
    {
      name: 'ports and policy types',
      spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP', port: 8080, endPort: 80 }, { port: 'http', endPort: 90 }] }], policyTypes: ['Sideways'] },
      want: [
        'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
        'spec.ingress[0].ports[0].endPort: Invalid value: 8080: must be greater than or equal to `port`',
        'spec.ingress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is non-numeric',
        'spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
      ],
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      assert.deepEqual(messages(networkPolicyKind.validate!(np(c.spec))), c.want);
    });
  test('pod selector column', () => {
    assert.deepEqual(networkPolicyKind.table!.cells(np({ podSelector: {} }), NOW), ['deny', '<none>', '5m']);
    assert.deepEqual(networkPolicyKind.table!.cells(np({ podSelector: { matchLabels: { app: 'db' } } }), NOW), ['deny', 'app=db', '5m']);
  });
});
