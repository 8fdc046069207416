// etcd driver of the storage seam (`etcd://host:port[,host:port…]`): etcd's own revisions, guarded writes as
// single transactions, shared watch streams with prev_kv, every key under an optional prefix.
//
// Semantics mapped onto etcd:
// - create = txn(createRevision == 0 → put); update = txn(modRevision == expected ∧ exists → put, prev_kv;
//   else range) so a conflict returns the current KV in the same round trip; delete likewise.
// - list: range [prefix+startAfter+"\0", end(prefix)) with limit and revision; `remaining` from the range count.
// - watch (the role of upstream's watch cache): watches share one gRPC watch stream per root prefix (one per
//   resource), start_revision = from+1 of the watch that opened it, prev_kv; each event is decoded once and
//   handed to every watch under its prefix. The stream keeps a window of its recent events, so a later watch
//   from a recent revision joins it (replay from the window, then live); a watch from before the window gets a
//   stream of its own (etcd replays its history or refuses it as compacted: the interface's semantics either
//   way). A stream that breaks is resumed from the last revision seen (no gap, no duplicate) for up to
//   `watchRetryMs`, then its watches fail.
// - compaction: the interface's compact(C) drops events <= C; etcd's compact(X) keeps the state at X and
//   events >= X, so we ask etcd for X = C+1 (X = C when C is the current revision, the most etcd allows).
//   compactedRevision() is therefore etcd's compact revision - 1. A list at exactly that revision is refused
//   by etcd (its state is gone), a watch from it works: the only boundary where the drivers differ.
// - retries: only gRPC UNAVAILABLE is retried (the request did not reach a server); a deadline is never
//   retried, since re-sending a guarded write could report a conflict with our own committed write.
// - slow watchers: etcd keeps its own server-side watch buffers and never blocks writers; this driver reads
//   the stream eagerly into the same bounded per-watcher queue as the SQLite driver, so a consumer that
//   applies backpressure for too long gets WatcherTooSlowError here too.

import { handleWhen, retry } from 'cockatiel';
import { Etcd3, GRPCUnavailableError, type IKeyValue, type IWatchResponse, type KVClient } from 'etcd3';
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

export interface EtcdOptions {
  /** Endpoints, e.g. `http://127.0.0.1:2379`. */
  hosts: string[];
  /** Prepended to every key; lets several clusters or test runs share one etcd. Default ''. */
  prefix: string;
  /** Deadline of each unary call (default 5,000 ms). */
  callTimeoutMs: number;
  /** Connection establishment timeout (default 3,000 ms). */
  dialTimeoutMs: number;
  /** Undelivered events after which a watcher is closed with WatcherTooSlowError (default 10,000). */
  maxWatcherBuffer: number;
  /** How long a broken watch stream may take to resume before the watch fails (default 5,000 ms). */
  watchRetryMs: number;
  /**
   * Watches share one etcd stream per root prefix: the first this many '/'-terminated segments of the watched
   * prefix (default 3: one per resource). -1 gives every watch its own stream.
   */
  watchShareDepth: number;
  /** Recent events a shared stream keeps so later watches from a recent revision can join it (default 2,000). */
  watchWindow: number;
  /** How long a shared stream with no watches stays open, window kept (default 60,000 ms; 0 closes at once). */
  watchLingerMs: number;
}

type IDuplex = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;

