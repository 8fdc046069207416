// ResourceQuota controller on the fake client: status.hard/used from the namespace's objects (count/… kinds found
// through discovery), deletions and terminal pods give quota back, spec changes resync, and a charge still in
// flight (quota charged before its pod is stored) is never undone — only a decrease that holds is written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import type { ApiResource, ListOptions, ObjectList, Resource } from '../../client/interface.js';
import { RESOURCEQUOTAS, ResourceQuotaController } from './controller.js';

type Obj = Record<string, unknown>;
const PODS: Resource = { group: '', version: 'v1', resource: 'pods', namespaced: true };
const CONFIGMAPS: Resource = { group: '', version: 'v1', resource: 'configmaps', namespaced: true };
const DEPLOYMENTS: ApiResource = { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true, kind: 'Deployment', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] };

async function until(what: string, fn: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pod = (name: string, cpu: string, phase = 'Running'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns' },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu }, limits: { cpu } } }] },
  status: { phase },
});
const quota = (name: string, hard: Obj): KubeObject => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace: 'ns' }, spec: { hard } });
const status = (c: FakeClient, name = 'q'): { hard?: Obj; used?: Obj } => (c.peek('resourcequotas', 'ns', name)?.status ?? {}) as { hard?: Obj; used?: Obj };
const usedOf = (c: FakeClient, name = 'q'): Obj | undefined => status(c, name).used;

async function running(c: FakeClient, opts: ConstructorParameters<typeof ResourceQuotaController>[1] = {}): Promise<{ rq: ResourceQuotaController; done: Promise<void> }> {
  const rq = new ResourceQuotaController(c, { releaseDelayMs: 100, ...opts });
  return { rq, done: rq.run() };
}

test('status.hard and status.used from the namespace; deletions and terminal pods give quota back', async () => {
  const c = new FakeClient([DEPLOYMENTS]);
  c.seed('pods', pod('a', '500m'));
  c.seed('pods', pod('b', '500m'));
  c.seed('pods', pod('done', '1', 'Succeeded'));
  c.seed('pods', { ...pod('elsewhere', '1'), metadata: { name: 'elsewhere', namespace: 'other' } });
  c.seed('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns' } });
  c.seed('deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' } });
  c.seed('resourcequotas', quota('q', { pods: '5', 'requests.cpu': '2', 'limits.cpu': '4', 'count/pods': '10', configmaps: '3', 'count/deployments.apps': '2' }));
  const { rq, done } = await running(c);
  try {
    await until('status', () => usedOf(c)?.['count/deployments.apps'] !== undefined);
    assert.deepEqual(status(c).hard, { pods: '5', 'requests.cpu': '2', 'limits.cpu': '4', 'count/pods': '10', configmaps: '3', 'count/deployments.apps': '2' });
    assert.deepEqual(usedOf(c), { configmaps: '1', 'count/deployments.apps': '1', 'count/pods': '3', 'limits.cpu': '1', pods: '2', 'requests.cpu': '1' });

    await c.delete(PODS, 'ns', 'a');
    await until('pod a released', () => usedOf(c)?.pods === '1');
    assert.deepEqual(usedOf(c), { configmaps: '1', 'count/deployments.apps': '1', 'count/pods': '2', 'limits.cpu': '500m', pods: '1', 'requests.cpu': '500m' });
    const b = c.peek('pods', 'ns', 'b')!;
    await c.update(PODS, 'ns', { ...b, status: { phase: 'Failed' } }, 'status');
    await until('pod b released', () => usedOf(c)?.pods === '0');
    assert.equal(usedOf(c)?.['count/pods'], '2', 'count/pods still counts stored terminal pods');
    await c.delete(CONFIGMAPS, 'ns', 'cm');
    await until('configmap released', () => usedOf(c)?.configmaps === '0');

    // A spec change is picked up: new names measured, removed ones dropped.
    const q = c.peek('resourcequotas', 'ns', 'q')!;
    await c.update(RESOURCEQUOTAS, 'ns', { ...q, spec: { hard: { pods: '7', 'count/configmaps': '1' } } });
    await until('new hard', () => status(c).hard?.pods === '7');
    await until('new used', () => JSON.stringify(usedOf(c)) === JSON.stringify({ 'count/configmaps': '0', pods: '0' }));
  } finally {
    await rq.stop();
    await done;
  }
});

