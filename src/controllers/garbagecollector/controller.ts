// Garbage collector (upstream pkg/controller/garbagecollector): deletes objects whose owners are gone, orphans
// dependents of owners deleted with the `orphan` finalizer, and finishes foreground deletion.
//
// Design. One metadata-only informer (as upstream's metadata informers; it joins another controller's whole-object
// cache where there is one) per discovered resource that supports list, watch and delete (preferred version, events
// excluded as upstream) feeds a Graph (uid → node, owner uid → dependent uids). Node.js runs handlers one at a time,
// so the handlers update the graph directly instead of through upstream's graphChanges queue. They enqueue uids
// on two work queues:
//   attemptToDelete — a dependent whose owners may be gone (new reference to an unseen owner, owner deleted, owner
//                     started foreground deletion) or an owner in foreground deletion whose dependents changed;
//   attemptToOrphan — an owner being deleted with the `orphan` finalizer.
// Workers start once every informer has synced and always re-read the object from the API before acting. An
// owner counts as present when the graph has its uid, else after a live GET finds the same uid (absent uids are
// remembered: uids are never reused). Writes carry the object's uid/resourceVersion as preconditions.

import type { KubeObject, OwnerReference } from '../../api/types.js';
import { Informer } from '../../client/informer.js';
import { isConflict, isNotFound, type ApiResource, type Client, type PatchType } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { Graph, type GraphNode } from './graph.js';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';
const MERGE: PatchType = 'application/merge-patch+json';

/** Resources the collector never watches (upstream DefaultIgnoredResources). */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);

export interface GarbageCollectorOptions {
  workers?: number;
  log?: Logger;
  /** Informer resync period (re-examines deleting owners); default 5 min, 0 disables. */
  resyncMs?: number;
  /** First retry delay when discovery fails at start; default 500 ms. */
  discoveryRetryMs?: number;
}

type OwnerState = { present: false } | { present: true; deletingDependents: boolean };

export class GarbageCollector implements Controller {
  readonly name = 'garbagecollector';
  readonly graph = new Graph();
  readonly attemptToDelete = new WorkQueue<string>();
  readonly attemptToOrphan = new WorkQueue<string>();
  private informers: Informer[] = [];
  /** "group/Kind" → resource, to resolve ownerReferences. */
  private readonly byKind = new Map<string, ApiResource>();
  private readonly absent = new Set<string>();
  private readonly log: Logger;
  private stopped = false;
  private wakeRetry: (() => void) | undefined;
  private readonly syncedPromise: Promise<void>;
  private syncedResolve!: () => void;

  constructor(
    private readonly client: Client,
    private readonly opts: GarbageCollectorOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.syncedPromise = new Promise((r) => (this.syncedResolve = r));
  }

  /** Resolves once every informer has listed (tests wait on it). */
  get hasSynced(): Promise<void> {
    return this.syncedPromise;
  }

