// Quota evaluators (upstream pkg/quota/v1/evaluator/core and apiserver/pkg/quota/v1/generic): for one kind, which
// quota resource names it is charged under, what one object uses, which scopes it falls in and which container
// fields a quota on cpu/memory makes mandatory. Pure functions; the admission plugin and the controller share them.

import { isExtendedResourceName, isNativeResource } from '../kinds/core/common.js';
import { podQOSClass } from '../kinds/core/podspec.js';
import { compareQuantity, newQuantity, type Quantity } from '../quantity.js';
import type { KubeObject } from '../types.js';
import { addLists, parseResourceList, type ResourceList } from './resources.js';

export type QuotaOperation = 'CREATE' | 'UPDATE';

/** One scope a quota restricts itself to: spec.scopes entries become {scopeName, operator: Exists}. */
export interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values?: string[];
}

export interface Evaluator {
  group: string;
  /** Plural resource name. */
  resource: string;
  /** Whether a request of this operation can change usage (upstream Handles). */
  handles(op: QuotaOperation, subresource?: string): boolean;
  /** The quota resource names among `names` this kind is charged under (upstream MatchingResources). */
  matchingResources(names: Iterable<string>): string[];
  /** Whether the object falls in the scope (kinds without scopes never do). */
  matchesScope(scope: ScopeRequirement, obj: KubeObject): boolean;
  /** What the object uses, at time `now` (ms). */
  usage(obj: KubeObject, now: number): ResourceList;
  /** Upstream Constraints: the error text when the object lacks something `required` makes mandatory. */
  constraints(required: string[], obj: KubeObject): string | undefined;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const one = (): Quantity => newQuantity(1);

/** count/<resource> for the core group, count/<resource>.<group> otherwise (ObjectCountQuotaResourceNameFor). */
export function objectCountName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

/** The group/resource a count/… quota name counts. */
export function parseObjectCountName(name: string): { group: string; resource: string } | undefined {
  if (!name.startsWith('count/')) return undefined;
  const rest = name.slice('count/'.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? { group: '', resource: rest } : { group: rest.slice(dot + 1), resource: rest.slice(0, dot) };
}

function intersect(names: Iterable<string>, known: readonly string[]): string[] {
  return [...names].filter((n) => known.includes(n));
}

const noScope = (): boolean => false;

// ---- generic object count --------------------------------------------------------------------------------

/** Core kinds counted under a legacy name besides count/<resource> (upstream legacyObjectCountAliases). */
const LEGACY_ALIASES: Record<string, string> = {
  configmaps: 'configmaps',
  resourcequotas: 'resourcequotas',
  replicationcontrollers: 'replicationcontrollers',
  secrets: 'secrets',
};

/** Counts objects of one kind; charged on create only; quotas with scopes never apply (generic.ObjectCountEvaluator). */
export function objectCountEvaluator(group: string, resource: string): Evaluator {
  const names = [objectCountName(group, resource)];
  const alias = group === '' ? LEGACY_ALIASES[resource] : undefined;
  if (alias) names.push(alias);
  return {
    group,
    resource,
    handles: (op, sub) => op === 'CREATE' && !sub,
    matchingResources: (input) => intersect(input, names),
    matchesScope: noScope,
    usage: () => new Map(names.map((n) => [n, one()])),
    constraints: () => undefined,
  };
}

// ---- pods ------------------------------------------------------------------------------------------------

const POD_RESOURCES = [
  'count/pods',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
] as const;
/** Quota on these makes every container state them (a backward-compatibility rule upstream keeps). */
const VALIDATION_SET = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);

function addInto(into: ResourceList, more: ResourceList): void {
  for (const [k, q] of addLists(into, more)) into.set(k, q);
}

function maxInto(into: ResourceList, more: ResourceList): void {
  for (const [k, q] of more) {
    const cur = into.get(k);
    if (!cur || compareQuantity(q, cur) > 0) into.set(k, q);
  }
}

/**
 * A pod's effective requests or limits (upstream resourcehelper.PodRequests / PodLimits): the sum over containers
 * and sidecars, at least the largest init-container step, plus the pod overhead (limits: only where a limit
 * exists) unless `overhead` is false (LimitRanger's variant).
 */
export function podResources(pod: KubeObject, which: 'requests' | 'limits', overhead = true): ResourceList {
  const spec = obj(pod.spec);
  const total: ResourceList = new Map();
  for (const c of objs(spec.containers)) addInto(total, parseResourceList(obj(c.resources)[which]));
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of objs(spec.initContainers)) {
    const own = parseResourceList(obj(c.resources)[which]);
    let step: ResourceList;
    if (c.restartPolicy === 'Always') {
      addInto(total, own);
      addInto(sidecars, own);
      step = sidecars;
    } else {
      step = addLists(own, sidecars);
    }
    maxInto(initMax, step);
  }
  maxInto(total, initMax);
  if (!overhead) return total;
  const extra = parseResourceList(spec.overhead);
  if (which === 'requests') addInto(total, extra);
  else for (const [k, q] of extra) if (total.has(k)) addInto(total, new Map([[k, q]]));
  return total;
}

