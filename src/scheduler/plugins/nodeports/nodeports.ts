// NodePorts: a pod's hostPorts must be free on the node (0.0.0.0 conflicts with any address).

import type { FilterPlugin, PluginFactory, PreFilterPlugin } from '../../framework/interface.js';
import { Status } from '../../framework/status.js';

export const NAME = 'NodePorts';
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

export const nodePorts: PluginFactory = (): PreFilterPlugin & FilterPlugin => ({
  name: NAME,
  events: ['NodeAdd', 'AssignedPodDelete'],
  preFilter: (_state, pod) => (pod.hostPorts.length ? Status.SUCCESS : Status.SKIP),
  filter(_state, pod, node) {
    for (const hp of pod.hostPorts) if (node.portInUse(hp)) return Status.unschedulable(ERR_REASON);
    return Status.SUCCESS;
  },
});
