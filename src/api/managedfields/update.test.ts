// Tests for Update-operation tracking, client-written managedFields (reset, JSON-patch migration, garbage),
// capping of Update entries, and the validation / manager-name helpers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorBody } from '../errors.js';
import type { KubeObject, ManagedFieldsEntry } from '../types.js';
import { FieldSet, keyPE, makePath } from './fieldset.js';
import { managerFromUserAgent, validateFieldManager, validateManagedFields, validatePatchOptions } from './managers.js';
import { updateManagedFields, type UpdateInput } from './update.js';
import { deploymentSchema, podSchema } from './testschema.js';

const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T11:00:00Z';
const T2 = '2024-05-01T12:00:00Z';

type Obj = Record<string, unknown>;

const pod = (containers: Obj[], labels?: Obj): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u', creationTimestamp: T0, ...(labels ? { labels } : {}) }, spec: { containers } }) as KubeObject;

function update(old: KubeObject | undefined, updated: KubeObject, manager: string, o: Partial<UpdateInput> = {}): KubeObject {
  return updateManagedFields({ old, updated, manager, now: T1, apiVersion: 'v1', schema: podSchema, ...o });
}

const entry = (o: KubeObject, manager: string, subresource?: string): ManagedFieldsEntry | undefined =>
  (o.metadata.managedFields ?? []).find((e) => e.manager === manager && e.subresource === subresource);
const setOf = (o: KubeObject, manager: string): FieldSet => FieldSet.fromFieldsV1(entry(o, manager)?.fieldsV1);
const cpath = (name: string, ...rest: string[]) => [...makePath('spec', 'containers'), keyPE([['name', name]]), ...makePath(...rest)];
const containersOf = (o: KubeObject): Obj[] => (o.spec as Obj).containers as Obj[];

test('create records every field for the manager; new maps and list items are members', () => {
  const o = update(undefined, pod([{ name: 'a', image: 'x', resources: {} }], { app: 'web' }), 'kubectl-create', { now: T0 });
  assert.deepEqual(o.metadata.managedFields, [
    {
      manager: 'kubectl-create',
      operation: 'Update',
      apiVersion: 'v1',
      time: T0,
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': { '.': {}, 'f:containers': { '.': {}, 'k:{"name":"a"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:resources': {} } } },
      },
    },
  ]);
});

test('an update takes changed fields from their owner; removed fields leave every set; same manager entries merge', () => {
  const created = update(undefined, pod([{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }], { app: 'web', tier: 'fe' }), 'creator', { now: T0 });
  const edit = structuredClone(created);
  containersOf(edit)[0]!.image = 'x2';
  containersOf(edit).pop();
  delete edit.metadata.labels!.tier;
  const edited = update(created, edit, 'editor', { now: T1 });
  assert.ok(setOf(edited, 'editor').has(cpath('a', 'image')));
  assert.ok(!setOf(edited, 'editor').has(cpath('b')), 'removal is not ownership');
  assert.ok(!setOf(edited, 'creator').has(cpath('a', 'image')));
  assert.ok(!setOf(edited, 'creator').has(cpath('b')));
  assert.ok(!setOf(edited, 'creator').has(makePath('metadata', 'labels', 'tier')));
  assert.ok(setOf(edited, 'creator').has(makePath('metadata', 'labels', 'app')));
  assert.equal(entry(edited, 'creator')?.time, T0, 'losing fields does not touch the time');

  const again = structuredClone(edited);
  edited.metadata.labels!.extra = 'z';
  const again2 = structuredClone(edited);
  const merged = update(again, again2, 'editor', { now: T2 });
  assert.equal((merged.metadata.managedFields ?? []).filter((e) => e.manager === 'editor').length, 1, 'one entry per manager/operation/apiVersion');
  assert.ok(setOf(merged, 'editor').has(cpath('a', 'image')) && setOf(merged, 'editor').has(makePath('metadata', 'labels', 'extra')));
  assert.equal(entry(merged, 'editor')?.time, T2);
});

