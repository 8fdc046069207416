// batch/v1 strategies: Job defaults and generated selector, validation messages, update/status rules and
// table cells; CronJob defaults, schedule/time-zone validation and cells.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../types.js';
import type { KindDef } from '../types.js';
import { GO_VALUE_TODO, goValuesRendered, messages, obj } from '../meta/testutil.js';
import { cronJobKind } from './cronjob.js';
import { jobKind } from './job.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');
const podTemplate = (restartPolicy?: string, labels?: Record<string, string>): Record<string, unknown> => ({
  ...(labels ? { metadata: { labels } } : {}),
  spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'pi', image: 'perl:5.34' }] },
});

function create(kind: KindDef, o: KubeObject): { obj: KubeObject; errors: string[] } {
  kind.defaults?.(o);
  kind.prepareForCreate?.(o);
  return { obj: o, errors: messages(kind.validate?.(o) ?? []) };
}

const job = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject => {
  const j = obj('batch/v1', 'Job', 'pi', { spec });
  j.metadata.uid = '0f6d5a2e-1b2c-4d5e-8f90-123456789abc';
  Object.assign(j.metadata, meta);
  return j;
};
const UID = '0f6d5a2e-1b2c-4d5e-8f90-123456789abc';

describe('Job defaults and generated selector', () => {
  test('a non-parallel job gets completions/parallelism 1, backoffLimit 6 and the controller-uid selector', () => {
    const { obj: j, errors } = create(jobKind, job({ template: podTemplate('Never') }));
    const spec = j.spec as Record<string, any>;
    assert.equal(spec.completions, 1);
    assert.equal(spec.parallelism, 1);
    assert.equal(spec.backoffLimit, 6);
    assert.equal(spec.completionMode, 'NonIndexed');
    assert.equal(spec.suspend, false);
    assert.equal(spec.podReplacementPolicy, 'TerminatingOrFailed');
    assert.equal(spec.manualSelector, false);
    assert.deepEqual(spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } });
    const labels = { 'batch.kubernetes.io/controller-uid': UID, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': UID, 'job-name': 'pi' };
    assert.deepEqual(spec.template.metadata.labels, labels);
    assert.deepEqual(j.metadata.labels, labels);
    assert.deepEqual(j.status, {});
    assert.deepEqual(errors, []);
  });
  test('a work queue (parallelism only) keeps completions unset; user labels stay on the job', () => {
    const { obj: j } = create(jobKind, job({ parallelism: 3, template: podTemplate('OnFailure', { app: 'q' }) }));
    assert.equal((j.spec as any).completions, undefined);
    assert.deepEqual(j.metadata.labels, { app: 'q' });
  });
  test('backoffLimitPerIndex makes the default backoffLimit MaxInt32; podFailurePolicy makes replacement Failed', () => {
    const { obj: j } = create(
      jobKind,
      job({ completions: 2, completionMode: 'Indexed', backoffLimitPerIndex: 1, podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] }, template: podTemplate('Never') }),
    );
    const spec = j.spec as Record<string, any>;
    assert.equal(spec.backoffLimit, 2147483647);
    assert.equal(spec.podReplacementPolicy, 'Failed');
    assert.equal(spec.podFailurePolicy.rules[0].onPodConditions[0].status, 'True');
  });
});

describe('Job validation messages', () => {
  const cases: { name: string; spec: Record<string, unknown>; meta?: Record<string, unknown>; want: string[]; go?: boolean }[] = [
    { name: 'restartPolicy defaulted to Always', spec: { template: podTemplate() }, want: ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'] },
    { name: 'negative counts', spec: { parallelism: -1, backoffLimit: -2, template: podTemplate('Never') }, want: ['spec.parallelism: Invalid value: -1: must be greater than or equal to 0', 'spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0'] },
    { name: 'bad completion mode', spec: { completionMode: 'Sometimes', template: podTemplate('Never') }, want: ['spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"'] },
    { name: 'indexed without completions', spec: { parallelism: 2, completionMode: 'Indexed', template: podTemplate('Never') }, want: ['spec.completions: Required value: when completion mode is Indexed'] },
    {
      name: 'podFailurePolicy needs restartPolicy Never and a valid rule',
      spec: { podFailurePolicy: { rules: [{ action: 'Explode', onExitCodes: { operator: 'In', values: [0, 2, 1] } }] }, template: podTemplate('OnFailure') },
      want: [
        'spec.podFailurePolicy.rules[0].action: Unsupported value: "Explode": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
        'spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator',
        'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{0, 2, 1}: must be ordered',
        'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
      ],
      go: true,
    },
    {
      name: 'a manual selector must still match the template',
      spec: { manualSelector: true, selector: { matchLabels: { app: 'a' } }, template: podTemplate('Never', { app: 'b' }) },
      want: ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`'],
      go: true,
    },
    {
      name: 'a user selector without manualSelector is rejected',
      spec: { selector: { matchLabels: { app: 'a' } }, template: podTemplate('Never', { app: 'a' }) },
      want: [
        `spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{app: a,batch.kubernetes.io/controller-uid: ${UID},},MatchExpressions:[]LabelSelectorRequirement{},}: \`selector\` not auto-generated`,
      ],
      go: true,
    },
    {
      name: 'an indexed job name must leave room for the index',
      spec: { completions: 10, completionMode: 'Indexed', template: podTemplate('Never') },
      meta: { name: 'a'.repeat(62) },
      want: [`metadata.name: Invalid value: "${'a'.repeat(62)}": will not able to create pod with invalid DNS label: ${'a'.repeat(62)}-9`],
    },
  ];
  for (const c of cases)
    test(c.name, { todo: c.go && !goValuesRendered ? GO_VALUE_TODO : undefined }, () => {
      assert.deepEqual(create(jobKind, job(c.spec, c.meta)).errors, c.want);
    });
});

