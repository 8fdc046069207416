// PodTopologySpread: DoNotSchedule constraints bound the skew between the node's domain and the emptiest
// eligible domain (Filter); ScheduleAnyway constraints prefer domains with fewer matching pods (Score).
// A pod without constraints gets upstream's system defaults for scoring: ScheduleAnyway over hostname
// (maxSkew 3) and zone (maxSkew 5), selecting the pods of its Services and controller (DefaultSelector).

import { podMatchesNodeSelectorAndAffinity } from '../../../api/corev1/nodeaffinity.js';
import { findUntoleratedTaint } from '../../../api/corev1/tolerations.js';
import type { LabelSelector, LabelSelectorRequirement } from '../../../api/types.js';
import { fromLabelSelector, type Selector } from '../../../api/selectors/labels.js';
import type { Pod, TopologySpreadConstraint } from '../../../api/corev1/types.js';
import type { CycleState, FilterPlugin, Listers, PluginFactory, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../../framework/interface.js';
import { MAX_NODE_SCORE } from '../../framework/interface.js';
import type { NodeInfo, PodInfo } from '../../framework/nodeinfo.js';
import { Status } from '../../framework/status.js';

export const NAME = 'PodTopologySpread';
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;
const HOSTNAME = 'kubernetes.io/hostname';
const TAINT_EFFECTS = new Set(['NoSchedule', 'NoExecute']);

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
}

function constraintsOf(pod: Pod, when: TopologySpreadConstraint['whenUnsatisfiable']): Constraint[] {
  const labels = pod.metadata.labels ?? {};
  return (pod.spec?.topologySpreadConstraints ?? [])
    .filter((c) => c.whenUnsatisfiable === when)
    .map((c) => {
      let sel: LabelSelector | null | undefined = c.labelSelector;
      const extra: LabelSelectorRequirement[] = (c.matchLabelKeys ?? []).filter((k) => k in labels).map((k) => ({ key: k, operator: 'In', values: [labels[k]] }));
      if (sel && extra.length) sel = { ...sel, matchExpressions: [...(sel.matchExpressions ?? []), ...extra] };
      return {
        maxSkew: c.maxSkew,
        topologyKey: c.topologyKey,
        selector: fromLabelSelector(sel),
        minDomains: c.minDomains ?? 1,
        honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
        honorTaints: c.nodeTaintsPolicy === 'Honor',
      };
    });
}

const ZONE = 'topology.kubernetes.io/zone';

/**
 * helper.DefaultSelector: the selectors of the Services selecting the pod, merged, plus its controller's
 * (ReplicationController, ReplicaSet or StatefulSet) selector. Undefined when that is empty.
 */
export function defaultSelector(pod: Pod, listers: Listers): Selector | undefined {
  const ns = pod.metadata.namespace ?? 'default';
  const labels = pod.metadata.labels ?? {};
  const set: Record<string, string> = {};
  for (const svc of listers.list('services', ns)) {
    const sel = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
    if (!sel || !Object.keys(sel).length) continue;
    if (Object.entries(sel).every(([k, v]) => labels[k] === v)) Object.assign(set, sel);
  }
  const extra: LabelSelectorRequirement[] = [];
  const owner = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
  if (owner) {
    const res = owner.kind === 'ReplicationController' && owner.apiVersion === 'v1' ? 'replicationcontrollers' : owner.kind === 'ReplicaSet' && owner.apiVersion === 'apps/v1' ? 'replicasets' : owner.kind === 'StatefulSet' && owner.apiVersion === 'apps/v1' ? 'statefulsets' : undefined;
    const obj = res && listers.get(res, ns, owner.name);
    const sel = (obj?.spec as { selector?: unknown } | undefined)?.selector;
    if (res === 'replicationcontrollers' && sel && typeof sel === 'object') Object.assign(set, sel as Record<string, string>);
    else if (sel && typeof sel === 'object') {
      const ls = sel as LabelSelector;
      Object.assign(set, ls.matchLabels ?? {});
      extra.push(...(ls.matchExpressions ?? []));
    }
  }
  if (!Object.keys(set).length && !extra.length) return undefined;
  return fromLabelSelector({ matchLabels: set, matchExpressions: extra });
}

function systemDefaults(pod: Pod, listers: Listers | undefined): Constraint[] {
  if (!listers || (pod.spec?.topologySpreadConstraints ?? []).length) return [];
  const selector = defaultSelector(pod, listers);
  if (!selector) return [];
  const base = { selector, minDomains: 1, honorAffinity: true, honorTaints: false };
  return [
    { ...base, maxSkew: 3, topologyKey: HOSTNAME },
    { ...base, maxSkew: 5, topologyKey: ZONE },
  ];
}

const hasAllKeys = (node: NodeInfo, cs: readonly Constraint[]): boolean => cs.every((c) => node.labels[c.topologyKey] !== undefined);

/** Whether pods on `node` count towards the constraint (node inclusion policies). */
function eligible(pod: PodInfo, node: NodeInfo, c: Constraint): boolean {
  if (c.honorAffinity && !podMatchesNodeSelectorAndAffinity(pod.pod, node.node)) return false;
  if (c.honorTaints && findUntoleratedTaint(node.taints, pod.tolerations, TAINT_EFFECTS)) return false;
  return true;
}

