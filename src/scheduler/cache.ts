// The scheduler cache (backend/cache): node infos built from the Node and assigned-Pod informers, plus pods the
// scheduler has assumed onto a node but not yet seen bound, so the next cycle counts their requests. It is
// also the cycle's Snapshot: the cycle is synchronous, so it reads the live node infos directly.

import type { Node, Pod } from '../api/corev1/types.js';
import { NodeInfo, PodInfo, type NamespaceLabels, type Snapshot } from './framework/nodeinfo.js';

function sameLabels(a: Pod, b: Pod): boolean {
  const la = a.metadata.labels ?? {};
  const lb = b.metadata.labels ?? {};
  const ka = Object.keys(la);
  return ka.length === Object.keys(lb).length && ka.every((k) => la[k] === lb[k]);
}

interface PodState {
  info: PodInfo;
  node: string;
  assumed: boolean;
}

export class Cache implements Snapshot {
  private readonly infos = new Map<string, NodeInfo>();
  /** Node infos holding pods of nodes we have not seen (yet); not offered to the cycle. */
  private readonly ghosts = new Set<string>();
  private readonly podStates = new Map<string, PodState>();
  private list: NodeInfo[] = [];
  private withAffinity: NodeInfo[] = [];
  private withAnti: NodeInfo[] = [];
  private listDirty = true;
  private affinityDirty = true;

  constructor(readonly namespaceLabels: NamespaceLabels = () => undefined) {}

  get nodes(): readonly NodeInfo[] {
    if (this.listDirty) {
      this.list = [...this.infos.values()].filter((n) => !this.ghosts.has(n.name));
      this.listDirty = false;
      this.affinityDirty = true;
    }
    return this.list;
  }

  get nodesWithAffinityPods(): readonly NodeInfo[] {
    this.refreshAffinity();
    return this.withAffinity;
  }

  get nodesWithRequiredAntiAffinityPods(): readonly NodeInfo[] {
    this.refreshAffinity();
    return this.withAnti;
  }

  private refreshAffinity(): void {
    const nodes = this.nodes;
    if (!this.affinityDirty) return;
    this.withAffinity = nodes.filter((n) => n.podsWithAffinity.length > 0);
    this.withAnti = nodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
    this.affinityDirty = false;
  }

  get(name: string): NodeInfo | undefined {
    return this.ghosts.has(name) ? undefined : this.infos.get(name);
  }

  get nodeCount(): number {
    return this.infos.size - this.ghosts.size;
  }

  addNode(node: Node): void {
    const name = node.metadata.name ?? '';
    const ni = this.infos.get(name);
    if (ni) {
      ni.setNode(node);
      if (this.ghosts.delete(name)) this.listDirty = true;
      return;
    }
    this.infos.set(name, new NodeInfo(node));
    this.listDirty = true;
  }

  removeNode(name: string): void {
    const ni = this.infos.get(name);
    if (!ni) return;
    // Pods still bound to it keep a ghost entry until they go, as upstream keeps the NodeInfo.
    if (ni.pods.length) this.ghosts.add(name);
    else this.infos.delete(name);
    this.listDirty = true;
  }

  private nodeFor(name: string): NodeInfo {
    let ni = this.infos.get(name);
    if (!ni) {
      ni = new NodeInfo({ metadata: { name } });
      this.infos.set(name, ni);
      this.ghosts.add(name);
      this.listDirty = true;
    }
    return ni;
  }

  private place(info: PodInfo, node: string, assumed: boolean): void {
    this.nodeFor(node).addPod(info);
    this.podStates.set(info.key, { info, node, assumed });
    if (info.hasAffinity) this.affinityDirty = true;
  }

  private unplace(st: PodState): void {
    const ni = this.infos.get(st.node);
    if (ni) {
      ni.removePod(st.info.key);
      if (this.ghosts.has(st.node) && ni.pods.length === 0) {
        this.infos.delete(st.node);
        this.ghosts.delete(st.node);
        this.listDirty = true;
      }
    }
    this.podStates.delete(st.info.key);
    if (st.info.hasAffinity) this.affinityDirty = true;
  }

  /** An assigned pod seen by the informer (add or update); confirms an assumed pod. */
  setPod(pod: Pod, priority: number): void {
    const key = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    const cur = this.podStates.get(key);
    // Confirming our own assumption: the bound pod is the assumed one (same uid, node and labels).
    const same = cur?.assumed && cur.info.pod.metadata.uid === pod.metadata.uid && cur.node === pod.spec?.nodeName && sameLabels(cur.info.pod, pod);
    const info = same ? cur.info.withPod(pod) : new PodInfo(pod, priority);
    const node = pod.spec?.nodeName ?? '';
    if (cur) this.unplace(cur);
    this.place(info, node, false);
  }

  removePod(key: string): void {
    const cur = this.podStates.get(key);
    if (cur) this.unplace(cur);
  }

  /** Counts the pod on `node` before its binding is written (AssumePod). */
  assume(info: PodInfo, node: string): void {
    const cur = this.podStates.get(info.key);
    if (cur) this.unplace(cur);
    this.place(info, node, true);
  }

  /** Drops an assumed pod whose binding failed (ForgetPod); a confirmed pod is left alone. */
  forget(key: string): void {
    const cur = this.podStates.get(key);
    if (cur?.assumed) this.unplace(cur);
  }

  isAssumed(key: string): boolean {
    return this.podStates.get(key)?.assumed ?? false;
  }

  /** Pending pods nominated to a node by preemption (status.nominatedNodeName): node → key → pod. */
  private readonly nominations = new Map<string, Map<string, PodInfo>>();
  private readonly nominatedNode = new Map<string, string>();

  /** Records (or with node '' clears) a pending pod's nomination; its room is kept for it in later cycles. */
  nominate(info: PodInfo, node: string): void {
    this.clearNomination(info.key);
    if (!node) return;
    let m = this.nominations.get(node);
    if (!m) this.nominations.set(node, (m = new Map()));
    m.set(info.key, info);
    this.nominatedNode.set(info.key, node);
  }

  clearNomination(key: string): void {
    const node = this.nominatedNode.get(key);
    if (node === undefined) return;
    this.nominatedNode.delete(key);
    const m = this.nominations.get(node);
    m?.delete(key);
    if (m && !m.size) this.nominations.delete(node);
  }

  /** Nominated pods on `node` (empty when none). */
  nominatedOn(node: string): Iterable<PodInfo> {
    return this.nominations.get(node)?.values() ?? [];
  }

  get hasNominations(): boolean {
    return this.nominations.size > 0;
  }

  /** Node the pod is counted on (assumed or bound), if any. */
  nodeOf(key: string): string | undefined {
    return this.podStates.get(key)?.node;
  }
}
