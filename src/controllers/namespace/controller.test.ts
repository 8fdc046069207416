// Namespace controller tests on the fake client: content deleted per discovered resource, conditions written,
// /finalize only once nothing remains, discovery failures reported.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { ApiError, type ApiResource } from '../../client/interface.js';
import { NAMESPACES, NamespaceController, namespaceConditions, type NamespaceCondition } from './controller.js';

const RESOURCES: ApiResource[] = [
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, verbs: ['create', 'delete', 'get', 'list', 'watch'] },
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, verbs: ['delete', 'deletecollection', 'get', 'list'] },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, verbs: ['delete', 'get', 'list'] },
  { group: '', version: 'v1', resource: 'bindings', kind: 'Binding', namespaced: true, verbs: ['create'] },
];

function terminating(c: FakeClient, name: string): void {
  c.seed('namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, deletionTimestamp: '2024-01-01T00:00:00Z' },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Terminating' },
  });
}
const obj = (kind: string, ns: string, name: string, finalizers?: string[]): KubeObject => ({ kind, metadata: { name, namespace: ns, ...(finalizers ? { finalizers } : {}) } });

test('empties the namespace (deletecollection where offered, else list+delete) and finalizes it', async () => {
  const c = new FakeClient(RESOURCES);
  terminating(c, 'doomed');
  c.seed('configmaps', obj('ConfigMap', 'doomed', 'a'));
  c.seed('configmaps', obj('ConfigMap', 'other', 'b'));
  c.seed('deployments', obj('Deployment', 'doomed', 'web'));
  const nc = new NamespaceController(c);
  await nc.sync('doomed');
  const writes = c.actions.filter((a) => ['delete', 'deletecollection', 'update'].includes(a.verb));
  assert.deepEqual(
    writes.map((a) => [a.verb, a.resource + (a.subresource ? `/${a.subresource}` : ''), [a.namespace, a.name].filter(Boolean).join('/'), typeof a.detail === 'string' ? a.detail : ''].join(' ').trim()),
    ['deletecollection configmaps doomed Background', 'delete deployments doomed/web Background', 'update namespaces/status doomed', 'update namespaces/finalize doomed'],
  );
  assert.equal(c.peek('namespaces', undefined, 'doomed'), undefined, 'finalized namespace is gone');
  assert.ok(c.peek('configmaps', 'other', 'b'), 'other namespaces untouched');
});

test('content with finalizers keeps the namespace: conditions say why, no /finalize, looked at again later', async () => {
  const c = new FakeClient(RESOURCES);
  terminating(c, 'held');
  c.seed('configmaps', obj('ConfigMap', 'held', 'a', ['example.com/keep']));
  const nc = new NamespaceController(c);
  await nc.sync('held');
  assert.equal(c.actions.filter((a) => a.subresource === 'finalize').length, 0);
  const ns = c.peek('namespaces', undefined, 'held')!;
  const conds = (ns.status as { conditions: NamespaceCondition[] }).conditions;
  const byType = Object.fromEntries(conds.map((x) => [x.type, x]));
  assert.equal(byType.NamespaceContentRemaining!.status, 'True');
  assert.equal(byType.NamespaceContentRemaining!.message, 'Some resources are remaining: configmaps. has 1 resource instances');
  assert.equal(byType.NamespaceFinalizersRemaining!.message, 'Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances');
  assert.equal(byType.NamespaceDeletionDiscoveryFailure!.status, 'False');
  nc.queue.shutDown();

  // Once the finalizer is gone, the next pass finalizes.
  const cm = c.peek('configmaps', 'held', 'a')!;
  await c.update({ group: '', version: 'v1', resource: 'configmaps', namespaced: true }, 'held', { ...cm, metadata: { ...cm.metadata, finalizers: [] } });
  await new NamespaceController(c).sync('held');
  assert.equal(c.peek('namespaces', undefined, 'held'), undefined);
});

test('a discovery failure is a condition and an error (retried with backoff)', async () => {
  const c = new FakeClient(RESOURCES);
  terminating(c, 'x');
  c.failures.set('discover ', new ApiError(503, 'ServiceUnavailable', 'discovery down'));
  await assert.rejects(new NamespaceController(c).sync('x'), /discovery down/);
  const conds = (c.peek('namespaces', undefined, 'x')!.status as { conditions: NamespaceCondition[] }).conditions;
  const d = conds.find((x) => x.type === 'NamespaceDeletionDiscoveryFailure')!;
  assert.equal(d.status, 'True');
  assert.equal(d.reason, 'DiscoveryFailed');
  assert.equal(c.actions.filter((a) => a.subresource === 'finalize').length, 0);
});

test('namespaces not being deleted, or already finalized by us, are left alone', async () => {
  const c = new FakeClient(RESOURCES);
  c.seed('namespaces', { metadata: { name: 'live' }, spec: { finalizers: ['kubernetes'] } });
  c.seed('namespaces', { metadata: { name: 'other-fin', deletionTimestamp: '2024-01-01T00:00:00Z' }, spec: { finalizers: ['example.com/x'] } });
  const nc = new NamespaceController(c);
  await nc.sync('live');
  await nc.sync('other-fin');
  await nc.sync('missing');
  assert.deepEqual(c.actions.map((a) => a.verb), ['get', 'get', 'get']);
  assert.ok(c.peek('namespaces', undefined, 'live'));
});

test('run(): a namespace deleted through the API is emptied and removed', async () => {
  const c = new FakeClient(RESOURCES);
  c.seed('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  c.seed('configmaps', obj('ConfigMap', 'n', 'a'));
  const nc = new NamespaceController(c, { deletionGraceMs: 0 });
  const running = nc.run();
  await c.delete(NAMESPACES, undefined, 'n');
  for (let i = 0; i < 200 && c.peek('namespaces', undefined, 'n'); i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(c.peek('namespaces', undefined, 'n'), undefined);
  assert.equal(c.all('configmaps').length, 0);
  await nc.stop();
  await running;
});

test('namespaceConditions keeps lastTransitionTime of unchanged conditions', () => {
  const empty = { discoveryErrors: [], deleteErrors: [], remaining: new Map<string, number>(), finalizers: new Map<string, number>(), estimateSeconds: 0 };
  const first = namespaceConditions({ ...empty, remaining: new Map([['pods.', 2]]) }, [], 'T1');
  assert.deepEqual(first.map((x) => x.type), [
    'NamespaceDeletionDiscoveryFailure',
    'NamespaceDeletionGroupVersionParsingFailure',
    'NamespaceDeletionContentFailure',
    'NamespaceContentRemaining',
    'NamespaceFinalizersRemaining',
  ]);
  const second = namespaceConditions(empty, first, 'T2');
  assert.deepEqual(second.map((x) => x.lastTransitionTime), ['T1', 'T1', 'T1', 'T2', 'T1']);
  assert.deepEqual(second[3], { type: 'NamespaceContentRemaining', status: 'False', lastTransitionTime: 'T2', reason: 'ContentRemoved', message: 'All content successfully removed' });
});
