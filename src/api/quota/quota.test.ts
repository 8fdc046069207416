// Quota evaluators and CheckRequest/calculateStatus, tabled: pod usage (init containers, sidecars, overhead,
// terminal pods), services, claims, object counts, scopes, upstream's refusal texts and update deltas.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../types.js';
import { evaluatorFor, objectCountName, parseObjectCountName, podEvaluator, pvcEvaluator, serviceEvaluator, standardEvaluators } from './evaluators.js';
import { calculateStatus, checkRequest, QuotaRefusal, type QuotaRequest } from './quota.js';
import { formatResourceList } from './resources.js';

type Obj = Record<string, unknown>;
const NOW = Date.parse('2025-01-01T00:00:00Z');

function pod(name: string, containers: Obj[], extra: Obj = {}, status: Obj = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { containers, ...extra }, status };
}
const ctr = (name: string, requests?: Obj, limits?: Obj, more: Obj = {}): Obj => ({ name, image: 'x', resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) }, ...more });

function quota(name: string, hard: Obj, used?: Obj, spec: Obj = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace: 'ns', resourceVersion: '7' }, spec: { hard, ...spec }, status: used ? { hard, used } : {} };
}

const usage = (o: KubeObject, ev = evaluatorFor('', 'pods')) => formatResourceList(ev.usage(o, NOW));

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof QuotaRefusal) return e.message;
    throw e;
  }
  return '';
}

test('pod usage: containers summed, init containers as a maximum, sidecars added, overhead on requests', () => {
  const cases: [string, KubeObject, Record<string, string>][] = [
    ['best effort', pod('a', [ctr('c')]), { 'count/pods': '1', pods: '1' }],
    [
      'two containers',
      pod('a', [ctr('c', { cpu: '100m', memory: '64Mi' }, { cpu: '200m' }), ctr('d', { cpu: '300m', memory: '64Mi' }, { cpu: '1' })]),
      { 'count/pods': '1', cpu: '400m', 'limits.cpu': '1200m', memory: '128Mi', pods: '1', 'requests.cpu': '400m', 'requests.memory': '128Mi' },
    ],
    [
      'init container larger than the app',
      pod('a', [ctr('c', { cpu: '100m' })], { initContainers: [ctr('i', { cpu: '2' })] }),
      { 'count/pods': '1', cpu: '2', pods: '1', 'requests.cpu': '2' },
    ],
    [
      'sidecar adds to the app and to later init steps',
      pod('a', [ctr('c', { cpu: '100m' })], { initContainers: [ctr('s', { cpu: '200m' }, undefined, { restartPolicy: 'Always' }), ctr('i', { cpu: '250m' })] }),
      { 'count/pods': '1', cpu: '450m', pods: '1', 'requests.cpu': '450m' },
    ],
    ['overhead', pod('a', [ctr('c', { cpu: '100m' }, { cpu: '100m' })], { overhead: { cpu: '10m', memory: '1Mi' } }), { 'count/pods': '1', cpu: '110m', 'limits.cpu': '110m', memory: '1Mi', pods: '1', 'requests.cpu': '110m', 'requests.memory': '1Mi' }],
    ['extended and hugepages', pod('a', [ctr('c', { 'example.com/gpu': '2', 'hugepages-2Mi': '4Mi' })]), { 'count/pods': '1', 'hugepages-2Mi': '4Mi', pods: '1', 'requests.example.com/gpu': '2', 'requests.hugepages-2Mi': '4Mi' }],
    ['terminal pods only count as objects', pod('a', [ctr('c', { cpu: '1' })], {}, { phase: 'Succeeded' }), { 'count/pods': '1' }],
  ];
  for (const [name, p, want] of cases) assert.deepEqual(usage(p), want, name);
  const stuck = pod('a', [ctr('c', { cpu: '1' })]);
  stuck.metadata.deletionTimestamp = '2024-12-31T23:59:00Z';
  stuck.metadata.deletionGracePeriodSeconds = 30;
  assert.deepEqual(usage(stuck), { 'count/pods': '1' }, 'past its grace period');
});