test('a charge in flight is never undone; a decrease that holds is written', async () => {
  const c = new FakeClient();
  c.seed('pods', pod('a', '100m'));
  c.seed('pods', pod('b', '100m'));
  c.seed('resourcequotas', quota('q', { pods: '10' }));
  const { rq, done } = await running(c, { releaseDelayMs: 500 });
  try {
    await until('first status', () => usedOf(c)?.pods === '2');
    // Admission charges a third pod, whose create has not reached the store yet, and something wakes the quota.
    const charge = async (n: string) => {
      const q = c.peek('resourcequotas', 'ns', 'q')!;
      await c.update(RESOURCEQUOTAS, 'ns', { ...q, status: { ...(q.status as Obj), used: { pods: n } } }, 'status');
    };
    await charge('3');
    rq.queue.add('ns/q');
    await sleep(100);
    assert.equal(usedOf(c)?.pods, '3', 'held while the pod may still be on its way');
    await c.create(PODS, 'ns', pod('c', '100m'));
    await sleep(600);
    assert.equal(usedOf(c)?.pods, '3');
    const written = c.actionsOf('update').filter((a) => a.resource === 'resourcequotas' && a.subresource === 'status').map((a) => ((a.detail as KubeObject).status as { used: Obj }).used.pods);
    assert.ok(!written.slice(1).some((p) => Number(p) < 3), `no write below the charge: ${written.join(',')}`);

    // A charge whose object never came (a leaked charge) is given back once it has held long enough.
    await charge('4');
    rq.queue.add('ns/q');
    await sleep(100);
    assert.equal(usedOf(c)?.pods, '4');
    await until('leaked charge released', () => usedOf(c)?.pods === '3');
  } finally {
    await rq.stop();
    await done;
  }
});

test('quotas in other namespaces and names no evaluator knows are left alone', async () => {
  const c = new FakeClient([]);
  c.seed('resourcequotas', quota('q', { pods: '1', 'count/widgets.example.com': '3' }));
  c.seed('resourcequotas', { ...quota('r', { secrets: '2' }), metadata: { name: 'r', namespace: 'other' } });
  c.seed('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'other' } });
  const { rq, done } = await running(c);
  try {
    await until('both synced', () => usedOf(c)?.pods === '0' && (c.peek('resourcequotas', 'other', 'r')?.status as { used?: Obj } | undefined)?.used?.secrets === '1');
    assert.deepEqual(usedOf(c), { pods: '0' }, 'an unknown kind has no usage yet');
  } finally {
    await rq.stop();
    await done;
  }
});

test('kinds that are only counted are watched as metadata; pods, services and claims whole', async () => {
  const lists: Array<[string, boolean]> = [];
  class Recording extends FakeClient {
    override async list(r: Resource, ns: string | undefined, opts?: ListOptions): Promise<ObjectList> {
      lists.push([r.resource, !!opts?.metadataOnly]);
      return super.list(r, ns, opts);
    }
  }
  const c = new Recording([DEPLOYMENTS]);
  c.seed('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns' }, data: { big: 'x'.repeat(1000) } });
  c.seed('resourcequotas', quota('q', { configmaps: '3', 'count/deployments.apps': '2', pods: '4' }));
  const { rq, done } = await running(c);
  try {
    await until('status', () => usedOf(c)?.['count/deployments.apps'] !== undefined);
    assert.deepEqual(usedOf(c), { configmaps: '1', 'count/deployments.apps': '0', pods: '0' });
    const how = Object.fromEntries(lists);
    assert.deepEqual(
      { pods: how.pods, services: how.services, persistentvolumeclaims: how.persistentvolumeclaims },
      { pods: false, services: false, persistentvolumeclaims: false },
    );
    assert.deepEqual(
      { configmaps: how.configmaps, secrets: how.secrets, replicationcontrollers: how.replicationcontrollers, deployments: how.deployments },
      { configmaps: true, secrets: true, replicationcontrollers: true, deployments: true },
    );
    assert.ok(lists.some(([r, meta]) => r === 'resourcequotas' && !meta), 'the quotas themselves are read whole');
    await c.create(CONFIGMAPS, 'ns', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm2' } });
    await until('the new ConfigMap counted', () => usedOf(c)?.configmaps === '2');
  } finally {
    await rq.stop();
    await done;
  }
});
