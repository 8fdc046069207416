// ReplicaSet and ReplicationController controller (upstream pkg/controller/replicaset, which also runs RCs):
// keeps `spec.replicas` active pods matching the selector — creating from the template in slow-start batches,
// deleting the least valuable pods first — with expectations so it never acts twice before seeing its own
// writes, adopts/releases pods as ControllerRefManager does, and reports status and ReplicaFailure.

import type { KubeObject, LabelSelector } from '../../api/types.js';
import { fromLabelSelector, makeSelector, nothingSelector, type Selector } from '../../api/selectors/labels.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { ApiError, isConflict, isNotFound, objectKey, splitKey, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { claimObjects, controllerOf, newControllerRef } from '../common/controllerref.js';
import { Expectations } from '../common/expectations.js';
import { deletePods, ownerEventHandler } from '../common/handlers.js';
import { isPodActive, isPodAvailable, isPodReady } from '../common/pods.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { podsToDelete } from './victims.js';
import { PODS, REPLICASETS, REPLICATIONCONTROLLERS } from '../../client/resources.js';
import { rfc3339 } from '../../api/time.js';
export { PODS, REPLICASETS, REPLICATIONCONTROLLERS };

/** Upstream BurstReplicas: at most this many creations or deletions per sync. */
export const BURST_REPLICAS = 500;
/** Upstream SlowStartInitialBatchSize. */
const SLOW_START_INITIAL_BATCH = 1;

/** What differs between the two kinds this controller runs. */
export interface ReplicaKind {
  name: 'replicaset' | 'replicationcontroller';
  resource: Resource;
  apiVersion: string;
  kind: string;
  /** Event source component, as upstream. */
  component: string;
  selector(obj: KubeObject): Selector;
}

export const REPLICASET_KIND: ReplicaKind = {
  name: 'replicaset',
  resource: REPLICASETS,
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  component: 'replicaset-controller',
  selector: (rs) => fromLabelSelector(((rs.spec ?? {}) as { selector?: LabelSelector }).selector),
};

export const REPLICATIONCONTROLLER_KIND: ReplicaKind = {
  name: 'replicationcontroller',
  resource: REPLICATIONCONTROLLERS,
  apiVersion: 'v1',
  kind: 'ReplicationController',
  component: 'replication-controller',
  selector: (rc) => {
    // labels.SelectorFromSet: an empty/absent map selects nothing useful; the API server defaults it from the template.
    const sel = ((rc.spec ?? {}) as { selector?: Record<string, string> }).selector;
    if (!sel || !Object.keys(sel).length) return nothingSelector();
    return makeSelector(Object.entries(sel).map(([key, v]) => ({ key, op: '=' as const, values: [v] })));
  },
};

interface ReplicaSpec {
  replicas?: number;
  minReadySeconds?: number;
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] }; spec?: unknown };
}

export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Array<{ type: string; status: string; lastTransitionTime?: string; reason?: string; message?: string }>;
}

export interface ReplicaSetControllerOptions {
  workers?: number;
  log?: Logger;
  burstReplicas?: number;
  now?: () => number;
}

const specOf = (o: KubeObject): ReplicaSpec => (o.spec ?? {}) as ReplicaSpec;

export class ReplicaSetController implements Controller {
  readonly name: string;
  readonly queue = new WorkQueue<string>();
  readonly expectations: Expectations;
  readonly owners: Informer;
  readonly pods: Informer;
  readonly recorder: EventRecorder;
  private readonly log: Logger;
  private readonly now: () => number;
  /** The pod cache by namespace (same objects as the informer's), so a sync reads its namespace only. */
  private readonly podsByNs = new Map<string, Map<string, KubeObject>>();

