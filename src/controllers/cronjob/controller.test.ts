// CronJob controller tests on the fake client with a fake clock: the next run and the exact requeue, job naming
// and annotation, timeZone, concurrencyPolicy Forbid/Replace, missed runs with startingDeadlineSeconds and the
// "too many missed" warning, suspend, completed jobs leaving status.active, and history-limit cleanup.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { CRONJOBS, CronJobController, JOBS, SCHEDULED_TIMESTAMP_ANNOTATION, formatInZone, jobNameFor } from './controller.js';

const at = (s: string): number => Date.parse(s);

interface Rig {
  c: FakeClient;
  cc: CronJobController;
  clock: { t: number };
  timers: number[];
  sync(): Promise<void>;
  cronJob(): KubeObject;
  events(): Promise<string[]>;
  stop(): Promise<void>;
}

const settle = () => new Promise<void>((r) => setTimeout(r, 2));

async function rig(spec: Record<string, unknown>, opts: { created?: string; status?: Record<string, unknown>; jobs?: KubeObject[] } = {}): Promise<Rig> {
  const c = new FakeClient();
  const clock = { t: 0 };
  const timers: number[] = [];
  const cj = c.seed('cronjobs', {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'cj', namespace: 'ns', creationTimestamp: opts.created ?? '2026-01-01T00:00:30Z' },
    spec: { concurrencyPolicy: 'Allow', suspend: false, jobTemplate: { metadata: { labels: { app: 'x' } }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec },
    status: opts.status ?? {},
  });
  for (const j of opts.jobs ?? []) {
    j.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: cj.metadata.uid!, controller: true }];
    c.seed('jobs', j);
  }
  const cc = new CronJobController(c, { now: () => clock.t, schedule: (fn, ms) => {
      // Record the delay, then fire at once so the queue holds no pending timer that would swallow the next one.
      timers.push(ms);
      queueMicrotask(fn);
      return () => undefined;
    },
  });
  cc.cronJobs.start();
  cc.jobs.start();
  await Promise.all([cc.cronJobs.hasSynced, cc.jobs.hasSynced]);
  return {
    c,
    cc,
    clock,
    timers,
    async sync() {
      timers.length = 0;
      await cc.sync('ns/cj');
      await settle();
    },
    cronJob: () => c.peek('cronjobs', 'ns', 'cj')!,
    async events() {
      await cc.recorder.flush();
      return c.all('events').map((e) => `${e.reason as string} ${e.message as string}`);
    },
    async stop() {
      cc.queue.shutDown();
      await cc.cronJobs.stop();
      await cc.jobs.stop();
    },
  };
}

const job = (name: string, cond?: 'Complete' | 'Failed', startTime?: string, completionTime?: string): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: 'ns' },
  spec: {},
  status: { ...(startTime ? { startTime } : {}), ...(completionTime ? { completionTime } : {}), ...(cond ? { conditions: [{ type: cond, status: 'True' }] } : {}) },
});
const statusOf = (o: KubeObject) => (o.status ?? {}) as { active?: Array<{ name: string; uid: string }>; lastScheduleTime?: string; lastSuccessfulTime?: string };

test('before the first time: nothing created, requeued exactly at the next schedule time (+100 ms)', async () => {
  const r = await rig({ schedule: '*/5 * * * *' });
  r.clock.t = at('2026-01-01T00:00:40Z');
  await r.sync();
  assert.equal(r.c.all('jobs').length, 0);
  assert.deepEqual(r.timers, [at('2026-01-01T00:05:00Z') + 100 - r.clock.t]);
  await r.stop();
});

