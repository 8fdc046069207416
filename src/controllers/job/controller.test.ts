// Job controller tests on the fake client with a fake clock: completions/parallelism sequences, tracking
// finalizers and counters, backoff between retries, backoffLimit and activeDeadlineSeconds failures via
// FailureTarget, Indexed pods, suspend, podFailurePolicy, and the TTL-after-finished controller.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import type { Scheduler } from '../../client/workqueue.js';
import { JOB_TRACKING_FINALIZER, JobController, PODS, backoffRemaining, type JobCondition, type JobStatus } from './controller.js';
import { formatIndexes, parseIndexes } from './indexes.js';
import { TTLAfterFinishedController } from './ttl.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

interface Rig {
  c: FakeClient;
  jc: JobController;
  clock: { t: number };
  timers: Array<{ ms: number }>;
  /** Seeds a job and waits for the controller's cache to hold it. */
  addJob(name: string, spec?: Record<string, unknown>): Promise<KubeObject>;
  /** Runs one sync of ns/name, then lets the informers catch up with what it wrote. */
  sync(name: string): Promise<void>;
  pods(name: string): KubeObject[];
  job(name: string): KubeObject;
  setPhase(pod: KubeObject, phase: string, extra?: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

const settle = () => new Promise<void>((r) => setTimeout(r, 2));

async function rig(): Promise<Rig> {
  const c = new FakeClient();
  const clock = { t: T0 };
  const timers: Array<{ ms: number }> = [];
  const schedule: Scheduler = (_fn, ms) => {
    timers.push({ ms });
    return () => undefined;
  };
  const jc = new JobController(c, { now: () => clock.t, schedule, podEventBatchMs: 0 });
  jc.jobs.start();
  jc.pods.start();
  await Promise.all([jc.jobs.hasSynced, jc.pods.hasSynced]);
  const r: Rig = {
    c,
    jc,
    clock,
    timers,
    async addJob(name, spec = {}) {
      const j = c.seed('jobs', {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name, namespace: 'ns' },
        spec: {
          parallelism: 1,
          completions: 1,
          backoffLimit: 6,
          completionMode: 'NonIndexed',
          suspend: false,
          podReplacementPolicy: 'TerminatingOrFailed',
          template: { metadata: { labels: { 'batch.kubernetes.io/job-name': name } }, spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } },
          ...spec,
        },
      });
      while (!jc.jobs.get(`ns/${name}`)) await settle();
      return j;
    },
    async sync(name) {
      await jc.sync(`ns/${name}`);
      await settle();
    },
    pods: (name) => c.all('pods').filter((p) => p.metadata.ownerReferences?.[0]?.name === name && !p.metadata.deletionTimestamp),
    job: (name) => c.peek('jobs', 'ns', name)!,
    async setPhase(pod, phase, extra = {}) {
      await c.patch(PODS, 'ns', pod.metadata.name!, 'application/merge-patch+json', { status: { phase, ...extra } });
      await settle();
    },
    async stop() {
      jc.queue.shutDown();
      jc.orphanQueue.shutDown();
      await jc.jobs.stop();
      await jc.pods.stop();
      await jc.recorder.flush();
    },
  };
  return r;
}

const status = (j: KubeObject): JobStatus => (j.status ?? {}) as JobStatus;
const conds = (j: KubeObject): string[] => (status(j).conditions ?? []).filter((c) => c.status === 'True').map((c) => `${c.type}:${c.reason}`);
const events = (c: FakeClient): string[] => c.all('events').map((e) => `${e.reason as string} ${e.message as string}`);

