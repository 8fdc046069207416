// Tests for server-side apply: create, no-op re-apply, pruning, conflicts and force, co-ownership, list merging,
// the kubectl follow-up flows (kubectl-last-applied, client-side-apply upgrade) and bad configurations.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { ApplyConflictError, LAST_APPLIED_ANNOTATION, applyServerSide, type ApplyInput } from './apply.js';
import { FieldSet, keyPE, makePath } from './fieldset.js';
import { merge } from './typed.js';
import { updateManagedFields } from './update.js';
import { deploymentSchema, podSchema, serviceSchema } from './testschema.js';

const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T11:00:00Z';
const T2 = '2024-05-01T12:00:00Z';

type Obj = Record<string, unknown>;

function deployment(spec: Obj, metadata: Obj = {}): Obj {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', ...metadata }, spec };
}

const nginx = (extra: Obj = {}): Obj => ({ name: 'nginx', image: 'nginx:1.25', ...extra });
const template = (containers: Obj[], labels: Obj = { app: 'web' }): Obj => ({ metadata: { labels }, spec: { containers } });

function apply(live: KubeObject | undefined, applied: Obj, manager: string, opts: Partial<ApplyInput> = {}): { object: KubeObject; changed: boolean } {
  return applyServerSide({ live, applied, manager, force: false, schema: deploymentSchema, now: T1, apiVersion: 'apps/v1', ...opts });
}

/** What the store adds on create. */
function stored(o: KubeObject): KubeObject {
  const c = structuredClone(o);
  c.metadata.uid = 'u-1';
  c.metadata.creationTimestamp = T0;
  c.metadata.resourceVersion = '5';
  return c;
}

const entries = (o: KubeObject) => o.metadata.managedFields ?? [];
const entry = (o: KubeObject, manager: string) => entries(o).find((e) => e.manager === manager);
const setOf = (o: KubeObject, manager: string): FieldSet => FieldSet.fromFieldsV1(entry(o, manager)?.fieldsV1);
const spec = (o: KubeObject): Obj => o.spec as Obj;
const containers = (o: KubeObject): Obj[] => ((spec(o).template as Obj).spec as Obj).containers as Obj[];
const containerPath = (name: string, ...rest: string[]) => [...makePath('spec', 'template', 'spec', 'containers'), keyPE([['name', name]]), ...makePath(...rest)];

test('create via apply: object is the configuration, one Apply entry with upstream fieldsV1', () => {
  const cfg = deployment({ replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template([nginx({ ports: [{ containerPort: 80 }] })]) }, { labels: { app: 'web' } });
  const r = apply(undefined, cfg, 'kubectl');
  assert.equal(r.changed, true);
  const { managedFields, ...meta } = r.object.metadata;
  assert.deepEqual({ ...r.object, metadata: meta }, cfg);
  assert.deepEqual(managedFields, [
    {
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: T1,
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"nginx"}': {
                  '.': {},
                  'f:image': {},
                  'f:name': {},
                  'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                },
              },
            },
          },
        },
      },
    },
  ]);
  // Key order on the wire is upstream's: "." first, then elements in order.
  assert.match(JSON.stringify(managedFields), /"k:\{\\"name\\":\\"nginx\\"\}":\{"\.":\{\},"f:image"/);
});

test('re-applying the same configuration is a no-op (object and managedFields times unchanged)', () => {
  const cfg = deployment({ replicas: 2, template: template([nginx()]) });
  const live = stored(apply(undefined, cfg, 'kubectl', { now: T0 }).object);
  const r = apply(live, structuredClone(cfg), 'kubectl', { now: T2 });
  assert.equal(r.changed, false);
  assert.deepEqual(r.object, live);
  assert.equal(entry(r.object, 'kubectl')?.time, T0);
});