test('at the schedule time: Job <cronjob>-<minutes> with the scheduled-timestamp annotation and controller ref; status and event', async () => {
  const r = await rig({ schedule: '*/5 * * * *' });
  r.clock.t = at('2026-01-01T00:05:00.100Z');
  await r.sync();
  const name = jobNameFor('cj', at('2026-01-01T00:05:00Z'));
  assert.equal(name, `cj-${at('2026-01-01T00:05:00Z') / 60_000}`);
  const j = r.c.peek('jobs', 'ns', name)!;
  assert.ok(j, 'job created');
  assert.equal(j.metadata.annotations![SCHEDULED_TIMESTAMP_ANNOTATION], '2026-01-01T00:05:00Z');
  assert.deepEqual(j.metadata.labels, { app: 'x' });
  assert.deepEqual(j.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: r.cronJob().metadata.uid, controller: true, blockOwnerDeletion: true }]);
  const st = statusOf(r.cronJob());
  assert.deepEqual(st.active?.map((a) => a.name), [name]);
  assert.equal(st.lastScheduleTime, '2026-01-01T00:05:00Z');
  assert.deepEqual(r.timers, [5 * 60_000]);
  assert.ok((await r.events()).includes(`SuccessfulCreate Created job ${name}`));
  // The same time is never scheduled twice.
  await r.sync();
  assert.equal(r.c.all('jobs').length, 1);
  await r.stop();
});

test('macros and timeZone: @daily in Asia/Tokyo runs at 15:00Z; the annotation carries the zone offset', async () => {
  assert.equal(formatInZone(at('2026-01-01T00:00:00Z'), 'Asia/Tokyo'), '2026-01-01T09:00:00+09:00');
  assert.equal(formatInZone(at('2026-07-01T12:00:00Z'), 'America/New_York'), '2026-07-01T08:00:00-04:00');
  const r = await rig({ schedule: '@daily', timeZone: 'Asia/Tokyo' });
  r.clock.t = at('2026-01-01T10:00:00Z');
  await r.sync();
  assert.deepEqual(r.timers, [at('2026-01-01T15:00:00Z') + 100 - r.clock.t]);
  r.clock.t = at('2026-01-01T15:00:01Z');
  await r.sync();
  const [j] = r.c.all('jobs');
  assert.equal(j.metadata.annotations![SCHEDULED_TIMESTAMP_ANNOTATION], '2026-01-02T00:00:00+09:00');
  await r.stop();
});

test('Forbid: no new job while one is active (JobAlreadyActive); Replace: the active job is deleted and a new one made', async () => {
  for (const policy of ['Forbid', 'Replace'] as const) {
    const r = await rig({ schedule: '*/1 * * * *', concurrencyPolicy: policy });
    r.clock.t = at('2026-01-01T00:01:00.1Z');
    await r.sync();
    const first = jobNameFor('cj', at('2026-01-01T00:01:00Z'));
    r.clock.t = at('2026-01-01T00:02:00.1Z');
    await r.sync();
    const second = jobNameFor('cj', at('2026-01-01T00:02:00Z'));
    const names = r.c.all('jobs').map((j) => j.metadata.name);
    const active = statusOf(r.cronJob()).active?.map((a) => a.name);
    const ev = await r.events();
    if (policy === 'Forbid') {
      assert.deepEqual(names, [first]);
      assert.deepEqual(active, [first]);
      assert.ok(ev.includes('JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid'));
      assert.deepEqual(r.timers, [60_000], 'still requeued for the next time');
    } else {
      assert.deepEqual(names, [second]);
      assert.deepEqual(active, [second]);
      assert.ok(ev.includes(`SuccessfulDelete Deleted job ${first}`));
      assert.deepEqual(r.c.actionsOf('delete').map((a) => a.detail), ['Background']);
    }
    await r.stop();
  }
});

