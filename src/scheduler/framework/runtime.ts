// The framework runtime (framework/runtime/framework.go): instantiates a profile's plugins from the registry
// and runs each extension point in order — PreFilter/Filter stop at the first rejection, Score sums
// normalised scores times weights, Bind tries binders until one does not Skip.

import {
  MAX_NODE_SCORE,
  type BindPlugin,
  type CycleState,
  type FilterPlugin,
  type FrameworkRunner,
  type Handle,
  type Plugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreFilterPlugin,
  type PreScorePlugin,
  type QueueSortPlugin,
  type ReservePlugin,
  type ScorePlugin,
} from './interface.js';
import type { NodeInfo, PodInfo, Snapshot } from './nodeinfo.js';
import type { Registry } from './registry.js';
import { Status } from './status.js';

/** A scheduler profile: its name and the plugins enabled at every extension point they implement (multiPoint). */
export interface Profile {
  schedulerName: string;
  plugins: Array<{ name: string; weight?: number; args?: Record<string, unknown> }>;
}

const has = <K extends string>(p: Plugin, m: K): boolean => typeof (p as unknown as Record<string, unknown>)[m] === 'function';

export class Framework implements FrameworkRunner {
  readonly queueSort: QueueSortPlugin | undefined;
  readonly preFilter: PreFilterPlugin[] = [];
  readonly filter: FilterPlugin[] = [];
  readonly postFilter: PostFilterPlugin[] = [];
  readonly preScore: PreScorePlugin[] = [];
  readonly score: Array<{ plugin: ScorePlugin; weight: number }> = [];
  readonly reserve: ReservePlugin[] = [];
  readonly bind: BindPlugin[] = [];
  readonly plugins: Plugin[] = [];

  constructor(
    registry: Registry,
    readonly profile: Profile,
    handle: Omit<Handle, 'framework'>,
  ) {
    const h: Handle = { ...handle, framework: this };
    let queueSort: QueueSortPlugin | undefined;
    for (const cfg of profile.plugins) {
      const factory = registry.get(cfg.name);
      if (!factory) throw new Error(`scheduler profile ${profile.schedulerName}: plugin "${cfg.name}" is not in the registry`);
      const p = factory(cfg.args ?? {}, h);
      this.plugins.push(p);
      if (has(p, 'less')) queueSort ??= p as QueueSortPlugin;
      if (has(p, 'preFilter')) this.preFilter.push(p as PreFilterPlugin);
      if (has(p, 'filter')) this.filter.push(p as FilterPlugin);
      if (has(p, 'postFilter')) this.postFilter.push(p as PostFilterPlugin);
      if (has(p, 'preScore')) this.preScore.push(p as PreScorePlugin);
      if (has(p, 'score')) this.score.push({ plugin: p as ScorePlugin, weight: cfg.weight ?? 1 });
      if (has(p, 'reserve')) this.reserve.push(p as ReservePlugin);
      if (has(p, 'bind')) this.bind.push(p as BindPlugin);
    }
    this.queueSort = queueSort;
  }

  /** Skip marks the plugin's Filter as not needed for this pod; the first rejection or error is returned. */
  runPreFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status {
    for (const p of this.preFilter) {
      let s: Status;
      try {
        s = p.preFilter(state, pod, snapshot);
      } catch (e) {
        s = Status.error(e);
      }
      if (s.code === 'Skip') state.skipFilter.add(p.name);
      else if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.SUCCESS;
  }

  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    for (const p of this.filter) {
      if (state.skipFilter.has(p.name)) continue;
      let s: Status;
      try {
        s = p.filter(state, pod, node);
      } catch (e) {
        s = Status.error(e);
      }
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.SUCCESS;
  }

  /** The first PostFilter that succeeds (or errors) wins; otherwise the rejections' messages are joined. */
  async runPostFilter(state: CycleState, pod: PodInfo, statuses: Map<string, Status>, snapshot: Snapshot): Promise<PostFilterResult> {
    const msgs: string[] = [];
    for (const p of this.postFilter) {
      let r: PostFilterResult;
      try {
        r = await p.postFilter(state, pod, statuses, snapshot);
      } catch (e) {
        r = { status: Status.error(e) };
      }
      if (r.status.isSuccess() || r.status.code === 'Error') return r;
      if (r.status.message()) msgs.push(r.status.message());
      if (r.nominatedNodeName !== undefined) return { status: new Status(r.status.code, msgs), nominatedNodeName: r.nominatedNodeName };
    }
    return { status: new Status('Unschedulable', msgs) };
  }

  /** Weighted sum of every Score plugin's normalised scores, one entry per node. */
  runScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Float64Array {
    for (const p of this.preScore) {
      const s = p.preScore(state, pod, nodes, snapshot);
      if (s.code === 'Skip') state.skipScore.add(p.name);
    }
    const total = new Float64Array(nodes.length);
    const buf = new Float64Array(nodes.length);
    for (const { plugin, weight } of this.score) {
      if (state.skipScore.has(plugin.name)) continue;
      for (let i = 0; i < nodes.length; i++) buf[i] = plugin.score(state, pod, nodes[i]);
      plugin.normalizeScore?.(state, pod, buf);
      for (let i = 0; i < nodes.length; i++) total[i] += Math.max(0, Math.min(MAX_NODE_SCORE, Math.trunc(buf[i]))) * weight;
    }
    return total;
  }

  runReserve(state: CycleState, pod: PodInfo, nodeName: string): Status {
    for (let i = 0; i < this.reserve.length; i++) {
      const s = this.reserve[i].reserve(state, pod, nodeName);
      if (!s.isSuccess()) {
        this.runUnreserve(state, pod, nodeName);
        return s.withPlugin(this.reserve[i].name);
      }
    }
    return Status.SUCCESS;
  }

  runUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.reserve.length - 1; i >= 0; i--) this.reserve[i].unreserve(state, pod, nodeName);
  }

  async runBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    for (const p of this.bind) {
      const s = await p.bind(state, pod, nodeName);
      if (s.code !== 'Skip') return s.withPlugin(p.name);
    }
    return new Status('Error', ['no bind plugin bound the pod']);
  }
}
