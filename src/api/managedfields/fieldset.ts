// Field sets as structured-merge-diff keeps them: trees of path elements, serialized in managedFields[].fieldsV1
// as `{"f:spec":{"f:replicas":{}},"f:metadata":{"f:labels":{".":{},"f:app":{}}}}` (FieldsV1 format).
//
// A path element is held as its canonical FieldsV1 key string, so equal elements are equal strings:
//   f:<field name>            struct field or map key (raw, never escaped)
//   k:{"name":"a","port":80}  list-map item: its key fields, sorted by name, compact Go-style JSON
//   v:"value"                 set item: the value as compact Go-style JSON
//   i:3                       list index (only ever read from other writers; we never produce it)

/** One path element in canonical form (see the file comment). */
export type PathElement = string;
/** A path from the object root; the empty path is the object itself and is never a member of a set. */
export type Path = readonly PathElement[];

/** JSON text the way Go's encoding/json writes a string: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
const GO_ESCAPED = /[<>&\u2028\u2029]/;
export function goJSONString(s: string): string {
  const j = JSON.stringify(s);
  if (!GO_ESCAPED.test(j)) return j;
  return j.replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Compact Go-style JSON of a JSON value, object keys sorted (as Go marshals maps). */
export function goJSON(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJSONString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return '[' + v.map(goJSON).join(',') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort(compareStrings);
    return '{' + keys.map((k) => goJSONString(k) + ':' + goJSON(o[k])).join(',') + '}';
  }
  return 'null';
}

/** Byte-wise (UTF-8) string order, as Go's strings.Compare. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after every BMP character in UTF-8 order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

export const fieldPE = (name: string): PathElement => 'f:' + name;
export const indexPE = (i: number): PathElement => 'i:' + i;
export const valuePE = (v: unknown): PathElement => 'v:' + goJSON(v);
/** A list-map item's element; `fields` are the key fields and their values (any order). */
export function keyPE(fields: readonly (readonly [string, unknown])[]): PathElement {
  const sorted = [...fields].sort((a, b) => compareStrings(a[0], b[0]));
  return 'k:{' + sorted.map(([n, v]) => goJSONString(n) + ':' + goJSON(v)).join(',') + '}';
}

export type ParsedPE =
  | { type: 'f'; name: string }
  | { type: 'k'; fields: [string, unknown][] }
  | { type: 'v'; value: unknown }
  | { type: 'i'; index: number };

const TYPE_ORDER = { f: 0, k: 1, v: 2, i: 3 } as const;
const parsedCache = new Map<string, ParsedPE>();

/** Parse a canonical element (cached). Throws on text that is not one. */
export function parsePE(pe: PathElement): ParsedPE {
  const hit = parsedCache.get(pe);
  if (hit) return hit;
  const p = parseElement(pe);
  if (parsedCache.size > 50_000) parsedCache.clear();
  parsedCache.set(pe, p);
  return p;
}

function parseElement(s: string): ParsedPE {
  if (s.length < 2) throw new Error('key must be 2 characters long');
  if (s[1] !== ':') throw new Error(`missing colon: ${s}`);
  const rest = s.slice(2);
  switch (s[0]) {
    case 'f':
      return { type: 'f', name: rest };
    case 'v':
      return { type: 'v', value: JSON.parse(rest) as unknown };
    case 'k': {
      const o = JSON.parse(rest) as unknown;
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error(`key element is not an object: ${s}`);
      const fields = Object.entries(o as Record<string, unknown>).sort((a, b) => compareStrings(a[0], b[0]));
      return { type: 'k', fields };
    }
    case 'i': {
      if (!/^-?\d+$/.test(rest)) throw new Error(`invalid index: ${s}`);
      return { type: 'i', index: Number(rest) };
    }
    default:
      throw new UnknownElementTypeError(s);
  }
}

class UnknownElementTypeError extends Error {
  constructor(s: string) {
    super(`unknown path element type: ${s}`);
  }
}

/**
 * Canonical form of a FieldsV1 key written by anyone (key fields re-sorted, JSON re-encoded); `undefined` for an
 * element type this version does not know (upstream drops those); throws on malformed text.
 */
export function canonicalPE(s: string): PathElement | undefined {
  let p: ParsedPE;
  try {
    p = parseElement(s);
  } catch (e) {
    if (e instanceof UnknownElementTypeError) return undefined;
    throw e;
  }
  switch (p.type) {
    case 'f':
      return s;
    case 'v':
      return valuePE(p.value);
    case 'k':
      return keyPE(p.fields);
    case 'i':
      return indexPE(p.index);
  }
}

