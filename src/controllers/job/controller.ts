// Job controller (upstream pkg/controller/job/job_controller.go, 1.32 behaviour): runs pods until `completions`
// succeed (NonIndexed, or one per index in Indexed mode), at most `parallelism` at a time; counts finished pods
// through the `batch.kubernetes.io/job-tracking` finalizer and status.uncountedTerminatedPods; retries failures
// with exponential backoff (10 s doubling to 6 min) up to backoffLimit; honours activeDeadlineSeconds,
// podFailurePolicy, suspend; reports the interim SuccessCriteriaMet / FailureTarget conditions, then Complete /
// Failed once no pod is left terminating.

import { fromLabelSelector } from '../../api/selectors/labels.js';
import type { KubeObject, LabelSelector, ObjectMeta } from '../../api/types.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { isConflict, isNotFound, objectKey, type Client, type Resource } from '../../client/interface.js';
import { realScheduler, runWorkers, WorkQueue, type Scheduler } from '../../client/workqueue.js';
import { claimObjects } from '../common/controllerref.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { Expectations, UidExpectations } from './expectations.js';
import { COMPLETION_INDEX_ANNOTATION, JOB_COMPLETION_INDEX_ENV, completionIndexOf, firstPendingIndexes, formatIndexes, parseIndexes } from './indexes.js';
import { matchPodFailurePolicy, type PodFailurePolicy } from './podfailurepolicy.js';
import { JOBS, PODS } from '../../client/resources.js';
import { rfc3339 } from '../../api/time.js';
export { JOBS, PODS };

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';
/** Upstream DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const DEFAULT_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 360_000;
/** Upstream MaxUncountedPods and MaxPodCreateDeletePerSync. */
const MAX_UNCOUNTED_PODS = 500;
const MAX_CREATE_DELETE_PER_SYNC = 500;
/** Pod events are batched per job for this long before a sync (upstream syncJobBatchPeriod). */
const POD_EVENT_BATCH_MS = 1000;

export interface JobCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface JobSpec {
  parallelism?: number;
  completions?: number | null;
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
  completionMode?: string;
  suspend?: boolean;
  manualSelector?: boolean;
  selector?: LabelSelector;
  managedBy?: string;
  podFailurePolicy?: PodFailurePolicy;
  podReplacementPolicy?: string;
  ttlSecondsAfterFinished?: number;
  template: { metadata?: ObjectMeta; spec?: Record<string, unknown> };
}

export interface JobStatus {
  conditions?: JobCondition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  ready?: number;
  completedIndexes?: string;
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
}

interface PodStatus {
  phase?: string;
  conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }>;
  containerStatuses?: Array<{ restartCount?: number; state?: { terminated?: { finishedAt?: string } } }>;
  initContainerStatuses?: Array<{ restartCount?: number; state?: { terminated?: { finishedAt?: string } } }>;
}

export const specOf = (job: KubeObject): JobSpec => (job.spec ?? {}) as JobSpec;
export const statusOf = (job: KubeObject): JobStatus => (job.status ??= {}) as JobStatus;
const podStatus = (p: KubeObject): PodStatus => (p.status ?? {}) as PodStatus;

