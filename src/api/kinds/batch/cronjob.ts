// batch/v1 CronJob strategy: defaults (SetDefaults_CronJob), validation (schedule via the robfig-compatible
// parser, timeZone, concurrencyPolicy, jobTemplate), /status and the `kubectl get cronjobs` columns.

import { invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { age, ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goLabelSelector } from '../meta/gofmt.js';
import { formatLabelSelector } from '../meta/labelselector.js';
import { arr, ensureRecord, nonNegative, rec, str } from '../meta/validation.js';
import { TEMPLATE_CONTAINERS_DOC, TEMPLATE_IMAGES_DOC } from '../apps/deployment.js';
import { containerCells, defaultTemplateAt } from '../apps/workload.js';
import { CronParseError, loadLocationError, parseStandard } from './cron.js';
import { validateJobSpecBody } from './jobspec.js';

export function defaultCronJob(obj: KubeObject): void {
  const spec = ensureRecord(obj, 'spec');
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  if (spec.suspend === undefined || spec.suspend === null) spec.suspend = false;
  if (spec.successfulJobsHistoryLimit === undefined || spec.successfulJobsHistoryLimit === null) spec.successfulJobsHistoryLimit = 3;
  if (spec.failedJobsHistoryLimit === undefined || spec.failedJobsHistoryLimit === null) spec.failedJobsHistoryLimit = 1;
  // Only the pod template inside the job template is defaulted (the JobSpec itself is not).
  defaultTemplateAt(ensureRecord(ensureRecord(spec, 'jobTemplate'), 'spec'));
}

/** validateScheduleFormat. `allowTZInSchedule` is true only on updates of objects that already had one. */
export function validateSchedule(schedule: string, timeZone: unknown, path: string, allowTZInSchedule = false): FieldError[] {
  const errs: FieldError[] = [];
  try {
    parseStandard(schedule);
  } catch (e) {
    if (!(e instanceof CronParseError)) throw e;
    errs.push(invalid(path, schedule, e.message));
  }
  const hasTZ = schedule.includes('TZ');
  if (allowTZInSchedule && hasTZ && timeZone !== undefined && timeZone !== null)
    errs.push(invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  else if (!allowTZInSchedule && hasTZ) errs.push(invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  return errs;
}

const VALID_TZ_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** validateTimeZone. */
export function validateTimeZone(tz: unknown, path: string): FieldError[] {
  if (tz === undefined || tz === null) return [];
  const name = str(tz);
  if (name.length === 0) return [invalid(path, name, 'timeZone must be nil or non-empty string')];
  for (const part of name.split('/'))
    if (part === '.' || part === '..' || part.startsWith('-') || !VALID_TZ_PART.test(part)) return [invalid(path, name, `unknown time zone ${name}`)];
  const errs: FieldError[] = [];
  if (name.toLowerCase() === 'local') errs.push(invalid(path, name, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  const loadErr = loadLocationError(name);
  if (loadErr) errs.push(invalid(path, name, loadErr));
  return errs;
}

/** validateCronJobSpec (create semantics). */
export function validateCronJobSpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const errs: FieldError[] = [];
  const schedule = str(spec.schedule);
  if (schedule.length === 0) errs.push(required('spec.schedule', ''));
  else errs.push(...validateSchedule(schedule, spec.timeZone, 'spec.schedule'));
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  errs.push(...validateTimeZone(spec.timeZone, 'spec.timeZone'));
  const cp = str(spec.concurrencyPolicy);
  if (cp === '') errs.push(required('spec.concurrencyPolicy', ''));
  else if (!['Allow', 'Forbid', 'Replace'].includes(cp)) errs.push(notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  // ValidateJobTemplateSpec
  const jobSpec = rec(rec(spec.jobTemplate).spec);
  errs.push(...validateJobSpecBody(jobSpec, 'spec.jobTemplate.spec'));
  if (jobSpec.selector !== undefined && jobSpec.selector !== null)
    errs.push(invalid('spec.jobTemplate.spec.selector', goLabelSelector(jobSpec.selector), '`selector` will be auto-generated'));
  if (jobSpec.manualSelector === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

export const cronJobKind: KindDef = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  status: true,
  generationFields: ['spec'],
  defaults: defaultCronJob,
  prepareForCreate(obj) {
    obj.status = {};
    obj.metadata.generation = 1;
  },
  validate(obj) {
    const errs = validateCronJobSpec(obj);
    // The controller appends an 11-character "-<timestamp>" to name its Jobs (63 characters at most).
    const name = obj.metadata.name ?? '';
    if (name.length > 52) errs.push(invalid('metadata.name', name, 'must be no more than 52 characters'));
    return errs;
  },
  table: {
    columns: [
      nameColumn(),
      col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'string', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process.'),
      col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
      col('Active', 'integer', 'A list of pointers to currently running jobs.'),
      col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
      ageColumn(),
      col('Containers', 'string', TEMPLATE_CONTAINERS_DOC, 1),
      col('Images', 'string', TEMPLATE_IMAGES_DOC, 1),
      col('Selector', 'string', 'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
    ],
    cells(obj, now) {
      const spec = rec(obj.spec);
      const status = rec(obj.status);
      const jobSpec = rec(rec(spec.jobTemplate).spec);
      const [names, images] = containerCells(jobSpec.template);
      const suspend = typeof spec.suspend === 'boolean' ? (spec.suspend ? 'True' : 'False') : '<unset>';
      const last = typeof status.lastScheduleTime === 'string' ? age(status.lastScheduleTime, now) : '<none>';
      const tz = typeof spec.timeZone === 'string' ? spec.timeZone : '<none>';
      return [obj.metadata.name ?? '', str(spec.schedule), tz, suspend, arr(status.active).length, last, ageOf(obj, now), names, images, formatLabelSelector(jobSpec.selector)];
    },
  },
};
