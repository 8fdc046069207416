// Ownership tracking for every write that is not an apply (create, update, patch): the writing manager takes the
// fields it added or changed, fields it removed leave everyone's sets (upstream's Updater.Update behind
// apimachinery's field manager chain, including its rules for client-written managedFields).

import { kindSchema } from '../schema/registry.js';
import type { SchemaNode } from '../schema/types.js';
import type { KubeObject } from '../types.js';
import { ignoredSet } from './apply.js';
import { STRIP_SET, capUpdateManagers, decodeManaged, encodeManaged, formatTime, isResetManagedFields, makeKey, managerId, type Managed } from './managers.js';
import { compare, excludeFields, type Node } from './typed.js';

export interface UpdateInput {
  /** The stored object; undefined on create. */
  old: KubeObject | undefined;
  /** The object about to be stored (after patching, defaulting and validation). Not modified. */
  updated: KubeObject;
  /** ?fieldManager, else managerFromUserAgent(User-Agent); empty means "unknown". */
  manager: string | undefined;
  operation?: 'Update';
  subresource?: string;
  now: Date | string;
  /** group/version of the endpoint, e.g. "apps/v1". */
  apiVersion: string;
  /**
   * Resolved schema of the kind. Omitted: looked up in the schema registry from apiVersion and updated.kind;
   * null: none (objects granular, lists atomic).
   */
  schema?: SchemaNode | null;
  /** Fields reset by the strategy, as in ApplyInput.ignored. */
  ignored?: readonly (readonly string[])[];
}

function schemaFor(apiVersion: string, kind: unknown): Node {
  if (typeof kind !== 'string' || !kind) return undefined;
  const slash = apiVersion.indexOf('/');
  try {
    return kindSchema(slash < 0 ? '' : apiVersion.slice(0, slash), slash < 0 ? apiVersion : apiVersion.slice(slash + 1), kind);
  } catch {
    return undefined; // no generated definitions (e.g. a unit test run): deduced types
  }
}

function decodeOrEmpty(entries: unknown): Managed {
  try {
    return decodeManaged(entries);
  } catch {
    return new Map();
  }
}

/**
 * Where ownership starts from (upstream's decodeLiveOrNew): on a subresource always the stored entries; otherwise
 * the client's own managedFields when it sent a decodable, non-empty list (so a JSON patch may rewrite them, as
 * kubectl's migration does), an empty start for `[]` / `[{}]`, and the stored entries in every other case.
 */
function startingPoint(old: KubeObject | undefined, updated: KubeObject, subresource: string | undefined): Managed {
  const oldMF = old?.metadata?.managedFields;
  if (subresource) return decodeOrEmpty(oldMF);
  const newMF = updated.metadata?.managedFields;
  if (isResetManagedFields(newMF)) return new Map();
  try {
    const m = decodeManaged(newMF);
    if (m.size > 0) return m;
  } catch {
    // undecodable: keep the stored ownership, as upstream does
  }
  return decodeOrEmpty(oldMF);
}

function withoutManagedFields(o: KubeObject | undefined): Record<string, unknown> {
  if (!o) return {};
  const { metadata, ...rest } = o;
  if (typeof metadata !== 'object' || metadata === null) return rest;
  const { managedFields: _drop, ...md } = metadata;
  return { ...rest, metadata: md };
}

/**
 * The updated object with metadata.managedFields recording this write. When nothing changed, existing entries
 * (and their times) stay as they were. Never throws: on an internal failure the object is returned without
 * managedFields, as upstream's UpdateNoErrors.
 */
export function updateManagedFields(input: UpdateInput): KubeObject {
  try {
    return track(input);
  } catch {
    const out = { ...input.updated, metadata: { ...input.updated.metadata } };
    delete out.metadata.managedFields;
    return out;
  }
}

function track(input: UpdateInput): KubeObject {
  const { old, updated, apiVersion, subresource } = input;
  const schema: Node = input.schema === undefined ? schemaFor(apiVersion, updated.kind ?? old?.kind) : (input.schema ?? undefined);
  const managers = startingPoint(old, updated, subresource);
  const ignored = ignoredSet(input.ignored, subresource);
  const cmp = excludeFields(compare(withoutManagedFields(old), withoutManagedFields(updated), schema), ignored);

  // Everyone else loses what this write changed, added or removed.
  const touched = managers.size > 0 ? cmp.modified.union(cmp.added).union(cmp.removed) : undefined;
  if (touched && !touched.empty()) {
    for (const [id, e] of [...managers]) {
      const s = e.set.difference(touched);
      if (s.empty()) managers.delete(id);
      else managers.set(id, { ...e, set: s });
    }
  }

  const own = cmp.added.union(cmp.modified).difference(cmp.removed).recursiveDifference(ignored).difference(STRIP_SET);
  if (!own.empty()) {
    const key = makeKey(input.manager ?? '', 'Update', apiVersion, subresource);
    const id = managerId(key);
    const prev = managers.get(id);
    managers.set(id, { key, apiVersion, set: prev ? own.union(prev.set) : own, time: formatTime(input.now) });
  }
  capUpdateManagers(managers);

  const out = { ...updated, metadata: { ...updated.metadata } };
  const encoded = encodeManaged(managers);
  if (encoded) out.metadata.managedFields = encoded;
  else delete out.metadata.managedFields;
  return out;
}
