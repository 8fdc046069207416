// The scheduler (pkg/scheduler): informers feed the cache and the queue; one loop pops the most important pod,
// runs the framework synchronously (PreFilter → Filter on enough nodes → Score → Reserve), assumes the pod on
// the chosen node and binds it asynchronously. A pod that fits nowhere runs PostFilter (preemption), gets
// PodScheduled=False with upstream's message and a FailedScheduling event, and waits in the queue.

import type { KubeObject } from '../api/types.js';
import { EventRecorder, type InvolvedObject } from '../client/events.js';
import { Informer } from '../client/informer.js';
import { ApiError, objectKey, type Client, type Resource } from '../client/interface.js';
import { Cache } from './cache.js';
import type { Node, Pod, PodCondition } from '../api/corev1/types.js';
import { FitError, NO_NODES_AVAILABLE } from './framework/fiterror.js';
import { CycleState, type ClusterEvent, type ListedResource, type Listers } from './framework/interface.js';
import { PodInfo, type NodeInfo } from './framework/nodeinfo.js';
import type { Registry } from './framework/registry.js';
import { Framework, type Profile } from './framework/runtime.js';
import { gated } from './plugins/schedulinggates/schedulinggates.js';
import { DEFAULT_SCHEDULER_NAME, defaultProfile, inTreeRegistry } from './plugins/registry.js';
import { SchedulingQueue, type QueueOptions, type QueuedPod } from './queue.js';
import { NAMESPACES, NODES, PODS, PRIORITY_CLASSES } from '../client/resources.js';
import { rfc3339 } from '../api/time.js';
export { NAMESPACES, NODES, PODS, PRIORITY_CLASSES };

/** Workloads whose selectors make PodTopologySpread's default constraints. */
const LISTED: Record<ListedResource, Resource> = {
  services: { group: '', version: 'v1', resource: 'services', namespaced: true },
  replicationcontrollers: { group: '', version: 'v1', resource: 'replicationcontrollers', namespaced: true },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true },
  statefulsets: { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true },
};

/** Upstream's minFeasibleNodesToFind / minFeasibleNodesPercentageToFind. */
const MIN_FEASIBLE_NODES = 100;
const MIN_FEASIBLE_PERCENT = 5;
/** Event notes are cut to 1 kB as upstream. */
const NOTE_LIMIT = 1024;

export interface SchedulerOptions {
  profile?: Profile;
  registry?: Registry;
  queue?: QueueOptions;
  /** Bindings in flight at once (each is one API request). */
  maxConcurrentBindings?: number;
  /** Tie-breaking among equally scored nodes; default Math.random. */
  random?: () => number;
  log?: (msg: string) => void;
  /** Called after a pod's binding succeeded (benchmarks, tests). */
  onBound?: (key: string, node: string) => void;
  /**
   * How PodScheduled is written to pods/status: 'strategic' (default, as upstream: merges the one condition by
   * type, so concurrent writers of other conditions are safe) or 'merge' (the whole conditions list; for clients
   * without strategic merge patch, such as the fake client).
   */
  statusPatch?: 'strategic' | 'merge';
}

/** numFeasibleNodesToFind with the adaptive default percentage (50% − nodes/125, at least 5%, at least 100). */
export function numFeasibleNodesToFind(all: number): number {
  if (all < MIN_FEASIBLE_NODES) return all;
  const pct = Math.max(MIN_FEASIBLE_PERCENT, 50 - Math.trunc(all / 125));
  return Math.max(MIN_FEASIBLE_NODES, Math.trunc((all * pct) / 100));
}

class NoNodesError extends Error {}

const isTerminal = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const assigned = (p: Pod): boolean => !!p.spec?.nodeName;
const truncate = (m: string): string => (m.length <= NOTE_LIMIT ? m : `${m.slice(0, NOTE_LIMIT - 4)} ...`);
const podRef = (p: Pod): InvolvedObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: p.metadata });
const nodeRelevant = (n: Node): string => JSON.stringify([n.metadata.labels, n.spec, n.status?.allocatable]);

