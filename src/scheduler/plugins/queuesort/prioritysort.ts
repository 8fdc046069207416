// PrioritySort: the queue pops higher spec.priority first, then the pod queued earliest.

import type { QueueSortPlugin, PluginFactory } from '../../framework/interface.js';

export const NAME = 'PrioritySort';

export const prioritySort: PluginFactory = (): QueueSortPlugin => ({
  name: NAME,
  less: (a, b) => (a.priority !== b.priority ? a.priority > b.priority : a.timestamp < b.timestamp),
});
