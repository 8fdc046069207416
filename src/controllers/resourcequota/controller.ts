// ResourceQuota controller (upstream pkg/controller/resourcequota): keeps every quota's status.hard (spec.hard)
// and status.used (the measured usage of the objects in its namespace) current. Informers watch the kinds the
// legacy quota names count (pods, services, claims, configmaps, secrets, RCs, quotas) and, on demand, whatever a
// count/<resource>.<group> name asks for; changes to those objects, quota spec changes and a periodic resync
// queue the namespace's quotas for recalculation, so deletions give quota back. Only pods, services and claims
// are cached whole; the kinds that are merely counted are cached as metadata.
// Admission charges a quota before the object it admitted is stored, so for a moment the quota holds more than
// the objects show; a measured *decrease* is therefore written only after it has held for `releaseDelayMs`
// with no new charge (resourceVersion unchanged) — recalculating never undoes a charge still in flight.

import { evaluatorFor, ignoredByQuota, objectCountEvaluator, parseObjectCountName, podEvaluator, pvcEvaluator, serviceEvaluator, standardEvaluators, type Evaluator } from '../../api/quota/evaluators.js';
import { calculateStatus } from '../../api/quota/quota.js';
import { formatResourceList, listsEqual, parseResourceList } from '../../api/quota/resources.js';
import { compareQuantity } from '../../api/quantity.js';
import type { KubeObject } from '../../api/types.js';
import { Informer } from '../../client/informer.js';
import { isConflict, isNotFound, objectKey, type ApiResource, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { RESOURCEQUOTAS } from '../../client/resources.js';
export { RESOURCEQUOTAS };

export interface ResourceQuotaControllerOptions {
  /** Concurrent syncs (upstream --concurrent-resource-quota-syncs, 5). */
  workers?: number;
  log?: Logger;
  now?: () => number;
  /** Every quota is recalculated this often (upstream --resource-quota-sync-period, 5 min). */
  resyncMs?: number;
  /** How long a measured decrease must hold, with no charge meanwhile, before it is written; 1 s. */
  releaseDelayMs?: number;
  /** How long before a count/… name discovery did not know is looked up again; 30 s. */
  discoveryRetryMs?: number;
}

/** One watched kind: its evaluator, informer and objects by namespace. */
interface Tracker {
  ev: Evaluator;
  informer: Informer;
  byNs: Map<string, Map<string, KubeObject>>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const grKey = (group: string, resource: string): string => `${group}/${resource}`;
/** Pods, Services and claims are measured from their specs; every other kind is only counted. */
const READS_SPEC: ReadonlySet<Evaluator> = new Set([podEvaluator, serviceEvaluator, pvcEvaluator]);

export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota';
  /** Keys are quota keys (namespace/name). */
  readonly queue = new WorkQueue<string>();
  readonly quotas: Informer;
  private readonly trackers = new Map<string, Tracker>();
  /** Quota keys by namespace. */
  private readonly quotasByNs = new Map<string, Set<string>>();
  /** A decrease first measured at `since` against the quota at resourceVersion `rv`. */
  private readonly pendingRelease = new Map<string, { rv: string; since: number }>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly releaseDelayMs: number;
  private discovery: { at: number; resources: ApiResource[] } | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly client: Client,
    private readonly opts: ResourceQuotaControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.releaseDelayMs = opts.releaseDelayMs ?? 1000;
    this.quotas = new Informer(client, RESOURCEQUOTAS, { onError: (e) => this.log(`resourcequotas informer: ${errorMessage(e)}`) });
    this.quotas.addEventHandler({
      add: (q) => {
        this.indexQuota(q, true);
        this.queue.add(objectKey(q));
      },
      update: (old, q) => {
        if (this.needsSync(old, q)) this.queue.add(objectKey(q));
      },
      delete: (q) => {
        this.indexQuota(q, false);
        this.pendingRelease.delete(objectKey(q));
      },
    });
    for (const ev of standardEvaluators()) this.track(ev, { group: ev.group, version: 'v1', resource: ev.resource, namespaced: true });
  }

  async run(): Promise<void> {
    this.running = true;
    this.quotas.start();
    for (const t of this.trackers.values()) t.informer.start();
    await Promise.all([this.quotas.hasSynced, ...[...this.trackers.values()].map((t) => t.informer.hasSynced)]);
    this.resyncTimer = setInterval(() => {
      for (const q of this.quotas.list()) this.queue.add(objectKey(q));
    }, this.opts.resyncMs ?? 5 * 60_000);
    this.resyncTimer.unref();
    await runWorkers(this.queue, this.opts.workers ?? 5, (k) => this.sync(k), (k, e) => {
      // A conflict is a charge that landed meanwhile; the retry reads it.
      if (!isConflict(e)) this.log(`sync quota ${k}: ${errorMessage(e)}`);
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.queue.shutDown();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await Promise.all([this.quotas.stop(), ...[...this.trackers.values()].map((t) => t.informer.stop())]);
  }

  // ---- event handlers: they only work out which quotas to look at and enqueue ----

  private indexQuota(q: KubeObject, present: boolean): void {
    const ns = q.metadata.namespace ?? '';
    let set = this.quotasByNs.get(ns);
    if (present) {
      if (!set) this.quotasByNs.set(ns, (set = new Set()));
      set.add(objectKey(q));
    } else {
      set?.delete(objectKey(q));
      if (set?.size === 0) this.quotasByNs.delete(ns);
    }
  }

  /** A quota needs recalculating when its spec changed or its status does not cover spec.hard (upstream updateQuota). */
  private needsSync(old: KubeObject, q: KubeObject): boolean {
    if (JSON.stringify(old.spec ?? {}) !== JSON.stringify(q.spec ?? {})) return true;
    const hard = parseResourceList(obj(q.spec).hard);
    if (!listsEqual(hard, parseResourceList(obj(q.status).hard))) return true;
    const used = parseResourceList(obj(q.status).used);
    return [...hard.keys()].some((k) => !used.has(k));
  }

  /** Queues the namespace's quotas that track a resource of this kind (upstream replenishQuota). */
  private replenish(ev: Evaluator, ns: string): void {
    for (const key of this.quotasByNs.get(ns) ?? []) {
      const q = this.quotas.get(key);
      if (q && ev.matchingResources(parseResourceList(obj(q.spec).hard).keys()).length) this.queue.add(key);
    }
  }

  private track(ev: Evaluator, r: Resource): Tracker {
    // A counted kind needs only names and namespaces: cache its metadata (shared with the garbage collector's
    // metadata informers), never whole ConfigMaps and Secrets (upstream's quota monitors take a metadata informer
    // where no typed one exists).
    const metadataOnly = !READS_SPEC.has(ev);
    const informer = new Informer(this.client, r, { metadataOnly, onError: (e) => this.log(`${r.resource} informer: ${errorMessage(e)}`) });
    const t: Tracker = { ev, informer, byNs: new Map() };
    const put = (o: KubeObject): void => {
      const ns = o.metadata.namespace ?? '';
      let m = t.byNs.get(ns);
      if (!m) t.byNs.set(ns, (m = new Map()));
      m.set(objectKey(o), o);
    };
    t.informer.addEventHandler({
      add: (o) => {
        put(o);
        // Admission charged it already; a recalculation confirms (and catches objects admitted before the quota).
        this.replenish(ev, o.metadata.namespace ?? '');
      },
      update: (old, o) => {
        put(o);
        const ns = o.metadata.namespace ?? '';
        if (!this.quotasByNs.has(ns)) return;
        const now = this.now();
        if (!listsEqual(ev.usage(old, now), ev.usage(o, now))) this.replenish(ev, ns);
      },
      delete: (o) => {
        const ns = o.metadata.namespace ?? '';
        t.byNs.get(ns)?.delete(objectKey(o));
        this.replenish(ev, ns);
      },
    });
    this.trackers.set(grKey(r.group, r.resource), t);
    if (this.running) t.informer.start();
    return t;
  }

  /** Starts informers for count/<resource>.<group> names no tracker covers yet (found through discovery). */
  private async trackObjectCounts(quota: KubeObject): Promise<void> {
    const wanted: { group: string; resource: string }[] = [];
    for (const name of parseResourceList(obj(quota.spec).hard).keys()) {
      const gr = parseObjectCountName(name);
      if (!gr || ignoredByQuota(gr.group, gr.resource) || this.trackers.has(grKey(gr.group, gr.resource))) continue;
      wanted.push(gr);
    }
    if (!wanted.length) return;
    const now = this.now();
    const find = (rs: ApiResource[], gr: { group: string; resource: string }) => rs.find((r) => r.group === gr.group && r.resource === gr.resource);
    if (!this.discovery || (wanted.some((gr) => !find(this.discovery!.resources, gr)) && now - this.discovery.at >= (this.opts.discoveryRetryMs ?? 30_000)))
      this.discovery = { at: now, resources: await this.client.discover() };
    const started: Tracker[] = [];
    for (const gr of wanted) {
      const r = find(this.discovery.resources, gr);
      if (!r || !r.namespaced || !r.verbs.includes('list') || !r.verbs.includes('watch') || this.trackers.has(grKey(gr.group, gr.resource))) continue;
      const ev = evaluatorFor(gr.group, gr.resource);
      started.push(this.track(ev.group === gr.group && ev.resource === gr.resource ? ev : objectCountEvaluator(gr.group, gr.resource), r));
    }
    await Promise.all(started.map((t) => t.informer.hasSynced));
  }

  /** Recalculates one quota and writes its status when it changed (upstream syncResourceQuota). */
  async sync(key: string): Promise<void> {
    let q = this.quotas.get(key);
    if (!q) {
      this.pendingRelease.delete(key);
      return;
    }
    await this.trackObjectCounts(q);
    q = this.quotas.get(key);
    if (!q) return;
    const ns = q.metadata.namespace ?? '';
    const now = this.now();
    const synced = [...this.trackers.values()].filter((t) => t.informer.isSynced);
    const byEv = new Map(synced.map((t) => [t.ev, t]));
    const { hard, used } = calculateStatus(q, synced.map((t) => t.ev), (ev) => [...(byEv.get(ev)?.byNs.get(ns)?.values() ?? [])], now);
    const status = obj(q.status);
    const oldUsed = parseResourceList(status.used);

    // Decreases wait until they have held, uncharged, for releaseDelayMs; meanwhile the old value stays.
    const rv = q.metadata.resourceVersion ?? '';
    const decreased = [...used].filter(([k, v]) => oldUsed.has(k) && compareQuantity(v, oldUsed.get(k)!) < 0).map(([k]) => k);
    let pending = this.pendingRelease.get(key);
    let held = false;
    if (decreased.length) {
      if (!pending || pending.rv !== rv) this.pendingRelease.set(key, (pending = { rv, since: now }));
      const wait = pending.since + this.releaseDelayMs - now;
      if (wait > 0) {
        held = true;
        for (const k of decreased) used.set(k, oldUsed.get(k)!);
        this.queue.addAfter(key, wait);
      }
    }
    if (!held) this.pendingRelease.delete(key);

    const dirty = status.hard === undefined || status.used === undefined || !listsEqual(hard, parseResourceList(status.hard)) || !listsEqual(used, oldUsed);
    if (!dirty) return;
    const next = structuredClone(q);
    next.status = { hard: formatResourceList(hard), used: formatResourceList(used) };
    try {
      const written = await this.client.update(RESOURCEQUOTAS, ns, next, 'status');
      // Our own write is no charge: a held decrease keeps its clock.
      if (held && pending) this.pendingRelease.set(key, { rv: written.metadata.resourceVersion ?? '', since: pending.since });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}
