// Name, label and annotation validation with upstream's exact messages (apimachinery validation + ValidateObjectMeta).

import { invalid, required, type FieldError } from '../errors.js';
import type { ObjectMeta } from '../types.js';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?';

const re = (s: string): RegExp => new RegExp(`^${s}$`);
const dns1123LabelRe = re(DNS1123_LABEL);
const dns1123SubdomainRe = re(DNS1123_SUBDOMAIN);
const dns1035LabelRe = re(DNS1035_LABEL);
const qualifiedNameRe = re(QUALIFIED_NAME);
const labelValueRe = re(LABEL_VALUE);

const maxLen = (n: number): string => `must be no more than ${n} characters`;
const fmt = (msg: string, examples: string[], regex: string): string =>
  `${msg} (e.g. ${examples.map((e) => `'${e}'`).join(',  or ')}, regex used for validation is '${regex}')`;

/** Each returns a list of problem strings (empty = valid), like upstream's IsDNS1123Label etc. */
export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!dns1123LabelRe.test(v))
    errs.push(fmt("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", ['my-name', '123-abc'], DNS1123_LABEL));
  return errs;
}

export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLen(253));
  if (!dns1123SubdomainRe.test(v))
    errs.push(fmt("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", ['example.com'], DNS1123_SUBDOMAIN));
  return errs;
}

export function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!dns1035LabelRe.test(v))
    errs.push(fmt("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", ['my-name', 'abc-123'], DNS1035_LABEL));
  return errs;
}

/** Label keys and annotation keys: optional DNS subdomain prefix + '/' + name part. */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0];
  else if (parts.length === 2) {
    const [prefix, n] = parts;
    name = n;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(prefix).map((e) => `prefix part ${e}`));
  } else {
    return [fmt("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", ['MyName', 'my.name', '123-abc'], QUALIFIED_NAME) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLen(63)}`);
  if (!qualifiedNameRe.test(name))
    errs.push('name part ' + fmt("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", ['MyName', 'my.name', '123-abc'], QUALIFIED_NAME));
  return errs;
}

export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!labelValueRe.test(v))
    errs.push(fmt("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", ['MyValue', 'my_value', '12345'], LABEL_VALUE));
  return errs;
}

export type NameValidator = (name: string) => string[];

export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  if (typeof labels !== 'object' || Array.isArray(labels)) return [invalid(path, labels, 'must be a map of string keys to string values')];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const m of isQualifiedName(k)) errs.push(invalid(path, k, m));
    if (typeof v !== 'string') errs.push(invalid(`${path}[${k}]`, v, 'must be a string'));
    else for (const m of isValidLabelValue(v)) errs.push(invalid(path, v, m));
  }
  return errs;
}

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (annotations === undefined || annotations === null) return errs;
  if (typeof annotations !== 'object' || Array.isArray(annotations)) return [invalid(path, annotations, 'must be a map of string keys to string values')];
  let total = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, m));
    if (typeof v !== 'string') errs.push(invalid(`${path}[${k}]`, v, 'must be a string'));
    total += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push({ type: 'FieldValueTooLong', field: path, detail: `must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
  return errs;
}

/** Upstream's ValidateObjectMeta (create and update share it). */
export function validateObjectMeta(meta: ObjectMeta, namespaced: boolean, nameFn: NameValidator = isDNS1123Subdomain, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  if (meta.generateName && !meta.name) {
    // generateName is validated as a prefix: trailing '-' allowed.
    const prefix = meta.generateName.replace(/-+$/, '');
    if (prefix) for (const m of nameFn(prefix)) errs.push(invalid(`${path}.generateName`, meta.generateName, m));
  }
  if (!meta.name) {
    errs.push(required(`${path}.name`, 'name or generateName is required'));
  } else {
    for (const m of nameFn(meta.name)) errs.push(invalid(`${path}.name`, meta.name, m));
  }
  if (namespaced) {
    if (!meta.namespace) errs.push(required(`${path}.namespace`));
    else for (const m of isDNS1123Label(meta.namespace)) errs.push(invalid(`${path}.namespace`, meta.namespace, m));
  } else if (meta.namespace) {
    errs.push({ type: 'FieldValueForbidden', field: `${path}.namespace`, detail: 'not allowed on this type' });
  }
  if (meta.generation !== undefined && meta.generation < 0) errs.push(invalid(`${path}.generation`, meta.generation, 'must be greater than or equal to 0'));
  errs.push(...validateLabels(meta.labels, `${path}.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  if (meta.finalizers !== undefined) {
    if (!Array.isArray(meta.finalizers)) errs.push(invalid(`${path}.finalizers`, meta.finalizers, 'must be a list of strings'));
    else
      meta.finalizers.forEach((f, i) => {
        if (typeof f !== 'string') errs.push(invalid(`${path}.finalizers[${i}]`, f, 'must be a string'));
        else for (const m of isQualifiedName(f)) errs.push(invalid(`${path}.finalizers`, f, m));
      });
  }
  if (meta.ownerReferences !== undefined) {
    if (!Array.isArray(meta.ownerReferences)) errs.push(invalid(`${path}.ownerReferences`, meta.ownerReferences, 'must be a list'));
    else {
      let controllers = 0;
      meta.ownerReferences.forEach((r, i) => {
        const p = `${path}.ownerReferences[${i}]`;
        if (!r || typeof r !== 'object') return errs.push(invalid(p, r, 'must be an object'));
        if (!r.apiVersion) errs.push(invalid(`${p}.apiVersion`, r.apiVersion ?? '', 'version must not be empty'));
        if (!r.kind) errs.push(invalid(`${p}.kind`, r.kind ?? '', 'kind must not be empty'));
        if (!r.name) errs.push(invalid(`${p}.name`, r.name ?? '', 'name must not be empty'));
        if (!r.uid) errs.push(invalid(`${p}.uid`, r.uid ?? '', 'uid must not be empty'));
        if (r.controller) controllers++;
      });
      if (controllers > 1) errs.push(invalid(`${path}.ownerReferences`, meta.ownerReferences, 'Only one reference can have Controller set to true'));
    }
  }
  return errs;
}

/** Upstream's ValidateObjectMetaUpdate: immutable name/namespace/uid/creationTimestamp. */
export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const imm = (f: keyof ObjectMeta) => {
    if ((meta[f] ?? '') !== (old[f] ?? '')) errs.push(invalid(`${path}.${f}`, meta[f] ?? '', 'field is immutable'));
  };
  imm('name');
  imm('namespace');
  imm('uid');
  imm('creationTimestamp');
  return errs;
}
