// NodeResourcesFit: the pod's requests (init-container maximum rule, sidecars, overhead) must fit in the node's
// allocatable minus what assigned and assumed pods request (Filter: "Insufficient cpu", "Too many pods");
// Score: LeastAllocated over cpu and memory (weight 1 each) with non-zero default requests.

import type { FilterPlugin, PluginFactory, ScorePlugin } from '../../framework/interface.js';
import { MAX_NODE_SCORE } from '../../framework/interface.js';
import type { NodeInfo, PodInfo } from '../../framework/nodeinfo.js';
import { Status } from '../../framework/status.js';

export const NAME = 'NodeResourcesFit';

/** Every resource the pod needs more of than the node has left, in upstream's order and wording. */
export function insufficientResources(pod: PodInfo, node: NodeInfo): string[] {
  const out: string[] = [];
  const req = pod.requests;
  const alloc = node.allocatable;
  const used = node.requested;
  if (node.pods.length + 1 > alloc.allowedPods) out.push('Too many pods');
  if (req.milliCPU === 0 && req.memory === 0 && req.ephemeralStorage === 0 && req.scalar.size === 0) return out;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) out.push('Insufficient cpu');
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) out.push('Insufficient memory');
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) out.push('Insufficient ephemeral-storage');
  for (const [name, q] of req.scalar) {
    if (q > 0 && q > (alloc.scalar.get(name) ?? 0) - (used.scalar.get(name) ?? 0)) out.push(`Insufficient ${name}`);
  }
  return out;
}

/** leastRequestedScore: the free fraction of capacity, 0..100 (integer arithmetic as upstream). */
export function leastRequested(requested: number, capacity: number): number {
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export const nodeResourcesFit: PluginFactory = (): FilterPlugin & ScorePlugin => ({
  name: NAME,
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete', 'PodUpdate'],
  filter(_state, pod, node) {
    const r = insufficientResources(pod, node);
    return r.length ? Status.unschedulable(...r) : Status.SUCCESS;
  },
  score(_state, pod, node) {
    const cpu = leastRequested(node.nonZeroCPU + pod.nonZeroCPU, node.allocatable.milliCPU);
    const mem = leastRequested(node.nonZeroMemory + pod.nonZeroMemory, node.allocatable.memory);
    return Math.trunc((cpu + mem) / 2);
  },
});