test('services, claims and object counts', () => {
  const svc = (spec: Obj): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'ns' }, spec });
  assert.deepEqual(usage(svc({ type: 'ClusterIP', ports: [{ port: 80 }] }), serviceEvaluator), { 'count/services': '1', services: '1' });
  assert.deepEqual(usage(svc({ type: 'NodePort', ports: [{ port: 80 }, { port: 81 }] }), serviceEvaluator), { 'count/services': '1', services: '1', 'services.nodeports': '2' });
  assert.deepEqual(usage(svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, nodePort: 30001 }, { port: 81 }] }), serviceEvaluator), {
    'count/services': '1',
    services: '1',
    'services.loadbalancers': '1',
    'services.nodeports': '1',
  });
  const pvc: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', namespace: 'ns' }, spec: { storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } }, status: { allocatedResources: { storage: '2Gi' } } };
  assert.deepEqual(usage(pvc, pvcEvaluator), {
    'count/persistentvolumeclaims': '1',
    'fast.storageclass.storage.k8s.io/persistentvolumeclaims': '1',
    'fast.storageclass.storage.k8s.io/requests.storage': '2Gi',
    persistentvolumeclaims: '1',
    'requests.storage': '2Gi',
  });
  assert.deepEqual(pvcEvaluator.matchingResources(['requests.storage', 'gold.storageclass.storage.k8s.io/requests.storage', 'pods']), ['requests.storage', 'gold.storageclass.storage.k8s.io/requests.storage']);
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'ns' } };
  assert.deepEqual(usage(cm, evaluatorFor('', 'configmaps')), { configmaps: '1', 'count/configmaps': '1' });
  assert.deepEqual(usage(cm, evaluatorFor('apps', 'deployments')), { 'count/deployments.apps': '1' });
  assert.equal(objectCountName('batch', 'jobs'), 'count/jobs.batch');
  assert.deepEqual(parseObjectCountName('count/deployments.apps'), { group: 'apps', resource: 'deployments' });
  assert.deepEqual(parseObjectCountName('count/pods'), { group: '', resource: 'pods' });
  assert.equal(parseObjectCountName('pods'), undefined);
  assert.deepEqual(podEvaluator.matchingResources(['pods', 'requests.cpu', 'services', 'requests.example.com/gpu', 'requests.storage']), ['pods', 'requests.cpu', 'requests.example.com/gpu']);
});

const create = (o: KubeObject): QuotaRequest => ({ operation: 'CREATE', object: o });
const p500 = (name = 'web') => pod(name, [ctr('nginx', { cpu: '500m' })]);

test('checkRequest: upstream refusal texts', () => {
  const compute = quota('compute', { pods: '2', 'requests.cpu': '1' }, { pods: '1', 'requests.cpu': '1' });
  const cases: [string, KubeObject[], KubeObject, string][] = [
    ['exceeded', [compute], pod('w', [ctr('nginx', { cpu: '2' })]), 'exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=1'],
    ['exceeded pods and cpu', [quota('q', { pods: '1', 'requests.cpu': '1' }, { pods: '1', 'requests.cpu': '1' })], p500(), 'exceeded quota: q, requested: pods=1,requests.cpu=500m, used: pods=1,requests.cpu=1, limited: pods=1,requests.cpu=1'],
    [
      'must specify, per container, before the charge is looked at',
      [quota('compute', { 'requests.cpu': '1', 'limits.cpu': '2' }, { 'requests.cpu': '0', 'limits.cpu': '0' })],
      pod('w', [ctr('nginx'), ctr('side', { cpu: '1' })]),
      'failed quota: compute: must specify limits.cpu for: nginx,side; requests.cpu for: nginx',
    ],
    ['status not yet known', [quota('compute', { pods: '2' }, { 'requests.cpu': '0' })], p500(), 'status unknown for quota: compute, resources: pods'],
  ];
  for (const [name, qs, o, want] of cases) assert.equal(refusal(() => checkRequest(qs, create(o), podEvaluator, NOW)), want, name);
});

