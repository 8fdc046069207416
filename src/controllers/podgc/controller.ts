// Pod garbage collector (upstream pkg/controller/podgc): force-deletes terminated pods beyond
// terminatedPodGCThreshold (evicted first, then oldest), pods bound to nodes that no longer exist (after a
// quarantine, and a GET confirming the node is gone; DisruptionTarget=True DeletionByPodGC), terminating pods on
// not-ready nodes tainted node.kubernetes.io/out-of-service, and terminating pods never scheduled. Pods not yet
// terminal are marked Failed first, as no kubelet will ever do it.
//
// Upstream runs the pass every 20 s; this one also runs it soon after the events that make work for it (a node
// deleted, a pod bound to an unknown node, an unscheduled pod deleted, a pod ending past the threshold).

import type { KubeObject } from '../../api/types.js';
import { Informer } from '../../client/informer.js';
import { isNotFound, objectKey, type Client, type Resource } from '../../client/interface.js';
import { realScheduler, type Scheduler } from '../../client/workqueue.js';
import { podNodeName, podPhase } from '../common/pods.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { NODES, PODS } from '../../client/resources.js';
import { rfc3339 } from '../../api/time.js';
export { NODES, PODS };

const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

export interface PodGCOptions {
  /** Terminated pods kept before the oldest are deleted (--terminated-pod-gc-threshold); ≤ 0 disables; 12500. */
  terminatedPodGCThreshold?: number;
  /** How long a pod's node must be missing from the cache before it is checked and its pods deleted; 40 s. */
  quarantineMs?: number;
  /** The periodic pass (upstream gcCheckPeriod); 20 s. */
  gcCheckPeriodMs?: number;
  log?: Logger;
  now?: () => number;
  schedule?: Scheduler;
}

const isTerminated = (p: KubeObject): boolean => {
  const phase = podPhase(p);
  return phase !== 'Pending' && phase !== 'Running' && phase !== 'Unknown';
};

const outOfService = (n: KubeObject): boolean => ((n.spec as { taints?: Array<{ key?: string }> } | undefined)?.taints ?? []).some((t) => t.key === TAINT_OUT_OF_SERVICE);

/** eviction.PodIsEvicted: Failed with reason Evicted. */
const isEvicted = (p: KubeObject): boolean => podPhase(p) === 'Failed' && (p.status as { reason?: string } | undefined)?.reason === 'Evicted';

/** byEvictionAndCreationTimestamp: evicted first, then oldest, then by name. */
function byEvictionAndAge(a: KubeObject, b: KubeObject): number {
  const ea = isEvicted(a);
  const eb = isEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
}

interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
}

export class PodGCController implements Controller {
  readonly name = 'pod-garbage-collector';
  readonly pods: Informer;
  readonly nodes: Informer;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly schedule: Scheduler;
  private readonly threshold: number;
  private readonly quarantine: number;
  private readonly period: number;
  /** Keys of cached pods in a terminal phase. */
  private readonly terminated = new Set<string>();
  /** Missing node name → when its quarantine ends (the delaying nodeQueue). */
  private readonly quarantined = new Map<string, number>();
  private next: { at: number; cancel: () => void } | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private done!: () => void;

  constructor(
    private readonly client: Client,
    private readonly opts: PodGCOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.schedule = opts.schedule ?? realScheduler;
    this.threshold = opts.terminatedPodGCThreshold ?? 12_500;
    this.quarantine = opts.quarantineMs ?? 40_000;
    this.period = opts.gcCheckPeriodMs ?? 20_000;
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.pods = new Informer(client, PODS, { onError: onError('pods') });
    this.nodes = new Informer(client, NODES, { onError: onError('nodes') });
    // Only transitions bring a pass forward (a pod we fail to remove must not become a loop of passes).
    const podChanged = (old: KubeObject | undefined, p: KubeObject) => {
      const k = objectKey(p);
      if (isTerminated(p)) {
        this.terminated.add(k);
        if ((!old || !isTerminated(old)) && this.threshold > 0 && this.terminated.size > this.threshold) this.kick(0);
      } else this.terminated.delete(k);
      const node = podNodeName(p);
      if (node && (!old || podNodeName(old) !== node) && !this.nodes.get(node)) this.kick(0);
      if (!node && p.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp) this.kick(0);
    };
    this.pods.addEventHandler({ add: (p) => podChanged(undefined, p), update: podChanged, delete: (p) => this.terminated.delete(objectKey(p)) });
    this.nodes.addEventHandler({
      delete: () => this.kick(0),
      update: (o, n) => {
        if (outOfService(n) && !outOfService(o)) this.kick(0);
      },
    });
  }

  async run(): Promise<void> {
    this.pods.start();
    this.nodes.start();
    await Promise.all([this.pods.hasSynced, this.nodes.hasSynced]);
    if (this.stopped) return;
    const finished = new Promise<void>((r) => (this.done = r));
    this.kick(0);
    await finished;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.next?.cancel();
    this.next = undefined;
    await Promise.all([this.pods.stop(), this.nodes.stop()]);
    await this.running;
    this.done?.();
  }

