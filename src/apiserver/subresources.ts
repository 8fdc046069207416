// Subresources implemented over the generic store: `/scale` (autoscaling/v1 Scale), `pods/binding` and
// `pods/eviction` (policy/v1, honouring PodDisruptionBudgets).

import { ApiError, badRequest, conflict, invalidError, type FieldError } from '../api/errors.js';
import type { KindDef } from '../api/kinds/types.js';
import { fromLabelSelector } from '../api/selectors/labels.js';
import { isObject, type KubeObject, type LabelSelector } from '../api/types.js';
import type { DeleteOptions, RequestContext, ResourceStore } from './registry/store.js';
import { nowRFC3339 } from './registry/store.js';

function at(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function setAt(obj: Record<string, unknown>, path: string[], v: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    if (!isObject(cur[p])) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = v;
}

export function getScale(def: KindDef, obj: KubeObject): KubeObject {
  const sc = def.scale!;
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: (at(obj, sc.specReplicasPath) as number | undefined) ?? 0 },
    status: { replicas: (at(obj, sc.statusReplicasPath) as number | undefined) ?? 0, selector: sc.selector(obj) },
  };
}

/** Apply a desired Scale to the current object: only spec.replicas changes; resourceVersion is a precondition. */
export function scaleFromBody(def: KindDef, current: KubeObject, scale: KubeObject): KubeObject {
  if (!isObject(scale)) throw badRequest('the body is not a Scale object');
  if (scale.kind !== undefined && scale.kind !== 'Scale') throw badRequest(`${String(scale.kind)} in version "v1" cannot be handled as a Scale`);
  const replicas = at(scale, ['spec', 'replicas']);
  const name = current.metadata.name ?? '';
  const errs: FieldError[] = [];
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas)))
    errs.push({ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be an integer' });
  else if (typeof replicas === 'number' && replicas < 0) errs.push({ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' });
  if (errs.length) throw invalidError('autoscaling', 'Scale', name, errs);
  const rv = (scale.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
  if (rv && rv !== current.metadata.resourceVersion) throw conflict(def.group, def.plural, name, 'the object has been modified; please apply your changes to the latest version and try again');
  const next = structuredClone(current);
  setAt(next, def.scale!.specReplicasPath, replicas ?? 0);
  return next;
}

/** pods/binding: assign a node once. */
export async function bindPod(store: ResourceStore, podDef: KindDef, ns: string, name: string, binding: KubeObject, ctx: RequestContext): Promise<void> {
  const target = (binding as { target?: { kind?: string; name?: string } }).target;
  if (!isObject(binding) || !target?.name) throw invalidError('', 'Binding', name, [{ type: 'FieldValueRequired', field: 'target.name' }]);
  if (target.kind && target.kind !== 'Node') throw invalidError('', 'Binding', name, [{ type: 'FieldValueNotSupported', field: 'target.kind', value: target.kind, detail: 'supported values: "Node"' }]);
  const bname = binding.metadata?.name;
  if (bname && bname !== name) throw badRequest(`the name of the object (${bname}) does not match the name on the URL (${name})`);
  await store.guaranteedUpdate(podDef, ns, name, ctx, (pod) => {
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (pod.metadata.deletionTimestamp) throw conflict('', 'pods/binding', name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (spec.nodeName) throw conflict('', 'pods/binding', name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = target.name;
    pod.spec = spec;
    const status = (pod.status ?? {}) as { conditions?: { type: string; status: string; lastProbeTime?: string | null; lastTransitionTime?: string }[] };
    const conds = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRFC3339() });
    status.conditions = conds;
    pod.status = status;
    const ann = binding.metadata?.annotations;
    if (ann) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...ann };
    return pod;
  }, { subresource: 'binding' });
}

interface ServerLike {
  resources: ResourceStore;
  kind(group: string, plural: string): KindDef | undefined;
}

/** pods/eviction: delete the pod unless a PodDisruptionBudget forbids it (upstream's 429). */
export async function evictPod(server: ServerLike, podDef: KindDef, ns: string, name: string, eviction: KubeObject, ctx: RequestContext): Promise<void> {
  if (!isObject(eviction)) throw badRequest('the body is not an Eviction object');
  const ename = eviction.metadata?.name;
  if (ename && ename !== name) throw badRequest(`name in URL does not match name in Eviction object`);
  const pod = await server.resources.get(podDef, ns, name);
  const opts = ((eviction as { deleteOptions?: DeleteOptions }).deleteOptions ?? {}) as DeleteOptions;
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const pdbDef = server.kind('policy', 'poddisruptionbudgets');
  // Terminal, pending or already-deleting pods ignore budgets (upstream canIgnorePDB).
  const ignoreBudget = phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp;
  if (pdbDef && !ignoreBudget) {
    const { items } = await server.resources.list(pdbDef, ns);
    const matching = items.filter((pdb) => {
      const sel = (pdb.spec as { selector?: LabelSelector } | undefined)?.selector;
      return sel !== undefined && fromLabelSelector(sel).matches(pod.metadata.labels) && !fromLabelSelector(sel).empty;
    });
    if (matching.length > 1) throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    if (matching.length === 1 && !unhealthyMayGo(matching[0], pod)) {
      const pdb = matching[0];
      await server.resources.guaranteedUpdate(pdbDef, ns, pdb.metadata.name!, ctx, (cur) => {
        const st = (cur.status ?? {}) as PdbStatus;
        const tooMany = (why: string) => new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", { causes: [{ reason: 'DisruptionBudget', message: why }] });
        if ((st.observedGeneration ?? 0) < (cur.metadata.generation ?? 0)) throw tooMany(`The disruption budget ${cur.metadata.name} is still being processed by the server.`);
        if ((st.disruptionsAllowed ?? 0) < 0) throw new ApiError(403, 'Forbidden', 'pdb disruptions allowed is negative');
        if (Object.keys(st.disruptedPods ?? {}).length >= 2000) throw new ApiError(403, 'Forbidden', 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
        if ((st.disruptionsAllowed ?? 0) === 0) throw tooMany(`The disruption budget ${cur.metadata.name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`);
        st.disruptionsAllowed = (st.disruptionsAllowed ?? 0) - 1;
        st.disruptedPods = { ...(st.disruptedPods ?? {}), [name]: nowRFC3339() };
        cur.status = st;
        return cur;
      }, { subresource: 'status' });
    }
  }
  // Upstream addConditionAndDeletePod: mark the pod DisruptionTarget (through the status store), then delete it.
  if (!ctx.dryRun) {
    await server.resources.guaranteedUpdate(podDef, ns, name, ctx, (cur) => {
      const status = (cur.status ?? {}) as { conditions?: PodCondition[] };
      const conds = status.conditions ?? [];
      const old = conds.find((c) => c.type === 'DisruptionTarget');
      if (old && old.status === 'True' && old.reason === 'EvictionByEvictionAPI' && old.message === 'Eviction API: evicting') return cur;
      const cond: PodCondition = { type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : nowRFC3339(), reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' };
      status.conditions = old ? conds.map((c) => (c === old ? cond : c)) : [...conds, cond];
      cur.status = status;
      return cur;
    }, { subresource: 'status' });
  }
  await server.resources.delete(podDef, ns, name, opts, ctx);
}

interface PdbStatus {
  disruptionsAllowed?: number;
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  desiredHealthy?: number;
  currentHealthy?: number;
}

interface PodCondition {
  type: string;
  status: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/**
 * An unready pod may be evicted without spending a disruption when the budget is otherwise healthy
 * (unhealthyPodEvictionPolicy IfHealthyBudget, the default) or always (AlwaysAllow).
 */
function unhealthyMayGo(pdb: KubeObject, pod: KubeObject): boolean {
  const conds = ((pod.status as { conditions?: PodCondition[] } | undefined)?.conditions ?? []);
  const ready = conds.some((c) => c.type === 'Ready' && c.status === 'True');
  if (ready) return false;
  if ((pdb.spec as { unhealthyPodEvictionPolicy?: string } | undefined)?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
  const st = (pdb.status ?? {}) as PdbStatus;
  return (st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0;
}