/** Upstream's total order of JSON values: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown): number =>
    typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : Array.isArray(v) ? 3 : v !== null && typeof v === 'object' ? 4 : 5;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1:
      return compareStrings(a as string, b as string);
    case 2:
      return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const la = a as unknown[];
      const lb = b as unknown[];
      for (let i = 0; i < Math.min(la.length, lb.length); i++) {
        const c = compareValues(la[i], lb[i]);
        if (c) return c;
      }
      return la.length - lb.length;
    }
    case 4: {
      const ea = Object.entries(a as Record<string, unknown>).sort((x, y) => compareStrings(x[0], y[0]));
      const eb = Object.entries(b as Record<string, unknown>).sort((x, y) => compareStrings(x[0], y[0]));
      for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
        const c = compareStrings(ea[i]![0], eb[i]![0]) || compareValues(ea[i]![1], eb[i]![1]);
        if (c) return c;
      }
      return ea.length - eb.length;
    }
    default:
      return 0;
  }
}

/** Upstream's PathElement order: fields < keys < values < indexes, then by content. */
export function comparePE(a: PathElement, b: PathElement): number {
  if (a === b) return 0;
  const pa = parsePE(a);
  const pb = parsePE(b);
  if (pa.type !== pb.type) return TYPE_ORDER[pa.type] - TYPE_ORDER[pb.type];
  switch (pa.type) {
    case 'f':
      return compareStrings(pa.name, (pb as { name: string }).name);
    case 'v':
      return compareValues(pa.value, (pb as { value: unknown }).value);
    case 'i':
      return pa.index - (pb as { index: number }).index;
    case 'k': {
      const fa = pa.fields;
      const fb = (pb as { fields: [string, unknown][] }).fields;
      for (let i = 0; ; i++) {
        if (i >= fa.length && i >= fb.length) return 0;
        if (i >= fa.length) return -1;
        if (i >= fb.length) return 1;
        const c = compareStrings(fa[i]![0], fb[i]![0]) || compareValues(fa[i]![1], fb[i]![1]);
        if (c) return c;
      }
    }
  }
}

/** Go's value.ToString, used in conflict paths: strings quoted, numbers and booleans bare. */
function valueToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map(valueToString).join(',') + ']';
  const o = v as Record<string, unknown>;
  return '{' + Object.keys(o).sort(compareStrings).map((k) => `${k}=${valueToString(o[k])}`).join(',') + '}';
}

/** One element the way upstream prints paths: `.spec`, `[name="nginx"]`, `[="a"]`, `[0]`. */
export function peString(pe: PathElement): string {
  const p = parsePE(pe);
  switch (p.type) {
    case 'f':
      return '.' + p.name;
    case 'k':
      return '[' + p.fields.map(([n, v]) => `${n}=${valueToString(v)}`).join(',') + ']';
    case 'v':
      return `[=${valueToString(p.value)}]`;
    case 'i':
      return `[${p.index}]`;
  }
}

/** A path the way upstream prints it in conflicts: `.spec.template.spec.containers[name="a"].image`. */
export function pathString(path: Path): string {
  return path.map(peString).join('');
}

/** Build a path from readable parts: strings are field names, numbers indexes, anything else must be a PE. */
export function makePath(...parts: (string | number)[]): PathElement[] {
  return parts.map((p) => (typeof p === 'number' ? indexPE(p) : fieldPE(p)));
}

/**
 * A set of field paths, as a tree. `members` are the paths that end here; `children` hold longer paths.
 * Invariant: no child set is empty. Operations never change their inputs; their results may share subtrees with
 * them, so a set is built with insert() only before anything else sees it.
 */