  async run(): Promise<void> {
    const resources = await this.discover();
    if (!resources) return;
    for (const r of resources) {
      this.byKind.set(`${r.group}/${r.kind}`, r);
      if (IGNORED.has(`${r.group}/${r.resource}`) || !['list', 'watch', 'delete'].every((v) => r.verbs.includes(v))) continue;
      const inf = new Informer(this.client, r, { metadataOnly: true, resyncMs: this.opts.resyncMs ?? 5 * 60_000, onError: (e) => this.log(`${r.resource}.${r.group} informer: ${errorMessage(e)}`) });
      inf.addEventHandler({ add: (o) => this.observe(r, o), update: (_old, o) => this.observe(r, o), delete: (o) => this.observeDelete(o) });
      this.informers.push(inf);
    }
    for (const inf of this.informers) inf.start();
    await Promise.all(this.informers.map((i) => i.hasSynced));
    if (this.stopped) return;
    this.syncedResolve();
    const workers = this.opts.workers ?? 4;
    const onError = (what: string) => (uid: string, e: unknown) => {
      const n = this.graph.get(uid);
      this.log(`${what} ${n ? `${n.resource.resource}.${n.resource.group} ${n.namespace ? `${n.namespace}/` : ''}${n.name}` : uid}: ${errorMessage(e)}`);
    };
    await Promise.all([
      runWorkers(this.attemptToDelete, workers, (uid) => this.processDelete(uid), onError('attemptToDelete')),
      runWorkers(this.attemptToOrphan, Math.max(1, workers >> 1), (uid) => this.processOrphan(uid), onError('attemptToOrphan')),
    ]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeRetry?.();
    this.attemptToDelete.shutDown();
    this.attemptToOrphan.shutDown();
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  private async discover(): Promise<ApiResource[] | undefined> {
    let delay = this.opts.discoveryRetryMs ?? 500;
    while (!this.stopped) {
      try {
        return await this.client.discover();
      } catch (e) {
        this.log(`discovery failed, retrying: ${errorMessage(e)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.wakeRetry = () => (clearTimeout(t), r());
        });
        delay = Math.min(delay * 2, 30_000);
      }
    }
    return undefined;
  }

  // ---- graph maintenance (informer handlers) -----------------------------------------------------------------

  private observe(r: ApiResource, o: KubeObject): void {
    const uid = o.metadata.uid;
    if (!uid) return;
    const fins = o.metadata.finalizers ?? [];
    const deleting = !!o.metadata.deletionTimestamp;
    const node: GraphNode = {
      uid,
      resource: r,
      namespace: o.metadata.namespace,
      name: o.metadata.name ?? '',
      owners: (o.metadata.ownerReferences ?? []).filter((ref) => ref && ref.uid),
      beingDeleted: deleting,
      deletingDependents: deleting && fins.includes(FINALIZER_FOREGROUND),
      orphaning: deleting && fins.includes(FINALIZER_ORPHAN),
    };
    const { added, removed, unblocked } = this.graph.upsert(node);
    for (const ref of added) {
      const owner = this.graph.get(ref.uid);
      // An owner never seen may not exist; an owner in foreground deletion wants this dependent gone too.
      if (!owner || owner.deletingDependents) this.attemptToDelete.add(uid);
    }
    for (const ref of [...removed, ...unblocked]) if (this.graph.get(ref.uid)?.deletingDependents) this.attemptToDelete.add(ref.uid);
    if (node.orphaning) this.attemptToOrphan.add(uid);
    if (node.deletingDependents) {
      for (const d of this.graph.dependentsOf(uid)) this.attemptToDelete.add(d.uid);
      this.attemptToDelete.add(uid);
    }
  }

  private observeDelete(o: KubeObject): void {
    const uid = o.metadata.uid;
    if (!uid) return;
    const node = this.graph.remove(uid);
    this.absent.add(uid);
    if (this.absent.size > 10_000) this.absent.clear();
    for (const d of this.graph.dependentsOf(uid)) this.attemptToDelete.add(d.uid);
    for (const ref of node?.owners ?? []) if (this.graph.get(ref.uid)?.deletingDependents) this.attemptToDelete.add(ref.uid);
  }

  // ---- workers -------------------------------------------------------------------------------------------------

  /** The object as stored now, or undefined if it is gone or was replaced by another with the same name. */
  private async latest(n: GraphNode): Promise<KubeObject | undefined> {
    try {
      const o = await this.client.get(n.resource, n.namespace, n.name);
      return o.metadata.uid === n.uid ? o : undefined;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** upstream attemptToDeleteItem */
  async processDelete(uid: string): Promise<void> {
    const n = this.graph.get(uid);
    if (!n) return;
    const obj = await this.latest(n);
    if (!obj) return;
    const fins = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp) {
      if (fins.includes(FINALIZER_FOREGROUND)) await this.processDeletingDependents(n);
      return; // being deleted by someone else's decision
    }
    const refs = obj.metadata.ownerReferences ?? [];
    if (!refs.length) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const s = await this.ownerState(ref, obj.metadata.namespace);
      if (!s.present) dangling.push(ref);
      else if (s.deletingDependents) waiting.push(ref);
      else solid.push(ref);
    }
    if (solid.length) {
      // Still owned: only drop the references to owners that are gone or are deleting their dependents.
      if (dangling.length || waiting.length) await this.removeOwnerRefs(n, obj, new Set([...dangling, ...waiting].map((r) => r.uid)));
      return;
    }
    if (waiting.length && this.graph.dependentsOf(uid).length) {
      // Part of a foreground chain: delete this one in the foreground too, so its own dependents go first.
      if (this.graph.dependentsOf(uid).some((d) => d.deletingDependents)) {
        // A cycle would deadlock on blockOwnerDeletion; unblock our references first (upstream does the same).
        await this.unblockOwnerRefs(n, obj, new Set(waiting.map((r) => r.uid)));
      }
      await this.deleteObject(n, 'Foreground');
      return;
    }
    await this.deleteObject(n, fins.includes(FINALIZER_ORPHAN) ? 'Orphan' : fins.includes(FINALIZER_FOREGROUND) ? 'Foreground' : 'Background');
  }

  /** upstream processDeletingDependentsItem: finish once no dependent blocks; otherwise push those that do. */
  private async processDeletingDependents(n: GraphNode): Promise<void> {
    const blocking = this.graph.dependentsOf(n.uid).filter((d) => d.owners.some((r) => r.uid === n.uid && r.blockOwnerDeletion));
    if (!blocking.length) {
      await this.removeFinalizer(n, FINALIZER_FOREGROUND);
      return;
    }
    for (const d of blocking) if (!d.deletingDependents) this.attemptToDelete.add(d.uid);
  }

  /** upstream attemptToOrphanWorker: strip references to the owner from every dependent, then its finalizer. */
  async processOrphan(uid: string): Promise<void> {
    const n = this.graph.get(uid);
    if (!n) return;
    const owner = await this.latest(n);
    if (!owner?.metadata.deletionTimestamp || !(owner.metadata.finalizers ?? []).includes(FINALIZER_ORPHAN)) return;
    const errors: string[] = [];
    await Promise.all(
      this.graph.dependentsOf(uid).map(async (d) => {
        try {
          const dep = await this.latest(d);
          if (dep) await this.removeOwnerRefs(d, dep, new Set([uid]));
        } catch (e) {
          errors.push(`${d.resource.resource} ${d.name}: ${errorMessage(e)}`);
        }
      }),
    );
    if (errors.length) throw new Error(`orphaning dependents: ${errors.join('; ')}`);
    await this.removeFinalizer(n, FINALIZER_ORPHAN);
  }

  private async ownerState(ref: OwnerReference, namespace: string | undefined): Promise<OwnerState> {
    const known = this.graph.get(ref.uid);
    if (known) return { present: true, deletingDependents: known.deletingDependents };
    if (this.absent.has(ref.uid)) return { present: false };
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.slice(0, ref.apiVersion.indexOf('/')) : '';
    const r = this.byKind.get(`${group}/${ref.kind}`);
    if (!r) throw new Error(`cannot resolve owner kind ${ref.apiVersion}, Kind=${ref.kind}`);
    // A cluster-scoped dependent cannot have a namespaced owner: such a reference never resolves (upstream).
    if (r.namespaced && !namespace) return { present: false };
    try {
      const o = await this.client.get(r, r.namespaced ? namespace : undefined, ref.name);
      if (o.metadata.uid === ref.uid) {
        const deleting = !!o.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).includes(FINALIZER_FOREGROUND);
        return { present: true, deletingDependents: deleting };
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.absent.add(ref.uid);
    return { present: false };
  }

  private async deleteObject(n: GraphNode, policy: 'Background' | 'Foreground' | 'Orphan'): Promise<void> {
    try {
      await this.client.delete(n.resource, n.namespace, n.name, { propagationPolicy: policy, preconditions: { uid: n.uid } });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e; // gone, or replaced by a new object of the same name
    }
  }

  /**
   * Read-modify-write of one object through a merge patch guarded by its resourceVersion, re-reading on
   * conflict. `change` returns the metadata patch, or undefined when nothing needs changing.
   */
  private async patchMeta(n: GraphNode, first: KubeObject | undefined, change: (o: KubeObject) => Record<string, unknown> | undefined): Promise<void> {
    let obj = first;
    for (let attempt = 0; ; attempt++) {
      obj ??= await this.latest(n);
      if (!obj) return;
      const meta = change(obj);
      if (!meta) return;
      try {
        await this.client.patch(n.resource, n.namespace, n.name, MERGE, { metadata: { ...meta, uid: n.uid, resourceVersion: obj.metadata.resourceVersion } });
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt >= 5) throw e;
        obj = undefined;
      }
    }
  }

  private async removeOwnerRefs(n: GraphNode, obj: KubeObject, uids: Set<string>): Promise<void> {
    await this.patchMeta(n, obj, (o) => {
      const refs = o.metadata.ownerReferences ?? [];
      const keep = refs.filter((r) => !uids.has(r.uid));
      if (keep.length === refs.length) return undefined;
      return { ownerReferences: keep.length ? keep : null };
    });
  }

  private async unblockOwnerRefs(n: GraphNode, obj: KubeObject, uids: Set<string>): Promise<void> {
    await this.patchMeta(n, obj, (o) => {
      const refs = o.metadata.ownerReferences ?? [];
      if (!refs.some((r) => uids.has(r.uid) && r.blockOwnerDeletion)) return undefined;
      return { ownerReferences: refs.map((r) => (uids.has(r.uid) ? { ...r, blockOwnerDeletion: false } : r)) };
    });
  }

  private async removeFinalizer(n: GraphNode, finalizer: string): Promise<void> {
    await this.patchMeta(n, undefined, (o) => {
      const fins = o.metadata.finalizers ?? [];
      if (!fins.includes(finalizer)) return undefined;
      return { finalizers: fins.filter((f) => f !== finalizer) };
    });
  }
}
