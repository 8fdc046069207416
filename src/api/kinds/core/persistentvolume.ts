// core/v1 PersistentVolume strategy (pkg/registry/core/persistentvolume): Retain / Filesystem defaults, Pending
// phase with lastPhaseTransitionTime on create, spec validation, immutable volume source, Table.

import type { FieldError } from '../../errors.js';
import { formatQuantity, quantityValue, signQuantity } from '../../quantity.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { FIELD_IMMUTABLE, NOT_POSITIVE, arr, defaultResourceList, deepEqual, ensureObj, forbidden, invalid, notSupported, obj, quantityAt, required, str, subdomain1123, type Obj } from './common.js';
import { accessModesString, specDiff, validateAccessModes } from './persistentvolumeclaim.js';
import { validateNodeSelector } from './podspec.js';

const RECLAIM = ['Delete', 'Recycle', 'Retain'];
const PV_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'flocker',
  'nfs',
  'rbd',
  'quobyte',
  'cephfs',
  'iscsi',
  'cinder',
  'fc',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'scaleIO',
  'local',
  'storageos',
  'csi',
];

const nowRFC3339 = (): string => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function validatePVSource(spec: Obj, nodeAffinity: boolean): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const kind of PV_SOURCES) {
    const v = obj(spec[kind]);
    if (!v) continue;
    if (n > 0 && kind !== 'flexVolume') {
      errs.push(forbidden(`spec.${kind}`, 'may not specify more than 1 volume type'));
      continue;
    }
    n++;
    const p = `spec.${kind}`;
    switch (kind) {
      case 'hostPath':
        if (!str(v.path)) errs.push(required(`${p}.path`));
        else if (str(v.path).split('/').includes('..')) errs.push(invalid(`${p}.path`, str(v.path), "must not contain '..'"));
        break;
      case 'nfs':
        if (!str(v.server)) errs.push(required(`${p}.server`));
        if (!str(v.path)) errs.push(required(`${p}.path`));
        if (!str(v.path).startsWith('/')) errs.push(invalid(`${p}.path`, str(v.path), 'must be an absolute path'));
        break;
      case 'local':
        if (!str(v.path)) errs.push(required(`${p}.path`));
        if (!nodeAffinity) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
        break;
      case 'csi':
        if (!str(v.driver)) errs.push(required(`${p}.driver`));
        else errs.push(...subdomain1123(str(v.driver).toLowerCase(), `${p}.driver`));
        if (!str(v.volumeHandle)) errs.push(required(`${p}.volumeHandle`));
        break;
    }
  }
  if (n === 0) errs.push(required('spec', 'must specify a volume type'));
  return errs;
}

function validatePV(o: KubeObject): FieldError[] {
  const spec = obj(o.spec) ?? {};
  const errs: FieldError[] = [];
  if (arr(spec.accessModes).length === 0) errs.push(required('spec.accessModes'));
  errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes'));
  const cap = obj(spec.capacity) ?? {};
  if (Object.keys(cap).length === 0) errs.push(required('spec.capacity'));
  if (!('storage' in cap) || Object.keys(cap).length > 1) errs.push(notSupported('spec.capacity', cap, ['storage']));
  for (const [k, v] of Object.entries(cap)) {
    const p = `spec.capacity[${k}]`;
    const { q, err } = quantityAt(v, p);
    if (err) errs.push(err);
    else if (q && signQuantity(q) <= 0) {
      if (signQuantity(q) < 0) errs.push(invalid(p, quantityValue(q), 'must be a valid resource quantity'));
      errs.push(invalid(p, formatQuantity(q), NOT_POSITIVE));
    }
  }
  const rp = str(spec.persistentVolumeReclaimPolicy);
  if (rp && !RECLAIM.includes(rp)) errs.push(notSupported('spec.persistentVolumeReclaimPolicy', rp, RECLAIM));
  const na = obj(spec.nodeAffinity);
  if (na) {
    if (na.required) errs.push(...validateNodeSelector(na.required, 'spec.nodeAffinity.required'));
    else errs.push(required('spec.nodeAffinity.required', 'must specify required node constraints'));
  }
  errs.push(...validatePVSource(spec, !!na));
  const hp = obj(spec.hostPath);
  if (hp && str(hp.path).replace(/\/+$/, '') === '' && rp === 'Recycle')
    errs.push(forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
  if (str(spec.storageClassName)) errs.push(...subdomain1123(str(spec.storageClassName), 'spec.storageClassName'));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !['Block', 'Filesystem'].includes(str(spec.volumeMode)))
    errs.push(notSupported('spec.volumeMode', spec.volumeMode, ['Block', 'Filesystem']));
  return errs;
}

