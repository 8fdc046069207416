// JSON merge patch (RFC 7386, application/merge-patch+json) with the exact behaviour of the evanphx/json-patch v4
// MergePatch the API server uses: null deletes, objects merge recursively, everything else replaces; null members of
// objects inside inserted values are pruned (null array elements are kept).

import { clone, hasOwn, isObject, setKey, type JsonObject } from './value.js';

/** Applies `patch` to `original`. Neither input is modified and the result shares no objects with them. */
export function mergePatch(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return pruneNulls(patch);
  const doc: JsonObject = isObject(original) ? clone(original) : {};
  mergeDocs(doc, patch);
  return doc;
}

function mergeDocs(doc: JsonObject, patch: JsonObject): void {
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      delete doc[k];
      continue;
    }
    const cur = hasOwn(doc, k) ? doc[k] : null;
    setKey(doc, k, cur === null ? pruneNulls(v) : merge(cur, v));
  }
}

function merge(cur: unknown, patch: unknown): unknown {
  if (!isObject(cur)) return pruneNulls(patch);
  if (!isObject(patch)) return clone(patch); // upstream returns a non-object patch value unpruned here
  mergeDocs(cur, patch);
  return cur;
}

/** A copy of `v` without null object members, at any depth (arrays keep their null elements). */
function pruneNulls(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(pruneNulls);
  const out: JsonObject = {};
  for (const k of Object.keys(v)) {
    const x = (v as JsonObject)[k];
    if (x !== null && x !== undefined) setKey(out, k, pruneNulls(x));
  }
  return out;
}
