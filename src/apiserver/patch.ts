// PATCH bodies: JSON patch, JSON merge patch and strategic merge patch applied to the current object
// (api/patch), with field validation of the patched result. Server-side apply lives in apply.ts.

import type { KubeObject } from '../api/types.js';
import type { RequestContext } from './registry/store.js';
import { checkPatchedFields, type FieldValidation } from './validation.js';

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

export async function applyPatchBody(contentType: string, current: KubeObject, raw: Buffer, validation: FieldValidation | undefined, ctx: RequestContext, gvk: GVK): Promise<KubeObject> {
  const [{ applyPatch }, { kindSchema }] = await Promise.all([import('../api/patch/index.js'), import('../api/schema/registry.js')]);
  const schema = kindSchema(gvk.group, gvk.version, gvk.kind);
  const out = applyPatch(contentType, current, raw, schema) as KubeObject;
  if (validation && validation !== 'Ignore') await checkPatchedFields(validation, gvk, out, raw, ctx, contentType);
  if (schema) (await import('../api/schema/fieldcheck.js')).pruneUnknownFields(out, schema);
  return out;
}
