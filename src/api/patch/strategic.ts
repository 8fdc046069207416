// Strategic merge patch (application/strategic-merge-patch+json) as the API server applies it: a port of
// apimachinery's strategicpatch.StrategicMergeMapPatch (MergeParallelList, IgnoreUnmatchedNulls), driven by the kind's
// OpenAPI schema (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`) instead of Go struct tags.
//
// Semantics kept on purpose, because kubectl and users see them:
// * maps merge key by key; `null` deletes; lists with strategy `merge` and a merge key merge element-wise, primitive
//   `merge` lists merge as sets, every other list is replaced; fields unknown to the schema behave like JSON merge patch.
// * directives: `$patch: replace|delete` on maps, `{$patch: delete|replace}` list elements, `$retainKeys`,
//   `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
// * element order follows upstream exactly, including its quirks: without `$setElementOrder`, elements named in the
//   patch come first unless they already sat after a server-only element (a new element is therefore prepended);
//   with it, upstream reads the live list *after* its Go slice was shifted in place by deletions and overwritten by
//   appends, so mergeSlice reproduces that aliasing on the array it is given (see mergeSlice).
// * content the server inserts as-is (a key missing from the live object, a `replace` map or list, a new list element)
//   upstream reaches storage only through typed decoding, which drops directive keys and nulls. We drop them here,
//   so **the result never contains directive keys**.
// Error texts are upstream's. Upstream answers most of them with a 500 (a plain Go error); we answer 400 BadRequest,
// and 422 where upstream does (lists of lists).

import { ApiError, badRequest } from '../errors.js';
import type { SchemaNode } from '../schema/types.js';
import { clone, goFmt, goTypeName, hasOwn, isObject, setKey, type JsonObject } from './value.js';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList';
const SET_ORDER = '$setElementOrder';

export const ERR_BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
export const ERR_BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
export const ERR_BAD_SET_ORDER = 'invalid patch format of setElementOrder list';
const ERR_LIST_OF_LISTS = 'lists of lists are not supported';

/** The body of upstream's NewGenericServerResponse(422): kubectl prints only this, the detail stays in `cause`. */
export const GENERIC_422 = 'the server rejected our request due to an error in our request';

function fail(message: string): never {
  throw badRequest(message);
}

/** 422 exactly as upstream sends it (reason Invalid, empty details); `detail` is kept as the error's cause for logs. */
export function unprocessable(detail: string): never {
  const e = new ApiError(422, 'Invalid', GENERIC_422, {});
  e.cause = detail;
  throw e;
}

const noMergeKey = (m: unknown, key: string) => `map: ${goFmt(m)} does not contain declared merge key: ${key}`;
const badArgType = (expected: string, actual: unknown) => `expected a ${expected}, but received a ${goTypeName(actual)}`;
const badPatchType = (t: unknown, m: unknown) => `unknown patch type: ${goFmt(t)} in map: ${goFmt(m)}`;

// ---------------------------------------------------------------------------------------------------------------
// Schema lookups (LookupPatchMetadataForStruct / ForSlice).

type Strategy = '' | 'merge' | 'replace';

/** The schema of field `k` of an object node: a declared property, else the map value schema, else unknown. */
function fieldOf(schema: SchemaNode | undefined, k: string): SchemaNode | undefined {
  if (!schema) return undefined;
  const props = schema.properties;
  if (props && hasOwn(props, k)) return props[k];
  const ap = schema.additionalProperties;
  return ap && typeof ap === 'object' ? ap : undefined;
}

/** extractRetainKeysPatchStrategy: "retainKeys" only matters as a directive on the server. */
function strategyOf(f: SchemaNode | undefined): Strategy {
  const s = f?.['x-kubernetes-patch-strategy'];
  if (!s) return '';
  for (const part of s.split(',')) {
    const p = part.trim();
    if (p === 'merge' || p === 'replace') return p;
  }
  return '';
}

const mergeKeyOf = (f: SchemaNode | undefined): string => f?.['x-kubernetes-patch-merge-key'] ?? '';

// ---------------------------------------------------------------------------------------------------------------
// Insertion of patch content that has nothing to merge with.

const isDirectiveKey = (k: string) => k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE);

