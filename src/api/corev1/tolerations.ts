// Taint/toleration matching (core/v1 helper ToleratesTaint, FindMatchingUntoleratedTaint).

import type { Taint, Toleration } from './types.js';

export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export const taintTolerated = (taint: Taint, tolerations: readonly Toleration[]): boolean => tolerations.some((t) => toleratesTaint(t, taint));

/** The first taint with an effect in `effects` that no toleration tolerates. */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], effects: ReadonlySet<string>): Taint | undefined {
  return taints.find((taint) => effects.has(taint.effect) && !taintTolerated(taint, tolerations));
}
