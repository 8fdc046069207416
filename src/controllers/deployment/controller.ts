// Deployment controller (upstream pkg/controller/deployment): owns ReplicaSets named
// `<deployment>-<pod-template-hash>`, rolls between them (RollingUpdate within maxSurge/maxUnavailable, or
// Recreate), scales proportionally mid-rollout, keeps revision annotations so `kubectl rollout history/undo`
// work (an old RS whose template matches is reused with a bumped revision), prunes history beyond
// revisionHistoryLimit, honours paused, and reports status with Progressing/Available conditions.

import type { KubeObject, OwnerReference } from '../../api/types.js';
import { fromLabelSelector } from '../../api/selectors/labels.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { ApiError, isConflict, isNotFound, objectKey, splitKey, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { claimObjects, controllerOf, newControllerRef } from '../common/controllerref.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { computeHash } from './hash.js';
import * as u from './util.js';
import { DEPLOYMENTS, PODS, REPLICASETS } from '../../client/resources.js';
import { rfc3339 } from '../../api/time.js';
export { DEPLOYMENTS, PODS, REPLICASETS };

/** How often a Recreate rollout re-checks for old pods still terminating. */
const OLD_PODS_POLL_MS = 1000;

export interface DeploymentControllerOptions {
  workers?: number;
  log?: Logger;
  now?: () => number;
}

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  readonly queue = new WorkQueue<string>();
  readonly deployments: Informer;
  readonly replicaSets: Informer;
  readonly recorder: EventRecorder;
  private readonly log: Logger;
  readonly now: () => number;

  constructor(
    readonly client: Client,
    private readonly opts: DeploymentControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.recorder = new EventRecorder(client, 'deployment-controller', undefined, this.now);
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.deployments = new Informer(client, DEPLOYMENTS, { onError: onError('deployments') });
    this.replicaSets = new Informer(client, REPLICASETS, { onError: onError('replicasets') });
    const enq = (d: KubeObject) => this.queue.add(objectKey(d));
    this.deployments.addEventHandler({ add: enq, update: (_o, d) => enq(d), delete: enq });
    this.replicaSets.addEventHandler({ add: (rs) => this.rsChanged(undefined, rs), update: (o, rs) => this.rsChanged(o, rs), delete: (rs) => this.rsChanged(undefined, rs) });
  }

  async run(): Promise<void> {
    for (const i of [this.deployments, this.replicaSets]) i.start();
    await Promise.all([this.deployments.hasSynced, this.replicaSets.hasSynced]);
    await runWorkers(this.queue, this.opts.workers ?? 5, (k) => this.sync(k), (k, e) => {
      // Conflicts come from acting on a cache a write or two behind; the retry sees the newer object.
      if (!isConflict(e)) this.log(`sync deployment ${k}: ${errorMessage(e)}`);
    });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.deployments.stop(), this.replicaSets.stop()]);
    await this.recorder.flush();
  }

  // ---- event handlers: work out which Deployment, enqueue ----

  private deploymentFor(namespace: string | undefined, ref: OwnerReference | undefined): string | undefined {
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const key = `${namespace}/${ref.name}`;
    return this.deployments.get(key)?.metadata.uid === ref.uid ? key : undefined;
  }

  private rsChanged(old: KubeObject | undefined, rs: KubeObject): void {
    if (old && old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
    const oldRef = old && controllerOf(old);
    const ref = controllerOf(rs);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const k = this.deploymentFor(old.metadata.namespace, oldRef);
      if (k) this.queue.add(k);
    }
    if (ref) {
      const k = this.deploymentFor(rs.metadata.namespace, ref);
      if (k) this.queue.add(k);
      return;
    }
    // An orphan: every Deployment that selects it may adopt it.
    for (const d of this.deployments.list()) {
      if (d.metadata.namespace !== rs.metadata.namespace) continue;
      const sel = fromLabelSelector(u.dspec(d).selector);
      if (!sel.empty && sel.matches(rs.metadata.labels)) this.queue.add(objectKey(d));
    }
  }

  // ---- sync ----

  /** One pass over a Deployment (upstream syncDeployment). Throws to retry with backoff. */
  async sync(key: string): Promise<void> {
    const cached = this.deployments.get(key);
    if (!cached) return;
    const s = new DeploymentSync(this, structuredClone(cached));
    await s.run();
  }

  /** ReplicaSets in the namespace this Deployment controls, after adoption and release. */
  async claimReplicaSets(d: KubeObject): Promise<KubeObject[]> {
    const { namespace } = splitKey(objectKey(d));
    const candidates = this.replicaSets.list().filter((rs) => rs.metadata.namespace === namespace);
    const claimed = await claimObjects(candidates, {
      client: this.client,
      resource: REPLICASETS,
      owner: d,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'Deployment',
      selector: fromLabelSelector(u.dspec(d).selector),
      canAdopt: async () => {
        try {
          const fresh = await this.client.get(DEPLOYMENTS, namespace, d.metadata.name ?? '');
          return fresh.metadata.uid === d.metadata.uid && !fresh.metadata.deletionTimestamp;
        } catch (e) {
          if (isNotFound(e)) return false;
          throw e;
        }
      },
      onError: (rs, e) => this.log(`deployment ${objectKey(d)}: claiming replica set ${rs.metadata.name}: ${errorMessage(e)}`),
    });
    return claimed.map((rs) => structuredClone(rs));
  }

  /**
   * Pods controlled by the given ReplicaSets, by RS uid, read from the API. Only Recreate needs pods (to wait for
   * the old ones to go), so this controller keeps no pod cache of its own — upstream shares the RS controller's
   * pod informer; k8ts's informers are per controller and a second copy of every pod is not worth it.
   */
  async podsByRS(d: KubeObject, rss: KubeObject[]): Promise<Map<string, KubeObject[]>> {
    const uids = new Set(rss.map((rs) => rs.metadata.uid ?? ''));
    const out = new Map<string, KubeObject[]>();
    const list = await this.client.list(PODS, d.metadata.namespace, { labelSelector: fromLabelSelector(u.dspec(d).selector).toString() });
    for (const p of list.items) {
      const ref = controllerOf(p);
      if (!ref || !uids.has(ref.uid)) continue;
      const l = out.get(ref.uid) ?? [];
      l.push(p);
      out.set(ref.uid, l);
    }
    return out;
  }
}

