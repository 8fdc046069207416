// The plugin contract (framework/interface.go): extension points a plugin may implement, the per-cycle state
// they share, and the handle a factory gets. Plugins return a Status; only the binder and PostFilter do I/O.

import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/interface.js';
import type { EventRecorder } from '../../client/events.js';
import type { Pod, PodCondition } from '../../api/corev1/types.js';
import type { NodeInfo, PodInfo, Snapshot } from './nodeinfo.js';
import type { Status } from './status.js';

export const MAX_NODE_SCORE = 100;

/** Data plugins keep between extension points for one pod's cycle (framework.CycleState). */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Skip sets filled by PreFilter/PreScore returning Skip. */
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, v: unknown): void {
    this.data.set(key, v);
  }

  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v);
    for (const s of this.skipFilter) c.skipFilter.add(s);
    return c;
  }
}

/** Cluster changes that can make a rejected pod schedulable (the queue's re-queue triggers). */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'AssignedPodAdd' | 'AssignedPodUpdate' | 'AssignedPodDelete' | 'PodUpdate';

export interface Plugin {
  readonly name: string;
  /** Events after which pods this plugin rejected are worth retrying; default every event. */
  readonly events?: readonly ClusterEvent[];
}

export interface QueueSortPlugin extends Plugin {
  less(a: PodInfo & { timestamp: number }, b: PodInfo & { timestamp: number }): boolean;
}

export interface PreFilterPlugin extends Plugin {
  /** Computes cycle state; Skip skips this plugin's Filter, a rejection fails the pod on every node. */
  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
}

export interface PostFilterResult {
  status: Status;
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  /** Runs when no node fits; `statuses` holds each node's failing Filter status. */
  postFilter(state: CycleState, pod: PodInfo, statuses: Map<string, Status>, snapshot: Snapshot): Promise<PostFilterResult>;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Status;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rescales this plugin's raw scores in place to 0..MAX_NODE_SCORE. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: Float64Array): void;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface BindPlugin extends Plugin {
  /** Skip passes to the next binder. */
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status>;
}

/** Workload objects plugins may look up from the scheduler's informers (for default spreading selectors). */
export type ListedResource = 'services' | 'replicationcontrollers' | 'replicasets' | 'statefulsets';

export interface Listers {
  /** Objects of the resource in a namespace (shared cache objects: never mutate). */
  list(resource: ListedResource, namespace: string): readonly KubeObject[];
  get(resource: ListedResource, namespace: string, name: string): KubeObject | undefined;
}

/** What a plugin factory may use. `framework` lets PostFilter re-run filters on what-if node infos. */
export interface Handle {
  readonly client: Client;
  readonly recorder: EventRecorder;
  /** Absent in plugin unit tests: plugins must cope without. */
  readonly listers?: Listers;
  /** Sets one condition in a pod's status (pods/status patch in the scheduler's patch style); absent in tests. */
  readonly setPodCondition?: (pod: Pod, cond: PodCondition) => Promise<void>;
  readonly framework: FrameworkRunner;
}

/** The part of the framework plugins may call back into. */
export interface FrameworkRunner {
  runPreFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status;
  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
}

export type PluginFactory = (args: Record<string, unknown>, handle: Handle) => Plugin;
