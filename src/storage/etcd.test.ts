// etcd-driver tests beyond the shared contract, against a real etcd: key-prefix isolation, watches that
// survive an etcd kill -9 + restart without gaps, watches that fail once etcd stays away, and watches sharing
// one etcd stream per resource (window replay, streams of their own for older revisions, compaction).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdStore } from './etcd.js';
import { openStore } from './index.js';
import { CompactedError, type Store, type WatchEvent, type Watcher } from './interface.js';
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

  /** A watch recording what it gets. */
  const record = (s: Store, prefix: string, from: number) => {
    const r = { events: [] as WatchEvent[], errors: [] as Error[], w: null as Watcher | null };
    r.w = s.watch(prefix, from, { onEvents: (e) => void r.events.push(...e), onError: (e) => void r.errors.push(e) });
    return r;
  };
  const summary = (evs: WatchEvent[]) => evs.map((e) => `${e.type} ${e.kv.key}=${e.kv.value}@${e.revision}`);

  it('serves all watches of one resource from one etcd stream, each with its own prefix, events shared', async () => {
    const s = new EtcdStore({ hosts: [server.endpoint], prefix: '/share' });
    stores.push(s);
    const from = await s.currentRevision();
    const all = record(s, '/registry/core/configmaps/', from);
    const nsA = Array.from({ length: 5 }, () => record(s, '/registry/core/configmaps/a/', from));
    const nsB = record(s, '/registry/core/configmaps/b/', from);
    const other = record(s, '/registry/core/secrets/a/', from);
    assert.deepEqual(s.watchStats(), { streams: 2, watchers: 8 }, 'one stream per resource');
    const a1 = await s.create('/registry/core/configmaps/a/x', '1');
    await s.create('/registry/core/configmaps/b/y', '2');
    await s.create('/registry/core/secrets/a/z', '3');
    await s.update('/registry/core/configmaps/a/x', '4', a1.modRevision);
    await s.delete('/registry/core/configmaps/b/y');
    await waitUntil('deliveries', () => all.events.length === 4 && nsB.events.length === 2 && other.events.length === 1 && nsA.every((r) => r.events.length === 2));
    const r = a1.modRevision;
    assert.deepEqual(summary(all.events), [
      `put /registry/core/configmaps/a/x=1@${r}`,
      `put /registry/core/configmaps/b/y=2@${r + 1}`,
      `put /registry/core/configmaps/a/x=4@${r + 3}`,
      `delete /registry/core/configmaps/b/y=2@${r + 4}`,
    ]);
    for (const w of nsA) assert.deepEqual(summary(w.events), [summary(all.events)[0], summary(all.events)[2]]);
    assert.equal(nsA[0]!.events[1], nsA[4]!.events[1], 'one decoded event for every watch');
    assert.equal(nsA[0]!.events[1], all.events[2]);
    assert.deepEqual(nsA[0]!.events[1]!.prev, a1);
    assert.deepEqual(summary(other.events), [`put /registry/core/secrets/a/z=3@${r + 2}`]);
    for (const w of [all, nsB, other, ...nsA]) assert.deepEqual(w.errors, []);
    for (const w of [all, nsB, other, ...nsA]) w.w!.close();
    assert.deepEqual(s.watchStats().watchers, 0);
  });

  it('joins a watch from a recent revision through the window, even after the last watch closed', async () => {
    const s = new EtcdStore({ hosts: [server.endpoint], prefix: '/window', watchWindow: 100 });
    stores.push(s);
    const from = await s.currentRevision();
    const first = record(s, '/registry/core/pods/', from);
    const kvs = [];
    for (let i = 0; i < 10; i++) kvs.push(await s.create(`/registry/core/pods/n${i % 2}/p${i}`, `v${i}`));
    await waitUntil('first watch events', () => first.events.length === 10);
    first.w!.close();
    // Lingering stream: a watch from the middle of what it saw is replayed from memory, then goes live.
    const mid = kvs[4]!.modRevision;
    const late = record(s, '/registry/core/pods/n1/', mid);
    assert.deepEqual(s.watchStats(), { streams: 1, watchers: 1 }, 'no new etcd stream');
    const more = await s.create('/registry/core/pods/n1/q', 'live');
    await waitUntil('live event', () => late.events.length === 4 || late.errors.length > 0);
    assert.deepEqual(late.events.map((e) => e.revision), [kvs[5]!.modRevision, kvs[7]!.modRevision, kvs[9]!.modRevision, more.modRevision]);
    assert.deepEqual(late.errors, []);
    late.w!.close();
  });

  it('gives a watch from before the window a stream of its own that replays etcd history', async () => {
    const s = new EtcdStore({ hosts: [server.endpoint], prefix: '/old', watchWindow: 3 });
    stores.push(s);
    const from = await s.currentRevision();
    const live = record(s, '/registry/apps/deployments/', from);
    const kvs = [];
    for (let i = 0; i < 40; i++) kvs.push(await s.create(`/registry/apps/deployments/ns/d${i}`, `v${i}`));
    await waitUntil('live events', () => live.events.length === 40);
    const old = record(s, '/registry/apps/deployments/ns/', kvs[1]!.modRevision);
    assert.equal(s.watchStats().streams, 2, 'the window does not reach back: a stream of its own');
    await waitUntil('replay', () => old.events.length === 38 || old.errors.length > 0);
    assert.deepEqual(old.errors, []);
    assert.deepEqual(old.events.map((e) => e.revision), kvs.slice(2).map((kv) => kv.modRevision));
    old.w!.close();
    assert.equal(s.watchStats().streams, 1, 'the own stream ends with its watch');
    live.w!.close();
  });

  it('refuses watches from before a compaction even while the window still holds those events', async () => {
    const s = new EtcdStore({ hosts: [server.endpoint], prefix: '/cmp' });
    stores.push(s);
    const from = await s.currentRevision();
    const live = record(s, '/registry/core/nodes/', from);
    const a = await s.create('/registry/core/nodes/a', '1');
    const b = await s.update('/registry/core/nodes/a', '2', a.modRevision);
    await s.update('/registry/core/nodes/a', '3', b.modRevision);
    await waitUntil('live events', () => live.events.length === 3);
    await s.compact(b.modRevision);
    const tooOld = record(s, '/registry/core/nodes/', a.modRevision);
    await waitUntil('compacted error', () => tooOld.errors.length > 0);
    assert.ok(tooOld.errors[0] instanceof CompactedError, tooOld.errors[0]!.message);
    assert.equal((tooOld.errors[0] as CompactedError).compacted, b.modRevision);
    assert.deepEqual(tooOld.events, []);
    const ok = record(s, '/registry/core/nodes/', b.modRevision);
    await waitUntil('replay from the window', () => ok.events.length === 1);
    assert.deepEqual(summary(ok.events), [`put /registry/core/nodes/a=3@${b.modRevision + 1}`]);
    live.w!.close();
    ok.w!.close();
  });

  it('when the first watch of a resource is refused as compacted, newer watches on it carry on', async () => {
    const s = new EtcdStore({ hosts: [server.endpoint], prefix: '/cmp2' });
    stores.push(s);
    const a = await s.create('/registry/core/services/a', '1');
    const b = await s.update('/registry/core/services/a', '2', a.modRevision);
    // Compacted through another client, so this store does not know it yet.
    const other = new EtcdStore({ hosts: [server.endpoint], prefix: '/cmp2' });
    await other.compact(b.modRevision);
    await other.close();
    const tooOld = record(s, '/registry/core/services/', a.modRevision - 1);
    const fresh = record(s, '/registry/core/services/', b.modRevision);
    await waitUntil('compacted error', () => tooOld.errors.length > 0);
    assert.ok(tooOld.errors[0] instanceof CompactedError);
    const c = await s.update('/registry/core/services/a', '3', b.modRevision);
    await waitUntil('fresh watch events', () => fresh.events.length === 1 || fresh.errors.length > 0);
    assert.deepEqual(fresh.errors, []);
    assert.deepEqual(summary(fresh.events), [`put /registry/core/services/a=3@${c.modRevision}`]);
    fresh.w!.close();
  });
});