test('a field dropped from the configuration is removed; the entry time moves', () => {
  const cfg = deployment({ replicas: 2, paused: true, template: template([nginx({ env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] })], { app: 'web', tier: 'fe' }) });
  const live = stored(apply(undefined, cfg, 'kubectl', { now: T0 }).object);
  const next = deployment({ replicas: 2, template: template([nginx({ env: [{ name: 'A', value: '1' }] })]) });
  const r = apply(live, next, 'kubectl', { now: T2 });
  assert.equal(r.changed, true);
  assert.equal(spec(r.object).paused, undefined);
  assert.deepEqual(containers(r.object)[0]!.env, [{ name: 'A', value: '1' }]);
  assert.deepEqual(((spec(r.object).template as Obj).metadata as Obj).labels, { app: 'web' });
  assert.equal(r.object.metadata.uid, 'u-1', 'server-owned metadata stays');
  assert.equal(entry(r.object, 'kubectl')?.time, T2);
  const s = setOf(r.object, 'kubectl');
  assert.ok(!s.has(makePath('spec', 'paused')));
  assert.ok(!s.has([...containerPath('nginx', 'env'), keyPE([['name', 'B']])]));
});

test('fields another manager owns stay when the applier stops applying their parent; list items go whole', () => {
  const live = stored(apply(undefined, deployment({ replicas: 2, template: template([nginx()]) }), 'kubectl', { now: T0 }).object);
  // A controller-like writer adds fields through an ordinary update.
  const edited = structuredClone(live);
  ((spec(edited).template as Obj).spec as Obj).dnsPolicy = 'ClusterFirst';
  containers(edited)[0]!.imagePullPolicy = 'Always';
  const tracked = updateManagedFields({ old: live, updated: edited, manager: 'kube-controller', now: T1, apiVersion: 'apps/v1', schema: deploymentSchema });
  const r = apply(tracked, deployment({ replicas: 2 }), 'kubectl', { now: T2 });
  // The applier's labels and container item are gone (upstream removes a dropped list item as a whole, even
  // when another manager owns a field inside it); the controller's dnsPolicy stays.
  assert.deepEqual(spec(r.object).template, { spec: { dnsPolicy: 'ClusterFirst' } });
  assert.equal(spec(r.object).replicas, 2);
  assert.ok(!setOf(r.object, 'kube-controller').has(containerPath('nginx', 'imagePullPolicy')), 'removed fields leave every set');
});