test('completions 3, parallelism 2: two pods at a time, counted through the finalizer, then SuccessCriteriaMet and Complete', async () => {
  const r = await rig();
  await r.addJob('pi', { completions: 3, parallelism: 2 });
  await r.sync('pi');
  let pods = r.pods('pi');
  assert.equal(pods.length, 2);
  for (const p of pods) {
    assert.match(p.metadata.name!, /^pi-[a-z0-9]{5}$/);
    assert.deepEqual(p.metadata.finalizers, [JOB_TRACKING_FINALIZER]);
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: r.job('pi').metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  assert.equal(status(r.job('pi')).active, 2);
  assert.equal(status(r.job('pi')).startTime, '2026-01-01T00:00:00Z');

  await r.setPhase(pods[0], 'Succeeded');
  await r.sync('pi');
  assert.equal(r.c.peek('pods', 'ns', pods[0].metadata.name!)!.metadata.finalizers, undefined, 'counted pod loses the finalizer');
  let st = status(r.job('pi'));
  assert.deepEqual([st.succeeded, st.active, st.uncountedTerminatedPods], [1, 2, {}]);
  pods = r.pods('pi').filter((p) => (p.status as { phase?: string } | undefined)?.phase !== 'Succeeded');
  assert.equal(pods.length, 2, 'a replacement keeps two running (3 - 1 left to do)');

  for (const p of pods) await r.setPhase(p, 'Succeeded');
  await r.sync('pi');
  const j = r.job('pi');
  st = status(j);
  assert.equal(st.succeeded, 3);
  assert.equal(st.active, undefined);
  assert.deepEqual(conds(j), ['SuccessCriteriaMet:CompletionsReached', 'Complete:CompletionsReached']);
  const complete = st.conditions!.find((c) => c.type === 'Complete')!;
  assert.equal(complete.message, 'Reached expected number of succeeded pods');
  assert.equal(st.completionTime, complete.lastTransitionTime);
  assert.equal(r.pods('pi').length, 3, 'no pod beyond completions');
  await r.jc.recorder.flush();
  const ev = events(r.c);
  assert.equal(ev.filter((e) => e.startsWith('SuccessfulCreate Created pod: pi-')).length, 3);
  assert.ok(ev.includes('Completed Job completed'));
  // A second sync of a finished job writes nothing.
  const before = r.c.actions.length;
  await r.sync('pi');
  assert.equal(r.c.actions.length, before);
  await r.stop();
});

test('expectations: a sync before the informer saw the created pods creates nothing more', async () => {
  const r = await rig();
  await r.addJob('once', { completions: 2, parallelism: 2 });
  await r.jc.sync('ns/once');
  await r.jc.sync('ns/once'); // no settle: the pod cache has not caught up
  await settle();
  assert.equal(r.c.all('pods').length, 2);
  await r.stop();
});

test('failed pods are retried after 10 s, 20 s … backoff; over backoffLimit: FailureTarget, pods removed, then Failed', async () => {
  assert.deepEqual(
    [1, 2, 3, 7, 8, 20].map((n) => backoffRemaining({ failuresAfterLastSuccess: n, lastFailureTime: 0 }, 0)),
    [10_000, 20_000, 40_000, 360_000, 360_000, 360_000],
  );
  assert.equal(backoffRemaining({ failuresAfterLastSuccess: 2, lastFailureTime: 0 }, 5_000), 15_000);
  const r = await rig();
  await r.addJob('flaky', { backoffLimit: 1 });
  await r.sync('flaky');
  const [p1] = r.pods('flaky');
  await r.setPhase(p1, 'Failed');
  await r.sync('flaky');
  assert.equal(status(r.job('flaky')).failed, 1);
  assert.equal(r.pods('flaky').filter((p) => (p.status as { phase?: string } | undefined)?.phase !== 'Failed').length, 0, 'no replacement during backoff');
  assert.ok(r.timers.some((t) => t.ms === 10_000), `requeued after 10 s: ${JSON.stringify(r.timers)}`);

  r.clock.t += 10_001;
  await r.sync('flaky');
  const p2 = r.pods('flaky').find((p) => p.metadata.name !== p1.metadata.name)!;
  assert.ok(p2, 'replacement created once the backoff passed');
  await r.setPhase(p2, 'Failed');
  await r.sync('flaky');
  const j = r.job('flaky');
  assert.equal(status(j).failed, 2);
  assert.deepEqual(conds(j), ['FailureTarget:BackoffLimitExceeded', 'Failed:BackoffLimitExceeded']);
  const failed = status(j).conditions!.find((c) => c.type === 'Failed')!;
  assert.equal(failed.message, 'Job has reached the specified backoff limit');
  assert.equal(status(j).completionTime, undefined);
  await r.jc.recorder.flush();
  assert.ok(events(r.c).includes('BackoffLimitExceeded Job has reached the specified backoff limit'));
  await r.stop();
});

test('activeDeadlineSeconds: requeued for the deadline; past it the running pod is deleted and counted, then Failed DeadlineExceeded', async () => {
  const r = await rig();
  await r.addJob('slow', { activeDeadlineSeconds: 30 });
  await r.sync('slow');
  assert.ok(r.timers.some((t) => t.ms === 30_000), `requeued at the deadline: ${JSON.stringify(r.timers)}`);
  const [p] = r.pods('slow');
  r.clock.t += 30_000;
  await r.sync('slow');
  assert.equal(r.c.peek('pods', 'ns', p.metadata.name!), undefined, 'the active pod was deleted and its finalizer removed');
  let j = r.job('slow');
  assert.deepEqual(conds(j), ['FailureTarget:DeadlineExceeded']);
  assert.equal(status(j).failed, 1);
  await r.sync('slow');
  j = r.job('slow');
  assert.deepEqual(conds(j), ['FailureTarget:DeadlineExceeded', 'Failed:DeadlineExceeded']);
  assert.equal(status(j).conditions!.at(-1)!.message, 'Job was active longer than specified deadline');
  await r.jc.recorder.flush();
  assert.ok(events(r.c).includes('DeadlineExceeded Job was active longer than specified deadline'));
  await r.stop();
});

test('Indexed: one pod per index with annotation, label, hostname and env; completedIndexes as intervals', async () => {
  assert.equal(formatIndexes([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
  assert.deepEqual([...parseIndexes('0-2,4,9', 5)], [0, 1, 2, 4]);
  const r = await rig();
  await r.addJob('ix', { completions: 3, parallelism: 3, completionMode: 'Indexed' });
  await r.sync('ix');
  const pods = r.pods('ix').sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  assert.equal(pods.length, 3);
  pods.forEach((p, i) => {
    assert.match(p.metadata.name!, new RegExp(`^ix-${i}-[a-z0-9]{5}$`));
    assert.equal(p.metadata.annotations!['batch.kubernetes.io/job-completion-index'], String(i));
    assert.equal(p.metadata.labels!['batch.kubernetes.io/job-completion-index'], String(i));
    const spec = p.spec as { hostname: string; containers: Array<{ env: Array<{ name: string }> }> };
    assert.equal(spec.hostname, `ix-${i}`);
    assert.deepEqual(spec.containers[0].env.map((e) => e.name), ['JOB_COMPLETION_INDEX']);
  });
  await r.setPhase(pods[0], 'Succeeded');
  await r.setPhase(pods[2], 'Succeeded');
  await r.sync('ix');
  assert.equal(status(r.job('ix')).completedIndexes, '0,2');
  assert.equal(status(r.job('ix')).succeeded, 2);
  await r.setPhase(pods[1], 'Failed');
  await r.sync('ix');
  r.clock.t += 11_000;
  await r.sync('ix');
  const retry = r.pods('ix').filter((p) => !['Succeeded', 'Failed'].includes((p.status as { phase?: string } | undefined)?.phase ?? ''));
  assert.equal(retry.length, 1);
  assert.match(retry[0].metadata.name!, /^ix-1-/, 'only the missing index is retried');
  await r.setPhase(retry[0], 'Succeeded');
  await r.sync('ix');
  assert.equal(status(r.job('ix')).completedIndexes, '0-2');
  assert.deepEqual(conds(r.job('ix')), ['SuccessCriteriaMet:CompletionsReached', 'Complete:CompletionsReached']);
  await r.stop();
});

test('suspend deletes active pods without counting them; resume recreates them and resets startTime', async () => {
  const r = await rig();
  await r.addJob('sus', { parallelism: 2, completions: 4 });
  await r.sync('sus');
  assert.equal(r.pods('sus').length, 2);
  const cur = r.job('sus');
  (cur.spec as { suspend: boolean }).suspend = true;
  await r.c.update({ group: 'batch', version: 'v1', resource: 'jobs', namespaced: true }, 'ns', cur);
  await settle();
  await r.sync('sus');
  assert.equal(r.c.all('pods').length, 0, 'suspended: pods deleted (finalizer dropped first)');
  let j = r.job('sus');
  assert.deepEqual(conds(j), ['Suspended:JobSuspended']);
  assert.equal(status(j).failed, undefined, 'suspension is not a failure');
  r.clock.t += 60_000;
  (j.spec as { suspend: boolean }).suspend = false;
  await r.c.update({ group: 'batch', version: 'v1', resource: 'jobs', namespaced: true }, 'ns', j);
  await settle();
  await r.sync('sus');
  j = r.job('sus');
  assert.equal(r.pods('sus').length, 2);
  assert.deepEqual(
    status(j).conditions!.map((c: JobCondition) => `${c.type}:${c.status}:${c.reason}`),
    ['Suspended:False:JobResumed'],
  );
  assert.equal(status(j).startTime, '2026-01-01T00:01:00Z');
  await r.jc.recorder.flush();
  assert.ok(events(r.c).includes('Suspended Job suspended'));
  assert.ok(events(r.c).includes('Resumed Job resumed'));
  await r.stop();
});

test('podFailurePolicy: Ignore does not count towards backoffLimit; FailJob on an exit code fails the job with PodFailurePolicy', async () => {
  const r = await rig();
  await r.addJob('pfp', {
    backoffLimit: 0,
    podReplacementPolicy: 'Failed',
    podFailurePolicy: {
      rules: [
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        { action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } },
      ],
    },
  });
  await r.sync('pfp');
  const [p1] = r.pods('pfp');
  await r.setPhase(p1, 'Failed', { conditions: [{ type: 'DisruptionTarget', status: 'True' }] });
  await r.sync('pfp');
  assert.equal(status(r.job('pfp')).failed, undefined, 'ignored failure not counted');
  assert.deepEqual(conds(r.job('pfp')), []);
  const p2 = r.pods('pfp').find((p) => p.metadata.name !== p1.metadata.name)!;
  assert.ok(p2, 'replaced at once (no backoff for ignored failures)');
  await r.setPhase(p2, 'Failed', { containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 42 } } }] });
  await r.sync('pfp');
  await r.sync('pfp');
  const j = r.job('pfp');
  assert.deepEqual(conds(j), ['FailureTarget:PodFailurePolicy', 'Failed:PodFailurePolicy']);
  assert.equal(status(j).conditions!.at(-1)!.message, `Container c for pod ns/${p2.metadata.name} failed with exit code 42 matching FailJob rule at index 1`);
  await r.stop();
});

