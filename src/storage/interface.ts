// The revisioned key/value seam between the API server and its datastore (drivers: sqlite, etcd).
// Contract (checked by storage/contract.test.ts against every driver):
// - one global, gap-free, monotonically increasing revision; every successful write gets the next one;
// - create fails with KeyExistsError if the key is live; update/delete guarded by the key's modRevision
//   fail with RevisionMismatchError (carrying the current KV) and never write;
// - watch(prefix, fromRevision) delivers every event with revision > fromRevision in order, or fails with
//   CompactedError when fromRevision is older than the compacted history;
// - a watcher that cannot keep up is closed with an error (it must re-list); writers never wait for watchers.

export interface KeyValue {
  key: string;
  /** The stored value (the API server stores JSON text). */
  value: string;
  /** Revision of the write that created this key (in its current life). */
  createRevision: number;
  /** Revision of the last write to this key. Used as the object's resourceVersion. */
  modRevision: number;
}

export interface ListOptions {
  /**
   * Read as of this revision (0 or absent = latest). Older than the compacted revision → CompactedError
   * (etcd may also refuse exactly the compacted revision); newer than the current one → FutureRevisionError.
   */
  revision?: number;
  /** Maximum number of items (0 or absent = no limit). */
  limit?: number;
  /** Return only keys strictly greater than this one (continuation). */
  startAfter?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when more keys under the prefix follow the last item. */
  more: boolean;
  /** Total keys under the prefix remaining after this page (when cheaply known), else undefined. */
  remaining?: number;
}

export type WatchEventType = 'put' | 'delete';

export interface WatchEvent {
  type: WatchEventType;
  /** For put: the new KV. For delete: the deleted KV with modRevision = the delete's revision. */
  kv: KeyValue;
  /** The previous value (undefined for a create). */
  prev?: KeyValue;
  revision: number;
}

export interface Watcher {
  /** Stop the watch; no more callbacks after this returns. Idempotent. */
  close(): void;
}

export interface WatchCallbacks {
  /**
   * Called in revision order, possibly in batches, never inside a writer's call stack. Must not throw.
   * Events and their KVs are shared (treat them as read-only). To apply backpressure (e.g. a socket whose
   * write() returned false) return a promise: no further onEvents call happens until it settles, events
   * buffer meanwhile, and a watcher whose buffer exceeds the driver's limit is closed with WatcherTooSlowError.
   */
  onEvents(events: WatchEvent[]): void | PromiseLike<void>;
  /** The watch ended abnormally (too slow, compacted, driver closed); no more events follow. */
  onError(err: Error): void;
}

export interface Store {
  /** Latest committed revision. */
  currentRevision(): Promise<number>;
  get(key: string): Promise<KeyValue | null>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Count live keys under prefix. */
  count(prefix: string): Promise<number>;
  /** Create if absent. Resolves to the new KV. Throws KeyExistsError. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Replace if modRevision matches. Throws RevisionMismatchError / KeyNotFoundError. */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /** Delete (guarded when expectedModRevision is given). Resolves to the deleted KV (modRevision = delete revision). */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /** Watch keys under prefix for events with revision > fromRevision. Throws CompactedError synchronously or via onError. */
  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher;
  /** Drop history at or below revision (watches from before it get CompactedError). */
  compact(revision: number): Promise<void>;
  /** The oldest revision a watch may still start from (compacted revision). */
  compactedRevision(): Promise<number>;
  close(): Promise<void>;
}

export class StorageError extends Error {}
export class KeyExistsError extends StorageError {
  constructor(readonly key: string) { super(`key exists: ${key}`); }
}
export class KeyNotFoundError extends StorageError {
  constructor(readonly key: string) { super(`key not found: ${key}`); }
}
export class RevisionMismatchError extends StorageError {
  constructor(readonly key: string, readonly current: KeyValue | null) { super(`revision mismatch: ${key}`); }
}
export class CompactedError extends StorageError {
  constructor(readonly requested: number, readonly compacted: number) {
    super(`too old resource version: ${requested} (${compacted})`);
  }
}
export class FutureRevisionError extends StorageError {
  constructor(readonly requested: number, readonly current: number) {
    super(`revision ${requested} is newer than the current revision ${current}`);
  }
}
export class WatcherTooSlowError extends StorageError {
  constructor() { super('watcher fell too far behind and was dropped'); }
}
