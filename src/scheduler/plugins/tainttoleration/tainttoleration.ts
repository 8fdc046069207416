// TaintToleration: NoSchedule/NoExecute taints must be tolerated (Filter); fewer untolerated PreferNoSchedule
// taints score higher (Score, reversed normalisation).

import { findUntoleratedTaint, taintTolerated } from '../../../api/corev1/tolerations.js';
import type { FilterPlugin, PluginFactory, ScorePlugin } from '../../framework/interface.js';
import { defaultNormalizeScore } from '../../framework/normalize.js';
import { Status } from '../../framework/status.js';

export const NAME = 'TaintToleration';
const FILTER_EFFECTS = new Set(['NoSchedule', 'NoExecute']);

export const taintToleration: PluginFactory = (): FilterPlugin & ScorePlugin => ({
  name: NAME,
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state, pod, node) {
    if (node.taints.length === 0) return Status.SUCCESS;
    const t = findUntoleratedTaint(node.taints, pod.tolerations, FILTER_EFFECTS);
    return t ? Status.unresolvable(`node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`) : Status.SUCCESS;
  },
  score(_state, pod, node) {
    if (node.taints.length === 0) return 0;
    const tols = pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const taint of node.taints) if (taint.effect === 'PreferNoSchedule' && !taintTolerated(taint, tols)) n++;
    return n;
  },
  normalizeScore: (_state, _pod, scores) => defaultNormalizeScore(scores, true),
});
