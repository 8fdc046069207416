// apps/v1 StatefulSet strategy: defaults (incl. volumeClaimTemplates), validation (ValidateStatefulSet*),
// /scale, /status and the `kubectl get sts` columns.

import { forbidden, invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { validateAnnotations, validateLabels, isDNS1123Label } from '../../validation/names.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goIntOrString, goLabelSelector, goPtr, goStringMap, goValue } from '../meta/gofmt.js';
import { labelSelectorAsSelector, selectorEmpty, selectorMatches, selectorString, validateLabelSelector, selectorSize, SelectorError } from '../meta/labelselector.js';
import {
  arr,
  deepEqual,
  ensureRecord,
  int,
  intOrPercentValue,
  isNotMoreThan100Percent,
  isRecord,
  nonNegative,
  rec,
  str,
  stricterNameErrors,
  validatePositiveIntOrPercent,
} from '../meta/validation.js';
import { collisionCountErrors, TEMPLATE_CONTAINERS_DOC, TEMPLATE_IMAGES_DOC } from './deployment.js';
import { containerCells, defaultTemplateAt, SELECTOR_MISMATCH, templateLabels } from './workload.js';

export function defaultStatefulSet(obj: KubeObject): void {
  const spec = ensureRecord(obj, 'spec');
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  const us = ensureRecord(spec, 'updateStrategy');
  if (!us.type) {
    us.type = 'RollingUpdate';
    if (!isRecord(us.rollingUpdate)) us.rollingUpdate = {};
  }
  if (us.type === 'RollingUpdate' && isRecord(us.rollingUpdate) && (us.rollingUpdate.partition === undefined || us.rollingUpdate.partition === null))
    us.rollingUpdate.partition = 0;
  const pvcPolicy = ensureRecord(spec, 'persistentVolumeClaimRetentionPolicy');
  if (!pvcPolicy.whenDeleted) pvcPolicy.whenDeleted = 'Retain';
  if (!pvcPolicy.whenScaled) pvcPolicy.whenScaled = 'Retain';
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  defaultTemplateAt(spec);
  // PersistentVolumeClaim defaults for the claim templates, and the TypeMeta apps/v1 writes on each of them.
  for (const t of arr(spec.volumeClaimTemplates)) {
    if (!isRecord(t)) continue;
    t.apiVersion = 'v1';
    t.kind = 'PersistentVolumeClaim';
    const tSpec = ensureRecord(t, 'spec');
    if (!tSpec.volumeMode) tSpec.volumeMode = 'Filesystem';
    const tStatus = ensureRecord(t, 'status');
    if (!tStatus.phase) tStatus.phase = 'Pending';
  }
}

function validatePVCRetentionPolicyType(v: unknown, path: string): FieldError[] {
  return v === 'Retain' || v === 'Delete' ? [] : [notSupported(path, str(v), ['Retain', 'Delete'])];
}

/** ValidateStatefulSetSpec. */
export function validateStatefulSetSpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const errs: FieldError[] = [];
  switch (spec.podManagementPolicy) {
    case undefined:
    case null:
    case '':
      errs.push(required('spec.podManagementPolicy', ''));
      break;
    case 'OrderedReady':
    case 'Parallel':
      break;
    default:
      errs.push(invalid('spec.podManagementPolicy', str(spec.podManagementPolicy), "must be 'OrderedReady' or 'Parallel'"));
  }
  const us = rec(spec.updateStrategy);
  switch (us.type) {
    case undefined:
    case null:
    case '':
      errs.push(required('spec.updateStrategy', ''));
      break;
    case 'OnDelete':
      if (isRecord(us.rollingUpdate))
        errs.push(invalid('spec.updateStrategy.rollingUpdate', goValue(`&apps.RollingUpdateStatefulSetStrategy{Partition:${int(us.rollingUpdate.partition)}, MaxUnavailable:${goPtr('intstr.IntOrString', us.rollingUpdate.maxUnavailable !== undefined && us.rollingUpdate.maxUnavailable !== null)}}`), "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      if (isRecord(us.rollingUpdate)) {
        const ru = us.rollingUpdate;
        const p = 'spec.updateStrategy.rollingUpdate';
        errs.push(...nonNegative(ru.partition, `${p}.partition`));
        if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
          errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`));
          if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(invalid(`${p}.maxUnavailable`, goIntOrString(ru.maxUnavailable), 'cannot be 0'));
          errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
        }
      }
      break;
    default:
      errs.push(
        invalid('spec.updateStrategy', goValue(`apps.StatefulSetUpdateStrategy{Type:${JSON.stringify(str(us.type))}, RollingUpdate:${goPtr('apps.RollingUpdateStatefulSetStrategy', isRecord(us.rollingUpdate))}}`), "must be 'RollingUpdate' or 'OnDelete'"),
      );
  }
  if (isRecord(spec.persistentVolumeClaimRetentionPolicy)) {
    const p = spec.persistentVolumeClaimRetentionPolicy;
    errs.push(...validatePVCRetentionPolicyType(p.whenDeleted, 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted'));
    errs.push(...validatePVCRetentionPolicyType(p.whenScaled, 'spec.persistentVolumeClaimRetentionPolicy.whenScaled'));
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (isRecord(spec.ordinals)) errs.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
  if (spec.selector === undefined || spec.selector === null) errs.push(required('spec.selector', ''));
  else {
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    if (selectorSize(spec.selector) === 0) errs.push(invalid('spec.selector', goLabelSelector(spec.selector), 'empty selector is invalid for statefulset'));
  }
  const tpl = rec(spec.template);
  try {
    const sel = labelSelectorAsSelector(spec.selector);
    // ValidatePodTemplateSpecForStatefulSet checks only the template's labels and annotations, not its pod spec.
    if (!selectorEmpty(sel) && !selectorMatches(sel, templateLabels(tpl)))
      errs.push(invalid('spec.template.metadata.labels', goStringMap(rec(tpl.metadata).labels), SELECTOR_MISMATCH));
    errs.push(...validateLabels(rec(tpl.metadata).labels, 'spec.template.labels'));
    errs.push(...validateAnnotations(rec(tpl.metadata).annotations, 'spec.template.annotations'));
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
    errs.push(invalid('spec.selector', goLabelSelector(spec.selector), ''));
  }
  const podSpec = rec(tpl.spec);
  if (podSpec.restartPolicy !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', str(podSpec.restartPolicy), ['Always']));
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null)
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
  return errs;
}

const MUTABLE_SPEC_FIELDS = ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy'];

/** The maxUnavailable knob is behind the (alpha, off) MaxUnavailableStatefulSet gate: dropped unless already used. */
function dropDisabledFields(obj: KubeObject, old?: KubeObject): void {
  const oldRu = old ? rec(rec(rec(old.spec).updateStrategy).rollingUpdate) : {};
  if (oldRu.maxUnavailable !== undefined && oldRu.maxUnavailable !== null) return;
  const ru = rec(rec(rec(obj.spec).updateStrategy).rollingUpdate);
  delete ru.maxUnavailable;
}

export const statefulSetKind: KindDef = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  status: true,
  scale: {
    specReplicasPath: ['spec', 'replicas'],
    statusReplicasPath: ['status', 'replicas'],
    selector: (obj) => selectorString(rec(obj.spec).selector),
  },
  generationFields: ['spec'],
  defaults: defaultStatefulSet,
  prepareForCreate(obj) {
    obj.status = { replicas: 0, availableReplicas: 0 };
    obj.metadata.generation = 1;
    dropDisabledFields(obj);
  },
  prepareForUpdate(obj, old) {
    dropDisabledFields(obj, old);
  },
  validate(obj) {
    return [...stricterNameErrors(obj, isDNS1123Label), ...validateStatefulSetSpec(obj)];
  },
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    const a = { ...rec(obj.spec) };
    const b = { ...rec(old.spec) };
    for (const f of MUTABLE_SPEC_FIELDS) {
      delete a[f];
      delete b[f];
    }
    if (!deepEqual(a, b))
      errs.push(forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
    return errs;
  },
  validateStatusUpdate(obj, old) {
    const status = rec(obj.status);
    const errs: FieldError[] = [];
    for (const f of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount'])
      errs.push(...nonNegative(status[f], `status.${f}`));
    const replicas = int(status.replicas);
    for (const f of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'])
      if (int(status[f]) > replicas) errs.push(invalid(`status.${f}`, status[f], 'cannot be greater than status.replicas'));
    if (int(status.availableReplicas) > int(status.readyReplicas))
      errs.push(invalid('status.availableReplicas', status.availableReplicas, 'cannot be greater than status.readyReplicas'));
    errs.push(...collisionCountErrors(status, rec(old.status)));
    return errs;
  },
  table: {
    columns: [nameColumn(), col('Ready', 'string', 'Number of the pod with ready state'), ageColumn(), col('Containers', 'string', TEMPLATE_CONTAINERS_DOC, 1), col('Images', 'string', TEMPLATE_IMAGES_DOC, 1)],
    cells(obj, now) {
      const spec = rec(obj.spec);
      const [names, images] = containerCells(spec.template);
      return [obj.metadata.name ?? '', `${int(rec(obj.status).readyReplicas)}/${int(spec.replicas)}`, ageOf(obj, now), names, images];
    },
  },
};
