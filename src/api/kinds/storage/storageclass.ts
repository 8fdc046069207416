// storage.k8s.io/v1 StorageClass strategy: defaults (reclaimPolicy Delete, volumeBindingMode Immediate),
// validation (storage/validation ValidateStorageClass*) and the `kubectl get sc` columns ("(default)" marker).

import { duplicate, forbidden, invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { isQualifiedName, isValidLabelValue } from '../../validation/names.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { arr, deepEqual, immutable, isRecord, rec, str } from '../meta/validation.js';

export const IS_DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const BETA_IS_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;

export function defaultStorageClass(obj: KubeObject): void {
  if (obj.reclaimPolicy === undefined || obj.reclaimPolicy === null) obj.reclaimPolicy = 'Delete';
  if (obj.volumeBindingMode === undefined || obj.volumeBindingMode === null) obj.volumeBindingMode = 'Immediate';
}

function validateTopologies(v: unknown): FieldError[] {
  const errs: FieldError[] = [];
  const seen: Record<string, string[]>[] = [];
  arr(v).forEach((t0, i) => {
    const exprs: Record<string, string[]> = {};
    arr(rec(t0).matchLabelExpressions).forEach((e0, j) => {
      const e = rec(e0);
      const p = `allowedTopologies[${i}].matchLabelExpressions[${j}]`;
      const key = str(e.key);
      for (const m of isQualifiedName(key)) errs.push(invalid(`${p}.key`, key, m));
      const values = arr(e.values).map(str);
      if (values.length === 0) errs.push(required(`${p}.values`, 'must specify as least one value'));
      const vs = new Set<string>();
      values.forEach((val, k) => {
        for (const m of isValidLabelValue(val)) errs.push(invalid(`${p}.values[${k}]`, val, m));
        if (vs.has(val)) errs.push(duplicate(`${p}.values[${k}]`, val));
        vs.add(val);
      });
      if (key in exprs) errs.push(duplicate(`${p}.key`, key));
      exprs[key] = [...vs].sort();
    });
    if (seen.some((s) => deepEqual(s, exprs))) errs.push(duplicate(`allowedTopologies[${i}].matchLabelExpressions`, ''));
    seen.push(exprs);
  });
  return errs;
}

export function validateStorageClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = str(obj.provisioner);
  if (provisioner.length === 0) errs.push(required('provisioner', ''));
  else for (const m of isQualifiedName(provisioner.toLowerCase())) errs.push(invalid('provisioner', provisioner.toLowerCase(), m));
  const params = isRecord(obj.parameters) ? obj.parameters : {};
  const keys = Object.keys(params);
  if (keys.length > MAX_PARAMETERS) errs.push({ type: 'FieldValueTooLong', field: 'parameters', detail: `must have at most ${MAX_PARAMETERS} bytes` });
  else {
    let size = 0;
    for (const k of keys) {
      if (k.length < 1) errs.push(invalid('parameters', k, 'field can not be empty.'));
      size += k.length + str(params[k]).length;
    }
    if (size > MAX_PARAMETERS_SIZE) errs.push({ type: 'FieldValueTooLong', field: 'parameters', detail: `must have at most ${MAX_PARAMETERS_SIZE} bytes` });
  }
  const rp = str(obj.reclaimPolicy);
  if (rp.length > 0 && rp !== 'Delete' && rp !== 'Retain') errs.push(notSupported('reclaimPolicy', rp, ['Delete', 'Retain']));
  if (obj.volumeBindingMode === undefined || obj.volumeBindingMode === null) errs.push(required('volumeBindingMode', ''));
  else if (!['Immediate', 'WaitForFirstConsumer'].includes(str(obj.volumeBindingMode)))
    errs.push(notSupported('volumeBindingMode', str(obj.volumeBindingMode), ['Immediate', 'WaitForFirstConsumer']));
  errs.push(...validateTopologies(obj.allowedTopologies));
  return errs;
}

export function validateStorageClassUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!deepEqual(obj.parameters, old.parameters)) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (str(obj.provisioner) !== str(old.provisioner)) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (str(obj.reclaimPolicy) !== str(old.reclaimPolicy)) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...immutable(obj.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}

/** storageutil.IsDefaultAnnotation. */
export const isDefaultStorageClass = (obj: KubeObject): boolean =>
  obj.metadata.annotations?.[IS_DEFAULT_CLASS_ANNOTATION] === 'true' || obj.metadata.annotations?.[BETA_IS_DEFAULT_CLASS_ANNOTATION] === 'true';

export const storageClassKind: KindDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  namespaced: false,
  shortNames: ['sc'],
  defaults: defaultStorageClass,
  validate: validateStorageClass,
  validateUpdate: validateStorageClassUpdate,
  table: {
    columns: [
      nameColumn(),
      col('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
      col('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.'),
      col('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.'),
      col('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
      ageColumn(),
    ],
    cells(obj, now) {
      const name = (obj.metadata.name ?? '') + (isDefaultStorageClass(obj) ? ' (default)' : '');
      return [name, str(obj.provisioner), str(obj.reclaimPolicy) || 'Delete', str(obj.volumeBindingMode) || 'Immediate', obj.allowVolumeExpansion === true, ageOf(obj, now)];
    },
  },
};