describe('Job updates', () => {
  const created = (spec: Record<string, unknown>): KubeObject => create(jobKind, job(spec)).obj;
  test('the template is immutable once a job runs', { todo: goValuesRendered ? undefined : GO_VALUE_TODO }, () => {
    const old = created({ template: podTemplate('Never') });
    const next = structuredClone(old);
    (next.spec as any).template.spec.containers[0].image = 'perl:5.36';
    assert.deepEqual(messages(jobKind.validateUpdate!(next, old)), ['spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable']);
  });
  test('a suspended job that never started may change its node selector, not its image', () => {
    const old = created({ suspend: true, template: podTemplate('Never') });
    const next = structuredClone(old);
    (next.spec as any).template.spec.nodeSelector = { zone: 'a' };
    (next.spec as any).suspend = false;
    assert.deepEqual(jobKind.validateUpdate!(next, old), []);
    (next.spec as any).template.spec.containers[0].image = 'perl:5.36';
    assert.equal(messages(jobKind.validateUpdate!(next, old)).length, 1);
  });
  test('completions are immutable for NonIndexed jobs', () => {
    const old = created({ completions: 2, template: podTemplate('Never') });
    const next = structuredClone(old);
    (next.spec as any).completions = 3;
    assert.deepEqual(messages(jobKind.validateUpdate!(next, old)), ['spec.completions: Invalid value: 3: field is immutable']);
  });
  test('status: counters may not go down, terminal conditions stay', { todo: goValuesRendered ? undefined : GO_VALUE_TODO }, () => {
    const old = created({ template: podTemplate('Never') });
    old.status = { succeeded: 1, failed: 2, startTime: '2024-01-01T00:00:00Z', completionTime: '2024-01-01T00:01:00Z', conditions: [{ type: 'Complete', status: 'True' }] };
    const next = structuredClone(old);
    next.status = { succeeded: 0, failed: 1, startTime: '2024-01-01T00:00:00Z', completionTime: '2024-01-01T00:01:00Z', conditions: [] };
    assert.deepEqual(messages(jobKind.validateStatusUpdate!(next, old)), [
      'status.completionTime: Invalid value: "2024-01-01T00:01:00Z": cannot set completionTime when there is no Complete=True condition',
      'status.conditions: Invalid value: cannot disable the terminal Complete=True condition',
      'status.failed: Invalid value: 1: cannot decrease the failed counter',
      'status.succeeded: Invalid value: 0: cannot decrease the succeeded counter',
    ]);
  });
});

describe('Job table', () => {
  const cases: { name: string; spec: Record<string, unknown>; status: Record<string, unknown>; deleting?: boolean; cells: unknown[] }[] = [
    { name: 'running', spec: { template: podTemplate('Never') }, status: { startTime: '2024-01-01T00:03:00Z', active: 1 }, cells: ['Running', '0/1', '2m'] },
    { name: 'complete', spec: { completions: 3, template: podTemplate('Never') }, status: { startTime: '2024-01-01T00:00:00Z', completionTime: '2024-01-01T00:00:42Z', succeeded: 3, conditions: [{ type: 'Complete', status: 'True' }] }, cells: ['Complete', '3/3', '42s'] },
    { name: 'failed', spec: { template: podTemplate('Never') }, status: { conditions: [{ type: 'Failed', status: 'True' }] }, cells: ['Failed', '0/1', ''] },
    { name: 'suspended work queue', spec: { parallelism: 4, template: podTemplate('Never') }, status: { conditions: [{ type: 'Suspended', status: 'True' }] }, cells: ['Suspended', '0/1 of 4', ''] },
    { name: 'terminating', spec: { template: podTemplate('Never') }, status: {}, deleting: true, cells: ['Terminating', '0/1', ''] },
  ];
  for (const c of cases)
    test(c.name, () => {
      const j = create(jobKind, job(c.spec)).obj;
      j.status = c.status;
      if (c.deleting) j.metadata.deletionTimestamp = '2024-01-01T00:04:00Z';
      const cells = jobKind.table!.cells(j, NOW);
      assert.deepEqual(cells.slice(1, 4), c.cells);
      assert.deepEqual(cells.slice(4), ['5m', 'pi', 'perl:5.34', `batch.kubernetes.io/controller-uid=${UID}`]);
    });
  test('status.successful field selector', () => {
    const j = create(jobKind, job({ template: podTemplate('Never') })).obj;
    j.status = { succeeded: 2 };
    assert.deepEqual(jobKind.fieldLabels!(j), { 'status.successful': '2' });
  });
});

