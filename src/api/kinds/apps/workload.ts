// Pieces shared by the pod-template workloads (apps and batch): template defaulting/validation through the core
// pod helpers, upstream's selector-vs-template checks, and the Containers/Images table cells.

import { forbidden, invalid, notSupported, required, type FieldError } from '../../errors.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/podspec.js';
import { goLabelSelector, goStringMap } from '../meta/gofmt.js';
import { labelSelectorAsSelector, selectorEmpty, selectorMatches, selectorSize, validateLabelSelector, SelectorError } from '../meta/labelselector.js';
import { arr, isRecord, rec, str, stringMap } from '../meta/validation.js';

type PodTemplateArg = Parameters<typeof defaultPodTemplateSpec>[0];

/** Apply the core pod defaults to `holder[key]` (a PodTemplateSpec), creating it when missing. */
export function defaultTemplateAt(holder: Record<string, unknown>, key = 'template'): void {
  if (!isRecord(holder[key])) holder[key] = {};
  defaultPodTemplateSpec(holder[key] as PodTemplateArg);
}

/** apivalidation.ValidatePodTemplateSpec through the core helper. */
export function templateErrors(tpl: unknown, path: string): FieldError[] {
  return validatePodTemplateSpec((isRecord(tpl) ? tpl : {}) as PodTemplateArg, path);
}

export const templateLabels = (tpl: unknown): Record<string, string> | undefined => stringMap(rec(rec(tpl).metadata).labels);
const rawTemplateLabels = (tpl: unknown): unknown => rec(rec(tpl).metadata).labels;

export const SELECTOR_MISMATCH = '`selector` does not match template `labels`';

/**
 * The selector block of Deployment/ReplicaSet/StatefulSet specs: required, validated strictly, non-empty.
 * `kindWord` is what upstream names in "empty selector is invalid for <kindWord>".
 */
export function validateRequiredSelector(selector: unknown, path: string, kindWord: string): FieldError[] {
  if (selector === undefined || selector === null) return [required(path, '')];
  const errs = validateLabelSelector(selector, path);
  if (selectorSize(selector) === 0) errs.push(invalid(path, goLabelSelector(selector), `empty selector is invalid for ${kindWord}`));
  return errs;
}

/**
 * ValidatePodTemplateSpecForReplicaSet: the selector must match the template labels; the template must be a valid
 * pod template with restartPolicy Always and no activeDeadlineSeconds. `kindName` names the kind in the
 * activeDeadlineSeconds message ("activeDeadlineSeconds in ReplicaSet is not Supported").
 */
export function validateTemplateForReplicaSet(spec: Record<string, unknown>, path: string, kindName: string, invalidSelectorDetail = 'invalid label selector'): FieldError[] {
  const errs: FieldError[] = [];
  let sel;
  try {
    sel = labelSelectorAsSelector(spec.selector);
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
    return [invalid(`${path}.selector`, goLabelSelector(spec.selector), invalidSelectorDetail)];
  }
  const tpl = spec.template;
  const tplPath = `${path}.template`;
  if (!selectorEmpty(sel) && !selectorMatches(sel, templateLabels(tpl)))
    errs.push(invalid(`${tplPath}.metadata.labels`, goStringMap(rawTemplateLabels(tpl)), SELECTOR_MISMATCH));
  errs.push(...templateErrors(tpl, tplPath));
  errs.push(...restartAlwaysErrors(tpl, tplPath, kindName));
  return errs;
}

/** restartPolicy must be Always; activeDeadlineSeconds must be unset. */
export function restartAlwaysErrors(tpl: unknown, tplPath: string, kindName: string): FieldError[] {
  const errs: FieldError[] = [];
  const podSpec = rec(rec(tpl).spec);
  const rp = str(podSpec.restartPolicy);
  if (rp !== 'Always') errs.push(notSupported(`${tplPath}.spec.restartPolicy`, rp, ['Always']));
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null)
    errs.push(forbidden(`${tplPath}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${kindName} is not Supported`));
  return errs;
}

/** layoutContainerCells: names and images joined with ",". */
export function containerCells(tpl: unknown): [string, string] {
  const containers = arr(rec(rec(tpl).spec).containers).map(rec);
  return [containers.map((c) => str(c.name)).join(','), containers.map((c) => str(c.image)).join(',')];
}

/** Condition of `type` with status "True" in status.conditions. */
export function hasTrueCondition(obj: unknown, type: string): boolean {
  const c = arr(rec(rec(obj).status).conditions)
    .map(rec)
    .find((x) => x.type === type);
  return c !== undefined && c.status === 'True';
}

/** Status counters that must be ≥ 0 and ≤ status.replicas (workload status validation). */
export function replicaCounterErrors(status: Record<string, unknown>, path: string, nonneg: string[], notAboveReplicas: string[], msg = 'cannot be greater than status.replicas'): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of nonneg) {
    const v = status[f];
    if (typeof v === 'number' && v < 0) errs.push(invalid(`${path}.${f}`, v, 'must be greater than or equal to 0'));
  }
  const replicas = typeof status.replicas === 'number' ? status.replicas : 0;
  for (const f of notAboveReplicas) {
    const v = status[f];
    if (typeof v === 'number' && v > replicas) errs.push(invalid(`${path}.${f}`, v, msg));
  }
  return errs;
}
