// Per-key exponential back-off as client-go's flowcontrol.Backoff, used by the kubelet for crash loops and image
// pulls: the first failure may retry at once, each later one waits twice as long (10 s → 5 min by default).

interface Entry {
  durationMs: number;
  /** When the back-off period started (the failure it was charged for). */
  sinceMs: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
  ) {}

  /** True while `key` is backing off from a failure at `sinceMs` (upstream's IsInBackOffSince). */
  inBackoffSince(key: string, sinceMs: number, nowMs: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && nowMs - sinceMs < e.durationMs;
  }

  /** True while the period of the last recorded failure has not run out. */
  inBackoff(key: string, nowMs: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && nowMs - e.sinceMs < e.durationMs;
  }

  /** Records a failure at `sinceMs`: the first sets the initial duration, later ones double it up to max. */
  next(key: string, sinceMs: number): void {
    const e = this.entries.get(key);
    // An entry idle for twice the maximum starts over (upstream's GC of stale back-off entries).
    if (!e || sinceMs - e.sinceMs > 2 * this.maxMs) this.entries.set(key, { durationMs: this.initialMs, sinceMs });
    else this.entries.set(key, { durationMs: Math.min(this.maxMs, e.durationMs * 2), sinceMs });
  }

  /** The current back-off duration of `key` (0 when none). */
  get(key: string): number {
    return this.entries.get(key)?.durationMs ?? 0;
  }

  /** When the last failure's period ends, or 0. */
  until(key: string): number {
    const e = this.entries.get(key);
    return e ? e.sinceMs + e.durationMs : 0;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
