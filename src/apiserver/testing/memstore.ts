// An in-memory Store fake for API-server unit tests (the real drivers have their own contract suite).

import {
  CompactedError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type WatchCallbacks,
  type Watcher,
  type WatchEvent,
} from '../../storage/interface.js';

export class MemStore implements Store {
  private rev = 0;
  private compacted = 0;
  private readonly data = new Map<string, KeyValue>();
  private readonly log: WatchEvent[] = [];
  private readonly watchers = new Set<{ prefix: string; cb: WatchCallbacks }>();

  async currentRevision(): Promise<number> {
    return this.rev;
  }
  async get(key: string): Promise<KeyValue | null> {
    return this.data.get(key) ?? null;
  }
  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    if (opts.revision && opts.revision < this.compacted) throw new CompactedError(opts.revision, this.compacted);
    const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix) && (!opts.startAfter || k > opts.startAfter)).sort();
    const lim = opts.limit || keys.length;
    const items = keys.slice(0, lim).map((k) => this.data.get(k)!);
    return { items, revision: this.rev, more: keys.length > lim, remaining: Math.max(0, keys.length - lim) };
  }
  async count(prefix: string): Promise<number> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).length;
  }
  private emit(ev: WatchEvent): void {
    this.log.push(ev);
    for (const w of this.watchers) if (ev.kv.key.startsWith(w.prefix)) queueMicrotask(() => w.cb.onEvents([ev]));
  }
  async create(key: string, value: string): Promise<KeyValue> {
    if (this.data.has(key)) throw new KeyExistsError(key);
    const rev = ++this.rev;
    const kv = { key, value, createRevision: rev, modRevision: rev };
    this.data.set(key, kv);
    this.emit({ type: 'put', kv, revision: rev });
    return kv;
  }
  async update(key: string, value: string, expected: number): Promise<KeyValue> {
    const cur = this.data.get(key);
    if (!cur) throw new KeyNotFoundError(key);
    if (cur.modRevision !== expected) throw new RevisionMismatchError(key, cur);
    const rev = ++this.rev;
    const kv = { key, value, createRevision: cur.createRevision, modRevision: rev };
    this.data.set(key, kv);
    this.emit({ type: 'put', kv, prev: cur, revision: rev });
    return kv;
  }
  async delete(key: string, expected?: number): Promise<KeyValue> {
    const cur = this.data.get(key);
    if (!cur) throw new KeyNotFoundError(key);
    if (expected !== undefined && cur.modRevision !== expected) throw new RevisionMismatchError(key, cur);
    const rev = ++this.rev;
    this.data.delete(key);
    const kv = { ...cur, modRevision: rev };
    this.emit({ type: 'delete', kv, prev: cur, revision: rev });
    return kv;
  }
  watch(prefix: string, from: number, cb: WatchCallbacks): Watcher {
    if (from < this.compacted) throw new CompactedError(from, this.compacted);
    const w = { prefix, cb };
    const past = this.log.filter((e) => e.revision > from && e.kv.key.startsWith(prefix));
    if (past.length) queueMicrotask(() => cb.onEvents(past));
    this.watchers.add(w);
    return { close: () => this.watchers.delete(w) };
  }
  async compact(revision: number): Promise<void> {
    this.compacted = revision;
  }
  async compactedRevision(): Promise<number> {
    return this.compacted;
  }
  async close(): Promise<void> {
    this.watchers.clear();
  }
}
