// SQLite-driver tests beyond the shared contract: durability across restart and kill -9, automatic
// compaction, the exclusive file lock, and the key-range helper.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CompactedError, type WatchEvent } from './interface.js';
import { prefixEnd, SqliteStore } from './sqlite.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'k8ts-sqlite-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
let seq = 0;
const dbPath = (): string => join(dir, `t${seq++}.db`);

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('sqlite store', () => {
  it('restart keeps data, the revision counter, the compacted revision and the watch history', async () => {
    const path = dbPath();
    const s1 = new SqliteStore(path, { compactIntervalMs: 0 });
    const a = await s1.create('/r/a', 'a1');
    const a2 = await s1.update('/r/a', 'a2', a.modRevision);
    await s1.create('/r/b', 'b1');
    await s1.delete('/r/b');
    await s1.compact(a.modRevision);
    const rev = await s1.currentRevision();
    await s1.close();

    const s2 = new SqliteStore(path, { compactIntervalMs: 0 });
    try {
      assert.equal(await s2.currentRevision(), rev);
      assert.equal(await s2.compactedRevision(), a.modRevision);
      assert.deepEqual(await s2.get('/r/a'), a2);
      assert.equal(await s2.get('/r/b'), null);
      const c = await s2.create('/r/c', 'c1');
      assert.equal(c.modRevision, rev + 1, 'continues from the persisted revision');
      const events: WatchEvent[] = [];
      s2.watch('/r/', a.modRevision, { onEvents: (e) => void events.push(...e), onError: (e) => assert.fail(e) });
      await waitUntil('replay', () => events.length >= 4);
      assert.deepEqual(events.map((e) => [e.type, e.kv.key, e.revision]), [
        ['put', '/r/a', a2.modRevision],
        ['put', '/r/b', a2.modRevision + 1],
        ['delete', '/r/b', a2.modRevision + 2],
        ['put', '/r/c', rev + 1],
      ]);
      assert.throws(() => s2.watch('/r/', a.modRevision - 1, { onEvents: () => undefined, onError: () => undefined }), CompactedError);
      const past = await s2.list('/r/', { revision: a2.modRevision + 1 });
      assert.deepEqual(past.items.map((kv) => `${kv.key}=${kv.value}`), ['/r/a=a2', '/r/b=b1']);
    } finally {
      await s2.close();
    }
  });

  it('every acknowledged write survives kill -9 of the writing process, and revisions stay gap-free', async () => {
    const path = dbPath();
    const script = fileURLToPath(new URL('./testing/crash-writer.js', import.meta.url));
    const child = spawn(process.execPath, [script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Kill mid-stream: after plenty of acknowledgements, while the 16 writers are still going.
    await waitUntil('child acknowledgements', () => out.split('\n').length > 3_000 || child.exitCode !== null, 20_000);
    assert.equal(child.exitCode, null, `writer exited on its own: ${err}`);
    child.kill('SIGKILL');
    await exited;
    const lines = out.split('\n');
    lines.pop(); // a possibly partial last line
    const acked = lines.map((l) => {
      const [key, rev] = l.split(' ');
      return { key: key!, rev: Number(rev) };
    });
    assert.ok(acked.length > 3_000);

    const s = new SqliteStore(path, { compactIntervalMs: 0 });
    try {
      for (const { key, rev } of acked) {
        const kv = await s.get(key);
        assert.ok(kv !== null, `acknowledged ${key} lost`);
        assert.equal(kv.modRevision, rev);
      }
      const cur = await s.currentRevision();
      assert.ok(cur >= Math.max(...acked.map((a) => a.rev)));
      // Every committed revision is one create: revisions 1..cur all exist, none twice.
      const all = await s.list('/crash/');
      assert.equal(all.items.length, cur);
      assert.deepEqual(new Set(all.items.map((kv) => kv.modRevision)).size, cur);
      const next = await s.create('/after', 'x');
      assert.equal(next.modRevision, cur + 1);
    } finally {
      await s.close();
    }
  });

  it('compacts automatically to the revision bound', async () => {
    const s = new SqliteStore(dbPath(), { compactIntervalMs: 10, retentionRevisions: 20, retentionMs: 3_600_000 });
    try {
      for (let i = 0; i < 100; i++) await s.create(`/auto/${i}`, 'x');
      await waitUntil('compaction', async () => (await s.compactedRevision()) >= 80);
      assert.equal(await s.compactedRevision(), 80);
      assert.throws(() => s.watch('/auto/', 10, { onEvents: () => undefined, onError: () => undefined }), CompactedError);
      await assert.rejects(s.list('/auto/', { revision: 50 }), CompactedError);
      assert.equal(await s.count('/auto/'), 100, 'compaction never touches live keys');
      assert.equal((await s.list('/auto/', { revision: 90 })).items.length, 90);
    } finally {
      await s.close();
    }
  });

  it('compacts automatically to the time bound when it keeps less', async () => {
    const s = new SqliteStore(dbPath(), { compactIntervalMs: 10, retentionRevisions: 1_000_000, retentionMs: 100 });
    try {
      for (let i = 0; i < 10; i++) await s.create(`/time/${i}`, 'x');
      await waitUntil('time-based compaction', async () => (await s.compactedRevision()) >= 10);
      assert.equal(await s.compactedRevision(), 10);
      await s.create('/time/late', 'x');
      // The newest write is younger than the window and stays watchable.
      const events: WatchEvent[] = [];
      s.watch('/time/', 10, { onEvents: (e) => void events.push(...e), onError: (e) => assert.fail(e) });
      await waitUntil('event', () => events.length === 1);
    } finally {
      await s.close();
    }
  });

  it('physically removes compacted history from the log and keeps the metadata row', async () => {
    const path = dbPath();
    const s = new SqliteStore(path, { compactIntervalMs: 0 });
    let k = await s.create('/p/k', '0');
    for (let i = 1; i <= 50; i++) k = await s.update('/p/k', String(i), k.modRevision);
    await s.compact(40);
    await s.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM log WHERE rev <= 40').pluck().get(), 0);
      assert.equal(db.prepare('SELECT count(*) FROM log').pluck().get(), 11);
      const meta = Object.fromEntries((db.prepare('SELECT name, value FROM meta').all() as Array<{ name: string; value: number }>).map((r) => [r.name, r.value]));
      assert.equal(meta.compacted, 40);
      assert.equal(meta.revision, 51);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('refuses a second opener of the same file (revisions are allocated in one process)', async () => {
    const path = dbPath();
    const s = new SqliteStore(path, { compactIntervalMs: 0 });
    try {
      await s.create('/x', 'y');
      assert.throws(() => new SqliteStore(path, { compactIntervalMs: 0 }), /locked|busy/i);
    } finally {
      await s.close();
    }
  });

  it('rejects non-string values without consuming a revision; writes in one batch see each other', async () => {
    const s = new SqliteStore(dbPath(), { compactIntervalMs: 0 });
    try {
      await assert.rejects(s.create('/x', 42 as unknown as string), TypeError);
      // Same turn: one batch. The second create of /dup sees the first; the update sees the create.
      const results = await Promise.allSettled([
        s.create('/dup', '1'),
        s.create('/dup', '2'),
        s.update('/dup', '3', 1),
        s.delete('/dup', 2),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      assert.equal(await s.currentRevision(), 3);
      assert.equal(await s.get('/dup'), null);
    } finally {
      await s.close();
    }
  });

  it('computes the key range of a prefix in SQLite byte order', () => {
    const table: Array<[string, string | null]> = [
      ['', null],
      ['/registry/pods/', '/registry/pods0'],
      ['a', 'b'],
      ['a\u{ffff}', 'a\u{10000}'],
      ['a\u{10ffff}', 'b'],
      ['\u{d7ff}', '\u{e000}'],
    ];
    for (const [p, want] of table) assert.equal(prefixEnd(p), want, JSON.stringify(p));
  });
});