/** A copy of patch content as it would reach storage upstream: directive keys and null map values dropped. */
function cleanValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cleanValue(v[i]);
    return out;
  }
  const out: JsonObject = {};
  for (const k of Object.keys(v)) {
    const x = (v as JsonObject)[k];
    if (x === null || x === undefined || isDirectiveKey(k)) continue;
    setKey(out, k, cleanValue(x));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Maps.

/**
 * Applies a strategic merge patch to a JSON object. `original` is not modified; nothing in the result aliases
 * `patch`. `schema` is the kind's root schema node; undefined (or a field missing from it) means "no strategies":
 * maps merge, lists are replaced.
 */
export function strategicMergePatch(original: JsonObject, patch: JsonObject, schema?: SchemaNode): JsonObject {
  return mergeMap(clone(original), patch, schema);
}

/** mergeMap: merges `patch` into `original` in place (original is ours) and returns the result. */
function mergeMap(original: JsonObject, patch: JsonObject, schema: SchemaNode | undefined): JsonObject {
  if (hasOwn(patch, DIRECTIVE)) {
    const d = patch[DIRECTIVE];
    if (d === 'replace') return cleanValue(patch) as JsonObject;
    if (d === 'delete') return {};
    fail(badPatchType(d, patch));
  }
  if (hasOwn(patch, RETAIN_KEYS)) applyRetainKeys(original, patch);

  let consumed: Set<string> | undefined;
  const keys = Object.keys(patch);
  for (const key of keys) {
    if (!key.startsWith(SET_ORDER)) continue;
    (consumed ??= new Set()).add(key);
    const listKey = mergeWithElementOrder(original, patch, key, schema);
    if (listKey !== undefined) consumed.add(listKey);
  }

  for (const rawKey of keys) {
    if (rawKey === RETAIN_KEYS || consumed?.has(rawKey)) continue;
    let k = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_PRIMITIVE)) {
      k = extractKey(rawKey, DELETE_PRIMITIVE, ERR_BAD_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    const patchV = patch[rawKey];
    if (patchV === null) {
      delete original[k];
      continue;
    }
    if (!hasOwn(original, k)) {
      if (!isDeleteList) setKey(original, k, cleanValue(patchV));
      continue;
    }
    const origV = original[k];
    if (isObject(origV)) {
      if (!isObject(patchV)) {
        if (!isDeleteList) setKey(original, k, cleanValue(patchV));
        continue;
      }
      const f = fieldOf(schema, k);
      setKey(original, k, strategyOf(f) === 'replace' ? cleanValue(patchV) : mergeMap(origV, patchV, f));
    } else if (Array.isArray(origV)) {
      if (!Array.isArray(patchV)) {
        if (!isDeleteList) setKey(original, k, cleanValue(patchV));
        continue;
      }
      const f = fieldOf(schema, k);
      // Upstream quirk kept: a $deleteFromPrimitiveList on a non-merge list replaces the list with the delete list.
      setKey(original, k, strategyOf(f) === 'merge' ? mergeSlice(origV, patchV, f?.items, mergeKeyOf(f), isDeleteList, k) : cleanValue(patchV));
    } else if (isDeleteList) {
      if (origV === null || typeof origV !== typeof patchV || isObject(patchV) || Array.isArray(patchV)) continue;
      setKey(original, k, patchV);
    } else {
      setKey(original, k, cleanValue(patchV));
    }
  }
  return original;
}

/** `$retainKeys`: every non-null patch field must be listed; live fields not listed are cleared. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  const list = patch[RETAIN_KEYS];
  if (!Array.isArray(list)) fail(ERR_BAD_RETAIN_KEYS);
  const retain = new Set<unknown>(list);
  for (const k of Object.keys(patch)) {
    if (k === RETAIN_KEYS) continue;
    if (patch[k] === null || k.startsWith(DELETE_PRIMITIVE) || k.startsWith(SET_ORDER)) continue;
    if (!retain.has(k)) fail(ERR_BAD_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!retain.has(k)) delete original[k];
}

function extractKey(s: string, prefix: string, errText: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) fail(errText);
  return s.slice(slash + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// $setElementOrder (mergePatchIntoOriginal).

/**
 * Merges the list named by a `$setElementOrder/<list>` key together with the patch's own `<list>` and orders the
 * result: elements named in the order list follow it, live-only elements keep their relative live order and are
 * interleaved by live position. Returns the list key when it consumed the patch's list.
 */
function mergeWithElementOrder(original: JsonObject, patch: JsonObject, key: string, schema: SchemaNode | undefined): string | undefined {
  const order = patch[key];
  if (!Array.isArray(order)) fail(badArgType('[]interface {}', order));
  const listKey = extractKey(key, SET_ORDER, ERR_BAD_SET_ORDER);
  const foundOriginal = hasOwn(original, listKey);
  const foundPatch = hasOwn(patch, listKey);
  let origList: unknown[] | undefined;
  let patchList: unknown[] | undefined;
  if (foundOriginal) {
    const v = original[listKey];
    if (!Array.isArray(v)) fail(badArgType('[]interface {}', v));
    origList = v;
  }
  if (foundPatch) {
    const v = patch[listKey];
    if (!Array.isArray(v)) fail(badArgType('[]interface {}', v));
    patchList = v;
  }
  const f = fieldOf(schema, listKey);
  const mergeKey = mergeKeyOf(f);
  validatePatchWithSetOrderList(patchList ?? [], order, mergeKey);

  const liveLen = origList?.length ?? 0;
  let merged: unknown[];
  let raw = false; // merged holds patch content not yet cleaned
  if (origList && !patchList) merged = origList;
  else if (!origList && patchList) {
    merged = patchList;
    raw = true;
  } else if (origList && patchList) {
    if (strategyOf(f) === 'merge') merged = mergeSlice(origList, patchList, f?.items, mergeKey, false, listKey);
    else {
      merged = patchList;
      raw = true;
    }
  } else return undefined;

  // Upstream orders against its view of the live list, which mergeSlice may have rewritten in place.
  const live = origList ? origList.slice(0, liveLen) : [];
  const kind = elementKind(live, patchList ?? [], true);
  let result: unknown[];
  if (kind === undefined || (kind === 'object' && mergeKey === '')) result = merged;
  else {
    const [inOrder, serverOnly] = mergeKey === '' ? partitionPrimitives(merged, order) : partitionMaps(merged, order, mergeKey);
    result = normalizeElementOrder(inOrder, serverOnly, order, live, mergeKey, kind);
  }
  setKey(original, listKey, raw ? cleanValue(result) : result);
  return listKey;
}

/** The non-delete patch elements must appear in `$setElementOrder` in the same relative order. */
function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey ? splitDeletes(patchList)[0] : patchList;
  let pi = 0;
  let si = 0;
  while (pi < items.length && si < order.length) {
    const item = items[pi];
    if (isObject(item) && hasOwn(item, DIRECTIVE)) {
      pi++;
      continue;
    }
    if (mergeKeyValueEqual(item, order[si], mergeKey)) pi++;
    si++;
  }
  if (pi < items.length && si >= order.length) {
    fail(`The order in patch list:\n${goFmt(patchList)}\n doesn't match ${SET_ORDER} list:\n${goFmt(order)}\n`);
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isObject(left)) fail(badArgType('map[string]interface {}', left));
  if (!isObject(right)) fail(badArgType('map[string]interface {}', right));
  if (!hasOwn(left, mergeKey)) fail(noMergeKey(left, mergeKey));
  if (!hasOwn(right, mergeKey)) fail(noMergeKey(right, mergeKey));
  return left[mergeKey] === right[mergeKey];
}

