// Schema-aware operations on plain JSON objects, after structured-merge-diff's typed package: the field set of a
// value, merging an applied configuration into a live object, comparing two objects, and removing paths.
//
// The schema says how to walk: lists are `atomic` (a leaf), `set` (items are scalar values) or `map` (items are
// objects identified by `x-kubernetes-list-map-keys`); objects are structs or maps, granular unless
// `x-kubernetes-map-type: atomic`. Without a list type, `x-kubernetes-patch-strategy: merge` decides as in
// kube-openapi's schemaconv. Where the schema says nothing (or there is no schema), objects are granular maps and
// lists atomic ("deduced" types).

import type { SchemaNode } from '../schema/types.js';
import { FieldSet, fieldPE, keyPE, pathString, valuePE, type Path, type PathElement } from './fieldset.js';

/** Schema of one value; `undefined` means unknown (deduced from the value). */
export type Node = SchemaNode | undefined;

/**
 * Defaults of list-map key fields that upstream's OpenAPI carries (`+default="TCP"`) but a schema built from other
 * sources may lack; used only when the schema node has no `default`. Keyed by definition name.
 */
const KEY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

/** An error in an applied configuration, in upstream's words (`.spec.x: element 0: …`). */
export class ConfigError extends Error {}

type Kind = 'scalar' | 'list' | 'map';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function valueKind(v: unknown): Kind {
  return Array.isArray(v) ? 'list' : isObj(v) ? 'map' : 'scalar';
}

/** What the schema declares the value to be; deduced from the value when it declares nothing. */
function schemaKind(node: Node, v: unknown): Kind {
  if (node) {
    if (node.type === 'array' || node.items) return 'list';
    if (node.type === 'object' || node.properties || node.additionalProperties) return 'map';
    if (node.type || node['x-kubernetes-int-or-string']) return 'scalar';
  }
  return valueKind(v);
}

interface ListInfo {
  rel: 'atomic' | 'set' | 'map';
  keys: readonly string[];
  items: Node;
}

function listInfo(node: Node): ListInfo {
  const items = node?.items;
  const lt = node?.['x-kubernetes-list-type'];
  if (lt === 'set') return { rel: 'set', keys: [], items };
  if (lt === 'map') {
    const keys = node?.['x-kubernetes-list-map-keys'];
    return keys && keys.length ? { rel: 'map', keys, items } : { rel: 'atomic', keys: [], items };
  }
  if (lt === 'atomic') return { rel: 'atomic', keys: [], items };
  const ps = node?.['x-kubernetes-patch-strategy'];
  if (ps === 'merge' || ps === 'merge,retainKeys') {
    const mk = node?.['x-kubernetes-patch-merge-key'];
    return mk ? { rel: 'map', keys: [mk], items } : { rel: 'set', keys: [], items };
  }
  return { rel: 'atomic', keys: [], items };
}

const mapAtomic = (node: Node): boolean => node?.['x-kubernetes-map-type'] === 'atomic';

/** The schema of field `name` of an object node, and whether it is a declared struct field. */
function fieldOf(node: Node, name: string): { node: Node; declared: boolean } {
  if (!node) return { node: undefined, declared: false };
  const p = node.properties?.[name];
  if (p) return { node: p, declared: true };
  const ap = node.additionalProperties;
  return { node: typeof ap === 'object' ? ap : undefined, declared: false };
}

/** The schema below one path element. */
function childNode(node: Node, pe: PathElement): { node: Node; declared: boolean } {
  if (pe.startsWith('f:')) return fieldOf(node, pe.slice(2));
  return { node: node?.items, declared: false };
}

/** How one value is walked: a leaf, a granular map, or a keyed/set list. */
type Shape = { t: 'leaf' } | { t: 'map'; node: Node } | { t: 'list'; info: ListInfo };

function shapeOf(node: Node, v: unknown): Shape {
  const k = schemaKind(node, v);
  if (k === 'scalar') return { t: 'leaf' };
  if (k === 'map') return mapAtomic(node) ? { t: 'leaf' } : { t: 'map', node };
  const info = listInfo(node);
  return info.rel === 'atomic' ? { t: 'leaf' } : { t: 'list', info };
}

