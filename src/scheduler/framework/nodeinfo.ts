// PodInfo and NodeInfo (framework/types.go): a pod with its requests, host ports and affinity terms worked out
// once, and a node with the pods assigned (or assumed) to it and their summed requests. The scheduling cycle is
// synchronous, so plugins read these live objects as the snapshot; preemption works on clones.

import { fromLabelSelector, type Selector } from '../../api/selectors/labels.js';
import type { LabelSelector, LabelSelectorRequirement } from '../../api/types.js';
import { cloneResource, newResource, nodeAllocatable, podRequests, type Resource } from '../../api/corev1/resources.js';
import type { Node, Pod, PodAffinityTerm, Taint, Toleration, WeightedPodAffinityTerm } from '../../api/corev1/types.js';

/** Namespace labels by name, for namespaceSelector terms. */
export type NamespaceLabels = (namespace: string) => Record<string, string> | undefined;

/** A pod (anti-)affinity term with its selectors parsed (framework.AffinityTerm). */
export class AffinityTerm {
  readonly namespaces: ReadonlySet<string>;
  readonly selector: Selector;
  /** undefined: no namespaceSelector (nothing beyond `namespaces`); empty selector: every namespace. */
  readonly namespaceSelector: Selector | undefined;
  readonly topologyKey: string;

  constructor(pod: Pod, term: PodAffinityTerm) {
    const ns = pod.metadata.namespace ?? 'default';
    this.topologyKey = term.topologyKey;
    const names = new Set(term.namespaces ?? []);
    if (names.size === 0 && !term.namespaceSelector) names.add(ns);
    this.namespaces = names;
    this.namespaceSelector = term.namespaceSelector ? fromLabelSelector(term.namespaceSelector) : undefined;
    let sel: LabelSelector | null | undefined = term.labelSelector;
    const labels = pod.metadata.labels ?? {};
    const extra: LabelSelectorRequirement[] = [];
    for (const k of term.matchLabelKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'In', values: [labels[k]] });
    for (const k of term.mismatchLabelKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'NotIn', values: [labels[k]] });
    if (sel && extra.length) sel = { ...sel, matchExpressions: [...(sel.matchExpressions ?? []), ...extra] };
    this.selector = fromLabelSelector(sel);
  }

  /** Whether `pod` is selected by this term (its namespace and labels). */
  matches(pod: Pod, nsLabels: NamespaceLabels): boolean {
    const ns = pod.metadata.namespace ?? 'default';
    if (!this.namespaces.has(ns)) {
      if (!this.namespaceSelector) return false;
      if (!this.namespaceSelector.empty && !this.namespaceSelector.matches(nsLabels(ns) ?? {})) return false;
    }
    return this.selector.matches(pod.metadata.labels ?? {});
  }
}

