// metadata.managedFields ⇄ decoded ownership (one FieldSet per manager identity), the way upstream's
// apimachinery managedfields/internal decodes, caps, strips, sorts and encodes it; plus the entry validation of
// ValidateManagedFields and the fieldManager checks of the request options.

import { forbidden, invalid, required, tooLong, type FieldError } from '../errors.js';
import type { ManagedFieldsEntry } from '../types.js';
import { FieldSet, goJSONString, makePath } from './fieldset.js';

export type Operation = 'Apply' | 'Update';

/** Who owns a set: the manager name plus what makes its entry distinct (apiVersion only for Update). */
export interface ManagerKey {
  manager: string;
  operation: Operation;
  /** Set for Update entries only: appliers keep one entry whatever version they applied with. */
  apiVersion?: string;
  subresource?: string;
}

export interface ManagedEntry {
  key: ManagerKey;
  /** Version the set was recorded with. */
  apiVersion: string;
  set: FieldSet;
  /** RFC 3339, seconds, UTC; absent when upstream would have none. */
  time?: string;
}

/** Decoded managedFields, keyed by manager identifier (see managerId). */
export type Managed = Map<string, ManagedEntry>;

/** Upstream's manager identifier: the JSON of {manager, operation, apiVersion (Update only), subresource}. */
export function managerId(k: ManagerKey): string {
  let s = '{';
  const parts: string[] = [];
  if (k.manager) parts.push(`"manager":${goJSONString(k.manager)}`);
  parts.push(`"operation":${goJSONString(k.operation)}`);
  if (k.operation === 'Update' && k.apiVersion) parts.push(`"apiVersion":${goJSONString(k.apiVersion)}`);
  if (k.subresource) parts.push(`"subresource":${goJSONString(k.subresource)}`);
  s += parts.join(',') + '}';
  return s;
}

export function makeKey(manager: string, operation: Operation, apiVersion: string, subresource?: string): ManagerKey {
  const k: ManagerKey = { manager: manager || 'unknown', operation };
  if (operation === 'Update') k.apiVersion = apiVersion;
  if (subresource) k.subresource = subresource;
  return k;
}

/** How a conflict names its manager: `"x"`, `"x" with subresource "status"`, `"x" using apps/v1`. */
export function printManager(k: ManagerKey): string {
  let s = JSON.stringify(k.manager);
  if (k.subresource) s += ` with subresource ${JSON.stringify(k.subresource)}`;
  if (k.operation === 'Update') s += ` using ${k.apiVersion ?? ''}`;
  return s;
}

