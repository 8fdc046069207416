// LimitRanger admission through the generic store: container defaults with the limit-ranger annotation (and the
// QoS class they imply), min/max/ratio for Container and Pod items, claim storage bounds, upstream's messages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../api/kinds/index.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import { Admission } from '../admission.js';
import { ResourceStore, type RequestContext } from '../registry/store.js';
import { MemStore } from '../testing/memstore.js';
import { aggregate, limitRangerAdmission } from './limitranger.js';

type Obj = Record<string, unknown>;
const kind = (group: string, plural: string): KindDef => allKinds().find((k) => k.group === group && k.plural === plural)!;
const PODS = kind('', 'pods');
const ctx = (): RequestContext => ({ user: { username: 'admin', groups: ['system:masters'] }, dryRun: false, warnings: [] });
const ctr = (name: string, requests?: Obj, limits?: Obj): Obj => ({ name, image: 'nginx', resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } });
const pod = (name: string, containers: Obj[], extra: Obj = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers, ...extra } });

async function setup(limits: Obj[]): Promise<ResourceStore> {
  const rs = new ResourceStore(new MemStore(), new Admission([limitRangerAdmission(kind)]));
  await rs.create(kind('', 'limitranges'), 'ns', { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr' }, spec: { limits } }, ctx());
  return rs;
}

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.equal((e as { code?: number }).code, 403, String(e));
    return (e as Error).message;
  }
  assert.fail('expected a refusal');
}

const CONTAINER = { type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' }, min: { cpu: '50m' }, max: { cpu: '1', memory: '1Gi' } };

test('defaults fill what containers lack, annotated; the QoS class follows', async () => {
  const rs = await setup([CONTAINER]);
  const p = await rs.create(PODS, 'ns', pod('web', [ctr('nginx'), ctr('side', { cpu: '200m' }, { cpu: '200m' })], { initContainers: [ctr('init', undefined, { memory: '64Mi' })] }), ctx());
  const spec = p.spec as { containers: Obj[]; initContainers: Obj[] };
  assert.deepEqual(spec.containers[0]!.resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  assert.deepEqual(spec.containers[1]!.resources, { limits: { cpu: '200m', memory: '256Mi' }, requests: { cpu: '200m', memory: '128Mi' } });
  // Pod defaulting already copied the init container's memory limit to its request.
  assert.deepEqual(spec.initContainers[0]!.resources, { limits: { memory: '64Mi', cpu: '500m' }, requests: { memory: '64Mi', cpu: '100m' } });
  assert.equal(
    p.metadata.annotations?.['kubernetes.io/limit-ranger'],
    'LimitRanger plugin set: cpu, memory request for container nginx; cpu, memory limit for container nginx; memory request for container side; memory limit for container side; cpu request for init container init; cpu limit for init container init',
  );
  assert.equal((p.status as Obj).qosClass, 'Burstable');
  // A namespace without LimitRanges leaves pods alone.
  const other = await rs.create(PODS, 'elsewhere', pod('bare', [ctr('c')]), ctx());
  assert.deepEqual((other.spec as { containers: Obj[] }).containers[0]!.resources, {});
  assert.equal((other.status as Obj).qosClass, 'BestEffort');
});

test('Container min/max/ratio and Pod bounds, with upstream messages', async () => {
  const rs = await setup([
    { type: 'Container', min: { cpu: '100m' }, max: { memory: '1Gi' }, maxLimitRequestRatio: { cpu: '4' } },
    { type: 'Pod', max: { cpu: '2' } },
  ]);
  const cases: [string, KubeObject, string][] = [
    ['one violation, no brackets', pod('x', [ctr('c', { cpu: '50m', memory: '1Gi' }, { cpu: '50m', memory: '1Gi' })]), 'pods "x" is forbidden: minimum cpu usage per Container is 100m, but request is 50m'],
    [
      'several, bracketed in order min, max',
      pod('x', [ctr('c', { cpu: '50m', memory: '1Gi' }, { cpu: '50m', memory: '2Gi' })]),
      'pods "x" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Container is 1Gi, but limit is 2Gi]',
    ],
    // The LimitRange's own defaulting made max memory the default limit, so only cpu lacks one.
    ['no limit for a ratio or a Pod max', pod('x', [ctr('c', { cpu: '100m' })]), 'pods "x" is forbidden: [cpu max limit to request ratio per Container is 4, but no limit is specified or limit is 0, maximum cpu usage per Pod is 2.  No limit is specified]'],
    ['ratio', pod('x', [ctr('c', { cpu: '100m' }, { cpu: '500m', memory: '1Gi' })]), 'pods "x" is forbidden: cpu max limit to request ratio per Container is 4, but provided ratio is 5.000000'],
    [
      'pod total over its max',
      pod('x', [ctr('a', { cpu: '1' }, { cpu: '1500m', memory: '1Gi' }), ctr('b', { cpu: '1' }, { cpu: '1500m', memory: '1Gi' })]),
      'pods "x" is forbidden: maximum cpu usage per Pod is 2, but limit is 3',
    ],
  ];
  for (const [name, p, want] of cases) assert.equal(await refused(rs.create(PODS, 'ns', p, ctx())), want, name);
  await rs.create(PODS, 'ns', pod('ok', [ctr('c', { cpu: '250m' }, { cpu: '1', memory: '512Mi' })]), ctx());
});

test('claims: storage min and max on create and on resize', async () => {
  const rs = await setup([{ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '10Gi' } }]);
  const PVC = kind('', 'persistentvolumeclaims');
  const claim = (size: string): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } } });
  assert.equal(await refused(rs.create(PVC, 'ns', claim('500Mi'), ctx())), 'persistentvolumeclaims "data" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi');
  assert.equal(await refused(rs.create(PVC, 'ns', claim('20Gi'), ctx())), 'persistentvolumeclaims "data" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi');
  const made = await rs.create(PVC, 'ns', claim('5Gi'), ctx());
  // Only a bound claim may be resized.
  const bound = (await rs.update(PVC, 'ns', 'data', { ...made, status: { phase: 'Bound' } }, ctx(), 'status')).object;
  const bigger = structuredClone(bound);
  ((bigger.spec as Obj).resources as { requests: Obj }).requests.storage = '20Gi';
  assert.match(await refused(rs.update(PVC, 'ns', 'data', bigger, ctx())), /maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi$/);
});

test('aggregate: one message bare, duplicates dropped, several bracketed', () => {
  assert.equal(aggregate(['a']), 'a');
  assert.equal(aggregate(['a', 'a']), 'a');
  assert.equal(aggregate(['a', 'b', 'a']), '[a, b]');
});