test('selector: a matching orphan pod is adopted (controller ref + tracking finalizer) and counts; a relabelled pod is released', async () => {
  const r = await rig();
  r.c.seed('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: 'ns', labels: { app: 'x' } }, spec: {}, status: { phase: 'Running' } });
  r.c.seed('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: 'ns', labels: { app: 'y' } }, spec: {}, status: { phase: 'Running' } });
  await settle();
  const j = await r.addJob('adopt', { manualSelector: true, selector: { matchLabels: { app: 'x' } }, completions: 1, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } });
  await r.sync('adopt');
  const stray = r.c.peek('pods', 'ns', 'stray')!;
  assert.deepEqual(stray.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}/${o.uid === j.metadata.uid}`), ['Job/adopt/true']);
  assert.deepEqual(stray.metadata.finalizers, [JOB_TRACKING_FINALIZER]);
  assert.equal(r.c.peek('pods', 'ns', 'other')!.metadata.ownerReferences, undefined);
  assert.equal(r.c.all('pods').length, 2, 'the adopted pod is the one active pod: nothing created');
  await r.c.patch(PODS, 'ns', 'stray', 'application/merge-patch+json', { metadata: { labels: { app: 'gone' } } });
  await settle();
  await r.sync('adopt');
  assert.equal(r.c.peek('pods', 'ns', 'stray')!.metadata.ownerReferences, undefined, 'released');
  assert.equal(r.pods('adopt').length, 1, 'a replacement was created');
  await r.stop();
});

test('orphaned pods of a deleted job lose the tracking finalizer', async () => {
  const r = await rig();
  await r.addJob('gone');
  await r.sync('gone');
  const [p] = r.pods('gone');
  await r.c.delete({ group: 'batch', version: 'v1', resource: 'jobs', namespaced: true }, 'ns', 'gone');
  await r.c.delete(PODS, 'ns', p.metadata.name!);
  await settle();
  assert.ok(r.c.peek('pods', 'ns', p.metadata.name!), 'held by the finalizer');
  await r.jc.syncOrphanPod(`ns/${p.metadata.name}`);
  assert.equal(r.c.peek('pods', 'ns', p.metadata.name!), undefined);
  await r.stop();
});

test('ttlSecondsAfterFinished: requeued at expiry, then deleted with a uid precondition', async () => {
  const c = new FakeClient();
  const clock = { t: T0 };
  const timers: number[] = [];
  const ttl = new TTLAfterFinishedController(c, {
    now: () => clock.t,
    schedule: (_fn, ms) => (timers.push(ms), () => undefined),
  });
  c.seed('jobs', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'done', namespace: 'ns' },
    spec: { ttlSecondsAfterFinished: 100, template: {} },
    status: { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  });
  ttl.jobs.start();
  await ttl.jobs.hasSynced;
  clock.t = T0 + 40_000;
  await ttl.sync('ns/done');
  assert.deepEqual(timers, [60_000]);
  assert.ok(c.peek('jobs', 'ns', 'done'));
  clock.t = T0 + 100_000;
  await ttl.sync('ns/done');
  assert.equal(c.peek('jobs', 'ns', 'done')?.metadata.deletionTimestamp !== undefined || !c.peek('jobs', 'ns', 'done'), true);
  assert.deepEqual(c.actionsOf('delete').map((a) => [a.name, a.detail]), [['done', 'Foreground']]);
  ttl.queue.shutDown();
  await ttl.jobs.stop();
});