// ---------------------------------------------------------------------------------------------------------------
// Lists (mergeSlice).

type Kind = 'object' | 'scalar';

/**
 * sliceElementType: all elements must share one JSON type and not be lists. Returns undefined for no elements when
 * `lenient` (upstream errors there with "no elements in any of the given slices"; nothing needs ordering anyway).
 */
function elementKind(a: unknown[], b: unknown[], lenient = false): Kind | undefined {
  let first: string | undefined;
  for (const list of [a, b]) {
    for (const v of list) {
      const t = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
      if (first === undefined) {
        first = t;
        if (t === 'array') unprocessable(ERR_LIST_OF_LISTS);
      } else if (t !== first) fail(`list element types are not identical: ${goFmt([a, b])}`);
    }
  }
  if (first === undefined) {
    if (lenient) return undefined;
    fail('no elements in any of the given slices');
  }
  return first === 'object' ? 'object' : 'scalar';
}

/**
 * mergeSlice for a list with strategy `merge`. Returns a new array. `orig` is treated as the backing array of
 * upstream's Go slice and is modified the way upstream modifies it: `$patch: delete` shifts later elements left in
 * place, and new elements are then written into the freed tail slots before growing the array. Callers that read
 * `orig` afterwards (the `$setElementOrder` path) therefore see exactly what upstream sees.
 */
