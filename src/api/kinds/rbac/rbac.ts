// rbac.authorization.k8s.io/v1 strategies: Role, ClusterRole, RoleBinding, ClusterRoleBinding — defaults
// (roleRef/subject apiGroup), validation (rbac/validation: rules, roleRef, subjects) and their tables.
// Roles have no upstream printer, so they use the default table (Name, Created At).

import { invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { isDNS1123Subdomain } from '../../validation/names.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef, TableDef } from '../types.js';
import { goValue } from '../meta/gofmt.js';
import { labelSelectorAsSelector, validateLabelSelector, SelectorError } from '../meta/labelselector.js';
import { arr, deepEqual, ensureRecord, isRecord, isValidPathSegmentName, rec, str } from '../meta/validation.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** ValidateRBACName: RBAC names are path segments (e.g. "system:controller:job-controller"). */
export const validateRBACName = isValidPathSegmentName;

/** ValidatePolicyRule. */
export function validatePolicyRule(rule0: unknown, namespaced: boolean, path: string): FieldError[] {
  const rule = rec(rule0);
  const errs: FieldError[] = [];
  if (arr(rule.verbs).length === 0) errs.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = arr(rule.nonResourceURLs);
  if (urls.length > 0) {
    const shown = goValue(`[]string{${urls.map((u) => JSON.stringify(String(u))).join(', ')}}`);
    if (namespaced) errs.push(invalid(`${path}.nonResourceURLs`, shown, 'namespaced rules cannot apply to non-resource URLs'));
    if (arr(rule.apiGroups).length > 0 || arr(rule.resources).length > 0 || arr(rule.resourceNames).length > 0)
      errs.push(invalid(`${path}.nonResourceURLs`, shown, 'rules cannot apply to both regular resources and non-resource URLs'));
    return errs;
  }
  if (arr(rule.apiGroups).length === 0) errs.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (arr(rule.resources).length === 0) errs.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(obj: KubeObject, namespaced: boolean): FieldError[] {
  return arr(obj.rules).flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
}

function validateAggregationRule(obj: KubeObject): FieldError[] {
  if (!isRecord(obj.aggregationRule)) return [];
  const selectors = arr(obj.aggregationRule.clusterRoleSelectors);
  const errs: FieldError[] = [];
  if (selectors.length === 0) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
  selectors.forEach((s, i) => {
    const p = `aggregationRule.clusterRoleSelectors[${i}]`;
    errs.push(...validateLabelSelector(s, p));
    try {
      labelSelectorAsSelector(s);
    } catch (e) {
      if (!(e instanceof SelectorError)) throw e;
      errs.push(invalid(p, goValue('labels.internalSelector(nil)'), 'invalid label selector.'));
    }
  });
  return errs;
}

/** ValidateRoleBindingSubject. */
export function validateSubject(s0: unknown, namespaced: boolean, path: string): FieldError[] {
  const s = rec(s0);
  const errs: FieldError[] = [];
  const name = str(s.name);
  if (name.length === 0) errs.push(required(`${path}.name`, ''));
  const apiGroup = str(s.apiGroup);
  switch (s.kind) {
    case 'ServiceAccount':
      if (name.length > 0) for (const m of isDNS1123Subdomain(name)) errs.push(invalid(`${path}.name`, name, m));
      if (apiGroup.length > 0) errs.push(notSupported(`${path}.apiGroup`, apiGroup, ['']));
      if (!namespaced && str(s.namespace).length === 0) errs.push(required(`${path}.namespace`, ''));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) errs.push(notSupported(`${path}.apiGroup`, apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(`${path}.kind`, str(s.kind), ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(obj: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = rec(obj.roleRef);
  if (str(ref.apiGroup) !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', str(ref.apiGroup), [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(str(ref.kind))) errs.push(notSupported('roleRef.kind', str(ref.kind), kinds));
  const name = str(ref.name);
  if (name.length === 0) errs.push(required('roleRef.name', ''));
  else for (const m of validateRBACName(name)) errs.push(invalid('roleRef.name', name, m));
  arr(obj.subjects).forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

function validateBindingUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  if (deepEqual(obj.roleRef, old.roleRef)) return [];
  const r = rec(obj.roleRef);
  return [invalid('roleRef', goValue(`rbac.RoleRef{APIGroup:${JSON.stringify(str(r.apiGroup))}, Kind:${JSON.stringify(str(r.kind))}, Name:${JSON.stringify(str(r.name))}}`), 'cannot change roleRef')];
}

/** SetDefaults_RoleBinding / ClusterRoleBinding / Subject. */
export function defaultBinding(obj: KubeObject): void {
  const ref = ensureRecord(obj, 'roleRef');
  if (!ref.apiGroup) ref.apiGroup = RBAC_GROUP;
  for (const s of arr(obj.subjects)) {
    if (!isRecord(s) || s.apiGroup) continue;
    if (s.kind === 'ServiceAccount') s.apiGroup = '';
    else if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
  }
}

/** rbac.SubjectsStrings: users, groups and "namespace/name" service accounts. */
export function subjectsStrings(subjects: unknown): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s0 of arr(subjects)) {
    const s = rec(s0);
    if (s.kind === 'ServiceAccount') sas.push(`${str(s.namespace)}/${str(s.name)}`);
    else if (s.kind === 'User') users.push(str(s.name));
    else if (s.kind === 'Group') groups.push(str(s.name));
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

/** The default table convertor (no upstream printer): Name and "Created At" as an RFC 3339 UTC time. */
export const createdAtTable: TableDef = {
  columns: [
    nameColumn(),
    col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata'),
  ],
  cells(obj) {
    const ts = obj.metadata.creationTimestamp;
    const t = ts ? Date.parse(ts) : NaN;
    return [obj.metadata.name ?? '', Number.isNaN(t) ? '0001-01-01T00:00:00Z' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')];
  },
};

const bindingTable = (what: string): TableDef => ({
  columns: [
    nameColumn(),
    col('Role', 'string', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.'),
    ageColumn(),
    col('Users', 'string', `Users in the ${what}`, 1),
    col('Groups', 'string', `Groups in the ${what}`, 1),
    col('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, 1),
  ],
  cells(obj, now) {
    const ref = rec(obj.roleRef);
    return [obj.metadata.name ?? '', `${str(ref.kind)}/${str(ref.name)}`, ageOf(obj, now), ...subjectsStrings(obj.subjects)];
  },
});

const base = { group: RBAC_GROUP, version: 'v1', nameValidator: validateRBACName } as const;

export const roleKind: KindDef = {
  ...base,
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  namespaced: true,
  validate: (obj) => validateRules(obj, true),
  table: createdAtTable,
};

export const clusterRoleKind: KindDef = {
  ...base,
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  validate: (obj) => [...validateRules(obj, false), ...validateAggregationRule(obj)],
  table: createdAtTable,
};

export const roleBindingKind: KindDef = {
  ...base,
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, true),
  validateUpdate: validateBindingUpdate,
  table: bindingTable('roleBinding'),
};

export const clusterRoleBindingKind: KindDef = {
  ...base,
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, false),
  validateUpdate: validateBindingUpdate,
  table: bindingTable('clusterRoleBinding'),
};
