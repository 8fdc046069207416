// FitError (framework/types.go): why a pod fits no node, worded exactly as upstream — "0/N nodes are available:"
// then either the PreFilter message or each distinct Filter reason counted ("3 Insufficient cpu"), the strings
// sorted, then the PostFilter (preemption) message. Wording as kube-scheduler 1.32 (no doubled final period).

import type { Status } from './status.js';

export const NO_NODE_AVAILABLE_MSG = (n: number): string => `0/${n} nodes are available`;
/** ErrNoNodesAvailable. */
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

export class FitError {
  postFilterMsg = '';

  constructor(
    readonly numAllNodes: number,
    /** Failing status per node name (nodes never evaluated are absent). */
    readonly statuses: Map<string, Status>,
    readonly preFilterMsg = '',
  ) {}

  /** The PodScheduled condition / FailedScheduling event message. */
  text(): string {
    return fitErrorMessage(this.numAllNodes, this.statuses.values(), this.preFilterMsg, this.postFilterMsg);
  }

  /** The plugins that rejected the pod somewhere (the queue re-queues it on their events). */
  plugins(): Set<string> {
    const s = new Set<string>();
    for (const st of this.statuses.values()) if (st.plugin) s.add(st.plugin);
    return s;
  }
}

export function fitErrorMessage(numAllNodes: number, statuses: Iterable<Status>, preFilterMsg = '', postFilterMsg = ''): string {
  let msg = `${NO_NODE_AVAILABLE_MSG(numAllNodes)}:`;
  if (preFilterMsg) msg += ` ${preFilterMsg}.`;
  else {
    const counts = new Map<string, number>();
    for (const s of statuses) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    // Go's sort.Strings over "<count> <reason>": byte order, count included.
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  // Recent upstream ends the whole message with one period even when the PostFilter message has its own.
  if (postFilterMsg) msg += ` ${postFilterMsg}${postFilterMsg.endsWith('.') ? '' : '.'}`;
  return msg;
}
