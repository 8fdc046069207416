// apps/v1 DaemonSet strategy: defaults, validation (ValidateDaemonSet*), the template-generation annotation kept
// by PrepareForCreate/Update, /status and the `kubectl get ds` columns.

import { invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, formatLabels, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goIntOrString, goLabelSelector, goPtr, goStringMap, goValue } from '../meta/gofmt.js';
import { formatLabelSelector, labelSelectorAsSelector, selectorMatches, selectorSize, validateLabelSelector, SelectorError } from '../meta/labelselector.js';
import {
  deepEqual,
  ensureRecord,
  immutable,
  intOrPercentValue,
  isNotMoreThan100Percent,
  isRecord,
  int,
  nonNegative,
  rec,
  str,
  stringMap,
  validatePositiveIntOrPercent,
} from '../meta/validation.js';
import { collisionCountErrors, TEMPLATE_CONTAINERS_DOC, TEMPLATE_IMAGES_DOC } from './deployment.js';
import { containerCells, defaultTemplateAt, restartAlwaysErrors, SELECTOR_MISMATCH, templateErrors, templateLabels } from './workload.js';

/** apps/v1 carries the internal spec.templateGeneration in this annotation. */
export const DEPRECATED_TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';

export function defaultDaemonSet(obj: KubeObject): void {
  const spec = ensureRecord(obj, 'spec');
  const us = ensureRecord(spec, 'updateStrategy');
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    const ru = ensureRecord(us, 'rollingUpdate');
    if (ru.maxUnavailable === undefined || ru.maxUnavailable === null) ru.maxUnavailable = 1;
    if (ru.maxSurge === undefined || ru.maxSurge === null) ru.maxSurge = 0;
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  defaultTemplateAt(spec);
}

/** ValidateDaemonSetUpdateStrategy (+ ValidateRollingUpdateDaemonSet). */
export function validateDaemonSetUpdateStrategy(us: Record<string, unknown>, path: string): FieldError[] {
  switch (us.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      if (!isRecord(us.rollingUpdate)) return [required(`${path}.rollingUpdate`, '')];
      const ru = us.rollingUpdate;
      const p = `${path}.rollingUpdate`;
      const errs = [
        ...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`),
        ...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`),
        ...isNotMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`),
        ...isNotMoreThan100Percent(ru.maxSurge, `${p}.maxSurge`),
      ];
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalid(`${p}.maxSurge`, goIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      else if (!hasUnavailable && !hasSurge) errs.push(required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      return errs;
    }
    default:
      return [
        notSupported(path, goValue(`apps.DaemonSetUpdateStrategy{Type:${JSON.stringify(str(us.type))}, RollingUpdate:${goPtr('apps.RollingUpdateDaemonSet', isRecord(us.rollingUpdate))}}`), ['RollingUpdate', 'OnDelete']),
      ];
  }
}

/** ValidateDaemonSetSpec. */
export function validateDaemonSetSpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const errs = validateLabelSelector(spec.selector, 'spec.selector');
  try {
    const sel = labelSelectorAsSelector(spec.selector);
    if (!selectorMatches(sel, templateLabels(spec.template)))
      errs.push(invalid('spec.template.metadata.labels', goStringMap(rec(rec(spec.template).metadata).labels), SELECTOR_MISMATCH));
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
  }
  if (spec.selector !== undefined && spec.selector !== null && selectorSize(spec.selector) === 0)
    errs.push(invalid('spec.selector', goLabelSelector(spec.selector), 'empty selector is invalid for daemonset'));
  errs.push(...templateErrors(spec.template, 'spec.template'));
  errs.push(...restartAlwaysErrors(spec.template, 'spec.template', 'DaemonSet'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateDaemonSetUpdateStrategy(rec(spec.updateStrategy), 'spec.updateStrategy'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

function templateGeneration(obj: KubeObject): number {
  const v = obj.metadata.annotations?.[DEPRECATED_TEMPLATE_GENERATION];
  return v && /^\d+$/.test(v) ? parseInt(v, 10) : 0;
}

function setTemplateGeneration(obj: KubeObject, gen: number): void {
  obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [DEPRECATED_TEMPLATE_GENERATION]: String(gen) };
}

export const daemonSetKind: KindDef = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  status: true,
  generationFields: ['spec'],
  defaults: defaultDaemonSet,
  prepareForCreate(obj) {
    obj.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
    obj.metadata.generation = 1;
    setTemplateGeneration(obj, 1);
  },
  prepareForUpdate(obj, old) {
    // Users may not set the template generation; it moves only when the template changes.
    const oldGen = templateGeneration(old);
    if (!deepEqual(rec(obj.spec).template, rec(old.spec).template)) setTemplateGeneration(obj, oldGen + 1);
    else if (old.metadata.annotations?.[DEPRECATED_TEMPLATE_GENERATION] !== undefined) setTemplateGeneration(obj, oldGen);
    else if (obj.metadata.annotations?.[DEPRECATED_TEMPLATE_GENERATION] !== undefined) {
      const { [DEPRECATED_TEMPLATE_GENERATION]: _dropped, ...rest } = obj.metadata.annotations;
      obj.metadata.annotations = rest;
    }
  },
  validate: validateDaemonSetSpec,
  validateUpdate(obj, old) {
    return immutable(rec(obj.spec).selector, rec(old.spec).selector, 'spec.selector', goLabelSelector(rec(obj.spec).selector));
  },
  validateStatusUpdate(obj, old) {
    const status = rec(obj.status);
    const errs: FieldError[] = [];
    for (const f of ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount'])
      errs.push(...nonNegative(status[f], `status.${f}`));
    errs.push(...collisionCountErrors(status, rec(old.status)));
    return errs;
  },
  table: {
    columns: [
      nameColumn(),
      col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/'),
      col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/'),
      col('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
      col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
      col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
      col('Node Selector', 'string', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
      ageColumn(),
      col('Containers', 'string', TEMPLATE_CONTAINERS_DOC, 1),
      col('Images', 'string', TEMPLATE_IMAGES_DOC, 1),
      col('Selector', 'string', 'A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
    ],
    cells(obj, now) {
      const spec = rec(obj.spec);
      const status = rec(obj.status);
      const [names, images] = containerCells(spec.template);
      return [
        obj.metadata.name ?? '',
        int(status.desiredNumberScheduled),
        int(status.currentNumberScheduled),
        int(status.numberReady),
        int(status.updatedNumberScheduled),
        int(status.numberAvailable),
        formatLabels(stringMap(rec(rec(spec.template).spec).nodeSelector)),
        ageOf(obj, now),
        names,
        images,
        formatLabelSelector(spec.selector),
      ];
    },
  },
};
