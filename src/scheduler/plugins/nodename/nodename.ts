// NodeName: a pod naming spec.nodeName fits only that node.

import type { FilterPlugin, PluginFactory } from '../../framework/interface.js';
import { Status } from '../../framework/status.js';

export const NAME = 'NodeName';
export const ERR_REASON = "node(s) didn't match the requested node name";

export const nodeName: PluginFactory = (): FilterPlugin => ({
  name: NAME,
  events: ['NodeAdd'],
  filter(_state, pod, node) {
    const want = pod.pod.spec?.nodeName;
    return !want || want === node.name ? Status.SUCCESS : Status.unresolvable(ERR_REASON);
  },
});
