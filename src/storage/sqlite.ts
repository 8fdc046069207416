// SQLite driver of the storage seam (the default, `sqlite://PATH`): current state in `kv`, a bounded change
// log in `log`, one global revision allocated in-process, group commit, and in-process watch fan-out.
//
// Design (and the reasons):
// - `kv(key PRIMARY KEY, value, create_rev, mod_rev)` holds only live keys, so get/list/count never touch the
//   history (kine keeps everything in one log table and pays for it on every list). It is a rowid table with
//   the key index: WITHOUT ROWID measured 2x slower for 1 KB values (rows spill to overflow pages).
// - `log(rev PRIMARY KEY, key, type, value, create_rev, prev_rev, prev_value)` has one row per write. Rows are
//   self-contained (an update carries the value it replaced, a delete the deleted value) so that compaction
//   is a plain range delete `rev <= C` and both watch replay and list-at-a-past-revision work for any
//   revision >= C without joins into compacted history.
// - `meta(name, value)`: schema version, last committed revision, compacted revision.
// - Revisions are allocated in this process: the driver takes an EXCLUSIVE lock on the database file so no
//   second process can open it and allocate revisions behind our back.
// - Group commit: writes queued during one event-loop turn run in one transaction from setImmediate; each
//   caller's promise resolves after COMMIT returns. Validation failures (exists, mismatch, not found) are
//   decided inside the transaction, in queue order, and never consume a revision, so revisions stay gap-free.
//   An unexpected SQLite error rolls the whole batch back, rewinds the revision counter and rejects it all.
// - Durability: an acknowledged write survives kill -9 *and* power loss. SQLite's own synchronous=FULL would
//   fsync the WAL inside COMMIT, and better-sqlite3 is synchronous, so the event loop would stand still for every
//   fsync (~20% of an API create's CPU time at concurrency 64). Instead the default ('FULL') commits with
//   synchronous=NORMAL (WAL frames written, not yet synced) and then fsyncs the WAL file on libuv's thread pool;
//   a batch's callers are answered, and its watch events dispatched, only after an fsync that started after its
//   COMMIT has finished. fsyncs group naturally: one in flight, the next covers every batch committed meanwhile.
//   In-process reads may see a committed batch during its fsync (before it is acknowledged); only a power loss
//   in that window could undo such a read. 'FULL-INLINE' keeps SQLite's in-COMMIT fsync; 'NORMAL' never syncs
//   (survives kill -9, may lose the last commits on power loss: throwaway clusters). Raw figures of the inline
//   variant (bench/store-raw.ts, 1 KB creates, 2 shared cores): 1.4-4.4k/s at concurrency 1, 25-27k/s at 16,
//   39-49k/s at 64; NORMAL 14-20k/s, 44-45k/s, 54-55k/s.
// - Watchers are fed from the commit path in memory (no polling); delivery is asynchronous per watcher with
//   a bounded buffer (see watchqueue.ts). A watch from a past revision replays the log and registers the
//   live watcher in the same synchronous step, so no commit can slip between replay and live delivery.
// - Compaction runs on an unref'd timer: it keeps the last `retentionMs` (default 5 min) but at most
//   `retentionRevisions` (default 10,000) revisions, i.e. it compacts to whichever of the two bounds keeps
//   less, because a busy cluster must not grow an unbounded log and an idle one needs no old history.
//   Between ticks the log may exceed the revision bound by what was written in one interval.

import { closeSync, fsync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  StorageError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type WatchCallbacks,
  type WatchEvent,
  type Watcher,
} from './interface.js';
import { DEFAULT_MAX_WATCHER_BUFFER, dispatch, WatchQueue } from './watchqueue.js';

export interface SqliteOptions {
  /** Durability mode (see the header comment): FULL (default: fsync of the WAL off the event loop before each
   *  acknowledgement), FULL-INLINE (SQLite's synchronous=FULL), NORMAL (no fsync). */
  synchronous?: 'FULL' | 'FULL-INLINE' | 'NORMAL';
  /** Keep history at least this long before automatic compaction may drop it... (default 300,000 ms). */
  retentionMs?: number;
  /** ...but never more than this many revisions (default 10,000). */
  retentionRevisions?: number;
  /** Automatic compaction period; 0 disables it (default 10,000 ms). */
  compactIntervalMs?: number;
  /** Undelivered events after which a watcher is closed with WatcherTooSlowError (default 10,000). */
  maxWatcherBuffer?: number;
  /** Most writes committed in one transaction (default 1,000); the rest go in the next turn. */
  maxBatch?: number;
}

