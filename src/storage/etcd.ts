// etcd driver of the storage seam (`etcd://host:port[,host:port…]`): etcd's own revisions, guarded writes as
// single transactions, watch streams with prev_kv, every key under an optional prefix.
//
// Semantics mapped onto etcd:
// - create = txn(createRevision == 0 → put); update = txn(modRevision == expected ∧ exists → put, prev_kv;
//   else range) so a conflict returns the current KV in the same round trip; delete likewise.
// - list: range [prefix+startAfter+"\0", end(prefix)) with limit and revision; `remaining` from the range count.
// - watch: one gRPC watch stream per watcher, start_revision = from+1, prev_kv; a stream that breaks is resumed
//   from the last revision seen (no gap, no duplicate) for up to `watchRetryMs`, then the watch fails.
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
import { DEFAULT_MAX_WATCHER_BUFFER, WatchQueue } from './watchqueue.js';

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
  private readonly watches = new Set<EtcdWatch>();
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
    if (rev > this.knownCompactRev) this.knownCompactRev = rev;
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

  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher {
    this.checkOpen();
    const w = new EtcdWatch(this, prefix, Math.max(0, Math.floor(fromRevision)), cb, this.opts, (x) => this.watches.delete(x));
    this.watches.add(w);
    w.open();
    return w.queue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.queue.fail(new StorageError('store closed'));
    this.watches.clear();
    this.client.close();
  }
}

/** One watcher: a gRPC watch stream feeding a WatchQueue, resumed from the last revision if the stream breaks. */
class EtcdWatch {
  readonly queue: WatchQueue;
  private stream: IDuplex | null = null;
  private readonly key: Buffer;
  private readonly rangeEnd: Buffer;
  private readonly requested: number;
  private brokenSince = 0;
  private backoffMs = 50;

  constructor(
    private readonly store: EtcdStore,
    prefix: string,
    from: number,
    cb: WatchCallbacks,
    private readonly opts: EtcdOptions,
    private readonly onDone: (w: EtcdWatch) => void,
  ) {
    this.requested = from;
    const p = store.k(prefix);
    this.key = p.length > 0 ? p : Buffer.from([0]);
    this.rangeEnd = bufferRangeEnd(p);
    this.queue = new WatchQueue(prefix, from, cb, opts.maxWatcherBuffer, () => this.shutdown());
  }

  open(): void {
    this.store.client.watchClient.watch().then(
      (stream) => {
        if (this.queue.isClosed) {
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
            start_revision: this.queue.lastRevision + 1,
            prev_kv: true,
          },
        });
      },
      (err: unknown) => this.onBroken(null, err instanceof Error ? err : new StorageError(String(err))),
    );
  }

  private onData(stream: IDuplex, res: IWatchResponse): void {
    if (this.queue.isClosed || stream !== this.stream) return;
    const compactRev = Number(res.compact_revision);
    if (compactRev > 0) {
      this.store.noteCompactRev(compactRev);
      this.queue.fail(new CompactedError(this.requested, compactRev - 1));
      return;
    }
    if (res.canceled) {
      this.queue.fail(new StorageError(`etcd canceled the watch: ${res.cancel_reason || 'no reason given'}`));
      return;
    }
    if (res.created) {
      this.brokenSince = 0;
      this.backoffMs = 50;
    }
    const evs = res.events;
    if (evs.length === 0) return;
    const out = new Array<WatchEvent>(evs.length);
    for (let i = 0; i < evs.length; i++) {
      const ev = evs[i]!;
      const rev = Number(ev.kv.mod_revision);
      const prev = ev.prev_kv !== null && ev.prev_kv !== undefined && ev.prev_kv.key.length > 0 ? this.store.toKV(ev.prev_kv) : undefined;
      if (ev.type === 'Delete') {
        out[i] = {
          type: 'delete',
          kv: {
            key: this.store.unkey(ev.kv.key),
            value: prev?.value ?? '',
            createRevision: prev?.createRevision ?? 0,
            modRevision: rev,
          },
          prev,
          revision: rev,
        };
      } else {
        out[i] = { type: 'put', kv: this.store.toKV(ev.kv), prev, revision: rev };
      }
    }
    this.queue.push(out);
  }

  private onBroken(stream: IDuplex | null, err: Error): void {
    if (this.queue.isClosed || (stream !== null && stream !== this.stream)) return;
    if (this.stream !== null) {
      this.stream.cancel();
      this.stream = null;
    }
    const now = Date.now();
    if (this.brokenSince === 0) this.brokenSince = now;
    if (now - this.brokenSince >= this.opts.watchRetryMs) {
      this.queue.fail(new StorageError(`etcd watch failed: ${err.message}`));
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 1_000);
    setTimeout(() => {
      if (!this.queue.isClosed) this.open();
    }, delay).unref();
  }

  /** Called once when the queue closes (by the consumer or on failure): stop the stream. */
  private shutdown(): void {
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
