// core/v1 ResourceQuota strategy (pkg/registry/core/resourcequota): resource names and quantities, scopes and
// scope selectors, immutable scopes, status reset on create, and the Table (REQUEST / LIMIT "used/hard" lists).

import type { FieldError } from '../../errors.js';
import { formatQuantity } from '../../quantity.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { FIELD_IMMUTABLE, arr, defaultResourceList, ensureObj, invalid, obj, objs, quantityAt, required, str, validateResourceName, validateResourceQuantity, type Obj } from './common.js';

const QUOTA_RESOURCES = new Set([
  'pods',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'requests.storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'services',
  'services.loadbalancers',
  'services.nodeports',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'replicationcontrollers',
  'resourcequotas',
]);
const SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];
const POD_SCOPE_RESOURCES = new Set(['pods', 'cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'ephemeral-storage', 'requests.ephemeral-storage', 'limits.ephemeral-storage']);

function validateQuotaResourceName(n: string, path: string): FieldError[] {
  const errs = validateResourceName(n, path);
  if (!n.includes('/') && !QUOTA_RESOURCES.has(n) && !n.startsWith('requests.hugepages-')) errs.push(invalid(path, n, 'must be a standard resource for quota'));
  return errs;
}

function validateResourceList(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(obj(list) ?? {})) {
    const p = `${path}[${k}]`;
    errs.push(...validateQuotaResourceName(k, p));
    const { q, err } = quantityAt(v, p);
    if (err) errs.push(err);
    if (q) errs.push(...validateResourceQuantity(k, q, p));
  }
  return errs;
}

function scopeValidFor(scope: string, resource: string): boolean {
  if (scope === 'BestEffort') return resource === 'pods';
  if (['Terminating', 'NotTerminating', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'].includes(scope)) return POD_SCOPE_RESOURCES.has(resource);
  if (scope === 'VolumeAttributesClass') return resource === 'persistentvolumeclaims' || resource === 'requests.storage';
  return false;
}

function validateSpec(spec: Obj): FieldError[] {
  const errs = validateResourceList(spec.hard, 'spec.hard');
  const hard = Object.keys(obj(spec.hard) ?? {}).sort();
  const scopes = arr(spec.scopes).map(str);
  const conflict = (set: Set<string>): boolean =>
    (set.has('BestEffort') && set.has('NotBestEffort')) || (set.has('Terminating') && set.has('NotTerminating'));
  if (scopes.length > 0) {
    for (const sc of scopes) {
      if (!SCOPES.includes(sc)) errs.push(invalid('spec.scopes', scopes, 'unsupported scope'));
      for (const r of hard) if (QUOTA_RESOURCES.has(r) && !scopeValidFor(sc, r)) errs.push(invalid('spec.scopes', scopes, 'unsupported scope applied to resource'));
    }
    if (conflict(new Set(scopes))) errs.push(invalid('spec.scopes', scopes, 'conflicting scopes'));
  }
  const sel = obj(spec.scopeSelector);
  if (sel) {
    const p = 'spec.scopeSelector.matchExpressions';
    const seen = new Set<string>();
    for (const r of objs(sel.matchExpressions)) {
      const sn = str(r.scopeName);
      if (!SCOPES.includes(sn)) errs.push(invalid(`${p}.scopeName`, sn, 'unsupported scope'));
      for (const h of hard) if (QUOTA_RESOURCES.has(h) && !scopeValidFor(sn, h)) errs.push(invalid(p, sel, 'unsupported scope applied to resource'));
      if (['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity'].includes(sn) && r.operator !== 'Exists')
        errs.push(
          invalid(
            `${p}.operator`,
            str(r.operator),
            "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
          ),
        );
      const vals = arr(r.values);
      switch (r.operator) {
        case 'In':
        case 'NotIn':
          if (vals.length === 0) errs.push(required(`${p}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
          break;
        case 'Exists':
        case 'DoesNotExist':
          if (vals.length !== 0) errs.push(invalid(`${p}.values`, vals, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
          break;
        default:
          errs.push(invalid(`${p}.operator`, str(r.operator), 'not a valid selector operator'));
      }
      seen.add(sn);
    }
    if (conflict(seen)) errs.push(invalid(p, scopes, 'conflicting scopes'));
  }
  return errs;
}

/** printResourceQuota: name, age, then "resource: used/hard" pairs (limits.* in the last column), sorted by name. */
export function quotaCells(o: KubeObject, now: number): unknown[] {
  const status = obj(o.status) ?? {};
  const hard = obj(status.hard) ?? {};
  const used = obj(status.used) ?? {};
  const fmt = (v: unknown): string => {
    if (v === undefined) return '0';
    const { q } = quantityAt(v, '');
    return q ? formatQuantity(q) : String(v);
  };
  const req: string[] = [];
  const lim: string[] = [];
  for (const r of Object.keys(hard).sort()) {
    const pieces = r.split('.');
    (pieces.length > 1 && pieces[0] === 'limits' ? lim : req).push(`${r}: ${fmt(used[r])}/${fmt(hard[r])}`);
  }
  return [o.metadata.name, ageOf(o, now), req.join(', '), lim.join(', ')];
}

export const resourceQuotas: KindDef = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  namespaced: true,
  shortNames: ['quota'],
  status: true,
  defaults(o) {
    const spec = ensureObj(o, 'spec');
    defaultResourceList(spec.hard);
    const status = obj(o.status);
    if (status) {
      defaultResourceList(status.hard);
      defaultResourceList(status.used);
    }
  },
  prepareForCreate(o) {
    o.status = {};
  },
  validate(o) {
    const status = obj(o.status) ?? {};
    return [...validateSpec(obj(o.spec) ?? {}), ...validateResourceList(status.hard, 'status.hard'), ...validateResourceList(status.used, 'status.used')];
  },
  validateUpdate(o, old) {
    const a = new Set(arr(obj(o.spec)?.scopes).map(str));
    const b = new Set(arr(obj(old.spec)?.scopes).map(str));
    if (a.size !== b.size || [...a].some((s) => !b.has(s))) return [invalid('spec.scopes', arr(obj(o.spec)?.scopes), FIELD_IMMUTABLE)];
    return [];
  },
  validateStatusUpdate(o) {
    const status = obj(o.status) ?? {};
    const errs: FieldError[] = [];
    if (!o.metadata.resourceVersion) errs.push(required('resourceVersion'));
    return [...errs, ...validateResourceList(status.hard, 'status.hard'), ...validateResourceList(status.used, 'status.used')];
  },
  table: {
    // Upstream 1.32 printers.go: Name, Age, Request, Limit.
    columns: [
      nameColumn(),
      ageColumn(),
      col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ],
    cells: quotaCells,
  },
};
