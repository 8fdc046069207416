// Node taint writes shared by the node lifecycle controller's passes (upstream controller.AddOrUpdateTaintOnNode,
// RemoveTaintOffNode, SwapNodeControllerTaint): one merge patch of spec.taints guarded by resourceVersion, re-read
// and retried on conflict, nothing written when the taints are already as wanted.

import type { KubeObject } from '../../api/types.js';
import { isConflict, isNotFound, type Client, type Resource } from '../../client/interface.js';
import { NODES } from '../../client/resources.js';
import { rfc3339 } from '../../api/time.js';
export { NODES };

export interface NodeTaint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

export const NOT_READY_NOEXECUTE: NodeTaint = { key: TAINT_NOT_READY, effect: 'NoExecute' };
export const UNREACHABLE_NOEXECUTE: NodeTaint = { key: TAINT_UNREACHABLE, effect: 'NoExecute' };

/** RetryOnConflict's default: five attempts. */
const ATTEMPTS = 5;

export const taintsOf = (node: KubeObject): NodeTaint[] => ((node.spec ?? {}) as { taints?: NodeTaint[] }).taints ?? [];

/** Taint.MatchTaint: same key and effect (value and timeAdded do not matter). */
export const matchTaint = (a: NodeTaint, b: NodeTaint): boolean => a.key === b.key && a.effect === b.effect;

export const taintExists = (taints: readonly NodeTaint[], t: NodeTaint): boolean => taints.some((x) => matchTaint(x, t));

/**
 * Adds `add` (stamped timeAdded = now, as SwapNodeControllerTaint does; an existing taint with the same key and
 * effect is kept as it is) and removes `remove` in one write. Starts from `node` when given (the informer's copy),
 * re-reading it after a conflict. Resolves to the node as written, or as it was when nothing needed writing;
 * undefined when the node is gone.
 */
export async function swapNodeTaints(client: Client, name: string, node: KubeObject | undefined, add: readonly NodeTaint[], remove: readonly NodeTaint[], nowMs: number): Promise<KubeObject | undefined> {
  let cur = node;
  for (let attempt = 1; ; attempt++) {
    try {
      cur ??= await client.get(NODES, undefined, name);
      const old = taintsOf(cur);
      let next = old.filter((t) => !remove.some((r) => matchTaint(r, t)));
      for (const a of add) if (!taintExists(next, a)) next = [...next, { ...a, timeAdded: rfc3339(nowMs) }];
      if (next.length === old.length && next.every((t, i) => t === old[i])) return cur;
      return await client.patch(NODES, undefined, name, 'application/merge-patch+json', {
        metadata: { resourceVersion: cur.metadata.resourceVersion },
        spec: { taints: next.length ? next : null },
      });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      if (!isConflict(e) || attempt >= ATTEMPTS) throw e;
      cur = undefined;
    }
  }
}
