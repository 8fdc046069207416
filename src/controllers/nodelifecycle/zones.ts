// Per-zone rate limiting of NoExecute tainting (upstream nodelifecycle/scheduler RateLimitedTimedQueue with a
// flowcontrol token bucket) and the zone health states that pick its rate (ComputeZoneState, GetZoneKey).

import type { KubeObject } from '../../api/types.js';

export type ZoneState = 'Initial' | 'Normal' | 'PartialDisruption' | 'FullDisruption';

/** EvictionRateLimiterBurst. */
const BURST = 1;

/** flowcontrol.NewTokenBucketRateLimiter (starting full), or the never-accepting limiter for qps ≤ 0. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    nowMs: number,
  ) {
    this.tokens = qps > 0 ? BURST : 0;
    this.last = nowMs;
  }

  tryAccept(nowMs: number): boolean {
    if (this.qps <= 0) return false;
    this.tokens = Math.min(BURST, this.tokens + ((nowMs - this.last) / 1000) * this.qps);
    this.last = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface TimedValue {
  name: string;
  uid: string;
  processAt: number;
}

/**
 * A unique queue of node names ordered by processAt, drained through a token bucket. A value stays "known" after it
 * has been processed (so the same node is not queued again) until remove() — as upstream's UniqueQueue, whose
 * RemoveFromQueue keeps the set entry.
 */
export class RateLimitedTimedQueue {
  private readonly known = new Set<string>();
  private queue: TimedValue[] = [];
  private limiter: TokenBucket;

  constructor(qps: number, nowMs: number) {
    this.limiter = new TokenBucket(qps, nowMs);
  }

  get qps(): number {
    return this.limiter.qps;
  }

  get length(): number {
    return this.queue.length;
  }

  /** Queues the node unless it is already known; true when added. */
  add(name: string, uid: string, nowMs: number): boolean {
    if (this.known.has(name)) return false;
    this.known.add(name);
    this.queue.push({ name, uid, processAt: nowMs });
    this.sort();
    return true;
  }

  /** Forgets the node (queued or processed); true when it was known. */
  remove(name: string): boolean {
    const had = this.known.delete(name);
    this.queue = this.queue.filter((v) => v.name !== name);
    return had;
  }

  /** SwapLimiter: a new bucket at qps, drained when the old one had nothing left (burst 1). */
  swapLimiter(qps: number, nowMs: number): void {
    if (this.limiter.qps === qps) return;
    const next = new TokenBucket(qps, nowMs);
    if (qps > 0 && !this.limiter.tryAccept(nowMs)) next.tryAccept(nowMs);
    this.limiter = next;
  }

  /**
   * Processes due values in order while the limiter allows: fn resolves {ok: true} to drop the value from the
   * queue (it stays known), or {ok: false, waitMs} to retry it that much later.
   */
  async try(now: () => number, fn: (v: TimedValue) => Promise<{ ok: boolean; waitMs?: number }>): Promise<void> {
    for (let v = this.queue[0]; v; v = this.queue[0]) {
      const t = now();
      if (!this.limiter.tryAccept(t)) return;
      if (t < v.processAt) return;
      const r = await fn(v);
      // The value may have been removed (or re-added) while fn ran.
      const i = this.queue.indexOf(v);
      if (i < 0) continue;
      if (r.ok) this.queue.splice(i, 1);
      else {
        v.processAt = now() + (r.waitMs ?? 0) + 1;
        this.sort();
      }
    }
  }

  private sort(): void {
    this.queue.sort((a, b) => a.processAt - b.processAt);
  }
}

const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];
const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];

/** component-helpers GetZoneKey: "" without zone labels, else region + ":\x00:" + zone. */
export function zoneKey(node: KubeObject): string {
  const l = node.metadata.labels ?? {};
  const region = REGION_LABELS.map((k) => l[k]).find((v) => v !== undefined) ?? '';
  const zone = ZONE_LABELS.map((k) => l[k]).find((v) => v !== undefined) ?? '';
  if (region === '' && zone === '') return '';
  return `${region}:\x00:${zone}`;
}

/** ComputeZoneState: no Ready node is a full disruption; > 2 not-ready and ≥ threshold of all a partial one. */
export function computeZoneState(ready: number, notReady: number, unhealthyThreshold: number): ZoneState {
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyThreshold) return 'PartialDisruption';
  return 'Normal';
}
