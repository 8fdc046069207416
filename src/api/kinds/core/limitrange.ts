// core/v1 LimitRange strategy (pkg/registry/core/limitrange): container item defaults (default ← max,
// defaultRequest ← default ← min), min/max/default consistency checks, and the default Table (Name, Created At)
// because upstream has no printer for LimitRange.

import type { FieldError } from '../../errors.js';
import { compareQuantity, formatQuantity, newQuantity, quantityMilliValue, quantityToNumber, type Quantity } from '../../quantity.js';
import type { KubeObject } from '../../types.js';
import { col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import {
  defaultResourceList,
  duplicate,
  forbidden,
  invalid,
  isOvercommitAllowed,
  obj,
  objs,
  qualifiedName,
  quantityAt,
  required,
  str,
  validateContainerResourceName,
  validateResourceName,
  type Obj,
} from './common.js';

const LIST_KEYS = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const;

function defaults(o: KubeObject): void {
  for (const item of objs(obj(o.spec)?.limits)) {
    for (const k of LIST_KEYS) defaultResourceList(item[k]);
    if (item.type !== 'Container') continue;
    const def = (obj(item.default) ?? (item.default = {})) as Obj;
    const defReq = (obj(item.defaultRequest) ?? (item.defaultRequest = {})) as Obj;
    for (const [k, v] of Object.entries(obj(item.max) ?? {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
    for (const [k, v] of Object.entries(obj(item.min) ?? {})) if (!(k in defReq)) defReq[k] = v;
  }
}

function validateLimitRange(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const types = new Set<string>();
  objs(obj(o.spec)?.limits).forEach((item, i) => {
    const p = `spec.limits[${i}]`;
    const type = str(item.type);
    const te = qualifiedName(type, `${p}.type`);
    errs.push(...te);
    if (!te.length && !type.includes('/') && !['Pod', 'Container', 'PersistentVolumeClaim'].includes(type))
      errs.push(invalid(`${p}.type`, type, 'must be a standard limit type or fully qualified'));
    if (types.has(type)) errs.push(duplicate(`${p}.type`, type));
    types.add(type);
    const nameFn = type === 'Pod' || type === 'Container' ? validateContainerResourceName : validateResourceName;
    const lists: Record<string, Map<string, Quantity>> = {};
    const keys = new Set<string>();
    for (const k of LIST_KEYS) {
      lists[k] = new Map();
      if (type === 'Pod' && (k === 'default' || k === 'defaultRequest')) {
        if (Object.keys(obj(item[k]) ?? {}).length > 0) errs.push(forbidden(`${p}.${k}`, "may not be specified when `type` is 'Pod'"));
        continue;
      }
      for (const [name, v] of Object.entries(obj(item[k]) ?? {})) {
        const fp = `${p}.${k}[${name}]`;
        errs.push(...nameFn(name, fp));
        keys.add(name);
        const { q, err } = quantityAt(v, fp);
        if (err) errs.push(err);
        if (q) lists[k].set(name, q);
      }
    }
    if (type === 'PersistentVolumeClaim' && !lists.min.has('storage') && !lists.max.has('storage'))
      errs.push(required(`${p}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    const s = formatQuantity;
    for (const k of keys) {
      const min = lists.min.get(k);
      const max = lists.max.get(k);
      const def = lists.default.get(k);
      const defReq = lists.defaultRequest.get(k);
      const ratio = lists.maxLimitRequestRatio.get(k);
      if (min && max && compareQuantity(min, max) > 0) errs.push(invalid(`${p}.min[${k}]`, s(min), `min value ${s(min)} is greater than max value ${s(max)}`));
      if (defReq && min && compareQuantity(min, defReq) > 0)
        errs.push(invalid(`${p}.defaultRequest[${k}]`, s(defReq), `min value ${s(min)} is greater than default request value ${s(defReq)}`));
      if (defReq && max && compareQuantity(defReq, max) > 0)
        errs.push(invalid(`${p}.defaultRequest[${k}]`, s(defReq), `default request value ${s(defReq)} is greater than max value ${s(max)}`));
      if (defReq && def && compareQuantity(defReq, def) > 0)
        errs.push(invalid(`${p}.defaultRequest[${k}]`, s(defReq), `default request value ${s(defReq)} is greater than default limit value ${s(def)}`));
      if (def && min && compareQuantity(min, def) > 0) errs.push(invalid(`${p}.default[${k}]`, s(min), `min value ${s(min)} is greater than default value ${s(def)}`));
      if (def && max && compareQuantity(def, max) > 0) errs.push(invalid(`${p}.default[${k}]`, s(max), `default value ${s(def)} is greater than max value ${s(max)}`));
      if (ratio && compareQuantity(ratio, newQuantity(1)) < 0) errs.push(invalid(`${p}.maxLimitRequestRatio[${k}]`, s(ratio), `ratio ${s(ratio)} is less than 1`));
      if (ratio && min && max) {
        const limit = quantityMilliValue(max) / quantityMilliValue(min);
        if (quantityToNumber(ratio) > limit) errs.push(invalid(`${p}.maxLimitRequestRatio[${k}]`, s(ratio), `ratio ${s(ratio)} is greater than max/min = ${limit.toFixed(6)}`));
      }
      if (!isOvercommitAllowed(k) && def && defReq && compareQuantity(def, defReq) !== 0)
        errs.push(invalid(`${p}.defaultRequest[${k}]`, s(defReq), `default value ${s(def)} must equal to defaultRequest value ${s(defReq)} in ${k}`));
    }
  });
  return errs;
}

export const limitRanges: KindDef = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  namespaced: true,
  shortNames: ['limits'],
  defaults,
  validate: validateLimitRange,
  table: {
    // No printer upstream: the default table convertor's Name / Created At (a date cell, RFC 3339).
    columns: [nameColumn(), col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? null],
  },
};
