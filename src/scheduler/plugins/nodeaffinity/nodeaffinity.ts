// NodeAffinity: spec.nodeSelector and required node affinity (Filter); the summed weights of matching
// preferred terms (Score, normalised to the best node).

import { podMatchesNodeSelectorAndAffinity, preferredNodeAffinityScore } from '../../../api/corev1/nodeaffinity.js';
import type { FilterPlugin, PluginFactory, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../../framework/interface.js';
import { defaultNormalizeScore } from '../../framework/normalize.js';
import { Status } from '../../framework/status.js';

export const NAME = 'NodeAffinity';
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";

export const nodeAffinity: PluginFactory = (): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin => ({
  name: NAME,
  events: ['NodeAdd', 'NodeUpdate'],
  preFilter(_state, pod) {
    const s = pod.pod.spec;
    const hasSelector = Object.keys(s?.nodeSelector ?? {}).length > 0;
    return hasSelector || s?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ? Status.SUCCESS : Status.SKIP;
  },
  filter: (_state, pod, node) => (podMatchesNodeSelectorAndAffinity(pod.pod, node.node) ? Status.SUCCESS : Status.unresolvable(ERR_REASON_POD)),
  preScore: (_state, pod) => ((pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).length ? Status.SUCCESS : Status.SKIP),
  score: (_state, pod, node) => preferredNodeAffinityScore(pod.pod, node.node),
  normalizeScore: (_state, _pod, scores) => defaultNormalizeScore(scores, false),
});
