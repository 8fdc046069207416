// Tests for the OpenAPI documents and handlers, built from a local KindDef fixture and the generated definitions.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { KindDef } from '../api/kinds/types.js';
import { definitions } from '../api/schema/registry.js';
import { buildOpenAPIDocs, handleOpenAPI } from './openapi.js';
import type { OpenAPIDocs } from './openapi.js';

const scale = { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'replicas'], selector: () => '' };
const identity = { toStored: <T>(o: T) => o, fromStored: <T>(o: T) => o };

const kinds: KindDef[] = [
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, status: true, extraSubresources: [{ name: 'log', group: '', version: 'v1', kind: 'Pod', verbs: ['get'] }, { name: 'eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] }, { name: 'exec', group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] }] },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false, status: true },
  { group: '', version: 'v1', kind: 'ComponentStatus', plural: 'componentstatuses', singular: 'componentstatus', namespaced: false, verbs: ['get', 'list'] },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true, status: true, scale },
  { group: 'autoscaling', version: 'v2', otherVersions: [{ version: 'v1', ...identity }], kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', namespaced: true, status: true },
  // A kind without a built-in schema (as a CRD would be): no strategic merge patch.
  { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', singular: 'widget', namespaced: true },
];

type Json = Record<string, any>;

function doc(docs: OpenAPIDocs, key: string): Json {
  const d = docs.byKey.get(key);
  assert.ok(d, key);
  return JSON.parse(d.body.toString('utf8')) as Json;
}

describe('buildOpenAPIDocs', () => {
  const docs = buildOpenAPIDocs(kinds, definitions());

  it('root lists every served group/version with a content hash', () => {
    const root = JSON.parse(docs.root.toString('utf8')) as { paths: Record<string, { serverRelativeURL: string }> };
    assert.deepEqual(Object.keys(root.paths).sort(), ['api/v1', 'apis/apps/v1', 'apis/autoscaling/v1', 'apis/autoscaling/v2', 'apis/example.com/v1']);
    const d = docs.byKey.get('apis/apps/v1');
    assert.ok(d);
    const hash = createHash('sha512').update(d.body).digest('hex').toUpperCase();
    assert.equal(d.hash, hash);
    assert.equal(root.paths['apis/apps/v1'].serverRelativeURL, `/openapi/v3/apis/apps/v1?hash=${hash}`);
  });

  it('is deterministic', () => {
    const again = buildOpenAPIDocs(kinds, definitions());
    assert.equal(again.root.toString(), docs.root.toString());
    assert.equal(again.byKey.get('api/v1')?.hash, docs.byKey.get('api/v1')?.hash);
  });

  it('serves every path upstream serves for a namespaced kind with status and scale', () => {
    const d = doc(docs, 'apis/apps/v1');
    assert.equal(d.openapi, '3.0.0');
    assert.deepEqual(Object.keys(d.paths).sort(), [
      '/apis/apps/v1/deployments',
      '/apis/apps/v1/namespaces/{namespace}/deployments',
      '/apis/apps/v1/namespaces/{namespace}/deployments/{name}',
      '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale',
      '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status',
    ]);
    const coll = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments'];
    assert.deepEqual(Object.keys(coll).sort(), ['delete', 'get', 'parameters', 'post']);
    assert.equal(coll.post.operationId, 'createAppsV1NamespacedDeployment');
    assert.deepEqual(coll.post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/io.k8s.api.apps.v1.Deployment' });
    assert.equal(coll.get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/io.k8s.api.apps.v1.DeploymentList');
    const item = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    assert.deepEqual(Object.keys(item).sort(), ['delete', 'get', 'parameters', 'patch', 'put']);
    assert.deepEqual(item.parameters.map((p: Json) => `${p.in}:${p.name}`), ['path:name', 'path:namespace', 'query:pretty']);
    const scalePatch = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch;
    assert.deepEqual(scalePatch['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    assert.equal(scalePatch.operationId, 'patchAppsV1NamespacedDeploymentScale');
    const status = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status'];
    assert.deepEqual(Object.keys(status).sort(), ['get', 'parameters', 'patch', 'put']);
  });

  it('every PATCH carries the GVK, fieldValidation and the four patch types (SMP only with a real schema)', () => {
    for (const [key, d] of docs.byKey) {
      const parsed = JSON.parse(d.body.toString('utf8')) as Json;
      for (const [p, item] of Object.entries(parsed.paths as Record<string, Json>)) {
        if (!item.patch) continue;
        const op = item.patch;
        assert.ok(op['x-kubernetes-group-version-kind']?.kind, `${key} ${p}`);
        assert.ok(op.parameters.some((x: Json) => x.name === 'fieldValidation' && x.in === 'query'), `${key} ${p}`);
        const types = Object.keys(op.requestBody.content).sort();
        if (key === 'apis/example.com/v1') {
          assert.deepEqual(types, ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
        } else {
          assert.deepEqual(types, ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
        }
      }
    }
  });

  it('cluster-scoped kinds, restricted verbs and extra subresources', () => {
    const d = doc(docs, 'api/v1');
    assert.ok(d.paths['/api/v1/nodes/{name}'].patch);
    assert.equal(d.paths['/api/v1/nodes/{name}'].patch.operationId, 'patchCoreV1Node');
    assert.ok(!d.paths['/api/v1/namespaces/{namespace}/nodes']);
    assert.deepEqual(Object.keys(d.paths['/api/v1/componentstatuses/{name}']).sort(), ['get', 'parameters']);
    assert.deepEqual(Object.keys(d.paths['/api/v1/componentstatuses']).sort(), ['get', 'parameters']);
    assert.ok(d.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'].get);
    const ev = d.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction'].post;
    assert.deepEqual(ev['x-kubernetes-group-version-kind'], { group: 'policy', version: 'v1', kind: 'Eviction' });
    assert.equal(ev.requestBody.content['application/json'].schema.$ref, '#/components/schemas/io.k8s.api.policy.v1.Eviction');
    const exec = d.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec'];
    assert.equal(exec.get['x-kubernetes-action'], 'connect');
    assert.equal(exec.post.operationId, 'connectPostCoreV1NamespacedPodExec');
  });

  it('other served versions get their own document with their own schemas', () => {
    const v1 = doc(docs, 'apis/autoscaling/v1');
    const v2 = doc(docs, 'apis/autoscaling/v2');
    const p = '/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers/{name}';
    assert.deepEqual(v1.paths[p].patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler' });
    assert.ok(v1.components.schemas['io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler']);
    assert.ok(!v1.components.schemas['io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler']);
    assert.ok(v2.components.schemas['io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler']);
  });

  it('components hold exactly the definitions reachable from the documented operations', () => {
    const d = doc(docs, 'apis/apps/v1');
    const schemas = d.components.schemas as Record<string, Json>;
    for (const n of ['io.k8s.api.apps.v1.Deployment', 'io.k8s.api.apps.v1.DeploymentList', 'io.k8s.api.core.v1.Container', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'io.k8s.api.autoscaling.v1.Scale', 'io.k8s.apimachinery.pkg.util.intstr.IntOrString']) {
      assert.ok(schemas[n], n);
    }
    assert.ok(!schemas['io.k8s.api.batch.v1.Job']);
    assert.ok(!schemas['io.k8s.api.apps.v1.StatefulSet']);
    // every $ref resolves inside the document
    const refs = new Set<string>();
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) k === '$ref' ? refs.add(String(v)) : walk(v);
    };
    walk(d);
    for (const r of refs) assert.ok(schemas[r.replace('#/components/schemas/', '')], r);
  });

  it('builds with no kinds at all', () => {
    const empty = buildOpenAPIDocs([], definitions());
    assert.equal(empty.root.toString(), '{"paths":{}}');
  });
});

describe('handleOpenAPI', () => {
  const docs = buildOpenAPIDocs(kinds, definitions());
  const get = (path: string, query = '', accept = 'application/json') => handleOpenAPI(path, new URLSearchParams(query), accept, () => docs);

  it('/openapi/v2 is an empty protobuf document', () => {
    const r = get('/openapi/v2', '', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
    assert.ok(r);
    assert.equal(r.status, 200);
    assert.equal(r.headers['Content-Type'], 'application/octet-stream');
    assert.equal(r.body.length, 0);
  });

  it('/openapi/v3 root and group/version documents', () => {
    for (const p of ['/openapi/v3', '/openapi/v3/']) {
      const r = get(p, 'timeout=32s');
      assert.equal(r?.status, 200);
      assert.equal(r?.headers['Content-Type'], 'application/json');
      assert.equal(r?.body, docs.root);
    }
    const d = docs.byKey.get('apis/apps/v1');
    assert.ok(d);
    const fresh = get('/openapi/v3/apis/apps/v1', `hash=${d.hash}&timeout=32s`);
    assert.equal(fresh?.status, 200);
    assert.equal(fresh?.body, d.body);
    assert.equal(fresh?.headers['Cache-Control'], 'public, immutable');
    assert.equal(fresh?.headers.ETag, `"${d.hash}"`);
    const noHash = get('/openapi/v3/apis/apps/v1');
    assert.equal(noHash?.status, 200);
    assert.equal(noHash?.headers['Cache-Control'], 'no-cache, private');
    const stale = get('/openapi/v3/apis/apps/v1', 'hash=0123');
    assert.equal(stale?.status, 301);
    assert.equal(stale?.headers.Location, `/openapi/v3/apis/apps/v1?hash=${d.hash}`);
    assert.equal(get('/openapi/v3/apis/nope/v1')?.status, 404);
    assert.equal(get('/openapi/v3', '', 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf')?.status, 406);
    assert.equal(get('/openapi/v3', '', '*/*')?.status, 200);
  });

  it('leaves other paths alone', () => {
    assert.equal(get('/api/v1'), undefined);
    assert.equal(get('/openapi/v3x'), undefined);
    assert.equal(get('/openapi'), undefined);
  });
});
