// LimitRanger admission (upstream plugin/pkg/admission/limitranger): the namespace's LimitRanges give new pods'
// containers their `default` limits and `defaultRequest` requests (mutating, annotated kubernetes.io/limit-ranger)
// and bound pods (Container and Pod items: min, max, maxLimitRequestRatio) and claims (PersistentVolumeClaim
// items: min/max storage) with upstream's messages (validating). Mutation runs before every validating plugin,
// so ResourceQuota sees the defaulted pod, as upstream's plugin order has it.

import { forbiddenError, qualified } from '../../api/errors.js';
import { podQOSClass } from '../../api/kinds/core/podspec.js';
import type { KindDef } from '../../api/kinds/types.js';
import { podResources } from '../../api/quota/evaluators.js';
import { parseResourceList, type ResourceList } from '../../api/quota/resources.js';
import { formatQuantity, quantityMilliValueBig, quantityValueBig, type Quantity } from '../../api/quantity.js';
import type { KubeObject } from '../../api/types.js';
import type { AdmissionPlugin, Attributes } from '../admission.js';
import { ObjectCache } from './cache.js';

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.map((x) => obj(x) ?? {}) : []);
const limitItems = (lr: KubeObject): Obj[] => objs(obj(lr.spec)?.limits);
const sortedEntries = (list: ResourceList): [string, Quantity][] => [...list].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

// ---- defaults (mutation) -----------------------------------------------------------------------------------

/** One LimitRange's container defaults: every Container item's defaultRequest and default (later items win). */
function containerDefaults(lr: KubeObject): { requests: Obj; limits: Obj } {
  const requests: Obj = {};
  const limits: Obj = {};
  for (const item of limitItems(lr)) {
    if (item.type !== 'Container') continue;
    Object.assign(requests, obj(item.defaultRequest) ?? {});
    Object.assign(limits, obj(item.default) ?? {});
  }
  return { requests, limits };
}

/** Fills what a container lacks; returns the annotation phrases for it (upstream mergeContainerResources). */
function mergeContainer(c: Obj, defaults: { requests: Obj; limits: Obj }, label: string): string[] {
  const res = obj(c.resources) ?? (c.resources = {});
  const set = (which: 'requests' | 'limits'): string[] => {
    const want = defaults[which];
    const have = obj(res[which]);
    const added = Object.keys(want).filter((k) => !have || !(k in have));
    if (!added.length) return [];
    const into = have ?? (res[which] = {});
    for (const k of added) into[k] = want[k];
    return added.sort();
  };
  const out: string[] = [];
  const limits = set('limits');
  const requests = set('requests');
  if (requests.length) out.push(`${requests.join(', ')} request for ${label} ${String(c.name ?? '')}`);
  if (limits.length) out.push(`${limits.join(', ')} limit for ${label} ${String(c.name ?? '')}`);
  return out;
}

/** Applies each LimitRange's container defaults to the pod in order (upstream PodMutateLimitFunc). */
export function applyLimitRangeDefaults(pod: KubeObject, ranges: KubeObject[]): void {
  const spec = obj(pod.spec);
  if (!spec) return;
  for (const lr of ranges) {
    const d = containerDefaults(lr);
    if (!Object.keys(d.requests).length && !Object.keys(d.limits).length) continue;
    const notes = [...objs(spec.containers).flatMap((c) => mergeContainer(c, d, 'container')), ...objs(spec.initContainers).flatMap((c) => mergeContainer(c, d, 'init container'))];
    if (notes.length) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
  }
}

// ---- constraints (validation) ------------------------------------------------------------------------------

const MAX_MILLI = 9223372036854775807n / 1000n;

/** Request, limit and enforced value at a common precision (upstream requestLimitEnforcedValues). */
function comparable(req: Quantity | undefined, lim: Quantity | undefined, enforced: Quantity): [bigint, bigint, bigint] {
  const v = (q: Quantity | undefined): bigint => (q ? quantityValueBig(q) : 0n);
  const m = (q: Quantity | undefined): bigint => (q ? quantityMilliValueBig(q) : 0n);
  if (v(req) <= MAX_MILLI && v(lim) <= MAX_MILLI && v(enforced) <= MAX_MILLI) return [m(req), m(lim), m(enforced)];
  return [v(req), v(lim), v(enforced)];
}

function minConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  const [r, l, e] = comparable(req, lim, enforced);
  const want = formatQuantity(enforced);
  if (!req) return `minimum ${name} usage per ${type} is ${want}.  No request is specified`;
  if (r < e) return `minimum ${name} usage per ${type} is ${want}, but request is ${formatQuantity(req)}`;
  if (lim && l < e) return `minimum ${name} usage per ${type} is ${want}, but limit is ${formatQuantity(lim)}`;
  return undefined;
}

function maxConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  const [r, l, e] = comparable(req, lim, enforced);
  const want = formatQuantity(enforced);
  if (!lim) return `maximum ${name} usage per ${type} is ${want}.  No limit is specified`;
  if (l > e) return `maximum ${name} usage per ${type} is ${want}, but limit is ${formatQuantity(lim)}`;
  if (req && r > e) return `maximum ${name} usage per ${type} is ${want}, but request is ${formatQuantity(req)}`;
  return undefined;
}

/** Max for kinds whose limits mean nothing (claims): the request is what is bounded. */
function maxRequestConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList): string | undefined {
  const req = requests.get(name);
  const [r, , e] = comparable(req, undefined, enforced);
  const want = formatQuantity(enforced);
  if (!req) return `maximum ${name} usage per ${type} is ${want}.  No request is specified`;
  if (r > e) return `maximum ${name} usage per ${type} is ${want}, but request is ${formatQuantity(req)}`;
  return undefined;
}

function ratioConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  const [r, l] = comparable(req, lim, enforced);
  const want = formatQuantity(enforced);
  if (!req || r === 0n) return `${name} max limit to request ratio per ${type} is ${want}, but no request is specified or request is 0`;
  if (!lim || l === 0n) return `${name} max limit to request ratio per ${type} is ${want}, but no limit is specified or limit is 0`;
  const ratio = Number(l) / Number(r);
  let observed = ratio;
  let max = Number(quantityValueBig(enforced));
  if (quantityValueBig(enforced) <= MAX_MILLI) {
    observed = ratio * 1000;
    max = Number(quantityMilliValueBig(enforced));
  }
  if (observed > max) return `${name} max limit to request ratio per ${type} is ${want}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

function boundsOf(item: Obj, requests: ResourceList, limits: ResourceList, type: string): string[] {
  const errs: string[] = [];
  const push = (e: string | undefined): void => {
    if (e) errs.push(e);
  };
  for (const [k, v] of sortedEntries(parseResourceList(item.min))) push(minConstraint(type, k, v, requests, limits));
  for (const [k, v] of sortedEntries(parseResourceList(item.max))) push(maxConstraint(type, k, v, requests, limits));
  for (const [k, v] of sortedEntries(parseResourceList(item.maxLimitRequestRatio))) push(ratioConstraint(type, k, v, requests, limits));
  return errs;
}

/** The violations of one LimitRange by a pod (upstream PodValidateLimitFunc). */
export function podViolations(lr: KubeObject, pod: KubeObject): string[] {
  const spec = obj(pod.spec) ?? {};
  const errs: string[] = [];
  for (const item of limitItems(lr)) {
    if (item.type === 'Container') {
      for (const c of [...objs(spec.containers), ...objs(spec.initContainers)]) {
        const res = obj(c.resources) ?? {};
        errs.push(...boundsOf(item, parseResourceList(res.requests), parseResourceList(res.limits), 'Container'));
      }
    } else if (item.type === 'Pod') {
      errs.push(...boundsOf(item, podResources(pod, 'requests', false), podResources(pod, 'limits', false), 'Pod'));
    }
  }
  return errs;
}

/** The violations of one LimitRange by a claim: storage requests only (upstream PersistentVolumeClaimValidateLimitFunc). */
export function claimViolations(lr: KubeObject, pvc: KubeObject): string[] {
  const requests = parseResourceList(obj(obj(pvc.spec)?.resources)?.requests);
  const errs: string[] = [];
  for (const item of limitItems(lr)) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    for (const [k, v] of sortedEntries(parseResourceList(item.min))) {
      const e = minConstraint('PersistentVolumeClaim', k, v, requests, new Map());
      if (e) errs.push(e);
    }
    for (const [k, v] of sortedEntries(parseResourceList(item.max))) {
      const e = maxRequestConstraint('PersistentVolumeClaim', k, v, requests);
      if (e) errs.push(e);
    }
  }
  return errs;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several (deduplicated) as "[a, b]". */
export function aggregate(errs: string[]): string {
  const seen = [...new Set(errs)];
  return seen.length === 1 ? seen[0]! : `[${seen.join(', ')}]`;
}

// ---- plugin ------------------------------------------------------------------------------------------------

export function limitRangerAdmission(kind: (group: string, plural: string) => KindDef | undefined): AdmissionPlugin {
  const isPods = (a: Attributes): boolean => a.def.group === '' && a.def.plural === 'pods';
  const isClaims = (a: Attributes): boolean => a.def.group === '' && a.def.plural === 'persistentvolumeclaims';
  /** Pods on create (their containers are immutable afterwards), claims on create and update; never subresources. */
  const supported = (a: Attributes): boolean => {
    if (a.subresource || !a.namespace || !a.object) return false;
    if (isPods(a)) return a.operation === 'CREATE';
    return isClaims(a) && (a.operation === 'CREATE' || a.operation === 'UPDATE');
  };
  const cache = new ObjectCache(() => kind('', 'limitranges'));
  // From the watch-fed cache once it has loaded, as upstream reads its lister.
  const ranges = async (a: Attributes): Promise<KubeObject[]> => {
    const def = kind('', 'limitranges');
    if (!def) return [];
    return cache.list(a.store, a.namespace) ?? (await a.store.list(def, a.namespace)).items;
  };
  return {
    name: 'LimitRanger',
    async mutate(a) {
      if (!supported(a) || !isPods(a)) return;
      const lrs = await ranges(a);
      if (!lrs.length) return;
      const pod = a.object!;
      applyLimitRangeDefaults(pod, lrs);
      // The QoS class was worked out before admission; the defaults may change it (upstream sets it afterwards).
      const status = obj(pod.status);
      if (status && status.qosClass !== undefined) status.qosClass = podQOSClass(pod.spec);
    },
    async validate(a) {
      if (!supported(a)) return;
      if (a.oldObject?.metadata.deletionTimestamp) return;
      for (const lr of await ranges(a)) {
        const errs = isPods(a) ? podViolations(lr, a.object!) : claimViolations(lr, a.object!);
        if (!errs.length) continue;
        const name = a.name || a.object!.metadata.name || a.object!.metadata.generateName || 'Unknown';
        throw forbiddenError(`${qualified(a.def.plural, a.def.group)} "${name}" is forbidden: ${aggregate(errs)}`, { name, group: a.def.group, kind: a.def.plural });
      }
    },
  };
}