/** The work of one sync of one Deployment; `d` is the latest version this pass has read or written. */
class DeploymentSync {
  /** The Deployment's ReplicaSets as this pass last read or wrote them (writes replace entries by uid). */
  private rss: KubeObject[] = [];

  constructor(
    private readonly c: DeploymentController,
    private d: KubeObject,
  ) {
    this.d.apiVersion ??= 'apps/v1';
    this.d.kind ??= 'Deployment';
  }

  private remember(rs: KubeObject): KubeObject {
    const i = this.rss.findIndex((x) => x.metadata.uid === rs.metadata.uid);
    if (i >= 0) this.rss[i] = rs;
    else this.rss.push(rs);
    return rs;
  }

  private get client(): Client {
    return this.c.client;
  }
  private nowStr(): string {
    return rfc3339(this.c.now());
  }
  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.c.recorder.event({ ...this.d, apiVersion: 'apps/v1', kind: 'Deployment' }, type, reason, message);
  }

  async run(): Promise<void> {
    const d = this.d;
    const sel = u.dspec(d).selector;
    if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length)) {
      this.event('Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((u.dstatus(d).observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        await this.writeStatus({ ...u.dstatus(d), observedGeneration: d.metadata.generation });
      }
      return;
    }
    this.rss = await this.c.claimReplicaSets(d);
    if (d.metadata.deletionTimestamp) return await this.syncStatusOnly();
    await this.checkPausedConditions();
    if (u.dspec(this.d).paused) return await this.syncScale();
    if (await this.isScalingEvent()) return await this.syncScale();
    if (u.isRollingUpdate(this.d)) return await this.rolloutRolling();
    return await this.rolloutRecreate();
  }

  // ---- status and annotation writes ----

  /** PUTs status unless equal to the stored one; keeps `d` current. */
  private async writeStatus(status: u.DeploymentStatus): Promise<void> {
    if (JSON.stringify(u.canonicalStatus(status)) === JSON.stringify(u.canonicalStatus(u.dstatus(this.d)))) return;
    this.d = await this.client.update(DEPLOYMENTS, this.d.metadata.namespace, { ...this.d, status }, 'status');
  }

  /**
   * The Deployment's revision annotation is written through /status, as upstream's UpdateStatus (the deployment
   * status strategy resets only spec and labels), so managedFields show it under the status subresource.
   */
  private async setRevision(revision: string): Promise<boolean> {
    if (this.d.metadata.annotations?.[u.REVISION] === revision) return false;
    const next = structuredClone(this.d);
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [u.REVISION]: revision };
    this.d = await this.client.update(DEPLOYMENTS, this.d.metadata.namespace, next, 'status');
    return true;
  }

  private async checkPausedConditions(): Promise<void> {
    if (!u.hasProgressDeadline(this.d)) return;
    const status = structuredClone(u.dstatus(this.d));
    const cond = u.getCondition(status, 'Progressing');
    if (cond?.reason === u.TimedOut) return;
    const paused = !!u.dspec(this.d).paused;
    if (paused && cond?.reason !== u.Paused) u.setCondition(status, u.newCondition('Progressing', 'Unknown', u.Paused, 'Deployment is paused', this.nowStr()));
    else if (!paused && cond?.reason === u.Paused) u.setCondition(status, u.newCondition('Progressing', 'Unknown', u.Resumed, 'Deployment is resumed', this.nowStr()));
    else return;
    await this.writeStatus(status);
  }

  // ---- finding and creating the new ReplicaSet ----

  /** Upstream getAllReplicaSetsAndSyncRevision: [new RS (created if asked), old RSs]. */
  /** [new RS, old RSs] as this pass last saw them, without writing anything. */
  private current(): { newRS: KubeObject | undefined; all: KubeObject[]; oldRSs: KubeObject[] } {
    const newRS = u.findNewRS(this.d, this.rss);
    return { newRS, all: this.rss, oldRSs: this.rss.filter((rs) => rs !== newRS) };
  }

  private async getAll(create: boolean): Promise<{ newRS: KubeObject | undefined; oldRSs: KubeObject[] }> {
    const found = u.findNewRS(this.d, this.rss);
    const oldRSs = this.rss.filter((rs) => rs !== found);
    const newRS = await this.getNewRS(found, oldRSs, create);
    return { newRS, oldRSs };
  }

  private async getNewRS(existing: KubeObject | undefined, oldRSs: KubeObject[], create: boolean): Promise<KubeObject | undefined> {
    const d = this.d;
    const newRevision = u.maxRevision(oldRSs) + 1;
    if (existing) {
      const rs = structuredClone(existing);
      const annotationsUpdated = u.setNewRSAnnotations(d, rs, newRevision, true);
      const minReady = u.dspec(d).minReadySeconds ?? 0;
      const minReadyChanged = (u.rsspec(rs).minReadySeconds ?? 0) !== minReady;
      let cur = existing;
      if (annotationsUpdated || minReadyChanged) {
        (rs.spec as u.RSSpec).minReadySeconds = minReady;
        cur = this.remember(await this.client.update(REPLICASETS, rs.metadata.namespace, rs));
      }
      await this.setRevision(cur.metadata.annotations?.[u.REVISION] ?? '');
      if (u.hasProgressDeadline(this.d) && !u.getCondition(u.dstatus(this.d), 'Progressing')) {
        const status = structuredClone(u.dstatus(this.d));
        u.setCondition(status, u.newCondition('Progressing', 'True', u.FoundNewReplicaSet, `Found new replica set "${cur.metadata.name}"`, this.nowStr()));
        await this.writeStatus(status);
      }
      return cur;
    }
    if (!create) return undefined;

    const spec = u.dspec(d);
    const template = structuredClone(spec.template ?? {});
    const collisionCount = u.dstatus(d).collisionCount;
    const hash = computeHash(template, collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: u.withHashLabel(spec.template?.metadata?.labels, hash) };
    const name = `${d.metadata.name}-${hash}`;
    const newRS: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, namespace: d.metadata.namespace, labels: { ...template.metadata.labels }, ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')] },
      spec: { replicas: 0, minReadySeconds: spec.minReadySeconds ?? 0, selector: u.selectorWithHash(spec.selector, hash), template },
    };
    const replicas = u.newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    (newRS.spec as u.RSSpec).replicas = replicas;
    u.setNewRSAnnotations(d, newRS, newRevision, false);

    let created: KubeObject;
    let alreadyExists = false;
    try {
      created = this.remember(await this.client.create(REPLICASETS, d.metadata.namespace, newRS));
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) {
        const msg = `Failed to create new replica set "${name}": ${errorMessage(e)}`;
        if (u.hasProgressDeadline(d)) {
          const status = structuredClone(u.dstatus(this.d));
          u.setCondition(status, u.newCondition('Progressing', 'False', u.FailedRSCreate, msg, this.nowStr()));
          await this.writeStatus(status).catch(() => undefined);
        }
        this.event('Warning', u.FailedRSCreate, msg);
        throw e;
      }
      // Same name already there: ours with this template (a stale cache) → use it; else a hash collision.
      const rs = await this.client.get(REPLICASETS, d.metadata.namespace, name);
      if (controllerOf(rs)?.uid === d.metadata.uid && u.equalIgnoreHash(u.rsspec(rs).template, spec.template)) {
        created = this.remember(rs);
        alreadyExists = true;
      } else {
        const status = structuredClone(u.dstatus(this.d));
        status.collisionCount = (status.collisionCount ?? 0) + 1;
        await this.writeStatus(status);
        throw new Error(`found a hash collision for deployment "${d.metadata.name}" - bumping collisionCount (${collisionCount ?? 0}->${status.collisionCount}) to resolve it`);
      }
    }
    if (!alreadyExists && replicas > 0) this.event('Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
    await this.setRevision(String(newRevision));
    if (!alreadyExists && u.hasProgressDeadline(this.d)) {
      const status = structuredClone(u.dstatus(this.d));
      u.setCondition(status, u.newCondition('Progressing', 'True', u.NewReplicaSetCreated, `Created new replica set "${name}"`, this.nowStr()));
      await this.writeStatus(status);
    }
    return created;
  }

  // ---- scaling ----

  /** Upstream scaleReplicaSetAndRecordEvent; returns [scaled, the RS as now stored]. */
  private async scaleRS(rs: KubeObject, newScale: number): Promise<[boolean, KubeObject]> {
    if (u.rsReplicas(rs) === newScale) return [false, rs];
    return await this.scaleReplicaSet(rs, newScale);
  }

  private async scaleReplicaSet(rs: KubeObject, newScale: number): Promise<[boolean, KubeObject]> {
    const d = this.d;
    const oldScale = u.rsReplicas(rs);
    const sizeNeedsUpdate = oldScale !== newScale;
    const max = u.replicasOf(d) + u.maxSurge(d);
    if (!sizeNeedsUpdate && !u.replicasAnnotationsNeedUpdate(rs, u.replicasOf(d), max)) return [false, rs];
    const next = structuredClone(rs);
    (next.spec as u.RSSpec).replicas = newScale;
    u.setReplicasAnnotations(next, u.replicasOf(d), max);
    const written = this.remember(await this.client.update(REPLICASETS, next.metadata.namespace, next));
    if (sizeNeedsUpdate) {
      this.event('Normal', 'ScalingReplicaSet', `Scaled ${oldScale < newScale ? 'up' : 'down'} replica set ${rs.metadata.name} from ${oldScale} to ${newScale}`);
    }
    return [sizeNeedsUpdate, written];
  }

  private async isScalingEvent(): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAll(false);
    for (const rs of u.activeRSs([...oldRSs, newRS])) {
      const desired = rs.metadata.annotations?.[u.DESIRED_REPLICAS];
      if (desired === undefined || !/^\d+$/.test(desired)) continue;
      if (Number(desired) !== u.replicasOf(this.d)) return true;
    }
    return false;
  }

  /** Upstream sync: scale only (paused or a replicas change), then status. */
  private async syncScale(): Promise<void> {
    const before = await this.getAll(false);
    await this.scale(before.newRS, before.oldRSs);
    const { newRS, oldRSs } = this.current();
    if (u.dspec(this.d).paused) await this.cleanup(oldRSs);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS);
  }

  private async syncStatusOnly(): Promise<void> {
    const { newRS, oldRSs } = await this.getAll(false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS);
  }

  /** Upstream scale(): the one active RS takes all; a saturated new RS empties the old; else proportional. */
  private async scale(newRS: KubeObject | undefined, oldRSs: KubeObject[]): Promise<void> {
    const d = this.d;
    const n = u.replicasOf(d);
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (u.rsReplicas(activeOrLatest) !== n) await this.scaleRS(activeOrLatest, n);
      return;
    }
    if (u.isSaturated(d, newRS)) {
      for (const old of u.activeRSs(oldRSs)) await this.scaleRS(old, 0);
      return;
    }
    if (!u.isRollingUpdate(d)) return;
    const all = u.activeRSs([...oldRSs, newRS]);
    const allowed = n > 0 ? n + u.maxSurge(d) : 0;
    const toAdd = allowed - u.sumSpecReplicas(all);
    if (toAdd > 0) all.sort(u.bySizeNewer);
    else if (toAdd < 0) all.sort(u.bySizeOlder);
    let added = 0;
    const size = new Map<string, number>();
    for (const rs of all) {
      if (toAdd !== 0) {
        const p = u.rsProportion(rs, d, toAdd, added);
        size.set(rs.metadata.name ?? '', u.rsReplicas(rs) + p);
        added += p;
      } else size.set(rs.metadata.name ?? '', u.rsReplicas(rs));
    }
    for (let i = 0; i < all.length; i++) {
      const rs = all[i]!;
      const name = rs.metadata.name ?? '';
      if (i === 0 && toAdd !== 0) size.set(name, Math.max(0, size.get(name)! + toAdd - added));
      await this.scaleReplicaSet(rs, size.get(name)!);
    }
  }

  // ---- strategies ----

  private async rolloutRolling(): Promise<void> {
    const { newRS, oldRSs } = await this.getAll(true);
    const d = this.d;
    const n = u.replicasOf(d);
    // Scale up, if we can.
    let scaledUp = false;
    if (u.rsReplicas(newRS!) > n) [scaledUp] = await this.scaleRS(newRS!, n);
    else if (u.rsReplicas(newRS!) < n) [scaledUp] = await this.scaleRS(newRS!, u.newRSNewReplicas(d, [...oldRSs, newRS], newRS!));
    if (scaledUp) return await this.syncRolloutStatus();
    // Scale down, if we can.
    if (await this.reconcileOldReplicaSets(oldRSs, newRS!)) return await this.syncRolloutStatus();
    if (u.deploymentComplete(this.d, u.dstatus(this.d))) await this.cleanup(this.current().oldRSs);
    await this.syncRolloutStatus();
  }

  /** Upstream reconcileOldReplicaSets; true when something was scaled down. */
  private async reconcileOldReplicaSets(oldRSsIn: KubeObject[], newRS: KubeObject): Promise<boolean> {
    const d = this.d;
    const oldRSs = [...oldRSsIn];
    const active = () => u.activeRSs(oldRSs);
    const oldPods = u.sumSpecReplicas(active());
    if (oldPods === 0) return false;
    const allPods = u.sumSpecReplicas([...oldRSs, newRS]);
    const minAvailable = u.replicasOf(d) - u.maxUnavailable(d);
    const newUnavailable = u.rsReplicas(newRS) - u.availableWithin(newRS);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;

    // Clean up unhealthy replicas first, otherwise they block the rollout (upstream cleanupUnhealthyReplicas).
    oldRSs.sort(u.byCreation);
    let cleaned = 0;
    for (let i = 0; i < oldRSs.length; i++) {
      if (cleaned >= maxScaledDown) break;
      const rs = oldRSs[i]!;
      const unhealthy = u.rsReplicas(rs) - (u.rsstatus(rs).availableReplicas ?? 0);
      if (u.rsReplicas(rs) === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      const [, written] = await this.scaleRS(rs, u.rsReplicas(rs) - down);
      oldRSs[i] = written;
      cleaned += down;
    }

    // Then scale down healthy old replicas while availability allows (scaleDownOldReplicaSetsForRollingUpdate).
    // Upstream sums status.availableReplicas; an RS just scaled down still reports the pods it is deleting, and
    // counting those would take availability below minAvailable: each RS counts at most its spec.replicas.
    const minAvail = u.replicasOf(d) - u.maxUnavailable(d);
    const available = u.sumAvailableWithin([...oldRSs, newRS]);
    let scaled = 0;
    if (available > minAvail) {
      const budget = available - minAvail;
      for (let i = 0; i < oldRSs.length; i++) {
        if (scaled >= budget) break;
        const rs = oldRSs[i]!;
        if (u.rsReplicas(rs) === 0) continue;
        const down = Math.min(u.rsReplicas(rs), budget - scaled);
        const [, written] = await this.scaleRS(rs, u.rsReplicas(rs) - down);
        oldRSs[i] = written;
        scaled += down;
      }
    }
    return cleaned + scaled > 0;
  }

  private async rolloutRecreate(): Promise<void> {
    const { newRS, oldRSs } = await this.getAll(false);
    // Scale down old replica sets.
    let scaledDown = false;
    for (const rs of u.activeRSs(oldRSs)) {
      const [scaled] = await this.scaleRS(rs, 0);
      scaledDown ||= scaled;
    }
    if (scaledDown) return await this.syncRolloutStatus();
    // Wait until no old pod is running.
    if (await this.oldPodsRunning(newRS, oldRSs)) {
      // No pod informer here: look again shortly rather than waiting for a pod deletion event.
      this.c.queue.addAfter(objectKey(this.d), OLD_PODS_POLL_MS);
      return await this.syncRolloutStatus();
    }
    const target = newRS ?? (await this.getAll(true)).newRS!;
    await this.scaleRS(target, u.replicasOf(this.d));
    if (u.deploymentComplete(this.d, u.dstatus(this.d))) await this.cleanup(this.current().oldRSs);
    await this.syncRolloutStatus();
  }

  private async oldPodsRunning(newRS: KubeObject | undefined, oldRSs: KubeObject[]): Promise<boolean> {
    if (u.sumStatus(oldRSs, 'replicas') > 0) return true;
    if (!oldRSs.length) return false;
    const byRS = await this.c.podsByRS(this.d, oldRSs);
    for (const [uid, pods] of byRS) {
      if (newRS && newRS.metadata.uid === uid) continue;
      for (const p of pods) {
        const phase = ((p.status ?? {}) as { phase?: string }).phase;
        if (phase === 'Failed' || phase === 'Succeeded') continue;
        return true;
      }
    }
    return false;
  }

  // ---- history ----

  /** Upstream cleanupDeployment: delete the oldest unused RSs beyond revisionHistoryLimit. */
  private async cleanup(oldRSs: KubeObject[]): Promise<void> {
    const limit = u.dspec(this.d).revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp).sort(u.byRevision);
    const diff = cleanable.length - limit;
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      const st = u.rsstatus(rs);
      if ((st.replicas ?? 0) !== 0 || u.rsReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (st.observedGeneration ?? 0)) continue;
      try {
        await this.client.delete(REPLICASETS, rs.metadata.namespace, rs.metadata.name ?? '');
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  // ---- status ----

  /** Upstream calculateStatus. */
  private calculateStatus(all: Array<KubeObject | undefined>, newRS: KubeObject | undefined): u.DeploymentStatus {
    const d = this.d;
    const available = u.sumStatus(all, 'availableReplicas');
    const total = u.sumSpecReplicas(all);
    const old = u.dstatus(d);
    const status: u.DeploymentStatus = {
      observedGeneration: d.metadata.generation,
      replicas: u.sumStatus(all, 'replicas'),
      updatedReplicas: u.sumStatus([newRS], 'replicas'),
      readyReplicas: u.sumStatus(all, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    if (old.collisionCount !== undefined) status.collisionCount = old.collisionCount;
    if (old.conditions) status.conditions = old.conditions.map((c) => ({ ...c }));
    if (available >= u.replicasOf(d) - u.maxUnavailable(d)) {
      u.setCondition(status, u.newCondition('Available', 'True', u.MinimumReplicasAvailable, 'Deployment has minimum availability.', this.nowStr()));
    } else {
      u.setCondition(status, u.newCondition('Available', 'False', u.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', this.nowStr()));
    }
    return status;
  }

  private async syncDeploymentStatus(all: Array<KubeObject | undefined>, newRS: KubeObject | undefined): Promise<void> {
    await this.writeStatus(this.calculateStatus(all, newRS));
  }

  /** Upstream syncRolloutStatus: status plus the Progressing condition and the progress-deadline requeue. */
  private async syncRolloutStatus(): Promise<void> {
    const { all, newRS } = this.current();
    const d = this.d;
    const status = this.calculateStatus(all, newRS);
    if (!u.hasProgressDeadline(d)) u.removeCondition(status, 'Progressing');
    const cur = u.getCondition(u.dstatus(d), 'Progressing');
    const complete = status.replicas === status.updatedReplicas && cur?.reason === u.NewRSAvailable;
    const now = this.nowStr();
    if (u.hasProgressDeadline(d) && !complete) {
      const name = newRS?.metadata.name;
      if (u.deploymentComplete(d, status)) {
        const msg = name ? `ReplicaSet "${name}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
        u.setCondition(status, u.newCondition('Progressing', 'True', u.NewRSAvailable, msg, now));
      } else if (u.deploymentProgressing(d, status)) {
        const msg = name ? `ReplicaSet "${name}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
        const c = u.newCondition('Progressing', 'True', u.ReplicaSetUpdated, msg, now);
        if (cur) {
          if (cur.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
          u.removeCondition(status, 'Progressing');
        }
        u.setCondition(status, c);
      } else if (u.deploymentTimedOut(d, status, this.c.now())) {
        const msg = name ? `ReplicaSet "${name}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
        u.setCondition(status, u.newCondition('Progressing', 'False', u.TimedOut, msg, now));
      }
    }
    const failures = replicaFailures(all, newRS);
    if (failures) u.setCondition(status, failures);
    else u.removeCondition(status, 'ReplicaFailure');
    const before = this.d.metadata.resourceVersion;
    await this.writeStatus(status);
    if (this.d.metadata.resourceVersion === before) this.requeueStuck(status);
  }

  /** A rollout that is not progressing is looked at again when its deadline passes (upstream requeueStuckDeployment). */
  private requeueStuck(status: u.DeploymentStatus): void {
    const d = this.d;
    const cond = u.getCondition(status, 'Progressing');
    if (!u.hasProgressDeadline(d) || !cond) return;
    if (u.deploymentComplete(d, status) || cond.reason === u.TimedOut) return;
    const after = Date.parse(cond.lastUpdateTime ?? '') + (u.dspec(d).progressDeadlineSeconds ?? 0) * 1000 - this.c.now();
    const key = objectKey(d);
    if (!Number.isFinite(after) || after < 1000) this.c.queue.addRateLimited(key);
    else this.c.queue.addAfter(key, after + 1000);
  }
}

/** Upstream FindActiveOrLatest: the only active RS, else the newest when none is active, else none. */
function findActiveOrLatest(newRS: KubeObject | undefined, oldRSs: KubeObject[]): KubeObject | undefined {
  if (!newRS && !oldRSs.length) return undefined;
  const sorted = [...oldRSs].sort((a, b) => u.byCreation(b, a));
  const active = u.activeRSs([...sorted, newRS]);
  if (active.length === 0) return newRS ?? sorted[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** The new RS's ReplicaFailure condition, else any old one's, as a Deployment condition. */
function replicaFailures(all: Array<KubeObject | undefined>, newRS: KubeObject | undefined): u.Condition | undefined {
  const from = (rs: KubeObject | undefined): u.Condition | undefined => {
    const c = rs && u.rsstatus(rs).conditions?.find((x) => x.type === 'ReplicaFailure');
    return c && { type: c.type, status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
  };
  return from(newRS) ?? all.map(from).find((c) => c);
}
