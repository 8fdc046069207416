// HTTP-level contract tests for the API server against upstream kube-apiserver 1.32 behaviour: status codes,
// Content-Types and JSON shapes of discovery, CRUD, lists, tables, watch, subresources, deletion, patches, virtual
// resources, authentication and protobuf bodies. Server bugs these tests document are listed in
// /work/notes/http-findings.md with the upstream reference.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { encodeProtobufObject } from '../api/protobuf/index.js';
import { AGG_V2, AGG_V2BETA1 } from './server.js';
import { TestServer, type HttpReply, type WatchEvent, type WatchStream } from './testing/harness.js';

// ---- helpers ------------------------------------------------------------------------------------------------

const DISCOVERY_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const MERGE = 'application/merge-patch+json';
const JSONPATCH = 'application/json-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const APPLY = 'application/apply-patch+yaml';
const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

const core = (ns: string, res: string, name = ''): string => `/api/v1/namespaces/${ns}/${res}${name ? '/' + name : ''}`;
const apps = (ns: string, res: string, name = ''): string => `/apis/apps/v1/namespaces/${ns}/${res}${name ? '/' + name : ''}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

function configMap(name: string, data: Record<string, string> = { a: '1' }, labels?: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data };
}

function pod(name: string, extra: { labels?: Record<string, string>; nodeName?: string } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
  };
}

function deployment(name: string, replicas = 2): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'web', image: 'nginx:1.25' },
            { name: 'side', image: 'busybox:1.36' },
          ],
        },
      },
    },
  };
}

function replicationController(name: string, replicas = 2): Obj {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name },
    spec: { replicas, selector: { app: name }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  };
}

/** Assert a JSON reply: status code and Content-Type application/json. */
function expectJSON(r: HttpReply, code: number, what = ''): void {
  assert.equal(r.status, code, `${what} expected HTTP ${code}, got ${r.status}: ${r.text.slice(0, 600)}`);
  assert.match(String(r.headers['content-type']), /^application\/json\b/, `${what} Content-Type`);
  assert.notEqual(r.body, undefined, `${what} body is JSON`);
}

/** Assert a failure `Status` reply with matching HTTP and body codes, reason and (optionally) message. */
function expectStatus(r: HttpReply, code: number, reason: string, message?: string | RegExp): void {
  expectJSON(r, code, reason);
  const s = r.body;
  assert.equal(s.kind, 'Status', r.text);
  assert.equal(s.apiVersion, 'v1');
  assert.deepEqual(s.metadata, {});
  assert.equal(s.status, 'Failure');
  assert.equal(s.code, code);
  assert.equal(s.reason, reason, r.text);
  if (typeof message === 'string') assert.equal(s.message, message);
  else if (message) assert.match(s.message, message);
}

function addedNames(evs: WatchEvent[]): string[] {
  return evs.map((e) => `${e.type}:${e.object?.metadata?.name}`);
}

// ---- server ---------------------------------------------------------------------------------------------------

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(async () => {
  await s?.close();
});

// ---- version, health, authentication ----------------------------------------------------------------------

describe('version, health and authentication', () => {
  test('GET /version reports 1.32 with the upstream fields, also to anonymous clients', async () => {
    for (const auth of ['cert', 'none'] as const) {
      const r = await s.get('/version?timeout=5s', { auth });
      expectJSON(r, 200, `/version as ${auth}`);
      assert.equal(r.body.major, '1');
      assert.equal(r.body.minor, '32');
      assert.match(r.body.gitVersion, /^v1\.32\.\d+/);
      for (const k of ['gitCommit', 'gitTreeState', 'buildDate', 'goVersion', 'compiler', 'platform']) assert.equal(typeof r.body[k], 'string', k);
    }
  });

  test('/healthz, /livez, /readyz answer plain "ok" without credentials', async () => {
    for (const p of ['/healthz', '/livez', '/readyz', '/livez/ping']) {
      const r = await s.get(p, { auth: 'none' });
      assert.equal(r.status, 200, p);
      assert.equal(r.text, 'ok', p);
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8', p);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
    }
  });

  test('resource and discovery paths without credentials: 401 Unauthorized Status', async () => {
    for (const p of ['/api/v1/namespaces', '/api/v1/namespaces/default/pods', '/api', '/apis', '/apis/apps/v1']) {
      const r = await s.get(p, { auth: 'none' });
      expectStatus(r, 401, 'Unauthorized', 'Unauthorized');
      assert.equal(r.body.details, undefined);
    }
    // A bearer token nobody issued is no better.
    expectStatus(await s.get('/api/v1/namespaces', { auth: { token: 'not-a-token' } }), 401, 'Unauthorized');
  });

  test('token-file authentication: bearer tokens map to user, uid and groups', async () => {
    const t = await TestServer.start({ tokenFile: 'tok-alice,alice,uid-1,"dev,ops"\n# comment\ntok-bob,bob,uid-2\n' });
    try {
      const ok = await t.get('/api/v1/namespaces', { auth: { token: 'tok-alice' } });
      expectJSON(ok, 200);
      assert.equal(ok.body.kind, 'NamespaceList');
      const who = await t.post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, { auth: { token: 'tok-alice' } });
      expectJSON(who, 201);
      assert.equal(who.body.status.userInfo.username, 'alice');
      assert.equal(who.body.status.userInfo.uid, 'uid-1');
      assert.deepEqual(who.body.status.userInfo.groups, ['dev', 'ops', 'system:authenticated']);
      const bob = await t.post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, { auth: { token: 'tok-bob' } });
      assert.deepEqual(bob.body.status.userInfo.groups, ['system:authenticated']);
      expectStatus(await t.get('/api/v1/namespaces', { auth: { token: 'tok-mallory' } }), 401, 'Unauthorized', 'Unauthorized');
      // The client certificate still works next to the token file.
      expectJSON(await t.get('/api/v1/namespaces'), 200);
    } finally {
      await t.close();
    }
  });
});

// ---- discovery ------------------------------------------------------------------------------------------------

describe('discovery', () => {
  async function aggregated(path: '/api' | '/apis', accept = DISCOVERY_ACCEPT): Promise<HttpReply> {
    return s.get(`${path}?timeout=32s`, { accept });
  }

  /** All resources of both aggregated documents, keyed `resource.group`. */
  async function allAggregated(): Promise<Map<string, Obj>> {
    const out = new Map<string, Obj>();
    for (const p of ['/api', '/apis'] as const) {
      const r = await aggregated(p);
      for (const g of r.body.items)
        for (const v of g.versions)
          for (const res of v.resources) {
            const key = g.metadata.name ? `${res.resource}.${g.metadata.name}` : res.resource;
            if (!out.has(key)) out.set(key, { ...res, group: g.metadata.name, version: v.version });
          }
    }
    return out;
  }

  test('aggregated v2: exact Content-Type, APIGroupDiscoveryList shape, core group first', async () => {
    const r = await aggregated('/api');
    expectJSON(r, 200);
    assert.equal(r.headers['content-type'], AGG_V2);
    assert.equal(AGG_V2, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    assert.equal(r.body.kind, 'APIGroupDiscoveryList');
    assert.equal(r.body.apiVersion, 'apidiscovery.k8s.io/v2');
    assert.equal(r.body.items.length, 1);
    assert.equal(r.body.items[0].metadata.name, '');
    assert.equal(r.body.items[0].versions[0].version, 'v1');
    assert.equal(r.body.items[0].versions[0].freshness, 'Current');
    const apis = await aggregated('/apis');
    assert.equal(apis.headers['content-type'], AGG_V2);
    const names = apis.body.items.map((i: Obj) => i.metadata.name);
    assert.ok(!names.includes(''), 'core group is not in /apis');
    for (const g of ['apps', 'batch', 'autoscaling', 'policy', 'authorization.k8s.io', 'authentication.k8s.io']) assert.ok(names.includes(g), `/apis lists ${g}`);
    const autoscaling = apis.body.items.find((i: Obj) => i.metadata.name === 'autoscaling');
    assert.deepEqual(
      autoscaling.versions.map((v: Obj) => v.version),
      ['v2', 'v1'],
      'preferred version first',
    );
  });

  test('aggregated v2beta1 when only v2beta1 is accepted', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    for (const p of ['/api', '/apis'] as const) {
      const r = await aggregated(p, accept);
      expectJSON(r, 200);
      assert.equal(r.headers['content-type'], AGG_V2BETA1);
      assert.equal(r.body.apiVersion, 'apidiscovery.k8s.io/v2beta1');
      assert.equal(r.body.kind, 'APIGroupDiscoveryList');
    }
  });

  test('every aggregated resource and subresource carries responseKind (else kubectl drops it)', async () => {
    const all = await allAggregated();
    assert.ok(all.size > 10);
    for (const [key, res] of all) {
      assert.ok(res.responseKind && typeof res.responseKind.kind === 'string' && res.responseKind.kind !== '', `${key} responseKind`);
      assert.equal(typeof res.responseKind.version, 'string', `${key} responseKind.version`);
      assert.equal(typeof res.responseKind.group, 'string', `${key} responseKind.group`);
      assert.ok(['Namespaced', 'Cluster'].includes(res.scope), `${key} scope`);
      assert.ok(Array.isArray(res.verbs), `${key} verbs`);
      for (const sub of res.subresources ?? []) {
        assert.ok(sub.responseKind && sub.responseKind.kind, `${key}/${sub.subresource} responseKind`);
        assert.ok(Array.isArray(sub.verbs), `${key}/${sub.subresource} verbs`);
      }
    }
  });

  test('shortNames, categories and subresource kinds of well-known resources', async () => {
    const all = await allAggregated();
    const expectRes: [string, string[], string[] | undefined][] = [
      ['pods', ['po'], ['all']],
      ['services', ['svc'], ['all']],
      ['replicationcontrollers', ['rc'], ['all']],
      ['namespaces', ['ns'], undefined],
      ['configmaps', ['cm'], undefined],
      ['deployments.apps', ['deploy'], ['all']],
    ];
    for (const [key, shortNames, categories] of expectRes) {
      const r = all.get(key);
      assert.ok(r, `${key} is served`);
      assert.deepEqual(r.shortNames, shortNames, `${key} shortNames`);
      assert.deepEqual(r.categories, categories, `${key} categories`);
    }
    const subs: [string, string, { group: string; version: string; kind: string }][] = [
      ['pods', 'status', { group: '', version: 'v1', kind: 'Pod' }],
      ['pods', 'log', { group: '', version: 'v1', kind: 'Pod' }],
      ['pods', 'exec', { group: '', version: 'v1', kind: 'PodExecOptions' }],
      ['pods', 'binding', { group: '', version: 'v1', kind: 'Binding' }],
      ['pods', 'eviction', { group: 'policy', version: 'v1', kind: 'Eviction' }],
      ['replicationcontrollers', 'scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }],
      ['deployments.apps', 'scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }],
      ['deployments.apps', 'status', { group: 'apps', version: 'v1', kind: 'Deployment' }],
      ['serviceaccounts', 'token', { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }],
    ];
    for (const [key, sub, kind] of subs) {
      const r = all.get(key);
      assert.ok(r, `${key} is served`);
      const found = (r.subresources ?? []).find((x: Obj) => x.subresource === sub);
      assert.ok(found, `${key}/${sub} listed`);
      assert.deepEqual(found.responseKind, kind, `${key}/${sub} responseKind`);
    }
  });

  test('the "all" category holds exactly upstream\'s members (kubectl get all)', async () => {
    const all = await allAggregated();
    const members = [...all.entries()].filter(([, r]) => (r.categories ?? []).includes('all')).map(([k]) => k);
    assert.deepEqual(
      members.sort(),
      [
        'cronjobs.batch',
        'daemonsets.apps',
        'deployments.apps',
        'horizontalpodautoscalers.autoscaling',
        'jobs.batch',
        'pods',
        'replicasets.apps',
        'replicationcontrollers',
        'services',
        'statefulsets.apps',
      ].sort(),
    );
  });

  test('legacy /api: APIVersions; /apis: APIGroupList; /apis/apps: APIGroup (plain JSON)', async () => {
    const api = await s.get('/api?timeout=32s', { accept: 'application/json, */*' });
    expectJSON(api, 200);
    assert.equal(api.body.kind, 'APIVersions');
    assert.deepEqual(api.body.versions, ['v1']);
    assert.ok(Array.isArray(api.body.serverAddressByClientCIDRs) && api.body.serverAddressByClientCIDRs.length > 0);

    const apis = await s.get('/apis', { accept: 'application/json' });
    expectJSON(apis, 200);
    assert.equal(apis.body.kind, 'APIGroupList');
    assert.equal(apis.body.apiVersion, 'v1');
    const appsG = apis.body.groups.find((g: Obj) => g.name === 'apps');
    assert.deepEqual(appsG, { name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } });
    const autoscaling = apis.body.groups.find((g: Obj) => g.name === 'autoscaling');
    assert.equal(autoscaling.preferredVersion.version, 'v2');

    const g = await s.get('/apis/apps');
    expectJSON(g, 200);
    assert.deepEqual(g.body, { kind: 'APIGroup', apiVersion: 'v1', name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } });
  });

  test('legacy /api/v1: APIResourceList with pods, pods/eviction (policy/v1) and verbs', async () => {
    const r = await s.get('/api/v1', { accept: 'application/json, */*' });
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'APIResourceList');
    assert.equal(r.body.apiVersion, 'v1');
    assert.equal(r.body.groupVersion, 'v1');
    const byName = new Map<string, Obj>(r.body.resources.map((x: Obj) => [x.name, x]));
    const pods = byName.get('pods');
    assert.equal(pods.singularName, 'pod');
    assert.equal(pods.namespaced, true);
    assert.equal(pods.kind, 'Pod');
    assert.deepEqual([...pods.verbs].sort(), ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    assert.deepEqual(pods.shortNames, ['po']);
    assert.deepEqual(pods.categories, ['all']);
    assert.equal(typeof pods.storageVersionHash, 'string');
    const ev = byName.get('pods/eviction');
    assert.ok(ev, 'pods/eviction listed');
    assert.equal(ev.group, 'policy');
    assert.equal(ev.version, 'v1');
    assert.equal(ev.kind, 'Eviction');
    assert.deepEqual(ev.verbs, ['create']);
    assert.equal(byName.get('pods/status')?.kind, 'Pod');
    assert.equal(byName.get('nodes')?.namespaced, false);
    const ns = byName.get('namespaces');
    assert.ok(!ns.verbs.includes('deletecollection'), 'namespaces have no deletecollection');
  });

  test('legacy /apis/apps/v1: deployments/scale is autoscaling/v1 Scale', async () => {
    const r = await s.get('/apis/apps/v1');
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'APIResourceList');
    assert.equal(r.body.groupVersion, 'apps/v1');
    const scale = r.body.resources.find((x: Obj) => x.name === 'deployments/scale');
    assert.ok(scale, 'deployments/scale listed');
    assert.deepEqual(
      { group: scale.group, version: scale.version, kind: scale.kind, namespaced: scale.namespaced, verbs: [...scale.verbs].sort() },
      { group: 'autoscaling', version: 'v1', kind: 'Scale', namespaced: true, verbs: ['get', 'patch', 'update'] },
    );
    const dep = r.body.resources.find((x: Obj) => x.name === 'deployments');
    assert.deepEqual(dep.shortNames, ['deploy']);
    assert.equal(dep.kind, 'Deployment');
  });

  test('unknown groups, versions and resources: 404 NotFound Status', async () => {
    for (const p of ['/apis/nope.example.com', '/apis/nope.example.com/v1', '/api/v2', '/apis/apps/v9', '/api/v1/widgets', '/api/v1/namespaces/default/widgets', '/apis/apps/v1/namespaces/default/widgets/x', '/nothing-here']) {
      const r = await s.get(p);
      expectStatus(r, 404, 'NotFound', 'the server could not find the requested resource');
    }
  });
});

// ---- CRUD -------------------------------------------------------------------------------------------------------

describe('CRUD', () => {
  before(async () => {
    await s.namespace('crud');
    await s.namespace('crud-other');
  });

  test('ConfigMap: create 201, get 200, full server-set metadata', async () => {
    const r = await s.post(core('crud', 'configmaps'), configMap('c1', { a: '1' }));
    expectJSON(r, 201);
    assert.equal(r.body.kind, 'ConfigMap');
    assert.equal(r.body.apiVersion, 'v1');
    assert.equal(r.body.metadata.namespace, 'crud');
    assert.match(r.body.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(r.body.metadata.resourceVersion, /^\d+$/);
    assert.match(r.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const g = await s.get(core('crud', 'configmaps', 'c1'));
    expectJSON(g, 200);
    assert.deepEqual(g.body.data, { a: '1' });
    assert.equal(g.body.metadata.resourceVersion, r.body.metadata.resourceVersion);
    assert.equal(g.body.metadata.uid, r.body.metadata.uid);
  });

  test('create of an existing name: 409 AlreadyExists with details', async () => {
    await s.post(core('crud', 'configmaps'), configMap('dup'));
    const r = await s.post(core('crud', 'configmaps'), configMap('dup'));
    expectStatus(r, 409, 'AlreadyExists', 'configmaps "dup" already exists');
    assert.deepEqual(r.body.details, { name: 'dup', kind: 'configmaps' });
  });

  test('get of a missing object: 404 NotFound `configmaps "x" not found`', async () => {
    const r = await s.get(core('crud', 'configmaps', 'x'));
    expectStatus(r, 404, 'NotFound', 'configmaps "x" not found');
    assert.deepEqual(r.body.details, { name: 'x', kind: 'configmaps' });
    const d = await s.get(apps('crud', 'deployments', 'x'));
    expectStatus(d, 404, 'NotFound', 'deployments.apps "x" not found');
    assert.deepEqual(d.body.details, { name: 'x', group: 'apps', kind: 'deployments' });
  });

  test('DefaultIngressClass: an Ingress naming no class gets the default IngressClass; a named or annotated one keeps its own', async () => {
    const NET = '/apis/networking.k8s.io/v1';
    const ing = (name: string, extra: Obj = {}) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, ...(extra.metadata as Obj) }, spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } }, ...(extra.spec as Obj) } });
    const before = await s.post(`${NET}/namespaces/crud/ingresses`, ing('no-default-yet'));
    expectJSON(before, 201);
    assert.equal(before.body.spec.ingressClassName, undefined, 'no default class exists yet');
    const c = await s.post(`${NET}/ingressclasses`, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'dflt', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'example.com/x' } });
    expectJSON(c, 201);
    const got = await s.post(`${NET}/namespaces/crud/ingresses`, ing('gets-default'));
    expectJSON(got, 201);
    assert.equal(got.body.spec.ingressClassName, 'dflt');
    const named = await s.post(`${NET}/namespaces/crud/ingresses`, ing('named', { spec: { ingressClassName: 'other' } }));
    assert.equal(named.body.spec.ingressClassName, 'other');
    const legacy = await s.post(`${NET}/namespaces/crud/ingresses`, ing('legacy', { metadata: { annotations: { 'kubernetes.io/ingress.class': 'nginx' } } }));
    assert.equal(legacy.body.spec.ingressClassName, undefined, 'the legacy annotation counts as a class');
    await s.delete(`${NET}/ingressclasses/dflt`);
  });

  test('invalid objects: 422 Invalid with details.causes field paths', async () => {
    const before = await s.revision();
    const bad = await s.post(core('crud', 'configmaps'), configMap('Bad_Name'));
    expectStatus(bad, 422, 'Invalid', /^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/);
    assert.equal(bad.body.details.name, 'Bad_Name');
    assert.equal(bad.body.details.kind, 'ConfigMap');
    assert.deepEqual(
      bad.body.details.causes.map((c: Obj) => [c.reason, c.field]),
      [['FieldValueInvalid', 'metadata.name']],
    );

    const badKey = await s.post(core('crud', 'configmaps'), configMap('badkey', { 'no spaces': 'x' }));
    expectStatus(badKey, 422, 'Invalid');
    assert.equal(badKey.body.details.causes[0].field, 'data[no spaces]');

    const p = pod('noimage');
    delete p.spec.containers[0].image;
    const pr = await s.post(core('crud', 'pods'), p);
    expectStatus(pr, 422, 'Invalid', /^Pod "noimage" is invalid: .*spec\.containers\[0\]\.image: Required value/);
    assert.ok(
      pr.body.details.causes.some((c: Obj) => c.field === 'spec.containers[0].image' && c.reason === 'FieldValueRequired' && c.message === 'Required value'),
      pr.text,
    );
    // A Service is refused before anything is allocated for it (allocations are datastore keys).
    const noPorts = await s.post(core('crud', 'services'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'noports' }, spec: { type: 'NodePort' } });
    expectStatus(noPorts, 422, 'Invalid', /spec\.ports: Required value/);
    const badName = await s.post(core('crud', 'services'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'Bad_Svc' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    expectStatus(badName, 422, 'Invalid');
    assert.equal(await s.revision(), before, 'rejected creates write nothing');
  });

  test('invalid Deployment: 422 with group apps and kind Deployment', async () => {
    const d = deployment('nosel');
    delete d.spec.selector;
    const dr = await s.post(apps('crud', 'deployments'), d);
    expectStatus(dr, 422, 'Invalid', /^Deployment\.apps "nosel" is invalid: /);
    assert.equal(dr.body.details.group, 'apps');
    assert.equal(dr.body.details.kind, 'Deployment');
    assert.ok(dr.body.details.causes.some((c: Obj) => c.field === 'spec.selector' && c.reason === 'FieldValueRequired'), dr.text);
  });

  test('PUT with a stale resourceVersion: 409 Conflict; current one: 200 with a new resourceVersion', async () => {
    const c = (await s.post(core('crud', 'configmaps'), configMap('upd', { a: '1' }))).body;
    const stale = c.metadata.resourceVersion;
    const u1 = await s.put(core('crud', 'configmaps', 'upd'), { ...c, data: { a: '2' } });
    expectJSON(u1, 200);
    assert.deepEqual(u1.body.data, { a: '2' });
    assert.ok(Number(u1.body.metadata.resourceVersion) > Number(stale));
    const conflict = await s.put(core('crud', 'configmaps', 'upd'), { ...c, data: { a: '3' } });
    expectStatus(conflict, 409, 'Conflict', `Operation cannot be fulfilled on configmaps "upd": ${OBJECT_MODIFIED}`);
    assert.deepEqual(conflict.body.details, { name: 'upd', kind: 'configmaps' });
    assert.deepEqual((await s.get(core('crud', 'configmaps', 'upd'))).body.data, { a: '2' });
  });

  test('no-op PUT and no-op PATCH keep the resourceVersion', async () => {
    const c = (await s.post(core('crud', 'configmaps'), configMap('noop', { a: '1' }))).body;
    const rv = c.metadata.resourceVersion;
    const cur = (await s.get(core('crud', 'configmaps', 'noop'))).body;
    const put = await s.put(core('crud', 'configmaps', 'noop'), cur);
    expectJSON(put, 200);
    assert.equal(put.body.metadata.resourceVersion, rv, 'no-op PUT');
    for (const [ct, body] of [
      [MERGE, { data: { a: '1' } }],
      [STRATEGIC, { metadata: { labels: null } }],
      [JSONPATCH, [{ op: 'test', path: '/data/a', value: '1' }]],
    ] as const) {
      const r = await s.patch(core('crud', 'configmaps', 'noop'), body, ct);
      expectJSON(r, 200, ct);
      assert.equal(r.body.metadata.resourceVersion, rv, `no-op ${ct}`);
    }
  });

  test('PUT with a name different from the URL: 400', async () => {
    const c = (await s.post(core('crud', 'configmaps'), configMap('named'))).body;
    const r = await s.put(core('crud', 'configmaps', 'named'), { ...c, metadata: { ...c.metadata, name: 'other' } });
    expectStatus(r, 400, 'BadRequest', 'the name of the object (other) does not match the name on the URL (named)');
  });

  test('namespace in the body different from the path: 400 on create and update', async () => {
    const before = await s.revision();
    const r = await s.post(core('crud', 'configmaps'), { ...configMap('nsmis'), metadata: { name: 'nsmis', namespace: 'crud-other' } });
    expectStatus(r, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    assert.equal(await s.revision(), before);
    const c = (await s.post(core('crud', 'configmaps'), configMap('nsmis2'))).body;
    const u = await s.put(core('crud', 'configmaps', 'nsmis2'), { ...c, metadata: { ...c.metadata, namespace: 'crud-other' } });
    expectStatus(u, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
  });

  test('kind or apiVersion different from the endpoint: 400', async () => {
    const before = await s.revision();
    const k = await s.post(core('crud', 'configmaps'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kindmis' }, data: {} });
    expectStatus(k, 400, 'BadRequest', /^Secret in version "v1" cannot be handled as a ConfigMap/);
    const v = await s.post(core('crud', 'configmaps'), { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'avmis' } });
    expectStatus(v, 400, 'BadRequest', 'the API version in the data (apps/v1) does not match the expected API version (v1)');
    assert.equal(await s.revision(), before);
  });

  test('dryRun=All on create, update and delete writes nothing', async () => {
    const before = await s.revision();
    const c = await s.post(core('crud', 'configmaps') + '?dryRun=All', configMap('dry'));
    expectJSON(c, 201);
    assert.equal(c.body.metadata.name, 'dry');
    expectStatus(await s.get(core('crud', 'configmaps', 'dry')), 404, 'NotFound');
    assert.equal(await s.revision(), before, 'dry-run create');

    const real = (await s.post(core('crud', 'configmaps'), configMap('dry2', { a: '1' }))).body;
    const after1 = await s.revision();
    const u = await s.put(core('crud', 'configmaps', 'dry2') + '?dryRun=All', { ...real, data: { a: 'changed' } });
    expectJSON(u, 200);
    assert.deepEqual(u.body.data, { a: 'changed' });
    const p = await s.patch(core('crud', 'configmaps', 'dry2') + '?dryRun=All', { data: { b: '2' } }, MERGE);
    expectJSON(p, 200);
    assert.deepEqual(p.body.data, { a: '1', b: '2' });
    const d = await s.delete(core('crud', 'configmaps', 'dry2') + '?dryRun=All');
    expectJSON(d, 200);
    const still = await s.get(core('crud', 'configmaps', 'dry2'));
    expectJSON(still, 200);
    assert.deepEqual(still.body.data, { a: '1' });
    assert.equal(still.body.metadata.resourceVersion, real.metadata.resourceVersion);
    assert.equal(await s.revision(), after1, 'dry-run update/patch/delete');
    expectStatus(await s.post(core('crud', 'configmaps') + '?dryRun=Some', configMap('dry3')), 400, 'BadRequest');
  });

  test('delete of a ConfigMap: 200 Success Status with details; then 404', async () => {
    const c = (await s.post(core('crud', 'configmaps'), configMap('gone'))).body;
    const r = await s.delete(core('crud', 'configmaps', 'gone'));
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.status, 'Success');
    assert.equal(r.body.details.name, 'gone');
    assert.equal(r.body.details.kind, 'configmaps');
    assert.equal(r.body.details.uid, c.metadata.uid);
    expectStatus(await s.get(core('crud', 'configmaps', 'gone')), 404, 'NotFound', 'configmaps "gone" not found');
    expectStatus(await s.delete(core('crud', 'configmaps', 'gone')), 404, 'NotFound', 'configmaps "gone" not found');
  });

  test('Namespace: create sets phase Active, finalizer and name label; creating into a missing namespace is 404', async () => {
    const r = await s.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crud-ns' } });
    expectJSON(r, 201);
    assert.equal(r.body.status.phase, 'Active');
    assert.deepEqual(r.body.spec.finalizers, ['kubernetes']);
    assert.equal(r.body.metadata.labels['kubernetes.io/metadata.name'], 'crud-ns');
    assert.equal(r.body.metadata.namespace, undefined);
    expectStatus(await s.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crud-ns' } }), 409, 'AlreadyExists', 'namespaces "crud-ns" already exists');
    expectStatus(await s.post(core('ghost', 'configmaps'), configMap('x')), 404, 'NotFound', 'namespaces "ghost" not found');
  });

  test('Namespace delete: 200 with the object in phase Terminating; new content is then forbidden', async () => {
    await s.namespace('crud-term');
    await s.post(core('crud-term', 'configmaps'), configMap('inside'));
    const r = await s.delete('/api/v1/namespaces/crud-term');
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'Namespace');
    assert.ok(r.body.metadata.deletionTimestamp, 'deletionTimestamp set');
    assert.equal(r.body.status.phase, 'Terminating');
    const g = await s.get('/api/v1/namespaces/crud-term');
    expectJSON(g, 200, 'namespace still present until its content is gone');
    const c = await s.post(core('crud-term', 'configmaps'), configMap('late'));
    expectStatus(c, 403, 'Forbidden', 'configmaps "late" is forbidden: unable to create new content in namespace crud-term because it is being terminated');
    expectStatus(await s.delete('/api/v1/namespaces/default'), 403, 'Forbidden', 'namespaces "default" is forbidden: this namespace may not be deleted');
  });

  test('Node (cluster-scoped): CRUD at /api/v1/nodes; namespaced path is 404; body namespace is dropped', async () => {
    const n = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'crud-node', namespace: 'default', labels: { zone: 'a' } } };
    const r = await s.post('/api/v1/nodes', n);
    expectJSON(r, 201);
    assert.equal(r.body.metadata.namespace, undefined);
    expectJSON(await s.get('/api/v1/nodes/crud-node'), 200);
    expectStatus(await s.get('/api/v1/namespaces/default/nodes/crud-node'), 404, 'NotFound');
    const p = await s.patch('/api/v1/nodes/crud-node', { spec: { unschedulable: true } }, STRATEGIC);
    expectJSON(p, 200);
    assert.equal(p.body.spec.unschedulable, true);
    const l = await s.get('/api/v1/nodes?labelSelector=zone%3Da');
    assert.deepEqual(
      l.body.items.map((x: Obj) => x.metadata.name),
      ['crud-node'],
    );
    expectStatus(await s.get('/api/v1/nodes/nope'), 404, 'NotFound', 'nodes "nope" not found');
    expectJSON(await s.delete('/api/v1/nodes/crud-node'), 200);
    expectStatus(await s.get('/api/v1/nodes/crud-node'), 404, 'NotFound');
  });

  test('generation: bumped by spec changes, not by metadata changes (ReplicationController)', async () => {
    const r = await s.post(core('crud', 'replicationcontrollers'), replicationController('gen'));
    expectJSON(r, 201);
    assert.equal(r.body.metadata.generation, 1);
    const m = await s.patch(core('crud', 'replicationcontrollers', 'gen'), { metadata: { labels: { x: 'y' } } }, MERGE);
    assert.equal(m.body.metadata.generation, 1, 'label change');
    const sp = await s.patch(core('crud', 'replicationcontrollers', 'gen'), { spec: { replicas: 5 } }, MERGE);
    assert.equal(sp.body.metadata.generation, 2, 'spec change');
  });

  test('Deployment: create 201 with defaults and generation 1; spec change bumps generation; label change does not', async () => {
    const r = await s.post(apps('crud', 'deployments'), deployment('web'));
    expectJSON(r, 201);
    assert.equal(r.body.kind, 'Deployment');
    assert.equal(r.body.apiVersion, 'apps/v1');
    assert.equal(r.body.metadata.generation, 1);
    assert.equal(r.body.spec.strategy.type, 'RollingUpdate');
    assert.deepEqual(r.body.spec.strategy.rollingUpdate, { maxUnavailable: '25%', maxSurge: '25%' });
    assert.equal(r.body.spec.revisionHistoryLimit, 10);
    assert.equal(r.body.spec.progressDeadlineSeconds, 600);
    const cur = r.body;
    const lbl = await s.put(apps('crud', 'deployments', 'web'), { ...cur, metadata: { ...cur.metadata, labels: { app: 'web', extra: '1' } } });
    expectJSON(lbl, 200);
    assert.equal(lbl.body.metadata.generation, 1);
    const sp = await s.put(apps('crud', 'deployments', 'web'), { ...lbl.body, spec: { ...lbl.body.spec, replicas: 4 } });
    expectJSON(sp, 200);
    assert.equal(sp.body.metadata.generation, 2);
    const st = await s.put(apps('crud', 'deployments', 'web'), { ...sp.body, status: { replicas: 99 } });
    expectJSON(st, 200);
    assert.notEqual(st.body.status?.replicas, 99, 'status is ignored on the main resource');
    assert.equal(st.body.metadata.resourceVersion, sp.body.metadata.resourceVersion, 'status-only change on main resource is a no-op');
  });
});

// ---- lists --------------------------------------------------------------------------------------------------------

describe('lists', () => {
  const NS = 'lists';
  before(async () => {
    await s.namespace(NS);
    for (let i = 0; i < 5; i++) await s.post(core(NS, 'configmaps'), configMap(`a${i}`, { v: String(i) }, { env: i % 2 ? 'prod' : 'dev', idx: String(i) }));
    await s.post(core(NS, 'configmaps'), configMap('b0', { v: 'x' }));
  });

  test('list reply shape: kind ConfigMapList, apiVersion, resourceVersion, items with kind/apiVersion', async () => {
    const r = await s.get(core(NS, 'configmaps'));
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'ConfigMapList');
    assert.equal(r.body.apiVersion, 'v1');
    assert.match(r.body.metadata.resourceVersion, /^\d+$/);
    assert.equal(r.body.metadata.continue, undefined);
    assert.deepEqual(
      r.body.items.map((i: Obj) => i.metadata.name),
      ['a0', 'a1', 'a2', 'a3', 'a4', 'b0'],
    );
    for (const it of r.body.items) {
      assert.equal(it.kind, 'ConfigMap');
      assert.equal(it.apiVersion, 'v1');
    }
  });

  test('limit/continue pages are consistent at the first page\'s resourceVersion, with remainingItemCount', async () => {
    const p1 = await s.get(core(NS, 'configmaps') + '?limit=2');
    expectJSON(p1, 200);
    assert.deepEqual(
      p1.body.items.map((i: Obj) => i.metadata.name),
      ['a0', 'a1'],
    );
    const rv = p1.body.metadata.resourceVersion;
    assert.ok(p1.body.metadata.continue, 'continue token');
    assert.equal(p1.body.metadata.remainingItemCount, 4);
    // Changes after the first page must not show up in later pages.
    const a2 = (await s.get(core(NS, 'configmaps', 'a2'))).body;
    await s.put(core(NS, 'configmaps', 'a2'), { ...a2, data: { v: 'changed' } });
    await s.delete(core(NS, 'configmaps', 'a3'));
    await s.post(core(NS, 'configmaps'), configMap('a25'));
    try {
      const p2 = await s.get(core(NS, 'configmaps') + `?limit=2&continue=${encodeURIComponent(p1.body.metadata.continue)}`);
      expectJSON(p2, 200);
      assert.deepEqual(
        p2.body.items.map((i: Obj) => i.metadata.name),
        ['a2', 'a3'],
      );
      assert.deepEqual(p2.body.items[0].data, { v: '2' }, 'a2 as of the first page');
      assert.equal(p2.body.metadata.resourceVersion, rv);
      assert.equal(p2.body.metadata.remainingItemCount, 2);
      const p3 = await s.get(core(NS, 'configmaps') + `?limit=2&continue=${encodeURIComponent(p2.body.metadata.continue)}`);
      assert.deepEqual(
        p3.body.items.map((i: Obj) => i.metadata.name),
        ['a4', 'b0'],
      );
      assert.equal(p3.body.metadata.resourceVersion, rv);
      assert.equal(p3.body.metadata.continue, undefined, 'last page has no continue');
      assert.equal(p3.body.metadata.remainingItemCount, undefined, 'last page has no remainingItemCount');
    } finally {
      // Restore the fixture for the other list tests.
      const cur = (await s.get(core(NS, 'configmaps', 'a2'))).body;
      await s.put(core(NS, 'configmaps', 'a2'), { ...cur, data: { v: '2' } });
      await s.post(core(NS, 'configmaps'), configMap('a3', { v: '3' }, { env: 'prod', idx: '3' }));
      await s.delete(core(NS, 'configmaps', 'a25'));
    }
  });

  test('a malformed continue token: 400', async () => {
    expectStatus(await s.get(core(NS, 'configmaps') + '?limit=2&continue=%21%21garbage'), 400, 'BadRequest');
  });

  test('label selectors: =, !=, in, notin, exists, !exists (form-encoded)', async () => {
    const cases: [string, string[]][] = [
      ['env=prod', ['a1', 'a3']],
      ['env==dev', ['a0', 'a2', 'a4']],
      ['env!=prod', ['a0', 'a2', 'a4', 'b0']],
      ['env+in+(prod,dev),idx+notin+(0,1)', ['a2', 'a3', 'a4']],
      ['env', ['a0', 'a1', 'a2', 'a3', 'a4']],
      ['!env', ['b0']],
    ];
    for (const [sel, want] of cases) {
      const q = sel.replace(/[(),!=]/g, (c) => encodeURIComponent(c));
      const r = await s.get(core(NS, 'configmaps') + `?labelSelector=${q}`);
      expectJSON(r, 200, sel);
      assert.deepEqual(
        r.body.items.map((i: Obj) => i.metadata.name),
        want,
        sel,
      );
    }
    const paged = await s.get(core(NS, 'configmaps') + '?labelSelector=env%3Dprod&limit=1');
    assert.equal(paged.body.items.length, 1);
    assert.ok(paged.body.metadata.continue);
    assert.equal(paged.body.metadata.remainingItemCount, undefined, 'no remainingItemCount with a selector');
    expectStatus(await s.get(core(NS, 'configmaps') + '?labelSelector=env+in+(prod'), 400, 'BadRequest');
  });

  test('field selectors: metadata.name and metadata.namespace; unsupported label → 400 "field label not supported"', async () => {
    const r = await s.get(core(NS, 'configmaps') + '?fieldSelector=metadata.name%3Da1');
    assert.deepEqual(
      r.body.items.map((i: Obj) => i.metadata.name),
      ['a1'],
    );
    const ne = await s.get(core(NS, 'configmaps') + '?fieldSelector=metadata.name!%3Da1,metadata.name!%3Db0');
    assert.deepEqual(
      ne.body.items.map((i: Obj) => i.metadata.name),
      ['a0', 'a2', 'a3', 'a4'],
    );
    const all = await s.get('/api/v1/configmaps?fieldSelector=metadata.namespace%3Dlists,metadata.name%3Da4');
    assert.deepEqual(
      all.body.items.map((i: Obj) => `${i.metadata.namespace}/${i.metadata.name}`),
      ['lists/a4'],
    );
    const bad = await s.get(core(NS, 'configmaps') + '?fieldSelector=data.v%3D1');
    expectStatus(bad, 400, 'BadRequest', 'field label not supported: data.v');
    const pods = await s.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dn1,status.phase!%3DSucceeded,status.phase!%3DFailed');
    expectJSON(pods, 200, 'pod field selectors kubectl sends');
    expectStatus(await s.get('/api/v1/pods?fieldSelector=spec.bogus%3Dx'), 400, 'BadRequest', 'field label not supported: spec.bogus');
  });

  test('resourceVersion + resourceVersionMatch=Exact reads the past', async () => {
    const past = (await s.get(core(NS, 'configmaps'))).body.metadata.resourceVersion;
    await s.post(core(NS, 'configmaps'), configMap('later'));
    try {
      const r = await s.get(core(NS, 'configmaps') + `?resourceVersion=${past}&resourceVersionMatch=Exact`);
      expectJSON(r, 200);
      assert.equal(r.body.metadata.resourceVersion, past);
      assert.ok(!r.body.items.some((i: Obj) => i.metadata.name === 'later'));
      const nt = await s.get(core(NS, 'configmaps') + `?resourceVersion=${past}&resourceVersionMatch=NotOlderThan`);
      expectJSON(nt, 200);
      assert.ok(nt.body.items.some((i: Obj) => i.metadata.name === 'later'));
    } finally {
      await s.delete(core(NS, 'configmaps', 'later'));
    }
  });

  test('invalid list options: 422 Invalid ListOptions (upstream ValidateListOptions)', async () => {
    const r = await s.get(core(NS, 'configmaps') + '?resourceVersionMatch=Exact');
    expectStatus(r, 422, 'Invalid', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    assert.deepEqual(r.body.details, {
      group: 'meta.k8s.io',
      kind: 'ListOptions',
      causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', field: 'resourceVersionMatch' }],
    });
    const z = await s.get(core(NS, 'configmaps') + '?resourceVersion=0&resourceVersionMatch=Exact');
    expectStatus(z, 422, 'Invalid', /resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"/);
  });
});

// ---- compaction (own server: compaction affects the whole store) -----------------------------------------------

describe('compaction', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
    await t.namespace('cmp');
    for (let i = 0; i < 4; i++) await t.post(core('cmp', 'configmaps'), configMap(`c${i}`));
  });
  after(async () => {
    await t?.close();
  });

  test('continue token after compaction: 410 Expired; Exact at a compacted revision: 410 Expired', async () => {
    const p1 = await t.get(core('cmp', 'configmaps') + '?limit=2');
    const token = p1.body.metadata.continue;
    const oldRV = p1.body.metadata.resourceVersion;
    assert.ok(token);
    await t.post(core('cmp', 'configmaps'), configMap('after'));
    await t.store.compact(await t.store.currentRevision());
    const r = await t.get(core('cmp', 'configmaps') + `?limit=2&continue=${encodeURIComponent(token)}`);
    expectStatus(r, 410, 'Expired', /^The provided continue parameter is too old to display a consistent list result\./);
    const e = await t.get(core('cmp', 'configmaps') + `?resourceVersion=${oldRV}&resourceVersionMatch=Exact`);
    expectStatus(e, 410, 'Expired', /^too old resource version: \d+ \(\d+\)$/);
    // A fresh list still works.
    expectJSON(await t.get(core('cmp', 'configmaps') + '?limit=2'), 200);
  });

  test('watch from a compacted resourceVersion: 200 and one ERROR event with a 410 Expired Status', async () => {
    const old = 2;
    await t.store.compact(await t.store.currentRevision());
    const w = await t.watch(core('cmp', 'configmaps') + `?watch=true&resourceVersion=${old}`);
    try {
      assert.equal(w.status, 200);
      assert.match(String(w.headers['content-type']), /^application\/json/);
      const ev = await w.next(3000);
      assert.equal(ev.type, 'ERROR');
      assert.equal(ev.object.kind, 'Status');
      assert.equal(ev.object.apiVersion, 'v1');
      assert.equal(ev.object.status, 'Failure');
      assert.equal(ev.object.code, 410);
      assert.equal(ev.object.reason, 'Expired');
      assert.match(ev.object.message, /^too old resource version: 2 \(\d+\)$/);
      await Promise.race([w.ended, new Promise((_, rej) => setTimeout(() => rej(new Error('stream not closed after ERROR')), 3000))]);
    } finally {
      w.close();
    }
  });
});

// ---- tables -------------------------------------------------------------------------------------------------------

describe('Table (server-side printing)', () => {
  const NS = 'tables';
  before(async () => {
    await s.namespace(NS);
    await s.namespace('tables-empty');
    await s.post(core(NS, 'configmaps'), configMap('t1', { a: '1', b: '2' }, { tier: 'x' }));
    await s.post(core(NS, 'configmaps'), configMap('t2', { a: '1' }));
    await s.post(core(NS, 'pods'), pod('p1', { labels: { app: 'p' } }));
  });

  function checkColumns(t: Obj, names: string[], priorities?: number[]): void {
    assert.deepEqual(
      t.columnDefinitions.map((c: Obj) => c.name),
      names,
    );
    if (priorities)
      assert.deepEqual(
        t.columnDefinitions.map((c: Obj) => c.priority),
        priorities,
      );
    assert.equal(t.columnDefinitions[0].format, 'name');
    assert.equal(t.columnDefinitions[0].type, 'string');
    for (const c of t.columnDefinitions) assert.equal(typeof c.description, 'string');
  }

  test('list as Table: columns, rows with PartialObjectMetadata, resourceVersion', async () => {
    const r = await s.get(core(NS, 'configmaps') + '?limit=500', { accept: TABLE_ACCEPT });
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'Table');
    assert.equal(r.body.apiVersion, 'meta.k8s.io/v1');
    assert.match(r.body.metadata.resourceVersion, /^\d+$/);
    checkColumns(r.body, ['Name', 'Data', 'Age'], [0, 0, 0]);
    assert.equal(r.body.rows.length, 2);
    const [row] = r.body.rows;
    assert.equal(row.cells[0], 't1');
    assert.equal(row.cells[1], 2);
    assert.equal(typeof row.cells[2], 'string');
    assert.equal(row.object.kind, 'PartialObjectMetadata');
    assert.equal(row.object.apiVersion, 'meta.k8s.io/v1');
    assert.equal(row.object.metadata.name, 't1');
    assert.equal(row.object.metadata.namespace, NS);
    assert.deepEqual(row.object.metadata.labels, { tier: 'x' });
    assert.ok(row.object.metadata.uid);
    assert.equal(row.object.data, undefined, 'metadata only');
  });

  test('pods Table columns and priorities (wide columns priority 1)', async () => {
    const r = await s.get(core(NS, 'pods'), { accept: TABLE_ACCEPT });
    expectJSON(r, 200);
    checkColumns(r.body, ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'], [0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(r.body.rows[0].cells.slice(0, 3), ['p1', '0/1', 'Pending']);
  });

  test('single get as Table: one row', async () => {
    const r = await s.get(core(NS, 'configmaps', 't2'), { accept: TABLE_ACCEPT });
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'Table');
    assert.equal(r.body.rows.length, 1);
    assert.equal(r.body.rows[0].cells[0], 't2');
    assert.equal(r.body.rows[0].object.metadata.name, 't2');
    assert.match(r.body.metadata.resourceVersion, /^\d+$/);
  });

  test('includeObject=Object embeds the full object; includeObject=None leaves it out', async () => {
    const o = await s.get(core(NS, 'configmaps') + '?includeObject=Object', { accept: TABLE_ACCEPT });
    expectJSON(o, 200);
    assert.equal(o.body.rows[0].object.kind, 'ConfigMap');
    assert.equal(o.body.rows[0].object.apiVersion, 'v1');
    assert.deepEqual(o.body.rows[0].object.data, { a: '1', b: '2' });
    const n = await s.get(core(NS, 'configmaps') + '?includeObject=None', { accept: TABLE_ACCEPT });
    expectJSON(n, 200);
    assert.equal(n.body.rows.length, 2);
    for (const row of n.body.rows) assert.equal(row.object, undefined);
  });

  test('empty list as Table: columns and an empty rows array', async () => {
    const r = await s.get(core('tables-empty', 'configmaps'), { accept: TABLE_ACCEPT });
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'Table');
    assert.deepEqual(r.body.rows, []);
    checkColumns(r.body, ['Name', 'Data', 'Age']);
    assert.match(r.body.metadata.resourceVersion, /^\d+$/);
  });

  test('paged Table carries continue', async () => {
    const r = await s.get(core(NS, 'configmaps') + '?limit=1', { accept: TABLE_ACCEPT });
    assert.equal(r.body.rows.length, 1);
    assert.ok(r.body.metadata.continue);
  });

  test('metadata-only reads (client-go metadata client): PartialObjectMetadata get, PartialObjectMetadataList list, fallback order', async () => {
    const one = await s.get(core(NS, 'configmaps', 't1'), { accept: 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json' });
    expectJSON(one, 200);
    assert.equal(one.body.kind, 'PartialObjectMetadata');
    assert.equal(one.body.apiVersion, 'meta.k8s.io/v1');
    assert.equal(one.body.metadata.name, 't1');
    assert.deepEqual(one.body.metadata.labels, { tier: 'x' });
    assert.ok(one.body.metadata.managedFields?.length, 'managedFields are part of the metadata');
    assert.equal(one.body.data, undefined, 'metadata only');
    const list = await s.get(core(NS, 'configmaps') + '?limit=1', { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json' });
    expectJSON(list, 200);
    assert.equal(list.body.kind, 'PartialObjectMetadataList');
    assert.equal(list.body.apiVersion, 'meta.k8s.io/v1');
    assert.match(list.body.metadata.resourceVersion, /^\d+$/);
    assert.ok(list.body.metadata.continue, 'paging works as for the full list');
    assert.equal(list.body.items.length, 1);
    assert.equal(list.body.items[0].kind, 'PartialObjectMetadata');
    assert.equal(list.body.items[0].metadata.name, 't1');
    assert.equal(list.body.items[0].data, undefined);
    // The list form on a get (and the single form on a list) is not servable there: the fallback answers.
    const getWithListForm = await s.get(core(NS, 'configmaps', 't1'), { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json' });
    assert.equal(getWithListForm.body.kind, 'ConfigMap');
    const listWithSingleForm = await s.get(core(NS, 'configmaps'), { accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json' });
    assert.equal(listWithSingleForm.body.kind, 'ConfigMapList');
    // The first servable media range wins.
    const plainFirst = await s.get(core(NS, 'configmaps', 't1'), { accept: 'application/json,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' });
    assert.equal(plainFirst.body.kind, 'ConfigMap');
    const beta = await s.get(core(NS, 'configmaps', 't1'), { accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1' });
    assert.equal(beta.body.apiVersion, 'meta.k8s.io/v1beta1');
  });

  test('Accept of only the v1beta1 Table gets a meta.k8s.io/v1beta1 Table', async () => {
    const r = await s.get(core(NS, 'configmaps'), { accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io' });
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'Table');
    assert.equal(r.body.apiVersion, 'meta.k8s.io/v1beta1');
  });
});

// ---- watch --------------------------------------------------------------------------------------------------------

describe('watch', () => {
  const NS = 'watch';
  const open: WatchStream[] = [];
  const watch = async (path: string, accept?: string): Promise<WatchStream> => {
    const w = await s.watch(path, accept ? { accept } : {});
    open.push(w);
    return w;
  };
  const listRV = async (path: string): Promise<string> => (await s.get(path)).body.metadata.resourceVersion;

  before(async () => {
    await s.namespace(NS);
  });
  after(() => {
    for (const w of open) w.close();
  });

  test('headers are flushed before any event; events arrive chunked as JSON lines', async () => {
    const rv = await listRV(core(NS, 'configmaps'));
    const w = await watch(core(NS, 'configmaps') + `?watch=true&resourceVersion=${rv}`);
    // The promise resolved on headers alone: no event has been produced yet.
    assert.equal(w.status, 200);
    assert.match(String(w.headers['content-type']), /^application\/json/);
    assert.equal(w.headers['transfer-encoding'], 'chunked');
    await s.post(core(NS, 'configmaps'), configMap('w-flush'));
    const ev = await w.next();
    assert.equal(ev.type, 'ADDED');
    assert.equal(ev.object.kind, 'ConfigMap');
    assert.equal(ev.object.apiVersion, 'v1');
    assert.equal(ev.object.metadata.name, 'w-flush');
    assert.deepEqual(w.garbage, []);
    w.close();
  });

  test('resourceVersion=0 and no resourceVersion: synthetic ADDED for current objects; a given resourceVersion: none', async () => {
    await s.namespace('watch-init');
    await s.post(core('watch-init', 'configmaps'), configMap('i1'));
    await s.post(core('watch-init', 'configmaps'), configMap('i2'));
    for (const q of ['?watch=true&resourceVersion=0', '?watch=1']) {
      const w = await watch(core('watch-init', 'configmaps') + q);
      const evs = await w.take(2);
      assert.deepEqual(addedNames(evs).sort(), ['ADDED:i1', 'ADDED:i2'], q);
      assert.deepEqual(await w.drain(200), [], `${q}: nothing else`);
      w.close();
    }
    const rv = await listRV(core('watch-init', 'configmaps'));
    const w = await watch(core('watch-init', 'configmaps') + `?watch=true&resourceVersion=${rv}`);
    assert.deepEqual(await w.drain(300), [], 'no synthetic events from a given resourceVersion');
    w.close();
  });

  test('events from a past resourceVersion are replayed in order', async () => {
    const rv = await listRV(core(NS, 'configmaps'));
    await s.post(core(NS, 'configmaps'), configMap('w-past'));
    await s.patch(core(NS, 'configmaps', 'w-past'), { data: { a: 'x' } }, MERGE);
    const w = await watch(core(NS, 'configmaps') + `?watch=true&resourceVersion=${rv}`);
    const evs = await w.take(2);
    assert.deepEqual(
      evs.map((e) => e.type),
      ['ADDED', 'MODIFIED'],
    );
    assert.ok(Number(evs[1].object.metadata.resourceVersion) > Number(evs[0].object.metadata.resourceVersion));
    w.close();
  });

  test('MODIFIED and DELETED; fieldSelector metadata.name only sees that object', async () => {
    const rv = await listRV(core(NS, 'configmaps'));
    const w = await watch(core(NS, 'configmaps') + `?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dw-one`);
    await s.post(core(NS, 'configmaps'), configMap('w-other'));
    await s.post(core(NS, 'configmaps'), configMap('w-one', { a: '1' }));
    await s.patch(core(NS, 'configmaps', 'w-one'), { data: { a: '2' } }, MERGE);
    const del = await s.delete(core(NS, 'configmaps', 'w-one'));
    expectJSON(del, 200);
    const evs = await w.take(3);
    assert.deepEqual(
      evs.map((e) => `${e.type}:${e.object.metadata.name}`),
      ['ADDED:w-one', 'MODIFIED:w-one', 'DELETED:w-one'],
    );
    assert.deepEqual(evs[1].object.data, { a: '2' });
    assert.deepEqual(evs[2].object.data, { a: '2' }, 'DELETED carries the last state');
    assert.ok(Number(evs[2].object.metadata.resourceVersion) > Number(evs[1].object.metadata.resourceVersion), 'DELETED has the deletion resourceVersion');
    assert.deepEqual(await w.drain(150), []);
    w.close();
  });

  test('label selector transitions: entering is ADDED, leaving is DELETED', async () => {
    const rv = await listRV(core(NS, 'configmaps'));
    const w = await watch(core(NS, 'configmaps') + `?watch=true&resourceVersion=${rv}&labelSelector=app%3Dweb`);
    await s.post(core(NS, 'configmaps'), configMap('w-lbl', { a: '1' }, { app: 'web' }));
    await s.patch(core(NS, 'configmaps', 'w-lbl'), { data: { a: '2' } }, MERGE);
    await s.patch(core(NS, 'configmaps', 'w-lbl'), { metadata: { labels: { app: 'db' } } }, MERGE);
    await s.patch(core(NS, 'configmaps', 'w-lbl'), { data: { a: '3' } }, MERGE); // outside: invisible
    await s.patch(core(NS, 'configmaps', 'w-lbl'), { metadata: { labels: { app: 'web' } } }, MERGE);
    const evs = await w.take(4);
    assert.deepEqual(
      evs.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED', 'ADDED'],
    );
    assert.deepEqual(evs[3].object.data, { a: '3' });
    assert.deepEqual(await w.drain(150), []);
    w.close();
  });

  test('namespace-scoped watch does not see other namespaces; all-namespaces watch does', async () => {
    await s.namespace('watch-b');
    const rv = await listRV(core(NS, 'configmaps'));
    const wNs = await watch(core(NS, 'configmaps') + `?watch=true&resourceVersion=${rv}`);
    const wAll = await watch(`/api/v1/configmaps?watch=true&resourceVersion=${rv}&fieldSelector=metadata.namespace%3Dwatch-b`);
    await s.post(core('watch-b', 'configmaps'), configMap('elsewhere'));
    const ev = await wAll.next();
    assert.equal(`${ev.type}:${ev.object.metadata.namespace}/${ev.object.metadata.name}`, 'ADDED:watch-b/elsewhere');
    assert.deepEqual(await wNs.drain(150), []);
    wNs.close();
    wAll.close();
  });

  test('timeoutSeconds closes the stream', async () => {
    const rv = await listRV(core(NS, 'configmaps'));
    const t0 = Date.now();
    const w = await watch(core(NS, 'configmaps') + `?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    await Promise.race([w.ended, new Promise((_, rej) => setTimeout(() => rej(new Error('watch not closed after timeoutSeconds=1')), 4000))]);
    assert.ok(Date.now() - t0 >= 900, 'not closed early');
    w.close();
  });

  test('Table-encoded watch events (kubectl get -w)', async () => {
    const rv = await listRV(core(NS, 'configmaps'));
    const w = await watch(core(NS, 'configmaps') + `?watch=true&resourceVersion=${rv}`, TABLE_ACCEPT);
    await s.post(core(NS, 'configmaps'), configMap('w-table', { a: '1' }));
    await s.patch(core(NS, 'configmaps', 'w-table'), { data: { a: '1', b: '2' } }, MERGE);
    const [e1, e2] = await w.take(2);
    assert.equal(e1.type, 'ADDED');
    assert.equal(e1.object.kind, 'Table');
    assert.equal(e1.object.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(
      e1.object.columnDefinitions.map((c: Obj) => c.name),
      ['Name', 'Data', 'Age'],
    );
    assert.equal(e1.object.rows.length, 1);
    assert.equal(e1.object.rows[0].cells[0], 'w-table');
    assert.equal(e1.object.rows[0].object.kind, 'PartialObjectMetadata');
    assert.equal(e1.object.rows[0].object.metadata.name, 'w-table');
    assert.equal(e2.type, 'MODIFIED');
    assert.equal(e2.object.kind, 'Table');
    assert.equal(e2.object.rows[0].cells[1], 2);
    w.close();
  });

  test('metadata-only watch events (as=PartialObjectMetadata) beside a full watch of the same events', async () => {
    const rv = await listRV(core(NS, 'configmaps'));
    const meta = await watch(core(NS, 'configmaps') + `?watch=true&resourceVersion=${rv}`, 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json');
    const full = await watch(core(NS, 'configmaps') + `?watch=true&resourceVersion=${rv}`);
    await s.post(core(NS, 'configmaps'), configMap('w-meta', { a: '1' }, { app: 'm' }));
    await s.delete(core(NS, 'configmaps', 'w-meta'));
    const [m1, m2] = await meta.take(2);
    const [f1] = await full.take(1);
    assert.equal(m1.type, 'ADDED');
    assert.equal(m1.object.kind, 'PartialObjectMetadata');
    assert.equal(m1.object.apiVersion, 'meta.k8s.io/v1');
    assert.equal(m1.object.metadata.name, 'w-meta');
    assert.deepEqual(m1.object.metadata.labels, { app: 'm' });
    assert.equal(m1.object.data, undefined);
    assert.equal(m2.type, 'DELETED');
    assert.equal(m2.object.kind, 'PartialObjectMetadata');
    assert.equal(f1.object.kind, 'ConfigMap', 'the other watcher of the same event still gets the object');
    assert.deepEqual(f1.object.data, { a: '1' });
    meta.close();
    full.close();
  });

  test('sendInitialEvents=true&resourceVersionMatch=NotOlderThan: initial ADDEDs, then a BOOKMARK marked initial-events-end', async () => {
    await s.namespace('watch-list');
    await s.post(core('watch-list', 'configmaps'), configMap('s1'));
    await s.post(core('watch-list', 'configmaps'), configMap('s2'));
    const listed = Number(await listRV(core('watch-list', 'configmaps')));
    const w = await watch(core('watch-list', 'configmaps') + '?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true');
    assert.equal(w.status, 200, 'watch-list request accepted');
    const evs = await w.take(3);
    assert.deepEqual(addedNames(evs.slice(0, 2)).sort(), ['ADDED:s1', 'ADDED:s2']);
    const bm = evs[2];
    assert.equal(bm.type, 'BOOKMARK');
    assert.equal(bm.object.kind, 'ConfigMap');
    assert.equal(bm.object.apiVersion, 'v1');
    assert.deepEqual(bm.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
    assert.ok(Number(bm.object.metadata.resourceVersion) >= listed);
    await s.post(core('watch-list', 'configmaps'), configMap('s3'));
    const live = await w.next();
    assert.equal(`${live.type}:${live.object.metadata.name}`, 'ADDED:s3');
    w.close();
  });

  test('watch with sendInitialEvents but no resourceVersionMatch: 422 Invalid ListOptions', async () => {
    const r = await s.get(core(NS, 'configmaps') + '?watch=true&sendInitialEvents=true&allowWatchBookmarks=true');
    expectStatus(r, 422, 'Invalid', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
  });
});

// ---- subresources -------------------------------------------------------------------------------------------------

describe('subresources', () => {
  const NS = 'subres';
  before(async () => {
    await s.namespace(NS);
  });

  test('/status: status-only changes; spec in the body is ignored; main resource ignores status', async () => {
    const n = (await s.post('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'sub-node' } })).body;
    const st = await s.put('/api/v1/nodes/sub-node/status', { ...n, spec: { unschedulable: true }, status: { capacity: { cpu: '4', pods: '110' } } });
    expectJSON(st, 200);
    assert.deepEqual(st.body.status.capacity, { cpu: '4', pods: '110' });
    assert.notEqual(st.body.spec?.unschedulable, true, 'spec ignored by /status');
    const g = (await s.get('/api/v1/nodes/sub-node')).body;
    assert.notEqual(g.spec?.unschedulable, true);
    const main = await s.put('/api/v1/nodes/sub-node', { ...g, spec: { unschedulable: true }, status: { capacity: { cpu: '1' } } });
    expectJSON(main, 200);
    assert.equal(main.body.spec.unschedulable, true);
    assert.deepEqual(main.body.status.capacity, { cpu: '4', pods: '110' }, 'status ignored by the main resource');
    const gs = await s.get('/api/v1/nodes/sub-node/status');
    expectJSON(gs, 200);
    assert.equal(gs.body.kind, 'Node');

    const p = (await s.post(core(NS, 'pods'), pod('status-pod'))).body;
    const ps = await s.patch(core(NS, 'pods', 'status-pod') + '/status', { status: { phase: 'Running' }, spec: { activeDeadlineSeconds: 5 } }, MERGE);
    expectJSON(ps, 200);
    assert.equal(ps.body.status.phase, 'Running');
    assert.equal(ps.body.spec.activeDeadlineSeconds, undefined);
    assert.notEqual(ps.body.metadata.resourceVersion, p.metadata.resourceVersion);
  });

  test('/scale on a ReplicationController: autoscaling/v1 Scale; PUT/PATCH; stale 409; negative 422', async () => {
    await s.post(core(NS, 'replicationcontrollers'), replicationController('rc', 2));
    const g = await s.get(core(NS, 'replicationcontrollers', 'rc') + '/scale');
    expectJSON(g, 200);
    assert.equal(g.body.kind, 'Scale');
    assert.equal(g.body.apiVersion, 'autoscaling/v1');
    assert.equal(g.body.metadata.name, 'rc');
    assert.equal(g.body.metadata.namespace, NS);
    assert.match(g.body.metadata.resourceVersion, /^\d+$/);
    assert.deepEqual(g.body.spec, { replicas: 2 });
    assert.equal(g.body.status.replicas, 0);
    assert.equal(g.body.status.selector, 'app=rc');

    const put = await s.put(core(NS, 'replicationcontrollers', 'rc') + '/scale', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'rc', namespace: NS, resourceVersion: g.body.metadata.resourceVersion }, spec: { replicas: 5 } });
    expectJSON(put, 200);
    assert.equal(put.body.kind, 'Scale');
    assert.equal(put.body.spec.replicas, 5);
    const rc = (await s.get(core(NS, 'replicationcontrollers', 'rc'))).body;
    assert.equal(rc.spec.replicas, 5);
    assert.equal(rc.metadata.generation, 2);

    const stale = await s.put(core(NS, 'replicationcontrollers', 'rc') + '/scale', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'rc', namespace: NS, resourceVersion: g.body.metadata.resourceVersion }, spec: { replicas: 7 } });
    expectStatus(stale, 409, 'Conflict', `Operation cannot be fulfilled on replicationcontrollers "rc": ${OBJECT_MODIFIED}`);

    const patch = await s.patch(core(NS, 'replicationcontrollers', 'rc') + '/scale', { spec: { replicas: 3 } }, MERGE);
    expectJSON(patch, 200);
    assert.equal(patch.body.spec.replicas, 3);

    const neg = await s.patch(core(NS, 'replicationcontrollers', 'rc') + '/scale', { spec: { replicas: -1 } }, MERGE);
    expectStatus(neg, 422, 'Invalid', 'Scale.autoscaling "rc" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    assert.equal((await s.get(core(NS, 'replicationcontrollers', 'rc'))).body.spec.replicas, 3);

    expectStatus(await s.get(core(NS, 'replicationcontrollers', 'missing') + '/scale'), 404, 'NotFound', 'replicationcontrollers "missing" not found');
    expectStatus(await s.get(core(NS, 'configmaps', 'x') + '/scale'), 404, 'NotFound');
  });

  test('/scale on a Deployment: selector string from matchLabels, scale bumps generation', async () => {
    await s.post(apps(NS, 'deployments'), deployment('dscale', 2));
    const g = await s.get(apps(NS, 'deployments', 'dscale') + '/scale');
    expectJSON(g, 200);
    assert.equal(g.body.apiVersion, 'autoscaling/v1');
    assert.equal(g.body.status.selector, 'app=dscale');
    const p = await s.patch(apps(NS, 'deployments', 'dscale') + '/scale', { spec: { replicas: 0 } }, MERGE);
    expectJSON(p, 200);
    assert.equal(p.body.spec.replicas, 0);
    const d = (await s.get(apps(NS, 'deployments', 'dscale'))).body;
    assert.equal(d.spec.replicas, 0);
    assert.equal(d.metadata.generation, 2);
  });

  test('pods/binding: sets nodeName and PodScheduled; second binding 409', async () => {
    await s.post(core(NS, 'pods'), pod('bind-me'));
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bind-me' }, target: { apiVersion: 'v1', kind: 'Node', name: 'n1' } };
    const r = await s.post(core(NS, 'pods', 'bind-me') + '/binding', binding);
    expectJSON(r, 201);
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.status, 'Success');
    assert.equal(r.body.code, 201, 'Status code defaulted to the HTTP code (upstream create handler)');
    const p = (await s.get(core(NS, 'pods', 'bind-me'))).body;
    assert.equal(p.spec.nodeName, 'n1');
    const cond = p.status.conditions.find((c: Obj) => c.type === 'PodScheduled');
    assert.equal(cond?.status, 'True');
    assert.deepEqual(
      (p.metadata.managedFields ?? []).map((m: Obj) => m.subresource ?? ''),
      [''],
      'a binding adds no managedFields entry (upstream writes it past the field manager)',
    );
    const again = await s.post(core(NS, 'pods', 'bind-me') + '/binding', { ...binding, target: { ...binding.target, name: 'n2' } });
    expectStatus(again, 409, 'Conflict', 'Operation cannot be fulfilled on pods/binding "bind-me": pod bind-me is already assigned to node "n1"');
    expectStatus(await s.post(core(NS, 'pods', 'nobody') + '/binding', { ...binding, metadata: { name: 'nobody' } }), 404, 'NotFound', 'pods "nobody" not found');
  });

  test('pods/eviction without a budget: 201 Success and the pod goes', async () => {
    await s.post(core(NS, 'pods'), pod('evict-me'));
    const r = await s.post(core(NS, 'pods', 'evict-me') + '/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evict-me', namespace: NS } });
    expectJSON(r, 201);
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.status, 'Success');
    assert.equal(r.body.code, 201);
    expectStatus(await s.get(core(NS, 'pods', 'evict-me')), 404, 'NotFound');
    const mismatch = await s.post(core(NS, 'pods', 'x') + '/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'y', namespace: NS } });
    expectStatus(mismatch, 400, 'BadRequest', 'name in URL does not match name in Eviction object');
  });

  test('pods/eviction of a running bound pod adds DisruptionTarget and deletes gracefully', async () => {
    await s.post(core(NS, 'pods'), pod('evict-run', { nodeName: 'n1' }));
    await s.patch(core(NS, 'pods', 'evict-run') + '/status', { status: { phase: 'Running' } }, MERGE);
    const r = await s.post(core(NS, 'pods', 'evict-run') + '/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evict-run', namespace: NS } });
    expectJSON(r, 201);
    const p = await s.get(core(NS, 'pods', 'evict-run'));
    expectJSON(p, 200, 'graceful: still there');
    assert.ok(p.body.metadata.deletionTimestamp);
    const dt = p.body.status.conditions?.find((c: Obj) => c.type === 'DisruptionTarget');
    assert.deepEqual(dt && { status: dt.status, reason: dt.reason, message: dt.message }, { status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' });
  });

  test('pods/eviction blocked by a PodDisruptionBudget with disruptionsAllowed 0: 429 TooManyRequests', async () => {
    const pdb = await s.post(`/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`, {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'guard' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } },
    });
    expectJSON(pdb, 201);
    const st = await s.patch(`/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/guard/status`, { status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } }, MERGE);
    expectJSON(st, 200);
    await s.post(core(NS, 'pods'), pod('guarded', { labels: { app: 'guarded' }, nodeName: 'n1' }));
    await s.patch(core(NS, 'pods', 'guarded') + '/status', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, MERGE);
    const r = await s.post(core(NS, 'pods', 'guarded') + '/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'guarded', namespace: NS } });
    expectStatus(r, 429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(r.body.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget guard needs 1 healthy pods and has 1 currently' }]);
    const p = await s.get(core(NS, 'pods', 'guarded'));
    expectJSON(p, 200);
    assert.equal(p.body.metadata.deletionTimestamp, undefined, 'pod untouched');

    // An unready pod may go when the budget is otherwise healthy (IfHealthyBudget default).
    await s.post(core(NS, 'pods'), pod('guarded-unready', { labels: { app: 'guarded' }, nodeName: 'n1' }));
    await s.patch(core(NS, 'pods', 'guarded-unready') + '/status', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } }, MERGE);
    const u = await s.post(core(NS, 'pods', 'guarded-unready') + '/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'guarded-unready', namespace: NS } });
    expectJSON(u, 201, 'unready pod eviction');
  });
});

