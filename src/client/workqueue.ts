// A rate-limited work queue with client-go's semantics: an item queued many times is processed once (dirty set),
// never by two workers at once (processing set), re-queued after failures with per-item exponential backoff.

/** Schedules fn after ms; returns a cancel function. Injected so tests can run time by hand. */
export type Scheduler = (fn: () => void, ms: number) => () => void;

export const realScheduler: Scheduler = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

/**
 * client-go's ItemExponentialFailureRateLimiter: base·2^failures per item, capped. The controller default is
 * 5 ms → 1000 s (client-go also ANDs a 10 qps token bucket; not needed by k8ts's few controllers).
 */
export class ExponentialRateLimiter<T> {
  private readonly failures = new Map<T, number>();

  constructor(
    readonly baseMs = 5,
    readonly maxMs = 1_000_000,
  ) {}

  /** The delay before `item` may be retried, counting this failure. */
  when(item: T): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    const d = this.baseMs * 2 ** n;
    return d > this.maxMs || !Number.isFinite(d) ? this.maxMs : d;
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }
}

export interface WorkQueueOptions<T> {
  rateLimiter?: ExponentialRateLimiter<T>;
  schedule?: Scheduler;
}

export class WorkQueue<T = string> {
  private queue: T[] = [];
  /** Items that need processing (queued, or re-added while processing). */
  private readonly dirty = new Set<T>();
  /** Items a worker holds between get() and done(). */
  private readonly processing = new Set<T>();
  private readonly waiters: Array<(item: T | undefined) => void> = [];
  private readonly delayed = new Map<T, { at: number; cancel: () => void }>();
  private shuttingDown = false;
  readonly rateLimiter: ExponentialRateLimiter<T>;
  private readonly schedule: Scheduler;

  constructor(opts: WorkQueueOptions<T> = {}) {
    this.rateLimiter = opts.rateLimiter ?? new ExponentialRateLimiter<T>();
    this.schedule = opts.schedule ?? realScheduler;
  }

  /** Queues item unless it is already waiting; an item being processed is queued again once done() is called. */
  add(item: T): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    const w = this.waiters.shift();
    if (w) {
      this.dirty.delete(item);
      this.processing.add(item);
      w(item);
    } else this.queue.push(item);
  }

  /** Adds item after ms (an earlier pending addAfter of the same item wins, as client-go's delaying queue). */
  addAfter(item: T, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(item);
    const at = Date.now() + ms;
    const prev = this.delayed.get(item);
    if (prev && prev.at <= at) return;
    prev?.cancel();
    const cancel = this.schedule(() => {
      this.delayed.delete(item);
      this.add(item);
    }, ms);
    this.delayed.set(item, { at, cancel });
  }

  /** Re-queues after the rate limiter's backoff for this item (call after a failed sync). */
  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** Resets the item's backoff (call after a successful sync). */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }

  /** The next item, waiting for one if needed; undefined once shut down. Pair every item with done(). */
  get(): Promise<T | undefined> {
    const item = this.queue.shift();
    if (item !== undefined) {
      this.dirty.delete(item);
      this.processing.add(item);
      return Promise.resolve(item);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks item processed; if it was added meanwhile it goes back on the queue. */
  done(item: T): void {
    this.processing.delete(item);
    if (this.dirty.has(item)) {
      this.dirty.delete(item);
      this.add(item);
    }
  }

  len(): number {
    return this.queue.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops accepting items, drops delayed ones and wakes every waiting get() with undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) d.cancel();
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

/**
 * Runs `workers` loops taking keys from the queue: sync succeeds → forget; sync throws → addRateLimited (the
 * error goes to onError). Resolves once the queue is shut down and every loop has finished its item.
 */
export async function runWorkers<T>(queue: WorkQueue<T>, workers: number, sync: (item: T) => Promise<void>, onError: (item: T, err: unknown) => void): Promise<void> {
  const loop = async (): Promise<void> => {
    for (;;) {
      const item = await queue.get();
      if (item === undefined) return;
      try {
        await sync(item);
        queue.forget(item);
      } catch (e) {
        onError(item, e);
        queue.addRateLimited(item);
      } finally {
        queue.done(item);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}
