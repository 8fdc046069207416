// core/v1 Secret strategy (pkg/registry/core/secret): type Opaque, stringData folded into data (as the v1
// conversion does), base64 data, key format, 1 MiB limit, type-specific required keys, immutability, Table.

import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { FIELD_IMMUTABLE, MAX_DATA_SIZE, decodeBase64Strict, deepEqual, forbidden, invalid, isConfigMapKey, obj, required, str, tooLongErr } from './common.js';

const TYPE_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
};

function defaults(o: KubeObject): void {
  if (!str(o.type)) o.type = 'Opaque';
  const sd = obj(o.stringData);
  if (sd) {
    const data = obj(o.data) ?? {};
    for (const [k, v] of Object.entries(sd)) if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
    o.data = data;
    delete o.stringData;
  }
  const data = obj(o.data);
  if (data)
    for (const [k, v] of Object.entries(data)) {
      const dec = decodeBase64Strict(v);
      if (typeof dec !== 'string') data[k] = dec.toString('base64');
    }
}

function validateSecret(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = obj(o.data) ?? {};
  const bytes = new Map<string, Buffer>();
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`data[${k}]`, k, m));
    const dec = decodeBase64Strict(v);
    if (typeof dec === 'string') errs.push(invalid(`data[${k}]`, '<secret contents redacted>', dec));
    else {
      bytes.set(k, dec);
      total += dec.length;
    }
  }
  if (total > MAX_DATA_SIZE) errs.push(tooLongErr('data', MAX_DATA_SIZE));
  const type = str(o.type);
  switch (type) {
    case 'kubernetes.io/service-account-token':
      if (!o.metadata.annotations?.['kubernetes.io/service-account.name']) errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = TYPE_KEYS[type][0];
      const b = bytes.get(key);
      if (!(key in data)) {
        errs.push(required(`data[${key}]`));
        break;
      }
      if (b) {
        try {
          const parsed: unknown = JSON.parse(b.toString('utf8'));
          if (!obj(parsed)) throw new Error('json: cannot unmarshal into Go value of type map[string]interface {}');
        } catch (e) {
          errs.push(invalid(`data[${key}]`, '<secret contents redacted>', (e as Error).message));
        }
      }
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!('username' in data) && !('password' in data)) errs.push(required('data[username]'), required('data[password]'));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!(bytes.get('ssh-privatekey')?.length)) errs.push(required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      if (!('tls.crt' in data)) errs.push(required('data[tls.crt]'));
      if (!('tls.key' in data)) errs.push(required('data[tls.key]'));
      break;
  }
  return errs;
}

function validateSecretUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (str(o.type) !== str(old.type)) errs.push(invalid('type', str(o.type), FIELD_IMMUTABLE));
  if (old.immutable === true) {
    if (o.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!deepEqual(o.data ?? null, old.data ?? null)) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
  }
  return errs;
}

export const secrets: KindDef = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  defaults,
  validate: validateSecret,
  validateUpdate: validateSecretUpdate,
  table: {
    columns: [
      nameColumn(),
      col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
      col('Data', 'string', 'Data contains the secret data.'),
      ageColumn(),
    ],
    cells: (o, now) => [o.metadata.name, str(o.type), Object.keys(obj(o.data) ?? {}).length, ageOf(o, now)],
  },
  fieldLabels: (o) => ({ type: str(o.type) }),
};
