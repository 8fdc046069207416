// The named-group kind registry: every kind upstream 1.32 serves here, with its discovery facts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupKinds } from './groups.js';

const facts = (plural: string, group: string) => {
  const k = groupKinds.find((x) => x.plural === plural && x.group === group);
  assert.ok(k, `${group}/${plural} is registered`);
  return { namespaced: k.namespaced, shortNames: k.shortNames ?? [], categories: k.categories ?? [], status: !!k.status, scale: !!k.scale, versions: [k.version, ...(k.otherVersions ?? []).map((v) => v.version)] };
};

test('discovery facts match upstream', () => {
  const want: [string, string, boolean, string[], string[], boolean, boolean, string[]][] = [
    ['apps', 'controllerrevisions', true, [], [], false, false, ['v1']],
    ['apps', 'daemonsets', true, ['ds'], ['all'], true, false, ['v1']],
    ['apps', 'deployments', true, ['deploy'], ['all'], true, true, ['v1']],
    ['apps', 'replicasets', true, ['rs'], ['all'], true, true, ['v1']],
    ['apps', 'statefulsets', true, ['sts'], ['all'], true, true, ['v1']],
    ['events.k8s.io', 'events', true, ['ev'], [], false, false, ['v1']],
    ['autoscaling', 'horizontalpodautoscalers', true, ['hpa'], ['all'], true, false, ['v2', 'v1']],
    ['batch', 'cronjobs', true, ['cj'], ['all'], true, false, ['v1']],
    ['batch', 'jobs', true, [], ['all'], true, false, ['v1']],
    ['networking.k8s.io', 'ingressclasses', false, [], [], false, false, ['v1']],
    ['networking.k8s.io', 'ingresses', true, ['ing'], [], true, false, ['v1']],
    ['networking.k8s.io', 'networkpolicies', true, ['netpol'], [], false, false, ['v1']],
    ['policy', 'poddisruptionbudgets', true, ['pdb'], [], true, false, ['v1']],
    ['rbac.authorization.k8s.io', 'clusterrolebindings', false, [], [], false, false, ['v1']],
    ['rbac.authorization.k8s.io', 'clusterroles', false, [], [], false, false, ['v1']],
    ['rbac.authorization.k8s.io', 'rolebindings', true, [], [], false, false, ['v1']],
    ['rbac.authorization.k8s.io', 'roles', true, [], [], false, false, ['v1']],
    ['storage.k8s.io', 'storageclasses', false, ['sc'], [], false, false, ['v1']],
    ['scheduling.k8s.io', 'priorityclasses', false, ['pc'], [], false, false, ['v1']],
    ['coordination.k8s.io', 'leases', true, [], [], false, false, ['v1']],
    ['discovery.k8s.io', 'endpointslices', true, [], [], false, false, ['v1']],
  ];
  assert.equal(groupKinds.length, want.length);
  for (const [group, plural, namespaced, shortNames, categories, status, scale, versions] of want)
    assert.deepEqual(facts(plural, group), { namespaced, shortNames, categories, status, scale, versions }, `${group}/${plural}`);
});

test('every kind has a table whose first column is the name (or, for events, a Name column)', () => {
  for (const k of groupKinds) {
    assert.ok(k.table, k.kind);
    assert.ok(k.table.columns.some((c) => c.name === 'Name' && c.format === 'name'), k.kind);
  }
});
