// networking.k8s.io/v1 IngressClass strategy: defaults (parameters.scope Cluster), validation
// (ValidateIngressClass*: controller, parameters reference and scope) and the `kubectl get ingressclass` columns.

import { forbidden, invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { isDNS1123Label } from '../../validation/names.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { immutable, isDomainPrefixedPath, isRecord, rec, str } from '../meta/validation.js';
import { validateTypedLocalObjectReference } from './ingress.js';

const MAX_CONTROLLER_LENGTH = 250;

export function defaultIngressClass(obj: KubeObject): void {
  const params = rec(obj.spec).parameters;
  if (isRecord(params) && (params.scope === undefined || params.scope === null)) params.scope = 'Cluster';
}

function validateParameters(p0: unknown, path: string): FieldError[] {
  if (!isRecord(p0)) return [];
  const p = p0;
  const errs = validateTypedLocalObjectReference(p, path);
  if (p.scope === undefined || p.scope === null) return [...errs, required(`${path}.scope`, '')];
  const scope = str(p.scope);
  if (scope !== 'Cluster' && scope !== 'Namespace') errs.push(notSupported(`${path}.scope`, scope, ['Cluster', 'Namespace']));
  else if (scope === 'Namespace') {
    if (typeof p.namespace !== 'string') errs.push(required(`${path}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else for (const m of isDNS1123Label(p.namespace)) errs.push(invalid(`${path}.namespace`, p.namespace, m));
  } else if (p.namespace !== undefined && p.namespace !== null) errs.push(forbidden(`${path}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  return errs;
}

export function validateIngressClassSpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const controller = str(spec.controller);
  const errs: FieldError[] = [];
  if (controller.length > MAX_CONTROLLER_LENGTH) errs.push({ type: 'FieldValueTooLong', field: 'spec.controller', detail: `must have at most ${MAX_CONTROLLER_LENGTH} bytes` });
  errs.push(...isDomainPrefixedPath('spec.controller', controller));
  errs.push(...validateParameters(spec.parameters, 'spec.parameters'));
  return errs;
}

/** Parameters cell: `Kind.group/name`, "<none>" without parameters. */
function parametersCell(p0: unknown): string {
  if (!isRecord(p0)) return '<none>';
  let s = str(p0.kind);
  if (typeof p0.apiGroup === 'string') s += `.${p0.apiGroup}`;
  return `${s}/${str(p0.name)}`;
}

export const ingressClassKind: KindDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  generationFields: ['spec'],
  defaults: defaultIngressClass,
  validate: validateIngressClassSpec,
  validateUpdate: (obj, old) => immutable(rec(obj.spec).controller, rec(old.spec).controller, 'spec.controller'),
  table: {
    columns: [
      nameColumn(),
      col('Controller', 'string', 'Controller that is responsible for handling this class'),
      col('Parameters', 'string', 'A reference to a resource with additional parameters'),
      ageColumn(),
    ],
    cells: (obj, now) => [obj.metadata.name ?? '', str(rec(obj.spec).controller), parametersCell(rec(obj.spec).parameters), ageOf(obj, now)],
  },
};
