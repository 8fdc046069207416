// DefaultTolerationSeconds admission (upstream plugin/pkg/admission/defaulttolerationseconds): a Pod written
// without a toleration for node.kubernetes.io/not-ready:NoExecute (or unreachable:NoExecute) gets one with
// tolerationSeconds (300 by default, --default-not-ready-toleration-seconds / --default-unreachable-toleration-
// seconds), so the taint eviction controller evicts it that long after its node fails rather than at once. A
// toleration with an empty key (operator Exists) or an empty effect already covers the taint.

import type { KindDef } from '../../api/kinds/types.js';
import type { AdmissionPlugin } from '../admission.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';

export interface DefaultTolerationSecondsOptions {
  notReadySeconds?: number;
  unreachableSeconds?: number;
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export function defaultTolerationSeconds(kind: (group: string, plural: string) => KindDef | undefined, opts: DefaultTolerationSecondsOptions = {}): AdmissionPlugin {
  const notReady = opts.notReadySeconds ?? 300;
  const unreachable = opts.unreachableSeconds ?? 300;
  return {
    name: 'DefaultTolerationSeconds',
    mutate(a) {
      if ((a.operation !== 'CREATE' && a.operation !== 'UPDATE') || a.subresource || !a.object) return;
      if (a.def !== kind('', 'pods')) return;
      const spec = a.object.spec as { tolerations?: Toleration[] | null } | undefined;
      if (!spec || typeof spec !== 'object') return;
      const tols = Array.isArray(spec.tolerations) ? spec.tolerations : [];
      const covers = (key: string) => tols.some((t) => t && (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
      const add: Toleration[] = [];
      if (!covers(TAINT_NOT_READY)) add.push({ key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: notReady });
      if (!covers(TAINT_UNREACHABLE)) add.push({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: unreachable });
      if (add.length) spec.tolerations = [...tols, ...add];
    },
  };
}