export class FieldSet {
  readonly members = new Set<PathElement>();
  readonly children = new Map<PathElement, FieldSet>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Add a path (building the set; do not call on a set that other sets may share). */
  insert(path: Path): void {
    if (path.length === 0) return; // the object itself is never tracked
    let s: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) {
      const pe = path[i]!;
      let c = s.children.get(pe);
      if (!c) {
        c = new FieldSet();
        s.children.set(pe, c);
      }
      s = c;
    }
    s.members.add(path[path.length - 1]!);
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    let s: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1; i++) {
      s = s.children.get(path[i]!);
      if (!s) return false;
    }
    return s.members.has(path[path.length - 1]!);
  }

  empty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  /** The paths below `pe`, with `pe` taken off (empty set when there are none). */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(pe) ?? EMPTY;
  }

  clone(): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) s.members.add(m);
    for (const [pe, c] of this.children) s.children.set(pe, c.clone());
    return s;
  }

  union(o: FieldSet): FieldSet {
    // Sets are never changed once built, so results share untouched subtrees with their operands.
    if (o.empty()) return this;
    if (this.empty()) return o;
    const s = new FieldSet();
    for (const m of this.members) s.members.add(m);
    for (const m of o.members) s.members.add(m);
    for (const [pe, c] of this.children) {
      const theirs = o.children.get(pe);
      s.children.set(pe, theirs ? c.union(theirs) : c);
    }
    for (const [pe, c] of o.children) if (!this.children.has(pe)) s.children.set(pe, c);
    return s;
  }

  /** Paths in both sets. */
  intersection(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) if (o.members.has(m)) s.members.add(m);
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      if (!oc) continue;
      const i = c.intersection(oc);
      if (!i.empty()) s.children.set(pe, i);
    }
    return s;
  }

  /** Paths in this set and not in `o` (a parent in `o` does not remove its children: member-wise). */
  difference(o: FieldSet): FieldSet {
    if (o.empty() || this.empty()) return this;
    const s = new FieldSet();
    for (const m of this.members) if (!o.members.has(m)) s.members.add(m);
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      const d = oc ? c.difference(oc) : c;
      if (!d.empty()) s.children.set(pe, d);
    }
    return s;
  }

  /** Like difference, but a member of `o` also removes everything below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    if (o.empty() || this.empty()) return this;
    const s = new FieldSet();
    for (const m of this.members) if (!o.members.has(m)) s.members.add(m);
    for (const [pe, c] of this.children) {
      if (o.members.has(pe)) continue;
      const oc = o.children.get(pe);
      const d = oc ? c.recursiveDifference(oc) : c;
      if (!d.empty()) s.children.set(pe, d);
    }
    return s;
  }

  equals(o: FieldSet): boolean {
    if (this.members.size !== o.members.size) return false;
    for (const m of this.members) if (!o.members.has(m)) return false;
    const mine = [...this.children].filter(([, c]) => !c.empty());
    const theirs = [...o.children].filter(([, c]) => !c.empty());
    if (mine.length !== theirs.length) return false;
    for (const [pe, c] of mine) {
      const oc = o.children.get(pe);
      if (!oc || !c.equals(oc)) return false;
    }
    return true;
  }

  /** Every path, in upstream's order: this level's members (sorted), then each child's paths (sorted). */
  paths(): PathElement[][] {
    const out: PathElement[][] = [];
    const walk = (s: FieldSet, prefix: PathElement[]): void => {
      for (const m of [...s.members].sort(comparePE)) out.push([...prefix, m]);
      for (const pe of [...s.children.keys()].sort(comparePE)) walk(s.children.get(pe)!, [...prefix, pe]);
    };
    walk(this, []);
    return out;
  }

  /** The FieldsV1 object (keys in upstream's order; `"."` marks an element that is both member and parent). */
  toFieldsV1(): Record<string, unknown> {
    return this.emit(false);
  }

  private emit(self: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (self) out['.'] = {};
    const keys = new Set<PathElement>(this.members);
    for (const [pe, c] of this.children) if (!c.empty()) keys.add(pe);
    for (const pe of [...keys].sort(comparePE)) {
      const c = this.children.get(pe);
      out[pe] = c && !c.empty() ? c.emit(this.members.has(pe)) : {};
    }
    return out;
  }

  /** Read a FieldsV1 object; throws on malformed content. Unknown element types are dropped, as upstream. */
  static fromFieldsV1(v: unknown): FieldSet {
    const s = new FieldSet();
    if (v === undefined || v === null) return s;
    readInto(s, v, '');
    return s;
  }

  toString(): string {
    return this.paths().map(pathString).join('\n');
  }
}

const EMPTY = new FieldSet();

/** Fills `s` with the children of `v`; returns whether `v` marks its own element as a member. */
function readInto(s: FieldSet, v: unknown, where: string): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`fieldsV1${where}: expected an object`);
  let isMember = false;
  let any = false;
  for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
    if (key === '.') {
      isMember = true;
      continue;
    }
    const pe = canonicalPE(key);
    if (pe === undefined) continue;
    any = true;
    const sub = new FieldSet();
    const childIsMember = readInto(sub, child, `${where}[${JSON.stringify(key)}]`);
    if (childIsMember) s.members.add(pe);
    if (!sub.empty()) {
      const prev = s.children.get(pe);
      s.children.set(pe, prev ? prev.union(sub) : sub);
    }
  }
  return isMember || !any;
}
