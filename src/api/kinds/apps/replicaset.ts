// apps/v1 ReplicaSet strategy: defaults, validation (ValidateReplicaSet*), /scale, /status, the
// status.replicas field selector and the `kubectl get rs` columns.

import { invalid, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goLabelSelector } from '../meta/gofmt.js';
import { formatLabelSelector, selectorString } from '../meta/labelselector.js';
import { ensureRecord, immutable, int, nonNegative, rec } from '../meta/validation.js';
import { TEMPLATE_CONTAINERS_DOC, TEMPLATE_IMAGES_DOC } from './deployment.js';
import { containerCells, defaultTemplateAt, replicaCounterErrors, validateRequiredSelector, validateTemplateForReplicaSet } from './workload.js';

export function defaultReplicaSet(obj: KubeObject): void {
  const spec = ensureRecord(obj, 'spec');
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  defaultTemplateAt(spec);
}

/** ValidateReplicaSetSpec (upstream reuses the Deployment wording for an empty selector). */
export function validateReplicaSetSpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  return [
    ...nonNegative(spec.replicas, 'spec.replicas'),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateRequiredSelector(spec.selector, 'spec.selector', 'deployment'),
    ...validateTemplateForReplicaSet(spec, 'spec', 'ReplicaSet'),
  ];
}

export function validateReplicaSetStatus(obj: KubeObject): FieldError[] {
  const status = rec(obj.status);
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) errs.push(...nonNegative(status[f], `status.${f}`));
  errs.push(...replicaCounterErrors(status, 'status', [], ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']));
  if (int(status.availableReplicas) > int(status.readyReplicas))
    errs.push(invalid('status.availableReplicas', status.availableReplicas, 'cannot be greater than readyReplicas'));
  return errs;
}

export const replicaSetKind: KindDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  status: true,
  scale: {
    specReplicasPath: ['spec', 'replicas'],
    statusReplicasPath: ['status', 'replicas'],
    selector: (obj) => selectorString(rec(obj.spec).selector),
  },
  generationFields: ['spec'],
  defaults: defaultReplicaSet,
  prepareForCreate(obj) {
    obj.status = { replicas: 0 };
    obj.metadata.generation = 1;
  },
  validate: validateReplicaSetSpec,
  validateUpdate(obj, old) {
    return immutable(rec(obj.spec).selector, rec(old.spec).selector, 'spec.selector', goLabelSelector(rec(obj.spec).selector));
  },
  validateStatusUpdate: validateReplicaSetStatus,
  fieldLabels: (obj) => ({ 'status.replicas': String(int(rec(obj.status).replicas)) }),
  table: {
    columns: [
      nameColumn(),
      col('Desired', 'integer', 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller'),
      col('Current', 'integer', 'Replicas is the most recently oberved number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller'),
      col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
      ageColumn(),
      col('Containers', 'string', TEMPLATE_CONTAINERS_DOC, 1),
      col('Images', 'string', TEMPLATE_IMAGES_DOC, 1),
      col('Selector', 'string', 'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
    ],
    cells(obj, now) {
      const spec = rec(obj.spec);
      const status = rec(obj.status);
      const [names, images] = containerCells(spec.template);
      return [obj.metadata.name ?? '', int(spec.replicas), int(status.replicas), int(status.readyReplicas), ageOf(obj, now), names, images, formatLabelSelector(spec.selector)];
    },
  },
};
