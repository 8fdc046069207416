// coordination.k8s.io/v1 Lease strategy: validation (ValidateLease: duration and transitions) and the
// `kubectl get leases` columns. Node heartbeats and leader election write these.

import { forbidden, invalid, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { rec, str } from '../meta/validation.js';

export function validateLeaseSpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const errs: FieldError[] = [];
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0)
    errs.push(invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0)
    errs.push(invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  if (str(spec.preferredHolder) !== '' && str(spec.holderIdentity) === '')
    errs.push(forbidden('spec.preferredHolder', 'preferredHolder can only be set when holderIdentity is set'));
  return errs;
}

/** The coordinated-leader-election fields are alpha (gate off in 1.32): dropped unless already in use. */
function dropDisabledFields(obj: KubeObject, old?: KubeObject): void {
  const spec = rec(obj.spec);
  const oldSpec = rec(old?.spec);
  if (oldSpec.strategy === undefined) delete spec.strategy;
  if (oldSpec.preferredHolder === undefined) delete spec.preferredHolder;
}

export const leaseKind: KindDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  prepareForCreate: (obj) => dropDisabledFields(obj),
  prepareForUpdate: (obj, old) => dropDisabledFields(obj, old),
  validate: validateLeaseSpec,
  table: {
    columns: [nameColumn(), col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), ageColumn()],
    cells: (obj, now) => [obj.metadata.name ?? '', str(rec(obj.spec).holderIdentity), ageOf(obj, now)],
  },
};