describe('CronJob', () => {
  const cj = (spec: Record<string, unknown>, name = 'hello'): KubeObject => obj('batch/v1', 'CronJob', name, { spec });
  const jt = { spec: { template: podTemplate('OnFailure') } };
  test('defaults', () => {
    const { obj: c, errors } = create(cronJobKind, cj({ schedule: '*/1 * * * *', jobTemplate: jt }));
    const spec = c.spec as Record<string, any>;
    assert.equal(spec.concurrencyPolicy, 'Allow');
    assert.equal(spec.suspend, false);
    assert.equal(spec.successfulJobsHistoryLimit, 3);
    assert.equal(spec.failedJobsHistoryLimit, 1);
    assert.equal(spec.jobTemplate.spec.template.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(spec.jobTemplate.spec.backoffLimit, undefined);
    assert.deepEqual(errors, []);
  });
  const cases: { name: string; spec: Record<string, unknown>; cjName?: string; want: string[]; go?: boolean }[] = [
    { name: 'missing schedule', spec: { jobTemplate: jt }, want: ['spec.schedule: Required value'] },
    { name: 'bad schedule', spec: { schedule: '* * * *', jobTemplate: jt }, want: ['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]'] },
    { name: 'TZ in schedule', spec: { schedule: 'TZ=UTC 0 * * * *', jobTemplate: jt }, want: ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'] },
    {
      name: 'time zones',
      spec: { schedule: '@daily', timeZone: 'Local', jobTemplate: jt },
      want: ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'],
    },
    { name: 'unknown time zone', spec: { schedule: '@daily', timeZone: 'Mars/Olympus_Mons', jobTemplate: jt }, want: ['spec.timeZone: Invalid value: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons'] },
    { name: 'empty time zone', spec: { schedule: '@daily', timeZone: '', jobTemplate: jt }, want: ['spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string'] },
    { name: 'concurrency policy', spec: { schedule: '@daily', concurrencyPolicy: 'Sometimes', jobTemplate: jt }, want: ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'] },
    { name: 'job template restartPolicy', spec: { schedule: '@daily', jobTemplate: { spec: { template: podTemplate() } } }, want: ['spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'] },
    {
      name: 'job template selector and manualSelector',
      spec: { schedule: '@daily', jobTemplate: { spec: { manualSelector: true, selector: { matchLabels: { a: 'b' } }, template: podTemplate('Never') } } },
      want: ['spec.jobTemplate.spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{a: b,},MatchExpressions:[]LabelSelectorRequirement{},}: `selector` will be auto-generated', 'spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "nil", "false"'],
      go: true,
    },
    { name: 'name too long for job names', spec: { schedule: '@daily', jobTemplate: jt }, cjName: 'c'.repeat(53), want: [`metadata.name: Invalid value: "${'c'.repeat(53)}": must be no more than 52 characters`] },
  ];
  for (const c of cases)
    test(c.name, { todo: c.go && !goValuesRendered ? GO_VALUE_TODO : undefined }, () => {
      assert.deepEqual(create(cronJobKind, cj(c.spec, c.cjName)).errors, c.want);
    });
  test('table cells: timezone, suspend, active, last schedule', () => {
    const c = create(cronJobKind, cj({ schedule: '*/5 * * * *', timeZone: 'Etc/UTC', jobTemplate: jt })).obj;
    assert.deepEqual(cronJobKind.table!.cells(c, NOW), ['hello', '*/5 * * * *', 'Etc/UTC', 'False', 0, '<none>', '5m', 'pi', 'perl:5.34', '<none>']);
    c.status = { active: [{ name: 'hello-1' }], lastScheduleTime: '2024-01-01T00:04:30Z' };
    (c.spec as any).suspend = true;
    delete (c.spec as any).timeZone;
    assert.deepEqual(cronJobKind.table!.cells(c, NOW).slice(2, 6), ['<none>', 'True', 1, '30s']);
    assert.deepEqual(cronJobKind.table!.columns.map((x) => x.name), ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers', 'Images', 'Selector']);
  });
});
