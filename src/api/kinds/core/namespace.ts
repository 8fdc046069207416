// core/v1 Namespace strategy (pkg/registry/core/namespace): metadata-name label, the "kubernetes" finalizer and
// Active phase on create, spec.finalizers only changeable through /finalize, Table and field selectors.

import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { isDNS1123Label, isQualifiedName } from '../../validation/names.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { arr, ensureObj, invalid, obj, str, stricterNameErrors } from './common.js';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** validateFinalizerName: qualified name, and unprefixed names must be standard ("kubernetes"). */
export function validateNamespaceFinalizer(name: string, path: string): FieldError[] {
  const errs: FieldError[] = isQualifiedName(name).map((m) => invalid(path, name, m));
  if (!name.includes('/') && name !== 'kubernetes') errs.push(invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  return errs;
}

function defaults(o: KubeObject): void {
  const name = o.metadata.name;
  if (name) o.metadata.labels = { ...(o.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
  const status = obj(o.status);
  if (status && !str(status.phase)) status.phase = 'Active';
}

export const namespaces: KindDef = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  status: true,
  extraSubresources: [{ name: 'finalize', group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] }],
  defaults,
  prepareForCreate(o) {
    o.status = { phase: 'Active' };
    const spec = ensureObj(o, 'spec');
    const fins = arr(spec.finalizers);
    if (!fins.includes('kubernetes')) spec.finalizers = [...fins, 'kubernetes'];
  },
  prepareForUpdate(o, old) {
    // spec.finalizers change only through the finalize subresource.
    const spec = ensureObj(o, 'spec');
    const oldFins = obj(old.spec)?.finalizers;
    if (oldFins === undefined) delete spec.finalizers;
    else spec.finalizers = oldFins;
  },
  // Deleting a namespace makes it Terminating until the namespace controller has emptied it and removed
  // spec.finalizers through /finalize (upstream's namespace REST storage).
  pendingDeletion: (o) => arr(obj(o.spec)?.finalizers).length > 0,
  prepareForDeletion(o) {
    ensureObj(o, 'status').phase = 'Terminating';
  },
  validate(o) {
    const errs = stricterNameErrors(o.metadata, isDNS1123Label);
    for (const f of arr(obj(o.spec)?.finalizers)) errs.push(...validateNamespaceFinalizer(str(f), 'spec.finalizers'));
    return errs;
  },
  validateStatusUpdate(o) {
    const phase = str(obj(o.status)?.phase);
    if (!o.metadata.deletionTimestamp) {
      if (phase !== 'Active') return [invalid('status.Phase', phase, "may only be 'Active' if `deletionTimestamp` is empty")];
    } else if (phase !== 'Terminating') return [invalid('status.Phase', phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")];
    return [];
  },
  table: {
    columns: [nameColumn(), col('Status', 'string', 'The status of the namespace'), ageColumn()],
    cells: (o, now) => [o.metadata.name, str(obj(o.status)?.phase), ageOf(o, now)],
  },
  fieldLabels: (o) => ({ 'status.phase': str(obj(o.status)?.phase), name: o.metadata.name ?? '' }),
};
