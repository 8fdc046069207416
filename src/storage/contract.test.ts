// Contract tests of the storage seam (interface.ts), one suite run against every driver: SQLite on a temp file
// and etcd on a real single-member server started by testing/etcd-server.ts (the suite fails if it cannot start).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from './index.js';
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  WatcherTooSlowError,
  type KeyValue,
  type Store,
  type WatchEvent,
  type Watcher,
} from './interface.js';
import { startEtcd, type EtcdServer } from './testing/etcd-server.js';

interface DriverOptions {
  maxWatcherBuffer?: number;
}

interface Driver {
  name: string;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A fresh, empty store (own file / own etcd key prefix). */
  open(opts?: DriverOptions): Promise<Store>;
}

const WAIT_MS = 10_000;

async function waitUntil(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Records what a watch delivers; a synchronous throw from watch() counts as an error too. */
class Recorder {
  events: WatchEvent[] = [];
  errors: Error[] = [];
  watcher: Watcher | null = null;
  constructor(store: Store, prefix: string, from: number) {
    try {
      this.watcher = store.watch(prefix, from, {
        onEvents: (evs) => {
          this.events.push(...evs);
        },
        onError: (err) => {
          this.errors.push(err);
        },
      });
    } catch (err) {
      this.errors.push(err as Error);
    }
  }
  waitEvents(n: number): Promise<void> {
    return waitUntil(`${n} watch events (have ${this.events.length}, errors ${this.errors.map((e) => e.message).join()})`, () => this.events.length >= n || this.errors.length > 0);
  }
  waitError(): Promise<Error> {
    return waitUntil('a watch error', () => this.errors.length > 0).then(() => this.errors[0]!);
  }
  close(): void {
    this.watcher?.close();
  }
}

function summary(evs: WatchEvent[]): Array<[string, string, string, number]> {
  return evs.map((e) => [e.type, e.kv.key, e.kv.value, e.revision]);
}

const sqliteDriver = (): Driver => {
  let dir = '';
  let n = 0;
  return {
    name: 'sqlite',
    async setUp() {
      dir = mkdtempSync(join(tmpdir(), 'k8ts-store-contract-'));
    },
    async tearDown() {
      rmSync(dir, { recursive: true, force: true });
    },
    open(opts = {}) {
      return openStore(`sqlite://${join(dir, `s${n++}.db`)}`, { sqlite: { ...opts, compactIntervalMs: 0 } });
    },
  };
};

const etcdDriver = (): Driver => {
  let server: EtcdServer | null = null;
  let n = 0;
  const run = `${process.pid}-${Date.now()}`;
  return {
    name: 'etcd',
    async setUp() {
      server = await startEtcd();
    },
    async tearDown() {
      await server?.stop();
    },
    open(opts = {}) {
      if (server === null) throw new Error('etcd did not start');
      return openStore(`${server.url}?prefix=/contract-${run}-${n++}`, { etcd: { ...opts, callTimeoutMs: 5_000 } });
    },
  };
};

for (const driver of [sqliteDriver(), etcdDriver()]) {
  describe(`storage contract: ${driver.name}`, () => {
    const stores: Store[] = [];
    const open = async (opts?: DriverOptions): Promise<Store> => {
      const s = await driver.open(opts);
      stores.push(s);
      return s;
    };
    before(() => driver.setUp());
    after(async () => {
      for (const s of stores) await s.close();
      await driver.tearDown();
    });

    it('allocates one gap-free, monotonic revision per successful write; failed writes allocate none', async () => {
      const s = await open();
      let rev = await s.currentRevision();
      const a = await s.create('/a', '1');
      assert.deepEqual(a, { key: '/a', value: '1', createRevision: rev + 1, modRevision: rev + 1 });
      rev = a.modRevision;
      await assert.rejects(s.create('/a', 'again'), KeyExistsError);
      await assert.rejects(s.update('/a', '2', rev - 1), RevisionMismatchError);
      await assert.rejects(s.delete('/missing'), KeyNotFoundError);
      const steps: Array<() => Promise<KeyValue>> = [
        () => s.update('/a', '2', rev),
        () => s.create('/b', 'b'),
        () => s.delete('/b'),
        () => s.create('/b', 'b2'),
      ];
      for (const step of steps) {
        const kv = await step();
        assert.equal(kv.modRevision, rev + 1, 'next revision, no gap');
        rev = kv.modRevision;
      }
      assert.equal(await s.currentRevision(), rev);
    });

    it('create is create-if-absent; a deleted key can be created again in a new life', async () => {
      const s = await open();
      const first = await s.create('/k', 'v1');
      assert.deepEqual(await s.get('/k'), first);
      const err = await s.create('/k', 'v2').then(
        () => assert.fail('second create succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof KeyExistsError);
      assert.equal(err.key, '/k');
      assert.equal((await s.get('/k'))?.value, 'v1', 'failed create did not write');
      const deleted = await s.delete('/k');
      assert.equal(await s.get('/k'), null);
      const again = await s.create('/k', 'v3');
      assert.ok(again.createRevision > deleted.modRevision);
      assert.equal(again.createRevision, again.modRevision);
      assert.equal(await s.get('/missing'), null);
    });

    it('guarded update and delete refuse stale revisions and carry the current KV', async () => {
      const s = await open();
      const v1 = await s.create('/g', 'one');
      const v2 = await s.update('/g', 'two', v1.modRevision);
      assert.deepEqual(v2, { key: '/g', value: 'two', createRevision: v1.createRevision, modRevision: v2.modRevision });
      const cases: Array<[string, () => Promise<unknown>]> = [
        ['stale update', () => s.update('/g', 'three', v1.modRevision)],
        ['stale delete', () => s.delete('/g', v1.modRevision)],
        ['update with revision 0', () => s.update('/g', 'x', 0)],
      ];
      for (const [name, op] of cases) {
        const err = await op().then(
          () => assert.fail(`${name} succeeded`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof RevisionMismatchError, name);
        assert.deepEqual(err.current, v2, `${name} carries the current KV`);
      }
      assert.deepEqual(await s.get('/g'), v2, 'nothing was written');
      await assert.rejects(s.update('/nope', 'x', 1), KeyNotFoundError);
      await assert.rejects(s.update('/nope', 'x', 0), KeyNotFoundError);
      await assert.rejects(s.delete('/nope', 1), KeyNotFoundError);
      const del = await s.delete('/g', v2.modRevision);
      assert.deepEqual(del, { key: '/g', value: 'two', createRevision: v1.createRevision, modRevision: v2.modRevision + 1 });
      assert.equal(await s.currentRevision(), del.modRevision);
      await assert.rejects(s.delete('/g'), KeyNotFoundError);
    });

    it('exactly one of many concurrent guarded updates wins', async () => {
      const s = await open();
      const base = await s.create('/race', '0');
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.update('/race', `v${i}`, base.modRevision)));
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof RevisionMismatchError);
      assert.equal(await s.currentRevision(), base.modRevision + 1);
    });

    it('lists a prefix in key order with limit/continuation and counts it', async () => {
      const s = await open();
      const keys = ['/p/a', '/p/b', '/p/c', '/p/d', '/p/e'];
      for (const k of [...keys].reverse()) await s.create(k, `val${k}`);
      await s.create('/pz', 'outside');
      await s.create('/o/x', 'outside');
      const all = await s.list('/p/');
      assert.deepEqual(all.items.map((kv) => kv.key), keys);
      assert.equal(all.more, false);
      assert.equal(all.revision, await s.currentRevision());
      assert.equal(await s.count('/p/'), 5);
      assert.equal(await s.count('/'), 7);
      assert.equal(await s.count('/q/'), 0);

      const table: Array<{ limit: number; pages: string[][]; remaining: number[] }> = [
        { limit: 2, pages: [['/p/a', '/p/b'], ['/p/c', '/p/d'], ['/p/e']], remaining: [3, 1, 0] },
        { limit: 5, pages: [keys], remaining: [0] },
        { limit: 3, pages: [['/p/a', '/p/b', '/p/c'], ['/p/d', '/p/e']], remaining: [2, 0] },
      ];
      for (const tc of table) {
        const pages: string[][] = [];
        const remaining: number[] = [];
        let startAfter: string | undefined;
        for (;;) {
          const page = await s.list('/p/', { limit: tc.limit, startAfter });
          pages.push(page.items.map((kv) => kv.key));
          remaining.push(page.remaining ?? -1);
          if (!page.more) break;
          startAfter = page.items[page.items.length - 1]!.key;
          assert.ok(pages.length < 10);
        }
        assert.deepEqual(pages, tc.pages, `limit ${tc.limit}`);
        assert.deepEqual(remaining, tc.remaining, `remaining, limit ${tc.limit}`);
      }
      assert.deepEqual((await s.list('/p/', { startAfter: '/p/e' })).items, []);
      assert.deepEqual((await s.list('/p/', { startAfter: '/a' })).items.length, 5, 'startAfter before the prefix');
    });

    it('lists at a past revision exactly as the store was then, with continuation', async () => {
      const s = await open();
      const a = await s.create('/h/a', 'a1');
      await s.create('/h/b', 'b1');
      const c = await s.create('/h/c', 'c1');
      const r1 = c.modRevision;
      await s.update('/h/a', 'a2', a.modRevision);
      await s.delete('/h/b');
      await s.create('/h/d', 'd1');
      const b2 = await s.create('/h/b', 'b2');
      await s.delete('/h/c');
      const r2 = await s.currentRevision();
      const view = (l: { items: KeyValue[] }): string[] => l.items.map((kv) => `${kv.key}=${kv.value}@${kv.createRevision}/${kv.modRevision}`);
      const cases: Array<{ rev: number; want: string[] }> = [
        { rev: a.modRevision, want: [`/h/a=a1@${a.modRevision}/${a.modRevision}`] },
        { rev: r1, want: [`/h/a=a1@${a.modRevision}/${a.modRevision}`, `/h/b=b1@${r1 - 1}/${r1 - 1}`, `/h/c=c1@${r1}/${r1}`] },
        { rev: r2, want: [`/h/a=a2@${a.modRevision}/${r1 + 1}`, `/h/b=b2@${b2.modRevision}/${b2.modRevision}`, `/h/d=d1@${r1 + 3}/${r1 + 3}`] },
      ];
      for (const tc of cases) {
        const l = await s.list('/h/', { revision: tc.rev });
        assert.equal(l.revision, tc.rev);
        assert.deepEqual(view(l), tc.want, `at ${tc.rev}`);
        // The same view page by page.
        const paged: string[] = [];
        let startAfter: string | undefined;
        for (;;) {
          const p = await s.list('/h/', { revision: tc.rev, limit: 1, startAfter });
          assert.equal(p.revision, tc.rev);
          paged.push(...view(p));
          // What remains after this page, counted as the store was at that revision.
          assert.equal(p.remaining, tc.want.length - paged.length, `remaining after ${paged.length} at ${tc.rev}`);
          if (!p.more) break;
          startAfter = p.items[0]!.key;
        }
        assert.deepEqual(paged, tc.want, `paged at ${tc.rev}`);
      }
      await assert.rejects(s.list('/h/', { revision: r2 + 100 }), FutureRevisionError);
    });

    it('watch from a past revision replays in order and then goes live without gaps or duplicates', async () => {
      const s = await open();
      const first = await s.create('/w/a', 'a1');
      await s.create('/w/b', 'b1');
      await s.create('/other', 'x');
      const a2 = await s.update('/w/a', 'a2', first.modRevision);
      const rec = new Recorder(s, '/w/', first.modRevision);
      const live = new Recorder(s, '/w/', await s.currentRevision());
      await s.delete('/w/b');
      await s.create('/w/c', 'c1');
      await s.update('/w/a', 'a3', a2.modRevision);
      await rec.waitEvents(4);
      await live.waitEvents(3);
      const base = first.modRevision;
      assert.deepEqual(summary(rec.events), [
        ['put', '/w/b', 'b1', base + 1],
        ['put', '/w/a', 'a2', base + 3],
        ['delete', '/w/b', 'b1', base + 4],
        ['put', '/w/c', 'c1', base + 5],
        ['put', '/w/a', 'a3', base + 6],
      ]);
      assert.deepEqual(summary(live.events), summary(rec.events).slice(2));
      const del = rec.events[2]!;
      assert.equal(del.kv.modRevision, base + 4, 'delete kv carries the delete revision');
      assert.deepEqual(del.prev, { key: '/w/b', value: 'b1', createRevision: base + 1, modRevision: base + 1 });
      assert.equal(rec.events[0]!.prev, undefined, 'a create has no prev');
      assert.deepEqual(rec.events[4]!.prev, a2);
      assert.equal(rec.errors.length, 0);
      rec.close();
      live.close();
      // No callbacks after close.
      const seen = rec.events.length;
      await s.create('/w/d', 'd1');
      const after = new Recorder(s, '/w/', base + 6);
      await after.waitEvents(1);
      assert.equal(rec.events.length, seen);
      after.close();
    });

    it('compaction: watches and lists before the compacted revision fail with CompactedError', async () => {
      const s = await open();
      const a = await s.create('/c/a', '1');
      const b = await s.update('/c/a', '2', a.modRevision);
      const c = await s.update('/c/a', '3', b.modRevision);
      await s.create('/c/z', 'z');
      await s.compact(b.modRevision);
      assert.equal(await s.compactedRevision(), b.modRevision);
      const tooOld = new Recorder(s, '/c/', a.modRevision);
      const err = await tooOld.waitError();
      assert.ok(err instanceof CompactedError, `got ${err.message}`);
      assert.equal(err.requested, a.modRevision);
      assert.equal(err.compacted, b.modRevision);
      await assert.rejects(s.list('/c/', { revision: a.modRevision }), CompactedError);
      const ok = new Recorder(s, '/c/', b.modRevision);
      await ok.waitEvents(2);
      assert.deepEqual(summary(ok.events), [
        ['put', '/c/a', '3', c.modRevision],
        ['put', '/c/z', 'z', c.modRevision + 1],
      ]);
      assert.deepEqual((await s.list('/c/', { revision: c.modRevision })).items.map((kv) => kv.value), ['3']);
      ok.close();
      await s.compact(a.modRevision); // older than the compacted revision: a no-op
      assert.equal(await s.compactedRevision(), b.modRevision);
      await assert.rejects(s.compact((await s.currentRevision()) + 10), FutureRevisionError);
    });

    it('acknowledges 500 parallel creates with distinct, gap-free revisions', async () => {
      const s = await open();
      const before = await s.currentRevision();
      const rec = new Recorder(s, '/many/', before);
      const kvs = await Promise.all(Array.from({ length: 500 }, (_, i) => s.create(`/many/${String(i).padStart(3, '0')}`, `v${i}`)));
      const revs = kvs.map((kv) => kv.modRevision).sort((x, y) => x - y);
      assert.equal(new Set(revs).size, 500);
      assert.equal(revs[0], before + 1);
      assert.equal(revs[499], before + 500);
      assert.equal(await s.currentRevision(), before + 500);
      assert.equal(await s.count('/many/'), 500);
      await rec.waitEvents(500);
      assert.deepEqual(rec.events.map((e) => e.revision), revs, 'watch sees every write once, in order');
      rec.close();
    });

    it('drops a watcher that stops consuming with WatcherTooSlowError; writers and other watchers carry on', async () => {
      const s = await open({ maxWatcherBuffer: 50 });
      const from = await s.currentRevision();
      let calls = 0;
      let slowErr: Error | null = null;
      const slow = s.watch('/slow/', from, {
        onEvents: () => {
          calls++;
          return new Promise<void>(() => {
            // never resolves: this consumer is stuck
          });
        },
        onError: (e) => {
          slowErr = e;
        },
      });
      const fast = new Recorder(s, '/slow/', from);
      // One event first, so the stuck consumer has surely been called once before the flood (etcd may otherwise
      // deliver the whole flood in one watch response, which is dropped before any call).
      await s.create('/slow/first', 'x');
      await waitUntil('first delivery', () => calls === 1);
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => s.create(`/slow/${batch}-${i}`, 'x')));
      }
      await waitUntil('slow watcher dropped', () => slowErr !== null);
      assert.ok(slowErr! instanceof WatcherTooSlowError);
      assert.equal(calls, 1, 'no delivery while the consumer was paused');
      await fast.waitEvents(201);
      assert.equal(fast.events.length, 201);
      assert.equal(fast.errors.length, 0);
      slow.close(); // idempotent after the drop
      fast.close();
    });

    it('a watcher that resumes consuming in time gets everything', async () => {
      const s = await open({ maxWatcherBuffer: 1_000 });
      const from = await s.currentRevision();
      const got: number[] = [];
      let release: (() => void) | null = null;
      const w = s.watch('/bp/', from, {
        onEvents: (evs) => {
          got.push(...evs.map((e) => e.revision));
          return new Promise<void>((r) => {
            release = r;
          });
        },
        onError: (e) => assert.fail(e),
      });
      await Promise.all(Array.from({ length: 100 }, (_, i) => s.create(`/bp/${i}`, 'x')));
      while (got.length < 100) {
        await waitUntil('a delivery', () => release !== null);
        const r = release!;
        release = null;
        r();
      }
      assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => from + 1 + i));
      w.close();
    });

    it('refuses use after close', async () => {
      const s = await driver.open();
      await s.create('/x', 'y');
      const rec = new Recorder(s, '/', await s.currentRevision());
      await s.close();
      await s.close(); // idempotent
      await assert.rejects(s.get('/x'));
      await assert.rejects(s.create('/y', 'z'));
      assert.throws(() => s.watch('/', 0, { onEvents: () => undefined, onError: () => undefined }));
      await rec.waitError();
    });
  });
}
