// ResourceQuota admission through the generic store: charges status.used, refuses with upstream's texts, checks
// constraints first, charges nothing for dry runs, gives back a charge whose write failed, and never lets
// parallel creates exceed a quota — also across two API servers sharing one store.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../api/kinds/index.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import { Admission } from '../admission.js';
import { ResourceStore, type RequestContext } from '../registry/store.js';
import type { Store } from '../../storage/interface.js';
import { MemStore } from '../testing/memstore.js';
import { resourceQuotaAdmission } from './resourcequota.js';

type Obj = Record<string, unknown>;
const kind = (group: string, plural: string): KindDef => allKinds().find((k) => k.group === group && k.plural === plural)!;
const PODS = kind('', 'pods');
const QUOTAS = kind('', 'resourcequotas');
const ctx = (dryRun = false): RequestContext => ({ user: { username: 'admin', groups: ['system:masters'] }, dryRun, warnings: [] });

const pod = (name: string, requests?: Obj, limits?: Obj): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'nginx', image: 'nginx', resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } }] },
});

/** A store whose reads and writes take a random 0–2 ms, as a networked one does, so concurrent requests interleave. */
function withLatency(s: MemStore): Store {
  const slow = new Set(['get', 'list', 'create', 'update']);
  return new Proxy(s, {
    get(t, k) {
      const v = Reflect.get(t, k) as unknown;
      if (typeof v !== 'function') return v;
      const f = v as (...args: unknown[]) => unknown;
      if (!slow.has(String(k))) return f.bind(t);
      return async (...args: unknown[]) => {
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        return f.apply(t, args);
      };
    },
  });
}

function server(store: Store = new MemStore()): ResourceStore {
  return new ResourceStore(store, new Admission([resourceQuotaAdmission(kind)]));
}

/** Creates a quota and gives it the status the controller would (hard = spec.hard, used zero or as given). */
async function makeQuota(rs: ResourceStore, name: string, hard: Obj, used: Obj = Object.fromEntries(Object.keys(hard).map((k) => [k, '0'])), spec: Obj = {}): Promise<void> {
  const q = await rs.create(QUOTAS, 'ns', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard, ...spec } }, ctx());
  await rs.update(QUOTAS, 'ns', name, { ...q, status: { hard, used } }, ctx(), 'status');
}

const used = async (rs: ResourceStore, name = 'compute'): Promise<unknown> => ((await rs.get(QUOTAS, 'ns', name)).status as Obj).used;

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.equal((e as { code?: number }).code, 403, String(e));
    return (e as Error).message;
  }
  assert.fail('expected a refusal');
}

test('charges pods and requests.cpu; refuses over the limit with upstream text; constraints come first', async () => {
  const rs = server();
  await makeQuota(rs, 'compute', { pods: '2', 'requests.cpu': '1' });
  await rs.create(PODS, 'ns', pod('a', { cpu: '500m' }), ctx());
  assert.deepEqual(await used(rs), { pods: '1', 'requests.cpu': '500m' });
  assert.equal(await refused(rs.create(PODS, 'ns', pod('big', { cpu: '2' }), ctx())), 'pods "big" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=500m, limited: requests.cpu=1');
  assert.equal(await refused(rs.create(PODS, 'ns', pod('none'), ctx())), 'pods "none" is forbidden: failed quota: compute: must specify requests.cpu for: nginx');
  // Limits alone default the requests, which satisfies the quota.
  await rs.create(PODS, 'ns', pod('b', undefined, { cpu: '500m' }), ctx());
  assert.deepEqual(await used(rs), { pods: '2', 'requests.cpu': '1' });
  assert.equal(
    await refused(rs.create(PODS, 'ns', pod('c', { cpu: '100m' }), ctx())),
    'pods "c" is forbidden: exceeded quota: compute, requested: pods=1,requests.cpu=100m, used: pods=2,requests.cpu=1, limited: pods=2,requests.cpu=1',
  );
  // A generateName pod is named by its generated name.
  const gen = pod('', { cpu: '100m' });
  gen.metadata = { generateName: 'web-' };
  assert.match(await refused(rs.create(PODS, 'ns', gen, ctx())), /^pods "web-[a-z0-9]{5}" is forbidden: exceeded quota: compute/);
});

test('dry runs are checked but charge nothing; other namespaces and kinds are not charged', async () => {
  const rs = server();
  await makeQuota(rs, 'compute', { pods: '1', 'count/configmaps': '1' });
  await rs.create(PODS, 'ns', pod('dry'), ctx(true));
  assert.deepEqual(await used(rs), { pods: '0', 'count/configmaps': '0' });
  await rs.create(PODS, 'other', pod('a'), ctx());
  await rs.create(kind('', 'secrets'), 'ns', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }, ctx());
  assert.deepEqual(await used(rs), { pods: '0', 'count/configmaps': '0' });
  await rs.create(kind('', 'configmaps'), 'ns', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, ctx());
  assert.equal(await refused(rs.create(kind('', 'configmaps'), 'ns', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd' } }, ctx())), 'configmaps "d" is forbidden: exceeded quota: compute, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1');
  // A dry run is refused like the real request would be.
  await rs.create(PODS, 'ns', pod('first'), ctx());
  assert.equal(await refused(rs.create(PODS, 'ns', pod('x'), ctx(true))), 'pods "x" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1');
});

test('a charge whose write fails (AlreadyExists) is given back', async () => {
  const rs = server();
  await makeQuota(rs, 'compute', { pods: '3' });
  await rs.create(PODS, 'ns', pod('a'), ctx());
  await assert.rejects(rs.create(PODS, 'ns', pod('a'), ctx()), (e: { code?: number }) => e.code === 409);
  assert.deepEqual(await used(rs), { pods: '1' });
});

test('service updates are charged their increase (node ports)', async () => {
  const rs = server();
  const SVC = kind('', 'services');
  await makeQuota(rs, 'compute', { services: '5', 'services.nodeports': '1' });
  const s = await rs.create(SVC, 'ns', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }], selector: { app: 'x' } } }, ctx());
  assert.deepEqual(await used(rs), { services: '1', 'services.nodeports': '0' });
  const np = structuredClone(s);
  (np.spec as Obj).type = 'NodePort';
  await rs.update(SVC, 'ns', 's', np, ctx());
  assert.deepEqual(await used(rs), { services: '1', 'services.nodeports': '1' });
});

test('parallel creates never exceed the quota, on one server or two sharing a store', async () => {
  for (const servers of [1, 2]) {
    const store = withLatency(new MemStore());
    const apis = Array.from({ length: servers }, () => server(store));
    await makeQuota(apis[0]!, 'compute', { pods: '5', 'requests.cpu': '10' });
    await makeQuota(apis[0]!, 'other', { 'requests.cpu': '2500m' });
    const results = await Promise.allSettled(Array.from({ length: 24 }, (_, i) => apis[i % servers]!.create(PODS, 'ns', pod(`p${i}`, { cpu: '500m' }), ctx())));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    assert.equal(ok, 5, `${servers} server(s): admitted`);
    for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /exceeded quota: (compute|other)|Operation cannot be fulfilled/);
    assert.deepEqual(await used(apis[0]!), { pods: '5', 'requests.cpu': '2500m' });
    assert.deepEqual(await used(apis[0]!, 'other'), { 'requests.cpu': '2500m' });
    assert.equal((await apis[0]!.list(PODS, 'ns')).items.length, 5);
  }
});
