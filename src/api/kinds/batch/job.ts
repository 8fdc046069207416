// batch/v1 Job strategy: defaults (SetDefaults_Job), the generated selector and controller-uid/job-name labels
// (PrepareForCreate, using the uid the server assigned), validation (ValidateJob*, status transitions), the
// status.successful field selector and the `kubectl get jobs` columns.

import { invalid, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { isDNS1123Label } from '../../validation/names.js';
import { ageColumn, ageOf, col, humanDuration, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goLabelSelector, goOpaque, goStringMap, OMIT_VALUE } from '../meta/gofmt.js';
import { formatLabelSelector, labelSelectorAsSelector, selectorMatches, validateLabelSelector, SelectorError } from '../meta/labelselector.js';
import { arr, clone, deepEqual, ensureRecord, immutable, int, isRecord, nonNegative, rec, str, stringMap } from '../meta/validation.js';
import { TEMPLATE_CONTAINERS_DOC, TEMPLATE_IMAGES_DOC } from '../apps/deployment.js';
import { containerCells, defaultTemplateAt, hasTrueCondition, SELECTOR_MISMATCH, templateLabels } from '../apps/workload.js';
import { validateJobSpecBody } from './jobspec.js';

export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const LEGACY_JOB_NAME_LABEL = 'job-name';

export function defaultJob(obj: KubeObject): void {
  const spec = ensureRecord(obj, 'spec');
  const has = (f: string): boolean => spec[f] !== undefined && spec[f] !== null;
  if (!has('completions') && !has('parallelism')) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  if (!has('parallelism')) spec.parallelism = 1;
  if (!has('backoffLimit')) spec.backoffLimit = has('backoffLimitPerIndex') ? 2147483647 : 6;
  const tplLabels = rec(rec(spec.template).metadata).labels;
  if (isRecord(tplLabels) && Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = { ...(tplLabels as Record<string, string>) };
  if (!has('completionMode')) spec.completionMode = 'NonIndexed';
  if (!has('suspend')) spec.suspend = false;
  if (isRecord(spec.podFailurePolicy))
    for (const rule of arr(spec.podFailurePolicy.rules))
      for (const pattern of arr(rec(rule).onPodConditions)) if (isRecord(pattern) && !pattern.status) pattern.status = 'True';
  if (!has('podReplacementPolicy')) spec.podReplacementPolicy = has('podFailurePolicy') ? 'Failed' : 'TerminatingOrFailed';
  if (!has('manualSelector')) spec.manualSelector = false;
  defaultTemplateAt(spec);
}

/** generateSelector: label the template with the job's name and uid and select on the uid. */
export function generateSelector(obj: KubeObject): void {
  const spec = ensureRecord(obj, 'spec');
  const tpl = ensureRecord(spec, 'template');
  const meta = ensureRecord(tpl, 'metadata');
  const labels = (isRecord(meta.labels) ? meta.labels : (meta.labels = {})) as Record<string, unknown>;
  const name = obj.metadata.name ?? '';
  const uid = obj.metadata.uid ?? '';
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(k in labels)) labels[k] = name;
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(k in labels)) labels[k] = uid;
  const sel = ensureRecord(spec, 'selector');
  const ml = ensureRecord(sel, 'matchLabels');
  if (!(CONTROLLER_UID_LABEL in ml)) ml[CONTROLLER_UID_LABEL] = uid;
}

/** ValidateHasLabel. */
function hasLabel(labels: Record<string, unknown> | undefined, path: string, key: string, expected: string): FieldError[] {
  if (!labels || !(key in labels)) return [required(`${path}.labels[${key}]`, `must be '${expected}'`)];
  if (labels[key] !== expected) return [invalid(`${path}.labels[${key}]`, goStringMap(labels), `must be '${expected}'`)];
  return [];
}

