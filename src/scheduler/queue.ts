// The scheduling queue (internal/queue): an active heap ordered by the QueueSort plugin, a backoff pool
// (1 s doubling to 10 s per failed attempt) and an unschedulable pool that cluster events (node added/changed,
// assigned pod deleted…) move back — only for pods rejected by a plugin that cares about the event — or that
// a periodic flush empties after five minutes.

import type { ClusterEvent } from './framework/interface.js';
import type { Pod } from '../api/corev1/types.js';

export interface QueuedPod {
  key: string;
  pod: Pod;
  priority: number;
  /** Creation time (ms), then arrival order: the secondary sort key. */
  timestamp: number;
  seq: number;
  attempts: number;
  /** Plugins that rejected the pod last time (empty after an error). */
  unschedulablePlugins: Set<string>;
  backoffUntil: number;
  lastFailure: number;
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** podMaxInUnschedulablePodsDuration. */
  unschedulableTimeoutMs?: number;
  flushIntervalMs?: number;
  now?: () => number;
  /** plugin name → events worth retrying its rejections for; a plugin absent here retries on every event. */
  pluginEvents?: Map<string, readonly ClusterEvent[]>;
}

type Less = (a: QueuedPod, b: QueuedPod) => boolean;

export const defaultLess: Less = (a, b) => (a.priority !== b.priority ? a.priority > b.priority : a.timestamp !== b.timestamp ? a.timestamp < b.timestamp : a.seq < b.seq);

/** Binary heap with lazy deletion: an entry is live while `live.get(key)` is that entry. */
class Heap {
  private readonly items: QueuedPod[] = [];
  readonly live = new Map<string, QueuedPod>();

  constructor(private readonly less: Less) {}

  get size(): number {
    return this.live.size;
  }

  push(q: QueuedPod): void {
    this.live.set(q.key, q);
    const a = this.items;
    a.push(q);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  remove(key: string): QueuedPod | undefined {
    const q = this.live.get(key);
    this.live.delete(key);
    return q;
  }

  pop(): QueuedPod | undefined {
    const a = this.items;
    while (a.length) {
      const top = a[0];
      const last = a.pop()!;
      if (a.length) {
        a[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < a.length && this.less(a[l], a[m])) m = l;
          if (r < a.length && this.less(a[r], a[m])) m = r;
          if (m === i) break;
          [a[i], a[m]] = [a[m], a[i]];
          i = m;
        }
      }
      if (this.live.get(top.key) === top) {
        this.live.delete(top.key);
        return top;
      }
    }
    return undefined;
  }
}

/** What in a pod can change its fit: spec and labels (status-only updates, like our own condition, do not). */
const fitRelevant = (p: Pod): string => JSON.stringify([p.spec, p.metadata.labels]);

export class SchedulingQueue {
  private readonly active: Heap;
  private readonly backoff = new Map<string, QueuedPod>();
  private readonly unschedulable = new Map<string, QueuedPod>();
  private readonly inFlight = new Map<string, QueuedPod>();
  private readonly waiters: Array<(q: QueuedPod | undefined) => void> = [];
  private seq = 0;
  private cycle = 0;
  private moveRequestCycle = -1;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly unschedulableTimeout: number;

