// Discovery parsing: aggregated v2 documents and the legacy per-group-version fallback.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discover } from './discovery.js';

test('aggregated discovery: preferred version per group, scope and verbs', async () => {
  const docs: Record<string, unknown> = {
    '/api': {
      kind: 'APIGroupDiscoveryList',
      items: [{ metadata: { name: '' }, versions: [{ version: 'v1', resources: [{ resource: 'pods', responseKind: { kind: 'Pod' }, scope: 'Namespaced', verbs: ['list', 'delete'] }] }] }],
    },
    '/apis': {
      kind: 'APIGroupDiscoveryList',
      items: [
        {
          metadata: { name: 'autoscaling' },
          versions: [
            { version: 'v2', resources: [{ resource: 'horizontalpodautoscalers', responseKind: { kind: 'HorizontalPodAutoscaler' }, scope: 'Namespaced', verbs: ['get'] }] },
            { version: 'v1', resources: [{ resource: 'horizontalpodautoscalers', responseKind: { kind: 'HorizontalPodAutoscaler' }, scope: 'Namespaced', verbs: ['get'] }] },
          ],
        },
      ],
    },
  };
  const accepts: string[] = [];
  const rs = await discover(async (p, accept) => {
    accepts.push(accept ?? '');
    return docs[p];
  });
  assert.ok(accepts.every((a) => a.includes('as=APIGroupDiscoveryList')));
  assert.deepEqual(rs, [
    { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, verbs: ['list', 'delete'] },
    { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true, verbs: ['get'] },
  ]);
});

test('legacy discovery: /api/v1 and each group preferred version, subresources dropped', async () => {
  const docs: Record<string, unknown> = {
    '/api': { kind: 'APIVersions', versions: ['v1'] },
    '/api/v1': { resources: [{ name: 'namespaces', kind: 'Namespace', namespaced: false, verbs: ['list'] }, { name: 'namespaces/finalize', kind: 'Namespace', namespaced: false, verbs: ['update'] }] },
    '/apis': { kind: 'APIGroupList', groups: [{ name: 'apps', preferredVersion: { version: 'v1' } }] },
    '/apis/apps/v1': { resources: [{ name: 'deployments', kind: 'Deployment', namespaced: true, verbs: ['list', 'delete', 'deletecollection'] }] },
  };
  const rs = await discover(async (p) => docs[p]);
  assert.deepEqual(
    rs.map((r) => `${r.group}/${r.version}/${r.resource}:${r.namespaced}`),
    ['/v1/namespaces:false', 'apps/v1/deployments:true'],
  );
});
