// StatefulSet controller (upstream pkg/controller/statefulset): pods `<set>-<ordinal>` with stable identity
// (hostname, subdomain, pod-name/pod-index labels) and storage (one PVC `<claim>-<set>-<ordinal>` per claim
// template, kept unless the retention policy says Delete); OrderedReady (one at a time, each waiting for its
// predecessors to be Running and Ready; scale-down from the highest ordinal, never past an unhealthy member) or
// Parallel; RollingUpdate by descending ordinal down to `partition`, or OnDelete; ControllerRevisions and status.

import type { KubeObject, LabelSelector, OwnerReference } from '../../api/types.js';
import { fromLabelSelector } from '../../api/selectors/labels.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { ApiError, isConflict, isNotFound, objectKey, splitKey, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { claimObjects, controllerOf, newControllerRef } from '../common/controllerref.js';
import { Expectations } from '../common/expectations.js';
import { ownerEventHandler } from '../common/handlers.js';
import { CONTROLLERREVISIONS, currentRevision, ownedRevisions, REVISION_HASH_LABEL, templateOf, truncateHistory, type PodTemplate } from '../common/history.js';
import { isPodAvailable, isPodReady, podPhase } from '../common/pods.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { PODS, PVCS, STATEFULSETS } from '../../client/resources.js';
export { PODS, PVCS, STATEFULSETS };

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

interface ClaimTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

interface StatefulSetSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  serviceName?: string;
  podManagementPolicy?: string;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  ordinals?: { start?: number };
  volumeClaimTemplates?: ClaimTemplate[];
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  conditions?: unknown[];
}

export interface StatefulSetControllerOptions {
  workers?: number;
  log?: Logger;
  now?: () => number;
}

const specOf = (s: KubeObject): StatefulSetSpec => (s.spec ?? {}) as StatefulSetSpec;
const ORDINAL = /^(.*)-([0-9]+)$/;

/** The parent name and ordinal encoded in a pod name, or undefined (upstream getParentNameAndOrdinal). */
export function parentAndOrdinal(podName: string): { parent: string; ordinal: number } | undefined {
  const m = ORDINAL.exec(podName);
  return m ? { parent: m[1], ordinal: Number(m[2]) } : undefined;
}

export const claimName = (claim: string, set: string, ordinal: number): string => `${claim}-${set}-${ordinal}`;
/** Upstream matchesRef: the reference names this kind and name (whatever its uid). */
const isRefTo = (r: OwnerReference, apiVersion: string, kind: string, name: string): boolean => r.apiVersion === apiVersion && r.kind === kind && r.name === name;
const podRevision = (p: KubeObject): string => p.metadata.labels?.[REVISION_HASH_LABEL] ?? '';
const isTerminating = (p: KubeObject): boolean => !!p.metadata.deletionTimestamp;
const isRunningAndReady = (p: KubeObject): boolean => podPhase(p) === 'Running' && isPodReady(p);
const isHealthy = (p: KubeObject): boolean => isRunningAndReady(p) && !isTerminating(p);
const isFinished = (p: KubeObject): boolean => podPhase(p) === 'Failed' || podPhase(p) === 'Succeeded';

