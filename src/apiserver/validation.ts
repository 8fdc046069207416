// fieldValidation (Strict / Warn / Ignore): unknown and duplicate fields in request bodies are rejected with a
// 400 (Strict) or reported as `Warning:` headers (Warn), using the OpenAPI schemas (api/schema).

import { badRequest } from '../api/errors.js';
import type { KindDef } from '../api/kinds/types.js';
import type { KubeObject } from '../api/types.js';
import type { RequestContext } from './registry/store.js';
import { mediaType } from './request.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

interface GVK {
  group: string;
  version: string;
  kind: string;
}

type SchemaModules = [typeof import('../api/schema/registry.js'), typeof import('../api/schema/fieldcheck.js')];
let schemaModules: SchemaModules | undefined;

/** The schema modules, loaded on first use (the OpenAPI definitions are large); no await once they are loaded. */
function loadSchemaModules(): SchemaModules | Promise<SchemaModules> {
  return (
    schemaModules ??
    Promise.all([import('../api/schema/registry.js'), import('../api/schema/fieldcheck.js')]).then((m) => (schemaModules = m))
  );
}

async function problems(gvk: GVK, obj: KubeObject, raw: Buffer | undefined, contentType: string | undefined): Promise<string[]> {
  const [{ kindSchema }, fc] = schemaModules ?? (await loadSchemaModules());
  const schema = kindSchema(gvk.group, gvk.version, gvk.kind);
  const mt = mediaType(contentType);
  const isJSON = mt === 'application/json' || mt === '';
  // Typed JSON bodies: upstream's messages in document order (a repeated unknown field counts as unknown).
  if (raw && isJSON && schema) return fc.strictFieldErrors(raw.toString('utf8'), schema);
  const out: string[] = [];
  if (raw && (mt === 'application/yaml' || mt === 'application/apply-patch+yaml')) {
    for (const d of fc.duplicateYAMLFields(raw.toString('utf8'))) out.push(`line ${d.line}: key "${d.key}" already set in map`);
  } else if (raw && (isJSON || mt === 'application/merge-patch+json' || mt === 'application/strategic-merge-patch+json')) {
    for (const f of fc.duplicateFields(raw.toString('utf8'))) out.push(`duplicate field "${f}"`);
  }
  if (schema) for (const f of fc.unknownFields(obj, schema)) out.push(`unknown field "${f.replace(/^\./, '')}"`);
  return out;
}

function report(mode: FieldValidation, gvk: GVK, found: string[], ctx: RequestContext): void {
  if (!found.length) return;
  if (mode === 'Strict') throw badRequest(`${gvk.kind} in version "${gvk.version}" cannot be handled as a ${gvk.kind}: strict decoding error: ${found.join(', ')}`);
  ctx.warnings.push(...found);
}

export async function checkFieldValidation(mode: FieldValidation, def: KindDef, version: string, obj: KubeObject, raw: Buffer, contentType: string | undefined, ctx: RequestContext): Promise<void> {
  if (mode === 'Ignore') return;
  // Protobuf bodies cannot carry unknown fields.
  if (mediaType(contentType) === 'application/vnd.kubernetes.protobuf') return;
  const gvk = { group: def.group, version, kind: def.kind };
  report(mode, gvk, await problems(gvk, obj, raw, contentType), ctx);
}

export async function checkPatchedFields(mode: FieldValidation, gvk: GVK, obj: KubeObject, raw: Buffer, ctx: RequestContext, contentType = 'application/merge-patch+json'): Promise<void> {
  if (mode === 'Ignore') return;
  report(mode, gvk, await problems(gvk, obj, raw, contentType), ctx);
}

/** Remove fields the kind's schema does not know (upstream's typed decoding drops them at every level). */
export async function pruneUnknown(gvk: GVK, obj: KubeObject): Promise<void> {
  const [{ kindSchema }, { pruneUnknownFields }] = schemaModules ?? (await loadSchemaModules());
  const schema = kindSchema(gvk.group, gvk.version, gvk.kind);
  if (schema) pruneUnknownFields(obj, schema);
}