/** validateGeneratedSelector. */
function validateGeneratedSelector(obj: KubeObject, requirePrefixedLabels: boolean): FieldError[] {
  const spec = rec(obj.spec);
  if (spec.manualSelector === true || spec.selector === undefined || spec.selector === null) return [];
  const errs: FieldError[] = [];
  const uid = obj.metadata.uid ?? '';
  const name = obj.metadata.name ?? '';
  if (!uid) errs.push(required('metadata.uid', ''));
  const tplMeta = rec(rec(spec.template).metadata);
  const labels = isRecord(tplMeta.labels) ? tplMeta.labels : undefined;
  const p = 'spec.template.metadata';
  errs.push(...hasLabel(labels, p, LEGACY_CONTROLLER_UID_LABEL, uid));
  errs.push(...hasLabel(labels, p, LEGACY_JOB_NAME_LABEL, name));
  const expected: Record<string, string> = {};
  if (requirePrefixedLabels) {
    errs.push(...hasLabel(labels, p, CONTROLLER_UID_LABEL, uid));
    errs.push(...hasLabel(labels, p, JOB_NAME_LABEL, name));
    expected[CONTROLLER_UID_LABEL] = uid;
    expected[JOB_NAME_LABEL] = name;
  }
  expected[LEGACY_CONTROLLER_UID_LABEL] = uid;
  expected[LEGACY_JOB_NAME_LABEL] = name;
  try {
    if (!selectorMatches(labelSelectorAsSelector(spec.selector), expected)) errs.push(invalid('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
  }
  return errs;
}

/** ValidateJob (create) with the prefixed-label requirement upstream applies to new jobs. */
export function validateJob(obj: KubeObject, requirePrefixedLabels = true): FieldError[] {
  const spec = rec(obj.spec);
  const errs: FieldError[] = [];
  errs.push(...validateGeneratedSelector(obj, requirePrefixedLabels));
  errs.push(...validateJobSpecBody(spec, 'spec'));
  if (spec.selector === undefined || spec.selector === null) errs.push(required('spec.selector', ''));
  else errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  try {
    if (!selectorMatches(labelSelectorAsSelector(spec.selector), templateLabels(spec.template)))
      errs.push(invalid('spec.template.metadata.labels', goStringMap(rec(rec(spec.template).metadata).labels), SELECTOR_MISMATCH));
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
  }
  if (spec.completionMode === 'Indexed' && typeof spec.completions === 'number' && spec.completions > 0) {
    const host = `${obj.metadata.name ?? ''}-${spec.completions - 1}`;
    if (isDNS1123Label(host).length > 0) errs.push(invalid('metadata.name', obj.metadata.name ?? '', `will not able to create pod with invalid DNS label: ${host}`));
  }
  return errs;
}

/** Scheduling directives a suspended, never-started Job may still change in its template. */
function relaxTemplate(tpl: unknown, newTpl: unknown): unknown {
  const t = clone(rec(tpl));
  const n = rec(newTpl);
  const ts = ensureRecord(t, 'spec');
  const ns = rec(n.spec);
  const tAff = rec(ts.affinity);
  const nAff = ns.affinity;
  if (!isRecord(nAff) && isRecord(ts.affinity)) {
    delete tAff.nodeAffinity;
    if (Object.keys(tAff).length === 0) delete ts.affinity;
  } else if (isRecord(nAff) && !isRecord(ts.affinity)) ts.affinity = { nodeAffinity: nAff.nodeAffinity };
  else if (isRecord(nAff) && isRecord(ts.affinity)) tAff.nodeAffinity = nAff.nodeAffinity;
  ts.nodeSelector = ns.nodeSelector;
  ts.tolerations = ns.tolerations;
  ts.schedulingGates = ns.schedulingGates;
  const tm = ensureRecord(t, 'metadata');
  const nm = rec(n.metadata);
  tm.annotations = nm.annotations;
  tm.labels = nm.labels;
  return t;
}

/** ValidateJobSpecUpdate's immutability rules (the spec itself is checked by validate). */
export function validateJobUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const oldSpec = rec(old.spec);
  const errs: FieldError[] = [];
  // Completions: immutable, except that an Indexed job may scale completions together with parallelism.
  if (!deepEqual(spec.completions, oldSpec.completions)) {
    if (spec.completionMode !== 'Indexed') errs.push(...immutable(spec.completions, oldSpec.completions, 'spec.completions'));
    else if (typeof spec.completions === 'number' && spec.completions !== spec.parallelism)
      errs.push(invalid('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism'));
  }
  errs.push(...immutable(spec.selector, oldSpec.selector, 'spec.selector', goLabelSelector(spec.selector)));
  // Node affinity, node selector, tolerations, gates, labels and annotations stay mutable while a job is
  // suspended and has never started.
  const mutableScheduling = oldSpec.suspend === true && rec(old.status).startTime == null;
  const oldTpl = mutableScheduling ? relaxTemplate(oldSpec.template, spec.template) : oldSpec.template;
  errs.push(...immutable(spec.template, oldTpl, 'spec.template', goOpaque('core.PodTemplateSpec')));
  errs.push(...immutable(spec.completionMode, oldSpec.completionMode, 'spec.completionMode'));
  errs.push(...immutable(spec.podFailurePolicy, oldSpec.podFailurePolicy, 'spec.podFailurePolicy', goOpaque('batch.PodFailurePolicy')));
  errs.push(...immutable(spec.backoffLimitPerIndex, oldSpec.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'));
  errs.push(...immutable(spec.managedBy, oldSpec.managedBy, 'spec.managedBy'));
  errs.push(...immutable(spec.successPolicy, oldSpec.successPolicy, 'spec.successPolicy', goOpaque('batch.SuccessPolicy')));
  return errs;
}

const isComplete = (o: KubeObject): boolean => hasTrueCondition(o, 'Complete');
const isFailed = (o: KubeObject): boolean => hasTrueCondition(o, 'Failed');
const isFinished = (o: KubeObject): boolean => isComplete(o) || isFailed(o);

/** ValidateJobUpdateStatus with the options upstream enables for 1.32 (JobManagedBy on). */
export function validateJobStatusUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const s = rec(obj.status);
  const o = rec(old.status);
  const spec = rec(obj.spec);
  const errs: FieldError[] = [];
  for (const f of ['active', 'succeeded', 'failed', 'ready', 'terminating']) errs.push(...nonNegative(s[f], `status.${f}`));
  const uncounted = rec(s.uncountedTerminatedPods);
  const seen = new Set<string>();
  for (const kind of ['succeeded', 'failed'])
    arr(uncounted[kind]).forEach((u, i) => {
      const p = `status.uncountedTerminatedPods.${kind}[${i}]`;
      if (u === '' || typeof u !== 'string') errs.push(invalid(p, str(u), 'must not be empty'));
      else if (seen.has(u)) errs.push({ type: 'FieldValueDuplicate', field: p, value: u });
      else seen.add(u);
    });
  const changed = (a: unknown, b: unknown): boolean => !deepEqual(a, b);
  const finishedChanged = isFinished(obj) !== isFinished(old);
  const completeChanged = isComplete(obj) !== isComplete(old);
  const failedChanged = isFailed(obj) !== isFailed(old);
  const startChanged = changed(s.startTime, o.startTime);
  const completionChanged = changed(s.completionTime, o.completionTime);
  if ((completeChanged || failedChanged) && isComplete(obj) && isFailed(obj))
    errs.push(invalid('status.conditions', OMIT_VALUE, 'cannot set Complete=True and Failed=true conditions'));
  if ((completeChanged || changed(hasTrueCondition(obj, 'FailureTarget'), hasTrueCondition(old, 'FailureTarget'))) && isComplete(obj) && hasTrueCondition(obj, 'FailureTarget'))
    errs.push(invalid('status.conditions', OMIT_VALUE, 'cannot set Complete=True and FailureTarget=true conditions'));
  if ((completeChanged || completionChanged) && s.completionTime != null && !isComplete(obj))
    errs.push(invalid('status.completionTime', s.completionTime, 'cannot set completionTime when there is no Complete=True condition'));
  if ((completeChanged || completionChanged) && s.completionTime == null && isComplete(obj))
    errs.push(required('status.completionTime', 'completionTime is required for Complete jobs'));
  if ((startChanged || completionChanged) && typeof s.startTime === 'string' && typeof s.completionTime === 'string' && Date.parse(s.completionTime) < Date.parse(s.startTime))
    errs.push(invalid('status.completionTime', s.completionTime, 'completionTime cannot be set before startTime'));
  if ((finishedChanged || changed(s.active, o.active)) && int(s.active) > 0 && isFinished(obj))
    errs.push(invalid('status.active', s.active, 'active>0 is invalid for finished job'));
  if ((finishedChanged || startChanged) && s.startTime == null && isFinished(obj)) errs.push(required('status.startTime', 'startTime is required for finished job'));
  if ((finishedChanged || changed(s.uncountedTerminatedPods, o.uncountedTerminatedPods)) && isFinished(obj) && arr(uncounted.succeeded).length + arr(uncounted.failed).length > 0)
    errs.push(invalid('status.uncountedTerminatedPods', goOpaque('&batch.UncountedTerminatedPods'), 'uncountedTerminatedPods needs to be empty for finished job'));
  for (const t of ['Failed', 'Complete', 'FailureTarget'])
    if (hasTrueCondition(old, t) && !hasTrueCondition(obj, t)) errs.push(invalid('status.conditions', OMIT_VALUE, `cannot disable the terminal ${t}=True condition`));
  if (int(s.failed) < int(o.failed)) errs.push(invalid('status.failed', int(s.failed), 'cannot decrease the failed counter'));
  const indexed = spec.completionMode === 'Indexed';
  if ((!indexed || spec.completions !== spec.parallelism) && int(s.succeeded) < int(o.succeeded))
    errs.push(invalid('status.succeeded', int(s.succeeded), 'cannot decrease the succeeded counter'));
  if (s.completionTime != null && o.completionTime != null && changed(s.completionTime, o.completionTime))
    errs.push(invalid('status.completionTime', s.completionTime, 'completionTime cannot be mutated'));
  if (startChanged && o.startTime != null && spec.suspend !== true) errs.push(required('status.startTime', 'startTime cannot be removed for unsuspended job'));
  return errs;
}

/** The STATUS cell of `kubectl get jobs`. */
export function jobStatusCell(obj: KubeObject): string {
  if (hasTrueCondition(obj, 'Complete')) return 'Complete';
  if (hasTrueCondition(obj, 'Failed')) return 'Failed';
  if (obj.metadata.deletionTimestamp) return 'Terminating';
  if (hasTrueCondition(obj, 'Suspended')) return 'Suspended';
  if (hasTrueCondition(obj, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

/** The COMPLETIONS cell: "1/3", or for work queues "0/1 of 3". */
export function jobCompletionsCell(obj: KubeObject): string {
  const spec = rec(obj.spec);
  const succeeded = int(rec(obj.status).succeeded);
  if (typeof spec.completions === 'number') return `${succeeded}/${spec.completions}`;
  const parallelism = int(spec.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** The DURATION cell: empty before the job starts, running time until it completes. */
export function jobDurationCell(obj: KubeObject, now: number): string {
  const status = rec(obj.status);
  const start = typeof status.startTime === 'string' ? Date.parse(status.startTime) : NaN;
  if (Number.isNaN(start)) return '';
  const end = typeof status.completionTime === 'string' ? Date.parse(status.completionTime) : NaN;
  return humanDuration((Number.isNaN(end) ? now : end) - start);
}

export const jobKind: KindDef = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  categories: ['all'],
  status: true,
  generationFields: ['spec'],
  defaults: defaultJob,
  prepareForCreate(obj) {
    if (rec(obj.spec).manualSelector !== true) generateSelector(obj);
    // Upstream defaults job labels from the template again whenever it decodes the stored object, so a job
    // created without labels reads back with the generated ones: store what it would read back.
    const tplLabels = stringMap(rec(rec(rec(obj.spec).template).metadata).labels);
    if (tplLabels && Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = { ...tplLabels };
    obj.status = {};
    obj.metadata.generation = 1;
  },
  validate(obj) {
    return validateJob(obj);
  },
  validateUpdate: validateJobUpdate,
  validateStatusUpdate: validateJobStatusUpdate,
  fieldLabels: (obj) => ({ 'status.successful': String(int(rec(obj.status).succeeded)) }),
  table: {
    columns: [
      nameColumn(),
      col('Status', 'string', 'Status of the job.'),
      col('Completions', 'string', 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.'),
      col('Duration', 'string', 'Time required to complete the job.'),
      ageColumn(),
      col('Containers', 'string', TEMPLATE_CONTAINERS_DOC, 1),
      col('Images', 'string', TEMPLATE_IMAGES_DOC, 1),
      col('Selector', 'string', 'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
    ],
    cells(obj, now) {
      const spec = rec(obj.spec);
      const [names, images] = containerCells(spec.template);
      return [obj.metadata.name ?? '', jobStatusCell(obj), jobCompletionsCell(obj), jobDurationCell(obj, now), ageOf(obj, now), names, images, formatLabelSelector(spec.selector)];
    },
  },
};