  constructor(
    less: Less = defaultLess,
    private readonly opts: QueueOptions = {},
  ) {
    this.active = new Heap(less);
    this.now = opts.now ?? Date.now;
    this.initialBackoff = opts.initialBackoffMs ?? 1000;
    this.maxBackoff = opts.maxBackoffMs ?? 10_000;
    this.unschedulableTimeout = opts.unschedulableTimeoutMs ?? 5 * 60_000;
    this.timer = setInterval(() => this.flush(), opts.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  get schedulingCycle(): number {
    return this.cycle;
  }

  /** Sizes of the three pools (for tests and metrics). */
  stats(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, inFlight: this.inFlight.size };
  }

  has(key: string): boolean {
    return this.active.live.has(key) || this.backoff.has(key) || this.unschedulable.has(key) || this.inFlight.has(key);
  }

  add(key: string, pod: Pod, priority: number): void {
    if (this.closed) return;
    if (this.has(key)) return this.update(key, pod, priority);
    const ts = Date.parse(pod.metadata.creationTimestamp ?? '') || this.now();
    this.toActive({ key, pod, priority, timestamp: ts, seq: this.seq++, attempts: 0, unschedulablePlugins: new Set(), backoffUntil: 0, lastFailure: 0 });
  }

  /** A newer version of a pending pod: replaces the queued copy; a fit-relevant change retries a rejected pod. */
  update(key: string, pod: Pod, priority: number): void {
    const inActive = this.active.live.get(key);
    if (inActive) {
      this.active.remove(key);
      this.toActive({ ...inActive, pod, priority });
      return;
    }
    const fl = this.inFlight.get(key);
    if (fl) {
      fl.pod = pod;
      fl.priority = priority;
      return;
    }
    const b = this.backoff.get(key);
    if (b) {
      b.pod = pod;
      b.priority = priority;
      return;
    }
    const u = this.unschedulable.get(key);
    if (u) {
      const changed = fitRelevant(u.pod) !== fitRelevant(pod);
      u.pod = pod;
      u.priority = priority;
      if (changed) {
        this.unschedulable.delete(key);
        this.requeue(u);
      }
      return;
    }
    this.add(key, pod, priority);
  }

  delete(key: string): void {
    this.active.remove(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.inFlight.delete(key);
  }

  /** The next pod to schedule (waits for one); undefined once closed. Pair with done() or addUnschedulable(). */
  pop(): Promise<QueuedPod | undefined> {
    const q = this.active.pop();
    if (q) return Promise.resolve(this.take(q));
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((r) => this.waiters.push(r));
  }

  private take(q: QueuedPod): QueuedPod {
    this.cycle++;
    q.attempts++;
    this.inFlight.set(q.key, q);
    return q;
  }

  /** Scheduling of the pod finished (bound or dropped). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * A pod that did not fit (plugins: who rejected it) or hit an error (plugins empty → backoff). If a cluster
   * event arrived while it was being scheduled it goes to backoff at once instead of waiting for another.
   */
  addUnschedulable(q: QueuedPod, podCycle: number, plugins: Set<string>): void {
    if (this.inFlight.get(q.key) !== q) return; // deleted meanwhile
    this.inFlight.delete(q.key);
    if (this.closed) return;
    q.unschedulablePlugins = plugins;
    q.lastFailure = this.now();
    q.backoffUntil = q.lastFailure + Math.min(this.maxBackoff, this.initialBackoff * 2 ** Math.max(0, q.attempts - 1));
    if (plugins.size === 0 || this.moveRequestCycle >= podCycle) this.backoff.set(q.key, q);
    else this.unschedulable.set(q.key, q);
  }

  /** MoveAllToActiveOrBackoffQueue for pods whose rejecting plugins care about `event`. */
  moveAll(event: ClusterEvent): void {
    const pe = this.opts.pluginEvents;
    for (const [k, q] of this.unschedulable) {
      const relevant = q.unschedulablePlugins.size === 0 || !pe || [...q.unschedulablePlugins].some((p) => !pe.has(p) || pe.get(p)!.includes(event));
      if (!relevant) continue;
      this.unschedulable.delete(k);
      this.requeue(q);
    }
    this.moveRequestCycle = this.cycle;
  }

  private requeue(q: QueuedPod): void {
    if (q.backoffUntil > this.now()) this.backoff.set(q.key, q);
    else this.toActive(q);
  }

  private toActive(q: QueuedPod): void {
    const w = this.waiters.shift();
    if (w) w(this.take(q));
    else this.active.push(q);
  }

  /** Backoff expiry and the unschedulable leftover timeout (runs every flushIntervalMs). */
  flush(): void {
    const now = this.now();
    for (const [k, q] of this.backoff) {
      if (q.backoffUntil <= now) {
        this.backoff.delete(k);
        this.toActive(q);
      }
    }
    for (const [k, q] of this.unschedulable) {
      if (now - q.lastFailure >= this.unschedulableTimeout) {
        this.unschedulable.delete(k);
        this.requeue(q);
      }
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
