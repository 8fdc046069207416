// core/v1 PersistentVolumeClaim strategy (pkg/registry/core/persistentvolumeclaim) and the PVC spec helpers
// also used by generic ephemeral volumes in pod specs.

import type { FieldError } from '../../errors.js';
import { compareQuantity, formatQuantity, signQuantity } from '../../quantity.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import {
  arr,
  defaultResourceList,
  deepEqual,
  forbidden,
  invalid,
  notSupported,
  obj,
  quantityAt,
  required,
  str,
  subdomain1123,
  validateLabelSelector,
  validateResourceQuantity,
  FIELD_IMMUTABLE,
  NOT_POSITIVE,
  type Obj,
} from './common.js';

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** SetDefaults_PersistentVolumeClaimSpec (+ ResourceList canonicalization). */
export function defaultPersistentVolumeClaimSpec(spec: Obj): void {
  if (spec.volumeMode === undefined || spec.volumeMode === null) spec.volumeMode = 'Filesystem';
  const res = obj(spec.resources);
  if (res) {
    defaultResourceList(res.requests);
    defaultResourceList(res.limits);
  }
}

export function validateAccessModes(modes: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let rwop = false;
  let other = false;
  for (const m of arr(modes)) {
    if (!ACCESS_MODES.includes(str(m))) errs.push(notSupported(path, m, ACCESS_MODES));
    if (m === 'ReadWriteOncePod') rwop = true;
    else if (ACCESS_MODES.includes(str(m))) other = true;
  }
  if (rwop && other) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function validateDataSource(ds: Obj, path: string, ref: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(ds.name)) errs.push(required(`${path}.name`));
  if (!str(ds.kind)) errs.push(required(`${path}.kind`));
  const group = str(ds.apiGroup);
  if (!group && ds.kind !== 'PersistentVolumeClaim') errs.push(invalid(path, str(ds.kind), "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  if (group) errs.push(...subdomain1123(group, `${path}.apiGroup`));
  if (ref && str(ds.namespace)) errs.push(...subdomain1123(str(ds.namespace), `${path}.namespace`));
  return errs;
}

/** ValidatePersistentVolumeClaimSpec. */
export function validatePersistentVolumeClaimSpec(specIn: unknown, path: string): FieldError[] {
  const spec = obj(specIn) ?? {};
  const errs: FieldError[] = [];
  if (arr(spec.accessModes).length === 0) errs.push(required(`${path}.accessModes`, 'at least 1 access mode is required'));
  errs.push(...validateLabelSelector(spec.selector, `${path}.selector`));
  errs.push(...validateAccessModes(spec.accessModes, `${path}.accessModes`));
  const requests = obj(obj(spec.resources)?.requests) ?? {};
  const storagePath = `${path}.resources[storage]`;
  if (requests.storage === undefined) errs.push(required(storagePath));
  else {
    const { q, err } = quantityAt(requests.storage, storagePath);
    if (err) errs.push(err);
    else if (q && signQuantity(q) <= 0) errs.push(invalid(storagePath, formatQuantity(q), NOT_POSITIVE));
    else if (q) errs.push(...validateResourceQuantity('storage', q, storagePath));
  }
  if (str(spec.storageClassName)) errs.push(...subdomain1123(str(spec.storageClassName), `${path}.storageClassName`));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !VOLUME_MODES.includes(str(spec.volumeMode)))
    errs.push(notSupported(`${path}.volumeMode`, spec.volumeMode, VOLUME_MODES));
  const ds = obj(spec.dataSource);
  const dsr = obj(spec.dataSourceRef);
  if (ds) errs.push(...validateDataSource(ds, `${path}.dataSource`, false));
  if (dsr) errs.push(...validateDataSource(dsr, `${path}.dataSourceRef`, true));
  if (dsr && str(dsr.namespace)) {
    if (ds) errs.push(invalid(path, `${path}.dataSource`, 'may not be specified when dataSourceRef.namespace is specified'));
  } else if (ds && dsr) {
    if (str(ds.apiGroup) !== str(dsr.apiGroup) || str(ds.kind) !== str(dsr.kind) || str(ds.name) !== str(dsr.name))
      errs.push(invalid(path, `${path}.dataSource`, 'must match dataSourceRef'));
  }
  if (str(spec.volumeAttributesClassName)) errs.push(...subdomain1123(str(spec.volumeAttributesClassName), `${path}.volumeAttributesClassName`));
  return errs;
}

/** helper.GetAccessModesAsString: "RWO,ROX,RWX,RWOP" in that fixed order. */
export function accessModesString(modes: unknown): string {
  const m = new Set(arr(modes).map(str));
  const out: string[] = [];
  if (m.has('ReadWriteOnce')) out.push('RWO');
  if (m.has('ReadOnlyMany')) out.push('ROX');
  if (m.has('ReadWriteMany')) out.push('RWX');
  if (m.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

function storageOf(list: unknown): string {
  const v = obj(list)?.storage;
  if (v === undefined) return '0';
  const { q } = quantityAt(v, '');
  return q ? formatQuantity(q) : String(v);
}

function validateUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj(o.spec) ?? {};
  const oldSpec = obj(old.spec) ?? {};
  const newAnn = o.metadata.annotations ?? {};
  const oldAnn = old.metadata.annotations ?? {};
  const a = structuredClone(spec);
  const b = structuredClone(oldSpec);
  // volumeName may be set once (by the binder).
  if (!str(oldSpec.volumeName)) b.volumeName = a.volumeName;
  // storageClassName may move from the beta annotation to the field once.
  const oldSc = oldAnn[BETA_STORAGE_CLASS];
  const upgradeFromAnnotation =
    oldSc !== undefined && (oldSpec.storageClassName === undefined || oldSpec.storageClassName === null) && str(spec.storageClassName) === oldSc &&
    (newAnn[BETA_STORAGE_CLASS] === undefined || newAnn[BETA_STORAGE_CLASS] === oldSc);
  if (upgradeFromAnnotation) delete a.storageClassName;
  else {
    if ((newAnn[BETA_STORAGE_CLASS] ?? '') !== (oldAnn[BETA_STORAGE_CLASS] ?? ''))
      errs.push(invalid(`metadata.annotations.${BETA_STORAGE_CLASS}`, newAnn[BETA_STORAGE_CLASS] ?? '', FIELD_IMMUTABLE));
    const fromNil = spec.storageClassName !== undefined && spec.storageClassName !== null && (oldSpec.storageClassName === undefined || oldSpec.storageClassName === null) &&
      (oldSc === undefined || str(spec.storageClassName) === oldSc);
    if (fromNil) a.storageClassName = b.storageClassName;
  }
  const phase = str(obj(o.status)?.phase);
  const aRes = obj(a.resources);
  if (phase === 'Bound' && aRes && obj(aRes.requests)) {
    const oldStorage = obj(obj(oldSpec.resources)?.requests)?.storage;
    const reqs = obj(aRes.requests)!;
    if (oldStorage === undefined) delete reqs.storage;
    else reqs.storage = oldStorage;
  }
  if (phase === 'Bound' && a.volumeAttributesClassName !== undefined) a.volumeAttributesClassName = b.volumeAttributesClassName;
  if (!deepEqual(a, b)) errs.push(forbidden('spec', `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${specDiff(b, a)}`));
  const newSize = quantityAt(obj(obj(spec.resources)?.requests)?.storage ?? '0', '').q;
  const oldSize = quantityAt(obj(obj(oldSpec.resources)?.requests)?.storage ?? '0', '').q;
  const statusSize = quantityAt(obj(obj(old.status)?.capacity)?.storage ?? '0', '').q;
  if (newSize && oldSize && compareQuantity(newSize, oldSize) < 0) {
    // RecoverVolumeExpansionFailure (beta, on in 1.32): shrinking is allowed down to just above status.capacity.
    if (statusSize && compareQuantity(newSize, statusSize) <= 0) errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  }
  if (!deepEqual(spec.volumeMode, oldSpec.volumeMode)) errs.push(invalid('volumeMode', spec.volumeMode ?? null, FIELD_IMMUTABLE));
  return errs;
}

/** A readable stand-in for upstream's go-cmp diff appended to "spec is immutable" style messages. */
export function specDiff(before: unknown, after: unknown, prefix = ''): string {
  const lines: string[] = [];
  const walk = (a: unknown, b: unknown, p: string): void => {
    if (deepEqual(a, b)) return;
    const ao = obj(a);
    const bo = obj(b);
    if (ao && bo) {
      for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) walk(ao[k], bo[k], p ? `${p}.${k}` : k);
      return;
    }
    if (a !== undefined) lines.push(`- \t${p}: ${JSON.stringify(a)}`);
    if (b !== undefined) lines.push(`+ \t${p}: ${JSON.stringify(b)}`);
  };
  walk(before, after, prefix);
  return lines.join('\n');
}

export const persistentVolumeClaims: KindDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  namespaced: true,
  shortNames: ['pvc'],
  status: true,
  defaults(o) {
    const spec = obj(o.spec) ?? (o.spec = {});
    defaultPersistentVolumeClaimSpec(spec as Obj);
    const status = obj(o.status);
    if (status) {
      if (!str(status.phase)) status.phase = 'Pending';
      defaultResourceList(status.capacity);
      defaultResourceList(status.allocatedResources);
    }
  },
  prepareForCreate(o) {
    o.status = { phase: 'Pending' };
  },
  validate(o) {
    return validatePersistentVolumeClaimSpec(o.spec, 'spec');
  },
  validateUpdate,
  validateStatusUpdate(o) {
    const errs: FieldError[] = [];
    if (arr(obj(o.spec)?.accessModes).length === 0) errs.push(required('Spec.accessModes'));
    for (const [k, v] of Object.entries(obj(obj(o.status)?.capacity) ?? {})) {
      const { q, err } = quantityAt(v, `status.capacity[${k}]`);
      if (err) errs.push(err);
      else if (q && signQuantity(q) < 0) errs.push(invalid(`status.capacity[${k}]`, formatQuantity(q), 'must be a valid resource quantity'));
    }
    return errs;
  },
  table: {
    columns: [
      nameColumn(),
      col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
      col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
      col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
      col('StorageClass', 'string', 'StorageClass of the pvc'),
      col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
      ageColumn(),
      col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.', 1),
    ],
    cells(o, now) {
      const spec = obj(o.spec) ?? {};
      const status = obj(o.status) ?? {};
      const phase = o.metadata.deletionTimestamp ? 'Terminating' : str(status.phase);
      const bound = !!str(spec.volumeName);
      const sc = o.metadata.annotations?.[BETA_STORAGE_CLASS] ?? str(spec.storageClassName);
      return [
        o.metadata.name,
        phase,
        str(spec.volumeName),
        bound ? storageOf(status.capacity) : '',
        bound ? accessModesString(status.accessModes) : '',
        sc,
        str(spec.volumeAttributesClassName) || '<unset>',
        ageOf(o, now),
        str(spec.volumeMode) || '<unset>',
      ];
    },
  },
  fieldLabels: (o) => ({ name: o.metadata.name ?? '' }),
};
