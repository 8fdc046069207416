// etcd-driver tests beyond the shared contract, against a real etcd: key-prefix isolation, watches that
// survive an etcd kill -9 + restart without gaps, and watches that fail once etcd stays away.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdStore } from './etcd.js';
import { openStore } from './index.js';
import type { Store, WatchEvent } from './interface.js';
import { startEtcd, type EtcdServer } from './testing/etcd-server.js';

async function waitUntil(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function retry<T>(fn: () => Promise<T>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('etcd store', () => {
  let server: EtcdServer;
  const stores: Store[] = [];
  before(async () => {
    server = await startEtcd();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await server.stop();
  });

  it('keeps stores with different key prefixes apart', async () => {
    const a = await openStore(`${server.url}?prefix=/iso-a`);
    const b = await openStore(`${server.url}?prefix=/iso-b`);
    stores.push(a, b);
    const seenByB: WatchEvent[] = [];
    b.watch('/', await b.currentRevision(), { onEvents: (e) => void seenByB.push(...e), onError: (e) => assert.fail(e) });
    await a.create('/k', 'from-a');
    const kb = await b.create('/k', 'from-b');
    assert.equal((await a.get('/k'))?.value, 'from-a');
    assert.deepEqual((await b.list('/')).items, [kb]);
    assert.equal(await a.count('/'), 1);
    await waitUntil('b sees its own write', () => seenByB.length >= 1);
    assert.deepEqual(seenByB.map((e) => e.kv.value), ['from-b']);
  });

  it('resumes a watch across an etcd kill -9 and restart without gaps or duplicates', async () => {
    const s = new EtcdStore({ hosts: [server.endpoint], prefix: '/restart', callTimeoutMs: 2_000, watchRetryMs: 20_000 });
    stores.push(s);
    const from = await s.currentRevision();
    const got: WatchEvent[] = [];
    const errors: Error[] = [];
    s.watch('/', from, { onEvents: (e) => void got.push(...e), onError: (e) => void errors.push(e) });
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => s.create(`/before/${i}`, 'x')));
    await waitUntil('events before the crash', () => got.length === 20);
    await server.restart();
    const afterKvs: number[] = [];
    for (let i = 0; i < 20; i++) afterKvs.push((await retry(() => s.create(`/after/${i}`, 'y'))).modRevision);
    await waitUntil('events after the restart', () => got.length >= 40 || errors.length > 0);
    assert.deepEqual(errors, []);
    const revs = got.map((e) => e.revision);
    assert.deepEqual(revs, [...before.map((kv) => kv.modRevision).sort((x, y) => x - y), ...afterKvs]);
    assert.equal((await s.list('/before/')).items.length, 20, 'acknowledged writes survived kill -9');
  });

  it('fails a watch once etcd has been gone longer than watchRetryMs', async () => {
    const lone = await startEtcd();
    const s = new EtcdStore({ hosts: [lone.endpoint], callTimeoutMs: 500, dialTimeoutMs: 500, watchRetryMs: 300 });
    try {
      const errors: Error[] = [];
      s.watch('/', await s.currentRevision(), { onEvents: () => undefined, onError: (e) => void errors.push(e) });
      await s.create('/x', 'y');
      await lone.stop();
      await waitUntil('watch failure', () => errors.length > 0);
      assert.match(errors[0]!.message, /etcd watch failed/);
    } finally {
      await s.close();
      await lone.stop();
    }
  });
});