export function trueCondition(job: KubeObject, type: string): JobCondition | undefined {
  return ((job.status as JobStatus | undefined)?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
}

/** Complete=True or Failed=True (upstream util.IsJobFinished). */
export function finishedCondition(job: KubeObject): JobCondition | undefined {
  return trueCondition(job, 'Complete') ?? trueCondition(job, 'Failed');
}

export function controllerRefOf(o: KubeObject): { name: string; uid: string } | undefined {
  const r = (o.metadata.ownerReferences ?? []).find((x) => x.controller === true);
  return r && r.kind === 'Job' && r.apiVersion.startsWith('batch/') ? r : undefined;
}

const hasTrackingFinalizer = (p: KubeObject): boolean => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
const isTerminal = (p: KubeObject): boolean => podStatus(p).phase === 'Succeeded' || podStatus(p).phase === 'Failed';
/** controller.FilterActivePods: not finished and not being deleted. */
const isActive = (p: KubeObject): boolean => !isTerminal(p) && !p.metadata.deletionTimestamp;
const isReady = (p: KubeObject): boolean => (podStatus(p).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const isIndexed = (job: KubeObject): boolean => specOf(job).completionMode === 'Indexed';
const isSuspended = (job: KubeObject): boolean => specOf(job).suspend === true;
const backoffLimitOf = (job: KubeObject): number => specOf(job).backoffLimit ?? 6;
const completionsOf = (job: KubeObject): number | undefined => specOf(job).completions ?? undefined;
/** onlyReplaceFailedPods: a pod being deleted is replaced only once it is Failed. */
const onlyReplaceFailed = (job: KubeObject): boolean => specOf(job).podReplacementPolicy === 'Failed' || specOf(job).podFailurePolicy != null;

/** isPodFailed: Failed, or (unless only failed pods are replaced) deleted before it succeeded. */
function isPodFailed(p: KubeObject, job: KubeObject): boolean {
  if (podStatus(p).phase === 'Failed') return true;
  if (onlyReplaceFailed(job)) return false;
  return !!p.metadata.deletionTimestamp && podStatus(p).phase !== 'Succeeded';
}

/** When a pod finished: its containers' latest finishedAt, else its deletion time, else now. */
function finishTime(p: KubeObject, now: number): number {
  let t = NaN;
  const st = podStatus(p);
  for (const cs of [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? [])]) {
    const f = Date.parse(cs.state?.terminated?.finishedAt ?? '');
    if (!Number.isNaN(f) && !(f <= t)) t = f;
  }
  if (!Number.isNaN(t)) return t;
  const d = Date.parse(p.metadata.deletionTimestamp ?? '');
  return Number.isNaN(d) ? now : Math.min(d, now);
}

/** Per-job failure history for the pod-creation backoff (upstream backoffRecord). */
export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** Time left before a replacement pod may be created: base·2^(failures−1), capped, minus time since the failure. */
export function backoffRemaining(r: BackoffRecord, now: number, baseMs = DEFAULT_BACKOFF_MS, maxMs = MAX_BACKOFF_MS): number {
  if (r.failuresAfterLastSuccess === 0 || r.lastFailureTime === undefined) return 0;
  const backoff = Math.min(baseMs * 2 ** (r.failuresAfterLastSuccess - 1), maxMs);
  const elapsed = now - r.lastFailureTime;
  return backoff < elapsed ? 0 : backoff - elapsed;
}

function newBackoffRecord(prev: BackoffRecord, succeeded: KubeObject[], failed: KubeObject[], now: number): BackoffRecord {
  if (!succeeded.length) {
    if (!failed.length) return prev;
    return { failuresAfterLastSuccess: prev.failuresAfterLastSuccess + failed.length, lastFailureTime: Math.max(...failed.map((p) => finishTime(p, now))) };
  }
  const lastSuccess = Math.max(...succeeded.map((p) => finishTime(p, now)));
  const after = failed.map((p) => finishTime(p, now)).filter((t) => t > lastSuccess);
  return after.length ? { failuresAfterLastSuccess: after.length, lastFailureTime: Math.max(...after) } : { failuresAfterLastSuccess: 0 };
}

/** controller.ActivePods order: the pods to delete first (unscheduled, pending, not ready, newest) come first. */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const node = (p: KubeObject) => (((p.spec ?? {}) as { nodeName?: string }).nodeName ? 1 : 0);
  const phase = (p: KubeObject) => ({ Pending: 0, Unknown: 1, Running: 2 })[podStatus(p).phase ?? 'Pending'] ?? 0;
  const ready = (p: KubeObject) => (isReady(p) ? 1 : 0);
  return node(a) - node(b) || phase(a) - phase(b) || ready(a) - ready(b) || Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? '');
}

/** The pods to remove: for Indexed jobs first those with a bad or duplicated index, then the least advanced. */
function activePodsForRemoval(job: KubeObject, pods: KubeObject[], rmAtLeast: number): KubeObject[] {
  const rm: KubeObject[] = [];
  let left = pods;
  if (isIndexed(job)) {
    left = [];
    const completions = completionsOf(job) ?? 0;
    const held = new Map<number, KubeObject>();
    const oldestFirst = [...pods].sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? ''));
    for (const p of oldestFirst) {
      const ix = completionIndexOf(p.metadata.annotations);
      if (ix < 0 || ix >= completions || held.has(ix)) rm.push(p);
      else (held.set(ix, p), left.push(p));
    }
  }
  if (rm.length < rmAtLeast) rm.push(...[...left].sort(deletionOrder).slice(0, rmAtLeast - rm.length));
  return rm;
}

function newCondition(type: string, status: JobCondition['status'], reason: string, message: string, now: number): JobCondition {
  const t = rfc3339(now);
  return { type, status, lastProbeTime: t, lastTransitionTime: t, reason, message };
}

/** ensureJobConditionStatus: updates a condition whose status differs, appends a new True one; returns changed. */
function ensureCondition(status: JobStatus, type: string, s: JobCondition['status'], reason: string, message: string, now: number): boolean {
  const list = (status.conditions ??= []);
  const c = list.find((x) => x.type === type);
  if (c) {
    if (c.status === s && c.reason === reason && c.message === message) return false;
    if (c.status !== s) c.lastTransitionTime = rfc3339(now);
    Object.assign(c, { status: s, reason, message, lastProbeTime: rfc3339(now) });
    return true;
  }
  if (s !== 'True') return false;
  list.push(newCondition(type, s, reason, message, now));
  return true;
}

/** Everything one sync works out about a job before writing (upstream syncJobCtx). */
interface SyncCtx {
  key: string;
  job: KubeObject;
  pods: KubeObject[];
  activePods: KubeObject[];
  ready: number;
  terminating: number;
  succeeded: number;
  failed: number;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  expectedRmFinalizers: ReadonlySet<string>;
  finished?: JobCondition;
  prevSucceededIndexes: Set<number>;
  succeededIndexes: Set<number>;
  backoff: BackoffRecord;
}

export interface JobControllerOptions {
  workers?: number;
  log?: Logger;
  /** The clock (ms since the epoch); injectable for tests. */
  now?: () => number;
  /** Timer for delayed requeues (backoff, deadlines); injectable for tests. */
  schedule?: Scheduler;
  resyncMs?: number;
  /** Pod events are batched per job for this long (default 1 s, as upstream). */
  podEventBatchMs?: number;
}