// ---- deletion -----------------------------------------------------------------------------------------------------

describe('deletion', () => {
  const NS = 'deletion';
  before(async () => {
    await s.namespace(NS);
  });

  test('graceful deletion of a scheduled pod: 200 with the pod, deletionTimestamp set, object still there', async () => {
    await s.post(core(NS, 'pods'), pod('graceful', { nodeName: 'n1' }));
    const r = await s.delete(core(NS, 'pods', 'graceful'));
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'Pod');
    assert.ok(r.body.metadata.deletionTimestamp);
    assert.equal(r.body.metadata.deletionGracePeriodSeconds, 30);
    const g = await s.get(core(NS, 'pods', 'graceful'));
    expectJSON(g, 200);
    assert.ok(g.body.metadata.deletionTimestamp);
    // Deleting again with grace period 0 removes it (what the kubelet / --force does).
    const f = await s.delete(core(NS, 'pods', 'graceful'), { gracePeriodSeconds: 0 });
    expectJSON(f, 200);
    expectStatus(await s.get(core(NS, 'pods', 'graceful')), 404, 'NotFound', 'pods "graceful" not found');
  });

  test('deletion of an unscheduled pod is immediate: 200 with the pod, then 404', async () => {
    await s.post(core(NS, 'pods'), pod('unscheduled'));
    const r = await s.delete(core(NS, 'pods', 'unscheduled'), { propagationPolicy: 'Background' });
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'Pod');
    assert.equal(r.body.metadata.name, 'unscheduled');
    expectStatus(await s.get(core(NS, 'pods', 'unscheduled')), 404, 'NotFound');
  });

  test('finalizers keep the object (200 with it, deletionTimestamp set) until they are removed', async () => {
    await s.post(core(NS, 'configmaps'), { ...configMap('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    const r = await s.delete(core(NS, 'configmaps', 'held'));
    expectJSON(r, 200);
    assert.equal(r.body.kind, 'ConfigMap', 'pending deletion returns the object');
    assert.ok(r.body.metadata.deletionTimestamp);
    assert.equal(r.body.metadata.deletionGracePeriodSeconds, 0);
    const g = await s.get(core(NS, 'configmaps', 'held'));
    expectJSON(g, 200);
    const add = await s.patch(core(NS, 'configmaps', 'held'), { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } }, MERGE);
    expectStatus(add, 422, 'Invalid', /no new finalizers can be added if the object is being deleted/);
    const rm = await s.patch(core(NS, 'configmaps', 'held'), { metadata: { finalizers: null } }, MERGE);
    expectJSON(rm, 200);
    expectStatus(await s.get(core(NS, 'configmaps', 'held')), 404, 'NotFound');
  });

  test('propagationPolicy Foreground / Orphan add the foregroundDeletion / orphan finalizers', async () => {
    await s.post(core(NS, 'configmaps'), configMap('fg'));
    const fg = await s.delete(core(NS, 'configmaps', 'fg'), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' });
    expectJSON(fg, 200);
    assert.deepEqual(fg.body.metadata.finalizers, ['foregroundDeletion']);
    assert.ok(fg.body.metadata.deletionTimestamp);
    expectJSON(await s.get(core(NS, 'configmaps', 'fg')), 200);

    await s.post(apps(NS, 'deployments'), deployment('orph'));
    const or = await s.delete(apps(NS, 'deployments', 'orph') + '?propagationPolicy=Orphan');
    expectJSON(or, 200);
    assert.deepEqual(or.body.metadata.finalizers, ['orphan']);
    assert.ok(or.body.metadata.deletionTimestamp);
    const bad = await s.delete(core(NS, 'configmaps', 'fg'), { propagationPolicy: 'Sideways' });
    expectStatus(bad, 422, 'Invalid');
  });

  test('deletecollection with a label selector removes only the matches', async () => {
    await s.post(core(NS, 'configmaps'), configMap('dc1', {}, { tier: 'a' }));
    await s.post(core(NS, 'configmaps'), configMap('dc2', {}, { tier: 'a' }));
    await s.post(core(NS, 'configmaps'), configMap('dc3', {}, { tier: 'b' }));
    const r = await s.delete(core(NS, 'configmaps') + '?labelSelector=tier%3Da');
    expectJSON(r, 200);
    const left = await s.get(core(NS, 'configmaps') + '?labelSelector=tier');
    assert.deepEqual(
      left.body.items.map((i: Obj) => i.metadata.name),
      ['dc3'],
    );
  });
});

// ---- patches ------------------------------------------------------------------------------------------------------

describe('patches', () => {
  const NS = 'patches';
  before(async () => {
    await s.namespace(NS);
    await s.post(apps(NS, 'deployments'), deployment('pd', 2));
  });

  test('merge patch on a Deployment', async () => {
    const r = await s.patch(apps(NS, 'deployments', 'pd'), { spec: { replicas: 3 }, metadata: { labels: { patched: 'merge' } } }, MERGE);
    expectJSON(r, 200);
    assert.equal(r.body.spec.replicas, 3);
    assert.equal(r.body.metadata.labels.patched, 'merge');
    assert.equal(r.body.metadata.generation, 2);
  });

  test('JSON patch on a Deployment; failing test op is rejected and writes nothing', async () => {
    const r = await s.patch(apps(NS, 'deployments', 'pd'), [{ op: 'replace', path: '/spec/replicas', value: 4 }, { op: 'add', path: '/metadata/annotations', value: { a: 'b' } }], JSONPATCH);
    expectJSON(r, 200);
    assert.equal(r.body.spec.replicas, 4);
    assert.deepEqual(r.body.metadata.annotations, { a: 'b' });
    const before = await s.revision();
    const bad = await s.patch(apps(NS, 'deployments', 'pd'), [{ op: 'test', path: '/spec/replicas', value: 99 }], JSONPATCH);
    assert.ok(bad.status >= 400 && bad.status < 500, `4xx for failed test op, got ${bad.status}`);
    assert.equal(bad.body.kind, 'Status');
    assert.equal(await s.revision(), before);
  });

  test('strategic merge patch merges containers by name; merge patch replaces the list', async () => {
    const sm = await s.patch(apps(NS, 'deployments', 'pd'), { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } }, STRATEGIC);
    expectJSON(sm, 200);
    assert.deepEqual(
      sm.body.spec.template.spec.containers.map((c: Obj) => `${c.name}=${c.image}`),
      ['web=nginx:1.27', 'side=busybox:1.36'],
    );
    const del = await s.patch(apps(NS, 'deployments', 'pd'), { spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } }, STRATEGIC);
    expectJSON(del, 200);
    assert.deepEqual(
      del.body.spec.template.spec.containers.map((c: Obj) => c.name),
      ['web'],
    );
    const mp = await s.patch(apps(NS, 'deployments', 'pd'), { spec: { template: { spec: { containers: [{ name: 'only', image: 'busybox' }] } } } }, MERGE);
    expectJSON(mp, 200);
    assert.deepEqual(
      mp.body.spec.template.spec.containers.map((c: Obj) => c.name),
      ['only'],
    );
  });

  test('unknown patch Content-Type: 415 UnsupportedMediaType', async () => {
    const before = await s.revision();
    const r = await s.patch(apps(NS, 'deployments', 'pd'), '{"spec":{"replicas":9}}', 'text/plain');
    expectStatus(r, 415, 'UnsupportedMediaType', /^the body of the request was in an unknown format - accepted media types include: /);
    for (const t of [JSONPATCH, MERGE, STRATEGIC, APPLY]) assert.ok(r.body.message.includes(t), t);
    assert.equal(await s.revision(), before);
  });

  test('patch of a missing object: 404', async () => {
    expectStatus(await s.patch(apps(NS, 'deployments', 'missing'), { spec: {} }, MERGE), 404, 'NotFound', 'deployments.apps "missing" not found');
  });

  test('force on a non-apply patch: 422 Invalid PatchOptions', async () => {
    const r = await s.patch(apps(NS, 'deployments', 'pd') + '?force=true', { spec: { replicas: 1 } }, MERGE);
    expectStatus(r, 422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
  });

  test('server-side apply: create 201, update 200, managedFields record the manager', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa' }, data: { a: '1' } };
    const c = await s.patch(core(NS, 'configmaps', 'ssa') + '?fieldManager=tester&fieldValidation=Strict&force=false', cm, APPLY);
    expectJSON(c, 201);
    assert.deepEqual(c.body.data, { a: '1' });
    const mf = c.body.metadata.managedFields;
    assert.ok(Array.isArray(mf) && mf.some((e: Obj) => e.manager === 'tester' && e.operation === 'Apply' && e.apiVersion === 'v1' && e.fieldsType === 'FieldsV1'), JSON.stringify(mf));
    const u = await s.patch(core(NS, 'configmaps', 'ssa') + '?fieldManager=tester', { ...cm, data: { a: '1', b: '2' } }, APPLY);
    expectJSON(u, 200);
    assert.deepEqual(u.body.data, { a: '1', b: '2' });
    const same = await s.patch(core(NS, 'configmaps', 'ssa') + '?fieldManager=tester', { ...cm, data: { a: '1', b: '2' } }, APPLY);
    expectJSON(same, 200);
    assert.equal(same.body.metadata.resourceVersion, u.body.metadata.resourceVersion, 'unchanged apply keeps the resourceVersion');
    // Dropping a field this manager owns removes it.
    const drop = await s.patch(core(NS, 'configmaps', 'ssa') + '?fieldManager=tester', { ...cm, data: { b: '2' } }, APPLY);
    expectJSON(drop, 200);
    assert.deepEqual(drop.body.data, { b: '2' });
  });

  test('server-side apply conflict between managers: 409 with FieldManagerConflict causes; force=true takes over', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa2' }, data: { k: 'one' } };
    expectJSON(await s.patch(core(NS, 'configmaps', 'ssa2') + '?fieldManager=alpha', cm, APPLY), 201);
    const r = await s.patch(core(NS, 'configmaps', 'ssa2') + '?fieldManager=beta', { ...cm, data: { k: 'two' } }, APPLY);
    expectStatus(r, 409, 'Conflict', 'Apply failed with 1 conflict: conflict with "alpha": .data.k');
    assert.deepEqual(r.body.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alpha"', field: '.data.k' }]);
    const f = await s.patch(core(NS, 'configmaps', 'ssa2') + '?fieldManager=beta&force=true', { ...cm, data: { k: 'two' } }, APPLY);
    expectJSON(f, 200);
    assert.deepEqual(f.body.data, { k: 'two' });
  });

  test('server-side apply without fieldManager: 422 Invalid PatchOptions', async () => {
    const before = await s.revision();
    const r = await s.patch(core(NS, 'configmaps', 'ssa3'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa3' } }, APPLY);
    expectStatus(r, 422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    assert.deepEqual(r.body.details, {
      group: 'meta.k8s.io',
      kind: 'PatchOptions',
      causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
    });
    assert.equal(await s.revision(), before);
  });
});

// ---- virtual resources ----------------------------------------------------------------------------------------------

describe('virtual resources', () => {
  test('SelfSubjectAccessReview: allowed for the admin', async () => {
    const r = await s.post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } },
    });
    expectJSON(r, 201);
    assert.equal(r.body.kind, 'SelfSubjectAccessReview');
    assert.equal(r.body.apiVersion, 'authorization.k8s.io/v1');
    assert.equal(r.body.status.allowed, true);
    assert.deepEqual(r.body.spec.resourceAttributes, { namespace: 'default', verb: 'create', resource: 'pods' });
    const empty = await s.post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} });
    expectStatus(empty, 422, 'Invalid');
  });

  test('SelfSubjectRulesReview: rules for the namespace', async () => {
    const r = await s.post('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } });
    expectJSON(r, 201);
    assert.equal(r.body.kind, 'SelfSubjectRulesReview');
    assert.ok(Array.isArray(r.body.status.resourceRules) && r.body.status.resourceRules.length > 0);
    assert.ok(Array.isArray(r.body.status.nonResourceRules));
    assert.equal(r.body.status.incomplete, false);
  });

  test('SelfSubjectReview: the client certificate user', async () => {
    const r = await s.post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expectJSON(r, 201);
    assert.equal(r.body.kind, 'SelfSubjectReview');
    assert.equal(r.body.apiVersion, 'authentication.k8s.io/v1');
    assert.equal(r.body.status.userInfo.username, 'system:admin');
    assert.ok(r.body.status.userInfo.groups.includes('system:masters'));
    assert.ok(r.body.status.userInfo.groups.includes('system:authenticated'));
  });

  test('virtual resources are create-only: GET is 405', async () => {
    const r = await s.get('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expectStatus(r, 405, 'MethodNotAllowed');
  });
});

