// NamespaceLifecycle admission: objects may not be created in a missing or terminating namespace,
// and the system namespaces cannot be deleted.

import { ApiError, forbiddenError, notFound, qualified } from '../../api/errors.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { AdmissionPlugin } from '../admission.js';

const IMMORTAL = new Set(['default', 'kube-system', 'kube-public']);

export function namespaceLifecycle(namespaceDef: () => KindDef | undefined): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    async validate(a) {
      const nsDef = namespaceDef();
      if (!nsDef) return;
      if (a.def === nsDef) {
        if (a.operation === 'DELETE' && IMMORTAL.has(a.name))
          throw forbiddenError(`namespaces "${a.name}" is forbidden: this namespace may not be deleted`, { name: a.name, kind: 'namespaces' });
        return;
      }
      if (!a.def.namespaced || !a.namespace) return;
      if (a.operation !== 'CREATE') return;
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
