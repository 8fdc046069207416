// Which pods a shrinking ReplicaSet deletes first: upstream ActivePodsWithRanks.Less (controller_utils.go) with
// the default-on PodDeletionCost and LogarithmicScaleDown gates — unscheduled before scheduled, Pending before
// Unknown before Running, not ready before ready, lower deletion cost first, pods on crowded nodes first, ready
// for less time first, more restarts first, newer first.

import type { KubeObject } from '../../api/types.js';
import { isPodReady, maxContainerRestarts, podCondition, podNodeName, podPhase } from '../common/pods.js';

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

const deletionCost = (p: KubeObject): number => {
  const v = Number.parseInt(p.metadata.annotations?.[DELETION_COST] ?? '', 10);
  return Number.isFinite(v) ? v : 0;
};

const ms = (t: string | null | undefined): number | undefined => {
  const v = t ? Date.parse(t) : NaN;
  return Number.isFinite(v) ? v : undefined;
};

/** Upstream afterOrZero: a zero time sorts first, else the later time sorts first. */
function afterOrZero(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === undefined;
  return a > b;
}

/** floor(log2(now - t)) in nanoseconds, -1 for a time not in the past (upstream logarithmicRankDiff). */
const logRank = (t: number, now: number): number => {
  const d = (now - t) * 1e6;
  return d > 0 ? Math.floor(Math.log2(d)) : -1;
};

/** True when pod a should be deleted before pod b. */
export function deleteBefore(a: KubeObject, rankA: number, b: KubeObject, rankB: number, now: number): boolean {
  const na = podNodeName(a);
  const nb = podNodeName(b);
  if (na !== nb && (na === '' || nb === '')) return na === '';
  const pa = PHASE_ORDINAL[podPhase(a)] ?? 0;
  const pb = PHASE_ORDINAL[podPhase(b)] ?? 0;
  if (pa !== pb) return pa < pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return !ra;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca < cb;
  if (rankA !== rankB) return rankA > rankB;
  if (ra && rb) {
    const ta = ms(podCondition(a, 'Ready')?.lastTransitionTime);
    const tb = ms(podCondition(b, 'Ready')?.lastTransitionTime);
    if (ta !== tb) {
      if (ta === undefined || tb === undefined) return afterOrZero(ta, tb);
      const diff = logRank(ta, now) - logRank(tb, now);
      if (diff === 0) return (a.metadata.uid ?? '') < (b.metadata.uid ?? '');
      return diff < 0;
    }
  }
  const xa = maxContainerRestarts(a);
  const xb = maxContainerRestarts(b);
  if (xa !== xb) return xa > xb;
  const cra = ms(a.metadata.creationTimestamp);
  const crb = ms(b.metadata.creationTimestamp);
  if (cra !== crb) {
    if (cra === undefined || crb === undefined) return afterOrZero(cra, crb);
    const diff = logRank(cra, now) - logRank(crb, now);
    if (diff === 0) return (a.metadata.uid ?? '') < (b.metadata.uid ?? '');
    return diff < 0;
  }
  return false;
}

/**
 * The `count` pods to delete out of `pods` (upstream getPodsToDelete): ranked by how many of `related` (active
 * pods of the same controller family) share their node, then ordered by deleteBefore.
 */
export function podsToDelete(pods: KubeObject[], related: KubeObject[], count: number, now: number): KubeObject[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of related) {
    const n = podNodeName(p);
    if (n) onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const ranked = pods.map((p) => ({ p, rank: podNodeName(p) ? (onNode.get(podNodeName(p)) ?? 0) : 0 }));
  ranked.sort((x, y) => (deleteBefore(x.p, x.rank, y.p, y.rank, now) ? -1 : deleteBefore(y.p, y.rank, x.p, x.rank, now) ? 1 : 0));
  return ranked.slice(0, count).map((r) => r.p);
}
