// DaemonSet controller (upstream pkg/controller/daemon): one pod per node the DaemonSet should run on (nodeSelector,
// required node affinity, taints vs tolerations plus the default DaemonSet tolerations), each pinned to its node
// by a required node-affinity `matchFields metadata.name In [node]` term for the scheduler to bind; RollingUpdate
// (maxUnavailable, maxSurge) and OnDelete; ControllerRevisions `<ds>-<hash>`; status for `kubectl rollout status`.

import type { KubeObject, LabelSelector } from '../../api/types.js';
import { fromLabelSelector } from '../../api/selectors/labels.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { ApiError, isConflict, isNotFound, objectKey, splitKey, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { podMatchesNodeSelectorAndAffinity } from '../../api/corev1/nodeaffinity.js';
import { findUntoleratedTaint } from '../../api/corev1/tolerations.js';
import type { Node, Pod, Taint, Toleration } from '../../api/corev1/types.js';
import { claimObjects, controllerOf, newControllerRef } from '../common/controllerref.js';
import { Expectations } from '../common/expectations.js';
import { deletePods, ownerEventHandler } from '../common/handlers.js';
import { CONTROLLERREVISIONS, currentRevision, ownedRevisions, REVISION_HASH_LABEL, truncateHistory, type PodTemplate } from '../common/history.js';
import { scaledIntOrPercent } from '../common/intstr.js';
import { isPodAvailable, isPodReady, podPhase } from '../common/pods.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { DAEMONSETS, NODES, PODS } from '../../client/resources.js';
export { DAEMONSETS, NODES, PODS };

/** Upstream BurstReplicas for DaemonSets. */
const BURST = 250;
const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
const NO_SCHEDULE_OR_EXECUTE = new Set(['NoSchedule', 'NoExecute']);
const NO_EXECUTE = new Set(['NoExecute']);
const FAILED_BACKOFF_INITIAL_MS = 1_000;
const FAILED_BACKOFF_MAX_MS = 15 * 60_000;

interface DaemonSetSpec {
  selector?: LabelSelector;
  template?: PodTemplate;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
}

export interface DaemonSetStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  observedGeneration?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  collisionCount?: number;
}

export interface DaemonSetControllerOptions {
  workers?: number;
  log?: Logger;
  now?: () => number;
}

const specOf = (ds: KubeObject): DaemonSetSpec => (ds.spec ?? {}) as DaemonSetSpec;
const podSpec = (p: KubeObject): Record<string, unknown> => (p.spec ?? {}) as Record<string, unknown>;

/** Upstream AddOrUpdateDaemonPodTolerations: daemons survive node conditions that evict or repel other pods. */
export function addDaemonTolerations(spec: { tolerations?: Toleration[]; hostNetwork?: boolean }): void {
  const want: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec.hostNetwork) want.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const tol = spec.tolerations ?? [];
  for (const t of want) {
    // AddOrUpdateTolerationInPodSpec: an equal key/effect toleration is replaced.
    const i = tol.findIndex((x) => x.key === t.key && x.effect === t.effect && (x.operator ?? 'Equal') === t.operator);
    if (i >= 0) tol[i] = t;
    else tol.push(t);
  }
  spec.tolerations = tol;
}

/** Upstream ReplaceDaemonSetPodNodeNameNodeAffinity: the only required term becomes metadata.name In [node]. */
export function pinToNode(spec: Record<string, unknown>, nodeName: string): void {
  const affinity = (spec.affinity ??= {}) as Record<string, unknown>;
  const na = (affinity.nodeAffinity ??= {}) as Record<string, unknown>;
  na.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
}

