// NamespaceLifecycle admission: objects may not be created in a missing or terminating namespace,
// and the system namespaces cannot be deleted. Active namespaces are answered from a watch-fed cache (as
// upstream's namespace informer); anything else is looked up live, so a namespace created a moment ago is found.

import { ApiError, forbiddenError, notFound, qualified } from '../../api/errors.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import type { AdmissionPlugin } from '../admission.js';
import type { ResourceStore } from '../registry/store.js';

const IMMORTAL = new Set(['default', 'kube-system', 'kube-public']);

/** Names of the Active namespaces, from one list + watch on the store; dropped (and re-listed on next use) on any error. */
class ActiveNamespaces {
  private active: Set<string> | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly def: KindDef,
  ) {}

  /** Forget `name` now (a delete is under way here): lookups go live until the watch says otherwise. */
  forget(name: string): void {
    this.active?.delete(name);
  }

  /** True when the cache knows `name` as Active; false means "look it up". */
  has(name: string): boolean {
    if (this.active) return this.active.has(name);
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return false;
  }

  private async load(): Promise<void> {
    const isActive = (o: KubeObject) => !o.metadata.deletionTimestamp && (o.status as { phase?: string } | undefined)?.phase !== 'Terminating';
    const list = await this.store.list(this.def, undefined);
    const set = new Set<string>();
    for (const o of list.items) if (isActive(o)) set.add(o.metadata.name ?? '');
    const w = this.store.watch(
      this.def,
      undefined,
      Number(list.resourceVersion),
      () => true,
      (evs) => {
        for (const ev of evs) {
          const name = ev.object.metadata.name ?? '';
          if (ev.type !== 'DELETED' && isActive(ev.object)) set.add(name);
          else set.delete(name);
        }
      },
      () => {
        if (this.active === set) this.active = undefined;
        w.close();
      },
    );
    this.active = set;
  }
}

export function namespaceLifecycle(namespaceDef: () => KindDef | undefined): AdmissionPlugin {
  let cache: ActiveNamespaces | undefined;
  return {
    name: 'NamespaceLifecycle',
    async validate(a) {
      const nsDef = namespaceDef();
      if (!nsDef) return;
      if (a.def === nsDef) {
        if (a.operation === 'DELETE' && IMMORTAL.has(a.name))
          throw forbiddenError(`namespaces "${a.name}" is forbidden: this namespace may not be deleted`, { name: a.name, kind: 'namespaces' });
        if (a.operation === 'DELETE') cache?.forget(a.name);
        return;
      }
      if (!a.def.namespaced || !a.namespace) return;
      if (a.operation !== 'CREATE') return;
      cache ??= new ActiveNamespaces(a.store, nsDef);
      if (cache.has(a.namespace)) return;
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
