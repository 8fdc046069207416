// NamespaceLifecycle admission: objects may not be created in a missing or terminating namespace,
// and the system namespaces cannot be deleted. Active namespaces are answered from a watch-fed cache (as
// upstream's namespace informer); anything else is looked up live, so a namespace created a moment ago is found.

import { ApiError, forbiddenError, notFound, qualified } from '../../api/errors.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import type { AdmissionPlugin } from '../admission.js';
import { ObjectCache } from './cache.js';

const IMMORTAL = new Set(['default', 'kube-system', 'kube-public']);

/** How long after a delete through this server a namespace is looked up live (upstream's forceLiveLookup TTL). */
const LIVE_LOOKUP_MS = 30_000;

export function namespaceLifecycle(namespaceDef: () => KindDef | undefined): AdmissionPlugin {
  const cache = new ObjectCache(namespaceDef);
  const deletedHere = new Map<string, number>();
  const active = (o: KubeObject) => !o.metadata.deletionTimestamp && (o.status as { phase?: string } | undefined)?.phase !== 'Terminating';
  return {
    name: 'NamespaceLifecycle',
    async validate(a) {
      const nsDef = namespaceDef();
      if (!nsDef) return;
      if (a.def === nsDef) {
        if (a.operation === 'DELETE' && IMMORTAL.has(a.name))
          throw forbiddenError(`namespaces "${a.name}" is forbidden: this namespace may not be deleted`, { name: a.name, kind: 'namespaces' });
        if (a.operation === 'DELETE') {
          deletedHere.set(a.name, Date.now());
          if (deletedHere.size > 1000) for (const [n, at] of deletedHere) if (Date.now() - at > LIVE_LOOKUP_MS) deletedHere.delete(n);
        }
        return;
      }
      if (!a.def.namespaced || !a.namespace) return;
      if (a.operation !== 'CREATE') return;
      const at = deletedHere.get(a.namespace);
      const recentlyDeleted = at !== undefined && Date.now() - at <= LIVE_LOOKUP_MS;
      if (at !== undefined && !recentlyDeleted) deletedHere.delete(a.namespace);
      if (!recentlyDeleted) {
        const cached = cache.get(a.store, undefined, a.namespace);
        if (cached && active(cached)) return;
      }
      const ns = await a.store.tryGet(nsDef, undefined, a.namespace);
      if (!ns) throw notFound('', 'namespaces', a.namespace);
      const phase = (ns.status as { phase?: string } | undefined)?.phase;
      if (ns.metadata.deletionTimestamp || phase === 'Terminating') {
        const res = qualified(a.def.plural, a.def.group);
        throw new ApiError(403, 'Forbidden', `${res} "${a.name}" is forbidden: unable to create new content in namespace ${a.namespace} because it is being terminated`, {
          name: a.name,
          group: a.def.group,
          kind: a.def.plural,
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${a.namespace} is being terminated`, field: 'metadata.namespace' }],
        });
      }
    },
  };
}
