// core/v1 ConfigMap strategy (pkg/registry/core/configmap): key format, 1 MiB total size, `immutable` rules, Table.

import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { MAX_DATA_SIZE, decodeBase64Strict, deepEqual, forbidden, invalid, isConfigMapKey, obj, tooLongErr } from './common.js';

function validateConfigMap(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = obj(o.data) ?? {};
  const binary = obj(o.binaryData) ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`data[${k}]`, k, m));
    if (k in binary) errs.push(invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
    if (typeof v !== 'string') errs.push(invalid(`data[${k}]`, v, 'must be a string'));
    else total += Buffer.byteLength(v, 'utf8');
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`binaryData[${k}]`, k, m));
    const dec = decodeBase64Strict(v);
    if (typeof dec === 'string') errs.push(invalid(`binaryData[${k}]`, '<binary data>', dec));
    else total += dec.length;
  }
  if (total > MAX_DATA_SIZE) errs.push(tooLongErr('', MAX_DATA_SIZE));
  return errs;
}

function validateConfigMapUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (o.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  if (!deepEqual(o.data ?? null, old.data ?? null)) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
  if (!deepEqual(o.binaryData ?? null, old.binaryData ?? null)) errs.push(forbidden('binaryData', 'field is immutable when `immutable` is set'));
  return errs;
}

export const configMaps: KindDef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  validate: validateConfigMap,
  validateUpdate: validateConfigMapUpdate,
  table: {
    columns: [nameColumn(), col('Data', 'string', 'Data contains the configuration data.'), ageColumn()],
    cells: (o, now) => [o.metadata.name, Object.keys(obj(o.data) ?? {}).length + Object.keys(obj(o.binaryData) ?? {}).length, ageOf(o, now)],
  },
};
