// Validation of a batch JobSpec shared by Job and CronJob's jobTemplate (batch/validation validateJobSpec):
// counts, completion modes, pod failure / success / replacement policies, the pod template and restartPolicy.

import { duplicate, invalid, notSupported, required, type FieldError } from '../../errors.js';
import { isQualifiedName } from '../../validation/names.js';
import { goInt32Slice, goOpaque, OMIT_VALUE } from '../meta/gofmt.js';
import { arr, isDomainPrefixedPath, isRecord, nonNegative, rec, str, tooLongMax, tooMany } from '../meta/validation.js';
import { templateErrors } from '../apps/workload.js';

const MAX_PARALLELISM_INDEXED = 100000;
const MAX_FAILED_INDEXES_INDEXED = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_LIMIT_HIGH_COMPLETIONS = 10_000;
const MAX_FAILED_INDEXES_HIGH_COMPLETIONS = 10_000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS = 20;
const MAX_MANAGED_BY_LENGTH = 63;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const MAX_SUCCESS_POLICY_RULES = 20;

const POD_FAILURE_ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const ON_EXIT_CODES_OPERATORS = ['In', 'NotIn'];
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];
const goQuotedList = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/** validateIndexesFormat: parse "1,3-5" against completions; returns the number of indexes. */
export function validateIndexesFormat(s: string, completions: number): number {
  if (s.length === 0) return 0;
  let last: number | undefined;
  let total = 0;
  const atoi = (x: string): number => {
    if (!/^[+-]?\d+$/.test(x)) throw new Error(`cannot convert string to integer for index: ${JSON.stringify(x)}`);
    return parseInt(x, 10);
  };
  for (const interval of s.split(',')) {
    const limits = interval.split('-');
    if (limits.length > 2) throw new Error(`the fragment ${JSON.stringify(interval)} violates the requirement that an index interval can have at most two parts separated by '-'`);
    const x = atoi(limits[0]);
    if (x >= completions) throw new Error(`too large index: ${JSON.stringify(limits[0])}`);
    if (last !== undefined && last >= x) throw new Error(`non-increasing order, previous: ${last}, current: ${x}`);
    total += 1;
    last = x;
    if (limits.length > 1) {
      const y = atoi(limits[1]);
      if (y >= completions) throw new Error(`too large index: ${JSON.stringify(limits[1])}`);
      if (last >= y) throw new Error(`non-increasing order, previous: ${last}, current: ${y}`);
      total += y - x;
      last = y;
    }
  }
  return total;
}