// ---- protobuf bodies --------------------------------------------------------------------------------------------------

describe('protobuf request bodies', () => {
  // Field numbers from k8s.io/api core/v1 and apimachinery generated.proto (runtime.Unknown, TypeMeta, ObjectMeta).
  const descriptor = {
    nested: {
      TypeMeta: { fields: { apiVersion: { type: 'string', id: 1 }, kind: { type: 'string', id: 2 } } },
      Unknown: {
        fields: { typeMeta: { type: 'TypeMeta', id: 1 }, raw: { type: 'bytes', id: 2 }, contentEncoding: { type: 'string', id: 3 }, contentType: { type: 'string', id: 4 } },
      },
      ObjectMeta: { fields: { name: { type: 'string', id: 1 }, namespace: { type: 'string', id: 3 }, labels: { keyType: 'string', type: 'string', id: 11 } } },
      ConfigMap: {
        fields: { metadata: { type: 'ObjectMeta', id: 1 }, data: { keyType: 'string', type: 'string', id: 2 }, binaryData: { keyType: 'string', type: 'bytes', id: 3 } },
      },
    },
  };
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  const encode = (type: string, v: Record<string, unknown>): Uint8Array => {
    const T = root.lookupType(type);
    return T.encode(T.fromObject(v)).finish();
  };
  const envelope = (apiVersion: string, kind: string, raw: Uint8Array): Buffer =>
    Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), Buffer.from(encode('Unknown', { typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' }))]);

  before(async () => {
    await s.namespace('proto');
  });

  test('POST of a protobuf ConfigMap (typed-client create): 201 with the decoded object', async () => {
    const raw = encode('ConfigMap', { metadata: { name: 'pb', labels: { from: 'protobuf' } }, data: { a: '1', empty: '' }, binaryData: { blob: Buffer.from([0xff, 0x00, 0xfe]) } });
    const r = await s.post(core('proto', 'configmaps'), envelope('v1', 'ConfigMap', raw), {
      contentType: 'application/vnd.kubernetes.protobuf',
      accept: 'application/vnd.kubernetes.protobuf,application/json',
    });
    expectJSON(r, 201);
    assert.equal(r.body.kind, 'ConfigMap');
    assert.equal(r.body.metadata.name, 'pb');
    assert.equal(r.body.metadata.namespace, 'proto');
    assert.deepEqual(r.body.metadata.labels, { from: 'protobuf' });
    assert.deepEqual(r.body.data, { a: '1', empty: '' });
    assert.deepEqual(r.body.binaryData, { blob: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') });
    const g = await s.get(core('proto', 'configmaps', 'pb'));
    assert.deepEqual(g.body.data, { a: '1', empty: '' });
  });

  test('POST of protobuf bodies made by the module\'s own encoder (Namespace, ConfigMap): 201', async () => {
    const ns = encodeProtobufObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'proto-enc' } });
    const r = await s.post('/api/v1/namespaces', ns, { contentType: 'application/vnd.kubernetes.protobuf', accept: 'application/vnd.kubernetes.protobuf,application/json' });
    assert.equal(r.status, 201, r.text.slice(0, 300));
    const cm = encodeProtobufObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'enc' }, data: { k: 'v' } });
    const c = await s.post(core('proto-enc', 'configmaps'), cm, { contentType: 'application/vnd.kubernetes.protobuf', accept: 'application/json' });
    expectJSON(c, 201);
    assert.deepEqual(c.body.data, { k: 'v' });
    assert.equal(c.body.metadata.namespace, 'proto-enc');
  });

  test('garbage protobuf bodies: 400, nothing written', async () => {
    const before = await s.revision();
    const noMagic = await s.post(core('proto', 'configmaps'), Buffer.from([1, 2, 3, 4, 5]), { contentType: 'application/vnd.kubernetes.protobuf' });
    expectStatus(noMagic, 400, 'BadRequest');
    const truncated = await s.post(core('proto', 'configmaps'), Buffer.concat([Buffer.from('k8s\0'), Buffer.from([0x0a, 0x50, 0x01])]), { contentType: 'application/vnd.kubernetes.protobuf' });
    expectStatus(truncated, 400, 'BadRequest');
    assert.equal(await s.revision(), before);
  });
});