function mergeSlice(orig: unknown[], patch: unknown[], item: SchemaNode | undefined, mergeKey: string, isDeleteList: boolean, field: string): unknown[] {
  if (orig.length === 0 && patch.length === 0) return [];
  const kind = elementKind(orig, patch) as Kind;

  if (kind === 'scalar') {
    if (isDeleteList) {
      const del = new Set(patch);
      return orig.filter((v) => !del.has(v));
    }
    const merged = [...new Set([...orig, ...patch])];
    const [inPatch, serverOnly] = partitionPrimitives(merged, patch);
    return normalizeElementOrder(inPatch, serverOnly, patch, orig, '', kind);
  }

  if (!mergeKey) fail(`cannot merge lists without merge key for ${item?.['x-k8ts-ref'] ?? field}`);

  // mergeSliceWithSpecialElements: deletions act on the live backing array, in patch order.
  let len = orig.length;
  let replace = false;
  const plain: JsonObject[] = [];
  for (const v of patch as JsonObject[]) {
    if (!hasOwn(v, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const d = v[DIRECTIVE];
    if (d === 'delete') {
      if (!hasOwn(v, mergeKey)) fail(noMergeKey(v, mergeKey));
      const value = v[mergeKey];
      for (let i = findByKey(orig, len, mergeKey, value); i >= 0; i = findByKey(orig, len, mergeKey, value)) {
        orig.copyWithin(i, i + 1, len);
        len--;
      }
    } else if (d === 'replace') replace = true;
    else if (d === 'merge') fail('merging lists cannot yet be specified in the patch');
    else fail(badPatchType(d, v));
  }

  if (replace) {
    // The list becomes the patch's plain elements (ordered against themselves, as upstream does).
    const [inPatch, serverOnly] = partitionMaps(plain, [], mergeKey);
    return cleanValue(normalizeElementOrder(inPatch, serverOnly, [], plain, mergeKey, kind)) as unknown[];
  }

  // mergeSliceWithoutSpecialElements: merge by key into live elements, append the rest after the live length.
  const liveLen = len;
  for (const v of plain) {
    if (!hasOwn(v, mergeKey)) fail(noMergeKey(v, mergeKey));
    const i = findByKey(orig, len, mergeKey, v[mergeKey]);
    if (i >= 0) orig[i] = mergeMap(orig[i] as JsonObject, v, item);
    else {
      const added = cleanValue(v);
      if (len < orig.length) orig[len] = added;
      else orig.push(added);
      len++;
    }
  }
  const merged = orig.slice(0, len);
  const [inPatch, serverOnly] = partitionMaps(merged, plain, mergeKey);
  return normalizeElementOrder(inPatch, serverOnly, plain, orig.slice(0, liveLen), mergeKey, kind);
}

/** findMapInSliceBasedOnKeyValue over list[0..len). */
function findByKey(list: unknown[], len: number, mergeKey: string, value: unknown): number {
  for (let i = 0; i < len; i++) {
    const v = list[i];
    if (!isObject(v)) fail(`value for key ${i} is not a map`);
    if (hasOwn(v, mergeKey) && v[mergeKey] === value) return i;
  }
  return -1;
}

function partitionPrimitives(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inBy = new Set(by);
  const a: unknown[] = [];
  const b: unknown[] = [];
  for (const v of list) (inBy.has(v) ? a : b).push(v);
  return [a, b];
}

function partitionMaps(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const keys = new Set<unknown>();
  for (const v of by) {
    if (!isObject(v)) fail(`value for key ${by.indexOf(v)} is not a map`);
    if (hasOwn(v, mergeKey)) keys.add(v[mergeKey]);
  }
  const a: unknown[] = [];
  const b: unknown[] = [];
  for (const v of list) {
    if (!isObject(v)) fail(badArgType('map[string]interface {}', v));
    if (!hasOwn(v, mergeKey)) fail(noMergeKey(v, mergeKey));
    (keys.has(v[mergeKey]) ? a : b).push(v);
  }
  return [a, b];
}

// ---------------------------------------------------------------------------------------------------------------
// Ordering (normalizeElementOrder, normalizeSliceOrder, mergeSortedSlice, index).

/** index(): merge key value (maps; nil when absent) or the value itself; first position wins. */
function positions(order: unknown[], mergeKey: string, kind: Kind): Map<unknown, number> {
  const m = new Map<unknown, number>();
  for (let i = 0; i < order.length; i++) {
    const k = keyOf(order[i], mergeKey, kind);
    if (!m.has(k)) m.set(k, i);
  }
  return m;
}

function keyOf(v: unknown, mergeKey: string, kind: Kind): unknown {
  if (kind === 'scalar') return v;
  if (!isObject(v)) return undefined;
  const k = v[mergeKey];
  return k === null ? undefined : k;
}

function normalizeElementOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: Kind): unknown[] {
  const p = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

/** Sorts `toSort` by position in `order` with Go's sort.SliceStable and upstream's (non-strict) comparator. */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: Kind): unknown[] {
  let items = toSort;
  let deletes: unknown[] = [];
  if (kind === 'object') {
    for (const list of [toSort, order]) {
      for (const v of list) {
        if (!isObject(v)) fail(badArgType('map[string]interface {}', v));
        if (!hasOwn(v, mergeKey)) fail(noMergeKey(v, mergeKey));
      }
    }
    [items, deletes] = splitDeletes(toSort);
  } else items = toSort.slice();
  if (items.length > 1) {
    const pos = positions(order, mergeKey, kind);
    const idx = (v: unknown) => pos.get(keyOf(v, mergeKey, kind)) ?? -1;
    goStableSort(items, (a, b) => {
      const ia = idx(a);
      if (ia >= 0) {
        const ib = idx(b);
        if (ib >= 0) return ia < ib;
      }
      return true;
    });
  }
  return deletes.length ? items.concat(deletes) : items;
}

/** extractToDeleteItems: [kept, `$patch: delete` elements]. Returns fresh arrays. */
function splitDeletes(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of list) {
    if (!isObject(v)) fail(badArgType('map[string]interface {}', v));
    (hasOwn(v, DIRECTIVE) && v[DIRECTIVE] === 'delete' ? del : keep).push(v);
  }
  return [keep, del];
}

