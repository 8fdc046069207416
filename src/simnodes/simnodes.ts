// SimulatedNodes: a kwok-style stand-in for N kubelets, all in one component that reaches the cluster only
// through the API client. It registers Nodes `<prefix><i>` (default `sim-node-0` … `sim-node-<N−1>`, 0-based),
// renews each node's Lease in kube-node-lease every 10 s, refreshes the Ready condition's heartbeat now and then,
// and moves pods bound to its nodes through their lifecycle (see pod.ts for the annotations a pod may carry).
//
// Cheap at thousands of nodes: one pod informer (fieldSelector spec.nodeName!=) and one node informer for all
// nodes, one work queue keyed by pod, one ticker spreading lease renewals, no per-node timers or processes.
// A node annotated `sim.k8ts.io/down: "true"` behaves like a dead kubelet (no leases, no status, pods left as they
// are) until the annotation goes. A Node deleted through the API is not re-registered (as a running kubelet).
//
// Why one component rather than N kubelets over a `sim` runtime: a kubelet per node means an informer and a
// status loop per node, which does not fit thousands of nodes on two cores. The real kubelet (next issue) can
// reuse pod.ts — the status a runtime's container states imply — behind its CRI-shaped runtime seam.

import type { KubeObject } from '../api/types.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import { isConflict, isNotFound, objectKey, splitKey, type Client, type Resource } from '../client/interface.js';
import type { RestConfig } from '../client/rest.js';
import { WorkQueue, runWorkers } from '../client/workqueue.js';
import { DEFAULT_NODE_CONFIG, NODE_LEASE_NAMESPACE, SIMULATED_LABEL, leaseObject, nodeConditions, nodeIP, nodeObject, nodeStatus, podIP, podIPHost, type NodeConfig } from './node.js';
import { killingEvents, planPod, stoppedStatus, type PodEvent } from './pod.js';
import { LEASES, NODES, PODS } from '../client/resources.js';
export { LEASES, NODES, PODS };

/** Node annotation that makes a simulated node stop acting, as if its kubelet had died. */
export const ANNOTATION_DOWN = 'sim.k8ts.io/down';

export interface SimulatedNodesOptions extends Partial<NodeConfig> {
  count: number;
  /** Node names are `<namePrefix><index>`; default "sim-node-". */
  namePrefix?: string;
  /** Record kubelet Events (Pulled, Created, Started, Killing, BackOff); default true. Off for large benches. */
  events?: boolean;
  /** Lease renewal interval (kubelet: 10 s). */
  leaseRenewMs?: number;
  /** How often each node re-posts its conditions with a fresh lastHeartbeatTime; default 60 s. */
  statusReportMs?: number;
  /** Longest simulated container stop on deletion (bounded by the pod's grace period); default 500 ms. */
  stopMs?: number;
  /** First crash back-off (kubelet: 10 s). */
  backoffBaseMs?: number;
  /** Concurrent pod syncs (each a status write, sometimes a delete too); default 64, as writes are latency-bound. */
  workers?: number;
  /** Concurrent node/lease writes during registration and renewal; default 32. */
  writeConcurrency?: number;
  log?: (msg: string) => void;
  now?: () => number;
}

interface SimNode {
  name: string;
  index: number;
  hostIP: string;
  uid?: string;
  registered: boolean;
  /** Gone from the API (deleted by someone): no longer acted for. */
  deleted: boolean;
  down: boolean;
  leaseRV?: string;
  nextLease: number;
  nextStatus: number;
  busy: boolean;
  /** Pod address host parts in use (index 1–254) and which pod holds each. */
  used: Uint8Array;
  ips: Map<string, number>;
}

/** How many nodes keep an event recorder at once (see recorder()). */
const RECORDERS = 64;

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const rvNum = (o: KubeObject | undefined): number => Number(o?.metadata.resourceVersion ?? NaN);

