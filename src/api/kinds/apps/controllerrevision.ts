// apps/v1 ControllerRevision strategy: immutable data snapshots written by the DaemonSet and StatefulSet
// controllers (ValidateControllerRevision*), and the `kubectl get controllerrevisions` columns.

import { required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goOpaque } from '../meta/gofmt.js';
import { immutable, int, nonNegative } from '../meta/validation.js';

function validateControllerRevision(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (obj.data === undefined || obj.data === null) errs.push(required('data', 'data is mandatory'));
  errs.push(...nonNegative(obj.revision, 'revision'));
  return errs;
}

/** metav1.GetControllerOf formatted as printControllerRevision does: `daemonset.apps/web`, or "<none>". */
export function controllerOf(obj: KubeObject): string {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r && r.controller === true);
  if (!ref) return '<none>';
  const apiVersion = ref.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const kind = ref.kind ?? '';
  if (!kind && !group) return ref.name ?? '';
  return `${(group ? `${kind}.${group}` : kind).toLowerCase()}/${ref.name ?? ''}`;
}

export const controllerRevisionKind: KindDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  validate: validateControllerRevision,
  validateUpdate(obj, old) {
    return immutable(obj.data, old.data, 'data', goOpaque('runtime.RawExtension'));
  },
  table: {
    columns: [
      nameColumn(),
      col('Controller', 'string', 'Controller of the object'),
      col('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'),
      ageColumn(),
    ],
    cells: (obj, now) => [obj.metadata.name ?? '', controllerOf(obj), int(obj.revision), ageOf(obj, now)],
  },
};