export class JobController implements Controller {
  readonly name = 'job';
  readonly queue: WorkQueue<string>;
  /** Pods still holding the tracking finalizer whose job is gone or finished (upstream orphanQueue). */
  readonly orphanQueue: WorkQueue<string>;
  readonly jobs: Informer;
  readonly pods: Informer;
  readonly recorder: EventRecorder;
  private readonly expectations: Expectations;
  private readonly finalizerExpectations = new UidExpectations();
  private readonly backoffStore = new Map<string, BackoffRecord>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly batchMs: number;
  /** Job uid → keys of the pods it controls, kept by the pod handlers so a sync need not scan every pod. */
  private readonly podsByJob = new Map<string, Set<string>>();
  /** Namespace → keys of pods no controller owns (candidates for adoption). */
  private readonly orphansByNs = new Map<string, Set<string>>();

  constructor(
    private readonly client: Client,
    private readonly opts: JobControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.batchMs = opts.podEventBatchMs ?? POD_EVENT_BATCH_MS;
    const schedule = opts.schedule ?? realScheduler;
    this.queue = new WorkQueue<string>({ schedule });
    this.orphanQueue = new WorkQueue<string>({ schedule });
    this.expectations = new Expectations(this.now);
    this.recorder = new EventRecorder(client, 'job-controller', undefined, this.now);
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.jobs = new Informer(client, JOBS, { resyncMs: opts.resyncMs ?? 0, onError: onError('jobs') });
    this.pods = new Informer(client, PODS, { onError: onError('pods') });
    const enqueueJob = (j: KubeObject) => this.queue.add(objectKey(j));
    this.jobs.addEventHandler({ add: enqueueJob, update: (_o, j) => enqueueJob(j), delete: enqueueJob });
    this.pods.addEventHandler({
      add: (p) => {
        this.index(undefined, p);
        if (p.metadata.deletionTimestamp) this.podDeleted(p, false);
        else this.podAdded(p);
      },
      update: (old, p) => {
        this.index(old, p);
        this.podUpdated(old, p);
      },
      delete: (p) => {
        this.index(p, undefined);
        this.podDeleted(p, true);
      },
    });
  }

  private index(old: KubeObject | undefined, cur: KubeObject | undefined): void {
    const before = old && controllerRefOf(old)?.uid;
    const after = cur && controllerRefOf(cur)?.uid;
    const key = objectKey((cur ?? old)!);
    const ns = (cur ?? old)!.metadata.namespace ?? '';
    const orphan = (p: KubeObject | undefined) => !!p && !(p.metadata.ownerReferences ?? []).some((r) => r.controller === true);
    if (orphan(cur)) {
      let s = this.orphansByNs.get(ns);
      if (!s) this.orphansByNs.set(ns, (s = new Set()));
      s.add(key);
    } else if (orphan(old) || !cur) {
      const s = this.orphansByNs.get(ns);
      s?.delete(key);
      if (s && !s.size) this.orphansByNs.delete(ns);
    }
    if (before && before !== after) {
      const s = this.podsByJob.get(before);
      s?.delete(key);
      if (s && !s.size) this.podsByJob.delete(before);
    }
    if (after) {
      let s = this.podsByJob.get(after);
      if (!s) this.podsByJob.set(after, (s = new Set()));
      s.add(key);
    }
  }

  /** The pods whose controller reference is this job, from the informer cache. */
  private podsOf(job: KubeObject): KubeObject[] {
    const out: KubeObject[] = [];
    for (const k of this.podsByJob.get(job.metadata.uid ?? '') ?? []) {
      const p = this.pods.get(k);
      if (p && controllerRefOf(p)?.uid === job.metadata.uid) out.push(p);
    }
    return out;
  }

  /** The job a pod's controller reference names, if it is in the cache with that uid. */
  private jobOf(p: KubeObject): KubeObject | undefined {
    const ref = controllerRefOf(p);
    if (!ref) return undefined;
    const j = this.jobs.get(`${p.metadata.namespace}/${ref.name}`);
    return j && j.metadata.uid === ref.uid ? j : undefined;
  }

  private enqueueOrphan(p: KubeObject): void {
    if (hasTrackingFinalizer(p)) this.orphanQueue.add(objectKey(p));
    // A pod nobody controls: the jobs whose selector matches it may adopt it.
    if ((p.metadata.ownerReferences ?? []).some((r) => r.controller === true)) return;
    for (const j of this.jobs.list()) {
      const sel = specOf(j).selector;
      if (j.metadata.namespace === p.metadata.namespace && sel && fromLabelSelector(sel).matches(p.metadata.labels)) this.queue.addAfter(objectKey(j), this.batchMs);
    }
  }

