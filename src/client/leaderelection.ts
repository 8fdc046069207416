// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection with the LeaseLock: one
// holder at a time per lock name; the others stand by and take over once the holder stops renewing.
// Expiry is judged by the candidate's own clock from when it last saw the record change (client-go's
// observedTime), never by comparing clocks across machines. Writes are guarded by resourceVersion.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeObject } from '../api/types.js';
import { isConflict, isNotFound, type Client, type Resource } from './interface.js';
import { LEASES } from './resources.js';
export { LEASES };

export interface LeaderElectionOptions {
  /** Lease name, e.g. "kube-controller-manager", "kube-scheduler". */
  name: string;
  /** Default kube-system. */
  namespace?: string;
  /** Default `<hostname>_<uuid>` as upstream. */
  identity?: string;
  /** How long a non-renewed lease stays valid (default 15 s). */
  leaseDurationMs?: number;
  /** The leader gives up if it could not renew for this long (default 10 s). */
  renewDeadlineMs?: number;
  /** Between attempts (default 2 s). */
  retryPeriodMs?: number;
  /** Called when this candidate becomes the leader; stop work when `lost` resolves. */
  onStartedLeading: (lost: Promise<void>) => void;
  /** Called when leadership ends (renew deadline passed or stop()). */
  onStoppedLeading?: () => void;
  /** Called with the new leader's identity whenever it changes. */
  onNewLeader?: (identity: string) => void;
  now?: () => number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly identity: string;
  private readonly ns: string;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private stopped = false;
  private leading = false;
  private observed: { record: string; at: number } | undefined;
  private lastLeader = '';
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loseLeadership: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    this.ns = opts.namespace ?? 'kube-system';
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    this.now = opts.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts campaigning; resolves once stop() has been called and the loop has ended. */
  run(): Promise<void> {
    this.loop = this.campaign();
    return this.loop;
  }

  /** Stops campaigning; a leader releases the lease (holder cleared) so a stand-by takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    if (this.leading) {
      this.endLeadership();
      await this.release().catch(() => undefined);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((res) => {
      this.wake = res;
      this.timer = setTimeout(res, ms);
    });
  }

  private async campaign(): Promise<void> {
    let lastRenew = 0;
    while (!this.stopped) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch {
        ok = false;
      }
      if (this.stopped) break;
      const t = this.now();
      if (ok) {
        lastRenew = t;
        if (!this.leading) {
          this.leading = true;
          const lost = new Promise<void>((res) => (this.loseLeadership = res));
          this.opts.onStartedLeading(lost);
        }
      } else if (this.leading && t - lastRenew >= this.renewDeadlineMs) {
        this.endLeadership();
      }
      await this.sleep(this.retryMs);
    }
  }

  private endLeadership(): void {
    if (!this.leading) return;
    this.leading = false;
    this.loseLeadership?.();
    this.loseLeadership = undefined;
    this.opts.onStoppedLeading?.();
  }

  /** One round of client-go's tryAcquireOrRenew. True when we hold the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const t = this.now();
    const mine = (prev: LeaseSpec | undefined, transitions: number): LeaseSpec => ({
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.round(this.leaseMs / 1000),
      acquireTime: prev?.holderIdentity === this.identity && prev.acquireTime ? prev.acquireTime : microTime(t),
      renewTime: microTime(t),
      leaseTransitions: transitions,
    });
    let lease: KubeObject;
    try {
      lease = await this.client.get(LEASES, this.ns, this.opts.name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await this.client.create(LEASES, this.ns, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.name, namespace: this.ns },
          spec: mine(undefined, 0),
        });
      } catch (ce) {
        if (isConflict(ce)) return false;
        throw ce;
      }
      this.observe(JSON.stringify(mine(undefined, 0)), t, this.identity);
      return true;
    }
    const spec = (lease.spec ?? {}) as LeaseSpec;
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime, spec.leaseTransitions]);
    if (!this.observed || this.observed.record !== record) this.observe(record, t, spec.holderIdentity ?? '');
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? Math.round(this.leaseMs / 1000)) * 1000;
    const heldByOther = holder !== '' && holder !== this.identity;
    if (heldByOther && this.observed!.at + duration > t) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === this.identity ? 0 : 1);
    const next = { ...lease, spec: { ...spec, ...mine(spec, transitions) } };
    try {
      const updated = await this.client.update(LEASES, this.ns, next);
      const s = (updated.spec ?? {}) as LeaseSpec;
      this.observe(JSON.stringify([s.holderIdentity, s.renewTime, s.acquireTime, s.leaseTransitions]), t, this.identity);
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  private observe(record: string, at: number, holder: string): void {
    this.observed = { record, at };
    if (holder && holder !== this.lastLeader) {
      this.lastLeader = holder;
      this.opts.onNewLeader?.(holder);
    }
  }

  /** Give the lease up (client-go ReleaseOnCancel): empty holder, so the next candidate need not wait. */
  private async release(): Promise<void> {
    const lease = await this.client.get(LEASES, this.ns, this.opts.name);
    const spec = (lease.spec ?? {}) as LeaseSpec;
    if (spec.holderIdentity !== this.identity) return;
    const t = this.now();
    await this.client.update(LEASES, this.ns, { ...lease, spec: { ...spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(t), acquireTime: microTime(t) } });
  }
}
