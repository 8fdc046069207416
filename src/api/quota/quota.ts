// ResourceQuota rules (upstream apiserver/pkg/admission/plugin/resourcequota CheckRequest and
// apiserver/pkg/quota/v1 CalculateUsage): what one write charges to each quota of its namespace — or why it is
// refused, in upstream's words — and what a quota's status.used should be given the objects in the namespace.

import type { KubeObject } from '../types.js';
import type { Evaluator, QuotaOperation, ScopeRequirement } from './evaluators.js';
import {
  addLists,
  exceeding,
  formatResourceList,
  listsEqual,
  maskList,
  negativeNames,
  parseResourceList,
  prettyPrint,
  removeZeros,
  subtractNonNegative,
  zeroQuantity,
  type ResourceList,
} from './resources.js';

/** A refused request: the text after `<resource> "<name>" is forbidden: `. */
export class QuotaRefusal extends Error {}

export interface QuotaRequest {
  operation: QuotaOperation;
  subresource?: string;
  object: KubeObject;
  /** The stored object an UPDATE replaces. */
  oldObject?: KubeObject;
}

/** What an admitted request adds to one quota. */
export interface Charge {
  /** The quota as read (its resourceVersion is the write's precondition). */
  quota: KubeObject;
  /** status.used after the charge. */
  used: ResourceList;
  /** What was added (masked to the quota's hard names). */
  delta: ResourceList;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

const statusHard = (q: KubeObject): ResourceList => parseResourceList(obj(q.status).hard);
const statusUsed = (q: KubeObject): ResourceList => parseResourceList(obj(q.status).used);

/** spec.scopes as Exists requirements, then spec.scopeSelector's expressions (getScopeSelectorsFromQuota). */
export function scopeSelectors(quota: KubeObject): ScopeRequirement[] {
  const spec = obj(quota.spec);
  const out: ScopeRequirement[] = [];
  for (const s of Array.isArray(spec.scopes) ? spec.scopes : []) if (typeof s === 'string') out.push({ scopeName: s, operator: 'Exists' });
  const exprs = obj(spec.scopeSelector).matchExpressions;
  for (const e of Array.isArray(exprs) ? exprs : []) {
    const r = obj(e);
    out.push({ scopeName: String(r.scopeName ?? ''), operator: String(r.operator ?? ''), values: Array.isArray(r.values) ? r.values.map(String) : undefined });
  }
  return out;
}

/** generic.Matches: the quota tracks a resource of this kind (by status.hard) and the object is in all its scopes. */
export function quotaMatches(quota: KubeObject, ev: Evaluator, o: KubeObject): boolean {
  if (ev.matchingResources(statusHard(quota).keys()).length === 0) return false;
  return scopeSelectors(quota).every((s) => ev.matchesScope(s, o));
}

/**
 * Upstream CheckRequest: the charges a request makes to `quotas` (only those that change), or a QuotaRefusal. The
 * constraint check ("must specify …") comes before any skip for requests that charge nothing, as upstream.
 */
export function checkRequest(quotas: KubeObject[], req: QuotaRequest, ev: Evaluator, now: number): Charge[] {
  if (!ev.handles(req.operation, req.subresource)) return [];
  const input = req.object;
  const interesting: KubeObject[] = [];
  for (const q of quotas) {
    if (!quotaMatches(q, ev, input)) continue;
    const name = q.metadata.name ?? '';
    const restricted = ev.matchingResources(statusHard(q).keys());
    const missing = ev.constraints(restricted, input);
    if (missing) throw new QuotaRefusal(`failed quota: ${name}: ${missing}`);
    const used = statusUsed(q);
    if (restricted.some((r) => !used.has(r))) throw new QuotaRefusal(`status unknown for quota: ${name}, resources: ${[...restricted].sort().join(',')}`);
    interesting.push(q);
  }
  if (!interesting.length) return [];

  const inputUsage = ev.usage(input, now);
  const negative = negativeNames(inputUsage);
  if (negative.length) throw new QuotaRefusal(`quota usage is negative for resource(s): ${negative.sort().join(',')}`);

  const deltas = new Map<KubeObject, ResourceList>(interesting.map((q) => [q, inputUsage]));
  if (req.operation === 'UPDATE') {
    const prev = req.oldObject;
    if (!prev) throw new QuotaRefusal('unable to get previous usage since prior version of object was not found');
    // A stored object is charged the difference; what it used before was charged when it was made.
    if (prev.metadata.resourceVersion) {
      const d = subtractNonNegative(inputUsage, ev.usage(prev, now));
      for (const q of interesting) if (quotaMatches(q, ev, prev)) deltas.set(q, d);
    }
  }

  const charges: Charge[] = [];
  for (const q of interesting) {
    const delta = removeZeros(deltas.get(q)!);
    if (!delta.size) continue;
    const hard = statusHard(q);
    const used = statusUsed(q);
    const requested = maskList(delta, hard.keys());
    const next = addLists(used, requested);
    if (req.subresource !== 'status') {
      const over = exceeding(maskList(next, requested.keys()), hard);
      if (over.length)
        throw new QuotaRefusal(
          `exceeded quota: ${q.metadata.name ?? ''}, requested: ${prettyPrint(maskList(requested, over))}, used: ${prettyPrint(maskList(used, over))}, limited: ${prettyPrint(maskList(hard, over))}`,
        );
    }
    if (!listsEqual(next, used)) charges.push({ quota: q, used: next, delta: requested });
  }
  return charges;
}

/** The quota with status.used replaced (a copy; status.hard kept). */
export function withUsed(quota: KubeObject, used: ResourceList): KubeObject {
  const out = structuredClone(quota);
  out.status = { ...obj(out.status), used: formatResourceList(used) };
  return out;
}

/**
 * The status a quota should have (syncResourceQuota + CalculateUsage): hard = spec.hard; used = the measured usage
 * of every tracked resource the evaluators can measure, earlier observations kept for the rest, masked to hard.
 * `objectsOf` gives the namespace's objects of an evaluator's kind, or undefined when they are not known yet.
 */
export function calculateStatus(quota: KubeObject, evaluators: Evaluator[], objectsOf: (ev: Evaluator) => KubeObject[] | undefined, now: number): { hard: ResourceList; used: ResourceList } {
  const hard = parseResourceList(obj(quota.spec).hard);
  const scopes = scopeSelectors(quota);
  const measured: ResourceList = new Map();
  for (const ev of evaluators) {
    const names = ev.matchingResources(hard.keys());
    if (!names.length) continue;
    const items = objectsOf(ev);
    if (!items) continue;
    let sum: ResourceList = new Map(names.map((n) => [n, zeroQuantity()]));
    for (const o of items) if (scopes.every((s) => ev.matchesScope(s, o))) sum = addLists(sum, ev.usage(o, now));
    for (const [k, q] of maskList(sum, names)) measured.set(k, q);
  }
  const used = statusUsed(quota);
  for (const [k, q] of measured) used.set(k, q);
  return { hard, used: maskList(used, hard.keys()) };
}
