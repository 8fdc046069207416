// Server-side apply: merge an applied configuration into the live object with field ownership, as upstream's
// structured-merge-diff Updater.Apply wrapped in apimachinery's field manager chain (strip meta, timestamps,
// capped Update entries, kubectl's last-applied upgrade rules).

import { ApiError, badRequest } from '../errors.js';
import type { SchemaNode } from '../schema/types.js';
import type { KubeObject, StatusCause } from '../types.js';
import { FieldSet, fieldPE, goJSON, pathString, type PathElement } from './fieldset.js';
import {
  STRIP_SET,
  capUpdateManagers,
  decodeManaged,
  encodeManaged,
  formatTime,
  makeKey,
  managerId,
  printManager,
  type Managed,
  type ManagedEntry,
  type ManagerKey,
} from './managers.js';
import { ConfigError, compare, deepEqual, ensureNamedFieldsAreMembers, excludeFields, merge, removeItems, toFieldSet, type Node } from './typed.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Upstream's TotalAnnotationSizeLimitB. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export interface ApplyInput {
  /** The stored object, or undefined when the apply creates it. */
  live: KubeObject | undefined;
  /** The apply patch body (parsed YAML/JSON). Not modified. */
  applied: Record<string, unknown>;
  /** ?fieldManager (required for apply; the caller rejects a missing one with 422). */
  manager: string;
  /** ?force=true: take ownership of conflicting fields instead of failing. */
  force: boolean;
  /** Resolved schema of the kind; undefined = no schema (objects granular, lists atomic). */
  schema: SchemaNode | undefined;
  now: Date | string;
  /** group/version served by the endpoint, e.g. "apps/v1" or "v1". */
  apiVersion: string;
  /** Kind served by the endpoint; when given, the body's apiVersion/kind must match (400 otherwise). */
  kind?: string;
  subresource?: string;
  /**
   * Fields the strategy resets and nobody owns through this endpoint (upstream's GetResetFields), as field-name
   * paths. Default: `[["status"]]` on the main resource, none on a subresource.
   */
  ignored?: readonly (readonly string[])[];
  /** 'throw' (default): an ApplyConflictError (409). 'return': give the conflicts back with the live object. */
  onConflict?: 'throw' | 'return';
}

export interface Conflict {
  /** The other manager's name. */
  manager: string;
  /** Set when the other manager's entry is an Update (conflict messages then say "using <apiVersion>"). */
  apiVersion?: string;
  subresource?: string;
  /** Path as upstream prints it, e.g. `.spec.replicas`. */
  field: string;
  /** `conflict with "X" using apps/v1` (the cause message). */
  message: string;
}

export interface ApplyResult {
  /** The object to store (managedFields encoded), or the live object unchanged. */
  object: KubeObject;
  /** False when the result equals the live object: nothing to write, resourceVersion stays. */
  changed: boolean;
  /** Only with onConflict 'return'. */
  conflicts?: Conflict[];
}

/** 409 Conflict with upstream's message and FieldManagerConflict causes. */
export class ApplyConflictError extends ApiError {
  constructor(readonly conflicts: Conflict[]) {
    super(409, 'Conflict', conflictMessage(conflicts), { causes: conflicts.map((c): StatusCause => ({ reason: 'FieldManagerConflict', message: c.message, field: c.field })) });
  }
}

interface RawConflict {
  id: string;
  key: ManagerKey;
  path: PathElement[];
}

class Conflicts extends Error {
  constructor(readonly list: RawConflict[]) {
    super('conflicts');
  }
}