export class SimulatedNodes {
  private readonly nodes = new Map<string, SimNode>();
  private readonly order: SimNode[] = [];
  private readonly cfg: NodeConfig;
  private readonly pods: Informer;
  private readonly nodeInformer: Informer;
  readonly queue = new WorkQueue<string>();
  /** Our own last write per pod, used until the informer catches up with it (k8ts resourceVersions are revisions). */
  private readonly written = new Map<string, KubeObject>();
  /** Deleted pods being "stopped": pod key → when the stop completes. */
  private readonly stopping = new Map<string, number>();
  /** Pods (by uid) we have already deleted with grace 0, waiting for their DELETED event. */
  private readonly removed = new Set<string>();
  private readonly recorders = new Map<string, EventRecorder>();
  /** Which node holds each pod's address. */
  private readonly addressed = new Map<string, SimNode>();
  private ticker: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private workers: Promise<void> = Promise.resolve();
  private stopped = false;
  private readyResolve!: () => void;
  /** Resolves once every node is registered and holds a Lease. */
  readonly ready: Promise<void>;
  private readonly now: () => number;
  private readonly log: (msg: string) => void;
  private readonly o: Required<Pick<SimulatedNodesOptions, 'events' | 'leaseRenewMs' | 'statusReportMs' | 'stopMs' | 'backoffBaseMs' | 'workers' | 'writeConcurrency'>>;

  constructor(
    private readonly client: Client,
    opts: SimulatedNodesOptions,
  ) {
    this.cfg = {
      cpu: opts.cpu ?? DEFAULT_NODE_CONFIG.cpu,
      memory: opts.memory ?? DEFAULT_NODE_CONFIG.memory,
      pods: opts.pods ?? DEFAULT_NODE_CONFIG.pods,
      ephemeralStorage: opts.ephemeralStorage ?? DEFAULT_NODE_CONFIG.ephemeralStorage,
      kubeletVersion: opts.kubeletVersion ?? DEFAULT_NODE_CONFIG.kubeletVersion,
      labels: opts.labels ?? {},
    };
    this.o = {
      events: opts.events ?? true,
      leaseRenewMs: opts.leaseRenewMs ?? 10_000,
      statusReportMs: opts.statusReportMs ?? 60_000,
      stopMs: opts.stopMs ?? 500,
      backoffBaseMs: opts.backoffBaseMs ?? 10_000,
      workers: opts.workers ?? 64,
      writeConcurrency: opts.writeConcurrency ?? 32,
    };
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? ((msg) => console.error(`${new Date().toISOString()} simulated-nodes: ${msg}`));
    const prefix = opts.namePrefix ?? 'sim-node-';
    for (let i = 0; i < opts.count; i++) {
      const n: SimNode = { name: `${prefix}${i}`, index: i, hostIP: nodeIP(i), registered: false, deleted: false, down: false, nextLease: 0, nextStatus: 0, busy: false, used: new Uint8Array(256), ips: new Map() };
      this.nodes.set(n.name, n);
      this.order.push(n);
    }
    this.ready = new Promise((r) => (this.readyResolve = r));
    const onError = (e: unknown) => this.log(`watch: ${errorMessage(e)}`);
    this.pods = new Informer(client, PODS, { fieldSelector: 'spec.nodeName!=', onError });
    this.nodeInformer = new Informer(client, NODES, { labelSelector: `${SIMULATED_LABEL.key}=${SIMULATED_LABEL.value}`, onError });
  }

  get nodeNames(): string[] {
    return this.order.map((n) => n.name);
  }

