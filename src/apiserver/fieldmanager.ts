// Adapter from the registry's FieldManager hook to api/managedfields: every non-apply write records which
// manager changed which fields (metadata.managedFields), as upstream's fieldmanager does.

import type { KindDef } from '../api/kinds/types.js';
import type { KubeObject } from '../api/types.js';
import type { FieldManager, RequestContext } from './registry/store.js';
import { apiVersionOf, nowRFC3339 } from './registry/store.js';

type ManagedFieldsModule = typeof import('../api/managedfields/index.js');
let mod: ManagedFieldsModule | undefined;

/** Load the managed-fields implementation (call once before serving). */
export async function initFieldManager(): Promise<void> {
  mod ??= await import('../api/managedfields/index.js');
}

export function managedFieldsModule(): ManagedFieldsModule {
  if (!mod) throw new Error('field manager not initialised');
  return mod;
}

export function managerName(ctx: RequestContext): string {
  if (ctx.fieldManager) return ctx.fieldManager;
  return managedFieldsModule().managerFromUserAgent(ctx.userAgent ?? '');
}

export function loadFieldManager(): FieldManager {
  return {
    update(old: KubeObject | undefined, updated: KubeObject, ctx: RequestContext, def: KindDef, subresource?: string): KubeObject {
      const m = managedFieldsModule();
      return m.updateManagedFields({
        old,
        updated,
        manager: managerName(ctx),
        operation: 'Update',
        subresource,
        now: nowRFC3339(),
        apiVersion: apiVersionOf(def.group, def.version),
      });
    },
  };
}
