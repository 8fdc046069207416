// NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would be equally used after placing the
// pod — score (1 − std of the requested/allocatable fractions) × 100, with actual (not defaulted) requests.

import type { PluginFactory, ScorePlugin } from '../../framework/interface.js';
import { MAX_NODE_SCORE } from '../../framework/interface.js';

export const NAME = 'NodeResourcesBalancedAllocation';

export function balancedScore(fractions: number[]): number {
  let std = 0;
  if (fractions.length === 2) std = Math.abs((fractions[0] - fractions[1]) / 2);
  else if (fractions.length > 2) {
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export const balancedAllocation: PluginFactory = (): ScorePlugin => ({
  name: NAME,
  score(_state, pod, node) {
    const fr: number[] = [];
    const a = node.allocatable;
    if (a.milliCPU > 0) fr.push(Math.min(1, (node.requested.milliCPU + pod.requests.milliCPU) / a.milliCPU));
    if (a.memory > 0) fr.push(Math.min(1, (node.requested.memory + pod.requests.memory) / a.memory));
    return balancedScore(fr);
  },
});
