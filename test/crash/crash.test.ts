// Crash safety of the real binary on SQLite: kill -9 the server during concurrent writes, restart it on the same
// data dir, and check that every write the server acknowledged is there (and the store still works).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../bench/lib.js';

test('kill -9 during concurrent creates loses no acknowledged write', async () => {
  const s1 = await startServer();
  const dataDir = s1.dataDir;
  try {
    const ns = await s1.client.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crash' } });
    assert.equal(ns.status, 201, ns.body);
    const acked = new Set<string>();
    let stop = false;
    let n = 0;
    const writers = Array.from({ length: 16 }, async () => {
      while (!stop) {
        const name = `cm-${n++}`;
        try {
          const r = await s1.client.req('POST', '/api/v1/namespaces/crash/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } });
          if (r.status === 201) acked.add(name);
        } catch {
          return; // connection died with the server
        }
      }
    });
    // Let writes flow, then kill without warning.
    await new Promise((r) => setTimeout(r, 1500));
    s1.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await new Promise<void>((r) => (s1.proc.exitCode !== null || s1.proc.signalCode ? r() : s1.proc.once('exit', () => r())));
    s1.client.close();
    assert.ok(acked.size > 50, `expected a stream of acknowledged writes, got ${acked.size}`);

    const s2 = await startServer({ dataDir });
    try {
      const list = await s2.client.req('GET', '/api/v1/namespaces/crash/configmaps');
      assert.equal(list.status, 200);
      const names = new Set((JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name));
      const lost = [...acked].filter((a) => !names.has(a));
      assert.deepEqual(lost, [], `acknowledged writes lost after kill -9 (${acked.size} acknowledged)`);
      // The store keeps working and revisions keep increasing.
      const after = await s2.client.req('POST', '/api/v1/namespaces/crash/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-restart' } });
      assert.equal(after.status, 201, after.body);
      const rvAfter = Number(JSON.parse(after.body).metadata.resourceVersion);
      assert.ok(rvAfter > Number(JSON.parse(list.body).metadata.resourceVersion));
    } finally {
      await s2.stop();
    }
  } finally {
    s1.cleanup();
  }
});
