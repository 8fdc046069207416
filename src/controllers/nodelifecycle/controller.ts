// Node lifecycle controller (upstream pkg/controller/nodelifecycle): judges each node's health from its Lease in
// kube-node-lease and its Ready condition's heartbeat, posts Ready (and the pressure conditions) Unknown once the
// grace period passes without either, marks the node's pods not Ready, keeps the NoSchedule taints that mirror node
// conditions (TaintNodesByCondition) and adds/removes the not-ready/unreachable NoExecute taints — rate limited per
// zone and stopped altogether when every zone is fully disrupted — which the taint eviction controller acts on.
//
// Where upstream polls every node each nodeMonitorPeriod, this controller is event driven: a node is synced when
// it, its Lease or its pods change, and again exactly when its grace period would run out.

import type { KubeObject } from '../../api/types.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { isConflict, isNotFound, objectKey, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import {
  NODES,
  NOT_READY_NOEXECUTE,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  UNREACHABLE_NOEXECUTE,
  swapNodeTaints,
  taintExists,
  taintsOf,
  type NodeTaint,
} from './taints.js';
import { RateLimitedTimedQueue, computeZoneState, zoneKey, type ZoneState } from './zones.js';
import { LEASES, PODS } from '../../client/resources.js';
import { rfc3339 } from '../../api/time.js';
export { LEASES, PODS };

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Nodes carrying this label are left out of the zone disruption counts (upstream labelNodeDisruptionExclusion). */
const LABEL_EXCLUDE_DISRUPTION = 'node.kubernetes.io/exclude-disruption';

/** The conditions the controller turns Unknown (NetworkUnavailable is left to the network plugin, as upstream). */
const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** nodeConditionToTaintKeyStatusMap: condition type → status → NoSchedule taint key. */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: 'node.kubernetes.io/memory-pressure' },
  DiskPressure: { True: 'node.kubernetes.io/disk-pressure' },
  NetworkUnavailable: { True: 'node.kubernetes.io/network-unavailable' },
  PIDPressure: { True: 'node.kubernetes.io/pid-pressure' },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));

export interface NodeCondition {
  type: string;
  status: string;
  lastHeartbeatTime?: string | null;
  lastTransitionTime?: string | null;
  reason?: string;
  message?: string;
}

export interface NodeLifecycleOptions {
  /** Without a heartbeat (Lease renewal or Ready lastHeartbeatTime change) this long, the node is Unknown; 40 s. */
  nodeMonitorGracePeriodMs?: number;
  /** The same for a node that never posted a Ready condition; 60 s. */
  nodeStartupGracePeriodMs?: number;
  /** Nodes tainted NoExecute per second in a healthy zone (--node-eviction-rate); 0.1. */
  evictionLimiterQPS?: number;
  /** The same in a partially disrupted large zone (--secondary-node-eviction-rate); 0.01. */
  secondaryEvictionLimiterQPS?: number;
  /** Zones of at most this many nodes stop tainting when partially disrupted; 50. */
  largeClusterThreshold?: number;
  /** Share of not-ready nodes (with more than two) that makes a zone partially disrupted; 0.55. */
  unhealthyZoneThreshold?: number;
  /** How often the rate-limited NoExecute tainting queues are drained (upstream NodeEvictionPeriod); 100 ms. */
  taintPassMs?: number;
  workers?: number;
  log?: Logger;
  now?: () => number;
}

/** What the controller remembers of a node's health, on its own clock (nodeHealthData). */
interface Health {
  probe: number;
  readyTransition: number;
  /** The Ready condition last seen in the node's status. */
  ready: NodeCondition | undefined;
  /** The Lease's renewTime last seen (ms). */
  leaseRenew: number | undefined;
}

interface HealthResult {
  node: KubeObject;
  observed: NodeCondition;
  current: NodeCondition | undefined;
}

const conditionsOf = (node: KubeObject): NodeCondition[] => ((node.status ?? {}) as { conditions?: NodeCondition[] }).conditions ?? [];
export const nodeCondition = (node: KubeObject, type: string): NodeCondition | undefined => conditionsOf(node).find((c) => c.type === type);
const sameCondition = (a: NodeCondition | undefined, b: NodeCondition | undefined): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const podNodeName = (p: KubeObject): string => ((p.spec ?? {}) as { nodeName?: string }).nodeName ?? '';