/** The quota names one set of requests and limits is charged under (upstream podComputeUsageHelper). */
function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = new Map([['pods', one()]]);
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = requests.get(r);
    if (req) {
      out.set(r, req);
      out.set(`requests.${r}`, req);
    }
    const lim = limits.get(r);
    if (lim) out.set(`limits.${r}`, lim);
  }
  for (const [r, q] of requests) {
    if (r.startsWith('hugepages-')) {
      out.set(r, q);
      out.set(`requests.${r}`, q);
    }
    if (isExtendedResourceName(r)) out.set(`requests.${r}`, q);
  }
  return out;
}

/** Upstream QuotaV1Pod: terminal pods, and pods past their deletion grace period, no longer use compute quota. */
export function podChargesCompute(pod: KubeObject, now: number): boolean {
  const phase = str(obj(pod.status).phase);
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  const del = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds;
  if (del && typeof grace === 'number' && now > Date.parse(del) + grace * 1000) return false;
  return true;
}

function podMatchesScope(scope: ScopeRequirement, pod: KubeObject): boolean {
  const spec = obj(pod.spec);
  switch (scope.scopeName) {
    case 'Terminating':
      return typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0;
    case 'NotTerminating':
      return !(typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0);
    case 'BestEffort':
      return podQOSClass(spec) === 'BestEffort';
    case 'NotBestEffort':
      return podQOSClass(spec) !== 'BestEffort';
    case 'PriorityClass': {
      // A label selector over {PriorityClass: <name>}; a pod without a class has no such label.
      const pc = str(spec.priorityClassName);
      const values = scope.values ?? [];
      switch (scope.operator) {
        case 'Exists':
          return pc !== '';
        case 'DoesNotExist':
          return pc === '';
        case 'In':
          return pc !== '' && values.includes(pc);
        case 'NotIn':
          return pc === '' || !values.includes(pc);
        default:
          return false;
      }
    }
    case 'CrossNamespacePodAffinity': {
      const aff = obj(spec.affinity);
      const cross = (t: Obj): boolean => (Array.isArray(t.namespaces) && t.namespaces.length > 0) || (t.namespaceSelector !== undefined && t.namespaceSelector !== null);
      return [obj(aff.podAffinity), obj(aff.podAntiAffinity)].some(
        (a) => objs(a.requiredDuringSchedulingIgnoredDuringExecution).some(cross) || objs(a.preferredDuringSchedulingIgnoredDuringExecution).some((w) => cross(obj(w.podAffinityTerm))),
      );
    }
    default:
      return false;
  }
}

export const podEvaluator: Evaluator = {
  group: '',
  resource: 'pods',
  handles: (op, sub) => op === 'CREATE' && !sub,
  matchingResources(input) {
    const out: string[] = [];
    for (const n of input) {
      if ((POD_RESOURCES as readonly string[]).includes(n) || n.startsWith('hugepages-') || n.startsWith('requests.hugepages-')) out.push(n);
      else if (!isNativeResource(n) && n.startsWith('requests.')) out.push(n);
    }
    return out;
  },
  matchesScope: podMatchesScope,
  usage(pod, now) {
    // count/pods tracks every stored pod; the compute resources (and "pods") only live ones.
    const out: ResourceList = new Map([['count/pods', one()]]);
    if (!podChargesCompute(pod, now)) return out;
    return addLists(out, computeUsage(podResources(pod, 'requests'), podResources(pod, 'limits')));
  },
  constraints(required, pod) {
    const need = required.filter((r) => VALIDATION_SET.has(r));
    if (!need.length) return undefined;
    const missing = new Map<string, Set<string>>();
    const spec = obj(pod.spec);
    for (const c of [...objs(spec.containers), ...objs(spec.initContainers)]) {
      const res = obj(c.resources);
      const has = computeUsage(parseResourceList(res.requests), parseResourceList(res.limits));
      for (const r of need) {
        if (has.has(r)) continue;
        let s = missing.get(r);
        if (!s) missing.set(r, (s = new Set()));
        s.add(str(c.name));
      }
    }
    if (!missing.size) return undefined;
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
    return `must specify ${parts.join('; ')}`;
  },
};

