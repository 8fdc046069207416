// ResourceQuota admission (upstream plugin/pkg/admission/resourcequota): a validating plugin, run last, that
// checks a write against every ResourceQuota of its namespace and charges the quotas' status.used before the
// write is stored. Charges are read-modify-write on the quota guarded by its resourceVersion and retried on
// conflict, so concurrent requests — here or on another API server — never exceed a quota. Writes in one
// namespace are also taken one at a time here (as upstream's per-namespace queue) so they rarely conflict.
// Dry runs are checked but charge nothing. A write refused after its charge (e.g. AlreadyExists) gives it back;
// the quota controller's recalculation corrects anything else.

import { ApiError, forbiddenError, qualified } from '../../api/errors.js';
import type { KindDef } from '../../api/kinds/types.js';
import { evaluatorFor, ignoredByQuota } from '../../api/quota/evaluators.js';
import { checkRequest, QuotaRefusal, withUsed, type Charge } from '../../api/quota/quota.js';
import { parseResourceList, subtractNonNegative, type ResourceList } from '../../api/quota/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { AdmissionPlugin, Attributes } from '../admission.js';
import type { RequestContext, ResourceStore } from '../registry/store.js';
import { ObjectCache } from './cache.js';

export interface ResourceQuotaAdmissionOptions {
  now?: () => number;
  /** Re-reads after a conflicting quota write before giving up (upstream: 3). */
  retries?: number;
}

/** One chain of work per namespace: each call runs after the previous one has finished. */
class NamespaceSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(ns: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(ns) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(ns, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(ns) === tail) this.tails.delete(ns);
    }
  }
}

const systemContext = (): RequestContext => ({
  user: { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] },
  dryRun: false,
  fieldManager: 'kube-apiserver',
  warnings: [],
});

const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;
const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;

/** admission.NewForbidden's name: the request's, else the object's, else its generateName. */
function requestName(a: Attributes): string {
  return a.name || a.object?.metadata.name || a.object?.metadata.generateName || 'Unknown';
}

export function resourceQuotaAdmission(kind: (group: string, plural: string) => KindDef | undefined, opts: ResourceQuotaAdmissionOptions = {}): AdmissionPlugin {
  const now = opts.now ?? Date.now;
  const retries = opts.retries ?? 3;
  const serial = new NamespaceSerializer();
  const cache = new ObjectCache(() => kind('', 'resourcequotas'));

  const list = async (store: ResourceStore, def: KindDef, ns: string): Promise<KubeObject[]> => (await store.list(def, ns)).items;

  /** Checks and charges; returns what was added to each quota by name (empty for dry runs). */
  async function charge(a: Attributes, def: KindDef, ns: string, quotas: KubeObject[]): Promise<Map<string, ResourceList>> {
    const ev = evaluatorFor(a.def.group, a.def.plural);
    const req = { operation: a.operation as 'CREATE' | 'UPDATE', object: a.object!, oldObject: a.oldObject };
    const charged = new Map<string, ResourceList>();
    let subset = quotas;
    for (let attempt = 0; ; attempt++) {
      let charges: Charge[];
      try {
        charges = checkRequest(subset, req, ev, now());
      } catch (e) {
        if (e instanceof QuotaRefusal) throw forbiddenError(`${qualified(a.def.plural, a.def.group)} "${requestName(a)}" is forbidden: ${e.message}`, { name: requestName(a), group: a.def.group, kind: a.def.plural });
        throw e;
      }
      if (a.dryRun || !charges.length) return charged;
      const failed = new Set<string>();
      let lastErr: unknown;
      for (const c of charges) {
        const name = c.quota.metadata.name ?? '';
        try {
          await a.store.update(def, ns, name, withUsed(c.quota, c.used), systemContext(), 'status');
          charged.set(name, c.delta);
        } catch (e) {
          if (isNotFound(e)) continue; // deleted meanwhile: nothing to charge
          if (!isConflict(e)) throw e;
          failed.add(name);
          lastErr = e;
        }
      }
      if (!failed.size) return charged;
      if (attempt >= retries) throw lastErr;
      // Only the quotas whose write lost a race are checked again, against what they hold now.
      subset = (await list(a.store, def, ns)).filter((q) => failed.has(q.metadata.name ?? ''));
    }
  }

  /** Gives back what a refused write was charged (best effort: the controller recalculates anyway). */
  async function refund(store: ResourceStore, def: KindDef, ns: string, charged: Map<string, ResourceList>): Promise<void> {
    for (const [name, delta] of charged) {
      for (let attempt = 0; attempt <= retries; attempt++) {
        const q = await store.tryGet(def, ns, name);
        if (!q) break;
        const used = parseResourceList((q.status as { used?: unknown } | undefined)?.used);
        const back = subtractNonNegative(new Map([...used].filter(([k]) => delta.has(k))), delta);
        for (const [k, v] of back) used.set(k, v);
        try {
          await store.update(def, ns, name, withUsed(q, used), systemContext(), 'status');
          break;
        } catch (e) {
          if (!isConflict(e)) break;
        }
      }
    }
  }

  return {
    name: 'ResourceQuota',
    async validate(a) {
      const ns = a.namespace;
      if (a.subresource || !ns || !a.object) return;
      if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
      if (ignoredByQuota(a.def.group, a.def.plural)) return;
      if (!evaluatorFor(a.def.group, a.def.plural).handles(a.operation)) return;
      const def = kind('', 'resourcequotas');
      if (!def) return;
      // Most namespaces have no quota: answer those from the cache, without queueing behind other writes. The
      // charge itself always reads the quotas live.
      const known = cache.list(a.store, ns) ?? (await list(a.store, def, ns));
      if (!known.length) return;
      const charged = await serial.run(ns, async () => charge(a, def, ns, await list(a.store, def, ns)));
      if (charged.size && a.ctx) (a.ctx.onAbort ??= []).push(() => serial.run(ns, () => refund(a.store, def, ns, charged)));
    },
  };
}