/** The element of one list item; throws ConfigError-worthy text when the item cannot be identified. */
function itemPE(info: ListInfo, item: unknown): PathElement {
  if (info.rel === 'set') {
    if (item === null) throw new Error("associative list without keys has an element that's an explicit null");
    if (Array.isArray(item)) throw new Error('not supported: associative list with lists as elements');
    if (isObj(item)) throw new Error("associative list without keys has an element that's a map type");
    return valuePE(item);
  }
  if (item === null) throw new Error('associative list with keys may not have a null element');
  if (!isObj(item)) throw new Error('associative list with keys may not have non-map elements');
  const fields: [string, unknown][] = [];
  for (const k of info.keys) {
    if (item[k] !== undefined) {
      fields.push([k, item[k]]);
      continue;
    }
    const def = info.items?.properties?.[k]?.default ?? KEY_DEFAULTS[info.items?.['x-k8ts-ref'] ?? '']?.[k];
    if (def === undefined) throw new Error(`associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
    fields.push([k, def]);
  }
  return keyPE(fields);
}

/** Elements of every item, or undefined when some item cannot be identified (the list is then treated as atomic). */
function itemPEs(info: ListInfo, list: readonly unknown[]): PathElement[] | undefined {
  const out: PathElement[] = [];
  for (const item of list) {
    try {
      out.push(itemPE(info, item));
    } catch {
      return undefined;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Equality

/** Deep equality of JSON values (object key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    n++;
    if (!deepEqual(ao[k], bo[k])) return false;
  }
  let m = 0;
  for (const k in bo) if (bo[k] !== undefined) m++;
  return n === m;
}

// ---------------------------------------------------------------------------------------------------------------
// Field sets

/**
 * Every field path of `v` (upstream's ToFieldSet): scalar and atomic leaves, list items (also as members), and
 * map entries that are not declared struct fields. `strict` (an applied configuration) throws ConfigError on
 * list items that cannot be identified and on duplicates; otherwise such lists count as atomic and duplicated
 * items as bare members, as upstream does for live objects.
 */
export function toFieldSet(v: unknown, node: Node, strict = false): FieldSet {
  const set = new FieldSet();
  walkSet(v, node, [], set, strict);
  return set;
}

function walkSet(v: unknown, node: Node, path: PathElement[], set: FieldSet, strict: boolean): void {
  const k = schemaKind(node, v);
  if (k === 'scalar') {
    set.insert(path);
    return;
  }
  if (v === null || v === undefined) {
    if (k === 'map' ? mapAtomic(node) : listInfo(node).rel === 'atomic') set.insert(path);
    return;
  }
  if (valueKind(v) !== k) {
    set.insert(path); // shape differs from the schema: validation reports it; ownership treats it as a leaf
    return;
  }
  if (k === 'map') {
    if (mapAtomic(node)) {
      set.insert(path);
      return;
    }
    for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
      if (val === undefined) continue;
      const f = fieldOf(node, key);
      path.push(fieldPE(key));
      walkSet(val, f.node, path, set, strict);
      if (!f.declared) set.insert(path);
      path.pop();
    }
    return;
  }
  const info = listInfo(node);
  const list = v as unknown[];
  if (info.rel === 'atomic') {
    set.insert(path);
    return;
  }
  let pes: PathElement[] | undefined;
  if (strict) {
    pes = list.map((item, i) => {
      try {
        return itemPE(info, item);
      } catch (e) {
        throw new ConfigError(`${pathString(path)}: element ${i}: ${(e as Error).message}`);
      }
    });
  } else {
    pes = itemPEs(info, list);
    if (!pes) {
      set.insert(path);
      return;
    }
  }
  const counts = countPEs(pes);
  for (let i = 0; i < list.length; i++) {
    const pe = pes[i]!;
    if (counts.get(pe)! > 1) {
      if (strict) throw new ConfigError(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
      set.insert([...path, pe]);
      continue;
    }
    path.push(pe);
    walkSet(list[i], info.items, path, set, strict);
    set.insert(path);
    path.pop();
  }
}

function countPEs(pes: readonly PathElement[]): Map<PathElement, number> {
  const m = new Map<PathElement, number>();
  for (const pe of pes) m.set(pe, (m.get(pe) ?? 0) + 1);
  return m;
}

/**
 * Upstream's EnsureNamedFieldsAreMembers: `set` plus, as members, every declared struct field that has children
 * in it (so removing it removes the whole field, while map keys such as labels stay granular).
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, node: Node): FieldSet {
  const out = new FieldSet();
  for (const m of set.members) out.members.add(m);
  for (const [pe, c] of set.children) {
    const child = childNode(node, pe);
    if (child.declared) out.members.add(pe);
    out.children.set(pe, ensureNamedFieldsAreMembers(c, child.node));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Merge (apply)

/**
 * `rhs` merged into `lhs` (upstream's Merge with the keep-RHS rule): leaves and atomic values from `rhs` replace;
 * granular maps merge per key; set and map lists merge per item, shared items in `rhs` order and `lhs`-only items
 * where they were. An explicit `null` in `rhs` unsets the field (as the typed round trip upstream does).
 */
export function merge(lhs: unknown, rhs: unknown, node: Node): unknown {
  return mergeValue(lhs, rhs, node);
}

function mergeValue(lhs: unknown, rhs: unknown, node: Node): unknown {
  if (rhs === undefined) return lhs;
  if (lhs === undefined || lhs === null) lhs = undefined;
  const shape = shapeOf(node, rhs);
  if (shape.t === 'leaf' || (lhs !== undefined && valueKind(lhs) !== valueKind(rhs))) return rhs;
  if (shape.t === 'map') {
    if (!isObj(rhs)) return rhs;
    const l = lhs as Record<string, unknown> | undefined;
    const out: Record<string, unknown> = {};
    if (l) {
      for (const [k, lv] of Object.entries(l)) {
        if (!(k in rhs) || rhs[k] === undefined) {
          out[k] = lv;
          continue;
        }
        const m = rhs[k] === null ? undefined : mergeValue(lv, rhs[k], fieldOf(node, k).node);
        if (m !== undefined) out[k] = m;
      }
    }
    for (const [k, rv] of Object.entries(rhs)) {
      if ((l && k in l && l[k] !== undefined) || rv === undefined || rv === null) continue;
      const m = mergeValue(undefined, rv, fieldOf(node, k).node);
      if (m !== undefined) out[k] = m;
    }
    return out;
  }
  if (!Array.isArray(rhs)) return rhs;
  return mergeList(lhs as unknown[] | undefined, rhs, shape.info);
}

function mergeList(lhs: unknown[] | undefined, rhs: unknown[], info: ListInfo): unknown {
  const rPEs = itemPEs(info, rhs);
  if (!rPEs) return rhs; // applied configurations are validated first; keep the value as a leaf
  const l = lhs ?? [];
  const lPEs = itemPEs(info, l);
  if (!lPEs) return rhs.map((item) => mergeValue(undefined, item, info.items));
  if (l.length === 0 && rhs.length === 0) return rhs;

  const rByPE = new Map<PathElement, unknown>();
  rPEs.forEach((pe, i) => rByPE.set(pe, rhs[i]));
  const lCount = countPEs(lPEs);
  const lByPE = new Map<PathElement, unknown>();
  lPEs.forEach((pe, i) => {
    if (!lByPE.has(pe)) lByPE.set(pe, l[i]);
  });
  // Item merged with its live counterpart; a duplicated live item is replaced by the applied one.
  const item = (pe: PathElement): unknown => mergeValue(lCount.get(pe) === 1 ? lByPE.get(pe) : undefined, rByPE.get(pe), info.items);

  const shared = rPEs.filter((pe) => lByPE.has(pe));
  let next = 0;
  const out: unknown[] = [];
  const done = new Set<PathElement>();
  let li = 0;
  let ri = 0;
  while (li < lPEs.length || ri < rPEs.length) {
    if (li < lPEs.length && done.has(lPEs[li]!)) {
      li++;
      continue;
    }
    if (li < lPEs.length && ri < rPEs.length) {
      const pe = lPEs[li]!;
      if (pe === rPEs[ri]) {
        out.push(item(pe));
        done.add(pe);
        li++;
        ri++;
        next++;
        continue;
      }
      if (rByPE.has(pe) && next < shared.length && shared[next] !== pe) {
        li++; // shared, but its turn in rhs order has not come: it is emitted when rhs reaches it
        continue;
      }
    }
    if (li < lPEs.length && !rByPE.has(lPEs[li]!)) {
      out.push(l[li]);
      li++;
      continue;
    }
    if (ri < rPEs.length) {
      const pe = rPEs[ri]!;
      if (!done.has(pe)) {
        out.push(item(pe));
        done.add(pe);
      }
      ri++;
      if (next < shared.length && shared[next] === pe) next++;
      continue;
    }
    li++; // only lhs items already merged remain
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Compare (update tracking and conflict detection)

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * What changed from `lhs` to `rhs` (upstream's Compare): leaves that appeared, changed or disappeared, plus
 * granular maps, lists and list items that appeared or disappeared as a whole.
 */
export function compare(lhs: unknown, rhs: unknown, node: Node): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareValue(lhs, rhs, node, [], c);
  return c;
}

function isEmptyish(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) ? v.length === 0 : isObj(v) && Object.keys(v).length === 0);
}

function leaf(lhs: unknown, rhs: unknown, path: PathElement[], c: Comparison): void {
  if (lhs === undefined) c.added.insert(path);
  else if (rhs === undefined) c.removed.insert(path);
  else if (!deepEqual(lhs, rhs)) c.modified.insert(path);
}

function compareValue(lhs: unknown, rhs: unknown, node: Node, path: PathElement[], c: Comparison): void {
  if (lhs === undefined && rhs === undefined) return;
  const shape = shapeOf(node, rhs !== undefined ? rhs : lhs);
  const mismatch = lhs !== undefined && rhs !== undefined && lhs !== null && rhs !== null && valueKind(lhs) !== valueKind(rhs);
  if (shape.t === 'leaf' || mismatch || (isEmptyish(lhs) && isEmptyish(rhs))) {
    leaf(lhs, rhs, path, c);
    return;
  }
  if (shape.t === 'map') {
    const l = isObj(lhs) ? lhs : undefined;
    const r = isObj(rhs) ? rhs : undefined;
    if ((lhs != null && !l) || (rhs != null && !r)) {
      leaf(lhs, rhs, path, c);
      return;
    }
    if (l)
      for (const [k, lv] of Object.entries(l)) {
        if (lv === undefined) continue;
        path.push(fieldPE(k));
        compareValue(lv, r?.[k], fieldOf(node, k).node, path, c);
        path.pop();
      }
    if (r)
      for (const [k, rv] of Object.entries(r)) {
        if (rv === undefined || (l && l[k] !== undefined)) continue;
        path.push(fieldPE(k));
        compareValue(undefined, rv, fieldOf(node, k).node, path, c);
        path.pop();
      }
  } else {
    const l = Array.isArray(lhs) ? lhs : undefined;
    const r = Array.isArray(rhs) ? rhs : undefined;
    const lPEs = l ? itemPEs(shape.info, l) : [];
    const rPEs = r ? itemPEs(shape.info, r) : [];
    if ((lhs != null && !l) || (rhs != null && !r) || !lPEs || !rPEs) {
      leaf(lhs, rhs, path, c);
      return;
    }
    const group = (items: unknown[] | undefined, pes: PathElement[]): Map<PathElement, unknown[]> => {
      const m = new Map<PathElement, unknown[]>();
      pes.forEach((pe, i) => {
        const g = m.get(pe);
        if (g) g.push(items![i]);
        else m.set(pe, [items![i]]);
      });
      return m;
    };
    const lg = group(l, lPEs);
    const rg = group(r, rPEs);
    for (const pe of new Set([...lPEs, ...rPEs])) {
      const a = lg.get(pe);
      const b = rg.get(pe);
      path.push(pe);
      if ((a && a.length > 1) || (b && b.length > 1)) {
        // Duplicated items are compared as one leaf.
        leaf(a, b, path, c);
      } else {
        compareValue(a?.[0], b?.[0], shape.info.items, path, c);
        if (!a) c.added.insert(path);
        else if (!b) c.removed.insert(path);
      }
      path.pop();
    }
  }
  if (lhs === undefined) c.added.insert(path);
  else if (rhs === undefined) c.removed.insert(path);
}

/** Drop the paths under `ignored` (and `ignored` themselves) from a comparison. */
export function excludeFields(c: Comparison, ignored: FieldSet): Comparison {
  if (ignored.empty()) return c;
  return { added: c.added.recursiveDifference(ignored), modified: c.modified.recursiveDifference(ignored), removed: c.removed.recursiveDifference(ignored) };
}

// ---------------------------------------------------------------------------------------------------------------
// Remove

/**
 * `v` without the members of `set` (upstream's RemoveItems): a member drops its whole field or list item; children
 * descend. A granular map or list left empty by the removal disappears (`undefined`).
 */
export function removeItems(v: unknown, set: FieldSet, node: Node): unknown {
  if (set.empty()) return v;
  return removeValue(v, set, node);
}

function removeValue(v: unknown, set: FieldSet, node: Node): unknown {
  const shape = shapeOf(node, v);
  if (shape.t === 'leaf') return v;
  if (shape.t === 'map') {
    if (!isObj(v) || Object.keys(v).length === 0) return v;
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      const pe = fieldPE(k);
      if (set.members.has(pe)) continue;
      const sub = set.children.get(pe);
      if (!sub) {
        out[k] = val;
        continue;
      }
      const r = removeValue(val, sub, fieldOf(node, k).node);
      if (r !== undefined) out[k] = r;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (!Array.isArray(v) || v.length === 0) return v;
  const pes = itemPEs(shape.info, v);
  if (!pes) return v;
  const out: unknown[] = [];
  v.forEach((item, i) => {
    const pe = pes[i]!;
    if (set.members.has(pe)) return;
    const sub = set.children.get(pe);
    if (!sub) {
      out.push(item);
      return;
    }
    const r = removeValue(item, sub, shape.info.items);
    if (r !== undefined) out.push(r);
  });
  return out.length ? out : undefined;
}

/** The schema node at `path` (for callers that hold a path and need its type). */
export function nodeAt(node: Node, path: Path): Node {
  let n = node;
  for (const pe of path) n = childNode(n, pe).node;
  return n;
}