  /** Runs a pass within ms (an earlier pending pass wins); a pass asked for while one runs follows it. */
  private kick(ms: number): void {
    if (this.stopped || !this.pods.isSynced || !this.nodes.isSynced) return;
    if (this.running) {
      if (ms === 0) this.again = true;
      else this.later(ms);
      return;
    }
    this.later(ms);
  }

  private later(ms: number): void {
    const at = this.now() + ms;
    if (this.next && this.next.at <= at) return;
    this.next?.cancel();
    const cancel = this.schedule(() => {
      this.next = undefined;
      void this.pass();
    }, ms);
    this.next = { at, cancel };
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.gc()
      .catch((e: unknown) => this.log(`pass: ${errorMessage(e)}`))
      .finally(() => (this.running = undefined));
    await this.running;
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      this.later(0);
    } else this.later(this.period);
  }

  /** One upstream gc(): terminated, terminating out-of-service, orphaned, unscheduled terminating. */
  async gc(): Promise<void> {
    const pods = this.pods.list();
    if (this.threshold > 0) await this.gcTerminated(pods);
    await this.gcTerminatingOutOfService(pods);
    await this.gcOrphaned(pods);
    await this.gcUnscheduledTerminating(pods);
  }

  private async gcTerminated(pods: KubeObject[]): Promise<void> {
    const terminated = pods.filter(isTerminated);
    const n = terminated.length - this.threshold;
    if (n <= 0) return;
    this.log(`garbage collecting ${n} terminated pods`);
    terminated.sort(byEvictionAndAge);
    await this.each(terminated.slice(0, n), (p) => this.markFailedAndDelete(p));
  }

  private async gcTerminatingOutOfService(pods: KubeObject[]): Promise<void> {
    const victims = pods.filter((p) => {
      if (!p.metadata.deletionTimestamp) return false;
      const node = this.nodes.get(podNodeName(p));
      if (!node) return false;
      const ready = ((node.status as { conditions?: PodCondition[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready')?.status === 'True';
      return !ready && outOfService(node);
    });
    victims.sort(byEvictionAndAge);
    await this.each(victims, (p) => this.markFailedAndDelete(p));
  }

  /** Pods on nodes missing from the cache: quarantined first; then, if a GET confirms the node is gone, deleted. */
  private async gcOrphaned(pods: KubeObject[]): Promise<void> {
    const now = this.now();
    for (const p of pods) {
      const node = podNodeName(p);
      if (node && !this.nodes.get(node) && !this.quarantined.has(node)) {
        this.quarantined.set(node, now + this.quarantine);
        this.later(this.quarantine);
      }
    }
    const deleted = new Set<string>();
    for (const [node, at] of [...this.quarantined]) {
      if (at > now) continue;
      this.quarantined.delete(node);
      if (this.nodes.get(node)) continue;
      try {
        await this.client.get(NODES, undefined, node);
      } catch (e) {
        if (isNotFound(e)) deleted.add(node);
        else this.log(`getting node ${node}: ${errorMessage(e)}`);
      }
    }
    if (!deleted.size) return;
    const condition: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' };
    await this.each(
      pods.filter((p) => deleted.has(podNodeName(p))),
      async (p) => {
        this.log(`deleting orphaned pod ${objectKey(p)} of node ${podNodeName(p)}`);
        await this.markFailedAndDelete(p, condition);
      },
    );
  }

  private async gcUnscheduledTerminating(pods: KubeObject[]): Promise<void> {
    await this.each(
      pods.filter((p) => p.metadata.deletionTimestamp && !podNodeName(p)),
      (p) => this.markFailedAndDelete(p),
    );
  }

  /** Runs fn over pods, 16 at a time; errors are logged (the next pass retries), NotFound ignored. */
  private async each(pods: KubeObject[], fn: (p: KubeObject) => Promise<void>): Promise<void> {
    for (let i = 0; i < pods.length && !this.stopped; i += 16) {
      await Promise.all(
        pods.slice(i, i + 16).map(async (p) => {
          try {
            await fn(p);
          } catch (e) {
            if (!isNotFound(e)) this.log(`deleting pod ${objectKey(p)}: ${errorMessage(e)}`);
          }
        }),
      );
    }
  }

  /** markFailedAndDeletePodWithCondition: phase Failed (+ condition) unless already terminal, then delete with grace 0. */
  private async markFailedAndDelete(cached: KubeObject, condition?: PodCondition): Promise<void> {
    if (!isTerminated(cached)) {
      const pod = structuredClone(cached);
      const status = (pod.status ??= {}) as { phase?: string; conditions?: PodCondition[] };
      status.phase = 'Failed';
      if (condition) {
        const conds = (status.conditions ??= []);
        const old = conds.find((c) => c.type === condition.type);
        const next: PodCondition = { ...condition, lastProbeTime: null, lastTransitionTime: old && old.status === condition.status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(this.now()) };
        if (old) conds.splice(conds.indexOf(old), 1, next);
        else conds.push(next);
      }
      await this.client.update(PODS, pod.metadata.namespace, pod, 'status');
    }
    await this.client.delete(PODS, cached.metadata.namespace, cached.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: cached.metadata.uid } });
  }
}