const sourceOf = (spec: Obj): Obj => Object.fromEntries(PV_SOURCES.filter((k) => spec[k] !== undefined).map((k) => [k, spec[k]]));

function validatePVUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const spec = obj(o.spec) ?? {};
  const oldSpec = obj(old.spec) ?? {};
  const errs: FieldError[] = [];
  const a = sourceOf(spec);
  const b = sourceOf(oldSpec);
  // A CSI controllerExpandSecretRef may be added later.
  const csiA = obj(a.csi);
  const csiB = obj(b.csi);
  if (csiA && csiB && !csiB.controllerExpandSecretRef && csiA.controllerExpandSecretRef) {
    a.csi = { ...csiA };
    delete (a.csi as Obj).controllerExpandSecretRef;
  }
  if (!deepEqual(a, b)) errs.push(forbidden('spec.persistentvolumesource', `spec.persistentvolumesource is immutable after creation\n${specDiff(b, a)}`));
  if (!deepEqual(spec.volumeMode, oldSpec.volumeMode)) errs.push(invalid('volumeMode', spec.volumeMode ?? null, FIELD_IMMUTABLE));
  if (oldSpec.nodeAffinity !== undefined && oldSpec.nodeAffinity !== null && !deepEqual(spec.nodeAffinity, oldSpec.nodeAffinity))
    errs.push(invalid('nodeAffinity', spec.nodeAffinity ?? null, `${FIELD_IMMUTABLE}, except for updating from beta label to GA`));
  return errs;
}

export const persistentVolumes: KindDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  namespaced: false,
  shortNames: ['pv'],
  status: true,
  defaults(o) {
    const spec = ensureObj(o, 'spec');
    if (!str(spec.persistentVolumeReclaimPolicy)) spec.persistentVolumeReclaimPolicy = 'Retain';
    if (spec.volumeMode === undefined || spec.volumeMode === null) spec.volumeMode = 'Filesystem';
    defaultResourceList(spec.capacity);
    const hp = obj(spec.hostPath);
    if (hp && (hp.type === undefined || hp.type === null)) hp.type = '';
    const status = obj(o.status);
    if (status && !str(status.phase)) status.phase = 'Pending';
  },
  prepareForCreate(o) {
    o.status = { phase: 'Pending', lastPhaseTransitionTime: nowRFC3339() };
  },
  validate: validatePV,
  validateUpdate: validatePVUpdate,
  table: {
    columns: [
      nameColumn(),
      col('Capacity', 'string', "capacity is the description of the persistent volume's resources and capacity."),
      col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
      col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
      col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
      col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
      col('StorageClass', 'string', 'StorageClass of the pv'),
      col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
      col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
      ageColumn(),
      col('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', 1),
    ],
    cells(o, now) {
      const spec = obj(o.spec) ?? {};
      const status = obj(o.status) ?? {};
      const ref = obj(spec.claimRef);
      const storage = obj(spec.capacity)?.storage;
      const size = storage === undefined ? '0' : (quantityAt(storage, '').q ? formatQuantity(quantityAt(storage, '').q!) : String(storage));
      return [
        o.metadata.name,
        size,
        accessModesString(spec.accessModes),
        str(spec.persistentVolumeReclaimPolicy),
        o.metadata.deletionTimestamp ? 'Terminating' : str(status.phase),
        ref ? `${str(ref.namespace)}/${str(ref.name)}` : '',
        o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? str(spec.storageClassName),
        str(spec.volumeAttributesClassName) || '<unset>',
        str(status.reason),
        ageOf(o, now),
        str(spec.volumeMode) || '<unset>',
      ];
    },
  },
  fieldLabels: (o) => ({ name: o.metadata.name ?? '' }),
};
