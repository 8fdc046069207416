// Server-side apply (PATCH application/apply-patch+yaml): upsert with field ownership via api/managedfields.

import { ApiError, badRequest } from '../api/errors.js';
import type { KindDef } from '../api/kinds/types.js';
import { isObject, type KubeObject } from '../api/types.js';
import { managedFieldsModule } from './fieldmanager.js';
import { apiVersionOf, nowRFC3339, type RequestContext, type ResourceStore } from './registry/store.js';
import { parseYAML } from './request.js';
import { checkPatchedFields, pruneUnknown, type FieldValidation } from './validation.js';

interface Served {
  def: KindDef;
  version: string;
}

export interface ApplyOptions {
  force: boolean;
  validation: FieldValidation;
  subresource?: string;
  toStored(obj: KubeObject): KubeObject;
  checkBody(obj: unknown): KubeObject;
}

export async function applyServerSidePatch(
  resources: ResourceStore,
  s: Served,
  ns: string | undefined,
  name: string,
  raw: Buffer,
  ctx: RequestContext,
  o: ApplyOptions,
): Promise<{ object: KubeObject; created: boolean }> {
  const { def } = s;
  const parsed = parseYAML(raw.toString('utf8'));
  if (!isObject(parsed)) throw badRequest('error decoding YAML: the apply configuration must be an object');
  if (!parsed.apiVersion || !parsed.kind) throw badRequest('invalid object type: /, Kind=');
  const applied = o.checkBody(parsed);
  if (applied.metadata.name !== undefined && applied.metadata.name !== name)
    throw badRequest(`the name of the object (${String(applied.metadata.name)}) does not match the name on the URL (${name})`);
  applied.metadata.name = name;
  const gvk = { group: def.group, version: s.version, kind: def.kind };
  await checkPatchedFields(o.validation, gvk, applied, raw, ctx, 'application/apply-patch+yaml');
  await pruneUnknown(gvk, applied);
  const [{ kindSchema }] = await Promise.all([import('../api/schema/registry.js')]);
  const schema = kindSchema(def.group, s.version, def.kind);
  const m = managedFieldsModule();
  const apiVersion = apiVersionOf(def.group, s.version);
  const applyCtx: RequestContext = { ...ctx, skipFieldTracking: true };

  const run = (live: KubeObject | undefined): KubeObject => {
    // Conflicts throw upstream's 409 (grouped by manager) from api/managedfields.
    return m.applyServerSide({ live, applied: structuredClone(applied), manager: ctx.fieldManager!, force: o.force, schema, now: nowRFC3339(), apiVersion, kind: def.kind, subresource: o.subresource }).object;
  };

  return resources.guaranteedUpdate(
    def,
    ns,
    name,
    applyCtx,
    (current) => {
      const out = o.toStored(run(current));
      // Preserve the stored resourceVersion so the no-op check sees an unchanged object.
      out.metadata.resourceVersion = undefined;
      return out;
    },
    {
      subresource: o.subresource,
      allowCreate: async () => {
        if (o.subresource) throw new ApiError(404, 'NotFound', `${def.plural} "${name}" not found`, { name, group: def.group, kind: def.plural });
        const obj = o.toStored(run(undefined));
        return resources.create(def, ns, obj, applyCtx);
      },
    },
  );
}
