// JSON patch (RFC 6902, application/json-patch+json) with the behaviour of evanphx/json-patch v4 as the API server
// configures it: negative array indices allowed, `replace`/`remove`/`move`/`copy` need an existing target, `test` of
// `null` also matches a missing member, "copy" growth limited to 3 MiB (JSONPatchMaxCopyBytes).
//
// Not built on fast-json-patch (installed): its validation and pointer rules differ from upstream in exactly these
// corners (no negative indices, lenient `replace` of a missing member, paths without a leading "/" rejected, no copy
// limit), and kubectl scripts relying on upstream behaviour would break. The whole engine is ~150 lines.

import { clone, deepEqual, hasOwn, setKey, type JsonObject } from './value.js';

/** One operation as decoded from the patch body (fields are validated as strings by the caller). */
export interface JsonPatchOperation {
  op?: unknown;
  path?: unknown;
  from?: unknown;
  value?: unknown;
}

/** A failed operation. The API server answers these with a generic 422; `message` is evanphx's text. */
export class JsonPatchError extends Error {}

/** Upstream's JSONPatchMaxCopyBytes default: total size "copy" operations may add. */
export const MAX_COPY_BYTES = 3 * 1024 * 1024;

type Container = JsonObject | unknown[];

/** Applies `ops` to a copy of `doc` and returns it; throws JsonPatchError on the first failing operation. */
export function jsonPatch(doc: unknown, ops: readonly (JsonPatchOperation | null)[]): unknown {
  const root = { doc: clone(doc) };
  let copied = 0;
  for (const raw of ops) {
    const op: JsonPatchOperation = raw ?? {};
    const kind = typeof op.op === 'string' ? op.op : 'unknown';
    switch (kind) {
      case 'add': {
        const path = pathOf(op, 'add operation failed to decode path');
        const [con, key] = find(root.doc, path);
        if (!con) throw new JsonPatchError(`add operation does not apply: doc is missing path: "${path}": missing value`);
        add(con, key, valueOf(op), path, 'error in add for path');
        break;
      }
      case 'remove': {
        const path = pathOf(op, 'remove operation failed to decode path');
        const [con, key] = find(root.doc, path);
        if (!con) throw new JsonPatchError(`remove operation does not apply: doc is missing path: "${path}": missing value`);
        remove(con, key, `error in remove for path: '${path}'`);
        break;
      }
      case 'replace': {
        const path = pathOf(op, 'replace operation failed to decode path');
        const value = valueOf(op);
        if (path === '') {
          if (value === null || typeof value !== 'object') throw new JsonPatchError('replace operation value must be object or array');
          root.doc = value;
          break;
        }
        const [con, key] = find(root.doc, path);
        if (!con) throw new JsonPatchError(`replace operation does not apply: doc is missing path: ${path}: missing value`);
        if (get(con, key) === MISSING) throw new JsonPatchError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
        set(con, key, value);
        break;
      }
      case 'move': {
        const from = fromOf(op, 'move operation failed to decode from');
        const [src, skey] = find(root.doc, from);
        if (!src) throw new JsonPatchError(`move operation does not apply: doc is missing from path: ${from}: missing value`);
        const val = get(src, skey);
        if (val === MISSING) throw new JsonPatchError(`error in move for path: '${skey}': missing value`);
        remove(src, skey, `error in move for path: '${skey}'`);
        const path = pathOf(op, 'move operation failed to decode path');
        const [dst, dkey] = find(root.doc, path);
        if (!dst) throw new JsonPatchError(`move operation does not apply: doc is missing destination path: ${path}: missing value`);
        add(dst, dkey, val, path, 'error in move for path');
        break;
      }
      case 'copy': {
        const from = fromOf(op, 'copy operation failed to decode from');
        const [src, skey] = find(root.doc, from);
        if (!src) throw new JsonPatchError(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
        const val = get(src, skey);
        if (val === MISSING) throw new JsonPatchError(`error in copy for from: '${from}': missing value`);
        const path = pathOf(op, 'copy operation failed to decode path');
        const [dst, dkey] = find(root.doc, path);
        if (!dst) throw new JsonPatchError(`copy operation does not apply: doc is missing destination path: ${path}: missing value`);
        if (val !== null) copied += Buffer.byteLength(JSON.stringify(val));
        if (copied > MAX_COPY_BYTES) {
          throw new JsonPatchError(`Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${MAX_COPY_BYTES}`);
        }
        add(dst, dkey, clone(val), path, 'error while adding value during copy');
        break;
      }
      case 'test': {
        const path = pathOf(op, 'test operation failed to decode path');
        const want = valueOf(op);
        if (path === '') {
          if (!deepEqual(root.doc, want)) throw new JsonPatchError(`testing value ${path} failed: test failed`);
          break;
        }
        const [con, key] = find(root.doc, path);
        if (!con) throw new JsonPatchError(`test operation does not apply: is missing path: ${path}: missing value`);
        let got: unknown;
        if (Array.isArray(con)) {
          got = get(con, key);
          if (got === MISSING) throw new JsonPatchError(`error in test for path: '${path}': invalid index referenced`);
        } else got = hasOwn(con, key) ? con[key] : null; // a missing member tests equal to null
        if (!deepEqual(got, want)) throw new JsonPatchError(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw new JsonPatchError(`Unexpected kind: ${kind}`);
    }
  }
  return root.doc;
}

const MISSING = Symbol('missing');

function pathOf(op: JsonPatchOperation, err: string): string {
  if (typeof op.path !== 'string') throw new JsonPatchError(`${err}: missing value`);
  return op.path;
}

function fromOf(op: JsonPatchOperation, err: string): string {
  if (typeof op.from !== 'string') throw new JsonPatchError(`${err}: operation, missing from field: missing value`);
  return op.from;
}

/** An absent "value" member is a null value upstream. */
const valueOf = (op: JsonPatchOperation): unknown => (op.value === undefined ? null : op.value);

const decodeKey = (k: string) => (k.includes('~') ? k.replaceAll('~1', '/').replaceAll('~0', '~') : k);

/**
 * findObject: the container holding the last path segment, and that segment. Like upstream, the path is split on
 * "/" and its first segment ignored (so "a/b" acts as "/b"); a path with no "/" has no container.
 */
function find(doc: unknown, path: string): [Container | undefined, string] {
  const parts = path.split('/');
  if (parts.length < 2) return [undefined, ''];
  let cur: unknown = doc;
  if (!isContainer(cur)) return [undefined, ''];
  for (let i = 1; i < parts.length - 1; i++) {
    const next = get(cur as Container, decodeKey(parts[i]));
    if (next === MISSING || !isContainer(next)) return [undefined, ''];
    cur = next;
  }
  return [cur as Container, decodeKey(parts[parts.length - 1])];
}

const isContainer = (v: unknown): v is Container => v !== null && typeof v === 'object';

/** strconv.Atoi: optional sign and decimal digits, within int64. */
function atoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Math.abs(n) <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/** Reads a member; MISSING if absent or an invalid index. */
function get(con: Container, key: string): unknown {
  if (Array.isArray(con)) {
    let i = atoi(key);
    if (i === undefined) return MISSING;
    if (i < 0) {
      if (i < -con.length) return MISSING;
      i += con.length;
    }
    return i < con.length ? con[i] : MISSING;
  }
  return hasOwn(con, key) ? con[key] : MISSING;
}

function set(con: Container, key: string, value: unknown): void {
  if (Array.isArray(con)) {
    let i = atoi(key) as number;
    if (i < 0) i += con.length;
    con[i] = value;
  } else setKey(con, key, value);
}

function add(con: Container, key: string, value: unknown, path: string, errPrefix: string): void {
  if (!Array.isArray(con)) {
    setKey(con, key, value);
    return;
  }
  if (key === '-') {
    con.push(value);
    return;
  }
  let i = atoi(key);
  if (i === undefined) throw new JsonPatchError(`${errPrefix}: '${path}': value was not a proper array index: '${key}'`);
  const size = con.length + 1;
  if (i >= size || i < -size) throw new JsonPatchError(`${errPrefix}: '${path}': Unable to access invalid index: ${i}: invalid index referenced`);
  if (i < 0) i += size;
  con.splice(i, 0, value);
}

function remove(con: Container, key: string, errPrefix: string): void {
  if (!Array.isArray(con)) {
    if (!hasOwn(con, key)) throw new JsonPatchError(`${errPrefix}: unable to remove nonexistent key: ${key}: missing value`);
    delete con[key];
    return;
  }
  let i = atoi(key);
  if (i === undefined) throw new JsonPatchError(`${errPrefix}: strconv.Atoi: parsing "${key}": invalid syntax`);
  if (i >= con.length || i < -con.length) throw new JsonPatchError(`${errPrefix}: Unable to access invalid index: ${i}: invalid index referenced`);
  if (i < 0) i += con.length;
  con.splice(i, 1);
}
