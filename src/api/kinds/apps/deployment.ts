// apps/v1 Deployment strategy: defaults (apps/v1 SetDefaults_Deployment), validation
// (apps/validation ValidateDeployment*), /scale and /status, and the `kubectl get deployments` columns.

import { forbidden, invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goLabelSelector, goPtr, goValue } from '../meta/gofmt.js';
import { selectorString, SelectorError } from '../meta/labelselector.js';
import {
  deepEqual,
  ensureRecord,
  immutable,
  int,
  intOrPercentValue,
  isNotMoreThan100Percent,
  isRecord,
  nonNegative,
  rec,
  str,
  validatePositiveIntOrPercent,
} from '../meta/validation.js';
import { containerCells, defaultTemplateAt, replicaCounterErrors, validateRequiredSelector, validateTemplateForReplicaSet } from './workload.js';

/** Annotation apps/v1 uses to carry the internal spec.rollbackTo (extensions-era rollback). */
export const DEPRECATED_ROLLBACK_TO = 'deprecated.deployment.rollback.to';

export function defaultDeployment(obj: KubeObject): void {
  const spec = ensureRecord(obj, 'spec');
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  const strategy = ensureRecord(spec, 'strategy');
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = ensureRecord(strategy, 'rollingUpdate');
    if (ru.maxUnavailable === undefined || ru.maxUnavailable === null) ru.maxUnavailable = '25%';
    if (ru.maxSurge === undefined || ru.maxSurge === null) ru.maxSurge = '25%';
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds === undefined || spec.progressDeadlineSeconds === null) spec.progressDeadlineSeconds = 600;
  defaultTemplateAt(spec);
}

function strategyRepr(strategy: Record<string, unknown>): unknown {
  return goValue(`apps.DeploymentStrategy{Type:${JSON.stringify(str(strategy.type))}, RollingUpdate:${goPtr('apps.RollingUpdateDeployment', isRecord(strategy.rollingUpdate))}}`);
}

/** ValidateDeploymentStrategy. */
export function validateDeploymentStrategy(strategy: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  switch (strategy.type) {
    case 'Recreate':
      if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null)
        errs.push(forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'"));
      break;
    case 'RollingUpdate': {
      if (!isRecord(strategy.rollingUpdate)) {
        errs.push(required(`${path}.rollingUpdate`, 'this should be defaulted and never be nil'));
        break;
      }
      const ru = strategy.rollingUpdate;
      const p = `${path}.rollingUpdate`;
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0)
        errs.push(invalid(`${p}.maxUnavailable`, goValue(String(ru.maxUnavailable ?? 0)), 'may not be 0 when `maxSurge` is 0'));
      errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      break;
    }
    default:
      errs.push(notSupported(path, strategyRepr(strategy), ['Recreate', 'RollingUpdate']));
  }
  return errs;
}

/** ValidateDeploymentSpec. */
export function validateDeploymentSpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateRequiredSelector(spec.selector, 'spec.selector', 'deployment'));
  errs.push(...validateTemplateForReplicaSet(spec, 'spec', 'ReplicaSet'));
  errs.push(...validateDeploymentStrategy(rec(spec.strategy), 'spec.strategy'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const rollbackTo = obj.metadata.annotations?.[DEPRECATED_ROLLBACK_TO];
  if (rollbackTo) {
    if (!/^[+-]?\d+$/.test(rollbackTo)) errs.push(invalid(`metadata.annotations[${DEPRECATED_ROLLBACK_TO}]`, rollbackTo, 'must be an integer revision'));
    else errs.push(...nonNegative(parseInt(rollbackTo, 10), 'spec.rollback.version'));
  }
  if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== null) {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (int(spec.progressDeadlineSeconds) <= int(spec.minReadySeconds))
      errs.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

export function validateDeploymentStatus(obj: KubeObject, old: KubeObject): FieldError[] {
  const status = rec(obj.status);
  const errs: FieldError[] = [];
  for (const f of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'])
    errs.push(...nonNegative(status[f], `status.${f}`));
  errs.push(...replicaCounterErrors(status, 'status', [], ['updatedReplicas', 'readyReplicas', 'availableReplicas']));
  if (int(status.availableReplicas) > int(status.readyReplicas))
    errs.push(invalid('status.availableReplicas', status.availableReplicas, 'cannot be greater than readyReplicas'));
  errs.push(...collisionCountErrors(status, rec(old.status)));
  return errs;
}

/** IsDecremented(collisionCount): a status may not lower it (or drop it). */
export function collisionCountErrors(status: Record<string, unknown>, oldStatus: Record<string, unknown>): FieldError[] {
  const o = oldStatus.collisionCount;
  if (typeof o !== 'number') return [];
  const n = status.collisionCount;
  if (typeof n !== 'number' || n < o) return [invalid('status.collisionCount', typeof n === 'number' ? n : 0, 'cannot be decremented')];
  return [];
}

/** Selector string for tables: "<invalid>" when the selector does not convert (printDeployment). */
function selectorCell(sel: unknown): string {
  try {
    return selectorString(sel);
  } catch (e) {
    if (e instanceof SelectorError) return '<invalid>';
    throw e;
  }
}

export const TEMPLATE_CONTAINERS_DOC = 'Names of each container in the template.';
export const TEMPLATE_IMAGES_DOC = 'Images referenced by each container in the template.';

export const deploymentKind: KindDef = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  status: true,
  statusResetsMetadata: ['labels'],
  scale: {
    specReplicasPath: ['spec', 'replicas'],
    statusReplicasPath: ['status', 'replicas'],
    selector: (obj) => selectorString(rec(obj.spec).selector),
  },
  generationFields: ['spec'],
  defaults: defaultDeployment,
  prepareForCreate(obj) {
    obj.status = {};
    obj.metadata.generation = 1;
  },
  prepareForUpdate(obj, old) {
    // Annotations are copied onto ReplicaSets, so (like spec) a change to them is a new generation.
    if (!deepEqual(obj.metadata.annotations, old.metadata.annotations)) obj.metadata.generation = (old.metadata.generation ?? 0) + 1;
  },
  validate: validateDeploymentSpec,
  validateUpdate(obj, old) {
    return immutable(rec(obj.spec).selector, rec(old.spec).selector, 'spec.selector', goLabelSelector(rec(obj.spec).selector));
  },
  validateStatusUpdate: validateDeploymentStatus,
  table: {
    columns: [
      nameColumn(),
      col('Ready', 'string', 'Number of the pod with ready state'),
      col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      ageColumn(),
      col('Containers', 'string', TEMPLATE_CONTAINERS_DOC, 1),
      col('Images', 'string', TEMPLATE_IMAGES_DOC, 1),
      col('Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1),
    ],
    cells(obj, now) {
      const spec = rec(obj.spec);
      const status = rec(obj.status);
      const [names, images] = containerCells(spec.template);
      return [obj.metadata.name ?? '', `${int(status.readyReplicas)}/${int(spec.replicas)}`, int(status.updatedReplicas), int(status.availableReplicas), ageOf(obj, now), names, images, selectorCell(spec.selector)];
    },
  },
};