/** The node a daemon pod is for: spec.nodeName, else its metadata.name matchFields term (upstream GetTargetNodeName). */
export function targetNodeName(pod: KubeObject): string | undefined {
  const s = podSpec(pod) as Pod['spec'] & { nodeName?: string };
  if (s?.nodeName) return s.nodeName;
  for (const t of s?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** Upstream NodeShouldRunDaemonPod: [shouldRun, shouldContinueRunning]. */
export function nodeShouldRunDaemonPod(node: KubeObject, ds: KubeObject): [boolean, boolean] {
  const t = specOf(ds).template ?? {};
  const spec = structuredClone(t.spec ?? {}) as NonNullable<Pod['spec']> & { nodeName?: string };
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return [false, false];
  addDaemonTolerations(spec);
  const pod = { metadata: { ...(t.metadata ?? {}), namespace: ds.metadata.namespace }, spec } as Pod;
  if (!podMatchesNodeSelectorAndAffinity(pod, node as Node)) return [false, false];
  const taints = ((node.spec ?? {}) as { taints?: Taint[] }).taints ?? [];
  if (findUntoleratedTaint(taints, spec.tolerations ?? [], NO_SCHEDULE_OR_EXECUTE)) {
    return [false, !findUntoleratedTaint(taints, spec.tolerations ?? [], NO_EXECUTE)];
  }
  return [true, true];
}

/** Oldest first; on a tie, a pod further in its lifecycle first (upstream podByCreationTimestampAndPhase). */
function byCreation(a: KubeObject, b: KubeObject): number {
  const c = (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '');
  if (c) return c;
  const rank = (p: KubeObject) => (podPhase(p) === 'Running' ? 0 : podPhase(p) === 'Pending' ? 1 : 2);
  return rank(a) - rank(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

const podHash = (p: KubeObject): string | undefined => p.metadata.labels?.[REVISION_HASH_LABEL];

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  readonly queue = new WorkQueue<string>();
  readonly expectations: Expectations;
  readonly daemonsets: Informer;
  readonly pods: Informer;
  readonly nodes: Informer;
  readonly revisions: Informer;
  readonly recorder: EventRecorder;
  private readonly log: Logger;
  private readonly now: () => number;
  /** Per DaemonSet+node back-off for deleting failed daemon pods: 1 s doubling to 15 min (upstream flowcontrol.Backoff). */
  private readonly failedBackoff = new Map<string, { delayMs: number; at: number }>();

  constructor(
    private readonly client: Client,
    private readonly opts: DaemonSetControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.expectations = new Expectations(this.now);
    this.recorder = new EventRecorder(client, 'daemonset-controller', undefined, this.now);
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.daemonsets = new Informer(client, DAEMONSETS, { onError: onError('daemonsets') });
    this.pods = new Informer(client, PODS, { onError: onError('pods') });
    this.nodes = new Informer(client, NODES, { onError: onError('nodes') });
    this.revisions = new Informer(client, CONTROLLERREVISIONS, { onError: onError('controllerrevisions') });
    this.daemonsets.addEventHandler(ownerEventHandler((k) => this.queue.add(k), this.expectations));
    this.pods.addEventHandler({
      add: (p) => this.podEvent(p, 'add'),
      update: (old, p) => {
        if (old.metadata.resourceVersion === p.metadata.resourceVersion) return;
        if (controllerOf(old)?.uid !== controllerOf(p)?.uid) this.podEvent(old, 'update');
        this.podEvent(p, p.metadata.deletionTimestamp ? 'delete' : 'update');
      },
      delete: (p) => this.podEvent(p, 'delete'),
    });
    // A node appearing, or changing labels, taints or readiness, may change where daemons should run.
    this.nodes.addEventHandler({
      add: () => this.enqueueAll(),
      update: (old, n) => {
        if (old.metadata.resourceVersion === n.metadata.resourceVersion) return;
        const a = JSON.stringify([old.metadata.labels, (old.spec as { taints?: unknown } | undefined)?.taints]);
        const b = JSON.stringify([n.metadata.labels, (n.spec as { taints?: unknown } | undefined)?.taints]);
        if (a !== b) this.enqueueAll();
      },
      delete: () => this.enqueueAll(),
    });
    const revOwner = (r: KubeObject) => {
      const ref = controllerOf(r);
      if (ref?.kind === 'DaemonSet') this.queue.add(`${r.metadata.namespace}/${ref.name}`);
    };
    this.revisions.addEventHandler({ add: revOwner, delete: revOwner });
  }

  async run(): Promise<void> {
    for (const i of [this.daemonsets, this.pods, this.nodes, this.revisions]) i.start();
    await Promise.all([this.daemonsets.hasSynced, this.pods.hasSynced, this.nodes.hasSynced, this.revisions.hasSynced]);
    await runWorkers(this.queue, this.opts.workers ?? 2, (k) => this.sync(k), (k, e) => {
      if (!isConflict(e)) this.log(`sync DaemonSet ${k}: ${errorMessage(e)}`);
    });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.daemonsets.stop(), this.pods.stop(), this.nodes.stop(), this.revisions.stop()]);
    await this.recorder.flush();
  }

  // ---- event handlers: work out keys (and expectations), enqueue ----

  private enqueueAll(): void {
    for (const ds of this.daemonsets.list()) this.queue.add(objectKey(ds));
  }

  private podEvent(pod: KubeObject, kind: 'add' | 'update' | 'delete'): void {
    const ref = controllerOf(pod);
    if (!ref) {
      // An orphan may be adopted by a DaemonSet selecting it.
      if (kind === 'delete') return;
      for (const ds of this.daemonsets.list()) {
        if (ds.metadata.namespace !== pod.metadata.namespace) continue;
        const sel = fromLabelSelector(specOf(ds).selector);
        if (!sel.empty && sel.matches(pod.metadata.labels)) this.queue.add(objectKey(ds));
      }
      return;
    }
    if (ref.kind !== 'DaemonSet') return;
    const key = `${pod.metadata.namespace}/${ref.name}`;
    const ds = this.daemonsets.get(key);
    if (!ds || ds.metadata.uid !== ref.uid) return;
    if (kind === 'add') this.expectations.creationObserved(key);
    if (kind === 'delete') this.expectations.deletionObserved(key, objectKey(pod));
    this.queue.add(key);
  }

  // ---- sync ----

  /** Makes one DaemonSet's pods match its nodes and template, then writes its status. Throws to retry. */
  async sync(key: string): Promise<void> {
    const cached = this.daemonsets.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const ds = structuredClone(cached);
    if (ds.metadata.deletionTimestamp) return;
    const selector = fromLabelSelector(specOf(ds).selector);
    if (selector.empty) return; // upstream: a DaemonSet selecting everything is refused (validation prevents it)
    const { namespace } = splitKey(key);
    const nodes = this.nodes.list();

    const revisions = ownedRevisions(this.revisions.list(), ds);
    const collisionCount = ((ds.status ?? {}) as DaemonSetStatus).collisionCount ?? 0;
    const cur = await currentRevision(this.client, { obj: ds, apiVersion: 'apps/v1', kind: 'DaemonSet', template: specOf(ds).template, collisionCount }, revisions);
    const hash = cur.revision.metadata.labels?.[REVISION_HASH_LABEL] ?? '';

    const candidates = this.pods.list().filter((p) => p.metadata.namespace === namespace);
    const pods = await claimObjects(candidates, {
      client: this.client,
      resource: PODS,
      owner: ds,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'DaemonSet',
      selector,
      canAdopt: async () => {
        try {
          const fresh = await this.client.get(DAEMONSETS, namespace, ds.metadata.name ?? '');
          return fresh.metadata.uid === ds.metadata.uid && !fresh.metadata.deletionTimestamp;
        } catch (e) {
          if (isNotFound(e)) return false;
          throw e;
        }
      },
      onError: (p, e) => this.log(`DaemonSet ${key}: claiming pod ${p.metadata.name}: ${errorMessage(e)}`),
    });
    const byNode = this.podsByNode(pods);

    // Unsatisfied expectations: status only, without raising observedGeneration (this generation was not acted on).
    const processed = this.expectations.satisfied(key);
    if (processed) {
      await this.manage(key, ds, nodes, byNode, hash);
      // Re-read the cache, as upstream does: manage's own writes may already be in it.
      if (this.expectations.satisfied(key) && specOf(ds).updateStrategy?.type !== 'OnDelete') await this.rollingUpdate(key, ds, nodes, this.podsByNode(this.ownedPods(ds)), hash);
      const live = new Set<string>([cur.revision.metadata.name ?? '']);
      const liveHashes = new Set(pods.map(podHash));
      for (const r of revisions) if (liveHashes.has(r.metadata.labels?.[REVISION_HASH_LABEL])) live.add(r.metadata.name ?? '');
      await truncateHistory(this.client, revisions, live, specOf(ds).revisionHistoryLimit ?? 10);
    }
    await this.updateStatus(ds, nodes, this.podsByNode(this.ownedPods(ds)), hash, cur.collisionCount, processed);
  }

  private ownedPods(ds: KubeObject): KubeObject[] {
    return this.pods.list().filter((p) => p.metadata.namespace === ds.metadata.namespace && controllerOf(p)?.uid === ds.metadata.uid);
  }

  /** Daemon pods by target node; terminal pods already being deleted are left out (upstream getNodesToDaemonPods). */
  private podsByNode(pods: KubeObject[]): Map<string, KubeObject[]> {
    const m = new Map<string, KubeObject[]>();
    for (const p of pods) {
      const phase = podPhase(p);
      if ((phase === 'Succeeded' || phase === 'Failed') && p.metadata.deletionTimestamp) continue;
      const n = targetNodeName(p);
      if (n === undefined) continue;
      let l = m.get(n);
      if (!l) m.set(n, (l = []));
      l.push(p);
    }
    for (const l of m.values()) l.sort(byCreation);
    return m;
  }

  /** Upstream manage + podsShouldBeOnNode: create where missing, delete where not wanted, failed or duplicate. */
  private async manage(key: string, ds: KubeObject, nodes: KubeObject[], byNode: Map<string, KubeObject[]>, hash: string): Promise<void> {
    const surge = this.allowsSurge(ds, nodes.length);
    const create: string[] = [];
    const del: KubeObject[] = [];
    const known = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata.name ?? '';
      known.add(name);
      const [shouldRun, shouldContinue] = nodeShouldRunDaemonPod(node, ds);
      const daemonPods = byNode.get(name) ?? [];
      if (shouldRun && daemonPods.length === 0) {
        create.push(name);
        continue;
      }
      if (!shouldContinue) {
        for (const p of daemonPods) if (!p.metadata.deletionTimestamp) del.push(p);
        continue;
      }
      const running: KubeObject[] = [];
      for (const p of daemonPods) {
        if (p.metadata.deletionTimestamp) continue;
        const phase = podPhase(p);
        if (phase === 'Failed' || phase === 'Succeeded') {
          // The kubelet may keep rejecting the pod: back off per node rather than hot-loop (upstream failedPodsBackoff).
          const delay = this.failedPodBackoff(`${key}/${name}`);
          if (delay > 0) {
            this.queue.addAfter(key, delay);
            continue;
          }
          if (phase === 'Failed') this.recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${p.metadata.namespace}/${p.metadata.name} on node ${name}, will try to kill it`);
          // The next sync, after it is gone, creates a fresh one.
          del.push(p);
          continue;
        }
        running.push(p);
      }
      if (!surge) {
        if (running.length > 1) del.push(...running.slice(1)); // keep the oldest
        continue;
      }
      if (running.length <= 1) {
        // Surging, a node needs at least one pod that is not going away.
        if (running.length === 0 && shouldRun) create.push(name);
        continue;
      }
      // Surging: two pods only while the oldest new one is not yet available and the oldest old one is ready;
      // any others go (upstream podsShouldBeOnNode).
      let oldestNew: KubeObject | undefined;
      let oldestOld: KubeObject | undefined;
      for (const p of running) {
        if (podHash(p) === hash && !oldestNew) oldestNew = p;
        else if (podHash(p) !== hash && !oldestOld) oldestOld = p;
        else del.push(p);
      }
      if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, specOf(ds).minReadySeconds ?? 0, this.now()))) del.push(oldestOld);
    }
    // Unscheduled pods for nodes that no longer exist can never run (upstream getUnscheduledPodsWithoutNode).
    for (const [n, ps] of byNode) if (!known.has(n)) for (const p of ps) if (!podSpec(p).nodeName && !p.metadata.deletionTimestamp) del.push(p);
    await this.syncNodes(key, ds, del, create, hash);
  }

  /** 0 when a failed pod on this node may be deleted now (and the back-off grows), else the ms left to wait. */
  private failedPodBackoff(key: string): number {
    const now = this.now();
    const b = this.failedBackoff.get(key);
    if (b && now - b.at < b.delayMs) return b.delayMs - (now - b.at);
    const expired = !b || now - b.at > 2 * FAILED_BACKOFF_MAX_MS;
    this.failedBackoff.set(key, { delayMs: expired ? FAILED_BACKOFF_INITIAL_MS : Math.min(b.delayMs * 2, FAILED_BACKOFF_MAX_MS), at: now });
    return 0;
  }

  private allowsSurge(ds: KubeObject, total: number): boolean {
    const us = specOf(ds).updateStrategy;
    return us?.type !== 'OnDelete' && scaledIntOrPercent(us?.rollingUpdate?.maxSurge, total, true) > 0;
  }

  /**
   * Upstream rollingUpdate: replace old-hash pods within maxUnavailable, or surge new ones within maxSurge. Every
   * node that should run the daemon counts, with or without pods: one whose pod is gone or going, or that has an
   * old and a new pod side by side, is unavailable until manage has settled it.
   */
  private async rollingUpdate(key: string, ds: KubeObject, nodes: KubeObject[], byNode: Map<string, KubeObject[]>, hash: string): Promise<void> {
    const ru = specOf(ds).updateStrategy?.rollingUpdate ?? {};
    const nodeByName = new Map(nodes.map((n) => [n.metadata.name ?? '', n]));
    const perNode = new Map<string, KubeObject[]>();
    let desired = 0;
    for (const n of nodes) {
      if (!nodeShouldRunDaemonPod(n, ds)[0]) continue;
      desired++;
      perNode.set(n.metadata.name ?? '', []);
    }
    for (const [node, pods] of byNode) if (nodeByName.has(node)) perNode.set(node, pods);
    let maxUnavailable = scaledIntOrPercent(ru.maxUnavailable ?? 1, desired, true);
    const maxSurge = scaledIntOrPercent(ru.maxSurge ?? 0, desired, true);
    if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    const now = this.now();
    const min = specOf(ds).minReadySeconds ?? 0;
    const available = (p: KubeObject) => isPodAvailable(p, min, now);
    if (maxSurge === 0) {
      let numUnavailable = 0;
      const allowed: KubeObject[] = [];
      const candidates: KubeObject[] = [];
      for (const pods of perNode.values()) {
        const found = this.updatedPodsOnNode(pods, hash);
        if (!found) {
          numUnavailable++; // excess pods: manage cleans up first
          continue;
        }
        const { newPod, oldPod } = found;
        if (!newPod === !oldPod) numUnavailable++; // none (manage creates one) or both (manage picks one)
        else if (newPod) {
          if (!available(newPod)) numUnavailable++;
        } else if (!available(oldPod!)) {
          allowed.push(oldPod!);
          numUnavailable++;
        } else if (numUnavailable < maxUnavailable) candidates.push(oldPod!);
      }
      const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
      return await this.syncNodes(key, ds, [...allowed, ...candidates.slice(0, remaining)], [], hash);
    }
    let numSurge = 0;
    let numAvailable = 0;
    const toDelete: KubeObject[] = [];
    const shouldNotRun: KubeObject[] = [];
    const allowedNodes: string[] = [];
    const candidateNodes: string[] = [];
    for (const [node, pods] of perNode) {
      const found = this.updatedPodsOnNode(pods, hash);
      if (!found) {
        numSurge++;
        continue;
      }
      const { newPod, oldPod } = found;
      const counted = oldPod ?? newPod;
      if (counted && available(counted)) numAvailable++;
      if (!oldPod) continue; // manage handles this node
      const shouldRun = nodeShouldRunDaemonPod(nodeByName.get(node)!, ds)[0];
      if (!newPod) {
        if (!available(oldPod)) {
          if (shouldRun) allowedNodes.push(node);
          else toDelete.push(oldPod);
        } else if (!shouldRun) shouldNotRun.push(oldPod);
        else if (numSurge < maxSurge) candidateNodes.push(node);
        continue;
      }
      if (!available(newPod)) {
        numSurge++;
        continue;
      }
      toDelete.push(oldPod);
    }
    // With surge the owner expects full availability: pods on nodes that no longer qualify go only as others are up.
    const deletable = Math.min(Math.max(0, numAvailable - desired), shouldNotRun.length);
    toDelete.push(...shouldNotRun.slice(0, deletable));
    const remaining = Math.min(Math.max(0, maxSurge - numSurge), candidateNodes.length);
    await this.syncNodes(key, ds, toDelete, [...allowedNodes, ...candidateNodes.slice(0, remaining)], hash);
  }

  /** At most one pod of the current hash and one of another (upstream findUpdatedPodsOnNode); undefined otherwise. */
  private updatedPodsOnNode(pods: KubeObject[], hash: string): { newPod?: KubeObject; oldPod?: KubeObject } | undefined {
    let newPod: KubeObject | undefined;
    let oldPod: KubeObject | undefined;
    for (const p of pods) {
      if (p.metadata.deletionTimestamp) continue;
      if (podHash(p) === hash) {
        if (newPod) return undefined;
        newPod = p;
      } else {
        if (oldPod) return undefined;
        oldPod = p;
      }
    }
    return { newPod, oldPod };
  }

  /** Upstream syncNodes: creations (slow start) and deletions, with expectations set before any write. */
  private async syncNodes(key: string, ds: KubeObject, del: KubeObject[], create: string[], hash: string): Promise<void> {
    const dels = del.slice(0, BURST);
    const creates = create.slice(0, BURST);
    if (!dels.length && !creates.length) return;
    this.expectations.expect(key, creates.length, dels.map(objectKey));
    const errors: unknown[] = [];
    let batch = 1;
    let pos = 0;
    while (pos < creates.length && !errors.length) {
      const chunk = creates.slice(pos, pos + batch);
      pos += chunk.length;
      await Promise.all(
        chunk.map(async (node) => {
          try {
            await this.createPod(ds, node, hash);
          } catch (e) {
            this.expectations.creationObserved(key);
            errors.push(e);
          }
        }),
      );
      batch *= 2;
    }
    for (let i = pos; i < creates.length; i++) this.expectations.creationObserved(key);
    // Deletions go ahead even when a creation failed; the first creation error wins.
    const deleted = deletePods(this.client, this.recorder, ds, key, this.expectations, dels);
    if (errors.length) {
      await deleted.catch(() => undefined);
      throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
    }
    await deleted;
  }

  private async createPod(ds: KubeObject, nodeName: string, hash: string): Promise<void> {
    const t = specOf(ds).template ?? {};
    const tm = t.metadata ?? {};
    const spec = structuredClone(t.spec ?? {});
    addDaemonTolerations(spec as { tolerations?: Toleration[] });
    pinToNode(spec, nodeName);
    const labels: Record<string, string> = { ...(tm.labels ?? {}), [REVISION_HASH_LABEL]: hash };
    const gen = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
    if (gen) labels[TEMPLATE_GENERATION_LABEL] = gen;
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata.name}-`,
        namespace: ds.metadata.namespace,
        labels,
        ...(tm.annotations ? { annotations: { ...tm.annotations } } : {}),
        ...(tm.finalizers ? { finalizers: [...tm.finalizers] } : {}),
        ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
      },
      spec,
    };
    let created: KubeObject;
    try {
      created = await this.client.create(PODS, ds.metadata.namespace, pod);
    } catch (e) {
      const terminating = e instanceof ApiError && (e.status?.details as { causes?: Array<{ type?: string }> } | undefined)?.causes?.some((c) => c.type === 'NamespaceTerminating');
      if (!terminating) this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
      throw e;
    }
    this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
  }

  /** Upstream updateDaemonSetStatus: counts over the oldest daemon pod of each node. */
  calculateStatus(ds: KubeObject, nodes: KubeObject[], byNode: Map<string, KubeObject[]>, hash: string, collisionCount: number): DaemonSetStatus {
    const now = this.now();
    const min = specOf(ds).minReadySeconds ?? 0;
    const gen = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
    let desired = 0;
    let scheduled = 0;
    let mis = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    for (const node of nodes) {
      const [shouldRun] = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(node.metadata.name ?? '') ?? [];
      if (shouldRun) {
        desired++;
        if (!pods.length) continue;
        scheduled++;
        const pod = pods[0];
        if (isPodReady(pod)) {
          ready++;
          if (isPodAvailable(pod, min, now)) available++;
        }
        const h = podHash(pod);
        if (h !== undefined ? h === hash : gen !== undefined && pod.metadata.labels?.[TEMPLATE_GENERATION_LABEL] === gen) updated++;
      } else if (pods.length) mis++;
    }
    const st: DaemonSetStatus = {
      currentNumberScheduled: scheduled,
      numberMisscheduled: mis,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
    };
    if (collisionCount) st.collisionCount = collisionCount;
    return st;
  }

  private async updateStatus(ds: KubeObject, nodes: KubeObject[], byNode: Map<string, KubeObject[]>, hash: string, collisionCount: number, processed: boolean): Promise<void> {
    const st = this.calculateStatus(ds, nodes, byNode, hash, collisionCount);
    if (!processed) st.observedGeneration = ((ds.status ?? {}) as DaemonSetStatus).observedGeneration;
    const old = (ds.status ?? {}) as Record<string, unknown>;
    const same = (Object.keys(st) as Array<keyof DaemonSetStatus>).every((k) => (old[k] ?? 0) === (st[k] ?? 0)) && Object.keys(old).every((k) => k in st || k === 'conditions');
    if (!same) {
      const next = { ...ds, status: { ...(old.conditions ? { conditions: old.conditions } : {}), ...st } };
      await this.client.update(DAEMONSETS, ds.metadata.namespace, next, 'status');
    }
    const min = specOf(ds).minReadySeconds ?? 0;
    if (min > 0 && st.numberReady !== st.numberAvailable) this.queue.addAfter(objectKey(ds), min * 1000);
  }
}