const SCHEMA_VERSION = 1;
const PURGE_CHUNK = 5_000;
const T_PUT = 0;
const T_DELETE = 1;

const enum OpKind {
  Create,
  Update,
  Delete,
}

interface Op {
  kind: OpKind;
  key: string;
  value: string;
  /** Expected modRevision for update/delete; -1 = unguarded delete. */
  expected: number;
  resolve: (kv: KeyValue) => void;
  reject: (err: Error) => void;
}

interface LogRow {
  rev: number;
  key: string;
  type: number;
  value: string;
  create_rev: number;
  prev_rev: number | null;
  prev_value: string | null;
}

/**
 * Smallest string greater than every string that starts with `prefix` (in UTF-8 byte order, which SQLite's
 * BINARY collation uses), or null when there is none (empty prefix).
 */
export function prefixEnd(prefix: string): string | null {
  let p = prefix;
  while (p.length > 0) {
    const cp = p.codePointAt(p.length - 1 - (isLowSurrogate(p.charCodeAt(p.length - 1)) ? 1 : 0))!;
    const width = cp > 0xffff ? 2 : 1;
    const base = p.slice(0, p.length - width);
    if (cp < 0x10ffff) {
      let next = cp + 1;
      if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
      return base + String.fromCodePoint(next);
    }
    p = base;
  }
  return null;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function rowToEvent(r: LogRow): WatchEvent {
  const kv: KeyValue = { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.rev };
  if (r.type === T_DELETE) {
    return {
      type: 'delete',
      kv,
      prev: { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.prev_rev ?? 0 },
      revision: r.rev,
    };
  }
  if (r.prev_rev === null) return { type: 'put', kv, revision: r.rev };
  return {
    type: 'put',
    kv,
    prev: { key: r.key, value: r.prev_value ?? '', createRevision: r.create_rev, modRevision: r.prev_rev },
    revision: r.rev,
  };
}

const KV_COLS = 'key, value, create_rev AS createRevision, mod_rev AS modRevision';

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private rev: number;
  private compacted: number;
  private closed = false;

  private queue: Op[] = [];
  private flushScheduled = false;
  /** WAL file descriptor for off-loop fsync (synchronous FULL), or null. */
  private walFd: number | null = null;
  /** Committed batches waiting for an fsync that started after their COMMIT. */
  private undurable: Array<(err?: Error) => void> = [];
  private syncing: Promise<void> | null = null;
  private readonly maxBatch: number;

  private readonly watchers = new Set<WatchQueue>();
  private readonly maxWatcherBuffer: number;

  private readonly retentionMs: number;
  private readonly retentionRevisions: number;
  private readonly timer: NodeJS.Timeout | null;
  /** (time, revision) samples taken at each compaction tick, oldest first, to find the revision as of T-5min. */
  private readonly samples: Array<[number, number]> = [];
  private purging: Promise<void> | null = null;

  private readonly stBegin: Database.Statement;
  private readonly stCommit: Database.Statement;
  private readonly stRollback: Database.Statement;
  private readonly stGet: Database.Statement;
  private readonly stInsertKv: Database.Statement;
  private readonly stUpdateKv: Database.Statement;
  private readonly stDeleteKv: Database.Statement;
  private readonly stInsertLog: Database.Statement;
  private readonly stSetMeta: Database.Statement;
  private readonly stMinLog: Database.Statement;
  private readonly stPurge: Database.Statement;
  /** Lazily prepared statement variants (list/count/replay by bound shape). */
  private readonly variants = new Map<string, Database.Statement>();

  constructor(readonly path: string, opts: SqliteOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.maxBatch = opts.maxBatch ?? 1_000;
    this.maxWatcherBuffer = opts.maxWatcherBuffer ?? DEFAULT_MAX_WATCHER_BUFFER;
    this.retentionMs = opts.retentionMs ?? 300_000;
    this.retentionRevisions = opts.retentionRevisions ?? 10_000;

    // A short busy timeout: a live owner holds the EXCLUSIVE lock for good, waiting only covers its shutdown.
    const db = new Database(path, { timeout: 500 });
    this.db = db;
    try {
      // EXCLUSIVE: revisions are allocated in this process, so no other process may write this file.
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (path !== ':memory:' && String(mode).toLowerCase() !== 'wal') {
        throw new StorageError(`sqlite: cannot enable WAL on ${path} (journal_mode=${String(mode)})`);
      }
      const sync = opts.synchronous ?? 'FULL';
      db.pragma(`synchronous = ${sync === 'FULL-INLINE' ? 'FULL' : 'NORMAL'}`);
      db.pragma('cache_size = -32768');
      db.pragma('journal_size_limit = 67108864');
      db.exec(`
        BEGIN IMMEDIATE;
        CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS kv (
          key TEXT PRIMARY KEY, value TEXT NOT NULL, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS log (
          rev INTEGER PRIMARY KEY, key TEXT NOT NULL, type INTEGER NOT NULL, value TEXT NOT NULL,
          create_rev INTEGER NOT NULL, prev_rev INTEGER, prev_value TEXT);
        INSERT INTO meta(name, value) VALUES ('schema', ${SCHEMA_VERSION}) ON CONFLICT(name) DO NOTHING;
        COMMIT;`);
      const schema = db.prepare(`SELECT value FROM meta WHERE name = 'schema'`).pluck().get() as number;
      if (schema !== SCHEMA_VERSION) throw new StorageError(`sqlite: unsupported schema version ${schema} in ${path}`);
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new StorageError(`sqlite: ${path} is locked by another store (another server on the same data dir?)`);
      }
      throw err;
    }

    // Off-loop durability: fsync the WAL file (created by the first transaction above) from the thread pool.
    if ((opts.synchronous ?? 'FULL') === 'FULL' && path !== ':memory:') this.walFd = openSync(`${path}-wal`, 'a');

    const meta = (name: string): number =>
      (db.prepare(`SELECT value FROM meta WHERE name = ?`).pluck().get(name) as number | undefined) ?? 0;
    this.compacted = meta('compacted');
    const maxLog = (db.prepare(`SELECT max(rev) FROM log`).pluck().get() as number | null) ?? 0;
    this.rev = Math.max(meta('revision'), maxLog, this.compacted);

    this.stBegin = db.prepare('BEGIN');
    this.stCommit = db.prepare('COMMIT');
    this.stRollback = db.prepare('ROLLBACK');
    this.stGet = db.prepare(`SELECT ${KV_COLS} FROM kv WHERE key = ?`);
    this.stInsertKv = db.prepare(
      `INSERT INTO kv(key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING`,
    );
    this.stUpdateKv = db.prepare(`UPDATE kv SET value = ?, mod_rev = ? WHERE key = ?`);
    this.stDeleteKv = db.prepare(`DELETE FROM kv WHERE key = ?`);
    this.stInsertLog = db.prepare(
      `INSERT INTO log(rev, key, type, value, create_rev, prev_rev, prev_value) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.stSetMeta = db.prepare(`INSERT INTO meta(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`);
    this.stMinLog = db.prepare(`SELECT min(rev) FROM log`).pluck();
    this.stPurge = db.prepare(`DELETE FROM log WHERE rev <= ?`);

    const interval = opts.compactIntervalMs ?? 10_000;
    this.samples.push([Date.now(), this.rev]);
    if (interval > 0) {
      this.timer = setInterval(() => this.autoCompact(), interval);
      this.timer.unref();
    } else {
      this.timer = null;
    }
    // Finish a purge that a crash interrupted (rows at or below the persisted compacted revision).
    if (maxLog > 0 && ((this.stMinLog.get() as number | null) ?? Infinity) <= this.compacted) this.startPurge();
  }

  // ---- reads ---------------------------------------------------------------------------------------------

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.rev;
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return this.compacted;
  }

  async get(key: string): Promise<KeyValue | null> {
    this.checkOpen();
    return (this.stGet.get(key) as KeyValue | undefined) ?? null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const requested = opts.revision ?? 0;
    if (requested > this.rev) throw new FutureRevisionError(requested, this.rev);
    if (requested > 0 && requested < this.compacted) throw new CompactedError(requested, this.compacted);
    const atRev = requested > 0 ? requested : this.rev;
    const hi = prefixEnd(prefix);
    let lo = prefix;
    let exclusive = false;
    if (opts.startAfter !== undefined && opts.startAfter >= prefix) {
      lo = opts.startAfter;
      exclusive = true;
    }
    const limit = opts.limit !== undefined && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    const past = atRev < this.rev;
    const params: Record<string, string | number> = { lo, lim: limit > 0 ? limit + 1 : -1 };
    if (hi !== null) params.hi = hi;
    if (past) params.r = atRev;
    const stmt = this.variant(past ? 'listPast' : 'list', exclusive, hi !== null);
    const items = stmt.all(params) as KeyValue[];
    const more = limit > 0 && items.length > limit;
    if (more) items.length = limit;
    let remaining: number | undefined;
    if (!more) remaining = 0;
    else {
      const p: Record<string, string | number> = { lo: items[items.length - 1]!.key };
      if (hi !== null) p.hi = hi;
      if (past) p.r = atRev;
      remaining = this.variant(past ? 'countPast' : 'count', true, hi !== null).pluck().get(p) as number;
    }
    return { items, revision: atRev, more, remaining };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    const hi = prefixEnd(prefix);
    const p: Record<string, string> = { lo: prefix };
    if (hi !== null) p.hi = hi;
    return this.variant('count', false, hi !== null).pluck().get(p) as number;
  }

  // ---- writes (group commit) ------------------------------------------------------------------------------

  create(key: string, value: string): Promise<KeyValue> {
    return this.enqueue(OpKind.Create, key, value, 0);
  }

  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return this.enqueue(OpKind.Update, key, value, expectedModRevision);
  }

  delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.enqueue(OpKind.Delete, key, '', expectedModRevision ?? -1);
  }

  private enqueue(kind: OpKind, key: string, value: string, expected: number): Promise<KeyValue> {
    if (this.closed) return Promise.reject(new StorageError('store is closed'));
    if (typeof key !== 'string' || typeof value !== 'string') {
      return Promise.reject(new TypeError('storage keys and values must be strings'));
    }
    return new Promise<KeyValue>((resolve, reject) => {
      this.queue.push({ kind, key, value, expected, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.queue.length === 0) return;
    let ops = this.queue;
    if (ops.length > this.maxBatch) {
      this.queue = ops.slice(this.maxBatch);
      ops = ops.slice(0, this.maxBatch);
      this.flushScheduled = true;
      setImmediate(this.flush);
    } else {
      this.queue = [];
    }
    if (this.closed) {
      for (const op of ops) op.reject(new StorageError('store is closed'));
      return;
    }
    this.commitBatch(ops);
  };

  private commitBatch(ops: Op[]): void {
    const startRev = this.rev;
    const results: Array<KeyValue | Error> = new Array(ops.length);
    const events: WatchEvent[] | null = this.watchers.size > 0 ? [] : null;
    try {
      this.stBegin.run();
      for (let i = 0; i < ops.length; i++) results[i] = this.apply(ops[i]!, events);
      if (this.rev !== startRev) this.stSetMeta.run('revision', this.rev);
      this.stCommit.run();
    } catch (err) {
      if (this.db.inTransaction) {
        try {
          this.stRollback.run();
        } catch {
          // the connection rolled back on its own
        }
      }
      this.rev = startRev;
      const e = err instanceof Error ? err : new StorageError(String(err));
      for (const op of ops) op.reject(e);
      return;
    }
    const settle = (syncErr?: Error): void => {
      for (let i = 0; i < ops.length; i++) {
        const r = results[i]!;
        if (syncErr !== undefined && !(r instanceof Error)) ops[i]!.reject(syncErr);
        else if (r instanceof Error) ops[i]!.reject(r);
        else ops[i]!.resolve(r);
      }
      if (syncErr === undefined && events !== null && events.length > 0) this.dispatch(events);
    };
    if (this.walFd === null || this.rev === startRev) settle();
    else this.afterSync(settle);
  }

  /**
   * Runs `settle` once an fsync of the WAL that started after this point has finished (group fsync: at most one
   * in flight; the next one covers every batch committed while it ran). Settles run in commit order.
   */
  private afterSync(settle: (err?: Error) => void): void {
    this.undurable.push(settle);
    if (this.syncing === null) this.syncing = this.syncLoop();
  }

  private async syncLoop(): Promise<void> {
    while (this.undurable.length > 0) {
      const batch = this.undurable;
      this.undurable = [];
      const err = await new Promise<Error | undefined>((res) => fsync(this.walFd!, (e) => res(e ? new StorageError(`sqlite: fsync of the WAL failed: ${e.message}`) : undefined)));
      for (const settle of batch) settle(err);
    }
    this.syncing = null;
  }

  /** Apply one write inside the open transaction. Returns the result or the (expected) error; throws on SQLite errors. */
  private apply(op: Op, events: WatchEvent[] | null): KeyValue | Error {
    const key = op.key;
    if (op.kind === OpKind.Create) {
      const rev = this.rev + 1;
      if (this.stInsertKv.run(key, op.value, rev, rev).changes === 0) return new KeyExistsError(key);
      this.stInsertLog.run(rev, key, T_PUT, op.value, rev, null, null);
      this.rev = rev;
      const kv: KeyValue = { key, value: op.value, createRevision: rev, modRevision: rev };
      if (events !== null) events.push({ type: 'put', kv, revision: rev });
      return kv;
    }
    const cur = this.stGet.get(key) as KeyValue | undefined;
    if (cur === undefined) return new KeyNotFoundError(key);
    if (op.expected >= 0 && cur.modRevision !== op.expected) return new RevisionMismatchError(key, cur);
    const rev = this.rev + 1;
    if (op.kind === OpKind.Update) {
      this.stUpdateKv.run(op.value, rev, key);
      this.stInsertLog.run(rev, key, T_PUT, op.value, cur.createRevision, cur.modRevision, cur.value);
      this.rev = rev;
      const kv: KeyValue = { key, value: op.value, createRevision: cur.createRevision, modRevision: rev };
      if (events !== null) events.push({ type: 'put', kv, prev: cur, revision: rev });
      return kv;
    }
    this.stDeleteKv.run(key);
    this.stInsertLog.run(rev, key, T_DELETE, cur.value, cur.createRevision, cur.modRevision, null);
    this.rev = rev;
    const kv: KeyValue = { key, value: cur.value, createRevision: cur.createRevision, modRevision: rev };
    if (events !== null) events.push({ type: 'delete', kv, prev: cur, revision: rev });
    return kv;
  }

  // ---- watch ----------------------------------------------------------------------------------------------

  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher {
    this.checkOpen();
    const from = Math.max(0, Math.floor(fromRevision));
    if (from < this.compacted) throw new CompactedError(from, this.compacted);
    const q = new WatchQueue(prefix, from, cb, this.maxWatcherBuffer, (w) => this.watchers.delete(w));
    if (from < this.rev) {
      // Synchronous replay + registration: no commit can run in between, so no gap and no duplicate.
      const hi = prefixEnd(prefix);
      const p: Record<string, string | number> = { from, lo: prefix };
      if (hi !== null) p.hi = hi;
      const rows = this.variant('replay', false, hi !== null).all(p) as LogRow[];
      const events = new Array<WatchEvent>(rows.length);
      for (let i = 0; i < rows.length; i++) events[i] = rowToEvent(rows[i]!);
      q.preload(events);
    }
    this.watchers.add(q);
    return q;
  }

  private dispatch(events: WatchEvent[]): void {
    dispatch(this.watchers, events);
  }

  // ---- compaction -----------------------------------------------------------------------------------------

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    if (revision > this.compacted) {
      // Logical compaction first (persisted before any row goes), physical deletion in chunks after.
      this.stSetMeta.run('compacted', revision);
      this.compacted = revision;
      this.startPurge();
    }
    if (this.purging !== null) await this.purging;
  }

  private autoCompact(): void {
    if (this.closed) return;
    const now = Date.now();
    this.samples.push([now, this.rev]);
    const cutoff = now - this.retentionMs;
    let drop = 0;
    while (drop + 1 < this.samples.length && this.samples[drop + 1]![0] <= cutoff) drop++;
    if (drop > 0) this.samples.splice(0, drop);
    const byTime = this.samples[0]![0] <= cutoff ? this.samples[0]![1] : 0;
    const byCount = this.rev - this.retentionRevisions;
    const target = Math.min(this.rev, Math.max(byTime, byCount));
    if (target > this.compacted) {
      this.compact(target).catch(() => {
        // The next tick retries; a failing disk shows up on the write path anyway.
      });
    }
  }

  private startPurge(): void {
    if (this.purging !== null) return;
    this.purging = new Promise<void>((resolve) => {
      const step = (): void => {
        if (this.closed) {
          this.purging = null;
          resolve();
          return;
        }
        const min = this.stMinLog.get() as number | null;
        if (min === null || min > this.compacted) {
          this.purging = null;
          resolve();
          return;
        }
        try {
          this.stPurge.run(Math.min(this.compacted, min + PURGE_CHUNK - 1));
        } catch {
          this.purging = null;
          resolve();
          return;
        }
        setImmediate(step);
      };
      setImmediate(step);
    });
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    // Commit what callers already queued, then refuse everything else.
    while (this.queue.length > 0) {
      const ops = this.queue.splice(0, this.maxBatch);
      this.commitBatch(ops);
    }
    // Acknowledge what is committed before the WAL goes away.
    while (this.syncing !== null) await this.syncing;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const q of [...this.watchers]) q.fail(new StorageError('store closed'));
    this.watchers.clear();
    this.db.close();
    if (this.walFd !== null) closeSync(this.walFd);
    this.walFd = null;
  }

  /** Number of watchers currently registered (for tests and metrics). */
  get watcherCount(): number {
    return this.watchers.size;
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('store is closed');
  }

  /**
   * Prepared statements by shape: exclusive lower bound (continuation) or not, upper bound (non-empty prefix)
   * or not. Separate statements keep the key-range constraints visible to SQLite's planner.
   */
  private variant(kind: 'list' | 'listPast' | 'count' | 'countPast' | 'replay', exclusive: boolean, bounded: boolean): Database.Statement {
    const name = `${kind}:${exclusive ? 1 : 0}:${bounded ? 1 : 0}`;
    let st = this.variants.get(name);
    if (st !== undefined) return st;
    const range = (col: string): string => `${col} ${exclusive ? '>' : '>='} @lo${bounded ? ` AND ${col} < @hi` : ''}`;
    let sql: string;
    switch (kind) {
      case 'list':
        sql = `SELECT ${KV_COLS} FROM kv WHERE ${range('key')} ORDER BY key LIMIT @lim`;
        break;
      case 'count':
        sql = `SELECT count(*) FROM kv WHERE ${range('key')}`;
        break;
      case 'countPast':
        // Keys alive at @r, counted the way listPast reads them (bounded by the history after @r).
        sql = `SELECT (SELECT count(*) FROM kv WHERE ${range('key')} AND mod_rev <= @r)
                    + (SELECT count(*) FROM (SELECT min(rev) AS first FROM log WHERE rev > @r AND ${range('key')} GROUP BY key) f
                         JOIN log l ON l.rev = f.first WHERE l.prev_rev IS NOT NULL)`;
        break;
      case 'replay':
        sql = `SELECT rev, key, type, value, create_rev, prev_rev, prev_value FROM log
               WHERE rev > @from AND ${range('key')} ORDER BY rev`;
        break;
      case 'listPast':
        // State at @r = keys unchanged since @r (straight from kv) + for keys changed after @r, the value
        // the earliest later log row replaced (prev_value for an update, value for a delete; a create
        // means the key did not exist at @r). Written as a top-level compound so SQLite merges the two
        // key-ordered streams and stops at the limit (a subquery made it sort the whole range per page).
        sql = `SELECT ${KV_COLS} FROM kv WHERE ${range('key')} AND mod_rev <= @r
               UNION ALL
               SELECT l.key AS key, CASE WHEN l.type = ${T_DELETE} THEN l.value ELSE l.prev_value END AS value,
                      l.create_rev AS createRevision, l.prev_rev AS modRevision
                 FROM (SELECT min(rev) AS first FROM log WHERE rev > @r AND ${range('key')} GROUP BY key) f
                 JOIN log l ON l.rev = f.first
                WHERE l.prev_rev IS NOT NULL
               ORDER BY key LIMIT @lim`;
        break;
    }
    st = this.db.prepare(sql);
    this.variants.set(name, st);
    return st;
  }
}

/** Open (creating if needed) a SQLite store at `path`. */
export function openSqliteStore(path: string, opts?: SqliteOptions): SqliteStore {
  return new SqliteStore(path, opts);
}