export interface WeightedAffinityTerm {
  term: AffinityTerm;
  weight: number;
}

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export class PodInfo {
  readonly key: string;
  readonly priority: number;
  readonly requests: Resource;
  /** Requests with 100m cpu / 200Mi memory for containers that request none (scoring only). */
  readonly nonZeroCPU: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: HostPort[];
  readonly requiredAffinityTerms: AffinityTerm[];
  readonly requiredAntiAffinityTerms: AffinityTerm[];
  readonly preferredAffinityTerms: WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: WeightedAffinityTerm[];
  readonly tolerations: Toleration[];

  constructor(
    readonly pod: Pod,
    priority?: number,
  ) {
    this.key = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    this.priority = priority ?? pod.spec?.priority ?? 0;
    this.requests = podRequests(pod);
    const nz = podRequests(pod, true);
    this.nonZeroCPU = nz.milliCPU;
    this.nonZeroMemory = nz.memory;
    this.hostPorts = [];
    for (const c of pod.spec?.containers ?? []) {
      for (const p of c.ports ?? []) {
        if (p.hostPort && p.hostPort > 0) this.hostPorts.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
      }
    }
    const a = pod.spec?.affinity;
    const req = (ts: PodAffinityTerm[] | undefined) => (ts ?? []).map((t) => new AffinityTerm(pod, t));
    const pref = (ts: WeightedPodAffinityTerm[] | undefined) => (ts ?? []).filter((t) => t.weight).map((t) => ({ term: new AffinityTerm(pod, t.podAffinityTerm), weight: t.weight }));
    this.requiredAffinityTerms = req(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.requiredAntiAffinityTerms = req(a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.preferredAffinityTerms = pref(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinityTerms = pref(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.tolerations = pod.spec?.tolerations ?? [];
  }

  /**
   * The same pod in a later version (assumed with spec.nodeName, or seen bound) keeping the work already done:
   * requests, ports and terms. Only for versions whose spec and labels are otherwise unchanged.
   */
  withPod(pod: Pod): PodInfo {
    const c = Object.create(PodInfo.prototype) as PodInfo;
    Object.assign(c, this);
    (c as { pod: Pod }).pod = pod;
    return c;
  }

  get hasAffinity(): boolean {
    return this.requiredAffinityTerms.length + this.requiredAntiAffinityTerms.length + this.preferredAffinityTerms.length + this.preferredAntiAffinityTerms.length > 0;
  }
}

export class NodeInfo {
  readonly name: string;
  node: Node;
  allocatable: Resource;
  taints: Taint[];
  requested: Resource = newResource();
  nonZeroCPU = 0;
  nonZeroMemory = 0;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** "protocol/port" → host IPs in use. */
  usedPorts = new Map<string, Set<string>>();

  constructor(node: Node) {
    this.name = node.metadata.name ?? '';
    this.node = node;
    this.allocatable = nodeAllocatable(node);
    this.taints = node.spec?.taints ?? [];
  }

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = nodeAllocatable(node);
    this.taints = node.spec?.taints ?? [];
  }

  get labels(): Record<string, string> {
    return this.node.metadata.labels ?? {};
  }

  addPod(pi: PodInfo): void {
    this.pods.push(pi);
    if (pi.hasAffinity) this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinityTerms.length) this.podsWithRequiredAntiAffinity.push(pi);
    this.account(pi, 1);
  }

  /** Removes the pod with this key; false if it was not here. */
  removePod(key: string): boolean {
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return false;
    const pi = this.pods[i];
    this.pods.splice(i, 1);
    this.podsWithAffinity = this.podsWithAffinity.filter((p) => p.key !== key);
    this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p.key !== key);
    this.account(pi, -1);
    return true;
  }

  private account(pi: PodInfo, sign: 1 | -1): void {
    const r = this.requested;
    r.milliCPU += sign * pi.requests.milliCPU;
    r.memory += sign * pi.requests.memory;
    r.ephemeralStorage += sign * pi.requests.ephemeralStorage;
    for (const [k, v] of pi.requests.scalar) r.scalar.set(k, (r.scalar.get(k) ?? 0) + sign * v);
    this.nonZeroCPU += sign * pi.nonZeroCPU;
    this.nonZeroMemory += sign * pi.nonZeroMemory;
    for (const hp of pi.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (sign > 0) {
        if (!ips) this.usedPorts.set(k, (ips = new Set()));
        ips.add(hp.ip);
      } else if (ips) {
        ips.delete(hp.ip);
        if (!ips.size) this.usedPorts.delete(k);
      }
    }
  }

  /** Whether a host port is taken (0.0.0.0 conflicts with every address on the same protocol/port). */
  portInUse(hp: HostPort): boolean {
    const ips = this.usedPorts.get(`${hp.protocol}/${hp.port}`);
    if (!ips || ips.size === 0) return false;
    return hp.ip === '0.0.0.0' || ips.has('0.0.0.0') || ips.has(hp.ip);
  }

  clone(): NodeInfo {
    const n = new NodeInfo(this.node);
    n.requested = cloneResource(this.requested);
    n.nonZeroCPU = this.nonZeroCPU;
    n.nonZeroMemory = this.nonZeroMemory;
    n.pods = [...this.pods];
    n.podsWithAffinity = [...this.podsWithAffinity];
    n.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    n.usedPorts = new Map([...this.usedPorts].map(([k, v]) => [k, new Set(v)]));
    return n;
  }
}

/** The nodes a scheduling cycle sees (framework.SharedLister): all node infos, by name, and affinity subsets. */
export interface Snapshot {
  readonly nodes: readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Nodes with at least one pod that has (anti-)affinity terms. */
  readonly nodesWithAffinityPods: readonly NodeInfo[];
  readonly nodesWithRequiredAntiAffinityPods: readonly NodeInfo[];
  readonly namespaceLabels: NamespaceLabels;
}
