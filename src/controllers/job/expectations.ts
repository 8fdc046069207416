// Controller expectations (upstream pkg/controller/controller_utils.go ControllerExpectations, and the Job
// controller's uidTrackingExpectations for finalizer removals): what a controller has asked the API for and not
// yet seen through its informers, so a sync never acts twice on a stale cache (double-creating pods, counting a
// pod twice).

/** Expectations older than this are considered satisfied (upstream ExpectationsTimeout, 5 minutes). */
const EXPECTATIONS_TTL_MS = 5 * 60_000;

export class Expectations {
  private readonly byKey = new Map<string, { add: number; del: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when nothing is outstanding for key (or the record expired). */
  satisfied(key: string): boolean {
    const e = this.byKey.get(key);
    if (!e) return true;
    return (e.add <= 0 && e.del <= 0) || this.now() - e.at > EXPECTATIONS_TTL_MS;
  }

  expectCreations(key: string, n: number): void {
    this.byKey.set(key, { add: n, del: 0, at: this.now() });
  }

  expectDeletions(key: string, n: number): void {
    this.byKey.set(key, { add: 0, del: n, at: this.now() });
  }

  creationObserved(key: string): void {
    const e = this.byKey.get(key);
    if (e) e.add--;
  }

  deletionObserved(key: string): void {
    const e = this.byKey.get(key);
    if (e) e.del--;
  }

  delete(key: string): void {
    this.byKey.delete(key);
  }
}

/** Pod UIDs whose finalizer removal was requested but not yet observed, per job key. */
export class UidExpectations {
  private readonly byKey = new Map<string, Set<string>>();

  expect(key: string, uids: string[]): void {
    let s = this.byKey.get(key);
    if (!s) this.byKey.set(key, (s = new Set()));
    for (const u of uids) s.add(u);
  }

  observed(key: string, uid: string): void {
    const s = this.byKey.get(key);
    if (!s) return;
    s.delete(uid);
    if (!s.size) this.byKey.delete(key);
  }

  expected(key: string): ReadonlySet<string> {
    return this.byKey.get(key) ?? new Set();
  }

  delete(key: string): void {
    this.byKey.delete(key);
  }
}