/** Format a time as metav1.Time does on the wire: RFC 3339, UTC, whole seconds. */
export function formatTime(t: Date | string): string {
  const d = typeof t === 'string' ? new Date(t) : t;
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new Error(`invalid time ${String(t)}`);
  const sec = Math.floor(ms / 1000);
  if (sec === lastSecond) return lastFormatted;
  lastSecond = sec;
  lastFormatted = d.toISOString().replace(/\.\d+Z$/, 'Z');
  return lastFormatted;
}
// The last second formatted: writes come in bursts within one second, so most calls are a comparison.
let lastSecond = NaN;
let lastFormatted = '';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Decode managedFields (upstream's DecodeManagedFields). Throws on anything upstream would not decode; callers
 * fall back as upstream does. A later entry with the same identity replaces an earlier one.
 */
export function decodeManaged(entries: unknown): Managed {
  const out: Managed = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new Error(`managed fields entry ${i} is not an object`);
    const m = e as Record<string, unknown>;
    const str = (k: string): string => {
      const v = m[k];
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string') throw new Error(`managed fields entry ${i}: ${k} must be a string`);
      return v;
    };
    const operation = str('operation');
    if (operation !== 'Apply' && operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    const apiVersion = str('apiVersion');
    if (apiVersion === '') throw new Error('apiVersion must not be empty');
    const fieldsType = str('fieldsType');
    if (fieldsType === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}`);
    let time: string | undefined;
    const t = str('time');
    if (t !== '') {
      if (!RFC3339.test(t)) throw new Error(`managed fields entry ${i}: invalid time ${JSON.stringify(t)}`);
      time = formatTime(t);
    }
    const set = FieldSet.fromFieldsV1(m.fieldsV1);
    const key: ManagerKey = { manager: str('manager'), operation };
    if (operation === 'Update') key.apiVersion = apiVersion;
    const sub = str('subresource');
    if (sub) key.subresource = sub;
    const entry: ManagedEntry = { key, apiVersion, set };
    if (time !== undefined) entry.time = time;
    out.set(managerId(key), entry);
  });
  return out;
}

/** True when the client asks to reset managedFields: `[]` or `[{}]` (upstream's isResetManagedFields). */
export function isResetManagedFields(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  if (entries.length !== 1) return false;
  const e = entries[0] as unknown;
  return typeof e === 'object' && e !== null && !Array.isArray(e) && Object.values(e).every((v) => v === undefined);
}

const unix = (t: string | undefined): number => (t ? Math.floor(Date.parse(t) / 1000) : 0);
const byteCompare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Encode in upstream's order (Apply before Update, then time, manager, apiVersion, subresource); undefined when empty. */
export function encodeManaged(managed: Managed): ManagedFieldsEntry[] | undefined {
  const entries: ManagedFieldsEntry[] = [];
  for (const e of managed.values()) {
    if (e.set.empty()) continue;
    const out: ManagedFieldsEntry = {};
    if (e.key.manager) out.manager = e.key.manager;
    out.operation = e.key.operation;
    if (e.apiVersion) out.apiVersion = e.apiVersion;
    if (e.time) out.time = e.time;
    out.fieldsType = 'FieldsV1';
    out.fieldsV1 = e.set.toFieldsV1();
    if (e.key.subresource) out.subresource = e.key.subresource;
    entries.push(out);
  }
  if (entries.length === 0) return undefined;
  entries.sort(
    (p, q) =>
      byteCompare(p.operation!, q.operation!) ||
      unix(p.time) - unix(q.time) ||
      byteCompare(p.manager ?? '', q.manager ?? '') ||
      byteCompare(p.apiVersion ?? '', q.apiVersion ?? '') ||
      byteCompare(p.subresource ?? '', q.subresource ?? ''),
  );
  return entries;
}

/** Fields that never belong to anyone (upstream's stripMetaManager). */
export const STRIP_SET: FieldSet = FieldSet.of(
  makePath('apiVersion'),
  makePath('kind'),
  makePath('metadata'),
  makePath('metadata', 'name'),
  makePath('metadata', 'namespace'),
  makePath('metadata', 'creationTimestamp'),
  makePath('metadata', 'selfLink'),
  makePath('metadata', 'uid'),
  makePath('metadata', 'clusterName'),
  makePath('metadata', 'generation'),
  makePath('metadata', 'managedFields'),
  makePath('metadata', 'resourceVersion'),
);

/** Maximum Update entries before the oldest are merged into "ancient-changes" buckets. */
export const MAX_UPDATE_MANAGERS = 10;
const OLD_UPDATES_MANAGER = 'ancient-changes';

/** Upstream's capManagersManager: merge the oldest Update entries per apiVersion until at most `max` remain. */
export function capUpdateManagers(managed: Managed, max = MAX_UPDATE_MANAGERS): void {
  const updaters = [...managed.keys()].filter((id) => managed.get(id)!.key.operation === 'Update');
  if (updaters.length <= max) return;
  updaters.sort((a, b) => unix(managed.get(a)!.time) - unix(managed.get(b)!.time) || byteCompare(a, b));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i]!;
    const e = managed.get(id)!;
    const version = e.apiVersion;
    const bucketKey: ManagerKey = { manager: OLD_UPDATES_MANAGER, operation: 'Update', apiVersion: version };
    const bucket = managerId(bucketKey);
    const first = firstOfVersion.get(version);
    if (first === undefined) {
      firstOfVersion.set(version, id);
      continue;
    }
    if (!managed.has(bucket)) {
      const f = managed.get(first)!;
      managed.delete(first);
      managed.set(bucket, { key: bucketKey, apiVersion: version, set: f.set, ...(f.time ? { time: f.time } : {}) });
    }
    const b = managed.get(bucket)!;
    const merged: ManagedEntry = { key: bucketKey, apiVersion: version, set: e.set.union(b.set) };
    if (e.time) merged.time = e.time;
    managed.set(bucket, merged);
    managed.delete(id);
    length--;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

/** Longest fieldManager / managedFields[].manager (bytes). */
export const FIELD_MANAGER_MAX_LENGTH = 128;
const MAX_SUBRESOURCE_NAME_LENGTH = 256;

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Upstream's ValidateFieldManager: at most 128 bytes, printable characters only. */
export function validateFieldManager(name: string, field = 'fieldManager'): FieldError[] {
  const errs: FieldError[] = [];
  if (Buffer.byteLength(name, 'utf8') > FIELD_MANAGER_MAX_LENGTH) errs.push(tooLong(field, FIELD_MANAGER_MAX_LENGTH));
  let pos = 0;
  for (const ch of name) {
    if (!PRINTABLE.test(ch)) {
      const cp = ch.codePointAt(0)!;
      errs.push(invalid(field, name, `invalid character U+${cp.toString(16).toUpperCase().padStart(4, '0')} (at position ${pos})`));
    }
    pos += Buffer.byteLength(ch, 'utf8');
  }
  return errs;
}

/** The 422 cause for an apply patch without fieldManager: `fieldManager: Required value: is required for apply patch`. */
export function fieldManagerRequired(): FieldError {
  return required('fieldManager', 'is required for apply patch');
}

/**
 * Upstream's ValidatePatchOptions (fieldManager and force parts): report them with
 * `invalidError('meta.k8s.io', 'PatchOptions', '', errs)`, i.e.
 * `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`.
 */
export function validatePatchOptions(o: { fieldManager?: string; force?: boolean | undefined; apply: boolean }): FieldError[] {
  const errs: FieldError[] = [];
  if (!o.apply) {
    if (o.force !== undefined) errs.push(forbidden('force', 'may not be specified for non-apply patch'));
  } else if (!o.fieldManager) {
    errs.push(fieldManagerRequired());
  }
  errs.push(...validateFieldManager(o.fieldManager ?? ''));
  return errs;
}

const typeError = (field: string, value: unknown, expected: string): FieldError => ({ type: 'FieldValueTypeInvalid', field, value, detail: `expected ${expected}` });

/**
 * Check metadata.managedFields of an object before it is stored: the shape a client may send (a list of entry
 * objects with string fields, an RFC 3339 time, an object fieldsV1) and upstream's ValidateManagedFields rules
 * (operation, fieldsType, manager, subresource). A valid list written by another client (kubectl's
 * client-side-apply migration replaces it with a JSON patch) passes.
 */
export function validateManagedFields(obj: { metadata?: unknown } | undefined): FieldError[] {
  const md = obj?.metadata;
  if (typeof md !== 'object' || md === null) return [];
  const list = (md as Record<string, unknown>).managedFields;
  const base = 'metadata.managedFields';
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return [typeError(base, typeof list === 'object' ? '<object>' : list, 'array')];
  const errs: FieldError[] = [];
  list.forEach((e, i) => {
    const p = `${base}[${i}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      errs.push(typeError(p, Array.isArray(e) ? '<array>' : e, 'object'));
      return;
    }
    const m = e as Record<string, unknown>;
    for (const k of ['manager', 'operation', 'apiVersion', 'fieldsType', 'subresource', 'time']) {
      const v = m[k];
      if (v !== undefined && v !== null && typeof v !== 'string') errs.push(typeError(`${p}.${k}`, typeof v === 'object' ? '<object>' : v, 'string'));
    }
    if (typeof m.time === 'string' && !RFC3339.test(m.time)) errs.push(invalid(`${p}.time`, m.time, 'must be an RFC 3339 date-time'));
    if (m.fieldsV1 !== undefined && m.fieldsV1 !== null && (typeof m.fieldsV1 !== 'object' || Array.isArray(m.fieldsV1)))
      errs.push(typeError(`${p}.fieldsV1`, typeof m.fieldsV1 === 'object' ? '<array>' : m.fieldsV1, 'object'));
    const op = typeof m.operation === 'string' ? m.operation : '';
    if (op !== 'Apply' && op !== 'Update') errs.push(invalid(`${p}.operation`, op, 'must be `Apply` or `Update`'));
    if (typeof m.fieldsType === 'string' && m.fieldsType !== '' && m.fieldsType !== 'FieldsV1') errs.push(invalid(`${p}.fieldsType`, m.fieldsType, 'must be `FieldsV1`'));
    if (typeof m.manager === 'string') errs.push(...validateFieldManager(m.manager, `${p}.manager`));
    if (typeof m.subresource === 'string' && Buffer.byteLength(m.subresource, 'utf8') > MAX_SUBRESOURCE_NAME_LENGTH) errs.push(tooLong(`${p}.subresource`, MAX_SUBRESOURCE_NAME_LENGTH));
  });
  return errs;
}

/**
 * Upstream's default manager name for writes without ?fieldManager: the User-Agent up to its first `/`, without
 * unprintable characters, cut at 128 bytes (`kubectl/v1.32.4 (linux/amd64) …` → `kubectl`); "unknown" when empty.
 */
export function managerFromUserAgent(ua: string | undefined): string {
  const head = (ua ?? '').split('/')[0]!;
  let out = '';
  let bytes = 0;
  for (const ch of head) {
    if (!PRINTABLE.test(ch)) continue;
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += n;
  }
  return out || 'unknown';
}

