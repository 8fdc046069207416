// Small validators shared by the named-group kinds, with upstream's wording: non-negative fields, immutable
// fields, int-or-percent values, path-segment names, and safe accessors for untyped JSON objects.

import { invalid, required, type FieldError } from '../../errors.js';
import type { KubeObject, ObjectMeta } from '../../types.js';
import { isDNS1123Subdomain, validateObjectMeta, validateObjectMetaUpdate, type NameValidator } from '../../validation/names.js';
import { goIntOrString, type GoValue } from './gofmt.js';

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The object at `o[k]`, created (and stored) when missing or not an object. */
export function ensureRecord(o: Record<string, unknown>, k: string): Record<string, unknown> {
  const v = o[k];
  if (isRecord(v)) return v;
  const fresh: Record<string, unknown> = {};
  o[k] = fresh;
  return fresh;
}

/** Read-only view of `o[k]` as an object ({} when absent). */
export const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const isSet = (v: unknown): boolean => v !== undefined && v !== null;

export const IS_NEGATIVE = 'must be greater than or equal to 0';

/** ValidateNonnegativeField. Values that are not numbers are reported as invalid (JSON type confusion). */
export function nonNegative(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(path, v, 'must be an integer')];
  return v < 0 ? [invalid(path, v, IS_NEGATIVE)] : [];
}

/** apiequality.Semantic.DeepEqual over JSON values (absent ≡ null). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

export const FIELD_IMMUTABLE = 'field is immutable';

/** ValidateImmutableField; `shown` is the bad value as upstream renders it (defaults to the new value). */
export function immutable(newVal: unknown, oldVal: unknown, path: string, shown: unknown = newVal): FieldError[] {
  return deepEqual(newVal, oldVal) ? [] : [invalid(path, shown ?? null, FIELD_IMMUTABLE)];
}

/** Go's RegexError text. */
export function regexError(msg: string, regex: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${regex}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${regex}')`;
}

/** path.IsValidPathSegmentName (RBAC names, HPA scale target refs). */
export function isValidPathSegmentName(name: string): string[] {
  for (const bad of ['.', '..']) if (name === bad) return [`may not be '${bad}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** ValidateObjectMeta for a whole object (the generic store runs it; exported for tests and tools). */
export function validateMeta(obj: KubeObject, namespaced: boolean, nameFn?: NameValidator): FieldError[] {
  return validateObjectMeta((isRecord(obj.metadata) ? obj.metadata : {}) as ObjectMeta, namespaced, nameFn);
}

/** ValidateObjectMetaUpdate for a whole object (the generic store runs it). */
export function validateMetaUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return validateObjectMetaUpdate((obj.metadata ?? {}) as ObjectMeta, (old.metadata ?? {}) as ObjectMeta);
}

/**
 * A kind whose names are stricter than the DNS subdomain the generic store checks (StatefulSet: DNS label):
 * the extra errors, reported only when the store's check passes so nothing is said twice.
 */
export function stricterNameErrors(obj: KubeObject, nameFn: NameValidator): FieldError[] {
  const name = obj.metadata?.name;
  if (!name || isDNS1123Subdomain(name).length > 0) return [];
  return nameFn(name).map((m) => invalid('metadata.name', name, m));
}

// ---- intstr.IntOrString (apps validation helpers, also used by policy) ----

const PERCENT_RE = /^[0-9]+%$/;

/** validation.IsValidPercent. */
export function isValidPercent(s: string): string[] {
  return PERCENT_RE.test(s) ? [] : [regexError("a valid percent string must be a numeric string followed by an ending '%'", '[0-9]+%', '1%', '93%')];
}

function percentValue(v: unknown): number | undefined {
  if (typeof v !== 'string' || !PERCENT_RE.test(v)) return undefined;
  return parseInt(v.slice(0, -1), 10);
}

/** getIntOrPercentValue: the percent number, else IntValue() (Atoi of a string, 0 on failure). */
export function intOrPercentValue(v: unknown): number {
  const p = percentValue(v);
  if (p !== undefined) return p;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v)) return parseInt(v, 10);
  return 0;
}

const shownIntStr = (v: unknown): GoValue => goIntOrString(v);

/** ValidatePositiveIntOrPercent. */
export function validatePositiveIntOrPercent(v: unknown, path: string): FieldError[] {
  if (typeof v === 'string') return isValidPercent(v).map((m) => invalid(path, shownIntStr(v), m));
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? [] : [invalid(path, v, IS_NEGATIVE)];
  if (v === undefined || v === null) return [];
  return [invalid(path, v, "must be an integer or percentage (e.g '5%%')")];
}

/** IsNotMoreThan100Percent. */
export function isNotMoreThan100Percent(v: unknown, path: string): FieldError[] {
  const p = percentValue(v);
  return p === undefined || p <= 100 ? [] : [invalid(path, shownIntStr(v), 'must not be greater than 100%')];
}

/** Shallow string map check used where upstream types are map[string]string. */
export function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** A JSON deep copy (objects handed to conversions must not alias the stored object). */
export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

// ---- list sizes, lengths and domain-prefixed paths ----

/** field.TooMany. */
export const tooMany = (field: string, actual: number, max: number): FieldError => ({ type: 'FieldValueTooMany', field, detail: `${actual}: must have at most ${max} items` });
/** field.TooLongMaxLength. */
export const tooLongMax = (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `may not be longer than ${max}` });

const HTTP_PATH_RE = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/** validation.IsDomainPrefixedPath. */
export function isDomainPrefixedPath(path: string, v: string): FieldError[] {
  if (v.length === 0) return [required(path, '')];
  const i = v.indexOf('/');
  if (i <= 0 || i === v.length - 1) return [invalid(path, v, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const host = v.slice(0, i);
  const rest = v.slice(i + 1);
  const errs = isDNS1123Subdomain(host).map((m) => invalid(path, host, m));
  if (!HTTP_PATH_RE.test(rest)) errs.push(invalid(path, rest, regexError('Invalid path', "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+")));
  return errs;
}