test('a write that changes nothing leaves managedFields exactly as they were', () => {
  const created = update(undefined, pod([{ name: 'a', image: 'x' }]), 'creator', { now: T0 });
  const same = update(created, structuredClone(created), 'someone', { now: T2 });
  assert.deepEqual(same.metadata.managedFields, created.metadata.managedFields);
  const sameNoMF = structuredClone(created);
  delete sameNoMF.metadata.managedFields;
  assert.deepEqual(update(created, sameNoMF, 'someone', { now: T2 }).metadata.managedFields, created.metadata.managedFields, 'a body without managedFields keeps the stored ones');
});

test('entries are distinct per apiVersion and subresource; default manager "unknown"', () => {
  const created = update(undefined, pod([{ name: 'a', image: 'x' }]), 'm', { now: T0 });
  const s = structuredClone(created);
  (s as Obj).status = { phase: 'Running' };
  const st = update(created, s, 'kubelet', { subresource: 'status', now: T1 });
  assert.deepEqual(entry(st, 'kubelet', 'status')?.fieldsV1, { 'f:status': { '.': {}, 'f:phase': {} } });
  const v2 = structuredClone(st);
  containersOf(v2)[0]!.image = 'y';
  const up = update(st, v2, '', { apiVersion: 'v1beta1', now: T2 });
  assert.equal(entry(up, 'unknown')?.apiVersion, 'v1beta1');
});

test('main-resource updates do not record status ownership', () => {
  const created = update(undefined, pod([{ name: 'a', image: 'x' }]), 'm', { now: T0 });
  const s = structuredClone(created);
  (s as Obj).status = { phase: 'Running' };
  const o = update(created, s, 'other');
  assert.equal(entry(o, 'other'), undefined);
});

test('client-written managedFields: replaced list is kept (kubectl migration JSON patch), [] and [{}] reset, garbage falls back', () => {
  const created = update(undefined, pod([{ name: 'a', image: 'x' }]), 'kubectl-client-side-apply', { now: T0 });
  const migrated = structuredClone(created);
  const csa = created.metadata.managedFields![0]!;
  migrated.metadata.managedFields = [{ ...csa, manager: 'kubectl', operation: 'Apply' }];
  const m = update(created, migrated, 'kubectl');
  assert.deepEqual(m.metadata.managedFields, [{ ...csa, manager: 'kubectl', operation: 'Apply' }]);
  assert.equal(entry(m, 'kubectl-client-side-apply'), undefined);

  for (const reset of [[], [{}]] as ManagedFieldsEntry[][]) {
    const r = structuredClone(created);
    r.metadata.managedFields = reset;
    assert.equal(update(created, r, 'x').metadata.managedFields, undefined, JSON.stringify(reset));
  }

  const garbage: unknown[] = [[{ manager: 'x', operation: 'Nope', apiVersion: 'v1', fieldsType: 'FieldsV1' }], [{ manager: 'x', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'k:notjson': {} } }], 'junk'];
  for (const g of garbage) {
    const r = structuredClone(created);
    (r.metadata as Obj).managedFields = g;
    assert.deepEqual(update(created, r, 'x').metadata.managedFields, created.metadata.managedFields, JSON.stringify(g));
  }
});

test('subresource writes ignore managedFields in the body', () => {
  const created = update(undefined, pod([{ name: 'a', image: 'x' }]), 'm', { now: T0 });
  const s = structuredClone(created);
  s.metadata.managedFields = [];
  assert.deepEqual(update(created, s, 'k', { subresource: 'status' }).metadata.managedFields, created.metadata.managedFields);
});

