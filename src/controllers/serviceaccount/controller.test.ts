// ServiceAccounts controller on the fake client: `default` made in new Active namespaces, made again after a
// delete, never in a Terminating namespace, and an AlreadyExists from a stale cache is not an error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClient } from '../../client/fake.js';
import { NAMESPACES, SERVICEACCOUNTS, ServiceAccountsController } from './controller.js';

async function until(what: string, fn: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ns = (name: string, phase = 'Active', deleting = false) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, ...(deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
  status: { phase },
});

test('creates default in every Active namespace and again after it is deleted', async () => {
  const c = new FakeClient();
  c.seed('namespaces', ns('a'));
  c.seed('namespaces', ns('gone', 'Terminating', true));
  const sc = new ServiceAccountsController(c);
  const done = sc.run();
  try {
    await until('default in a', () => !!c.peek('serviceaccounts', 'a', 'default'));
    await c.create(NAMESPACES, undefined, ns('b'));
    await until('default in b', () => !!c.peek('serviceaccounts', 'b', 'default'));
    await c.delete(SERVICEACCOUNTS, 'a', 'default');
    await until('default in a again', () => !!c.peek('serviceaccounts', 'a', 'default'));
    assert.equal(c.peek('serviceaccounts', 'gone', 'default'), undefined, 'none in a terminating namespace');
    assert.equal(c.actionsOf('create').filter((a) => a.resource === 'serviceaccounts' && a.namespace === 'a').length, 2, 'one create per disappearance');
  } finally {
    await sc.stop();
    await done;
  }
});

test('sync: an existing account (AlreadyExists from a stale cache) is fine; other accounts are left alone', async () => {
  const c = new FakeClient();
  c.seed('namespaces', ns('a'));
  const sc = new ServiceAccountsController(c);
  const done = sc.run();
  await until('default in a', () => !!c.peek('serviceaccounts', 'a', 'default'));
  await sc.stop();
  await done;
  // The cache is stopped (and so stale) now: sync tries to create and meets AlreadyExists.
  await c.delete(SERVICEACCOUNTS, 'a', 'default');
  c.seed('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'a' } });
  await sc.sync('a');
  await sc.sync('missing');
});