export class Scheduler {
  readonly name = 'scheduler';
  readonly framework: Framework;
  readonly queue: SchedulingQueue;
  readonly cache: Cache;
  readonly recorder: EventRecorder;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly namespaces: Informer;
  private readonly priorityClasses: Informer;
  private readonly workloads = new Map<ListedResource, Informer>();
  private readonly schedulerName: string;
  private readonly log: (msg: string) => void;
  private readonly random: () => number;
  private readonly maxBindings: number;
  private readonly inFlight = new Set<Promise<void>>();
  private nextStart = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private markSynced!: () => void;
  private markStopped!: () => void;
  private readonly stopSignal: Promise<void> = new Promise((r) => (this.markStopped = r));
  /** Resolves once the informer caches are filled and scheduling begins. */
  readonly synced: Promise<void> = new Promise((r) => (this.markSynced = r));

  constructor(
    private readonly client: Client,
    private readonly opts: SchedulerOptions = {},
  ) {
    const profile = opts.profile ?? defaultProfile();
    this.schedulerName = profile.schedulerName;
    this.log = opts.log ?? (() => undefined);
    this.random = opts.random ?? Math.random;
    this.maxBindings = opts.maxConcurrentBindings ?? 64;
    this.recorder = new EventRecorder(client, DEFAULT_SCHEDULER_NAME === profile.schedulerName ? DEFAULT_SCHEDULER_NAME : profile.schedulerName);
    const onError = (e: unknown) => this.log(`informer: ${e instanceof Error ? e.message : String(e)}`);
    this.pods = new Informer(client, PODS, { onError });
    this.nodes = new Informer(client, NODES, { onError });
    this.namespaces = new Informer(client, NAMESPACES, { onError });
    this.priorityClasses = new Informer(client, PRIORITY_CLASSES, { onError });
    for (const [name, r] of Object.entries(LISTED) as Array<[ListedResource, Resource]>) this.workloads.set(name, new Informer(client, r, { onError }));
    const listers: Listers = {
      list: (r, ns) => this.workloads.get(r)!.list().filter((o) => o.metadata.namespace === ns),
      get: (r, ns, name) => this.workloads.get(r)!.get(`${ns}/${name}`),
    };
    this.cache = new Cache((ns) => this.namespaces.get(ns)?.metadata.labels);
    const setPodCondition = (pod: Pod, cond: PodCondition) => this.updateCondition(pod, cond, undefined);
    this.framework = new Framework(opts.registry ?? inTreeRegistry(), profile, { client, recorder: this.recorder, listers, setPodCondition });
    const pluginEvents = new Map(this.framework.plugins.filter((p) => p.events).map((p) => [p.name, p.events!] as const));
    const sort = this.framework.queueSort;
    // Pods the QueueSort plugin ranks equal keep their arrival order.
    const less = sort ? (a: QueuedPod, b: QueuedPod) => sort.less(a as never, b as never) || (!sort.less(b as never, a as never) && a.seq < b.seq) : undefined;
    this.queue = new SchedulingQueue(less, { pluginEvents, ...opts.queue });
    this.wire();
  }

  /** spec.priority, else the value of spec.priorityClassName's PriorityClass, else the global default, else 0. */
  priorityOf(pod: Pod): number {
    if (typeof pod.spec?.priority === 'number') return pod.spec.priority;
    const pcName = pod.spec?.priorityClassName;
    if (pcName) {
      const pc = this.priorityClasses.get(pcName);
      if (pc && typeof pc.value === 'number') return pc.value;
    }
    for (const pc of this.priorityClasses.list()) if (pc.globalDefault === true && typeof pc.value === 'number') return pc.value;
    return 0;
  }

