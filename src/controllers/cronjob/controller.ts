// CronJob controller (upstream pkg/controller/cronjob/cronjob_controllerv2.go): creates a Job named
// `<cronjob>-<scheduled minutes since the epoch>` at each schedule time (robfig-compatible schedules from
// api/kinds/batch/cron.ts, in spec.timeZone or UTC), honouring concurrencyPolicy, startingDeadlineSeconds and
// suspend; keeps status.active / lastScheduleTime / lastSuccessfulTime; prunes finished Jobs beyond the history
// limits; and requeues each CronJob exactly for its next schedule time rather than polling.

import type { KubeObject } from '../../api/types.js';
import { CronParseError, loadLocationError, nextActivation, parseStandard, type CronSchedule } from '../../api/kinds/batch/cron.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { ApiError, isConflict, isNotFound, objectKey, type Client, type Resource } from '../../client/interface.js';
import { realScheduler, runWorkers, WorkQueue, type Scheduler } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { CRONJOBS, JOBS } from '../../client/resources.js';
import { rfc3339 } from '../../api/time.js';
export { CRONJOBS, JOBS };

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Requeue slightly after the schedule time so the clock has surely passed it (upstream nextScheduleDelta). */
const NEXT_SCHEDULE_DELTA_MS = 100;

