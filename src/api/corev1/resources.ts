// Resource arithmetic for scheduling (component-helpers resource.PodRequests and the scheduler's Resource):
// a pod's effective requests (regular containers summed, sidecars added, the init-container maximum rule,
// pod overhead) and a node's allocatable, as plain numbers (millicores, bytes, counts) for speed.

import { tryParseQuantity, quantityMilliValue, quantityValue } from '../quantity.js';
import type { Container, Node, Pod, ResourceList } from './types.js';

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Allowed pod count (allocatable "pods"); unused in requests. */
  allowedPods: number;
  /** Extended and hugepages resources by name, in integer units. */
  scalar: Map<string, number>;
}

export const newResource = (): Resource => ({ milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPods: 0, scalar: new Map() });

export function cloneResource(r: Resource): Resource {
  return { ...r, scalar: new Map(r.scalar) };
}

/** Defaults for containers without a request, used only by scoring (upstream's non-zero requests). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

function addList(into: Resource, list: ResourceList | undefined, sign = 1): void {
  if (!list) return;
  for (const [name, raw] of Object.entries(list)) {
    const q = tryParseQuantity(raw);
    if (!q) continue;
    if (name === 'cpu') into.milliCPU += sign * quantityMilliValue(q);
    else if (name === 'memory') into.memory += sign * quantityValue(q);
    else if (name === 'ephemeral-storage') into.ephemeralStorage += sign * quantityValue(q);
    else if (name === 'pods') into.allowedPods += sign * quantityValue(q);
    else if (isScalarResourceName(name)) into.scalar.set(name, (into.scalar.get(name) ?? 0) + sign * quantityValue(q));
  }
}

/** Scalar resources: extended (domain-prefixed) and prefixed-native names, hugepages-*, attachable-volumes-*. */
export function isScalarResourceName(name: string): boolean {
  return name.includes('/') || name.startsWith('hugepages-') || name.startsWith('attachable-volumes-');
}

function maxInto(into: Resource, r: Resource): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  for (const [k, v] of r.scalar) into.scalar.set(k, Math.max(into.scalar.get(k) ?? 0, v));
}

function addResource(into: Resource, r: Resource): void {
  into.milliCPU += r.milliCPU;
  into.memory += r.memory;
  into.ephemeralStorage += r.ephemeralStorage;
  for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + v);
}

function containerRequests(c: Container, nonZero: boolean): Resource {
  const r = newResource();
  addList(r, c.resources?.requests);
  if (nonZero) {
    const req = c.resources?.requests ?? {};
    if (req.cpu === undefined) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (req.memory === undefined) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * resource.PodRequests: max(sum of containers + sidecars, each init container plus the sidecars started before
 * it) + overhead. `nonZero` substitutes 100m cpu / 200Mi memory for missing requests (scoring only).
 */
export function podRequests(pod: Pod, nonZero = false): Resource {
  const spec = pod.spec ?? {};
  const reqs = newResource();
  for (const c of spec.containers ?? []) addResource(reqs, containerRequests(c, nonZero));
  const sidecars = newResource();
  const initMax = newResource();
  for (const c of spec.initContainers ?? []) {
    const cr = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      addResource(reqs, cr);
      addResource(sidecars, cr);
      maxInto(initMax, sidecars);
    } else {
      const t = cloneResource(cr);
      addResource(t, sidecars);
      maxInto(initMax, t);
    }
  }
  maxInto(reqs, initMax);
  addList(reqs, spec.overhead);
  return reqs;
}

/** The node's allocatable (capacity when allocatable is absent). */
export function nodeAllocatable(node: Node): Resource {
  const r = newResource();
  addList(r, node.status?.allocatable ?? node.status?.capacity);
  return r;
}