test('conflict with an Update manager: 409 with upstream message and causes; force moves ownership', () => {
  const created = updateManagedFields({
    old: undefined,
    updated: stored(deployment({ replicas: 1, template: template([nginx()]) }) as KubeObject),
    manager: 'kubectl-client-side-apply',
    now: T0,
    apiVersion: 'apps/v1',
    schema: deploymentSchema,
  });
  const cfg = deployment({ replicas: 3 });
  let err: unknown;
  try {
    apply(created, cfg, 'mgr');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ApplyConflictError);
  assert.ok(err instanceof ApiError);
  assert.equal(err.code, 409);
  assert.equal(err.reason, 'Conflict');
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  assert.deepEqual(err.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] });

  const returned = applyServerSide({ live: created, applied: cfg, manager: 'mgr', force: false, schema: deploymentSchema, now: T1, apiVersion: 'apps/v1', onConflict: 'return' });
  assert.equal(returned.changed, false);
  assert.deepEqual(returned.conflicts, [{ manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', field: '.spec.replicas', message: 'conflict with "kubectl-client-side-apply" using apps/v1' }]);

  const forced = apply(created, cfg, 'mgr', { force: true });
  assert.equal(spec(forced.object).replicas, 3);
  assert.ok(setOf(forced.object, 'mgr').has(makePath('spec', 'replicas')));
  assert.ok(!setOf(forced.object, 'kubectl-client-side-apply').has(makePath('spec', 'replicas')));
  assert.ok(setOf(forced.object, 'kubectl-client-side-apply').has(containerPath('nginx', 'image')), 'other fields stay with the old owner');
  assert.deepEqual(entries(forced.object).map((e) => [e.manager, e.operation]), [['mgr', 'Apply'], ['kubectl-client-side-apply', 'Update']], 'Apply entries sort first');
});

test('conflicts between two appliers list every field grouped by manager', () => {
  const a = stored(apply(undefined, deployment({ replicas: 1, paused: false, template: template([nginx()]) }), 'a').object);
  const b = stored(apply(a, deployment({ replicas: 1 }, { labels: { x: 'y' } }), 'b').object);
  assert.throws(
    () => apply(b, deployment({ replicas: 5, paused: true, template: template([nginx({ image: 'nginx:2' })]) }), 'c'),
    (e: unknown) => {
      assert.ok(e instanceof ApplyConflictError);
      assert.equal(
        e.message,
        'Apply failed with 4 conflicts: conflicts with "a":\n- .spec.paused\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image\nconflicts with "b":\n- .spec.replicas',
      );
      assert.equal(e.conflicts.length, 4);
      assert.deepEqual(e.details?.causes?.[3], { reason: 'FieldManagerConflict', message: 'conflict with "b"', field: '.spec.replicas' });
      return true;
    },
  );
});

test('two managers co-own a field with the same value; it goes only when neither applies it', () => {
  const a = stored(apply(undefined, deployment({ replicas: 3, template: template([nginx()]) }), 'a').object);
  const ab = apply(a, deployment({ replicas: 3 }), 'b');
  assert.equal(ab.changed, true, 'managedFields changed');
  assert.ok(setOf(ab.object, 'a').has(makePath('spec', 'replicas')));
  assert.ok(setOf(ab.object, 'b').has(makePath('spec', 'replicas')));
  assert.equal(entry(ab.object, 'b')?.time, undefined, 'no time: the object itself did not change (as upstream)');
  const aDrops = apply(ab.object, deployment({ template: template([nginx()]) }), 'a');
  assert.equal(spec(aDrops.object).replicas, 3, 'still owned by b');
  const bDrops = apply(aDrops.object, deployment({}), 'b');
  assert.equal(spec(bDrops.object).replicas, undefined);
  assert.equal(entry(bDrops.object, 'b'), undefined, 'b owns nothing any more');
});

test('containers merge by name across managers; dropping a container removes only that one', () => {
  const x = stored(apply(undefined, deployment({ template: template([nginx(), { name: 'log', image: 'busybox' }]) }), 'x').object);
  assert.throws(() => apply(x, deployment({ template: template([{ name: 'log', image: 'busybox:2' }]) }), 'y'), /conflict with "x": \.spec\.template\.spec\.containers\[name="log"\]\.image/);
  const y = apply(x, deployment({ template: template([{ name: 'side', image: 'envoy' }]) }), 'y').object;
  assert.deepEqual(containers(y).map((c) => c.name), ['nginx', 'log', 'side']);
  const x2 = apply(y, deployment({ template: template([nginx()]) }), 'x').object;
  assert.deepEqual(containers(x2), [nginx(), { name: 'side', image: 'envoy' }]);
  assert.ok(setOf(x2, 'y').has(containerPath('side')));
});

test('list-map item order: shared items in applied order, live-only items keep their place', () => {
  const node = (deploymentSchema.properties!.spec!.properties!.template!.properties!.spec!.properties!.containers)!;
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => ({ name }));
  assert.deepEqual(merge([a, b, c], [c, a], node), [b, c, a]);
  assert.deepEqual(merge([a, b], [b, a], node), [b, a]);
  assert.deepEqual(merge([a, b, c], [d], node), [a, b, c, d]);
  assert.deepEqual(merge([a, { name: 'b', image: 'x' }], [{ name: 'b', image: 'y' }], node), [a, { name: 'b', image: 'y' }]);
});

test('set lists (finalizers) merge per value and prune per value', () => {
  const a = stored(apply(undefined, deployment({}, { finalizers: ['x/a', 'x/b'] }), 'a').object);
  const ab = apply(a, deployment({}, { finalizers: ['x/c'] }), 'b').object;
  assert.deepEqual(ab.metadata.finalizers, ['x/a', 'x/b', 'x/c']);
  assert.ok(setOf(ab, 'b').has([...makePath('metadata', 'finalizers'), 'v:"x/c"']));
  const a2 = apply(ab, deployment({}, { finalizers: ['x/a'] }), 'a').object;
  assert.deepEqual(a2.metadata.finalizers, ['x/a', 'x/c']);
});

test('atomic lists and maps are replaced whole and owned as one field', () => {
  const live = stored(apply(undefined, deployment({ selector: { matchLabels: { app: 'web', v: '1' } }, template: template([nginx({ args: ['a', 'b'] })]) }), 'a').object);
  const r = apply(live, deployment({ selector: { matchLabels: { app: 'web' } }, template: template([nginx({ args: ['c'] })]) }), 'a').object;
  assert.deepEqual(spec(r).selector, { matchLabels: { app: 'web' } });
  assert.deepEqual(containers(r)[0]!.args, ['c']);
  const s = setOf(r, 'a');
  assert.ok(s.has(makePath('spec', 'selector')) && s.withPrefix('f:spec').withPrefix('f:selector').empty());
  assert.throws(() => apply(r, deployment({ selector: { matchLabels: { app: 'other' } } }), 'b'), /conflict with "a": \.spec\.selector/);
});

