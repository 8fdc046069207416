// Priority admission through the generic store: class → priority and preemptionPolicy, the globalDefault class,
// built-in system classes, upstream's refusals, one default only, system classes undeletable, updates keep values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../api/kinds/index.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../api/kinds/scheduling/priorityclass.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import { Admission } from '../admission.js';
import { ResourceStore, type RequestContext } from '../registry/store.js';
import { MemStore } from '../testing/memstore.js';
import { priorityAdmission } from './priority.js';

type Obj = Record<string, unknown>;
const kind = (group: string, plural: string): KindDef => allKinds().find((k) => k.group === group && k.plural === plural)!;
const PODS = kind('', 'pods');
const PCS = kind('scheduling.k8s.io', 'priorityclasses');
const ctx = (): RequestContext => ({ user: { username: 'admin', groups: ['system:masters'] }, dryRun: false, warnings: [] });
const pod = (name: string, spec: Obj = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec } });
const pc = (name: string, value: number, more: Obj = {}): KubeObject => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...more });
const specOf = (o: KubeObject): Obj => o.spec as Obj;

async function setup(): Promise<ResourceStore> {
  const rs = new ResourceStore(new MemStore(), new Admission([priorityAdmission(kind)]));
  for (const c of SYSTEM_PRIORITY_CLASSES) await rs.create(PCS, undefined, pc(c.name, c.value, { description: c.description }), ctx());
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

test('classes resolve to priority and preemptionPolicy; unknown classes and contradictions are refused', async () => {
  const rs = await setup();
  const plain = await rs.create(PODS, 'ns', pod('plain'), ctx());
  assert.deepEqual([specOf(plain).priority, specOf(plain).preemptionPolicy, specOf(plain).priorityClassName], [0, 'PreemptLowerPriority', undefined]);
  await rs.create(PCS, undefined, pc('high', 1000, { preemptionPolicy: 'Never' }), ctx());
  const hi = await rs.create(PODS, 'ns', pod('hi', { priorityClassName: 'high' }), ctx());
  assert.deepEqual([specOf(hi).priority, specOf(hi).preemptionPolicy], [1000, 'Never']);
  const sys = await rs.create(PODS, 'ns', pod('sys', { priorityClassName: 'system-cluster-critical' }), ctx());
  assert.equal(specOf(sys).priority, 2000000000);
  const cases: [string, KubeObject, string][] = [
    ['unknown class', pod('x', { priorityClassName: 'nope' }), 'pods "x" is forbidden: no PriorityClass with name nope was found'],
    ['priority disagrees', pod('x', { priorityClassName: 'high', priority: 5 }), 'pods "x" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name'],
    ['priority without a class', pod('x', { priority: 7 }), 'pods "x" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name'],
    [
      'policy disagrees',
      pod('x', { priorityClassName: 'high', preemptionPolicy: 'PreemptLowerPriority' }),
      'pods "x" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name',
    ],
  ];
  for (const [name, p, want] of cases) assert.equal(await refused(rs.create(PODS, 'ns', p, ctx())), want, name);
  // A matching value is fine; a generated pod is refused under its generateName, as upstream's mutating phase.
  await rs.create(PODS, 'ns', pod('same', { priorityClassName: 'high', priority: 1000 }), ctx());
  const gen = pod('', { priorityClassName: 'nope' });
  gen.metadata = { generateName: 'web-' };
  assert.equal(await refused(rs.create(PODS, 'ns', gen, ctx())), 'pods "web-" is forbidden: no PriorityClass with name nope was found');
});

test('the globalDefault class applies to pods naming none; only one default may exist', async () => {
  const rs = await setup();
  await rs.create(PCS, undefined, pc('low', 10, { globalDefault: true }), ctx());
  const p = await rs.create(PODS, 'ns', pod('p'), ctx());
  assert.deepEqual([specOf(p).priorityClassName, specOf(p).priority, specOf(p).preemptionPolicy], ['low', 10, 'PreemptLowerPriority']);
  assert.equal(
    await refused(rs.create(PODS, 'ns', pod('zero', { priority: 0 }), ctx())),
    'pods "zero" is forbidden: the integer value of priority (0) must not be provided in pod spec; priority admission controller computed 10 from the given PriorityClass name',
    'an explicit 0 is a value like any other',
  );
  assert.equal(
    await refused(rs.create(PCS, undefined, pc('other', 20, { globalDefault: true }), ctx())),
    'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass low is already marked as default. Only one default can exist',
  );
  await rs.create(PCS, undefined, pc('other', 20), ctx());
  const other = await rs.get(PCS, undefined, 'other');
  assert.match(await refused(rs.update(PCS, undefined, 'other', { ...other, globalDefault: true }, ctx())), /PriorityClass low is already marked as default/);
  const low = await rs.get(PCS, undefined, 'low');
  await rs.update(PCS, undefined, 'low', { ...low, description: 'still the default' }, ctx());
});

test('system classes cannot be deleted; others can', async () => {
  const rs = await setup();
  for (const c of SYSTEM_PRIORITY_CLASSES)
    assert.equal(await refused(rs.delete(PCS, undefined, c.name, {}, ctx())), `priorityclasses.scheduling.k8s.io "${c.name}" is forbidden: this is a system priority class and cannot be deleted`);
  await rs.create(PCS, undefined, pc('tmp', 1), ctx());
  await rs.delete(PCS, undefined, 'tmp', {}, ctx());
});

test('an update that leaves priority out keeps what creation resolved', async () => {
  const rs = await setup();
  await rs.create(PCS, undefined, pc('high', 1000), ctx());
  const p = await rs.create(PODS, 'ns', pod('p', { priorityClassName: 'high' }), ctx());
  const next = structuredClone(p);
  delete specOf(next).priority;
  delete specOf(next).preemptionPolicy;
  next.metadata.labels = { app: 'x' };
  const { object } = await rs.update(PODS, 'ns', 'p', next, ctx());
  assert.deepEqual([specOf(object).priority, specOf(object).preemptionPolicy, object.metadata.labels], [1000, 'PreemptLowerPriority', { app: 'x' }]);
});