interface ObjectRef {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

interface CronJobSpec {
  schedule: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
  suspend?: boolean;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobTemplate: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
}

interface CronJobStatus {
  active?: ObjectRef[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

const specOf = (cj: KubeObject): CronJobSpec => cj.spec as CronJobSpec;
const statusOf = (cj: KubeObject): CronJobStatus => (cj.status ??= {}) as CronJobStatus;

type JobConditions = Array<{ type: string; status: string }>;
/** Complete or Failed, when the job has finished (upstream getFinishedStatus). */
function finishedType(job: KubeObject): string | undefined {
  const conds = ((job.status as { conditions?: JobConditions } | undefined)?.conditions ?? []) as JobConditions;
  return conds.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type;
}

/** `<cronjob>-<minutes since the epoch>`: deterministic, so one schedule time never yields two jobs. */
export function jobNameFor(cronJobName: string, scheduled: number): string {
  return `${cronJobName}-${Math.floor(scheduled / 60_000)}`;
}

/** RFC 3339 of `t` in `tz` (Go's time.Format(time.RFC3339) after In(loc)): "Z" for UTC, else ±hh:mm. */
export function formatInZone(t: number, tz: string | undefined): string {
  if (!tz || tz === 'UTC') return rfc3339(t);
  const parts: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  for (const p of f.formatToParts(new Date(t))) parts[p.type] = p.value;
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offMin = Math.round((wall - Math.floor(t / 1000) * 1000) / 60_000);
  if (offMin === 0) return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}Z`;
  const sign = offMin < 0 ? '-' : '+';
  const abs = Math.abs(offMin);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
}

const next = (s: CronSchedule, after: number, tz: string | undefined): number => nextActivation(s, new Date(after), tz)?.getTime() ?? Infinity;

export interface MostRecent {
  earliest: number;
  /** The latest schedule time in (earliest, now], if any. */
  mostRecent?: number;
  missed: 'none' | 'few' | 'many';
}

/**
 * Upstream mostRecentScheduleTime: the latest schedule time after lastScheduleTime (else creation), not before
 * now − startingDeadlineSeconds when `withDeadline`; counts missed times roughly, "many" above 100.
 */
export function mostRecentScheduleTime(cj: KubeObject, now: number, s: CronSchedule, tz: string | undefined, withDeadline: boolean): MostRecent {
  const st = statusOf(cj);
  let earliest = Date.parse(st.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '');
  if (Number.isNaN(earliest)) earliest = now;
  const sds = specOf(cj).startingDeadlineSeconds;
  if (withDeadline && sds != null) earliest = Math.max(earliest, now - sds * 1000);
  const t1 = next(s, earliest, tz);
  const t2 = next(s, t1, tz);
  if (now < t1) return { earliest, missed: 'none' };
  if (now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) throw new Error('time difference between two schedules is less than 1 second');
  const elapsed = Math.floor((now - t1) / 1000);
  const missedCount = Math.floor(elapsed / between) + 1;
  let mostRecent: number | undefined;
  for (let t = next(s, t1 + (missedCount - 2) * between * 1000, tz); t <= now; t = next(s, t, tz)) mostRecent = t;
  return { earliest, mostRecent, missed: missedCount > 100 ? 'many' : 'few' };
}

/** Delay until the next schedule time after the most recent one (upstream nextScheduleTimeDuration). */
export function nextScheduleDelay(cj: KubeObject, now: number, s: CronSchedule, tz: string | undefined): number {
  let from: number;
  try {
    const r = mostRecentScheduleTime(cj, now, s, tz, false);
    from = r.mostRecent ?? (r.missed === 'none' ? r.earliest : now);
  } catch {
    from = now;
  }
  return next(s, from, tz) + NEXT_SCHEDULE_DELTA_MS - now;
}

export interface CronJobControllerOptions {
  workers?: number;
  log?: Logger;
  /** The clock (ms since the epoch); injectable for tests. */
  now?: () => number;
  /** Timer for requeues at schedule times; injectable for tests. */
  schedule?: Scheduler;
}

export class CronJobController implements Controller {
  readonly name = 'cronjob';
  readonly queue: WorkQueue<string>;
  readonly cronJobs: Informer;
  readonly jobs: Informer;
  readonly recorder: EventRecorder;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly client: Client,
    private readonly opts: CronJobControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.queue = new WorkQueue<string>({ schedule: opts.schedule ?? realScheduler });
    this.recorder = new EventRecorder(client, 'cronjob-controller', undefined, this.now);
    this.cronJobs = new Informer(client, CRONJOBS, { onError: (e) => this.log(`cronjobs informer: ${errorMessage(e)}`) });
    this.jobs = new Informer(client, JOBS, { onError: (e) => this.log(`jobs informer: ${errorMessage(e)}`) });
    const enqueue = (cj: KubeObject) => this.queue.add(objectKey(cj));
    this.cronJobs.addEventHandler({ add: enqueue, update: (_o, cj) => enqueue(cj) });
    const enqueueOwner = (j: KubeObject) => {
      const ref = (j.metadata.ownerReferences ?? []).find((r) => r.controller === true);
      if (ref?.kind === 'CronJob' && ref.apiVersion.startsWith('batch/')) this.queue.add(`${j.metadata.namespace}/${ref.name}`);
    };
    this.jobs.addEventHandler({
      add: enqueueOwner,
      update: (old, j) => {
        if (old.metadata.resourceVersion === j.metadata.resourceVersion) return;
        enqueueOwner(old);
        enqueueOwner(j);
      },
      delete: enqueueOwner,
    });
  }

  async run(): Promise<void> {
    this.cronJobs.start();
    this.jobs.start();
    await Promise.all([this.cronJobs.hasSynced, this.jobs.hasSynced]);
    await runWorkers(this.queue, this.opts.workers ?? 5, (k) => this.sync(k), (k, e) => isConflict(e) || this.log(`syncing cronjob ${k}: ${errorMessage(e)}`));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.cronJobs.stop(), this.jobs.stop()]);
    await this.recorder.flush();
  }

  /** One pass over a CronJob (upstream sync): cleanup, schedule, one status write, requeue at the next time. */
  async sync(key: string): Promise<void> {
    const shared = this.cronJobs.get(key);
    if (!shared) return;
    const cj = structuredClone(shared);
    const jobs = this.jobs.list().filter((j) => j.metadata.namespace === cj.metadata.namespace && (j.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === cj.metadata.uid));
    const cleaned = await this.cleanupFinishedJobs(cj, jobs);
    let requeue: number | undefined;
    let changed = false;
    let syncErr: unknown;
    try {
      const r = await this.syncCronJob(cj, jobs);
      requeue = r.requeueMs;
      changed = r.changed;
    } catch (e) {
      syncErr = e;
      changed = true;
    }
    if (cleaned || changed) {
      const st = statusOf(cj);
      if (!st.active?.length) delete st.active;
      try {
        await this.client.update(CRONJOBS, cj.metadata.namespace, cj, 'status');
      } catch (e) {
        if (!isNotFound(e)) throw e;
        return;
      }
    }
    if (requeue !== undefined && Number.isFinite(requeue)) this.queue.addAfter(key, Math.max(requeue, 0));
    else if (syncErr) throw syncErr;
  }

  private async syncCronJob(cj: KubeObject, jobs: KubeObject[]): Promise<{ requeueMs?: number; changed: boolean }> {
    const now = this.now();
    const spec = specOf(cj);
    const st = statusOf(cj);
    let changed = false;
    const active = () => (st.active ??= []);
    const inActive = (uid: string | undefined) => active().some((r) => r.uid === uid);
    const dropActive = (uid: string | undefined) => {
      st.active = active().filter((r) => r.uid !== uid);
    };
    const children = new Set<string>();
    for (const j of jobs) {
      children.add(j.metadata.uid ?? '');
      const found = inActive(j.metadata.uid);
      const fin = finishedType(j);
      if (!found && !fin) {
        let fresh: KubeObject | undefined;
        try {
          fresh = await this.client.get(CRONJOBS, cj.metadata.namespace, cj.metadata.name ?? '');
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        if (fresh && ((fresh.status as CronJobStatus | undefined)?.active ?? []).some((r) => r.uid === j.metadata.uid)) {
          st.active = [...((fresh.status as CronJobStatus).active ?? [])];
          cj.metadata.resourceVersion = fresh.metadata.resourceVersion;
          continue;
        }
        this.recorder.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (found && fin) {
        dropActive(j.metadata.uid);
        this.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${fin}`);
        changed = true;
      }
      if (fin === 'Complete') {
        const ct = (j.status as { completionTime?: string } | undefined)?.completionTime;
        if (ct && (!st.lastSuccessfulTime || Date.parse(ct) > Date.parse(st.lastSuccessfulTime))) {
          st.lastSuccessfulTime = ct;
          changed = true;
        }
      }
    }
    // An active reference whose job is gone (checked against the API, the cache may lag) is dropped.
    for (const ref of [...active()]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await this.client.get(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? '');
      } catch (e) {
        if (!isNotFound(e)) throw e;
        this.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        dropActive(ref.uid);
        changed = true;
      }
    }
    if (cj.metadata.deletionTimestamp) return { changed };
    if (spec.timeZone != null) {
      const err = loadLocationError(spec.timeZone);
      if (err !== undefined) {
        this.recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(spec.timeZone)}: ${err}`);
        return { changed };
      }
    }
    if (spec.suspend) return { changed };
    let sched: CronSchedule;
    if (spec.schedule.includes('TZ'))
      this.recorder.event(cj, 'Warning', 'UnsupportedSchedule', `CRON_TZ or TZ used in schedule ${JSON.stringify(spec.schedule)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
    try {
      sched = parseStandard(spec.schedule);
    } catch (e) {
      if (!(e instanceof CronParseError)) throw e;
      this.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${e.message}`);
      return { changed };
    }
    const tz = spec.schedule.includes('TZ') ? undefined : spec.timeZone;
    let scheduled: number | undefined;
    try {
      const r = mostRecentScheduleTime(cj, now, sched, tz, true);
      if (r.mostRecent !== undefined && r.mostRecent <= now) {
        scheduled = r.mostRecent;
        if (r.missed === 'many')
          this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      }
    } catch (e) {
      this.recorder.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule} : ${errorMessage(e)}`);
      return { changed };
    }
    const requeueMs = () => nextScheduleDelay(cj, now, sched, tz);
    if (scheduled === undefined) return { requeueMs: requeueMs(), changed };
    if (spec.startingDeadlineSeconds != null && scheduled + spec.startingDeadlineSeconds * 1000 < now) {
      this.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return { requeueMs: requeueMs(), changed };
    }
    const name = jobNameFor(cj.metadata.name ?? '', scheduled);
    if (active().some((r) => r.name === name) || (st.lastScheduleTime && Date.parse(st.lastScheduleTime) === scheduled)) return { requeueMs: requeueMs(), changed };
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active().length > 0) {
      this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { requeueMs: requeueMs(), changed };
    }
    if (policy === 'Replace') {
      for (const ref of [...active()]) {
        let job: KubeObject;
        try {
          job = await this.client.get(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? '');
        } catch (e) {
          this.recorder.event(cj, 'Warning', 'FailedGet', `Get job: ${errorMessage(e)}`);
          throw e;
        }
        if (!(await this.deleteJob(cj, job))) throw new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`);
        changed = true;
      }
    }
    const tpl = spec.jobTemplate ?? {};
    const jobReq: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...(tpl.metadata?.labels ?? {}) },
        annotations: { ...(tpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduled, tz) },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name ?? '', uid: cj.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: structuredClone(tpl.spec ?? {}),
    };
    let created: KubeObject;
    try {
      created = await this.client.create(JOBS, cj.metadata.namespace, jobReq);
      this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) {
        this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(e)}`);
        throw e;
      }
      // Created by someone else (or by us before a crash): adopt it into status if it is ours.
      created = await this.client.get(JOBS, cj.metadata.namespace, name);
      const ours = (created.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === cj.metadata.uid);
      // (Upstream returns without a requeue here; requeueing for the next time keeps the schedule going.)
      if (!ours || inActive(created.metadata.uid)) return { requeueMs: requeueMs(), changed };
    }
    active().push({ kind: 'Job', namespace: created.metadata.namespace, name: created.metadata.name, uid: created.metadata.uid, apiVersion: 'batch/v1', resourceVersion: created.metadata.resourceVersion });
    st.lastScheduleTime = rfc3339(scheduled);
    return { requeueMs: requeueMs(), changed: true };
  }

  /** Deletes finished jobs beyond successful/failedJobsHistoryLimit, oldest start first. */
  private async cleanupFinishedJobs(cj: KubeObject, jobs: KubeObject[]): Promise<boolean> {
    const spec = specOf(cj);
    if (spec.successfulJobsHistoryLimit == null && spec.failedJobsHistoryLimit == null) return false;
    const done = jobs.filter((j) => finishedType(j) === 'Complete');
    const failed = jobs.filter((j) => finishedType(j) === 'Failed');
    let changed = false;
    if (spec.successfulJobsHistoryLimit != null && (await this.removeOldest(cj, done, spec.successfulJobsHistoryLimit))) changed = true;
    if (spec.failedJobsHistoryLimit != null && (await this.removeOldest(cj, failed, spec.failedJobsHistoryLimit))) changed = true;
    return changed;
  }

  private async removeOldest(cj: KubeObject, jobs: KubeObject[], keep: number): Promise<boolean> {
    const n = jobs.length - keep;
    if (n <= 0) return false;
    const start = (j: KubeObject) => Date.parse(((j.status as { startTime?: string } | undefined)?.startTime ?? '') || (j.metadata.creationTimestamp ?? ''));
    const byStart = [...jobs].sort((a, b) => start(a) - start(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    let changed = false;
    for (const j of byStart.slice(0, n)) if (await this.deleteJob(cj, j)) changed = true;
    return changed;
  }

  /** Deletes a job (background propagation) and its active reference; events as upstream's deleteJob. */
  private async deleteJob(cj: KubeObject, job: KubeObject): Promise<boolean> {
    try {
      await this.client.delete(JOBS, job.metadata.namespace, job.metadata.name ?? '', { propagationPolicy: 'Background' });
    } catch (e) {
      if (!isNotFound(e)) {
        this.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${errorMessage(e)}`);
        return false;
      }
    }
    const st = statusOf(cj);
    st.active = (st.active ?? []).filter((r) => r.uid !== job.metadata.uid);
    this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }
}

/** Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000". */
function rfc1123z(t: number): string {
  const d = new Date(t);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
