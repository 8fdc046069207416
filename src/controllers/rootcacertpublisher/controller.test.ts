// Root CA publisher on the fake client: kube-root-ca.crt in every Active namespace, made again after a delete,
// put back after an edit, never in a Terminating namespace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClient } from '../../client/fake.js';
import { CONFIGMAPS, NAMESPACES } from '../../client/resources.js';
import { DESCRIPTION, RootCACertPublisher, ROOT_CA_CONFIGMAP } from './controller.js';

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
const CA = '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n';
const dataOf = (c: FakeClient, n: string) => (c.peek('configmaps', n, ROOT_CA_CONFIGMAP) as { data?: Record<string, string> } | undefined)?.data;

test('publishes the CA in every Active namespace; recreates, repairs, skips Terminating', async () => {
  const c = new FakeClient();
  c.seed('namespaces', ns('a'));
  c.seed('namespaces', ns('gone', 'Terminating', true));
  c.seed('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', namespace: 'a' }, data: { x: 'y' } });
  const p = new RootCACertPublisher(c, { rootCA: CA });
  const done = p.run();
  try {
    await until('published in a', () => dataOf(c, 'a')?.['ca.crt'] === CA);
    const cm = c.peek('configmaps', 'a', ROOT_CA_CONFIGMAP)!;
    assert.equal(cm.metadata.annotations?.['kubernetes.io/description'], DESCRIPTION);
    await c.create(NAMESPACES, undefined, ns('b'));
    await until('published in b', () => dataOf(c, 'b')?.['ca.crt'] === CA);
    await c.delete(CONFIGMAPS, 'a', ROOT_CA_CONFIGMAP);
    await until('published in a again', () => dataOf(c, 'a')?.['ca.crt'] === CA);
    const edited = structuredClone(c.peek('configmaps', 'b', ROOT_CA_CONFIGMAP)!) as any;
    edited.data = { 'ca.crt': 'tampered', extra: '1' };
    await c.update(CONFIGMAPS, 'b', edited);
    await until('b repaired', () => JSON.stringify(dataOf(c, 'b')) === JSON.stringify({ 'ca.crt': CA }));
    assert.equal(c.peek('configmaps', 'gone', ROOT_CA_CONFIGMAP), undefined, 'none in a terminating namespace');
    assert.deepEqual((c.peek('configmaps', 'a', 'other') as any).data, { x: 'y' }, 'other ConfigMaps untouched');
  } finally {
    await p.stop();
    await done;
  }
});