test('checkRequest: charges, skips and scopes', () => {
  const compute = quota('compute', { pods: '2', 'requests.cpu': '1' }, { pods: '0', 'requests.cpu': '0' });
  const [c] = checkRequest([compute], create(p500()), podEvaluator, NOW);
  assert.deepEqual(formatResourceList(c!.used), { pods: '1', 'requests.cpu': '500m' });
  assert.deepEqual(formatResourceList(c!.delta), { pods: '1', 'requests.cpu': '500m' });
  // A quota without status.hard (the controller has not seen it) does not apply yet.
  assert.deepEqual(checkRequest([quota('fresh', { pods: '1' })], create(p500()), podEvaluator, NOW), []);
  // Pods are charged on create only; services on updates too.
  assert.deepEqual(checkRequest([compute], { operation: 'UPDATE', object: p500(), oldObject: p500() }, podEvaluator, NOW), []);
  // Scopes: a BestEffort quota ignores a pod with requests, a NotBestEffort one charges it.
  const be = quota('be', { pods: '1' }, { pods: '1' }, { scopes: ['BestEffort'] });
  assert.deepEqual(checkRequest([be], create(p500()), podEvaluator, NOW), []);
  assert.match(refusal(() => checkRequest([be], create(pod('b', [ctr('c')])), podEvaluator, NOW)), /^exceeded quota: be, requested: pods=1/);
  const pcq = quota('pc', { pods: '5' }, { pods: '0' }, { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } });
  assert.equal(checkRequest([pcq], create(p500()), podEvaluator, NOW).length, 0);
  assert.equal(checkRequest([pcq], create(pod('h', [ctr('c')], { priorityClassName: 'high' })), podEvaluator, NOW).length, 1);
  // Object counts never match scoped quotas.
  const cmq = quota('cm', { configmaps: '1' }, { configmaps: '1' }, { scopes: ['NotTerminating'] });
  assert.deepEqual(checkRequest([cmq], create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), evaluatorFor('', 'configmaps'), NOW), []);
});

test('checkRequest: an update is charged its increase over the stored object', () => {
  const svc = (type: string, ports: number): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'ns', resourceVersion: '5' }, spec: { type, ports: Array.from({ length: ports }, (_, i) => ({ port: 80 + i })) } });
  const q = quota('svc', { services: '5', 'services.nodeports': '2' }, { services: '1', 'services.nodeports': '0' });
  const [c] = checkRequest([q], { operation: 'UPDATE', object: svc('NodePort', 2), oldObject: svc('ClusterIP', 2) }, serviceEvaluator, NOW);
  assert.deepEqual(formatResourceList(c!.used), { services: '1', 'services.nodeports': '2' });
  assert.equal(
    refusal(() => checkRequest([q], { operation: 'UPDATE', object: svc('NodePort', 3), oldObject: svc('ClusterIP', 3) }, serviceEvaluator, NOW)),
    'exceeded quota: svc, requested: services.nodeports=3, used: services.nodeports=0, limited: services.nodeports=2',
  );
  assert.deepEqual(checkRequest([q], { operation: 'UPDATE', object: svc('ClusterIP', 2), oldObject: svc('NodePort', 2) }, serviceEvaluator, NOW), [], 'a decrease charges nothing');
});

test('calculateStatus: measured names replace earlier observations, masked to spec.hard, scopes honoured', () => {
  const q = quota('q', { pods: '10', 'requests.memory': '1Gi', 'count/deployments.apps': '2' }, { pods: '9', 'count/deployments.apps': '1', stale: '3' });
  const pods = [pod('a', [ctr('c', { memory: '512Mi' })]), pod('b', [ctr('c', { memory: '512Mi' })]), pod('done', [ctr('c', { memory: '1Gi' })], {}, { phase: 'Failed' })];
  const evs = standardEvaluators();
  const st = calculateStatus(q, evs, (ev) => (ev.resource === 'pods' ? pods : []), NOW);
  assert.deepEqual(formatResourceList(st.hard), { 'count/deployments.apps': '2', pods: '10', 'requests.memory': '1Gi' });
  // count/deployments.apps has no evaluator here: the earlier observation stays.
  assert.deepEqual(formatResourceList(st.used), { 'count/deployments.apps': '1', pods: '2', 'requests.memory': '1Gi' });
  const scoped = quota('t', { pods: '10' }, undefined, { scopes: ['Terminating'] });
  const withDeadline = pod('j', [ctr('c')], { activeDeadlineSeconds: 30 });
  assert.deepEqual(formatResourceList(calculateStatus(scoped, evs, (ev) => (ev.resource === 'pods' ? [...pods, withDeadline] : []), NOW).used), { pods: '1' });
  assert.deepEqual(formatResourceList(calculateStatus(scoped, evs, () => undefined, NOW).used), {}, 'nothing known yet');
});
