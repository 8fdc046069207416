// InterPodAffinity: required pod affinity / anti-affinity of the incoming pod and existing pods' required
// anti-affinity, over any topologyKey (Filter); preferred terms both ways plus existing pods' required
// affinity at weight 1 (Score, min–max normalised).

import type { CycleState, FilterPlugin, PluginFactory, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../../framework/interface.js';
import { MAX_NODE_SCORE } from '../../framework/interface.js';
import type { AffinityTerm, NodeInfo, PodInfo, Snapshot } from '../../framework/nodeinfo.js';
import { Status } from '../../framework/status.js';

export const NAME = 'InterPodAffinity';
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
const HARD_POD_AFFINITY_WEIGHT = 1;

/** topologyKey → topology value → count (or score). */
type TopologyCounts = Map<string, Map<string, number>>;

function bump(m: TopologyCounts, key: string, value: string, by: number): void {
  let inner = m.get(key);
  if (!inner) m.set(key, (inner = new Map()));
  inner.set(value, (inner.get(value) ?? 0) + by);
}

const countAt = (m: TopologyCounts, key: string, value: string): number => m.get(key)?.get(value) ?? 0;

interface FilterState {
  existingAnti: TopologyCounts;
  affinity: TopologyCounts;
  anti: TopologyCounts;
  affinityTotal: number;
}

const FILTER_KEY = `${NAME}/filter`;
const SCORE_KEY = `${NAME}/score`;

const live = (pi: PodInfo): boolean => !pi.pod.metadata.deletionTimestamp;

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo, snap: Snapshot): boolean {
  return terms.every((t) => t.matches(pod.pod, snap.namespaceLabels));
}

export function computeFilterState(pod: PodInfo, snap: Snapshot): FilterState {
  const st: FilterState = { existingAnti: new Map(), affinity: new Map(), anti: new Map(), affinityTotal: 0 };
  for (const n of snap.nodesWithRequiredAntiAffinityPods) {
    const labels = n.labels;
    for (const ex of n.podsWithRequiredAntiAffinity) {
      for (const t of ex.requiredAntiAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined && t.matches(pod.pod, snap.namespaceLabels)) bump(st.existingAnti, t.topologyKey, v, 1);
      }
    }
  }
  if (pod.requiredAffinityTerms.length || pod.requiredAntiAffinityTerms.length) {
    for (const n of snap.nodes) {
      const labels = n.labels;
      for (const ex of n.pods) {
        if (!live(ex)) continue;
        // Affinity counts only where an existing pod matches every term (upstream's podMatchesAllAffinityTerms).
        if (pod.requiredAffinityTerms.length && matchesAll(pod.requiredAffinityTerms, ex, snap)) {
          for (const t of pod.requiredAffinityTerms) {
            const v = labels[t.topologyKey];
            if (v !== undefined) {
              bump(st.affinity, t.topologyKey, v, 1);
              st.affinityTotal++;
            }
          }
        }
        for (const t of pod.requiredAntiAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && t.matches(ex.pod, snap.namespaceLabels)) bump(st.anti, t.topologyKey, v, 1);
        }
      }
    }
  }
  return st;
}

function satisfyPodAffinity(st: FilterState, pod: PodInfo, node: NodeInfo, snap: Snapshot): boolean {
  let podsExist = true;
  for (const t of pod.requiredAffinityTerms) {
    const v = node.labels[t.topologyKey];
    if (v === undefined) return false;
    if (countAt(st.affinity, t.topologyKey, v) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself: allowed when no pod anywhere matches and it matches itself.
  return st.affinityTotal === 0 && matchesAll(pod.requiredAffinityTerms, pod, snap);
}

function satisfyPodAntiAffinity(st: FilterState, pod: PodInfo, node: NodeInfo): boolean {
  for (const t of pod.requiredAntiAffinityTerms) {
    const v = node.labels[t.topologyKey];
    if (v !== undefined && countAt(st.anti, t.topologyKey, v) > 0) return false;
  }
  return true;
}

function satisfyExistingAntiAffinity(st: FilterState, node: NodeInfo): boolean {
  for (const [key, vals] of st.existingAnti) {
    const v = node.labels[key];
    if (v !== undefined && (vals.get(v) ?? 0) > 0) return false;
  }
  return true;
}

interface ScoreState {
  topologyScore: TopologyCounts;
}

function addTerms(scores: TopologyCounts, terms: ReadonlyArray<{ term: AffinityTerm; weight: number }>, target: PodInfo, node: NodeInfo, sign: number, snap: Snapshot): void {
  for (const { term, weight } of terms) {
    const v = node.labels[term.topologyKey];
    if (v !== undefined && term.matches(target.pod, snap.namespaceLabels)) bump(scores, term.topologyKey, v, sign * weight);
  }
}

export const interPodAffinity: PluginFactory = (): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin => ({
  name: NAME,
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'],
  preFilter(state: CycleState, pod, snap) {
    if (!pod.requiredAffinityTerms.length && !pod.requiredAntiAffinityTerms.length && !snap.nodesWithRequiredAntiAffinityPods.length) return Status.SKIP;
    const st = computeFilterState(pod, snap);
    state.write(FILTER_KEY, { st, snap });
    return Status.SUCCESS;
  },
  filter(state, pod, node) {
    const s = state.read<{ st: FilterState; snap: Snapshot }>(FILTER_KEY);
    if (!s) return Status.error(new Error(`${NAME}: no PreFilter state`));
    if (!satisfyPodAffinity(s.st, pod, node, s.snap)) return Status.unresolvable(ERR_REASON_AFFINITY);
    if (!satisfyPodAntiAffinity(s.st, pod, node)) return Status.unschedulable(ERR_REASON_ANTI_AFFINITY);
    if (!satisfyExistingAntiAffinity(s.st, node)) return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
    return Status.SUCCESS;
  },
  preScore(state, pod, _nodes, snap) {
    const hasPref = pod.preferredAffinityTerms.length + pod.preferredAntiAffinityTerms.length > 0;
    if (!hasPref && !snap.nodesWithAffinityPods.length) return Status.SKIP;
    const scores: TopologyCounts = new Map();
    for (const n of hasPref ? snap.nodes : snap.nodesWithAffinityPods) {
      for (const ex of hasPref ? n.pods : n.podsWithAffinity) {
        if (!live(ex)) continue;
        addTerms(scores, pod.preferredAffinityTerms, ex, n, 1, snap);
        addTerms(scores, pod.preferredAntiAffinityTerms, ex, n, -1, snap);
        addTerms(scores, ex.preferredAffinityTerms, pod, n, 1, snap);
        addTerms(scores, ex.preferredAntiAffinityTerms, pod, n, -1, snap);
        addTerms(scores, ex.requiredAffinityTerms.map((term) => ({ term, weight: HARD_POD_AFFINITY_WEIGHT })), pod, n, 1, snap);
      }
    }
    if (scores.size === 0) return Status.SKIP;
    state.write(SCORE_KEY, { topologyScore: scores } satisfies ScoreState);
    return Status.SUCCESS;
  },
  score(state, _pod, node) {
    const s = state.read<ScoreState>(SCORE_KEY);
    if (!s) return 0;
    let total = 0;
    for (const [key, vals] of s.topologyScore) {
      const v = node.labels[key];
      if (v !== undefined) total += vals.get(v) ?? 0;
    }
    return total;
  },
  normalizeScore(_state, _pod, scores) {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (scores[i] - min)) / diff) : 0;
  },
});
