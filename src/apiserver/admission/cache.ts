// A watch-fed, read-only cache of one kind for admission plugins (upstream's plugins read informer listers):
// one list + one watch on the store, objects by namespace. Until it has loaded — and after a watch error, until
// it has loaded again — it answers "unknown" and the caller reads the store itself. Like a lister it may trail
// the store by the watch delivery delay; plugins that must not act on a stale answer re-check live.
// **Cached objects are shared with the store's watchers: never mutate them.**

import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import type { ResourceStore } from '../registry/store.js';

interface Loaded {
  byNs: Map<string, Map<string, KubeObject>>;
}

export class ObjectCache {
  private readonly states = new WeakMap<ResourceStore, { loaded?: Loaded; loading?: Promise<void> }>();

  constructor(private readonly def: () => KindDef | undefined) {}

  /** The objects in `ns` ('' for cluster-scoped kinds), or undefined when not known yet (read live). */
  list(store: ResourceStore, ns: string | undefined): KubeObject[] | undefined {
    const loaded = this.loaded(store);
    if (!loaded) return undefined;
    return [...(loaded.byNs.get(ns ?? '')?.values() ?? [])];
  }

  /** One object: the object, null when the loaded cache has none, undefined when not known yet. */
  get(store: ResourceStore, ns: string | undefined, name: string): KubeObject | null | undefined {
    const loaded = this.loaded(store);
    if (!loaded) return undefined;
    return loaded.byNs.get(ns ?? '')?.get(name) ?? null;
  }

  private loaded(store: ResourceStore): Loaded | undefined {
    let st = this.states.get(store);
    if (!st) this.states.set(store, (st = {}));
    if (st.loaded) return st.loaded;
    const def = this.def();
    if (def && !st.loading) {
      const s = st;
      s.loading = this.load(store, def, s)
        .catch(() => undefined)
        .finally(() => (s.loading = undefined));
    }
    return undefined;
  }

  private async load(store: ResourceStore, def: KindDef, st: { loaded?: Loaded }): Promise<void> {
    const list = await store.list(def, undefined);
    const loaded: Loaded = { byNs: new Map() };
    const put = (o: KubeObject): void => {
      const ns = o.metadata.namespace ?? '';
      let m = loaded.byNs.get(ns);
      if (!m) loaded.byNs.set(ns, (m = new Map()));
      m.set(o.metadata.name ?? '', o);
    };
    for (const o of list.items) put(o);
    const w = store.watch(
      def,
      undefined,
      Number(list.resourceVersion),
      () => true,
      (evs) => {
        for (const ev of evs) {
          if (ev.type === 'DELETED') loaded.byNs.get(ev.object.metadata.namespace ?? '')?.delete(ev.object.metadata.name ?? '');
          else put(ev.object);
        }
      },
      () => {
        if (st.loaded === loaded) st.loaded = undefined;
        w.close();
      },
    );
    st.loaded = loaded;
  }
}