  /**
   * The job's pods (upstream getPodsForJob): those it controls that still match its selector, plus matching
   * orphans it adopts — an adopted pod gets the tracking finalizer; owned pods that stopped matching are released.
   */
  private async claimPods(job: KubeObject): Promise<KubeObject[]> {
    const sel = specOf(job).selector;
    const owned = this.podsOf(job).filter((p) => p.metadata.namespace === job.metadata.namespace);
    if (!sel) return owned;
    const orphans = [...(this.orphansByNs.get(job.metadata.namespace ?? '') ?? [])].map((k) => this.pods.get(k)).filter((p): p is KubeObject => !!p);
    const claimed = await claimObjects([...owned, ...orphans], {
      client: this.client,
      resource: PODS,
      owner: job,
      ownerApiVersion: 'batch/v1',
      ownerKind: 'Job',
      selector: fromLabelSelector(sel),
      canAdopt: async () => {
        try {
          const fresh = await this.client.get(JOBS, job.metadata.namespace, job.metadata.name ?? '');
          return fresh.metadata.uid === job.metadata.uid && !fresh.metadata.deletionTimestamp;
        } catch (e) {
          if (isNotFound(e)) return false;
          throw e;
        }
      },
      onError: (p, e) => this.log(`job ${objectKey(job)}: claiming pod ${p.metadata.name}: ${errorMessage(e)}`),
    });
    const ownedKeys = new Set(owned.map(objectKey));
    return await Promise.all(
      claimed.map(async (p) => {
        if (ownedKeys.has(objectKey(p)) || hasTrackingFinalizer(p)) return p;
        try {
          return await this.client.patch(PODS, p.metadata.namespace, p.metadata.name ?? '', 'application/merge-patch+json', {
            metadata: { resourceVersion: p.metadata.resourceVersion, finalizers: [...(p.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER] },
          });
        } catch (e) {
          this.log(`job ${objectKey(job)}: adding the tracking finalizer to ${p.metadata.name}: ${errorMessage(e)}`);
          return p;
        }
      }),
    );
  }

  private podAdded(p: KubeObject): void {
    const j = this.jobOf(p);
    if (!j) return this.enqueueOrphan(p);
    const key = objectKey(j);
    this.expectations.creationObserved(key);
    this.queue.addAfter(key, this.batchMs);
  }

  private podUpdated(old: KubeObject, p: KubeObject): void {
    if (old.metadata.resourceVersion === p.metadata.resourceVersion) return;
    const j = this.jobOf(p);
    if (j && hasTrackingFinalizer(old) && !hasTrackingFinalizer(p)) this.finalizerExpectations.observed(objectKey(j), p.metadata.uid ?? '');
    if (p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) return this.podDeleted(p, false);
    const oldJob = this.jobOf(old);
    if (oldJob && oldJob !== j) this.queue.addAfter(objectKey(oldJob), this.batchMs);
    if (!j) return this.enqueueOrphan(p);
    // A pod that just finished is counted at once; other changes are batched.
    if (isTerminal(p) && !isTerminal(old)) this.queue.add(objectKey(j));
    else this.queue.addAfter(objectKey(j), this.batchMs);
  }

  private podDeleted(p: KubeObject, final: boolean): void {
    const j = this.jobOf(p);
    if (!j) {
      if (!final) this.enqueueOrphan(p);
      return;
    }
    const key = objectKey(j);
    this.expectations.deletionObserved(key);
    if (final || !hasTrackingFinalizer(p)) this.finalizerExpectations.observed(key, p.metadata.uid ?? '');
    this.queue.addAfter(key, final ? 0 : this.batchMs);
  }

  async run(): Promise<void> {
    this.jobs.start();
    this.pods.start();
    await Promise.all([this.jobs.hasSynced, this.pods.hasSynced]);
    const workers = this.opts.workers ?? 5;
    await Promise.all([
      runWorkers(this.queue, workers, (k) => this.sync(k), (k, e) => isConflict(e) || this.log(`syncing job ${k}: ${errorMessage(e)}`)),
      runWorkers(this.orphanQueue, 1, (k) => this.syncOrphanPod(k), (k, e) => this.log(`orphan pod ${k}: ${errorMessage(e)}`)),
    ]);
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.orphanQueue.shutDown();
    await Promise.all([this.jobs.stop(), this.pods.stop()]);
    await this.recorder.flush();
  }

  /** Removes the tracking finalizer from a pod whose job is gone or finished (upstream syncOrphanPod). */
  async syncOrphanPod(key: string): Promise<void> {
    const p = this.pods.get(key);
    if (!p || !hasTrackingFinalizer(p)) return;
    const ref = controllerRefOf(p);
    if (ref) {
      let job: KubeObject | undefined = this.jobs.get(`${p.metadata.namespace}/${ref.name}`);
      if (!job || job.metadata.uid !== ref.uid) {
        // The cache may lag: ask the API server before declaring the job gone.
        try {
          job = await this.client.get(JOBS, p.metadata.namespace, ref.name);
        } catch (e) {
          if (!isNotFound(e)) throw e;
          job = undefined;
        }
      }
      if (job && job.metadata.uid === ref.uid && !finishedCondition(job) && !job.metadata.deletionTimestamp) return;
      if (job && job.metadata.uid === ref.uid && finishedCondition(job) && !isTerminal(p) && !p.metadata.deletionTimestamp) return;
    }
    await this.removeFinalizer(p);
  }

  /** One pass over a job (upstream syncJob). Throws to retry with backoff. */
  async sync(key: string): Promise<void> {
    const shared = this.jobs.get(key);
    if (!shared) {
      this.expectations.delete(key);
      this.finalizerExpectations.delete(key);
      this.backoffStore.delete(key);
      return;
    }
    const managedBy = specOf(shared).managedBy;
    if (managedBy && managedBy !== JOB_CONTROLLER_NAME) return;
    if (finishedCondition(shared)) {
      this.backoffStore.delete(key);
      return;
    }
    const job = structuredClone(shared);
    const spec = specOf(job);
    const status = statusOf(job);
    if (spec.completionMode && spec.completionMode !== 'NonIndexed' && spec.completionMode !== 'Indexed') {
      this.recorder.event(job, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    status.uncountedTerminatedPods ??= {};
    const now = this.now();
    const satisfied = this.expectations.satisfied(key);
    const pods = await this.claimPods(job);
    const activePods = pods.filter(isActive);
    const ctx: SyncCtx = {
      key,
      job,
      pods,
      activePods,
      ready: activePods.filter(isReady).length,
      terminating: pods.filter((p) => p.metadata.deletionTimestamp && !isTerminal(p)).length,
      succeeded: 0,
      failed: 0,
      uncountedSucceeded: new Set(status.uncountedTerminatedPods.succeeded ?? []),
      uncountedFailed: new Set(status.uncountedTerminatedPods.failed ?? []),
      expectedRmFinalizers: new Set(this.finalizerExpectations.expected(key)),
      prevSucceededIndexes: new Set(),
      succeededIndexes: new Set(),
      backoff: { failuresAfterLastSuccess: 0 },
    };
    let active = activePods.length;
    const [newSucceeded, newFailed] = this.newFinishedPods(ctx);
    ctx.succeeded = (status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    const policy = spec.podFailurePolicy;
    // Failures a podFailurePolicy Ignore rule matched neither count towards backoffLimit nor delay the replacement.
    const countedFailed = policy ? newFailed.filter((p) => matchPodFailurePolicy(policy, p).countFailed) : newFailed;
    ctx.failed = (status.failed ?? 0) + countedFailed.length + ctx.uncountedFailed.size;

    if (!status.startTime && !isSuspended(job)) status.startTime = rfc3339(now);
    ctx.backoff = newBackoffRecord(this.backoffStore.get(key) ?? { failuresAfterLastSuccess: 0 }, newSucceeded, countedFailed, now);

    const scm = trueCondition(job, 'SuccessCriteriaMet');
    if (scm) ctx.finished = { ...scm };
    if (!ctx.finished) {
      const ft = trueCondition(job, 'FailureTarget');
      if (ft) ctx.finished = newCondition('Failed', 'True', ft.reason ?? '', ft.message ?? '', now);
      else if (policy) {
        for (const p of pods) {
          if (!isPodFailed(p, job)) continue;
          const m = matchPodFailurePolicy(policy, p).failJobMessage;
          if (m !== undefined) {
            ctx.finished = newCondition('FailureTarget', 'True', 'PodFailurePolicy', m, now);
            break;
          }
        }
      }
    }
    if (!ctx.finished) {
      if (ctx.failed > backoffLimitOf(job) || this.pastBackoffLimitOnFailure(job, pods)) {
        ctx.finished = newCondition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
      } else if (this.pastActiveDeadline(job, now)) {
        ctx.finished = newCondition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
      } else if (spec.activeDeadlineSeconds != null && !isSuspended(job)) {
        this.queue.addAfter(key, spec.activeDeadlineSeconds * 1000 - (now - Date.parse(status.startTime!)));
      }
    }
    if (isIndexed(job)) {
      const completions = completionsOf(job) ?? 0;
      ctx.prevSucceededIndexes = parseIndexes(status.completedIndexes, completions);
      ctx.succeededIndexes = new Set(ctx.prevSucceededIndexes);
      for (const p of pods) {
        const ix = completionIndexOf(p.metadata.annotations);
        if (podStatus(p).phase === 'Succeeded' && ix >= 0 && ix < completions && hasTrackingFinalizer(p)) ctx.succeededIndexes.add(ix);
      }
      ctx.succeeded = ctx.succeededIndexes.size;
    }

    let suspendChanged = false;
    let manageErr: unknown;
    if (ctx.finished) {
      // Terminate what still runs; the job is declared finished only once every deletion went through.
      const { deleted, deletedReady, err } = await this.deletePods(job, activePods, false);
      if (deleted !== active || !satisfied) ctx.finished = undefined;
      active -= deleted;
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      manageErr = err;
    } else {
      let managed = false;
      if (satisfied && !job.metadata.deletionTimestamp) {
        try {
          active = await this.manageJob(ctx);
        } catch (e) {
          manageErr = e;
          active = ctx.activePods.length;
        }
        managed = true;
      }
      const completions = completionsOf(job);
      const complete = completions === undefined ? ctx.succeeded > 0 && active === 0 : ctx.succeeded >= completions && active === 0;
      if (complete) ctx.finished = newCondition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
      else if (managed) {
        if (isSuspended(job)) {
          if (ensureCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
            suspendChanged = true;
            this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
          suspendChanged = true;
          this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts continuous activity: a resumed job starts its clock again.
          status.startTime = rfc3339(now);
        }
      }
    }

    const needsUpdate = suspendChanged || active !== (status.active ?? 0) || ctx.ready !== status.ready || ctx.terminating !== status.terminating;
    status.active = active;
    status.ready = ctx.ready;
    status.terminating = ctx.terminating;
    await this.trackStatusAndRemoveFinalizers(ctx, needsUpdate);
    if (manageErr) throw manageErr;
  }

  private newFinishedPods(ctx: SyncCtx): [KubeObject[], KubeObject[]] {
    const valid = (p: KubeObject, uncounted: Set<string>): boolean => {
      const uid = p.metadata.uid ?? '';
      if (!hasTrackingFinalizer(p) || uncounted.has(uid) || ctx.expectedRmFinalizers.has(uid)) return false;
      if (!isIndexed(ctx.job)) return true;
      const ix = completionIndexOf(p.metadata.annotations);
      return ix >= 0 && ix < (completionsOf(ctx.job) ?? 0);
    };
    return [
      ctx.pods.filter((p) => valid(p, ctx.uncountedSucceeded) && podStatus(p).phase === 'Succeeded'),
      ctx.pods.filter((p) => valid(p, ctx.uncountedFailed) && isPodFailed(p, ctx.job)),
    ];
  }

  /** restartPolicy OnFailure: container restarts of running pods count towards backoffLimit. */
  private pastBackoffLimitOnFailure(job: KubeObject, pods: KubeObject[]): boolean {
    if ((specOf(job).template.spec as { restartPolicy?: string } | undefined)?.restartPolicy !== 'OnFailure') return false;
    let restarts = 0;
    for (const p of pods) {
      const st = podStatus(p);
      if (st.phase !== 'Running' && st.phase !== 'Pending') continue;
      for (const cs of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])]) restarts += cs.restartCount ?? 0;
    }
    const limit = backoffLimitOf(job);
    return limit === 0 ? restarts > 0 : restarts >= limit;
  }

  private pastActiveDeadline(job: KubeObject, now: number): boolean {
    const ads = specOf(job).activeDeadlineSeconds;
    const start = statusOf(job).startTime;
    if (ads == null || !start || isSuspended(job)) return false;
    return now - Date.parse(start) >= ads * 1000;
  }

  /** Creates or deletes pods towards the wanted number of active ones (upstream manageJob); returns active. */
  private async manageJob(ctx: SyncCtx): Promise<number> {
    const { job, key } = ctx;
    const spec = specOf(job);
    let active = ctx.activePods.length;
    const parallelism = spec.parallelism ?? 1;
    if (isSuspended(job)) {
      const rm = activePodsForRemoval(job, ctx.activePods, active);
      this.expectations.expectDeletions(key, rm.length);
      const { deleted, deletedReady, err } = await this.deletePods(job, rm, true);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      if (err) throw err;
      return active - deleted;
    }
    const completions = completionsOf(job);
    let wantActive: number;
    if (completions === undefined) wantActive = ctx.succeeded > 0 ? active : parallelism;
    else wantActive = Math.max(0, Math.min(completions - ctx.succeeded, parallelism));

    const rm = activePodsForRemoval(job, ctx.activePods, Math.max(0, active - wantActive)).slice(0, MAX_CREATE_DELETE_PER_SYNC);
    if (rm.length) {
      this.expectations.expectDeletions(key, rm.length);
      const { deleted, deletedReady, err } = await this.deletePods(job, rm, true);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      if (err) throw err;
      return active - deleted;
    }
    const terminating = onlyReplaceFailed(job) ? ctx.terminating : 0;
    let diff = Math.min(wantActive - terminating - active, MAX_CREATE_DELETE_PER_SYNC);
    if (diff <= 0) return active;
    const remaining = backoffRemaining(ctx.backoff, this.now());
    if (remaining > 0) {
      this.queue.addAfter(key, remaining);
      return active;
    }
    let indexes: number[] = [];
    if (isIndexed(job)) {
      const activeIx = new Set(ctx.activePods.map((p) => completionIndexOf(p.metadata.annotations)));
      indexes = firstPendingIndexes(ctx.succeededIndexes, activeIx, diff, completions ?? 0);
      diff = indexes.length;
    }
    this.expectations.expectCreations(key, diff);
    let firstErr: unknown;
    // Slow start (controller.SlowStartInitialBatchSize): batches of 1, 2, 4 … so a failing create stops early.
    for (let batch = Math.min(diff, 1); diff > 0; batch = Math.min(2 * batch, diff)) {
      const results = await Promise.all(
        Array.from({ length: batch }, () => {
          const ix = indexes.length ? indexes.shift()! : -1;
          return this.createPod(job, ix).then(
            () => true,
            (e: unknown) => {
              this.expectations.creationObserved(key);
              firstErr ??= e;
              return false;
            },
          );
        }),
      );
      const failures = results.filter((ok) => !ok).length;
      active += batch - failures;
      diff -= batch;
      if (failures && diff > 0) {
        for (let i = 0; i < diff; i++) this.expectations.creationObserved(key);
        break;
      }
    }
    if (firstErr) throw firstErr;
    return active;
  }

  /** Creates one pod from the template (controller ownerReference, tracking finalizer, index identity). */
  private async createPod(job: KubeObject, index: number): Promise<void> {
    const tpl = structuredClone(specOf(job).template ?? {});
    const meta = tpl.metadata ?? {};
    const name = job.metadata.name ?? '';
    const podSpec = (tpl.spec ?? {}) as Record<string, unknown>;
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: index >= 0 ? podGenerateNameWithIndex(name, index) : `${name}-`,
        namespace: job.metadata.namespace,
        ...(meta.labels ? { labels: { ...meta.labels } } : {}),
        ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
        finalizers: [...new Set([...(meta.finalizers ?? []), JOB_TRACKING_FINALIZER])],
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: podSpec,
    };
    if (index >= 0) {
      pod.metadata.annotations = { ...pod.metadata.annotations, [COMPLETION_INDEX_ANNOTATION]: String(index) };
      pod.metadata.labels = { ...pod.metadata.labels, [COMPLETION_INDEX_ANNOTATION]: String(index) };
      podSpec.hostname = `${name}-${index}`;
      addCompletionIndexEnv(podSpec);
    }
    let created: KubeObject;
    try {
      created = await this.client.create(PODS, job.metadata.namespace, pod);
    } catch (e) {
      this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
      throw e;
    }
    this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
  }

  /**
   * Deletes pods (upstream deleteJobPods when `dropFinalizer`, i.e. the pods are not to be counted; else
   * deleteActivePods, whose finalizers are removed later once they are counted as failed).
   */
  private async deletePods(job: KubeObject, pods: KubeObject[], dropFinalizer: boolean): Promise<{ deleted: number; deletedReady: number; err?: unknown }> {
    let deleted = 0;
    let deletedReady = 0;
    let err: unknown;
    const key = objectKey(job);
    await Promise.all(
      pods.map(async (p) => {
        try {
          if (dropFinalizer) await this.removeFinalizer(p);
          await this.client.delete(PODS, p.metadata.namespace, p.metadata.name ?? '');
          this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          if (dropFinalizer) this.expectations.deletionObserved(key);
          if (!isNotFound(e)) {
            err ??= e;
            if (!dropFinalizer) this.recorder.event(job, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
            return;
          }
        }
        deleted++;
        if (isReady(p)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, err };
  }

  /** Drops the tracking finalizer with a resourceVersion-guarded merge patch, re-reading on conflicts. */
  private async removeFinalizer(pod: KubeObject): Promise<void> {
    let cur = pod;
    for (let attempt = 0; ; attempt++) {
      if (!hasTrackingFinalizer(cur)) return;
      const rest = (cur.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
      try {
        await this.client.patch(PODS, cur.metadata.namespace, cur.metadata.name ?? '', 'application/merge-patch+json', {
          metadata: { resourceVersion: cur.metadata.resourceVersion, finalizers: rest.length ? rest : null },
        });
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt >= 4) throw e;
        try {
          cur = await this.client.get(PODS, cur.metadata.namespace, cur.metadata.name ?? '');
        } catch (g) {
          if (isNotFound(g)) return;
          throw g;
        }
        if (cur.metadata.uid !== pod.metadata.uid) return;
      }
    }
  }

  private async updateStatus(ctx: SyncCtx): Promise<void> {
    const body = structuredClone(ctx.job);
    const out = statusOf(body);
    // Upstream's omitempty: zero counters, empty lists and strings are left out; ready/terminating are pointers.
    for (const f of ['active', 'succeeded', 'failed'] as const) if (!out[f]) delete out[f];
    if (!out.completedIndexes) delete out.completedIndexes;
    const u = (out.uncountedTerminatedPods ??= {});
    if (!u.succeeded?.length) delete u.succeeded;
    if (!u.failed?.length) delete u.failed;
    ctx.job = structuredClone(await this.client.update(JOBS, ctx.job.metadata.namespace, body, 'status'));
    const st = statusOf(ctx.job);
    st.uncountedTerminatedPods = { succeeded: [...(st.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(st.uncountedTerminatedPods?.failed ?? [])] };
  }

  /**
   * Counts finished pods through status.uncountedTerminatedPods, removes their finalizers, moves them into the
   * counters, and adds the terminal condition once nothing is uncounted or terminating (upstream
   * trackJobStatusAndRemoveFinalizers + flushUncountedAndRemoveFinalizers + enactJobFinished).
   */
  private async trackStatusAndRemoveFinalizers(ctx: SyncCtx, needsFlushIn: boolean): Promise<void> {
    let needsFlush = needsFlushIn;
    const indexed = isIndexed(ctx.job);
    const completions = completionsOf(ctx.job) ?? 0;
    const pods = indexed ? [...ctx.pods].sort((a, b) => completionIndexOf(a.metadata.annotations) - completionIndexOf(b.metadata.annotations)) : ctx.pods;
    const withFinalizer = new Set(pods.filter((p) => hasTrackingFinalizer(p) && !ctx.expectedRmFinalizers.has(p.metadata.uid ?? '')).map((p) => p.metadata.uid ?? ''));
    if (cleanUncounted(statusOf(ctx.job), withFinalizer)) needsFlush = true;
    const uncounted = statusOf(ctx.job).uncountedTerminatedPods!;
    uncounted.succeeded ??= [];
    uncounted.failed ??= [];
    const toRemove: KubeObject[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    const policy = specOf(ctx.job).podFailurePolicy;
    const failingJob = ctx.finished !== undefined && ctx.finished.type !== 'SuccessCriteriaMet';
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      if (!hasTrackingFinalizer(p) || ctx.expectedRmFinalizers.has(uid)) continue;
      const failed = isPodFailed(p, ctx.job);
      if (!(ctx.job.metadata.deletionTimestamp || ctx.finished || podStatus(p).phase === 'Succeeded' || failed)) continue;
      toRemove.push(p);
      const ix = completionIndexOf(p.metadata.annotations);
      if (podStatus(p).phase === 'Succeeded' && !ctx.uncountedFailed.has(uid)) {
        if (indexed) {
          if (ix >= 0 && ix < completions && !ctx.prevSucceededIndexes.has(ix)) (newSucceededIndexes.push(ix), (needsFlush = true));
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          uncounted.succeeded.push(uid);
          needsFlush = true;
        }
      } else if (failed || failingJob) {
        if (!ctx.uncountedFailed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
          if (!policy || matchPodFailurePolicy(policy, p).countFailed) {
            uncounted.failed.push(uid);
            needsFlush = true;
          }
        }
      }
      if (newSucceededIndexes.length + uncounted.succeeded.length + uncounted.failed.length >= MAX_UNCOUNTED_PODS) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      for (const ix of newSucceededIndexes) ctx.succeededIndexes.add(ix);
      const s = formatIndexes(ctx.succeededIndexes);
      const st = statusOf(ctx.job);
      if (s !== (st.completedIndexes ?? '')) needsFlush = true;
      st.succeeded = ctx.succeededIndexes.size;
      st.completedIndexes = s;
    }
    if (ctx.finished?.type === 'FailureTarget') {
      (statusOf(ctx.job).conditions ??= []).push(ctx.finished);
      needsFlush = true;
      ctx.finished = newCondition('Failed', 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', this.now());
    }
    if (ctx.finished?.type === 'SuccessCriteriaMet') {
      if (!trueCondition(ctx.job, 'SuccessCriteriaMet')) {
        (statusOf(ctx.job).conditions ??= []).push(ctx.finished);
        needsFlush = true;
      }
      ctx.finished = newCondition('Complete', 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', this.now());
    }

    // Flush the uncounted UIDs (and interim conditions) before any finalizer goes, so no pod is lost or counted twice.
    if (needsFlush) {
      await this.updateStatus(ctx);
      this.backoffStore.set(ctx.key, ctx.backoff);
      needsFlush = false;
    }
    let rmErr: unknown;
    if (toRemove.length) {
      this.finalizerExpectations.expect(ctx.key, toRemove.map((p) => p.metadata.uid ?? ''));
      await Promise.all(
        toRemove.map(async (p) => {
          try {
            await this.removeFinalizer(p);
            withFinalizer.delete(p.metadata.uid ?? '');
          } catch (e) {
            this.finalizerExpectations.observed(ctx.key, p.metadata.uid ?? '');
            rmErr ??= e;
          }
        }),
      );
    }
    if (cleanUncounted(statusOf(ctx.job), withFinalizer)) needsFlush = true;
    if (rmErr) {
      if (needsFlush) await this.updateStatus(ctx);
      throw rmErr;
    }
    let finished = false;
    const st = statusOf(ctx.job);
    if (!reachedMax && ctx.finished && !(st.uncountedTerminatedPods?.succeeded?.length || st.uncountedTerminatedPods?.failed?.length) && ctx.terminating === 0) {
      const c = ctx.finished;
      ensureCondition(st, c.type, c.status, c.reason ?? '', c.message ?? '', this.now());
      if (c.type === 'Complete') st.completionTime = (st.conditions ?? []).find((x) => x.type === 'Complete')?.lastTransitionTime;
      finished = true;
      needsFlush = true;
    }
    if (needsFlush) await this.updateStatus(ctx);
    if (finished) this.recordFinished(ctx.job, ctx.finished!);
  }

  private recordFinished(job: KubeObject, c: JobCondition): void {
    if (c.type === 'Complete') {
      const completions = completionsOf(job);
      if (completions !== undefined && (statusOf(job).succeeded ?? 0) > completions)
        this.recorder.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
    } else this.recorder.event(job, 'Warning', c.reason ?? 'Failed', c.message ?? '');
  }
}

/** Moves UIDs whose pods no longer hold the finalizer from uncountedTerminatedPods into the counters. */
function cleanUncounted(status: JobStatus, withFinalizer: Set<string>): boolean {
  const u = (status.uncountedTerminatedPods ??= {});
  let changed = false;
  for (const kind of ['succeeded', 'failed'] as const) {
    const list = u[kind] ?? [];
    const keep = list.filter((uid) => withFinalizer.has(uid));
    if (keep.length !== list.length) {
      changed = true;
      status[kind] = (status[kind] ?? 0) + list.length - keep.length;
      u[kind] = keep;
    }
  }
  return changed;
}

/** `<job>-<index>-`, shortened as upstream podGenerateNameWithIndex so generated names stay within 63 chars. */
export function podGenerateNameWithIndex(jobName: string, index: number): string {
  const appendIndex = `-${index}-`;
  let base = jobName;
  const maxGeneratedNameLength = 63 - 5; // names.MaxGeneratedNameLength
  if (base.length + appendIndex.length > maxGeneratedNameLength) base = base.slice(0, maxGeneratedNameLength - appendIndex.length);
  return base + appendIndex;
}

/** Adds JOB_COMPLETION_INDEX (from the index annotation) to every container, as upstream does for Indexed jobs. */
function addCompletionIndexEnv(podSpec: Record<string, unknown>): void {
  for (const list of [podSpec.initContainers, podSpec.containers]) {
    for (const c of (list ?? []) as Array<{ env?: Array<{ name: string }> }>) {
      if ((c.env ?? []).some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) continue;
      c.env = [...(c.env ?? []), { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } } as { name: string }];
    }
  }
}
