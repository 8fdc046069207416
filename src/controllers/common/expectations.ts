// Controller expectations (upstream pkg/controller/controller_utils.go ControllerExpectations and
// UIDTrackingControllerExpectations): a controller records how many creations and which deletions it has asked
// for, and does not act on an owner again until its informer has observed them — so it never creates twice
// before seeing its own writes. Records expire after five minutes in case an event was lost.

export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record_ {
  add: number;
  /** Keys (namespace/name) of pods whose deletion is expected. */
  dels: Set<string>;
  at: number;
}

export class Expectations {
  private readonly records = new Map<string, Record_>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when nothing is outstanding for key (or its record expired, or none exists). */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.dels.size === 0) return true;
    return this.now() - r.at > EXPECTATIONS_TTL_MS;
  }

  /** Replaces key's record: `adds` creations and the deletions of `dels` are expected. */
  expect(key: string, adds: number, dels: Iterable<string> = []): void {
    this.records.set(key, { add: adds, dels: new Set(dels), at: this.now() });
  }

  /**
   * Adds to key's record (upstream RaiseExpectations): for controllers that issue several writes in one pass, each
   * announced just before it is made. Starts a fresh record when none is outstanding or it expired.
   */
  raise(key: string, adds: number, dels: Iterable<string> = []): void {
    const r = this.records.get(key);
    if (!r || this.satisfied(key)) {
      this.expect(key, adds, dels);
      return;
    }
    r.add = Math.max(r.add, 0) + adds;
    for (const d of dels) r.dels.add(d);
    r.at = this.now();
  }

  /** A creation for key was observed (or will never happen: call once per failed create). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r) r.add--;
  }

  /** The deletion of pod `podKey` was observed (or failed); counted once per pod. */
  deletionObserved(key: string, podKey: string): void {
    this.records.get(key)?.dels.delete(podKey);
  }

  delete(key: string): void {
    this.records.delete(key);
  }

  /** Outstanding counts, for tests and logs. */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.records.get(key);
    return r && { add: r.add, del: r.dels.size };
  }
}