// ---- services --------------------------------------------------------------------------------------------

const SERVICE_RESOURCES = ['count/services', 'services', 'services.nodeports', 'services.loadbalancers'] as const;

export const serviceEvaluator: Evaluator = {
  group: '',
  resource: 'services',
  // A type change alters node ports and load balancers, so updates are charged too.
  handles: (op, sub) => (op === 'CREATE' || op === 'UPDATE') && !sub,
  matchingResources: (input) => intersect(input, SERVICE_RESOURCES),
  matchesScope: noScope,
  usage(svc) {
    const spec = obj(svc.spec);
    const ports = objs(spec.ports);
    const out: ResourceList = new Map([
      ['count/services', one()],
      ['services', one()],
    ]);
    if (spec.type === 'NodePort') out.set('services.nodeports', newQuantity(ports.length));
    else if (spec.type === 'LoadBalancer') {
      // With node port allocation off, only the ports that ask for one explicitly count.
      const n = spec.allocateLoadBalancerNodePorts === false ? ports.filter((p) => typeof p.nodePort === 'number' && p.nodePort !== 0).length : ports.length;
      out.set('services.nodeports', newQuantity(n));
      out.set('services.loadbalancers', one());
    }
    return out;
  },
  constraints: () => undefined,
};

// ---- persistent volume claims ----------------------------------------------------------------------------

const PVC_RESOURCES = ['persistentvolumeclaims', 'requests.storage'] as const;
const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';

/** The claim's class: the beta annotation wins over spec.storageClassName (storagehelpers.GetPersistentVolumeClaimClass). */
function claimClass(pvc: KubeObject): string {
  const ann = pvc.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (ann !== undefined) return ann;
  return str(obj(pvc.spec).storageClassName);
}

export const pvcEvaluator: Evaluator = {
  group: '',
  resource: 'persistentvolumeclaims',
  // Updates can expand a claim.
  handles: (op, sub) => (op === 'CREATE' || op === 'UPDATE') && !sub,
  matchingResources(input) {
    const out: string[] = [];
    for (const n of input) {
      if (n === 'count/persistentvolumeclaims' || (PVC_RESOURCES as readonly string[]).includes(n)) out.push(n);
      else if (PVC_RESOURCES.some((r) => n.endsWith(STORAGE_CLASS_SUFFIX + r))) out.push(n);
    }
    return out;
  },
  matchesScope: noScope,
  usage(pvc) {
    const out: ResourceList = new Map([
      ['persistentvolumeclaims', one()],
      ['count/persistentvolumeclaims', one()],
    ]);
    const cls = claimClass(pvc);
    if (cls) out.set(`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, one());
    // The larger of what is asked for and what was already allocated (a failed expansion still holds its size).
    let storage = parseResourceList(obj(obj(pvc.spec).resources).requests).get('storage');
    const allocated = parseResourceList(obj(pvc.status).allocatedResources).get('storage');
    if (allocated && (!storage || compareQuantity(allocated, storage) > 0)) storage = allocated;
    if (storage) {
      out.set('requests.storage', storage);
      if (cls) out.set(`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`, storage);
    }
    return out;
  },
  constraints: () => undefined,
};

// ---- registry --------------------------------------------------------------------------------------------

/** Kinds quota never evaluates (upstream DefaultIgnoredResources: core events; events.k8s.io shares their storage). */
export function ignoredByQuota(group: string, resource: string): boolean {
  return resource === 'events' && (group === '' || group === 'events.k8s.io');
}

const SPECIFIC: Evaluator[] = [podEvaluator, serviceEvaluator, pvcEvaluator];

/** The evaluator for a kind: pods, services and claims have their own, everything else is counted. */
export function evaluatorFor(group: string, resource: string): Evaluator {
  return SPECIFIC.find((e) => e.group === group && e.resource === resource) ?? objectCountEvaluator(group, resource);
}

/** The kinds the quota controller always tracks (the legacy quota names); count/… names add others on demand. */
export function standardEvaluators(): Evaluator[] {
  return [...SPECIFIC, ...Object.keys(LEGACY_ALIASES).map((r) => objectCountEvaluator('', r))];
}