function matchingPods(node: NodeInfo, ns: string, sel: Selector): number {
  let n = 0;
  for (const p of node.pods) {
    const m = p.pod.metadata;
    if ((m.namespace ?? 'default') === ns && !m.deletionTimestamp && sel.matches(m.labels ?? {})) n++;
  }
  return n;
}

interface FilterState {
  constraints: Constraint[];
  counts: Array<Map<string, number>>;
  minMatch: number[];
}

const FILTER_KEY = `${NAME}/filter`;
const SCORE_KEY = `${NAME}/score`;

interface ScoreState {
  constraints: Constraint[];
  counts: Array<Map<string, number>>;
  weights: number[];
  ignored: Set<string>;
}

export const podTopologySpread: PluginFactory = (_args, h): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin => ({
  name: NAME,
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'],
  preFilter(state: CycleState, pod, snap) {
    const cs = constraintsOf(pod.pod, 'DoNotSchedule');
    if (!cs.length) return Status.SKIP;
    const ns = pod.pod.metadata.namespace ?? 'default';
    const counts = cs.map(() => new Map<string, number>());
    for (const n of snap.nodes) {
      if (!hasAllKeys(n, cs)) continue;
      cs.forEach((c, i) => {
        if (!eligible(pod, n, c)) return;
        const v = n.labels[c.topologyKey];
        counts[i].set(v, (counts[i].get(v) ?? 0) + matchingPods(n, ns, c.selector));
      });
    }
    const minMatch = cs.map((c, i) => {
      if (counts[i].size < c.minDomains) return 0;
      let m = Infinity;
      for (const v of counts[i].values()) m = Math.min(m, v);
      return m === Infinity ? 0 : m;
    });
    state.write(FILTER_KEY, { constraints: cs, counts, minMatch } satisfies FilterState);
    return Status.SUCCESS;
  },
  filter(state, pod, node) {
    const s = state.read<FilterState>(FILTER_KEY);
    if (!s) return Status.error(new Error(`${NAME}: no PreFilter state`));
    const labels = pod.pod.metadata.labels ?? {};
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const v = node.labels[c.topologyKey];
      if (v === undefined) return Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      const self = c.selector.matches(labels) ? 1 : 0;
      const skew = (s.counts[i].get(v) ?? 0) + self - s.minMatch[i];
      if (skew > c.maxSkew) return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return Status.SUCCESS;
  },
  preScore(state, pod, nodes, snap) {
    let cs = constraintsOf(pod.pod, 'ScheduleAnyway');
    // System defaults do not ignore nodes lacking a topology label (upstream's requireAllTopologies).
    let requireAll = true;
    if (!cs.length) {
      cs = systemDefaults(pod.pod, h.listers);
      requireAll = false;
    }
    if (!cs.length) return Status.SKIP;
    const ns = pod.pod.metadata.namespace ?? 'default';
    const ignored = new Set<string>();
    const counts = cs.map(() => new Map<string, number>());
    const sizes = cs.map(() => 0);
    for (const n of nodes) {
      if (requireAll && !hasAllKeys(n, cs)) {
        ignored.add(n.name);
        continue;
      }
      cs.forEach((c, i) => {
        if (c.topologyKey === HOSTNAME) return;
        const v = n.labels[c.topologyKey];
        if (!counts[i].has(v ?? '')) counts[i].set(v ?? '', 0);
      });
    }
    cs.forEach((c, i) => (sizes[i] = c.topologyKey === HOSTNAME ? nodes.length - ignored.size : counts[i].size));
    for (const n of snap.nodes) {
      if (requireAll && !hasAllKeys(n, cs)) continue;
      cs.forEach((c, i) => {
        if (c.topologyKey === HOSTNAME || !eligible(pod, n, c)) return;
        const v = n.labels[c.topologyKey];
        if (v !== undefined && counts[i].has(v)) counts[i].set(v, counts[i].get(v)! + matchingPods(n, ns, c.selector));
      });
    }
    state.write(SCORE_KEY, { constraints: cs, counts, weights: sizes.map((s) => Math.log(s + 2)), ignored } satisfies ScoreState);
    return Status.SUCCESS;
  },
  score(state, pod, node) {
    const s = state.read<ScoreState>(SCORE_KEY);
    if (!s) return 0;
    if (s.ignored.has(node.name)) return -1;
    const ns = pod.pod.metadata.namespace ?? 'default';
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = node.labels[c.topologyKey];
      if (v === undefined) return;
      const cnt = c.topologyKey === HOSTNAME ? matchingPods(node, ns, c.selector) : (s.counts[i].get(v) ?? 0);
      score += cnt * s.weights[i] + (c.maxSkew - 1);
    });
    return Math.round(score);
  },
  normalizeScore(_state, _pod, scores) {
    let min = Infinity;
    let max = 0;
    for (const s of scores) {
      if (s < 0) continue;
      if (s < min) min = s;
      if (s > max) max = s;
    }
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] < 0) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i])) / max);
    }
  },
});