test('missed runs: only the most recent is started; times before now − startingDeadlineSeconds are skipped; over 100 missed warns', async () => {
  // 30 minutes of */1 missed, no deadline: one job for the latest time.
  let r = await rig({ schedule: '*/1 * * * *' }, { status: { lastScheduleTime: '2026-01-01T00:00:00Z' } });
  r.clock.t = at('2026-01-01T00:30:20Z');
  await r.sync();
  assert.deepEqual(r.c.all('jobs').map((j) => j.metadata.name), [jobNameFor('cj', at('2026-01-01T00:30:00Z'))]);
  assert.ok(!(await r.events()).some((e) => e.startsWith('TooManyMissedTimes')));
  await r.stop();

  // 200 missed: started, with the warning.
  r = await rig({ schedule: '*/1 * * * *' }, { status: { lastScheduleTime: '2026-01-01T00:00:00Z' } });
  r.clock.t = at('2026-01-01T03:20:10Z');
  await r.sync();
  assert.deepEqual(r.c.all('jobs').map((j) => j.metadata.name), [jobNameFor('cj', at('2026-01-01T03:20:00Z'))]);
  assert.ok((await r.events()).includes('TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew'));
  await r.stop();

  // Hourly, deadline 60 s, 10 minutes late: missed, requeued for the next hour.
  r = await rig({ schedule: '0 * * * *', startingDeadlineSeconds: 60 }, { status: { lastScheduleTime: '2026-01-01T00:00:00Z' } });
  r.clock.t = at('2026-01-01T01:10:00Z');
  await r.sync();
  assert.equal(r.c.all('jobs').length, 0, 'outside the deadline window: nothing scheduled');
  assert.deepEqual(r.timers, [at('2026-01-01T02:00:00Z') + 100 - r.clock.t]);
  r.clock.t = at('2026-01-01T02:00:30Z');
  await r.sync();
  assert.equal(r.c.all('jobs').length, 1, 'within the deadline: started late');
  await r.stop();

});

test('suspend: nothing is scheduled and no timer is set', async () => {
  const r = await rig({ schedule: '*/1 * * * *', suspend: true });
  r.clock.t = at('2026-01-01T00:05:00Z');
  await r.sync();
  assert.equal(r.c.all('jobs').length, 0);
  assert.deepEqual(r.timers, []);
  await r.stop();
});

test('a finished active job leaves status.active (SawCompletedJob), sets lastSuccessfulTime; history limits prune the oldest', async () => {
  const r = await rig(
    { schedule: '0 0 1 1 *', successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 },
    {
      jobs: [
        job('s1', 'Complete', '2026-01-01T00:01:00Z', '2026-01-01T00:01:30Z'),
        job('s2', 'Complete', '2026-01-01T00:02:00Z', '2026-01-01T00:02:30Z'),
        job('s3', 'Complete', '2026-01-01T00:03:00Z', '2026-01-01T00:03:30Z'),
        job('f1', 'Failed', '2026-01-01T00:01:00Z'),
        job('f2', 'Failed', '2026-01-01T00:02:00Z'),
        job('running', undefined, '2026-01-01T00:04:00Z'),
      ],
    },
  );
  // Mark s3 as active (it was created by us) before syncing.
  const cj = r.cronJob();
  const s3 = r.c.peek('jobs', 'ns', 's3')!;
  const running = r.c.peek('jobs', 'ns', 'running')!;
  cj.status = { active: [{ kind: 'Job', namespace: 'ns', name: 's3', uid: s3.metadata.uid, apiVersion: 'batch/v1' }, { kind: 'Job', namespace: 'ns', name: 'running', uid: running.metadata.uid, apiVersion: 'batch/v1' }] };
  await r.c.update(CRONJOBS, 'ns', cj, 'status');
  await settle();
  r.clock.t = at('2026-01-01T00:05:00Z');
  await r.sync();
  assert.deepEqual(r.c.all('jobs').map((j) => j.metadata.name).sort(), ['f2', 'running', 's3']);
  const st = statusOf(r.cronJob());
  assert.deepEqual(st.active?.map((a) => a.name), ['running']);
  assert.equal(st.lastSuccessfulTime, '2026-01-01T00:03:30Z');
  const ev = await r.events();
  for (const e of ['SuccessfulDelete Deleted job s1', 'SuccessfulDelete Deleted job s2', 'SuccessfulDelete Deleted job f1', 'SawCompletedJob Saw completed job: s3, condition: Complete'])
    assert.ok(ev.includes(e), `${e} in ${JSON.stringify(ev)}`);
  assert.ok(!r.c.actionsOf('delete').some((a) => a.name === 'running'));
  // An active job deleted behind our back goes missing from status.
  await r.c.delete(JOBS, 'ns', 'running');
  await settle();
  await r.sync();
  assert.equal(statusOf(r.cronJob()).active, undefined);
  assert.ok((await r.events()).includes('MissingJob Active job went missing: running'));
  await r.stop();
});