test('update tracking followed by apply: ownership from create/edit, then an applier takes over with force', () => {
  const created = updateManagedFields({ old: undefined, updated: stored(deployment({ replicas: 1, template: template([nginx()]) }) as KubeObject), manager: 'kubectl-create', now: T0, apiVersion: 'apps/v1', schema: deploymentSchema });
  const edited = structuredClone(created);
  containers(edited)[0]!.image = 'nginx:1.26';
  const afterEdit = updateManagedFields({ old: created, updated: edited, manager: 'kubectl-edit', now: T1, apiVersion: 'apps/v1', schema: deploymentSchema });
  assert.ok(setOf(afterEdit, 'kubectl-edit').has(containerPath('nginx', 'image')));
  assert.ok(!setOf(afterEdit, 'kubectl-create').has(containerPath('nginx', 'image')));
  // Same values: no conflict, shared ownership.
  const same = apply(afterEdit, deployment({ replicas: 1, template: template([nginx({ image: 'nginx:1.26' })]) }), 'kubectl');
  assert.ok(setOf(same.object, 'kubectl-edit').has(containerPath('nginx', 'image')));
  assert.ok(setOf(same.object, 'kubectl').has(containerPath('nginx', 'image')));
  assert.throws(() => apply(same.object, deployment({ template: template([nginx({ image: 'nginx:2' })]) }), 'kubectl'), /conflict with "kubectl-edit" using apps\/v1/);
  const forced = apply(same.object, deployment({ template: template([nginx({ image: 'nginx:2' })]) }), 'kubectl', { force: true });
  assert.equal(containers(forced.object)[0]!.image, 'nginx:2');
  assert.ok(!setOf(forced.object, 'kubectl-edit').has(containerPath('nginx', 'image')));
  // kubectl dropped replicas from its config: kubectl-create still owns it, so it stays.
  assert.equal(spec(forced.object).replicas, 1);
});

test('kubectl-last-applied follow-up apply of just the annotation takes ownership without changing the object', () => {
  const ann = '{"apiVersion":"apps/v1","kind":"Deployment"}\n';
  const live = stored(apply(undefined, deployment({ replicas: 1 }, { annotations: { [LAST_APPLIED_ANNOTATION]: ann } }), 'kubectl', { now: T0 }).object);
  // kubectl's own apply rewrote the annotation from its configuration.
  const annNow = (live.metadata.annotations ?? {})[LAST_APPLIED_ANNOTATION]!;
  assert.equal(annNow, '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"web","namespace":"default"},"spec":{"replicas":1}}\n');
  const r = apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', annotations: { [LAST_APPLIED_ANNOTATION]: annNow } } }, 'kubectl-last-applied');
  assert.equal(r.changed, true);
  const { managedFields: _a, ...liveMeta } = live.metadata;
  const { managedFields: _b, ...newMeta } = r.object.metadata;
  assert.deepEqual(newMeta, liveMeta);
  assert.ok(setOf(r.object, 'kubectl-last-applied').has([...makePath('metadata', 'annotations'), `f:${LAST_APPLIED_ANNOTATION}`]));
  const again = apply(r.object, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', annotations: { [LAST_APPLIED_ANNOTATION]: annNow } } }, 'kubectl-last-applied');
  assert.equal(again.changed, false);
});

test('kubectl upgrading from client-side apply: fields still matching last-applied do not conflict', () => {
  const lastApplied = JSON.stringify(deployment({ replicas: 1, template: template([nginx()]) })) + '\n';
  const csa = updateManagedFields({
    old: undefined,
    updated: stored(deployment({ replicas: 1, template: template([nginx()]) }, { annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied } }) as KubeObject),
    manager: 'kubectl-client-side-apply',
    now: T0,
    apiVersion: 'apps/v1',
    schema: deploymentSchema,
  });
  const cfg = deployment({ replicas: 2, template: template([nginx()]) });
  const r = apply(csa, cfg, 'kubectl');
  assert.equal(spec(r.object).replicas, 2);
  assert.ok(setOf(r.object, 'kubectl').has(makePath('spec', 'replicas')));
  assert.match(r.object.metadata.annotations![LAST_APPLIED_ANNOTATION]!, /"replicas":2/);
  // Another manager name gets the plain conflict.
  assert.throws(() => apply(csa, cfg, 'other'), ApplyConflictError);
  // A live value that drifted from last-applied is a real conflict even for kubectl.
  const drifted = structuredClone(csa);
  spec(drifted).replicas = 7;
  const driftedTracked = updateManagedFields({ old: csa, updated: drifted, manager: 'kubectl-client-side-apply', now: T1, apiVersion: 'apps/v1', schema: deploymentSchema });
  assert.throws(() => apply(driftedTracked, cfg, 'kubectl'), /conflict with "kubectl-client-side-apply" using apps\/v1: \.spec\.replicas/);
});