test('more than ten Update entries: the oldest merge into ancient-changes', () => {
  let o = update(undefined, pod([{ name: 'a', image: 'x' }]), 'm0', { now: '2024-01-01T00:00:00Z' });
  for (let i = 1; i <= 11; i++) {
    const n = structuredClone(o);
    n.metadata.labels = { ...(n.metadata.labels ?? {}), [`l${i}`]: 'v' };
    o = update(o, n, `m${i}`, { now: `2024-01-01T00:00:${String(i).padStart(2, '0')}Z` });
  }
  const names = (o.metadata.managedFields ?? []).map((e) => e.manager);
  assert.equal(names.length, 10);
  assert.ok(names.includes('ancient-changes'));
  assert.ok(!names.includes('m0') && !names.includes('m1') && !names.includes('m2'));
  const anc = FieldSet.fromFieldsV1(entry(o, 'ancient-changes')?.fieldsV1);
  assert.ok(anc.has(cpath('a', 'image')) && anc.has(makePath('metadata', 'labels', 'l2')));
});

test('a list whose items cannot be identified is tracked as one field instead of failing', () => {
  const bad = pod([{ image: 'x' }]); // no name: keyed list item without key
  const o = update(undefined, bad, 'm');
  assert.ok(setOf(o, 'm').has(makePath('spec', 'containers')));
});

test('deployment tracking uses the atomic selector', () => {
  const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: { matchLabels: { a: 'b' } } } } as KubeObject;
  const o = updateManagedFields({ old: undefined, updated: d, manager: 'm', now: T0, apiVersion: 'apps/v1', schema: deploymentSchema });
  assert.deepEqual(entry(o, 'm')?.fieldsV1, { 'f:spec': { '.': {}, 'f:selector': {} } });
});

test('validateManagedFields: accepts what kubectl writes, names the field for garbage', () => {
  const ok = update(undefined, pod([{ name: 'a', image: 'x' }]), 'm');
  assert.deepEqual(validateManagedFields(ok), []);
  const table: [unknown, string[]][] = [
    ['x', ['metadata.managedFields: Invalid value: "x": expected array']],
    [[5], ['metadata.managedFields[0]: Invalid value: 5: expected object']],
    [[{ operation: 'Update', manager: 7, fieldsType: 'FieldsV1' }], ['metadata.managedFields[0].manager: Invalid value: 7: expected string']],
    [[{ operation: 'Patch' }], ['metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`']],
    [[{ operation: 'Apply', fieldsType: 'FieldsV2' }], ['metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`']],
    [[{ operation: 'Apply', time: 'yesterday' }], ['metadata.managedFields[0].time: Invalid value: "yesterday": must be an RFC 3339 date-time']],
    [[{ operation: 'Apply', fieldsV1: [1] }], ['metadata.managedFields[0].fieldsV1: Invalid value: "<array>": expected object']],
    [[{ operation: 'Apply', manager: 'x'.repeat(129) }], ['metadata.managedFields[0].manager: Too long: may not be more than 128 bytes']],
    [[{ operation: 'Apply', manager: 'a\u0007' }], ['metadata.managedFields[0].manager: Invalid value: "a\\u0007": invalid character U+0007 (at position 1)']],
  ];
  for (const [mf, want] of table) {
    const errs = validateManagedFields({ metadata: { managedFields: mf } });
    assert.deepEqual(errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`), want, JSON.stringify(mf));
  }
});

test('fieldManager helpers', () => {
  assert.equal(managerFromUserAgent('kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07'), 'kubectl');
  assert.equal(managerFromUserAgent('Go-http-client/1.1'), 'Go-http-client');
  assert.equal(managerFromUserAgent(''), 'unknown');
  assert.equal(managerFromUserAgent('a\u0001b/1'), 'ab');
  assert.equal(managerFromUserAgent('x'.repeat(200)).length, 128);
  assert.deepEqual(validatePatchOptions({ apply: true }).map((e) => `${e.field}: ${fieldErrorBody(e)}`), ['fieldManager: Required value: is required for apply patch']);
  assert.deepEqual(validatePatchOptions({ apply: false, force: true, fieldManager: 'k' }).map((e) => `${e.field}: ${fieldErrorBody(e)}`), ['force: Forbidden: may not be specified for non-apply patch']);
  assert.deepEqual(validatePatchOptions({ apply: true, fieldManager: 'kubectl', force: false }), []);
  assert.equal(validateFieldManager('é'.repeat(65)).length, 1, '130 bytes');
});