  /** Starts the informers and workers, then registers every node (resolves when all are registered). */
  async start(): Promise<void> {
    const mine = (o: KubeObject) => this.nodes.has(String((o.spec as { nodeName?: string } | undefined)?.nodeName ?? ''));
    this.pods.addEventHandler({
      add: (o) => mine(o) && this.queue.add(objectKey(o)),
      update: (_old, o) => {
        if (!mine(o)) return;
        const k = objectKey(o);
        const w = this.written.get(k);
        if (w && rvNum(o) >= rvNum(w)) this.written.delete(k);
        this.queue.add(k);
      },
      delete: (o) => {
        if (o.metadata.uid) this.removed.delete(o.metadata.uid);
        if (mine(o)) this.queue.add(objectKey(o));
      },
    });
    this.nodeInformer.addEventHandler({
      add: (o) => this.observeNode(o),
      update: (_old, o) => this.observeNode(o),
      delete: (o) => {
        const n = this.nodes.get(o.metadata.name ?? '');
        if (n && n.registered && n.uid === o.metadata.uid) n.deleted = true;
      },
    });
    this.pods.start();
    this.nodeInformer.start();
    this.workers = runWorkers(this.queue, this.o.workers, (k) => this.sync(k), (k, e) => this.log(`pod ${k}: ${errorMessage(e)}`));
    await this.pool(this.order, (n) => this.register(n));
    if (this.stopped) return;
    this.ticker = setInterval(() => this.tick(), 250);
    this.ticker.unref();
    this.readyResolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.queue.shutDown();
    await Promise.all([this.pods.stop(), this.nodeInformer.stop(), this.workers]);
    await Promise.all([...this.recorders.values()].map((r) => r.flush()));
  }

  /** Marks a node down (as a dead kubelet) or up again; the same as the `sim.k8ts.io/down` annotation. */
  setDown(name: string, down: boolean): void {
    const n = this.nodes.get(name);
    if (!n || n.down === down) return;
    n.down = down;
    if (!down) {
      n.nextLease = 0;
      n.nextStatus = 0;
      for (const p of this.pods.list()) if ((p.spec as { nodeName?: string } | undefined)?.nodeName === name) this.queue.add(objectKey(p));
    }
  }

  private observeNode(o: KubeObject): void {
    const n = this.nodes.get(o.metadata.name ?? '');
    if (!n) return;
    this.setDown(n.name, o.metadata.annotations?.[ANNOTATION_DOWN] === 'true');
  }