function validatePodFailurePolicy(spec: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const rules = arr(rec(spec.podFailurePolicy).rules);
  const rulesPath = `${path}.rules`;
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) errs.push(tooMany(rulesPath, rules.length, MAX_POD_FAILURE_POLICY_RULES));
  const podSpec = rec(rec(spec.template).spec);
  const containerNames = new Set([...arr(podSpec.containers), ...arr(podSpec.initContainers)].map((c) => str(rec(c).name)));
  rules.forEach((r0, i) => {
    const rule = rec(r0);
    const rp = `${rulesPath}[${i}]`;
    const action = str(rule.action);
    if (action === '') errs.push(required(`${rp}.action`, `valid values: ${goQuotedList(POD_FAILURE_ACTIONS)}`));
    else if (action === 'FailIndex') {
      if (spec.backoffLimitPerIndex === undefined || spec.backoffLimitPerIndex === null) errs.push(invalid(`${rp}.action`, action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!POD_FAILURE_ACTIONS.includes(action)) errs.push(notSupported(`${rp}.action`, action, POD_FAILURE_ACTIONS));
    const hasExit = isRecord(rule.onExitCodes);
    const conds = arr(rule.onPodConditions);
    if (hasExit) {
      const oe = rec(rule.onExitCodes);
      const p = `${rp}.onExitCodes`;
      const op = str(oe.operator);
      if (op === '') errs.push(required(`${p}.operator`, `valid values: ${goQuotedList(ON_EXIT_CODES_OPERATORS)}`));
      else if (!ON_EXIT_CODES_OPERATORS.includes(op)) errs.push(notSupported(`${p}.operator`, op, ON_EXIT_CODES_OPERATORS));
      if (typeof oe.containerName === 'string' && !containerNames.has(oe.containerName))
        errs.push(invalid(`${p}.containerName`, oe.containerName, 'must be one of the container or initContainer names in the pod template'));
      const values = arr(oe.values);
      if (values.length === 0) errs.push(invalid(`${p}.values`, goInt32Slice(oe.values), 'at least one value is required'));
      else if (values.length > MAX_ON_EXIT_CODES_VALUES) errs.push(tooMany(`${p}.values`, values.length, MAX_ON_EXIT_CODES_VALUES));
      let ordered = true;
      const seen = new Set<unknown>();
      values.forEach((v, j) => {
        if (op === 'In' && v === 0) errs.push(invalid(`${p}.values[${j}]`, 0, 'must not be 0 for the In operator'));
        if (seen.has(v)) errs.push(duplicate(`${p}.values[${j}]`, v));
        else seen.add(v);
        if (j > 0 && (values[j - 1] as number) > (v as number)) ordered = false;
      });
      if (!ordered) errs.push(invalid(`${p}.values`, goInt32Slice(values), 'must be ordered'));
    }
    if (conds.length > 0) {
      const p = `${rp}.onPodConditions`;
      if (conds.length > MAX_ON_POD_CONDITIONS) errs.push(tooMany(p, conds.length, MAX_ON_POD_CONDITIONS));
      conds.forEach((c0, j) => {
        const c = rec(c0);
        const type = str(c.type);
        for (const m of isQualifiedName(type)) errs.push(invalid(`${p}[${j}].type`, type, m));
        const status = str(c.status);
        if (status === '') errs.push(required(`${p}[${j}].status`, `valid values: ${goQuotedList(CONDITION_STATUSES)}`));
        else if (!CONDITION_STATUSES.includes(status)) errs.push(notSupported(`${p}[${j}].status`, status, CONDITION_STATUSES));
      });
    }
    if (hasExit && conds.length > 0) errs.push(invalid(rp, OMIT_VALUE, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!hasExit && conds.length === 0) errs.push(invalid(rp, OMIT_VALUE, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return errs;
}

function validateSuccessPolicy(spec: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const rules = arr(rec(spec.successPolicy).rules);
  const rulesPath = `${path}.rules`;
  if (rules.length === 0) errs.push(required(rulesPath, 'at least one rules must be specified when the successPolicy is specified'));
  if (rules.length > MAX_SUCCESS_POLICY_RULES) errs.push(tooMany(rulesPath, rules.length, MAX_SUCCESS_POLICY_RULES));
  const completions = typeof spec.completions === 'number' ? spec.completions : 0;
  rules.forEach((r0, i) => {
    const rule = rec(r0);
    const rp = `${rulesPath}[${i}]`;
    const hasCount = typeof rule.succeededCount === 'number';
    const hasIndexes = typeof rule.succeededIndexes === 'string';
    if (!hasCount && !hasIndexes) errs.push(required(rp, 'at least one of succeededCount or succeededIndexes must be specified'));
    let total = 0;
    if (hasIndexes) {
      const s = rule.succeededIndexes as string;
      if (s.length > MAX_SUCCEEDED_INDEXES_LENGTH) errs.push({ type: 'FieldValueTooLong', field: `${rp}.succeededIndexes`, detail: `must have at most ${MAX_SUCCEEDED_INDEXES_LENGTH} bytes` });
      try {
        total = validateIndexesFormat(s, completions);
      } catch (e) {
        errs.push(invalid(`${rp}.succeededIndexes`, s, `error parsing succeededIndexes: ${(e as Error).message}`));
      }
    }
    if (hasCount) {
      const c = rule.succeededCount as number;
      errs.push(...nonNegative(c, `${rp}.succeededCount`));
      if (c > completions) errs.push(invalid(`${rp}.succeededCount`, c, `must be less than or equal to ${completions} (the number of specified completions)`));
      if (hasIndexes && c > total) errs.push(invalid(`${rp}.succeededCount`, c, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
    }
  });
  return errs;
}

/** validateJobSpec: everything in a JobSpec except the selector. `path` is e.g. "spec" or "spec.jobTemplate.spec". */
export function validateJobSpecBody(spec: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex'])
    errs.push(...nonNegative(spec[f], `${path}.${f}`));
  const has = (f: string): boolean => spec[f] !== undefined && spec[f] !== null;
  if (has('maxFailedIndexes')) {
    errs.push(...nonNegative(spec.maxFailedIndexes, `${path}.maxFailedIndexes`));
    if (!has('backoffLimitPerIndex')) errs.push(required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
  }
  if (has('managedBy')) {
    const mb = str(spec.managedBy);
    errs.push(...isDomainPrefixedPath(`${path}.managedBy`, mb));
    if (mb.length > MAX_MANAGED_BY_LENGTH) errs.push(tooLongMax(`${path}.managedBy`, MAX_MANAGED_BY_LENGTH));
  }
  const mode = has('completionMode') ? str(spec.completionMode) : undefined;
  const num = (f: string): number | undefined => (typeof spec[f] === 'number' ? (spec[f] as number) : undefined);
  if (mode !== undefined) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      const completions = num('completions');
      const parallelism = num('parallelism');
      const maxFailed = num('maxFailedIndexes');
      if (completions === undefined) errs.push(required(`${path}.completions`, 'when completion mode is Indexed'));
      if (parallelism !== undefined && parallelism > MAX_PARALLELISM_INDEXED)
        errs.push(invalid(`${path}.parallelism`, parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      if (completions !== undefined && maxFailed !== undefined && maxFailed > completions) errs.push(invalid(`${path}.maxFailedIndexes`, maxFailed, 'must be less than or equal to completions'));
      if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES_INDEXED) errs.push(invalid(`${path}.maxFailedIndexes`, maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES_INDEXED}`));
      if (completions !== undefined && completions > COMPLETIONS_SOFT_LIMIT && has('backoffLimitPerIndex')) {
        if (maxFailed === undefined) errs.push(required(`${path}.maxFailedIndexes`, `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`));
        if (parallelism !== undefined && parallelism > PARALLELISM_LIMIT_HIGH_COMPLETIONS)
          errs.push(invalid(`${path}.parallelism`, parallelism, `must be less than or equal to ${PARALLELISM_LIMIT_HIGH_COMPLETIONS} when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`));
        if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES_HIGH_COMPLETIONS)
          errs.push(invalid(`${path}.maxFailedIndexes`, maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES_HIGH_COMPLETIONS} when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`));
      }
    }
  }
  if (mode === undefined || mode === 'NonIndexed') {
    if (has('backoffLimitPerIndex')) errs.push(invalid(`${path}.backoffLimitPerIndex`, spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (has('maxFailedIndexes')) errs.push(invalid(`${path}.maxFailedIndexes`, spec.maxFailedIndexes, 'requires indexed completion mode'));
  }
  if (has('podFailurePolicy')) errs.push(...validatePodFailurePolicy(spec, `${path}.podFailurePolicy`));
  if (has('successPolicy')) {
    if (mode !== 'Indexed') errs.push(invalid(`${path}.successPolicy`, goOpaque('batch.SuccessPolicy'), 'requires indexed completion mode'));
    else errs.push(...validateSuccessPolicy(spec, `${path}.successPolicy`));
  }
  if (has('podReplacementPolicy')) {
    const prp = str(spec.podReplacementPolicy);
    if (has('podFailurePolicy')) {
      if (prp !== 'Failed') errs.push(notSupported(`${path}.podReplacementPolicy`, prp, ['Failed']));
    } else if (prp !== 'Failed' && prp !== 'TerminatingOrFailed') errs.push(notSupported(`${path}.podReplacementPolicy`, prp, ['Failed', 'TerminatingOrFailed']));
  }
  errs.push(...templateErrors(spec.template, `${path}.template`));
  const rp = str(rec(rec(spec.template).spec).restartPolicy);
  const rpPath = `${path}.template.spec.restartPolicy`;
  if (rp === 'Always' || rp === '') errs.push(required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never') errs.push(notSupported(rpPath, rp, ['OnFailure', 'Never']));
  else if (has('podFailurePolicy') && rp !== 'Never') errs.push(invalid(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}