/** Parse `etcd://h1:p1,h2:p2[/][?prefix=/p&timeout=ms]` (scheme `etcd3://` accepted too). */
export function parseEtcdUrl(url: string): Pick<EtcdOptions, 'hosts'> & Partial<EtcdOptions> {
  const m = /^etcd3?:\/\/([^?]*)(?:\?(.*))?$/.exec(url);
  if (m === null) throw new StorageError(`invalid etcd URL ${JSON.stringify(url)}`);
  const hosts = m[1]!
    .replace(/\/+$/, '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '')
    .map((h) => (/^https?:\/\//.test(h) ? h : `http://${h}`));
  if (hosts.length === 0) throw new StorageError(`etcd URL ${JSON.stringify(url)} names no host`);
  const out: Pick<EtcdOptions, 'hosts'> & Partial<EtcdOptions> = { hosts };
  const q = new URLSearchParams(m[2] ?? '');
  const prefix = q.get('prefix');
  if (prefix !== null) out.prefix = prefix;
  const timeout = q.get('timeout');
  if (timeout !== null) {
    const t = Number(timeout);
    if (!Number.isFinite(t) || t <= 0) throw new StorageError(`etcd URL ${JSON.stringify(url)}: bad timeout`);
    out.callTimeoutMs = t;
  }
  return out;
}

/** First key after every key that starts with `p` (etcd's range_end for a prefix); [0] means "to the end". */
function bufferRangeEnd(p: Buffer): Buffer {
  const end = Buffer.from(p);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const isCompactedMsg = (err: unknown): boolean => /required revision has been compacted/.test(errMessage(err));
const isFutureMsg = (err: unknown): boolean => /required revision is a future revision/.test(errMessage(err));

export class EtcdStore implements Store {
  readonly client: Etcd3;
  private readonly kv: KVClient;
  private readonly prefix: string;
  private readonly prefixLen: number;
  private readonly opts: EtcdOptions;
  /** Every open watch stream, shared or dedicated. */
  private readonly streams = new Set<EtcdStream>();
  /** The shared stream of each root prefix. */
  private readonly shared = new Map<string, EtcdStream>();
  /** Lowest revision etcd still serves (etcd's compact revision), as far as we know: a lower bound. */
  private knownCompactRev = 0;
  private closed = false;

  constructor(options: Pick<EtcdOptions, 'hosts'> & Partial<EtcdOptions>) {
    this.opts = {
      prefix: '',
      callTimeoutMs: 5_000,
      dialTimeoutMs: 3_000,
      maxWatcherBuffer: DEFAULT_MAX_WATCHER_BUFFER,
      watchRetryMs: 5_000,
      watchShareDepth: 3,
      watchWindow: 2_000,
      watchLingerMs: 60_000,
      ...options,
    };
    this.prefix = this.opts.prefix;
    this.prefixLen = Buffer.byteLength(this.prefix);
    const deadline = this.opts.callTimeoutMs;
    this.client = new Etcd3({
      hosts: this.opts.hosts,
      dialTimeout: this.opts.dialTimeoutMs,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + deadline }),
      faultHandling: {
        global: retry(
          handleWhen((e) => e instanceof GRPCUnavailableError),
          { maxAttempts: 2 },
        ),
      },
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
    });
    this.kv = this.client.kv;
  }

  /** Full etcd key of a store key. */
  k(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  /** Store key of a full etcd key. */
  unkey(k: Buffer): string {
    return k.toString('utf8', this.prefixLen);
  }

  toKV(kv: IKeyValue): KeyValue {
    return {
      key: kv.key.toString('utf8', this.prefixLen),
      value: kv.value.toString('utf8'),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('store is closed');
  }

  // ---- reads ---------------------------------------------------------------------------------------------

  async currentRevision(): Promise<number> {
    this.checkOpen();
    const res = await this.kv.range({ key: Buffer.from([0]), count_only: true });
    return Number(res.header.revision);
  }

  async get(key: string): Promise<KeyValue | null> {
    this.checkOpen();
    const res = await this.kv.range({ key: this.k(key) });
    return res.kvs.length > 0 ? this.toKV(res.kvs[0]!) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const requested = opts.revision ?? 0;
    const limit = opts.limit !== undefined && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    const start =
      opts.startAfter !== undefined && opts.startAfter >= prefix ? this.k(opts.startAfter + '\0') : this.k(prefix);
    const end = bufferRangeEnd(this.k(prefix));
    let res;
    try {
      res = await this.kv.range({ key: start, range_end: end, limit, revision: requested > 0 ? requested : 0 });
    } catch (err) {
      throw await this.mapRevisionError(err, requested);
    }
    const items = res.kvs.map((kv) => this.toKV(kv));
    return {
      items,
      revision: requested > 0 ? requested : Number(res.header.revision),
      more: res.more,
      remaining: Math.max(0, Number(res.count) - items.length),
    };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    const p = this.k(prefix);
    const res = await this.kv.range({ key: p.length > 0 ? p : Buffer.from([0]), range_end: bufferRangeEnd(p), count_only: true });
    return Number(res.count);
  }

  // ---- writes --------------------------------------------------------------------------------------------

  async create(key: string, value: string): Promise<KeyValue> {
    this.checkOpen();
    const k = this.k(key);
    const res = await this.kv.txn({
      compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      failure: [],
    });
    if (!res.succeeded) throw new KeyExistsError(key);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.checkOpen();
    const k = this.k(key);
    const res = await this.kv.txn({
      compare: [
        { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
        { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
      ],
      success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) throw this.conflict(key, res.responses[0]?.response_range.kvs);
    const prev = res.responses[0]!.response_put.prev_kv;
    const rev = Number(res.header.revision);
    return { key, value, createRevision: Number(prev.create_revision), modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.checkOpen();
    const k = this.k(key);
    const res = await this.kv.txn({
      compare:
        expectedModRevision === undefined
          ? [{ key: k, target: 'Create', result: 'Greater', create_revision: 0 }]
          : [
              { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
              { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
            ],
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) throw this.conflict(key, res.responses[0]?.response_range.kvs);
    const prev = res.responses[0]!.response_delete_range.prev_kvs[0];
    if (prev === undefined) throw new KeyNotFoundError(key);
    return {
      key,
      value: prev.value.toString('utf8'),
      createRevision: Number(prev.create_revision),
      modRevision: Number(res.header.revision),
    };
  }

  private conflict(key: string, kvs: IKeyValue[] | undefined): Error {
    if (kvs === undefined || kvs.length === 0) return new KeyNotFoundError(key);
    return new RevisionMismatchError(key, this.toKV(kvs[0]!));
  }

  // ---- compaction ----------------------------------------------------------------------------------------

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    const cur = await this.currentRevision();
    if (revision > cur) throw new FutureRevisionError(revision, cur);
    const target = revision < cur ? revision + 1 : revision;
    if (target <= this.knownCompactRev) return;
    try {
      await this.kv.compact({ revision: target, physical: false });
    } catch (err) {
      if (!isCompactedMsg(err)) throw err;
    }
    this.noteCompactRev(target);
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return Math.max(0, (await this.findCompactRev()) - 1);
  }

  /**
   * etcd's compact revision M (ranges below M fail). etcd 3.4 has no call that reports it cheaply, so
   * binary-search with count-only ranges at a revision on a single key: O(log(current - known)) tiny calls.
   */
  private async findCompactRev(): Promise<number> {
    const servable = async (rev: number): Promise<boolean> => {
      try {
        await this.kv.range({ key: Buffer.from([0]), count_only: true, revision: rev });
        return true;
      } catch (err) {
        if (isCompactedMsg(err)) return false;
        throw err;
      }
    };
    let lo = Math.max(1, this.knownCompactRev); // servable, or the first revision
    if (!(await servable(lo))) {
      let hi = await this.currentRevision(); // always servable
      lo += 1;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (await servable(mid)) hi = mid;
        else lo = mid + 1;
      }
    }
    this.noteCompactRev(lo);
    return lo;
  }

  noteCompactRev(rev: number): void {
    if (rev <= this.knownCompactRev) return;
    this.knownCompactRev = rev;
    // Watches from below compactedRevision() must fail, so no shared window may serve them.
    for (const st of this.shared.values()) st.noteCompacted(rev - 1);
  }

  /** Translate a failed read at `requested` into CompactedError / FutureRevisionError. */
  private async mapRevisionError(err: unknown, requested: number): Promise<Error> {
    if (isCompactedMsg(err)) {
      const m = await this.findCompactRev().catch(() => this.knownCompactRev);
      return new CompactedError(requested, Math.max(0, m - 1));
    }
    if (isFutureMsg(err)) {
      const cur = await this.currentRevision().catch(() => 0);
      return new FutureRevisionError(requested, cur);
    }
    return err instanceof Error ? err : new StorageError(String(err));
  }

  // ---- watch ---------------------------------------------------------------------------------------------

  /**
   * Root of the shared stream serving `prefix`: its first `watchShareDepth` '/'-terminated segments (with keys
   * laid out /registry/<group>/<resource>/<namespace>/<name>, depth 3 is one stream per resource), or the
   * prefix itself when it is shorter.
   */
  private rootOf(prefix: string): string {
    let idx = -1;
    for (let n = 0; n <= this.opts.watchShareDepth; n++) {
      idx = prefix.indexOf('/', idx + 1);
      if (idx < 0) return prefix;
    }
    return prefix.slice(0, idx + 1);
  }

  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher {
    this.checkOpen();
    const from = Math.max(0, Math.floor(fromRevision));
    const sub = { requested: from } as Sub;
    sub.q = new WatchQueue(prefix, from, cb, this.opts.maxWatcherBuffer, () => sub.stream.unsubscribe(sub));
    this.reattach(sub);
    return sub.q;
  }

  /** Put a watch on the shared stream of its root if that covers its revision, else on a stream of its own. */
  reattach(sub: Sub): void {
    if (this.closed) {
      sub.q.fail(new StorageError('store closed'));
      return;
    }
    const prefix = sub.q.prefix;
    const from = sub.q.lastRevision;
    if (this.opts.watchShareDepth >= 0) {
      const root = this.rootOf(prefix);
      let shared = this.shared.get(root);
      if (shared === undefined) {
        shared = new EtcdStream(this, root, from, this.opts, true, (x) => this.streamDone(x));
        this.shared.set(root, shared);
        this.streams.add(shared);
        shared.attach(sub);
        shared.open();
        return;
      }
      if (from >= shared.windowStart) {
        shared.attach(sub);
        return;
      }
    }
    // Older than what the shared stream covers (or sharing is off).
    const own = new EtcdStream(this, prefix, from, this.opts, false, (x) => this.streamDone(x));
    this.streams.add(own);
    own.attach(sub);
    own.open();
  }

  private streamDone(s: EtcdStream): void {
    this.streams.delete(s);
    if (s.shared && this.shared.get(s.root) === s) this.shared.delete(s.root);
  }

  /** Open etcd watch streams and watches on them (for tests and metrics). */
  watchStats(): { streams: number; watchers: number } {
    let watchers = 0;
    for (const s of this.streams) watchers += s.watcherCount;
    return { streams: this.streams.size, watchers };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const st of [...this.streams]) st.fail(() => new StorageError('store closed'));
    this.streams.clear();
    this.shared.clear();
    this.client.close();
  }
}

/** One watch: its queue, the revision it asked for (for CompactedError) and the stream feeding it. */
interface Sub {
  q: WatchQueue;
  requested: number;
  stream: EtcdStream;
}

/**
 * One etcd watch stream (start_revision = from+1, prev_kv) feeding any number of WatchQueues, each filtered by
 * its own prefix. A shared stream (one per root prefix, see EtcdOptions.watchShareDepth) also keeps a window of
 * its most recent events, so a watch from any revision >= windowStart joins it without a new etcd watch: the
 * stream has delivered every event under its root with revision > windowStart, and those still needed are in
 * the window or yet to come. A dedicated stream serves one watch from further back and ends with it.
 * A stream that breaks is resumed from the last revision seen for up to `watchRetryMs`, then its watches fail.
 */
class EtcdStream {
  /** The watches fed by this stream. */
  private readonly subs = new Map<WatchQueue, Sub>();
  /** Whether any event arrived (a stream refused before that can hand its watches to a new one). */
  private delivered = false;
  private stream: IDuplex | null = null;
  private readonly key: Buffer;
  private readonly rangeEnd: Buffer;
  private brokenSince = 0;
  private backoffMs = 50;
  private done = false;
  private linger: NodeJS.Timeout | null = null;
  /** Recent events in revision order (shared streams only). */
  private window: WatchEvent[] = [];
  /** Every event under the root with revision > windowStart is in the window or yet to arrive. */
  windowStart: number;
  /** Revision of the last event received (the stream resumes after it). */
  private lastSeen: number;

  constructor(
    private readonly store: EtcdStore,
    readonly root: string,
    from: number,
    private readonly opts: EtcdOptions,
    /** Shared: keeps a window and lingers when idle; else it ends with its last watcher. */
    readonly shared: boolean,
    private readonly onDone: (s: EtcdStream) => void,
  ) {
    const p = store.k(root);
    this.key = p.length > 0 ? p : Buffer.from([0]);
    this.rangeEnd = bufferRangeEnd(p);
    this.windowStart = from;
    this.lastSeen = from;
  }

  get watcherCount(): number {
    return this.subs.size;
  }

  /**
   * Add a watch (under root, watching from q.lastRevision >= windowStart): window replay, then live events.
   * A watch moves here from a stream that failed before delivering anything.
   */
  attach(sub: Sub): void {
    const q = sub.q;
    sub.stream = this;
    const from = q.lastRevision;
    if (this.window.length > 0 && this.window[this.window.length - 1]!.revision > from) {
      const w = this.window;
      // First event after `from` (binary search: the window is in revision order).
      let lo = 0;
      let hi = w.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (w[mid]!.revision <= from) lo = mid + 1;
        else hi = mid;
      }
      const prefix = q.prefix;
      const replay: WatchEvent[] = [];
      for (let i = lo; i < w.length; i++) if (w[i]!.kv.key.startsWith(prefix)) replay.push(w[i]!);
      q.preload(replay);
    }
    this.subs.set(q, sub);
    if (this.linger !== null) {
      clearTimeout(this.linger);
      this.linger = null;
    }
  }

  unsubscribe(sub: Sub): void {
    if (this.subs.get(sub.q) !== sub) return;
    this.subs.delete(sub.q);
    if (this.subs.size > 0 || this.done) return;
    if (!this.shared || this.opts.watchLingerMs <= 0) {
      this.end();
      return;
    }
    if (this.linger === null) {
      this.linger = setTimeout(() => {
        this.linger = null;
        if (this.subs.size === 0) this.end();
      }, this.opts.watchLingerMs);
      this.linger.unref();
    }
  }

  /** Events at or below a compacted revision can no longer be asked for. */
  noteCompacted(compacted: number): void {
    if (compacted <= this.windowStart) return;
    let n = 0;
    while (n < this.window.length && this.window[n]!.revision <= compacted) n++;
    if (n > 0) this.window.splice(0, n);
    this.windowStart = compacted;
  }

  open(): void {
    this.store.client.watchClient.watch().then(
      (stream) => {
        if (this.done) {
          stream.on('error', () => {
            // CANCELLED, expected
          });
          stream.cancel();
          return;
        }
        this.stream = stream;
        stream.on('data', (res: IWatchResponse) => this.onData(stream, res));
        stream.on('error', (err: Error) => this.onBroken(stream, err));
        stream.on('end', () => this.onBroken(stream, new StorageError('etcd watch stream ended')));
        stream.write({
          create_request: {
            key: this.key,
            range_end: this.rangeEnd,
            start_revision: this.lastSeen + 1,
            prev_kv: true,
          },
        });
      },
      (err: unknown) => this.onBroken(null, err instanceof Error ? err : new StorageError(String(err))),
    );
  }

  private onData(stream: IDuplex, res: IWatchResponse): void {
    if (this.done || stream !== this.stream) return;
    const compactRev = Number(res.compact_revision);
    if (compactRev > 0) {
      this.store.noteCompactRev(compactRev);
      const compacted = compactRev - 1;
      if (!this.delivered) {
        // Refused at its start revision (an old first watch): watches from compacted or later did not miss
        // anything and move to a fresh stream; only the older ones fail.
        const subs = [...this.subs.values()];
        this.subs.clear();
        this.end();
        for (const sub of subs) {
          if (sub.requested < compacted) sub.q.fail(new CompactedError(sub.requested, compacted));
          else this.store.reattach(sub);
        }
        return;
      }
      this.fail((requested) => new CompactedError(requested, compacted));
      return;
    }
    if (res.canceled) {
      const msg = `etcd canceled the watch: ${res.cancel_reason || 'no reason given'}`;
      this.fail(() => new StorageError(msg));
      return;
    }
    if (res.created) {
      this.brokenSince = 0;
      this.backoffMs = 50;
    }
    const evs = res.events;
    if (evs.length === 0) return;
    const store = this.store;
    const out = new Array<WatchEvent>(evs.length);
    for (let i = 0; i < evs.length; i++) {
      const ev = evs[i]!;
      const rev = Number(ev.kv.mod_revision);
      const prev = ev.prev_kv !== null && ev.prev_kv !== undefined && ev.prev_kv.key.length > 0 ? store.toKV(ev.prev_kv) : undefined;
      if (ev.type === 'Delete') {
        out[i] = {
          type: 'delete',
          kv: {
            key: store.unkey(ev.kv.key),
            value: prev?.value ?? '',
            createRevision: prev?.createRevision ?? 0,
            modRevision: rev,
          },
          prev,
          revision: rev,
        };
      } else {
        out[i] = { type: 'put', kv: store.toKV(ev.kv), prev, revision: rev };
      }
    }
    this.lastSeen = out[out.length - 1]!.revision;
    this.delivered = true;
    if (this.shared) this.remember(out);
    dispatch(this.subs.keys(), out);
  }

  /** Append to the window, dropping the oldest events beyond its size (in chunks, to keep appends cheap). */
  private remember(events: WatchEvent[]): void {
    const size = this.opts.watchWindow;
    if (size <= 0) {
      this.windowStart = this.lastSeen;
      return;
    }
    for (const ev of events) this.window.push(ev);
    const slack = Math.max(16, size >> 3);
    if (this.window.length > size + slack) {
      const drop = this.window.length - size;
      this.windowStart = this.window[drop - 1]!.revision;
      this.window.splice(0, drop);
    }
  }

  private onBroken(stream: IDuplex | null, err: Error): void {
    if (this.done || (stream !== null && stream !== this.stream)) return;
    if (this.stream !== null) {
      this.stream.cancel();
      this.stream = null;
    }
    const now = Date.now();
    if (this.brokenSince === 0) this.brokenSince = now;
    if (now - this.brokenSince >= this.opts.watchRetryMs) {
      const msg = `etcd watch failed: ${err.message}`;
      this.fail(() => new StorageError(msg));
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 1_000);
    setTimeout(() => {
      if (!this.done) this.open();
    }, delay).unref();
  }

  /** End the stream and fail every watch on it (each with its own error). */
  fail(errFor: (requested: number) => Error): void {
    if (this.done) return;
    const subs = [...this.subs.values()];
    this.end();
    for (const sub of subs) sub.q.fail(errFor(sub.requested));
  }

  /** Stop the stream; new watches of its root start a new one. */
  private end(): void {
    if (this.done) return;
    this.done = true;
    if (this.linger !== null) clearTimeout(this.linger);
    this.linger = null;
    this.window = [];
    this.onDone(this);
    const s = this.stream;
    this.stream = null;
    if (s !== null) {
      s.on('error', () => {
        // cancellation surfaces as a CANCELLED error; expected
      });
      s.cancel();
    }
  }
}
