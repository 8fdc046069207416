// Per-watcher delivery shared by the storage drivers: an event buffer drained asynchronously and in order,
// consumer backpressure (onEvents may return a promise), the slow-watcher cut-off (WatcherTooSlowError) and the
// fan-out of one ordered event stream to many watchers by key prefix (dispatch).
import { StorageError, WatcherTooSlowError, type WatchCallbacks, type WatchEvent, type Watcher } from './interface.js';

/** Default number of undelivered events after which a watcher is dropped. */
export const DEFAULT_MAX_WATCHER_BUFFER = 10_000;

/**
 * Writers call push() and return at once; delivery happens in a later macrotask (setImmediate), so callbacks
 * never run inside a writer's call stack. At most one onEvents call is outstanding per watcher.
 */
export class WatchQueue implements Watcher {
  private buf: WatchEvent[] = [];
  private closed = false;
  private paused = false;
  private scheduled = false;
  /** Events with revision <= this are dropped (a watch from a future revision, or duplicates on resume). */
  lastRevision: number;

  constructor(
    readonly prefix: string,
    fromRevision: number,
    private readonly cb: WatchCallbacks,
    private readonly maxBuffered: number,
    private readonly onClosed: (q: WatchQueue) => void,
  ) {
    this.lastRevision = fromRevision;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Append events already filtered by prefix and in revision order. Never blocks, never calls back synchronously. */
  push(events: readonly WatchEvent[]): void {
    if (this.closed) return;
    let n = 0;
    for (const ev of events) {
      if (ev.revision <= this.lastRevision) continue;
      this.buf.push(ev);
      this.lastRevision = ev.revision;
      n++;
    }
    if (n === 0) return;
    if (this.buf.length > this.maxBuffered) {
      this.fail(new WatcherTooSlowError());
      return;
    }
    this.schedule();
  }

  /**
   * Append a watch's initial replay. Not subject to the slow-watcher limit (it is bounded by the retained
   * history and delivered in one batch); live events pushed after it are.
   */
  preload(events: readonly WatchEvent[]): void {
    if (this.closed) return;
    for (const ev of events) {
      if (ev.revision <= this.lastRevision) continue;
      this.buf.push(ev);
      this.lastRevision = ev.revision;
    }
    if (this.buf.length > 0) this.schedule();
  }

  /** Append one event (the hot path of a commit with a single matching event). */
  pushOne(ev: WatchEvent): void {
    if (this.closed || ev.revision <= this.lastRevision) return;
    this.buf.push(ev);
    this.lastRevision = ev.revision;
    if (this.buf.length > this.maxBuffered) {
      this.fail(new WatcherTooSlowError());
      return;
    }
    this.schedule();
  }

  /** End the watch abnormally: buffered events are dropped and onError runs in a later macrotask. */
  fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.buf = [];
    this.onClosed(this);
    setImmediate(() => {
      try {
        this.cb.onError(err);
      } catch {
        // onError must not throw; a consumer bug must not take the store down.
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buf = [];
    this.onClosed(this);
  }

  /** Number of events buffered and not yet handed to onEvents (for tests and metrics). */
  get buffered(): number {
    return this.buf.length;
  }

  private schedule(): void {
    if (this.scheduled || this.paused) return;
    this.scheduled = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.closed || this.paused || this.buf.length === 0) return;
    const batch = this.buf;
    this.buf = [];
    let r: void | PromiseLike<void>;
    try {
      r = this.cb.onEvents(batch);
    } catch (err) {
      this.fail(err instanceof Error ? err : new StorageError(String(err)));
      return;
    }
    if (r !== undefined && r !== null && typeof (r as PromiseLike<void>).then === 'function') {
      this.paused = true;
      (r as PromiseLike<void>).then(
        () => {
          this.paused = false;
          if (this.buf.length > 0) this.schedule();
        },
        (err: unknown) => this.fail(err instanceof Error ? err : new StorageError(String(err))),
      );
    }
  };
}

/**
 * Fan a batch of events (revision order) out to watchers, each getting the events under its prefix. The events
 * are shared, not copied: every watcher sees the same objects, so consumers that cache per event (decoding,
 * framing) do that work once for all watchers.
 */
export function dispatch(watchers: Iterable<WatchQueue>, events: readonly WatchEvent[]): void {
  for (const q of watchers) {
    const prefix = q.prefix;
    if (prefix === '') {
      q.push(events);
      continue;
    }
    if (events.length === 1) {
      if (events[0]!.kv.key.startsWith(prefix)) q.pushOne(events[0]!);
      continue;
    }
    let matched: WatchEvent[] | null = null;
    for (const ev of events) if (ev.kv.key.startsWith(prefix)) (matched ??= []).push(ev);
    if (matched !== null) q.push(matched);
  }
}
