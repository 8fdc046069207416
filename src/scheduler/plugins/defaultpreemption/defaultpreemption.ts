// DefaultPreemption (PostFilter), simplified from upstream: on nodes where the Filter failure may be resolved,
// remove every lower-priority pod, check the pod fits, then reprieve victims (most important first) while it
// still fits; pick the node whose victims matter least, mark them DisruptionTarget, delete them and nominate
// the node (the scheduler then keeps the room for the nominee). Not done: PodDisruptionBudgets, clearing the
// nominations of lower-priority pods on the chosen node.

import type { Resource } from '../../../client/interface.js';
import { CycleState, type Handle, type PluginFactory, type PostFilterPlugin, type PostFilterResult } from '../../framework/interface.js';
import { FitError } from '../../framework/fiterror.js';
import type { NodeInfo, PodInfo, Snapshot } from '../../framework/nodeinfo.js';
import { Status } from '../../framework/status.js';

export const NAME = 'DefaultPreemption';
const PODS: Resource = { group: '', version: 'v1', resource: 'pods', namespaced: true };
export const MSG_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const MSG_NO_VICTIMS = 'No preemption victims found for incoming pod';

interface Candidate {
  node: string;
  victims: PodInfo[];
}

const startTime = (p: PodInfo): number => Date.parse(p.pod.status?.startTime ?? p.pod.metadata.creationTimestamp ?? '') || 0;

/** A snapshot where one node is replaced by a what-if copy. */
function withNode(snap: Snapshot, ni: NodeInfo): Snapshot {
  const nodes = snap.nodes.map((n) => (n.name === ni.name ? ni : n));
  return {
    nodes,
    get: (name) => (name === ni.name ? ni : snap.get(name)),
    nodesWithAffinityPods: nodes.filter((n) => n.podsWithAffinity.length > 0),
    nodesWithRequiredAntiAffinityPods: nodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0),
    namespaceLabels: snap.namespaceLabels,
  };
}

function selectVictims(h: Handle, cycle: CycleState, pod: PodInfo, node: NodeInfo, snap: Snapshot, rerunPreFilter: boolean): { victims: PodInfo[] } | { status: Status } {
  const ni = node.clone();
  const potential = ni.pods.filter((p) => p.priority < pod.priority);
  if (!potential.length) return { status: Status.unresolvable(MSG_NO_VICTIMS) };
  for (const v of potential) ni.removePod(v.key);
  const fits = (): Status => {
    let state = cycle.clone();
    if (rerunPreFilter) {
      state = new CycleState();
      const s = h.framework.runPreFilter(state, pod, withNode(snap, ni));
      if (!s.isSuccess()) return s;
    }
    return h.framework.runFilters(state, pod, ni);
  };
  const s = fits();
  if (!s.isSuccess()) return { status: s };
  potential.sort((a, b) => b.priority - a.priority || startTime(a) - startTime(b));
  const victims: PodInfo[] = [];
  for (const v of potential) {
    ni.addPod(v);
    if (!fits().isSuccess()) {
      ni.removePod(v.key);
      victims.push(v);
    }
  }
  return { victims };
}

/** pickOneNodeForPreemption, first criteria: lowest top victim priority, lowest priority sum, fewest victims. */
function pick(cands: Candidate[]): Candidate {
  const key = (c: Candidate): [number, number, number] => [Math.max(...c.victims.map((v) => v.priority)), c.victims.reduce((a, v) => a + v.priority + 2 ** 31, 0), c.victims.length];
  let best = cands[0];
  let bk = key(best);
  for (const c of cands.slice(1)) {
    const k = key(c);
    if (k[0] < bk[0] || (k[0] === bk[0] && (k[1] < bk[1] || (k[1] === bk[1] && k[2] < bk[2])))) {
      best = c;
      bk = k;
    }
  }
  return best;
}

export const defaultPreemption: PluginFactory = (_args, h): PostFilterPlugin => ({
  name: NAME,
  async postFilter(state, pod, statuses, snap): Promise<PostFilterResult> {
    const r = await preempt(h, state, pod, statuses, snap);
    const msg = r.status.message();
    return msg ? { ...r, status: new Status(r.status.code, [`preemption: ${msg}`]) } : r;
  },
});

async function preempt(h: Handle, state: CycleState, pod: PodInfo, statuses: Map<string, Status>, snap: Snapshot): Promise<PostFilterResult> {
  if (pod.pod.spec?.preemptionPolicy === 'Never') return { status: Status.unschedulable('not eligible due to preemptionPolicy=Never.') };
  const nominated = pod.pod.status?.nominatedNodeName;
  if (nominated && statuses.get(nominated)?.code !== 'UnschedulableAndUnresolvable') {
    const n = snap.get(nominated);
    if (n?.pods.some((p) => p.pod.metadata.deletionTimestamp && p.priority < pod.priority)) return { status: Status.unschedulable('not eligible due to a terminating pod on the nominated node.') };
  }
  const rerun = pod.hasAffinity || (pod.pod.spec?.topologySpreadConstraints ?? []).length > 0 || snap.nodesWithRequiredAntiAffinityPods.length > 0;
  const nodeStatuses = new Map<string, Status>();
  const cands: Candidate[] = [];
  const want = Math.min(snap.nodes.length, Math.max(100, Math.trunc(snap.nodes.length / 10)));
  for (const n of snap.nodes) {
    const st = statuses.get(n.name);
    if (!st || st.code === 'UnschedulableAndUnresolvable') {
      nodeStatuses.set(n.name, Status.unresolvable(MSG_NOT_HELPFUL));
      continue;
    }
    if (cands.length >= want) continue;
    const r = selectVictims(h, state, pod, n, snap, rerun);
    if ('status' in r) nodeStatuses.set(n.name, r.status);
    else cands.push({ node: n.name, victims: r.victims });
  }
  if (!cands.length) {
    const fe = new FitError(nodeStatuses.size, nodeStatuses);
    return { status: Status.unschedulable(fe.text()), nominatedNodeName: '' };
  }
  const best = pick(cands);
  const preemptor = pod.pod;
  for (const v of best.victims) {
    const m = v.pod.metadata;
    try {
      if (!m.deletionTimestamp && h.setPodCondition) {
        await h.setPodCondition(v.pod, {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'PreemptionByScheduler',
          message: `${preemptor.spec?.schedulerName ?? 'default-scheduler'}: preempting to accommodate a higher priority pod`,
        });
      }
      await h.client.delete(PODS, m.namespace, m.name ?? '', { preconditions: m.uid ? { uid: m.uid } : undefined });
      h.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: m }, 'Normal', 'Preempted', `Preempted by pod ${preemptor.metadata.uid ?? ''} on node ${best.node}`);
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && (e as { code: number }).code === 404)) return { status: Status.error(e) };
    }
  }
  return { status: Status.SUCCESS, nominatedNodeName: best.node };
}