  /** Runs fn over items with at most writeConcurrency in flight. */
  private async pool<T>(items: T[], fn: (x: T) => Promise<void>): Promise<void> {
    let i = 0;
    const lane = async () => {
      while (i < items.length && !this.stopped) await fn(items[i++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.o.writeConcurrency, items.length) }, lane));
  }

  /** Creates the Node (or, if it exists from an earlier run, re-posts its status), then its Lease. */
  private async register(n: SimNode): Promise<void> {
    const now = this.now();
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        let node: KubeObject;
        try {
          node = await this.client.create(NODES, undefined, nodeObject(n.name, n.index, this.cfg, now));
        } catch (e) {
          if (!isConflict(e)) throw e;
          node = await this.client.patch(NODES, undefined, n.name, 'application/merge-patch+json', { status: nodeStatus(n.name, n.index, this.cfg, now) }, 'status');
        }
        n.uid = node.metadata.uid;
        n.down = node.metadata.annotations?.[ANNOTATION_DOWN] === 'true';
        n.registered = true;
        n.nextStatus = now + this.o.statusReportMs * (0.5 + Math.random() / 2);
        if (!n.down) await this.renewLease(n);
        return;
      } catch (e) {
        this.log(`registering node ${n.name}: ${errorMessage(e)}`);
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000)));
      }
    }
  }

  private tick(): void {
    const now = this.now();
    for (const n of this.order) {
      if (this.inFlight >= this.o.writeConcurrency) return;
      if (!n.registered || n.deleted || n.down || n.busy) continue;
      if (now >= n.nextLease) void this.guard(n, () => this.renewLease(n));
      else if (now >= n.nextStatus) void this.guard(n, () => this.postStatus(n));
    }
  }

  private async guard(n: SimNode, fn: () => Promise<void>): Promise<void> {
    n.busy = true;
    this.inFlight++;
    try {
      await fn();
    } catch (e) {
      this.log(`node ${n.name}: ${errorMessage(e)}`);
    } finally {
      n.busy = false;
      this.inFlight--;
    }
  }

  /** Creates or renews the node's Lease (PUT on the last resourceVersion seen, as the kubelet's lease controller). */
  private async renewLease(n: SimNode): Promise<void> {
    const now = this.now();
    n.nextLease = now + this.o.leaseRenewMs;
    try {
      const lease = n.leaseRV
        ? await this.client.update(LEASES, NODE_LEASE_NAMESPACE, leaseObject(n.name, n.uid ?? '', now, n.leaseRV))
        : await this.client.create(LEASES, NODE_LEASE_NAMESPACE, leaseObject(n.name, n.uid ?? '', now));
      n.leaseRV = lease.metadata.resourceVersion;
    } catch (e) {
      if (isNotFound(e) && !n.leaseRV) throw e; // kube-node-lease itself is missing: retry on the normal interval
      if (isConflict(e) || isNotFound(e)) {
        // Someone else wrote it, or it is gone: read it back and renew at once (next tick).
        n.leaseRV = await this.client.get(LEASES, NODE_LEASE_NAMESPACE, n.name).then(
          (l) => l.metadata.resourceVersion,
          () => undefined,
        );
        n.nextLease = 0;
        return;
      }
      throw e;
    }
  }

  /** Re-posts the conditions with a fresh lastHeartbeatTime (kubelet's periodic node status report). */
  private async postStatus(n: SimNode): Promise<void> {
    const now = this.now();
    n.nextStatus = now + this.o.statusReportMs;
    const cur = this.nodeInformer.get(n.name);
    const old = ((cur?.status as { conditions?: Array<{ type?: string; status?: string; lastTransitionTime?: string }> } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
    const transition = old?.status === 'True' && old.lastTransitionTime ? Date.parse(old.lastTransitionTime) : now;
    try {
      await this.client.patch(NODES, undefined, n.name, 'application/merge-patch+json', { status: { conditions: nodeConditions(now, transition) } }, 'status');
    } catch (e) {
      if (isNotFound(e)) n.deleted = true;
      else throw e;
    }
  }

  /**
   * The node's event recorder (source.host = node name). Each recorder remembers up to 4,096 events for
   * aggregation, so only the most recently used RECORDERS nodes keep one; an evicted node's next event starts a
   * fresh recorder (its in-flight writes still finish).
   */
  private recorder(n: SimNode): EventRecorder {
    let r = this.recorders.get(n.name);
    if (r) this.recorders.delete(n.name);
    else {
      r = new EventRecorder(this.client, 'kubelet', n.name, this.now);
      if (this.recorders.size >= RECORDERS) {
        const oldest = this.recorders.keys().next().value;
        if (oldest !== undefined) this.recorders.delete(oldest);
      }
    }
    this.recorders.set(n.name, r);
    return r;
  }

  private record(n: SimNode, pod: KubeObject, events: PodEvent[]): void {
    if (!this.o.events || events.length === 0) return;
    const r = this.recorder(n);
    const about = { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata };
    for (const e of events) r.event(about, e.type, e.reason, e.message, e.fieldPath);
  }

  /** The freshest state of a pod we know: the informer's, or our own write if the informer is behind it. */
  private current(key: string): KubeObject | undefined {
    const cached = this.pods.get(key);
    const w = this.written.get(key);
    if (!cached) return undefined;
    return w && w.metadata.uid === cached.metadata.uid && rvNum(w) > rvNum(cached) ? w : cached;
  }

  private release(key: string): void {
    const n = this.addressed.get(key);
    const host = n?.ips.get(key);
    this.addressed.delete(key);
    if (!n || host === undefined) return;
    n.ips.delete(key);
    n.used[host] = 0;
  }

  private allocate(n: SimNode, key: string, pod: KubeObject): string {
    const have = n.ips.get(key);
    if (have !== undefined) return podIP(n.index, have);
    const existing = podIPHost(n.index, String((pod.status as { podIP?: string } | undefined)?.podIP ?? ''));
    let host = existing !== undefined && !n.used[existing] ? existing : 0;
    for (let h = 1; host === 0 && h <= 254; h++) if (!n.used[h]) host = h;
    if (host === 0) throw new Error(`node ${n.name} has no free pod address in ${podIP(n.index, 0)}/24`);
    n.used[host] = 1;
    n.ips.set(key, host);
    this.addressed.set(key, n);
    return podIP(n.index, host);
  }

  /** One pod's step: start, turn ready, exit or restart containers; stop and delete it once deleted. */
  async sync(key: string): Promise<void> {
    const pod = this.current(key);
    if (!pod) {
      this.release(key);
      this.written.delete(key);
      this.stopping.delete(key);
      return;
    }
    const n = this.nodes.get(String((pod.spec as { nodeName?: string } | undefined)?.nodeName ?? ''));
    if (!n || n.deleted || n.down) return;
    if (this.removed.has(pod.metadata.uid ?? '')) return;
    const now = this.now();
    if (pod.metadata.deletionTimestamp) return await this.stopPod(n, key, pod, now);
    // Adopt an address an earlier run gave this pod, so a restart never hands it out twice.
    if ((pod.status as { podIP?: string } | undefined)?.podIP && pod.spec && (pod.spec as { hostNetwork?: boolean }).hostNetwork !== true) this.allocate(n, key, pod);
    const plan = planPod(pod, { now, hostIP: n.hostIP, podIP: () => this.allocate(n, key, pod), backoffBaseMs: this.o.backoffBaseMs });
    if (plan.status) await this.writeStatus(key, pod, plan.status);
    this.record(n, pod, plan.events);
    const phase = (plan.status?.phase ?? (pod.status as { phase?: string } | undefined)?.phase) as string | undefined;
    if (phase === 'Succeeded' || phase === 'Failed') this.release(key);
    if (plan.wakeInMs !== undefined) this.queue.addAfter(key, Math.max(1, plan.wakeInMs));
  }

  private async writeStatus(key: string, pod: KubeObject, status: Record<string, unknown>): Promise<void> {
    const { namespace, name } = splitKey(key);
    try {
      const out = await this.client.patch(PODS, namespace, name, 'application/merge-patch+json', { metadata: { resourceVersion: pod.metadata.resourceVersion }, status }, 'status');
      this.written.set(key, out);
    } catch (e) {
      this.written.delete(key);
      throw e;
    }
  }

  /** The kubelet's part of a deletion: stop containers (Killing), report them stopped, delete with grace 0. */
  private async stopPod(n: SimNode, key: string, pod: KubeObject, now: number): Promise<void> {
    let due = this.stopping.get(key);
    if (due === undefined) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? 30;
      due = now + Math.max(0, Math.min(grace * 1000, this.o.stopMs));
      this.stopping.set(key, due);
      this.record(n, pod, killingEvents(pod));
    }
    if (now < due) {
      this.queue.addAfter(key, due - now);
      return;
    }
    const status = stoppedStatus(pod, now);
    const { namespace, name } = splitKey(key);
    try {
      if (status) await this.writeStatus(key, pod, status);
      await this.client.delete(PODS, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.release(key);
    this.stopping.delete(key);
    if (pod.metadata.uid) this.removed.add(pod.metadata.uid);
  }
}

/** Simulated nodes talking to `server` over HTTPS with the given client certificate (as `k8ts server` runs them). */
export async function simulatedNodesFor(cfg: RestConfig, opts: SimulatedNodesOptions): Promise<{ sim: SimulatedNodes; close(): void }> {
  const { RestClient } = await import('../client/rest.js');
  const client = new RestClient({ userAgent: 'k8ts-simulated-nodes', ...cfg });
  return { sim: new SimulatedNodes(client, opts), close: () => client.close() };
}
