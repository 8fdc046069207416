// NamespaceLifecycle admission through the generic store: missing and terminating namespaces refuse new content,
// Active ones are served from the watch-fed cache (no store read), and a delete is seen at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../api/kinds/index.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import { Admission } from '../admission.js';
import { ResourceStore, type RequestContext } from '../registry/store.js';
import { MemStore } from '../testing/memstore.js';
import { namespaceLifecycle } from './namespace-lifecycle.js';

const kind = (group: string, plural: string): KindDef => allKinds().find((k) => k.group === group && k.plural === plural)!;
const NS = kind('', 'namespaces');
const CM = kind('', 'configmaps');
const ctx = (): RequestContext => ({ user: { username: 'admin', groups: ['system:masters'] }, dryRun: false, warnings: [] });
const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, finalizers: ['test.k8ts.io/hold'] } });
const code = (c: number, msg: string) => (e: Error & { code?: number }) => {
  assert.equal(e.code, c);
  assert.equal(e.message, msg);
  return true;
};

test('missing → 404, Active → allowed (from the cache once warm), Terminating → 403 at once after the delete', async () => {
  const mem = new MemStore();
  const rs = new ResourceStore(mem, new Admission([namespaceLifecycle(() => NS)]));
  await assert.rejects(rs.create(CM, 'ghost', cm('x'), ctx()), code(404, 'namespaces "ghost" not found'));
  await rs.create(NS, undefined, ns('a'), ctx());
  // Just created: the cache may not have it yet, the live lookup does.
  await rs.create(CM, 'a', cm('first'), ctx());
  await new Promise((r) => setTimeout(r, 20));

  // Warm: creates in an Active namespace read no namespace from the store.
  let nsReads = 0;
  const get = mem.get.bind(mem);
  mem.get = (key: string) => {
    if (key.includes('/namespaces/')) nsReads++;
    return get(key);
  };
  for (let i = 0; i < 5; i++) await rs.create(CM, 'a', cm(`c${i}`), ctx());
  assert.equal(nsReads, 0, 'no live namespace lookups once the cache is warm');

  await rs.delete(NS, undefined, 'a', {}, ctx());
  await assert.rejects(rs.create(CM, 'a', cm('late'), ctx()), code(403, 'configmaps "late" is forbidden: unable to create new content in namespace a because it is being terminated'));
});