export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  readonly queue = new WorkQueue<string>();
  readonly expectations: Expectations;
  readonly sets: Informer;
  readonly pods: Informer;
  readonly claims: Informer;
  readonly revisions: Informer;
  readonly recorder: EventRecorder;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly client: Client,
    private readonly opts: StatefulSetControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.expectations = new Expectations(this.now);
    this.recorder = new EventRecorder(client, 'statefulset-controller', undefined, this.now);
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.sets = new Informer(client, STATEFULSETS, { onError: onError('statefulsets') });
    this.pods = new Informer(client, PODS, { onError: onError('pods') });
    this.claims = new Informer(client, PVCS, { onError: onError('persistentvolumeclaims') });
    this.revisions = new Informer(client, CONTROLLERREVISIONS, { onError: onError('controllerrevisions') });
    this.sets.addEventHandler(ownerEventHandler((k) => this.queue.add(k), this.expectations));
    this.pods.addEventHandler({
      add: (p) => this.podEvent(p, 'add'),
      update: (old, p) => {
        if (old.metadata.resourceVersion === p.metadata.resourceVersion) return;
        if (controllerOf(old)?.uid !== controllerOf(p)?.uid) this.podEvent(old, 'update');
        this.podEvent(p, p.metadata.deletionTimestamp ? 'delete' : 'update');
        const min = this.ownerOf(p)?.set;
        const mrs = min ? (specOf(min).minReadySeconds ?? 0) : 0;
        if (min && mrs > 0 && !isPodReady(old) && isPodReady(p)) this.queue.addAfter(objectKey(min), mrs * 1000 + 1000);
      },
      delete: (p) => this.podEvent(p, 'delete'),
    });
    const revOwner = (r: KubeObject) => {
      const ref = controllerOf(r);
      if (ref?.kind === 'StatefulSet') this.queue.add(`${r.metadata.namespace}/${ref.name}`);
    };
    this.revisions.addEventHandler({ add: revOwner, delete: revOwner });
    // A claim going away may unblock an ordinal waiting on its stale claim (whenScaled Delete).
    this.claims.addEventHandler({ delete: (c) => this.claimEvent(c) });
  }

  private claimEvent(claim: KubeObject): void {
    const n = claim.metadata.name ?? '';
    for (const s of this.sets.list()) {
      if (s.metadata.namespace !== claim.metadata.namespace) continue;
      const setName = s.metadata.name ?? '';
      if ((specOf(s).volumeClaimTemplates ?? []).some((t) => n.startsWith(`${t.metadata?.name ?? ''}-${setName}-`))) this.queue.add(objectKey(s));
    }
  }

  async run(): Promise<void> {
    for (const i of [this.sets, this.pods, this.claims, this.revisions]) i.start();
    await Promise.all([this.sets.hasSynced, this.pods.hasSynced, this.claims.hasSynced, this.revisions.hasSynced]);
    await runWorkers(this.queue, this.opts.workers ?? 2, (k) => this.sync(k), (k, e) => {
      if (!isConflict(e)) this.log(`sync StatefulSet ${k}: ${errorMessage(e)}`);
    });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.sets.stop(), this.pods.stop(), this.claims.stop(), this.revisions.stop()]);
    await this.recorder.flush();
  }

  // ---- event handlers ----

  private ownerOf(pod: KubeObject): { key: string; set: KubeObject } | undefined {
    const ref = controllerOf(pod);
    if (!ref || ref.kind !== 'StatefulSet') return undefined;
    const key = `${pod.metadata.namespace}/${ref.name}`;
    const set = this.sets.get(key);
    return set && set.metadata.uid === ref.uid ? { key, set } : undefined;
  }

  private podEvent(pod: KubeObject, kind: 'add' | 'update' | 'delete'): void {
    if (!controllerOf(pod)) {
      if (kind === 'delete') return;
      for (const s of this.sets.list()) {
        if (s.metadata.namespace !== pod.metadata.namespace) continue;
        const sel = fromLabelSelector(specOf(s).selector);
        if (!sel.empty && sel.matches(pod.metadata.labels)) this.queue.add(objectKey(s));
      }
      return;
    }
    const o = this.ownerOf(pod);
    if (!o) return;
    if (kind === 'add') this.expectations.creationObserved(o.key);
    if (kind === 'delete') this.expectations.deletionObserved(o.key, objectKey(pod));
    this.queue.add(o.key);
  }

  // ---- sync ----

  /** Brings one StatefulSet's pods and claims towards its spec, one step at a time when OrderedReady. */
  async sync(key: string): Promise<void> {
    const cached = this.sets.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const set = structuredClone(cached);
    const selector = fromLabelSelector(specOf(set).selector);
    if (selector.empty) return;
    const { namespace } = splitKey(key);
    const name = set.metadata.name ?? '';
    const isMember = (p: KubeObject) => parentAndOrdinal(p.metadata.name ?? '')?.parent === name;
    const candidates = this.pods.list().filter((p) => p.metadata.namespace === namespace && isMember(p));
    const claimed = await claimObjects(candidates, {
      client: this.client,
      resource: PODS,
      owner: set,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'StatefulSet',
      selector,
      canAdopt: async () => {
        try {
          const fresh = await this.client.get(STATEFULSETS, namespace, name);
          return fresh.metadata.uid === set.metadata.uid && !fresh.metadata.deletionTimestamp;
        } catch (e) {
          if (isNotFound(e)) return false;
          throw e;
        }
      },
      onError: (p, e) => this.log(`StatefulSet ${key}: claiming pod ${p.metadata.name}: ${errorMessage(e)}`),
    });
    const pods = claimed;

    const status0 = (set.status ?? {}) as StatefulSetStatus;
    const revisions = ownedRevisions(this.revisions.list(), set);
    const upd = await currentRevision(this.client, { obj: set, apiVersion: 'apps/v1', kind: 'StatefulSet', template: specOf(set).template, collisionCount: status0.collisionCount ?? 0 }, revisions);
    const updateRevision = upd.revision;
    const all = revisions.some((r) => r.metadata.name === updateRevision.metadata.name) ? revisions : [...revisions, updateRevision];
    const currentRev = all.find((r) => r.metadata.name === status0.currentRevision) ?? updateRevision;

    let status: StatefulSetStatus;
    if (this.expectations.satisfied(key)) {
      status = await this.updateStatefulSet(key, set, pods, currentRev, updateRevision);
    } else status = this.computeStatus(set, pods, currentRev.metadata.name ?? '', updateRevision.metadata.name ?? '');
    status.collisionCount = upd.collisionCount;
    await this.writeStatus(set, status);

    const live = new Set<string>([currentRev.metadata.name ?? '', updateRevision.metadata.name ?? '']);
    for (const p of pods) live.add(podRevision(p));
    await truncateHistory(this.client, all, live, specOf(set).revisionHistoryLimit ?? 10);
  }

  /** Upstream computeReplicaStatus over the pods as they are now. */
  computeStatus(set: KubeObject, pods: KubeObject[], currentRevision: string, updateRevision: string): StatefulSetStatus {
    const min = specOf(set).minReadySeconds ?? 0;
    const now = this.now();
    const st: StatefulSetStatus = { observedGeneration: set.metadata.generation, replicas: 0, readyReplicas: 0, currentReplicas: 0, updatedReplicas: 0, availableReplicas: 0, currentRevision, updateRevision };
    for (const p of pods) {
      st.replicas++;
      if (isRunningAndReady(p)) {
        st.readyReplicas!++;
        if (isPodAvailable(p, min, now)) st.availableReplicas!++;
      }
      if (!isTerminating(p)) {
        if (podRevision(p) === currentRevision) st.currentReplicas!++;
        if (podRevision(p) === updateRevision) st.updatedReplicas!++;
      }
    }
    return st;
  }

  /** Upstream updateStatefulSet (stateful_set_control.go), one pass; returns the status to write. */
  private async updateStatefulSet(key: string, set: KubeObject, pods: KubeObject[], currentRev: KubeObject, updateRev: KubeObject): Promise<StatefulSetStatus> {
    const spec = specOf(set);
    const currentName = currentRev.metadata.name ?? '';
    const updateName = updateRev.metadata.name ?? '';
    const finish = () => this.computeStatus(set, this.ownedMembers(set), currentName, updateName);
    if (set.metadata.deletionTimestamp) return finish();

    const replicaCount = spec.replicas ?? 1;
    const start = spec.ordinals?.start ?? 0;
    const monotonic = spec.podManagementPolicy !== 'Parallel';
    const min = spec.minReadySeconds ?? 0;
    const now = this.now();
    const available = (p: KubeObject) => isRunningAndReady(p) && isPodAvailable(p, min, now);
    const replicas: Array<KubeObject | undefined> = new Array(replicaCount).fill(undefined);
    const condemned: KubeObject[] = [];
    for (const p of pods) {
      const ord = parentAndOrdinal(p.metadata.name ?? '')!.ordinal;
      if (ord >= start && ord < start + replicaCount) replicas[ord - start] = p;
      else condemned.push(p);
    }
    condemned.sort((a, b) => parentAndOrdinal(b.metadata.name ?? '')!.ordinal - parentAndOrdinal(a.metadata.name ?? '')!.ordinal);

    // The first unhealthy member, by ordinal: the only condemned pod that may go while unhealthy.
    let firstUnhealthy: KubeObject | undefined;
    let firstUnhealthyOrd = Infinity;
    for (const p of [...replicas, ...condemned]) {
      if (!p || isHealthy(p)) continue;
      const o = parentAndOrdinal(p.metadata.name ?? '')!.ordinal;
      if (o < firstUnhealthyOrd) (firstUnhealthyOrd = o), (firstUnhealthy = p);
    }

    // Replicas in ordinal order: create the missing, replace the finished, wait on the unready (monotonic).
    const partition = spec.updateStrategy?.type === 'RollingUpdate' ? (spec.updateStrategy.rollingUpdate?.partition ?? 0) : undefined;
    for (let i = 0; i < replicaCount; i++) {
      const ord = i + start;
      const pod = replicas[i];
      if (!pod) {
        // Replicas below the partition are recreated at the current revision (upstream newVersionedStatefulSetPod:
        // the partition counts replicas from ordinals.start, like the rolling update below).
        const useCurrent = partition !== undefined && ord < start + partition && currentName !== updateName;
        const rev = useCurrent ? currentRev : updateRev;
        const template = useCurrent ? templateOf(currentRev) : (spec.template ?? {});
        await this.createMember(key, set, ord, template, rev.metadata.name ?? '');
        if (monotonic) return finish();
        continue;
      }
      if (isFinished(pod)) {
        // Replaced by a pod of the same name once this one is gone.
        if (!isTerminating(pod)) await this.deleteMember(key, set, pod);
        if (monotonic) return finish();
        continue;
      }
      if (podPhase(pod) === 'Pending') await this.createMissingClaims(set, ord, pod);
      if (monotonic && (isTerminating(pod) || !available(pod))) return finish();
      await this.enforceIdentity(set, pod, ord);
      await this.fixClaimOwners(set, pod, ord);
    }

    // Claims of condemned pods take the owners the retention policy gives scaled-down members, before any goes.
    for (const pod of condemned) await this.fixClaimOwners(set, pod, parentAndOrdinal(pod.metadata.name ?? '')!.ordinal);

    // Condemned pods, highest ordinal first, one at a time when monotonic.
    for (const pod of condemned) {
      if (isTerminating(pod)) {
        if (monotonic) return finish();
        continue;
      }
      if (monotonic && !available(pod) && pod !== firstUnhealthy) return finish();
      await this.deleteMember(key, set, pod);
      if (monotonic) return finish();
    }

    if (spec.updateStrategy?.type === 'OnDelete') return finish();
    // RollingUpdate: delete the highest-ordinal pod not at the update revision, down to the partition (which
    // counts replicas from ordinals.start, as upstream's updateMin indexes the replica slice).
    for (let i = replicaCount - 1; i >= (partition ?? 0); i--) {
      const pod = replicas[i];
      if (!pod) continue;
      if (podRevision(pod) !== updateName && !isTerminating(pod)) {
        await this.deleteMember(key, set, pod);
        return finish();
      }
      if (!isHealthy(pod)) return finish();
    }
    return finish();
  }

  /** The set's members as the cache shows them now (the pass's own writes arrive through the informer). */
  private ownedMembers(set: KubeObject): KubeObject[] {
    const name = set.metadata.name ?? '';
    return this.pods.list().filter((p) => p.metadata.namespace === set.metadata.namespace && controllerOf(p)?.uid === set.metadata.uid && parentAndOrdinal(p.metadata.name ?? '')?.parent === name);
  }

  /** Upstream newStatefulSetPod + CreateStatefulPod: claims first, then the pod. */
  private async createMember(key: string, set: KubeObject, ordinal: number, template: PodTemplate, revision: string): Promise<void> {
    const setName = set.metadata.name ?? '';
    const podName = `${setName}-${ordinal}`;
    const tm = template.metadata ?? {};
    const spec = structuredClone(template.spec ?? {}) as Record<string, unknown>;
    spec.hostname = podName;
    const svc = specOf(set).serviceName;
    if (svc) spec.subdomain = svc;
    this.setStorage(set, spec, ordinal);
    // Upstream PodClaimIsStale: a claim still owned by an earlier pod of this name (scaled down with whenScaled
    // Delete, its claim not yet collected) must go before the ordinal comes back; wait for the next sync.
    if (this.hasStaleClaim(set, ordinal, podName)) return;
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: set.metadata.namespace,
        labels: { ...(tm.labels ?? {}), [POD_NAME_LABEL]: podName, [POD_INDEX_LABEL]: String(ordinal), [REVISION_HASH_LABEL]: revision },
        ...(tm.annotations ? { annotations: { ...tm.annotations } } : {}),
        ...(tm.finalizers ? { finalizers: [...tm.finalizers] } : {}),
        ownerReferences: [newControllerRef(set, 'apps/v1', 'StatefulSet')],
      },
      spec,
    };
    try {
      await this.createMissingClaims(set, ordinal, pod);
    } catch (e) {
      this.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${setName} failed error: ${errorMessage(e)}`);
      throw e;
    }
    this.expectations.raise(key, 1);
    try {
      await this.client.create(PODS, set.metadata.namespace, pod);
    } catch (e) {
      this.expectations.creationObserved(key);
      if (e instanceof ApiError && e.code === 409) return; // created by an earlier pass the cache has not shown yet
      this.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${setName} failed error: ${errorMessage(e)}`);
      throw e;
    }
    this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${setName} successful`);
  }

  /** Upstream updateStorage: each claim template mounts its per-ordinal claim, replacing a same-named volume. */
  private setStorage(set: KubeObject, spec: Record<string, unknown>, ordinal: number): void {
    const templates = specOf(set).volumeClaimTemplates ?? [];
    if (!templates.length) return;
    const names = new Set(templates.map((t) => t.metadata?.name ?? ''));
    const volumes = ((spec.volumes ?? []) as Array<{ name?: string }>).filter((v) => !names.has(v.name ?? ''));
    for (const t of templates) {
      const n = t.metadata?.name ?? '';
      volumes.push({ name: n, persistentVolumeClaim: { claimName: claimName(n, set.metadata.name ?? '', ordinal) } } as { name: string });
    }
    spec.volumes = volumes;
  }

  /** Creates the ordinal's claims that do not exist (upstream createPersistentVolumeClaims); existing ones are kept. */
  private async createMissingClaims(set: KubeObject, ordinal: number, pod: KubeObject): Promise<void> {
    const setName = set.metadata.name ?? '';
    const ns = set.metadata.namespace;
    const matchLabels = specOf(set).selector?.matchLabels ?? {};
    for (const t of specOf(set).volumeClaimTemplates ?? []) {
      const name = claimName(t.metadata?.name ?? '', setName, ordinal);
      const existing = this.claims.get(`${ns}/${name}`);
      if (existing) {
        if (existing.metadata.deletionTimestamp) throw new Error(`pvc ${name} is being deleted`);
        continue;
      }
      const owners = this.wantedClaimOwners(set, pod, ordinal);
      const claim: KubeObject = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name,
          namespace: ns,
          labels: { ...(t.metadata?.labels ?? {}), ...matchLabels },
          ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
          ...(owners.length ? { ownerReferences: owners } : {}),
        },
        spec: structuredClone(t.spec ?? {}),
      };
      try {
        await this.client.create(PVCS, ns, claim);
      } catch (e) {
        if (e instanceof ApiError && e.code === 409) continue;
        this.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${pod.metadata.name} in StatefulSet ${setName} failed error: ${errorMessage(e)}`);
        throw e;
      }
      this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${pod.metadata.name} in StatefulSet ${setName} success`);
    }
  }

  /** Upstream identityMatches/UpdateStatefulPod: repairs the identity labels of an existing member. */
  private async enforceIdentity(set: KubeObject, pod: KubeObject, ordinal: number): Promise<void> {
    const l = pod.metadata.labels ?? {};
    const name = pod.metadata.name ?? '';
    if (l[POD_NAME_LABEL] === name && l[POD_INDEX_LABEL] === String(ordinal)) return;
    try {
      await this.client.patch(PODS, pod.metadata.namespace, name, 'application/merge-patch+json', {
        metadata: { labels: { [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) }, resourceVersion: pod.metadata.resourceVersion },
      });
    } catch (e) {
      if (isNotFound(e)) return;
      this.recorder.event(set, 'Warning', 'FailedUpdate', `update Pod ${name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(e)}`);
      throw e;
    }
    this.recorder.event(set, 'Normal', 'SuccessfulUpdate', `update Pod ${name} in StatefulSet ${set.metadata.name} successful`);
  }

  /** Deletes a member (its claims stay; their owners were set by fixClaimOwners). */
  private async deleteMember(key: string, set: KubeObject, pod: KubeObject): Promise<void> {
    const setName = set.metadata.name ?? '';
    const podName = pod.metadata.name ?? '';
    this.expectations.raise(key, 0, [objectKey(pod)]);
    try {
      await this.client.delete(PODS, pod.metadata.namespace, podName, { preconditions: { uid: pod.metadata.uid } });
    } catch (e) {
      this.expectations.deletionObserved(key, objectKey(pod));
      if (isNotFound(e)) return;
      this.recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${podName} in StatefulSet ${setName} failed error: ${errorMessage(e)}`);
      throw e;
    }
    this.recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${podName} in StatefulSet ${setName} successful`);
  }

  // ---- claim ownership for persistentVolumeClaimRetentionPolicy (upstream stateful_set_utils.go) ----

  /**
   * The controller refs the retention policy wants on a member's claims: the set's when whenDeleted is Delete
   * (unless the member is scaled down and whenScaled is Delete), the pod's when it is scaled down and whenScaled
   * is Delete — so the garbage collector removes the claim with the set, or with the scaled-down pod.
   */
  private wantedClaimOwners(set: KubeObject, pod: KubeObject, ordinal: number): OwnerReference[] {
    const policy = specOf(set).persistentVolumeClaimRetentionPolicy ?? {};
    const start = specOf(set).ordinals?.start ?? 0;
    const scaledDown = ordinal < start || ordinal >= start + (specOf(set).replicas ?? 1);
    const refs: OwnerReference[] = [];
    if (policy.whenDeleted === 'Delete' && !(policy.whenScaled === 'Delete' && scaledDown)) refs.push(newControllerRef(set, 'apps/v1', 'StatefulSet'));
    if (policy.whenScaled === 'Delete' && scaledDown && pod.metadata.uid) refs.push(newControllerRef(pod, 'v1', 'Pod'));
    return refs;
  }

  /** Upstream PodClaimIsStale: with whenScaled Delete, a claim owned by a pod of this name that is not the new one. */
  private hasStaleClaim(set: KubeObject, ordinal: number, podName: string): boolean {
    if (specOf(set).persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return false;
    for (const t of specOf(set).volumeClaimTemplates ?? []) {
      const c = this.claims.get(`${set.metadata.namespace}/${claimName(t.metadata?.name ?? '', set.metadata.name ?? '', ordinal)}`);
      if (c?.metadata.ownerReferences?.some((r) => isRefTo(r, 'v1', 'Pod', podName))) return true;
    }
    return false;
  }

  /**
   * Upstream ClaimsMatchRetentionPolicy + UpdatePodClaimForRetentionPolicy: brings the owners of a member's existing
   * claims in line with the policy. Refs to an earlier set or pod of the same name (stale) mean hands off, as does
   * another controller (whose refs to us are only scrubbed). Missing claims are left to the next creation.
   */
  private async fixClaimOwners(set: KubeObject, pod: KubeObject, ordinal: number): Promise<void> {
    const setName = set.metadata.name ?? '';
    const podName = pod.metadata.name ?? '';
    const policy = specOf(set).persistentVolumeClaimRetentionPolicy ?? {};
    const retainAll = policy.whenDeleted !== 'Delete' && policy.whenScaled !== 'Delete';
    const isSet = (r: OwnerReference) => isRefTo(r, 'apps/v1', 'StatefulSet', setName);
    const isPod = (r: OwnerReference) => isRefTo(r, 'v1', 'Pod', podName);
    for (const t of specOf(set).volumeClaimTemplates ?? []) {
      const c = this.claims.get(`${set.metadata.namespace}/${claimName(t.metadata?.name ?? '', setName, ordinal)}`);
      if (!c || c.metadata.deletionTimestamp) continue;
      const refs = c.metadata.ownerReferences ?? [];
      if (refs.some((r) => (isSet(r) && r.uid !== set.metadata.uid) || (isPod(r) && r.uid !== pod.metadata.uid))) continue;
      const ours = refs.filter((r) => isSet(r) || isPod(r));
      const others = refs.filter((r) => !isSet(r) && !isPod(r));
      const foreignController = !retainAll && others.some((r) => r.controller === true);
      const wanted = foreignController ? [] : this.wantedClaimOwners(set, pod, ordinal);
      const same = ours.length === wanted.length && wanted.every((w) => ours.some((r) => r.uid === w.uid && r.controller === true));
      if (same) continue;
      try {
        await this.client.patch(PVCS, c.metadata.namespace, c.metadata.name ?? '', 'application/merge-patch+json', {
          metadata: { ownerReferences: [...others, ...wanted].length ? [...others, ...wanted] : null, resourceVersion: c.metadata.resourceVersion },
        });
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
    }
  }

  /** Upstream updateStatefulSetStatus with completeRollingUpdate; writes only on change. */
  private async writeStatus(set: KubeObject, st: StatefulSetStatus): Promise<void> {
    const spec = specOf(set);
    if (spec.updateStrategy?.type !== 'OnDelete' && st.updatedReplicas === st.replicas && st.readyReplicas === st.replicas) {
      st.currentReplicas = st.updatedReplicas;
      st.currentRevision = st.updateRevision;
    }
    const old = (set.status ?? {}) as StatefulSetStatus;
    if (old.conditions) st.conditions = old.conditions;
    if (!st.collisionCount) delete st.collisionCount;
    const keys = new Set([...Object.keys(old), ...Object.keys(st)]) as Set<keyof StatefulSetStatus>;
    const same = [...keys].every((k) => JSON.stringify(old[k] ?? 0) === JSON.stringify(st[k] ?? 0));
    if (same) return;
    await this.client.update(STATEFULSETS, set.metadata.namespace, { ...set, status: st }, 'status');
    const min = spec.minReadySeconds ?? 0;
    if (min > 0 && st.readyReplicas !== st.availableReplicas) this.queue.addAfter(objectKey(set), min * 1000);
  }
}
