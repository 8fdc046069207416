// helper.DefaultNormalizeScore: scale raw scores so the highest becomes MAX_NODE_SCORE (integer division as
// upstream); `reverse` flips them so the lowest raw score wins.

import { MAX_NODE_SCORE } from './interface.js';

export function defaultNormalizeScore(scores: Float64Array, reverse: boolean, max = MAX_NODE_SCORE): void {
  let top = 0;
  for (const s of scores) if (s > top) top = s;
  if (top === 0) {
    if (reverse) scores.fill(max);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((max * scores[i]) / top);
    scores[i] = reverse ? max - s : s;
  }
}
