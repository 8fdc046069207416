// The kubelet's own admission of a pod bound to its node (upstream lifecycle.predicateAdmitHandler with the
// scheduler's GeneralPredicates): enough allocatable for its requests beside the pods already admitted, the node
// name, free host ports, nodeSelector/required node affinity, and no untolerated NoExecute taint. A rejected pod
// fails with the first failure as its reason (OutOfcpu, OutOfmemory, OutOfpods, NodePorts, NodeAffinity …). Pure.

import { podMatchesNodeSelectorAndAffinity } from '../api/corev1/nodeaffinity.js';
import { nodeAllocatable, podRequests } from '../api/corev1/resources.js';
import { findUntoleratedTaint } from '../api/corev1/tolerations.js';
import type { ContainerPort, Node, Pod as SchedPod, Taint, Toleration } from '../api/corev1/types.js';
import type { Pod } from './types.js';

export type Admission = { admit: true } | { admit: false; reason: string; message: string };

const predicate = (name: string, desc: string): Admission => ({ admit: false, reason: name, message: `Predicate ${name} failed: ${desc}` });

interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

function hostPorts(pod: Pod): HostPort[] {
  const spec = pod.spec ?? {};
  const out: HostPort[] = [];
  const containers = [...((spec.initContainers ?? []) as Array<{ restartPolicy?: string; ports?: ContainerPort[] }>).filter((c) => c.restartPolicy === 'Always'), ...((spec.containers ?? []) as Array<{ ports?: ContainerPort[] }>)];
  for (const c of containers)
    for (const p of c.ports ?? []) if (p.hostPort) out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
  return out;
}

const portsConflict = (a: HostPort, b: HostPort): boolean => a.port === b.port && a.protocol === b.protocol && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0');

/** Whether `pod` may run on `node` beside `admitted` (the other non-terminal pods this kubelet admitted). */
export function admitPod(pod: Pod, node: Node, admitted: Pod[]): Admission {
  const alloc = nodeAllocatable(node);
  const want = podRequests(pod as SchedPod);
  const used = admitted.map((p) => podRequests(p as SchedPod));
  const sum = (f: (r: (typeof used)[number]) => number) => used.reduce((n, r) => n + f(r), 0);
  const short = (resource: string, requested: number, usedNow: number, capacity: number): Admission => ({
    admit: false,
    reason: `OutOf${resource}`,
    message: `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${usedNow}, capacity: ${capacity}`,
  });
  // noderesources.Fits, in its order: the pod count, cpu, memory, ephemeral storage, extended resources.
  if (admitted.length + 1 > alloc.allowedPods) return short('pods', 1, admitted.length, alloc.allowedPods);
  const cpu = sum((r) => r.milliCPU);
  if (want.milliCPU > 0 && want.milliCPU > alloc.milliCPU - cpu) return short('cpu', want.milliCPU, cpu, alloc.milliCPU);
  const mem = sum((r) => r.memory);
  if (want.memory > 0 && want.memory > alloc.memory - mem) return short('memory', want.memory, mem, alloc.memory);
  const eph = sum((r) => r.ephemeralStorage);
  if (want.ephemeralStorage > 0 && want.ephemeralStorage > alloc.ephemeralStorage - eph) return short('ephemeral-storage', want.ephemeralStorage, eph, alloc.ephemeralStorage);
  for (const [name, n] of [...want.scalar].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (n <= 0) continue;
    const u = sum((r) => r.scalar.get(name) ?? 0);
    const cap = alloc.scalar.get(name) ?? 0;
    if (n > cap - u) return short(name, n, u, cap);
  }
  if (!podMatchesNodeSelectorAndAffinity(pod as SchedPod, node)) return predicate('NodeAffinity', "node(s) didn't match Pod's node affinity/selector");
  const nodeName = pod.spec?.nodeName as string | undefined;
  if (nodeName && nodeName !== node.metadata.name) return predicate('NodeName', "node(s) didn't match the requested node name");
  const taken = admitted.flatMap(hostPorts);
  if (hostPorts(pod).some((p) => taken.some((t) => portsConflict(p, t)))) return predicate('NodePorts', "node(s) didn't have free ports for the requested pod ports");
  const taints = ((node.spec as { taints?: Taint[] } | undefined)?.taints ?? []) as Taint[];
  if (findUntoleratedTaint(taints, (pod.spec?.tolerations ?? []) as Toleration[], new Set(['NoExecute']))) return predicate('TaintToleration', 'node(s) had untolerated taint');
  return { admit: true };
}