  constructor(
    private readonly client: Client,
    readonly kind: ReplicaKind = REPLICASET_KIND,
    private readonly opts: ReplicaSetControllerOptions = {},
  ) {
    this.name = kind.name;
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.expectations = new Expectations(this.now);
    this.recorder = new EventRecorder(client, kind.component, undefined, this.now);
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.owners = new Informer(client, kind.resource, { onError: onError(kind.resource.resource) });
    this.pods = new Informer(client, PODS, { onError: onError('pods') });
    this.owners.addEventHandler(ownerEventHandler((k) => this.queue.add(k), this.expectations));
    this.pods.addEventHandler({ add: (p) => this.index(p), update: (_a, b) => this.index(b), delete: (p) => this.podsByNs.get(p.metadata.namespace ?? '')?.delete(objectKey(p)) });
    this.pods.addEventHandler({ add: (p) => this.podAdded(p), update: (a, b) => this.podUpdated(a, b), delete: (p) => this.podDeleted(p) });
  }

  async run(): Promise<void> {
    this.owners.start();
    this.pods.start();
    await Promise.all([this.owners.hasSynced, this.pods.hasSynced]);
    await runWorkers(this.queue, this.opts.workers ?? 5, (k) => this.sync(k), (k, e) => {
      // Conflicts come from acting on a cache a write or two behind; the retry sees the newer object.
      if (!isConflict(e)) this.log(`sync ${this.kind.kind} ${k}: ${errorMessage(e)}`);
    });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.owners.stop(), this.pods.stop()]);
    await this.recorder.flush();
  }

  private index(p: KubeObject): void {
    const ns = p.metadata.namespace ?? '';
    let m = this.podsByNs.get(ns);
    if (!m) this.podsByNs.set(ns, (m = new Map()));
    m.set(objectKey(p), p);
  }

  private podsIn(namespace: string | undefined): KubeObject[] {
    return [...(this.podsByNs.get(namespace ?? '')?.values() ?? [])];
  }

  // ---- event handlers: they only work out keys (and expectations) and enqueue ----

  /** The owner a controllerRef points at, if it is ours and still the same object. */
  private resolve(namespace: string | undefined, ref: { kind: string; name: string; uid: string } | undefined): string | undefined {
    if (!ref || ref.kind !== this.kind.kind) return undefined;
    const key = `${namespace}/${ref.name}`;
    const o = this.owners.get(key);
    return o && o.metadata.uid === ref.uid ? key : undefined;
  }

  /** Owners whose selector matches an orphan pod (upstream getPodReplicaSets). */
  private matchingOwners(pod: KubeObject): string[] {
    const out: string[] = [];
    for (const o of this.owners.list()) {
      if (o.metadata.namespace !== pod.metadata.namespace) continue;
      const sel = this.kind.selector(o);
      if (!sel.empty && sel.matches(pod.metadata.labels)) out.push(objectKey(o));
    }
    return out;
  }

  private podAdded(pod: KubeObject): void {
    if (pod.metadata.deletionTimestamp) return this.podDeleted(pod);
    const ref = controllerOf(pod);
    if (ref) {
      const key = this.resolve(pod.metadata.namespace, ref);
      if (!key) return;
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const k of this.matchingOwners(pod)) this.queue.add(k);
  }

  private podUpdated(old: KubeObject, cur: KubeObject): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {});
    if (cur.metadata.deletionTimestamp) {
      // A graceful deletion: count it as observed now, as upstream does, and wake the old owner if labels moved.
      this.podDeleted(cur);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const curRef = controllerOf(cur);
    const oldRef = controllerOf(old);
    const refChanged = curRef?.uid !== oldRef?.uid;
    if (refChanged && oldRef) {
      const k = this.resolve(old.metadata.namespace, oldRef);
      if (k) this.queue.add(k);
    }
    if (curRef) {
      const k = this.resolve(cur.metadata.namespace, curRef);
      if (!k) return;
      this.queue.add(k);
      // A pod turning ready becomes available minReadySeconds later: look again then.
      const min = specOf(this.owners.get(k)!).minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && min > 0) this.queue.addAfter(k, min * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const k of this.matchingOwners(cur)) this.queue.add(k);
  }

  private podDeleted(pod: KubeObject): void {
    const key = this.resolve(pod.metadata.namespace, controllerOf(pod));
    if (!key) return;
    this.expectations.deletionObserved(key, objectKey(pod));
    this.queue.add(key);
  }

  // ---- sync ----

  /** Brings one ReplicaSet/RC's pods to spec.replicas and writes its status. Throws to retry with backoff. */
  async sync(key: string): Promise<void> {
    const cached = this.owners.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const rs = structuredClone(cached);
    const needsSync = this.expectations.satisfied(key);
    const selector = this.kind.selector(rs);
    if (selector.empty || selector.nothing) {
      // Validation forbids this; creating pods nothing can select would never converge (upstream returns too).
      this.log(`${this.kind.kind} ${key} has an empty selector; ignoring it`);
      return;
    }
    const { namespace } = splitKey(key);
    const candidates = this.podsIn(namespace).filter(isPodActive);
    const pods = await claimObjects(candidates, {
      client: this.client,
      resource: PODS,
      owner: rs,
      ownerApiVersion: this.kind.apiVersion,
      ownerKind: this.kind.kind,
      selector,
      canAdopt: async () => {
        try {
          const fresh = await this.client.get(this.kind.resource, namespace, rs.metadata.name ?? '');
          return fresh.metadata.uid === rs.metadata.uid && !fresh.metadata.deletionTimestamp;
        } catch (e) {
          if (isNotFound(e)) return false;
          throw e;
        }
      },
      onError: (p, e) => this.log(`${this.kind.kind} ${key}: claiming pod ${p.metadata.name}: ${errorMessage(e)}`),
    });

    let manageErr: Error | undefined;
    let diff = 0;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      diff = pods.length - (specOf(rs).replicas ?? 1);
      try {
        await this.manageReplicas(key, pods, rs);
      } catch (e) {
        manageErr = e instanceof Error ? e : new Error(String(e));
      }
    }
    const status = this.calculateStatus(rs, pods, manageErr, diff);
    const updated = await this.updateStatus(rs, status);
    const min = specOf(rs).minReadySeconds ?? 0;
    if (!manageErr && min > 0 && updated.readyReplicas === updated.replicas && updated.availableReplicas !== updated.replicas) {
      this.queue.addAfter(key, min * 1000);
    }
    if (manageErr) throw manageErr;
  }

  private async manageReplicas(key: string, pods: KubeObject[], rs: KubeObject): Promise<void> {
    const want = specOf(rs).replicas ?? 1;
    const burst = this.opts.burstReplicas ?? BURST_REPLICAS;
    let diff = pods.length - want;
    if (diff < 0) {
      diff = Math.min(-diff, burst);
      this.expectations.expect(key, diff);
      const ok = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH, () => this.createPod(rs));
      if (ok.created < diff) {
        // The skipped creations will never be observed: lower the expectation for them (upstream does the same).
        for (let i = ok.created; i < diff; i++) this.expectations.creationObserved(key);
      }
      if (ok.error) throw ok.error;
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, burst);
      const victims = podsToDelete(pods, this.relatedPods(rs), diff, this.now());
      this.expectations.expect(key, 0, victims.map(objectKey));
      await deletePods(this.client, this.recorder, rs, key, this.expectations, victims);
    }
  }

  /**
   * Pods of every ReplicaSet controlled by the same owner as rs (its Deployment), used to rank victims by how
   * crowded their node is (upstream getIndirectlyRelatedPods).
   */
  private relatedPods(rs: KubeObject): KubeObject[] {
    const owner = controllerOf(rs);
    const uids = new Set<string>([rs.metadata.uid ?? '']);
    if (owner) {
      for (const o of this.owners.list()) if (o.metadata.namespace === rs.metadata.namespace && controllerOf(o)?.uid === owner.uid) uids.add(o.metadata.uid ?? '');
    }
    return this.podsIn(rs.metadata.namespace).filter((p) => isPodActive(p) && uids.has(controllerOf(p)?.uid ?? '\u0000'));
  }

  /** Upstream GetPodFromTemplate + CreatePodsWithControllerRef: one pod, and its event. */
  private async createPod(rs: KubeObject): Promise<void> {
    const t = specOf(rs).template ?? {};
    const tm = t.metadata ?? {};
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        ...(tm.labels ? { labels: { ...tm.labels } } : {}),
        ...(tm.annotations ? { annotations: { ...tm.annotations } } : {}),
        ...(tm.finalizers ? { finalizers: [...tm.finalizers] } : {}),
        ownerReferences: [newControllerRef(rs, this.kind.apiVersion, this.kind.kind)],
      },
      spec: structuredClone(t.spec ?? {}),
    };
    if (!Object.keys(tm.labels ?? {}).length) throw new Error('unable to create pods, no labels');
    let created: KubeObject;
    try {
      created = await this.client.create(PODS, rs.metadata.namespace, pod);
    } catch (e) {
      // Creations refused because the namespace is going away are expected; no event (upstream HasStatusCause).
      const terminating = e instanceof ApiError && (e.status?.details as { causes?: Array<{ type?: string }> } | undefined)?.causes?.some((c) => c.type === 'NamespaceTerminating');
      if (!terminating) this.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
      throw e;
    }
    this.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
  }

  /** Upstream calculateStatus. */
  calculateStatus(rs: KubeObject, pods: KubeObject[], manageErr: Error | undefined, diff: number): ReplicaStatus {
    const old = (rs.status ?? {}) as ReplicaStatus;
    const templateLabels = specOf(rs).template?.metadata?.labels ?? {};
    const min = specOf(rs).minReadySeconds ?? 0;
    const now = this.now();
    let fully = 0;
    let ready = 0;
    let available = 0;
    for (const p of pods) {
      const l = p.metadata.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => l[k] === v)) fully++;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, min, now)) available++;
      }
    }
    let conditions = (old.conditions ?? []).map((c) => ({ ...c }));
    const failure = conditions.find((c) => c.type === 'ReplicaFailure');
    if (manageErr && !failure) {
      const reason = diff < 0 ? 'FailedCreate' : 'FailedDelete';
      conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: rfc3339(now), reason, message: manageErr.message });
    } else if (!manageErr && failure) {
      conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
    }
    const status: ReplicaStatus = { replicas: pods.length, fullyLabeledReplicas: fully, readyReplicas: ready, availableReplicas: available };
    if (old.observedGeneration !== undefined) status.observedGeneration = old.observedGeneration;
    if (conditions.length) status.conditions = conditions;
    return status;
  }

  /** Writes status (with observedGeneration) unless nothing changed; one retry on conflict, as upstream. */
  private async updateStatus(rs: KubeObject, status: ReplicaStatus): Promise<ReplicaStatus> {
    const gen = rs.metadata.generation ?? 0;
    const old = (rs.status ?? {}) as ReplicaStatus;
    const same = (a: ReplicaStatus, b: ReplicaStatus) =>
      (a.replicas ?? 0) === (b.replicas ?? 0) &&
      (a.fullyLabeledReplicas ?? 0) === (b.fullyLabeledReplicas ?? 0) &&
      (a.readyReplicas ?? 0) === (b.readyReplicas ?? 0) &&
      (a.availableReplicas ?? 0) === (b.availableReplicas ?? 0) &&
      JSON.stringify(a.conditions ?? []) === JSON.stringify(b.conditions ?? []);
    if (same(old, status) && old.observedGeneration === gen) return old;
    let cur = rs;
    for (let attempt = 0; ; attempt++) {
      const next = { ...status, observedGeneration: gen };
      try {
        const written = await this.client.update(this.kind.resource, cur.metadata.namespace, { ...structuredClone(cur), status: next }, 'status');
        return (written.status ?? next) as ReplicaStatus;
      } catch (e) {
        if (isNotFound(e)) return next;
        if (!isConflict(e) || attempt >= 1) throw e;
        cur = await this.client.get(this.kind.resource, rs.metadata.namespace, rs.metadata.name ?? '');
      }
    }
  }
}

/**
 * Upstream slowStartBatch: runs fn count times in batches of 1, 2, 4, … (all of a batch in parallel), stopping
 * after the first batch with a failure so a quota or admission refusal does not become hundreds of errors.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<{ created: number; error?: unknown }> {
  let remaining = count;
  let created = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, fn));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    created += batch - failed.length;
    if (failed.length) return { created, error: failed[0]!.reason };
    remaining -= batch;
  }
  return { created };
}