  private responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === this.schedulerName && !pod.metadata.deletionTimestamp && !isTerminal(pod) && !gated(pod);
  }

  private event(e: ClusterEvent): void {
    this.queue.moveAll(e);
  }

  private wire(): void {
    this.nodes.addEventHandler({
      add: (o) => {
        this.cache.addNode(o as Node);
        this.event('NodeAdd');
      },
      update: (old, o) => {
        this.cache.addNode(o as Node);
        if (nodeRelevant(old as Node) !== nodeRelevant(o as Node)) this.event('NodeUpdate');
      },
      delete: (o) => this.cache.removeNode(o.metadata.name ?? ''),
    });
    this.pods.addEventHandler({
      add: (o) => this.onPod(undefined, o as Pod),
      update: (old, o) => this.onPod(old as Pod, o as Pod),
      delete: (o) => this.onPodDelete(o as Pod),
    });
  }

  private onPod(old: Pod | undefined, pod: Pod): void {
    const key = objectKey(pod);
    if (isTerminal(pod)) return this.onPodDelete(pod);
    if (assigned(pod)) {
      this.cache.clearNomination(key);
      this.queue.delete(key);
      this.cache.setPod(pod, this.priorityOf(pod));
      if (!old || !assigned(old)) this.event('AssignedPodAdd');
      else if (JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels)) this.event('AssignedPodUpdate');
      return;
    }
    if (this.cache.isAssumed(key)) return; // our binding is in flight
    if (this.responsibleFor(pod)) {
      const prio = this.priorityOf(pod);
      const nominated = pod.status?.nominatedNodeName ?? '';
      if (nominated) this.cache.nominate(new PodInfo(pod, prio), nominated);
      else this.cache.clearNomination(key);
      this.queue.add(key, pod, prio);
    } else {
      this.cache.clearNomination(key);
      this.queue.delete(key);
    }
  }

  private onPodDelete(pod: Pod): void {
    const key = objectKey(pod);
    this.queue.delete(key);
    this.cache.clearNomination(key);
    if (this.cache.nodeOf(key) !== undefined) {
      this.cache.removePod(key);
      this.event('AssignedPodDelete');
    }
  }

  /** Starts the informers, waits for their caches, then schedules until stop(). Resolves once stopped. */
  async run(): Promise<void> {
    const all = [this.namespaces, this.priorityClasses, ...this.workloads.values(), this.nodes, this.pods];
    for (const i of all) i.start();
    // stop() before the caches fill (API unreachable) must still end run().
    await Promise.race([Promise.all(all.map((i) => i.hasSynced)), this.stopSignal]);
    if (this.stopped) return;
    this.markSynced();
    this.loop = this.scheduleLoop();
    await this.loop;
  }

  private async scheduleLoop(): Promise<void> {
    while (!this.stopped) {
      const q = await this.queue.pop();
      if (!q) return;
      try {
        await this.scheduleOne(q);
      } catch (e) {
        this.log(`scheduling ${q.key}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        this.queue.done(q.key);
      }
      while (this.inFlight.size >= this.maxBindings) await Promise.race(this.inFlight);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.markStopped();
    this.queue.close();
    await this.loop;
    await Promise.all([...this.inFlight]);
    await Promise.all([this.pods, this.nodes, this.namespaces, this.priorityClasses, ...this.workloads.values()].map((i) => i.stop()));
    await this.recorder.flush();
  }

  /** Resolves when every binding and status write started so far has finished (tests, benchmarks). */
  async settle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
    await this.recorder.flush();
  }

  private track(p: Promise<void>): void {
    const t = p.catch((e: unknown) => this.log(String(e)));
    this.inFlight.add(t);
    void t.finally(() => this.inFlight.delete(t));
  }

  /** One scheduling cycle for a popped pod. */
  async scheduleOne(q: QueuedPod): Promise<void> {
    const pod = q.pod;
    if (!this.responsibleFor(pod) || assigned(pod) || this.cache.isAssumed(q.key)) {
      this.queue.done(q.key);
      return;
    }
    const pi = new PodInfo(pod, q.priority);
    const state = new CycleState();
    const cycle = this.queue.schedulingCycle;
    let host: string;
    try {
      host = this.schedulePod(state, pi);
    } catch (e) {
      // No plugin rejected it: any cluster event (a node registering) retries it, not the backoff timer.
      if (e instanceof NoNodesError) return this.failure(q, cycle, 'Unschedulable', NO_NODES_AVAILABLE, new Set(['NoNodes']), '');
      if (!(e instanceof FitError)) return this.failure(q, cycle, 'SchedulerError', e instanceof Error ? e.message : String(e), new Set());
      let nominated: string | undefined;
      if (this.framework.postFilter.length) {
        const r = await this.framework.runPostFilter(state, pi, e.statuses, this.cache);
        if (r.status.code === 'Error') this.log(`postfilter ${q.key}: ${r.status.message()}`);
        else e.postFilterMsg = r.status.message();
        nominated = r.nominatedNodeName;
        if (nominated !== undefined) this.cache.nominate(pi, nominated);
      }
      return this.failure(q, cycle, 'Unschedulable', e.text(), e.plugins(), nominated);
    }
    const rs = this.framework.runReserve(state, pi, host);
    if (!rs.isSuccess()) return this.failure(q, cycle, rs.isRejected() ? 'Unschedulable' : 'SchedulerError', rs.message(), rs.isRejected() ? new Set([rs.plugin]) : new Set());
    const assumedPod: Pod = { ...pod, spec: { ...pod.spec, nodeName: host } };
    const assumed = pi.withPod(assumedPod);
    this.cache.assume(assumed, host);
    this.track(this.bind(q, cycle, state, assumed, host));
  }

  private async bind(q: QueuedPod, cycle: number, state: CycleState, pi: PodInfo, host: string): Promise<void> {
    const s = await this.framework.runBind(state, pi, host);
    if (s.isSuccess()) {
      this.queue.done(q.key);
      const m = pi.pod.metadata;
      this.recorder.event(podRef(q.pod), 'Normal', 'Scheduled', `Successfully assigned ${m.namespace}/${m.name} to ${host}`);
      this.opts.onBound?.(q.key, host);
      return;
    }
    this.cache.forget(q.key);
    this.framework.runUnreserve(state, pi, host);
    this.event('AssignedPodDelete');
    if (s.cause instanceof ApiError && s.cause.code === 404) {
      this.queue.done(q.key);
      return;
    }
    this.log(`binding ${q.key} to ${host}: ${s.message()}`);
    this.failure(q, cycle, 'SchedulerError', s.message(), new Set());
  }

  /** Filters (and scores) nodes for the pod; returns the chosen node name or throws FitError / NoNodesError. */
  schedulePod(state: CycleState, pi: PodInfo): string {
    const nodes = this.cache.nodes;
    if (nodes.length === 0) throw new NoNodesError(NO_NODES_AVAILABLE);
    const fw = this.framework;
    const pre = fw.runPreFilter(state, pi, this.cache);
    if (!pre.isSuccess()) {
      if (pre.code === 'Error') throw new Error(pre.message());
      throw new FitError(nodes.length, new Map(nodes.map((n) => [n.name, pre])), pre.message());
    }
    const nominated = pi.pod.status?.nominatedNodeName;
    if (nominated) {
      const n = this.cache.get(nominated);
      if (n && this.filterNode(state, pi, n).isSuccess()) return nominated;
    }
    const want = numFeasibleNodesToFind(nodes.length);
    const feasible: NodeInfo[] = [];
    const statuses = new Map<string, ReturnType<Framework['runFilters']>>();
    const start = this.nextStart % nodes.length;
    let i = 0;
    for (; i < nodes.length && feasible.length < want; i++) {
      const n = nodes[(start + i) % nodes.length];
      const s = this.filterNode(state, pi, n);
      if (s.isSuccess()) feasible.push(n);
      else if (s.code === 'Error') throw new Error(s.message());
      else statuses.set(n.name, s);
    }
    this.nextStart = (start + i) % nodes.length;
    if (!feasible.length) throw new FitError(nodes.length, statuses);
    if (feasible.length === 1) return feasible[0].name;
    const scores = fw.runScore(state, pi, feasible, this.cache);
    // selectHost: the best score; ties broken uniformly at random (reservoir sampling).
    let best = 0;
    let ties = 1;
    for (let j = 1; j < feasible.length; j++) {
      if (scores[j] > scores[best]) {
        best = j;
        ties = 1;
      } else if (scores[j] === scores[best] && this.random() * ++ties < 1) best = j;
    }
    return feasible[best].name;
  }

  /**
   * RunFilterPluginsWithNominatedPods, simplified: pods nominated to the node with at least this pod's priority
   * are counted as if there (so preemption's freed room is kept for its nominee), then the node is checked
   * without them too. Cycle state computed by PreFilter is not adjusted for them.
   */
  private filterNode(state: CycleState, pi: PodInfo, n: NodeInfo): ReturnType<Framework['runFilters']> {
    if (this.cache.hasNominations) {
      let withNominated: NodeInfo | undefined;
      for (const np of this.cache.nominatedOn(n.name)) {
        if (np.key === pi.key || np.priority < pi.priority) continue;
        withNominated ??= n.clone();
        withNominated.addPod(np);
      }
      if (withNominated) {
        const s = this.framework.runFilters(state, pi, withNominated);
        if (!s.isSuccess()) return s;
      }
    }
    return this.framework.runFilters(state, pi, n);
  }

  /** handleSchedulingFailure: requeue, FailedScheduling event, PodScheduled=False (and nominatedNodeName). */
  private failure(q: QueuedPod, cycle: number, reason: 'Unschedulable' | 'SchedulerError', message: string, plugins: Set<string>, nominated?: string): void {
    const latest = this.pods.get(q.key) as Pod | undefined;
    if (!latest || assigned(latest)) this.queue.done(q.key);
    else {
      q.pod = latest;
      q.priority = this.priorityOf(latest);
      this.queue.addUnschedulable(q, cycle, plugins);
    }
    this.recorder.event(podRef(latest ?? q.pod), 'Warning', 'FailedScheduling', truncate(message));
    if (latest && !assigned(latest)) this.track(this.updateCondition(latest, { type: 'PodScheduled', status: 'False', reason, message }, nominated));
  }

  private async updateCondition(pod: Pod, cond: PodCondition, nominated: string | undefined): Promise<void> {
    const conds = pod.status?.conditions ?? [];
    const old = conds.find((c) => c.type === cond.type);
    const condChanged = !old || old.status !== cond.status || old.reason !== cond.reason || old.message !== cond.message;
    const nomChanged = nominated !== undefined && nominated !== (pod.status?.nominatedNodeName ?? '');
    if (!condChanged && !nomChanged) return;
    const next: PodCondition = { ...cond, lastProbeTime: null, lastTransitionTime: old && old.status === cond.status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339() };
    const strategic = (this.opts.statusPatch ?? 'strategic') === 'strategic';
    const list = strategic ? [next] : old ? conds.map((c) => (c.type === cond.type ? next : c)) : [...conds, next];
    const status: Record<string, unknown> = { conditions: list };
    if (nomChanged) status.nominatedNodeName = nominated || null;
    try {
      const type = strategic ? 'application/strategic-merge-patch+json' : 'application/merge-patch+json';
      await this.client.patch(PODS, pod.metadata.namespace, pod.metadata.name ?? '', type, { status } as Partial<KubeObject>, 'status');
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) this.log(`updating ${objectKey(pod)} status: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