test('status in an applied configuration is not owned on the main resource', () => {
  const r = applyServerSide({ live: undefined, applied: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [nginx()] }, status: { phase: 'Running' } }, manager: 'm', force: false, schema: podSchema, now: T1, apiVersion: 'v1' });
  assert.ok(!setOf(r.object, 'm').has(makePath('status', 'phase')));
  assert.ok(setOf(r.object, 'm').has([...makePath('spec', 'containers'), keyPE([['name', 'nginx']]), 'f:image']));
});

test('list-map keys fall back to the key default (Service port protocol TCP)', () => {
  const cfg = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080 }] } };
  const r = applyServerSide({ live: undefined, applied: cfg, manager: 'm', force: false, schema: serviceSchema, now: T1, apiVersion: 'v1' });
  assert.deepEqual(entry(r.object, 'm')?.fieldsV1, { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } } } });
  const live = stored(r.object);
  const withUdp = applyServerSide({ live, applied: { ...cfg, spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 80, protocol: 'UDP' }] } }, manager: 'm', force: false, schema: serviceSchema, now: T2, apiVersion: 'v1' });
  assert.equal(((withUdp.object.spec as Obj).ports as Obj[]).length, 2);
});

test('bad configurations are 400 with upstream wording', () => {
  const table: [string, Obj, Partial<ApplyInput>, RegExp][] = [
    ['missing list-map key', deployment({ template: template([{ image: 'x' }]) }), {}, /^failed to create typed patch object \(default\/web; apps\/v1, Kind=Deployment\): \.spec\.template\.spec\.containers: element 0: associative list with keys has an element that omits key field "name" \(and doesn't have default value\)$/],
    ['duplicate keys', deployment({ template: template([nginx(), nginx()]) }), {}, /duplicate entries for key \[name="nginx"\]/],
    ['map in a set', deployment({}, { finalizers: [{ a: 1 }] }), {}, /\.metadata\.finalizers: element 0: associative list without keys has an element that's a map type/],
    ['managedFields sent', deployment({}, { managedFields: [] }), {}, /^metadata\.managedFields must be nil$/],
    ['wrong kind', { ...deployment({}), kind: 'ReplicaSet' }, { kind: 'Deployment' }, /^invalid object type: apps\/v1, Kind=ReplicaSet$/],
  ];
  for (const [name, cfg, opts, re] of table) {
    assert.throws(
      () => apply(undefined, cfg, 'm', opts),
      (e: unknown) => e instanceof ApiError && e.code === 400 && re.test(e.message),
      name,
    );
  }
});

test('explicit null in the configuration unsets the field but keeps server-owned metadata', () => {
  const live = stored(apply(undefined, deployment({ replicas: 2, paused: true }), 'a').object);
  const r = apply(live, { ...deployment({ replicas: 2, paused: null }), metadata: { name: 'web', namespace: 'default', creationTimestamp: null } }, 'a').object;
  assert.deepEqual(spec(r), { replicas: 2 });
  assert.ok(setOf(r, 'a').has(makePath('spec', 'paused')), 'the applier owns the unset field, as upstream');
  assert.equal(r.metadata.creationTimestamp, T0);
});

test('garbage managedFields in storage does not break apply', () => {
  const live = stored(deployment({ replicas: 1 }) as KubeObject);
  live.metadata.managedFields = [{ manager: 'x', operation: 'Bogus' as 'Apply' }];
  const r = apply(live, deployment({ replicas: 2 }), 'a');
  assert.deepEqual(entries(r.object).map((e) => e.manager), ['a']);
});
