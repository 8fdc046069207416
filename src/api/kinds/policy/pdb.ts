// policy/v1 PodDisruptionBudget strategy: validation (ValidatePodDisruptionBudget*), /status and the
// `kubectl get pdb` columns.

import { duplicate, invalid, notSupported, required, type FieldError } from '../../errors.js';
import { isQualifiedName } from '../../validation/names.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goOpaque } from '../meta/gofmt.js';
import { validateLabelSelector } from '../meta/labelselector.js';
import { arr, int, isNotMoreThan100Percent, nonNegative, rec, regexError, str, validatePositiveIntOrPercent } from '../meta/validation.js';

const EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

export function validatePDBSpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const errs: FieldError[] = [];
  if (isSet(spec.minAvailable) && isSet(spec.maxUnavailable)) errs.push(invalid('spec', goOpaque('policy.PodDisruptionBudgetSpec'), 'minAvailable and maxUnavailable cannot be both set'));
  for (const f of ['minAvailable', 'maxUnavailable'])
    if (isSet(spec[f])) errs.push(...validatePositiveIntOrPercent(spec[f], `spec.${f}`), ...isNotMoreThan100Percent(spec[f], `spec.${f}`));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (isSet(spec.unhealthyPodEvictionPolicy) && !EVICTION_POLICIES.includes(str(spec.unhealthyPodEvictionPolicy)))
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', str(spec.unhealthyPodEvictionPolicy), EVICTION_POLICIES));
  return errs;
}

/** ValidatePodDisruptionBudgetStatusUpdate (policy/v1). */
export function validatePDBStatus(obj: KubeObject): FieldError[] {
  const status = rec(obj.status);
  const errs: FieldError[] = [];
  errs.push(...validateConditions(status.conditions, 'status.conditions'));
  for (const f of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']) errs.push(...nonNegative(status[f], `status.${f}`));
  return errs;
}

const REASON_RE = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** metav1validation.ValidateConditions. */
export function validateConditions(conditions: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const types = new Set<string>();
  arr(conditions).forEach((c0, i) => {
    const c = rec(c0);
    const p = `${path}[${i}]`;
    const type = str(c.type);
    for (const m of isQualifiedName(type)) errs.push(invalid(`${p}.type`, type, m));
    if (types.has(type)) errs.push(duplicate(`${p}.type`, type));
    types.add(type);
    if (!['True', 'False', 'Unknown'].includes(str(c.status))) errs.push(notSupported(`${p}.status`, str(c.status), ['False', 'True', 'Unknown']));
    if (typeof c.observedGeneration === 'number' && c.observedGeneration < 0) errs.push(invalid(`${p}.observedGeneration`, c.observedGeneration, 'must be greater than or equal to zero'));
    if (!str(c.lastTransitionTime)) errs.push(required(`${p}.lastTransitionTime`, 'must be set'));
    const reason = str(c.reason);
    if (!reason) errs.push(required(`${p}.reason`, 'must be set'));
    else {
      if (!REASON_RE.test(reason))
        errs.push(
          invalid(
            `${p}.reason`,
            reason,
            regexError(
              "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'",
              '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?',
              'my_name',
              'MY_NAME',
              'MyName',
              'ReasonA,ReasonB',
              'ReasonA:ReasonB',
            ),
          ),
        );
      if (reason.length > 1024) errs.push({ type: 'FieldValueTooLong', field: `${p}.reason`, detail: 'must have at most 1024 bytes' });
    }
    if (str(c.message).length > 32768) errs.push({ type: 'FieldValueTooLong', field: `${p}.message`, detail: 'must have at most 32768 bytes' });
  });
  return errs;
}

const intOrStringCell = (v: unknown): string => (typeof v === 'number' || typeof v === 'string' ? String(v) : 'N/A');

export const pdbKind: KindDef = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  namespaced: true,
  shortNames: ['pdb'],
  status: true,
  generationFields: ['spec'],
  prepareForCreate(obj) {
    obj.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    obj.metadata.generation = 1;
  },
  validate: validatePDBSpec,
  validateStatusUpdate: validatePDBStatus,
  table: {
    columns: [
      nameColumn(),
      col('Min Available', 'string', 'The minimum number of pods that must be available.'),
      col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
      col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
      ageColumn(),
    ],
    cells(obj, now) {
      const spec = rec(obj.spec);
      return [obj.metadata.name ?? '', intOrStringCell(spec.minAvailable), intOrStringCell(spec.maxUnavailable), int(rec(obj.status).disruptionsAllowed), ageOf(obj, now)];
    },
  },
};