/** metav1.MicroTime / Time → ms (Date.parse keeps only milliseconds of the fraction). */
function parseTime(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const ms = Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? undefined : ms;
}

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  readonly queue = new WorkQueue<string>();
  readonly podQueue = new WorkQueue<string>();
  readonly nodes: Informer;
  readonly leases: Informer;
  readonly pods: Informer;
  readonly recorder: EventRecorder;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly grace: number;
  private readonly startupGrace: number;
  private readonly evictionQPS: number;
  private readonly secondaryQPS: number;
  private readonly largeCluster: number;
  private readonly unhealthyThreshold: number;
  private readonly health = new Map<string, Health>();
  /** Nodes this controller has seen, with their uid (knownNodeSet). */
  private readonly known = new Map<string, string>();
  private readonly podsByNode = new Map<string, Map<string, KubeObject>>();
  /** Nodes whose pods still need marking not Ready after a failed attempt (nodesToRetry). */
  private readonly retryPods = new Set<string>();
  readonly tainters = new Map<string, RateLimitedTimedQueue>();
  readonly zoneStates = new Map<string, ZoneState>();
  /** Each counted node's zone and whether its Ready condition is True; counts per zone kept alongside. */
  private readonly readiness = new Map<string, { zone: string; ready: boolean }>();
  private readonly zoneCounts = new Map<string, { ready: number; notReady: number }>();
  /** Nodes from the first list not yet synced: zone states are judged only once every node has been looked at. */
  private unprimed: Set<string> | undefined;
  private taintTimer: NodeJS.Timeout | undefined;
  private tainting: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly opts: NodeLifecycleOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.grace = opts.nodeMonitorGracePeriodMs ?? 40_000;
    this.startupGrace = opts.nodeStartupGracePeriodMs ?? 60_000;
    this.evictionQPS = opts.evictionLimiterQPS ?? 0.1;
    this.secondaryQPS = opts.secondaryEvictionLimiterQPS ?? 0.01;
    this.largeCluster = opts.largeClusterThreshold ?? 50;
    this.unhealthyThreshold = opts.unhealthyZoneThreshold ?? 0.55;
    this.recorder = new EventRecorder(client, 'node-controller', undefined, this.now);
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.nodes = new Informer(client, NODES, { onError: onError('nodes') });
    this.leases = new Informer(client, LEASES, { namespace: NODE_LEASE_NAMESPACE, onError: onError('leases') });
    this.pods = new Informer(client, PODS, { fieldSelector: 'spec.nodeName!=', onError: onError('pods') });
    this.nodes.addEventHandler({
      add: (n) => this.queue.add(n.metadata.name ?? ''),
      update: (_o, n) => this.queue.add(n.metadata.name ?? ''),
      delete: (n) => this.queue.add(n.metadata.name ?? ''),
    });
    this.leases.addEventHandler({
      add: (l) => this.queue.add(l.metadata.name ?? ''),
      update: (o, l) => {
        if (o.metadata.resourceVersion !== l.metadata.resourceVersion) this.queue.add(l.metadata.name ?? '');
      },
    });
    this.pods.addEventHandler({
      add: (p) => {
        this.index(p);
        this.podQueue.add(objectKey(p));
      },
      update: (o, p) => {
        this.index(p);
        if (podNodeName(o) !== podNodeName(p)) this.podQueue.add(objectKey(p));
      },
      delete: (p) => this.podsByNode.get(podNodeName(p))?.delete(objectKey(p)),
    });
  }

  async run(): Promise<void> {
    this.nodes.start();
    this.leases.start();
    this.pods.start();
    await Promise.all([this.nodes.hasSynced, this.leases.hasSynced, this.pods.hasSynced]);
    if (this.stopped) return;
    this.unprimed = new Set(this.nodes.list().map((n) => n.metadata.name ?? ''));
    if (this.unprimed.size === 0) this.unprimed = undefined;
    this.taintTimer = setInterval(() => void this.taintPass(), this.opts.taintPassMs ?? 100);
    this.taintTimer.unref();
    const onError = (what: string) => (k: string, e: unknown) => {
      if (!isConflict(e)) this.log(`sync ${what} ${k}: ${errorMessage(e)}`);
    };
    await Promise.all([
      runWorkers(this.queue, this.opts.workers ?? 8, (k) => this.syncNode(k), onError('node')),
      runWorkers(this.podQueue, 4, (k) => this.syncPod(k), onError('pod')),
    ]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.taintTimer) clearInterval(this.taintTimer);
    this.queue.shutDown();
    this.podQueue.shutDown();
    await Promise.all([this.nodes.stop(), this.leases.stop(), this.pods.stop(), this.tainting]);
    await this.recorder.flush();
  }

  private index(p: KubeObject): void {
    const node = podNodeName(p);
    let m = this.podsByNode.get(node);
    if (!m) this.podsByNode.set(node, (m = new Map()));
    m.set(objectKey(p), p);
  }

  podsOn(node: string): KubeObject[] {
    return [...(this.podsByNode.get(node)?.values() ?? [])];
  }

  // ---- node sync ----

  /** One node's pass of upstream's monitorNodeHealth plus its NoSchedule tainting pass. Throws to retry. */
  async syncNode(name: string): Promise<void> {
    const cached = this.nodes.get(name);
    if (!cached) return this.forget(name);
    let node = structuredClone(cached);
    if (!this.known.has(name)) {
      this.known.set(name, node.metadata.uid ?? '');
      this.recordNodeEvent(node, 'RegisteredNode', `Registered Node ${name} in Controller`);
      this.tainterFor(node);
      node = (await this.markNodeAsReachable(node)) ?? node;
    }

    let res: HealthResult | undefined;
    for (let attempt = 1; !res; attempt++) {
      try {
        res = await this.tryUpdateNodeHealth(node);
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt >= 5) throw e;
        node = await this.client.get(NODES, undefined, name);
      }
    }
    node = res.node;
    this.count(node, res.current);

    let podErr: unknown;
    if (res.current) {
      node = await this.processTaintBasedEviction(node, res.observed);
      const wasReady = res.observed.status === 'True';
      const mark = (res.current.status !== 'True' && wasReady) || (this.retryPods.has(name) && !wasReady);
      if (res.current.status !== 'True' && wasReady) this.recordStatusChange(node, 'NodeNotReady');
      if (mark) {
        try {
          await this.markPodsNotReady(this.podsOn(name), name);
          this.retryPods.delete(name);
        } catch (e) {
          this.retryPods.add(name);
          podErr = e;
        }
      } else this.retryPods.delete(name);
    }
    await this.noScheduleTaintingPass(node);

    if (this.unprimed) {
      this.unprimed.delete(name);
      if (this.unprimed.size === 0) this.unprimed = undefined;
    }
    await this.handleDisruption();
    this.scheduleDeadline(name, node);
    if (podErr) throw podErr;
  }

  /** Syncs the node again just after its grace period would end without another heartbeat. */
  private scheduleDeadline(name: string, node: KubeObject): void {
    const h = this.health.get(name);
    if (!h) return;
    const grace = nodeCondition(node, 'Ready') ? this.grace : this.startupGrace;
    const left = h.probe + grace - this.now();
    if (left >= 0) this.queue.addAfter(name, left + 10);
  }

  private forget(name: string): void {
    const uid = this.known.get(name);
    if (uid !== undefined) {
      this.recordNodeEvent({ metadata: { name, uid } }, 'RemovingNode', `Removing Node ${name} from Controller`);
      this.known.delete(name);
    }
    this.health.delete(name);
    this.retryPods.delete(name);
    this.uncount(name);
    for (const t of this.tainters.values()) t.remove(name);
    this.unprimed?.delete(name);
    void this.handleDisruption();
  }

  /**
   * Upstream tryUpdateNodeHealth: refreshes the probe time when the Ready heartbeat or the Lease moved; past the
   * grace period turns the monitored conditions Unknown and writes them through nodes/status. `observed` is the
   * Ready condition as found, `current` as it is now.
   */
  async tryUpdateNodeHealth(node: KubeObject): Promise<HealthResult> {
    const name = node.metadata.name ?? '';
    const now = this.now();
    const created = parseTime(node.metadata.creationTimestamp) ?? now;
    const prev = this.health.get(name);
    let h: Health | undefined = prev && { ...prev };
    const current = nodeCondition(node, 'Ready');
    let observed: NodeCondition;
    let grace: number;
    if (!current) {
      // Never posted: judge against the creation time with the longer start-up grace.
      observed = { type: 'Ready', status: 'Unknown', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: node.metadata.creationTimestamp };
      grace = this.startupGrace;
      if (h) h.ready = undefined;
      else h = { probe: created, readyTransition: created, ready: undefined, leaseRenew: undefined };
    } else {
      observed = structuredClone(current);
      grace = this.grace;
    }
    const saved = prev?.ready;
    if (!h) h = { probe: now, readyTransition: now, ready: current && structuredClone(current), leaseRenew: undefined };
    else if ((!saved && current) || (saved && !current)) h = { probe: now, readyTransition: now, ready: current && structuredClone(current), leaseRenew: h.leaseRenew };
    else if (saved && current && saved.lastHeartbeatTime !== current.lastHeartbeatTime) {
      const transition = saved.lastTransitionTime !== current.lastTransitionTime ? now : h.readyTransition;
      h = { probe: now, readyTransition: transition, ready: structuredClone(current), leaseRenew: h.leaseRenew };
    }
    // A renewed Lease is a heartbeat too (a kubelet that renews but never posts status counts as healthy).
    const lease = this.leases.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    const renew = lease && parseTime((lease.spec as { renewTime?: string } | undefined)?.renewTime);
    if (renew !== undefined && (h.leaseRenew === undefined || h.leaseRenew < renew)) {
      h.leaseRenew = renew;
      h.probe = now;
    }
    this.health.set(name, h);

    if (now <= h.probe + grace) return { node, observed, current };
    const status = (node.status ??= {}) as { conditions?: NodeCondition[] };
    const conditions = (status.conditions ??= []);
    for (const type of MONITORED_CONDITIONS) {
      const c = conditions.find((x) => x.type === type);
      if (!c) {
        conditions.push({ type, status: 'Unknown', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: rfc3339(now), reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
      } else if (c.status !== 'Unknown') {
        c.status = 'Unknown';
        c.reason = 'NodeStatusUnknown';
        c.message = 'Kubelet stopped posting node status.';
        c.lastTransitionTime = rfc3339(now);
      }
    }
    const after = nodeCondition(node, 'Ready');
    if (sameCondition(after, observed)) return { node, observed, current: after };
    const written = await this.client.update(NODES, undefined, node, 'status');
    const ready = nodeCondition(written, 'Ready') ?? after;
    this.health.set(name, { probe: h.probe, readyTransition: now, ready: ready && structuredClone(ready), leaseRenew: h.leaseRenew });
    return { node: written, observed, current: ready };
  }

  /** Upstream processTaintBaseEviction: swap at once between the two NoExecute taints, else queue for tainting. */
  private async processTaintBasedEviction(node: KubeObject, observed: NodeCondition): Promise<KubeObject> {
    const name = node.metadata.name ?? '';
    const taints = taintsOf(node);
    switch (observed.status) {
      case 'False':
        if (taintExists(taints, UNREACHABLE_NOEXECUTE)) return (await this.swap(node, [NOT_READY_NOEXECUTE], [UNREACHABLE_NOEXECUTE])) ?? node;
        this.markNodeForTainting(node, 'False');
        return node;
      case 'Unknown':
        if (taintExists(taints, NOT_READY_NOEXECUTE)) return (await this.swap(node, [UNREACHABLE_NOEXECUTE], [NOT_READY_NOEXECUTE])) ?? node;
        this.markNodeForTainting(node, 'Unknown');
        return node;
      case 'True': {
        const out = await this.markNodeAsReachable(node);
        if (!out) this.log(`node ${name} is gone while removing its taints`);
        return out ?? node;
      }
      default:
        return node;
    }
  }

  private tainterFor(node: KubeObject): RateLimitedTimedQueue {
    const zone = zoneKey(node);
    let t = this.tainters.get(zone);
    if (!t) {
      this.tainters.set(zone, (t = new RateLimitedTimedQueue(this.evictionQPS, this.now())));
      this.zoneStates.set(zone, 'Initial');
    }
    return t;
  }

  private markNodeForTainting(node: KubeObject, status: 'False' | 'Unknown'): boolean {
    const t = this.tainterFor(node);
    const name = node.metadata.name ?? '';
    const wanted = status === 'False' ? NOT_READY_NOEXECUTE : UNREACHABLE_NOEXECUTE;
    if (!taintExists(taintsOf(node), wanted)) t.remove(name);
    return t.add(name, node.metadata.uid ?? '', this.now());
  }

  /** Removes both NoExecute taints and forgets any queued tainting (markNodeAsReachable). */
  private async markNodeAsReachable(node: KubeObject): Promise<KubeObject | undefined> {
    const out = await this.swap(node, [], [UNREACHABLE_NOEXECUTE, NOT_READY_NOEXECUTE]);
    this.tainters.get(zoneKey(node))?.remove(node.metadata.name ?? '');
    return out;
  }

  private async swap(node: KubeObject, add: NodeTaint[], remove: NodeTaint[]): Promise<KubeObject | undefined> {
    return await swapNodeTaints(this.client, node.metadata.name ?? '', node, add, remove, this.now());
  }

  /** doNoScheduleTaintingPass: NoSchedule taints mirror the node's conditions and spec.unschedulable. */
  private async noScheduleTaintingPass(node: KubeObject): Promise<void> {
    const want: NodeTaint[] = [];
    for (const c of conditionsOf(node)) {
      const key = CONDITION_TAINTS[c.type]?.[c.status];
      if (key) want.push({ key, effect: 'NoSchedule' });
    }
    if ((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable) want.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
    const have = taintsOf(node).filter((t) => t.effect === 'NoSchedule' && (t.key === TAINT_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)));
    const add = want.filter((w) => !taintExists(have, w));
    const del = have.filter((h) => !taintExists(want, h));
    if (add.length || del.length) await this.swap(node, add, del);
  }

  /** doNoExecuteTaintingPass: drains each zone's queue through its rate limiter. */
  async taintPass(): Promise<void> {
    if (this.tainting || this.unprimed || this.stopped) return;
    const run = async () => {
      for (const t of this.tainters.values()) {
        await t.try(this.now, async (v) => {
          const node = this.nodes.get(v.name);
          if (!node) return { ok: true };
          const ready = nodeCondition(node, 'Ready');
          if (!ready) return { ok: false, waitMs: 50 };
          // "unreachable" and "not ready" mirror Ready Unknown and False, so they exclude each other.
          let add: NodeTaint;
          let opposite: NodeTaint;
          if (ready.status === 'False') [add, opposite] = [NOT_READY_NOEXECUTE, UNREACHABLE_NOEXECUTE];
          else if (ready.status === 'Unknown') [add, opposite] = [UNREACHABLE_NOEXECUTE, NOT_READY_NOEXECUTE];
          else return { ok: true };
          try {
            await this.swap(structuredClone(node), [add], [opposite]);
            return { ok: true };
          } catch (e) {
            this.log(`tainting node ${v.name}: ${errorMessage(e)}`);
            return { ok: false, waitMs: 0 };
          }
        });
      }
    };
    this.tainting = run().finally(() => (this.tainting = undefined));
    await this.tainting;
  }

  // ---- zone disruption ----

  private count(node: KubeObject, ready: NodeCondition | undefined): void {
    const name = node.metadata.name ?? '';
    this.uncount(name);
    if (node.metadata.labels?.[LABEL_EXCLUDE_DISRUPTION] !== undefined) return;
    const entry = { zone: zoneKey(node), ready: ready?.status === 'True' };
    this.readiness.set(name, entry);
    let c = this.zoneCounts.get(entry.zone);
    if (!c) this.zoneCounts.set(entry.zone, (c = { ready: 0, notReady: 0 }));
    if (entry.ready) c.ready++;
    else c.notReady++;
  }

  private uncount(name: string): void {
    const e = this.readiness.get(name);
    if (!e) return;
    this.readiness.delete(name);
    const c = this.zoneCounts.get(e.zone);
    if (!c) return;
    if (e.ready) c.ready--;
    else c.notReady--;
    if (c.ready + c.notReady === 0) this.zoneCounts.delete(e.zone);
  }

  /**
   * Upstream handleDisruption over the kept counts: per-zone limiter rates follow the zone's state; when every
   * zone is fully disrupted (the control plane more likely lost the nodes than the nodes died) all NoExecute
   * taints go and tainting stops, and on the way out every node gets a fresh grace period.
   */
  private async handleDisruption(): Promise<void> {
    if (this.unprimed) return;
    const now = this.now();
    const next = new Map<string, ZoneState>();
    let allFull = true;
    for (const [zone, c] of this.zoneCounts) {
      const s = computeZoneState(c.ready, c.notReady, this.unhealthyThreshold);
      next.set(zone, s);
      if (s !== 'FullDisruption') allFull = false;
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, 'Initial');
    }
    let allWereFull = true;
    for (const [zone, s] of [...this.zoneStates]) {
      if (!next.has(zone)) {
        this.zoneStates.delete(zone);
        continue;
      }
      if (s !== 'FullDisruption') allWereFull = false;
    }
    if (allFull && allWereFull) return;
    if (allFull) {
      this.log('all nodes are not ready: entering master disruption mode (no NoExecute tainting)');
      for (const z of this.zoneStates.keys()) {
        this.tainters.get(z)?.swapLimiter(0, now);
        this.zoneStates.set(z, 'FullDisruption');
      }
      await Promise.all(this.nodes.list().map((n) => this.markNodeAsReachable(structuredClone(n)).catch((e: unknown) => this.log(`removing taints from ${n.metadata.name}: ${errorMessage(e)}`))));
      return;
    }
    if (allWereFull) {
      this.log('some nodes are ready: leaving master disruption mode');
      for (const h of this.health.values()) {
        h.probe = now;
        h.readyTransition = now;
      }
      for (const z of this.zoneStates.keys()) {
        const s = next.get(z) ?? 'Normal';
        this.setLimiter(z, s);
        this.zoneStates.set(z, s);
      }
      return;
    }
    for (const [z, s] of this.zoneStates) {
      const ns = next.get(z) ?? s;
      if (ns === s) continue;
      this.log(`zone ${JSON.stringify(z)} is now ${ns}`);
      this.setLimiter(z, ns);
      this.zoneStates.set(z, ns);
    }
  }

  private setLimiter(zone: string, state: ZoneState): void {
    const t = this.tainters.get(zone);
    if (!t) return;
    const c = this.zoneCounts.get(zone);
    const size = c ? c.ready + c.notReady : 0;
    if (state === 'Normal' || state === 'FullDisruption') t.swapLimiter(this.evictionQPS, this.now());
    else if (state === 'PartialDisruption') t.swapLimiter(size > this.largeCluster ? this.secondaryQPS : 0, this.now());
  }

  // ---- pods ----

  /** A pod newly bound to a node that is not Ready is marked not Ready at once (upstream processPod). */
  async syncPod(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod) return;
    const nodeName = podNodeName(pod);
    const h = this.health.get(nodeName);
    if (!h?.ready || !this.nodes.get(nodeName)) return;
    if (h.ready.status !== 'True') await this.markPodsNotReady([pod], nodeName);
  }

  /** Upstream MarkPodsNotReady: each pod's Ready condition becomes False, with a NodeNotReady event. */
  async markPodsNotReady(pods: KubeObject[], nodeName: string): Promise<void> {
    const errors: unknown[] = [];
    const one = async (cached: KubeObject): Promise<void> => {
      if (podNodeName(cached) !== nodeName) return;
      const pod = structuredClone(cached);
      const conds = ((pod.status ?? {}) as { conditions?: Array<Record<string, unknown>> }).conditions ?? [];
      const ready = conds.find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') return;
      ready.status = 'False';
      ready.lastTransitionTime = rfc3339(this.now());
      try {
        await this.client.update(PODS, pod.metadata.namespace, pod, 'status');
      } catch (e) {
        if (isNotFound(e)) return;
        errors.push(e);
        return;
      }
      this.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata }, 'Warning', 'NodeNotReady', 'Node is not ready');
    };
    for (let i = 0; i < pods.length; i += 16) await Promise.all(pods.slice(i, i + 16).map(one));
    if (errors.length) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  }

  // ---- events ----

  private recordNodeEvent(node: KubeObject, reason: string, event: string): void {
    const name = node.metadata.name ?? '';
    this.recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: node.metadata.uid } }, 'Normal', reason, `Node ${name} event: ${event}`);
  }

  private recordStatusChange(node: KubeObject, status: string): void {
    const name = node.metadata.name ?? '';
    this.recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: node.metadata.uid } }, 'Normal', status, `Node ${name} status is now: ${status}`);
  }
}