/** Upstream's getConflictMessage. */
export function conflictMessage(conflicts: readonly Conflict[]): string {
  const who = (c: Conflict): string => c.message.replace(/^conflict with /, '');
  if (conflicts.length === 1) return `Apply failed with 1 conflict: ${conflicts[0]!.message}: ${conflicts[0]!.field}`;
  const byManager = new Map<string, Conflict[]>();
  for (const c of conflicts) {
    const k = who(c);
    const l = byManager.get(k);
    if (l) l.push(c);
    else byManager.set(k, [c]);
  }
  const lines: string[] = [];
  for (const [m, cs] of byManager) {
    lines.push(`conflicts with ${m}:`);
    for (const c of cs) lines.push(`- ${c.field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

function toConflicts(raw: RawConflict[]): Conflict[] {
  // Managers in identifier order (upstream sorts them for the message), paths in set order within each.
  const sorted = [...raw].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted.map((r) => {
    const c: Conflict = { manager: r.key.manager, field: pathString(r.path), message: `conflict with ${printManager(r.key)}` };
    if (r.key.operation === 'Update' && r.key.apiVersion) c.apiVersion = r.key.apiVersion;
    if (r.key.subresource) c.subresource = r.key.subresource;
    return c;
  });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `apps/v1, Kind=Deployment` / `/v1, Kind=Pod`, as Go prints a GroupVersionKind. */
function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  const slash = av.indexOf('/');
  const group = slash < 0 ? '' : av.slice(0, slash);
  const version = slash < 0 ? av : av.slice(slash + 1);
  return `${group}/${version}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

export function ignoredSet(paths: readonly (readonly string[])[] | undefined, subresource: string | undefined): FieldSet {
  const list = paths ?? (subresource ? [] : [['status']]);
  return FieldSet.of(...list.map((p) => p.map(fieldPE)));
}

function withoutManagedFields(o: KubeObject | undefined): KubeObject {
  if (!o) return { metadata: {} } as KubeObject;
  const c = structuredClone(o);
  if (isObj(c.metadata)) delete c.metadata.managedFields;
  return c;
}

/** Fields the server owns (strip set) always come from the live object: an applied `null` must not unset them. */
function restoreServerFields(obj: Record<string, unknown>, live: Record<string, unknown>): void {
  for (const k of ['apiVersion', 'kind']) if (obj[k] === undefined && live[k] !== undefined) obj[k] = live[k];
  const lm = live.metadata;
  if (!isObj(lm)) return;
  if (!isObj(obj.metadata)) obj.metadata = {};
  const om = obj.metadata as Record<string, unknown>;
  for (const k of ['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'generation', 'resourceVersion']) {
    if (om[k] === undefined && lm[k] !== undefined) om[k] = lm[k];
  }
}

/** Upstream's prune: drop what `manager` applied last time, no longer applies, and nobody else owns. */
function prune(merged: unknown, managers: Managed, lastSet: FieldSet | undefined, schema: Node): unknown {
  if (!lastSet || lastSet.empty()) return merged;
  const named = (s: FieldSet): FieldSet => ensureNamedFieldsAreMembers(s, schema);
  const last = named(lastSet);
  const pruned1 = removeItems(merged, last, schema);
  let owned = new FieldSet();
  for (const e of managers.values()) owned = owned.union(e.set);
  const mergedSet = named(toFieldSet(merged, schema));
  const unowned = mergedSet.difference(named(toFieldSet(pruned1, schema)).union(named(owned)));
  const pruned2 = removeItems(merged, unowned, schema);
  const dangling = mergedSet.difference(named(toFieldSet(pruned2, schema))).intersection(last);
  return removeItems(merged, dangling, schema);
}

interface SmdResult {
  object: Record<string, unknown>;
  managed: Managed;
}

/** structured-merge-diff's Updater.Apply (throws Conflicts). */
function smdApply(
  liveObj: Record<string, unknown>,
  config: Record<string, unknown>,
  configSet: FieldSet,
  managed: Managed,
  key: ManagerKey,
  apiVersion: string,
  schema: Node,
  ignored: FieldSet,
  force: boolean,
): SmdResult {
  const id = managerId(key);
  const managers: Managed = new Map(managed);
  let merged = (merge(liveObj, config, schema) ?? {}) as Record<string, unknown>;
  const last = managers.get(id);
  const entry: ManagedEntry = { key, apiVersion, set: configSet.recursiveDifference(ignored) };
  if (last?.time) entry.time = last.time;
  managers.set(id, entry);
  merged = (prune(merged, managers, last?.set, schema) ?? {}) as Record<string, unknown>;
  restoreServerFields(merged, liveObj);

  const cmp = excludeFields(compare(liveObj, merged, schema), ignored);
  const changedOrAdded = cmp.modified.union(cmp.added);
  const conflicts: RawConflict[] = [];
  const takeAway = new Map<string, FieldSet>();
  for (const [mid, e] of managers) {
    if (mid === id) continue;
    const c = e.set.intersection(changedOrAdded);
    if (!c.empty()) {
      for (const p of c.paths()) conflicts.push({ id: mid, key: e.key, path: p });
      takeAway.set(mid, c);
    }
  }
  if (!force && conflicts.length) throw new Conflicts(conflicts);
  for (const [mid, e] of [...managers]) {
    if (mid === id) continue;
    let s = e.set;
    const c = takeAway.get(mid);
    if (c) s = s.difference(c);
    if (!cmp.removed.empty()) s = s.difference(cmp.removed);
    if (s.empty()) managers.delete(mid);
    else if (s !== e.set) managers.set(mid, { ...e, set: s });
  }
  if (managers.get(id)?.set.empty()) managers.delete(id);
  return { object: merged, managed: managers };
}

/** Fields of kubectl's client-side last-applied configuration whose live values still match it. */
function allowedFromLastApplied(liveObj: Record<string, unknown>, schema: Node, apiVersion: string): FieldSet | undefined {
  const md = liveObj.metadata;
  const ann = isObj(md) && isObj(md.annotations) ? md.annotations[LAST_APPLIED_ANNOTATION] : undefined;
  if (typeof ann !== 'string' || ann === '') return undefined;
  let la: unknown;
  try {
    la = JSON.parse(ann);
  } catch {
    return undefined;
  }
  if (!isObj(la) || la.apiVersion !== apiVersion) return undefined;
  let set: FieldSet;
  try {
    set = toFieldSet(la, schema, true);
  } catch {
    return undefined;
  }
  const c = compare(la, liveObj, schema);
  return set.difference(c.modified).difference(c.added).difference(c.removed);
}

/** kubectl's last-applied annotation as upstream writes it: sorted-key JSON of the applied config, newline-ended. */
function buildLastApplied(applied: Record<string, unknown>): string {
  const c = structuredClone(applied);
  if (isObj(c.metadata) && isObj(c.metadata.annotations)) delete c.metadata.annotations[LAST_APPLIED_ANNOTATION];
  return goJSON(c) + '\n';
}

function annotationsSize(a: Record<string, unknown>): number {
  let n = 0;
  for (const [k, v] of Object.entries(a)) n += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(typeof v === 'string' ? v : '', 'utf8');
  return n;
}

/**
 * Server-side apply. Returns the object to store with metadata.managedFields updated, and whether it differs
 * from the live object. Applying the same configuration again returns the live object unchanged (managedFields
 * times included). Throws ApiError: 400 for a body that cannot be applied, 409 (ApplyConflictError) for conflicts.
 */
export function applyServerSide(input: ApplyInput): ApplyResult {
  const { live, applied, manager, schema, apiVersion, subresource } = input;
  if (!isObj(applied)) throw badRequest('error decoding YAML: the apply configuration must be an object');
  if (input.kind !== undefined && (applied.apiVersion !== apiVersion || applied.kind !== input.kind))
    throw badRequest(`invalid object type: ${gvkString(applied.apiVersion, applied.kind)}`);
  const am = applied.metadata;
  if (isObj(am) && am.managedFields !== undefined && am.managedFields !== null) throw badRequest('metadata.managedFields must be nil');

  let configSet: FieldSet;
  try {
    configSet = toFieldSet(applied, schema, true);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const ns = isObj(am) && typeof am.namespace === 'string' ? am.namespace : '';
    const name = isObj(am) && typeof am.name === 'string' ? am.name : '';
    throw badRequest(`failed to create typed patch object (${ns}/${name}; ${gvkString(applied.apiVersion, applied.kind)}): ${e.message}`);
  }

  let managed: Managed;
  try {
    managed = decodeManaged(live?.metadata?.managedFields);
  } catch {
    managed = new Map(); // stored garbage: ownership restarts, as when upstream drops undecodable managedFields
  }
  const liveObj = withoutManagedFields(live) as Record<string, unknown>;
  const key = makeKey(manager, 'Apply', apiVersion, subresource);
  const id = managerId(key);
  const ignored = ignoredSet(input.ignored, subresource);
  const run = (force: boolean): SmdResult => smdApply(liveObj, applied, configSet, managed, key, apiVersion, schema, ignored, force);

  let result: SmdResult;
  try {
    result = run(input.force);
  } catch (e) {
    if (!(e instanceof Conflicts)) throw e;
    let remaining = e.list;
    // kubectl moving from client-side to server-side apply: fields whose live value still equals the
    // last-applied annotation are not conflicts (upstream's lastAppliedManager).
    if (manager === 'kubectl') {
      const allowed = allowedFromLastApplied(liveObj, schema, apiVersion);
      if (allowed) remaining = remaining.filter((c) => !allowed.has(c.path));
    }
    if (remaining.length) {
      const conflicts = toConflicts(remaining);
      if (input.onConflict === 'return') return { object: live ?? (liveObj as KubeObject), changed: false, conflicts };
      throw new ApplyConflictError(conflicts);
    }
    result = run(true);
  }

  const managers = result.managed;
  let object = result.object;
  const objectChanged = live === undefined || !deepEqual(object, liveObj);
  const own = managers.get(id);
  if (own) {
    const stripped = own.set.difference(STRIP_SET);
    if (stripped.empty()) managers.delete(id);
    else managers.set(id, { ...own, set: stripped, ...(objectChanged ? { time: formatTime(input.now) } : {}) });
  }
  if (!objectChanged) object = liveObj;
  capUpdateManagers(managers);

  object = structuredClone(object);
  if (manager === 'kubectl') {
    const md = object.metadata;
    const anns = isObj(md) && isObj(md.annotations) ? md.annotations : undefined;
    if (anns && typeof anns[LAST_APPLIED_ANNOTATION] === 'string' && anns[LAST_APPLIED_ANNOTATION] !== '') {
      anns[LAST_APPLIED_ANNOTATION] = buildLastApplied(applied);
      if (annotationsSize(anns) > TOTAL_ANNOTATION_SIZE_LIMIT) delete anns[LAST_APPLIED_ANNOTATION];
    }
  }
  if (!isObj(object.metadata)) object.metadata = {};
  const encoded = encodeManaged(managers);
  const meta = object.metadata as Record<string, unknown>;
  if (encoded) meta.managedFields = encoded;
  else delete meta.managedFields;

  const out = object as KubeObject;
  const changed = live === undefined || !deepEqual(out, live);
  return { object: out, changed };
}