/**
 * Interleaves server-only elements (left) into patch elements (right): a left element goes first only when both are
 * in the live list and it sits earlier there; otherwise the right element goes first.
 */
function mergeSortedSlice(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, kind: Kind): unknown[] {
  if (left.length === 0) return right;
  if (right.length === 0) return left;
  const pos = positions(serverOrder, mergeKey, kind);
  const idx = (v: unknown) => pos.get(keyOf(v, mergeKey, kind)) ?? -1;
  const out = new Array<unknown>(left.length + right.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < out.length; k++) {
    if (i >= left.length) out[k] = right[j++];
    else if (j >= right.length) out[k] = left[i++];
    else {
      const li = idx(left[i]);
      const ri = idx(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out[k] = left[i++];
      else out[k] = right[j++];
    }
  }
  return out;
}

/**
 * Go's sort.SliceStable (insertion sort on blocks of 20, then SymMerge), in place. Reproduced step by step because
 * upstream's comparator is not a strict order, so the result depends on the algorithm.
 */
export function goStableSort<T>(data: T[], less: (a: T, b: T) => boolean): void {
  const n = data.length;
  const lessAt = (i: number, j: number) => less(data[i], data[j]);
  const swap = (i: number, j: number) => {
    const t = data[i];
    data[i] = data[j];
    data[j] = t;
  };
  const insertionSort = (a: number, b: number) => {
    for (let i = a + 1; i < b; i++) for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
  };
  const swapRange = (a: number, b: number, count: number) => {
    for (let i = 0; i < count; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number) => {
    let i = m - a;
    let j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (lessAt(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!lessAt(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const nn = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = nn - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = nn - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!lessAt(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = nn - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };

  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}
