// Test and benchmark fixtures for the scheduler: Node and Pod builders, and a FakeClient that also serves the
// pods/binding subresource (sets spec.nodeName and PodScheduled=True, 409 when already bound, as the API server).

import type { KubeObject } from '../api/types.js';
import { FakeClient } from '../client/fake.js';
import { ApiError, type Resource } from '../client/interface.js';
import type { Node, Pod, PodSpec, Taint } from '../api/corev1/types.js';
import { NodeInfo, PodInfo, type Snapshot } from './framework/nodeinfo.js';

const PODS: Resource = { group: '', version: 'v1', resource: 'pods', namespaced: true };

export class FakeClusterClient extends FakeClient {
  /** Bindings served so far: "ns/name" → node. */
  readonly bindings = new Map<string, string>();

  override async create(r: Resource, ns: string | undefined, obj: KubeObject, subresource?: string): Promise<KubeObject> {
    if (r.resource !== 'pods' || subresource !== 'binding') return super.create(r, ns, obj, subresource);
    const name = obj.metadata.name ?? '';
    const target = (obj as { target?: { name?: string } }).target?.name ?? '';
    this.actions.push({ verb: 'create', resource: 'pods', namespace: ns, name, subresource: 'binding', detail: structuredClone(obj) });
    const pod = this.peek('pods', ns, name) as Pod | undefined;
    if (!pod) throw new ApiError(404, 'NotFound', `pods "${name}" not found`);
    if (pod.spec?.nodeName) throw new ApiError(409, 'Conflict', `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString() });
    await this.patch(PODS, ns, name, 'application/merge-patch+json', { spec: { nodeName: target }, status: { conditions } });
    this.bindings.set(`${ns}/${name}`, target);
    return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 };
  }
}

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
}

export function makeNode(name: string, o: NodeOptions = {}): Node {
  const alloc: Record<string, string> = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: String(o.pods ?? 110), 'ephemeral-storage': '100Gi', ...o.extra };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: alloc, allocatable: alloc },
  };
}

export interface PodOptions {
  namespace?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  spec?: Partial<PodSpec>;
  creationTimestamp?: string;
}

export function makePod(name: string, o: PodOptions = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels, ...(o.creationTimestamp ? { creationTimestamp: o.creationTimestamp } : {}) },
    spec: {
      schedulerName: 'default-scheduler',
      priority: o.priority ?? 0,
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: Object.keys(requests).length ? { requests } : {} }],
      ...o.spec,
    },
    status: { phase: 'Pending' },
  };
}

/** A static snapshot over nodes with pods already placed (plugin table tests). */
export function snapshotOf(nodes: Node[], pods: Pod[] = [], nsLabels: Record<string, Record<string, string>> = {}): Snapshot {
  const infos = nodes.map((n) => new NodeInfo(n));
  const byName = new Map(infos.map((n) => [n.name, n]));
  for (const p of pods) byName.get(p.spec?.nodeName ?? '')?.addPod(new PodInfo(p));
  return {
    nodes: infos,
    get: (n) => byName.get(n),
    nodesWithAffinityPods: infos.filter((n) => n.podsWithAffinity.length),
    nodesWithRequiredAntiAffinityPods: infos.filter((n) => n.podsWithRequiredAntiAffinity.length),
    namespaceLabels: (ns) => nsLabels[ns],
  };
}
