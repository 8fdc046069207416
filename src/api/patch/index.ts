// The API server's PATCH machinery: picks the engine by Content-Type, decodes the body with encoding/json's error
// texts, and turns failures into the Status errors upstream's patch handler sends (apiserver handlers/patch.go with
// the default fieldValidation, Warn: malformed bodies 400 "error decoding patch: …", failed JSON patch operations 422).
// Pure: no I/O, inputs are never modified.

import { badRequest, invalid, invalidError, tooLarge, unsupportedMediaType } from '../errors.js';
import type { SchemaNode } from '../schema/types.js';
import { jsonPatch, JsonPatchError, type JsonPatchOperation } from './json.js';
import { mergePatch } from './merge.js';
import { strategicMergePatch, unprocessable } from './strategic.js';
import { decodeJson, deepEqual, goJsonKind, isObject, JsonSyntaxError, type JsonObject } from './value.js';

export { mergePatch } from './merge.js';
export { jsonPatch, JsonPatchError, MAX_COPY_BYTES, type JsonPatchOperation } from './json.js';
export { strategicMergePatch, GENERIC_422 } from './strategic.js';
export { decodeJson, deepEqual, JsonSyntaxError, type JsonObject } from './value.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** Upstream's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

export interface ApplyPatchOptions {
  /**
   * Whether the kind accepts strategic merge patch. Upstream serves it for built-in kinds only; custom resources
   * answer it with 415 (pass false for them).
   */
  strategic?: boolean;
}

/** The media types a PATCH may use, in upstream's order (the 415 message lists them). */
export function patchTypes(opts: ApplyPatchOptions = {}): string[] {
  return opts.strategic === false ? [JSON_PATCH, MERGE_PATCH, APPLY_PATCH] : [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];
}

/**
 * Applies a JSON, merge or strategic merge patch to `original` and returns the patched object (a new object).
 * `patchBody` is the raw body (string or bytes; preferred, so syntax errors read like upstream's) or its parsed JSON.
 * `schema` is the kind's root schema node (drives strategic merge; undefined = no merge strategies anywhere).
 * Server-side apply (application/apply-patch+yaml) is not handled here.
 * Throws ApiError: 400 BadRequest (malformed body or strategic patch), 413 (too many JSON patch operations), 415
 * (other media type), 422 Invalid (failed JSON patch operation, or a result that is not an object).
 */
export function applyPatch(contentType: string, original: object, patchBody: unknown, schema: SchemaNode | undefined, opts: ApplyPatchOptions = {}): JsonObject {
  const mt = contentType.split(';')[0].trim().toLowerCase();
  const strategicOk = opts.strategic !== false;
  if (mt !== JSON_PATCH && mt !== MERGE_PATCH && !(mt === STRATEGIC_MERGE_PATCH && strategicOk)) {
    throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${patchTypes(opts).join(', ')}`);
  }
  const prefix = mt === STRATEGIC_MERGE_PATCH ? '' : 'error decoding patch: ';
  let patch = patchBody;
  if (typeof patchBody === 'string' || patchBody instanceof Uint8Array) {
    try {
      patch = decodeJson(patchBody);
    } catch (e) {
      if (e instanceof JsonSyntaxError) throw badRequest(prefix + e.message);
      throw e;
    }
  }
  try {
    let result: unknown;
    if (mt === STRATEGIC_MERGE_PATCH) {
      if (patch !== null && !isObject(patch)) throw badRequest(cannotUnmarshal(patch, 'map[string]interface {}'));
      result = strategicMergePatch(original as JsonObject, patch ?? {}, schema);
    } else if (mt === MERGE_PATCH) {
      if (patch === null) throw badRequest('Invalid JSON Patch');
      if (!isObject(patch)) throw badRequest(prefix + cannotUnmarshal(patch, 'map[string]interface {}'));
      result = mergePatch(original, patch);
    } else {
      const ops = decodeOperations(patch);
      if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
        throw tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
      }
      try {
        result = jsonPatch(original, ops);
      } catch (e) {
        if (e instanceof JsonPatchError) unprocessable(e.message);
        throw e;
      }
    }
    if (!isObject(result)) {
      throw invalidError('', '', '', [invalid('patch', JSON.stringify(result), `json: cannot unmarshal ${goJsonKind(result)} into Go value of type map[string]interface {}`)]);
    }
    return result;
  } catch (e) {
    // Pathologically deep parsed input (raw bodies are depth-checked while decoding) must not take the server down.
    if (e instanceof RangeError) throw badRequest(`${prefix}invalid character '[' exceeded max depth`);
    throw e;
  }
}

/** True when a patch changed nothing (key order ignored): the server then keeps the resourceVersion. */
export function isNoop(before: unknown, after: unknown): boolean {
  return deepEqual(before, after);
}

const cannotUnmarshal = (v: unknown, goType: string) => `json: cannot unmarshal ${goJsonKind(v)} into Go value of type ${goType}`;

/** Type-checks a JSON patch body the way upstream's strict decode into []jsonPatchOp does. */
function decodeOperations(patch: unknown): (JsonPatchOperation | null)[] {
  const prefix = 'error decoding patch: ';
  if (patch === null) return [];
  if (!Array.isArray(patch)) throw badRequest(prefix + cannotUnmarshal(patch, '[]handlers.jsonPatchOp'));
  for (const op of patch) {
    if (op === null) continue;
    if (!isObject(op)) throw badRequest(prefix + cannotUnmarshal(op, 'handlers.jsonPatchOp'));
    for (const f of Object.keys(op)) {
      if (f !== 'op' && f !== 'path' && f !== 'from') continue;
      const v = op[f];
      if (v !== null && typeof v !== 'string') throw badRequest(`${prefix}json: cannot unmarshal ${goJsonKind(v)} into Go struct field jsonPatchOp.${f} of type string`);
    }
  }
  return patch as (JsonPatchOperation | null)[];
}
