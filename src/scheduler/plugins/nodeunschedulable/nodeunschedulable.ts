// NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods tolerating
// node.kubernetes.io/unschedulable:NoSchedule.

import { toleratesTaint } from '../../../api/corev1/tolerations.js';
import type { Taint } from '../../../api/corev1/types.js';
import type { FilterPlugin, PluginFactory } from '../../framework/interface.js';
import { Status } from '../../framework/status.js';

export const NAME = 'NodeUnschedulable';
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export const nodeUnschedulable: PluginFactory = (): FilterPlugin => ({
  name: NAME,
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state, pod, node) {
    if (!node.node.spec?.unschedulable) return Status.SUCCESS;
    if (pod.tolerations.some((t) => toleratesTaint(t, UNSCHEDULABLE_TAINT))) return Status.SUCCESS;
    return Status.unresolvable(ERR_REASON_UNSCHEDULABLE);
  },
});
