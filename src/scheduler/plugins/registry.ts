// The in-tree plugins and the default profile: upstream's default plugin order (which decides the reason a
// node reports when several filters would reject it) and default score weights.

import { Registry } from '../framework/registry.js';
import type { Profile } from '../framework/runtime.js';
import { defaultBinder, NAME as DEFAULT_BINDER } from './defaultbinder/defaultbinder.js';
import { defaultPreemption, NAME as DEFAULT_PREEMPTION } from './defaultpreemption/defaultpreemption.js';
import { interPodAffinity, NAME as INTER_POD_AFFINITY } from './interpodaffinity/interpodaffinity.js';
import { balancedAllocation, NAME as BALANCED_ALLOCATION } from './noderesources/balancedallocation.js';
import { nodeResourcesFit, NAME as NODE_RESOURCES_FIT } from './noderesources/fit.js';
import { nodeAffinity, NAME as NODE_AFFINITY } from './nodeaffinity/nodeaffinity.js';
import { nodeName, NAME as NODE_NAME } from './nodename/nodename.js';
import { nodePorts, NAME as NODE_PORTS } from './nodeports/nodeports.js';
import { nodeUnschedulable, NAME as NODE_UNSCHEDULABLE } from './nodeunschedulable/nodeunschedulable.js';
import { podTopologySpread, NAME as POD_TOPOLOGY_SPREAD } from './podtopologyspread/podtopologyspread.js';
import { prioritySort, NAME as PRIORITY_SORT } from './queuesort/prioritysort.js';
import { taintToleration, NAME as TAINT_TOLERATION } from './tainttoleration/tainttoleration.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export function inTreeRegistry(): Registry {
  return new Registry([
    [PRIORITY_SORT, prioritySort],
    [NODE_UNSCHEDULABLE, nodeUnschedulable],
    [NODE_NAME, nodeName],
    [TAINT_TOLERATION, taintToleration],
    [NODE_AFFINITY, nodeAffinity],
    [NODE_PORTS, nodePorts],
    [NODE_RESOURCES_FIT, nodeResourcesFit],
    [POD_TOPOLOGY_SPREAD, podTopologySpread],
    [INTER_POD_AFFINITY, interPodAffinity],
    [DEFAULT_PREEMPTION, defaultPreemption],
    [BALANCED_ALLOCATION, balancedAllocation],
    [DEFAULT_BINDER, defaultBinder],
  ]);
}

/** config/v1 default plugins (multiPoint), minus the volume and image plugins k8ts has no use for yet. */
export function defaultProfile(schedulerName = DEFAULT_SCHEDULER_NAME): Profile {
  return {
    schedulerName,
    plugins: [
      { name: PRIORITY_SORT },
      { name: NODE_UNSCHEDULABLE },
      { name: NODE_NAME },
      { name: TAINT_TOLERATION, weight: 3 },
      { name: NODE_AFFINITY, weight: 2 },
      { name: NODE_PORTS },
      { name: NODE_RESOURCES_FIT, weight: 1 },
      { name: POD_TOPOLOGY_SPREAD, weight: 2 },
      { name: INTER_POD_AFFINITY, weight: 2 },
      { name: DEFAULT_PREEMPTION },
      { name: BALANCED_ALLOCATION, weight: 1 },
      { name: DEFAULT_BINDER },
    ],
  };
}
