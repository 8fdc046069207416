// core/v1 ReplicationController strategy (pkg/registry/core/replicationcontroller): selector and labels from the
// template, replicas 1, generation on spec changes, /scale, status rules, Table and the status.replicas selector.

import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, formatLabels, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { ensureObj, forbidden, invalid, notSupported, num, obj, objs, required, str, validateNonnegative } from './common.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './podspec.js';

type Labels = Record<string, string>;

function defaults(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  const tpl = obj(spec.template);
  const labels = obj(obj(tpl?.metadata)?.labels) as Labels | undefined;
  if (labels) {
    if (Object.keys(obj(spec.selector) ?? {}).length === 0) spec.selector = { ...labels };
    if (Object.keys(o.metadata.labels ?? {}).length === 0) o.metadata.labels = { ...labels };
  }
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (tpl) defaultPodTemplateSpec(tpl);
}

function validateRC(o: KubeObject): FieldError[] {
  const spec = obj(o.spec) ?? {};
  const errs: FieldError[] = [];
  errs.push(...validateNonnegative(spec.minReadySeconds ?? 0, 'spec.minReadySeconds'));
  const selector = (obj(spec.selector) ?? {}) as Labels;
  if (Object.keys(selector).length === 0) errs.push(required('spec.selector'));
  errs.push(...validateNonnegative(spec.replicas ?? 0, 'spec.replicas'));
  const tpl = obj(spec.template);
  if (!tpl) errs.push(required('spec.template'));
  else {
    const tplLabels = (obj(obj(tpl.metadata)?.labels) ?? {}) as Labels;
    if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => tplLabels[k] === v))
      errs.push(invalid('spec.template.metadata.labels', tplLabels, '`selector` does not match template `labels`'));
    errs.push(...validatePodTemplateSpec(tpl, 'spec.template'));
    const tspec = obj(tpl.spec) ?? {};
    if (tspec.restartPolicy !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', str(tspec.restartPolicy), ['Always']));
    if (tspec.activeDeadlineSeconds !== undefined && tspec.activeDeadlineSeconds !== null)
      errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

function validateRCStatus(o: KubeObject): FieldError[] {
  const s = obj(o.status) ?? {};
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) errs.push(...validateNonnegative(s[f] ?? 0, `status.${f}`));
  const replicas = num(s.replicas) ?? 0;
  const msg = 'cannot be greater than status.replicas';
  for (const f of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) if ((num(s[f]) ?? 0) > replicas) errs.push(invalid(`status.${f}`, num(s[f]), msg));
  if ((num(s.availableReplicas) ?? 0) > (num(s.readyReplicas) ?? 0)) errs.push(invalid('status.availableReplicas', num(s.availableReplicas), 'cannot be greater than readyReplicas'));
  return errs;
}

export const replicationControllers: KindDef = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  namespaced: true,
  shortNames: ['rc'],
  categories: ['all'],
  status: true,
  scale: {
    specReplicasPath: ['spec', 'replicas'],
    statusReplicasPath: ['status', 'replicas'],
    selector: (o) => {
      const sel = (obj(obj(o.spec)?.selector) ?? {}) as Labels;
      return formatLabels(sel, '');
    },
  },
  generationFields: ['spec'],
  defaults,
  prepareForCreate(o) {
    o.status = { replicas: 0 };
  },
  validate: validateRC,
  validateStatusUpdate: validateRCStatus,
  table: {
    columns: [
      nameColumn(),
      col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
      col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
      col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
      ageColumn(),
      col('Containers', 'string', 'Names of each container in the template.', 1),
      col('Images', 'string', 'Images referenced by each container in the template.', 1),
      col('Selector', 'string', 'Selector is a label query over pods that should match the Replicas count.', 1),
    ],
    cells(o, now) {
      const spec = obj(o.spec) ?? {};
      const status = obj(o.status) ?? {};
      const containers = objs(obj(obj(spec.template)?.spec)?.containers);
      return [
        o.metadata.name,
        num(spec.replicas) ?? 0,
        num(status.replicas) ?? 0,
        num(status.readyReplicas) ?? 0,
        ageOf(o, now),
        containers.map((c) => str(c.name)).join(','),
        containers.map((c) => str(c.image)).join(','),
        formatLabels(obj(spec.selector) as Labels | undefined),
      ];
    },
  },
  fieldLabels: (o) => ({ 'status.replicas': String(num(obj(o.status)?.replicas) ?? 0) }),
};
