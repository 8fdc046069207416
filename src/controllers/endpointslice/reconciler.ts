// The EndpointSlice reconciler's plan as a pure function (upstream k8s.io/endpointslice reconciler.go and
// utils.go): given a Service, its pods, the nodes and the slices it has, which slices to create, update and delete.
// Changes are kept small: endpoints stay in the slice they are in, changed slices are filled up before anything
// new is made, leftovers go into the existing slice they fill best, and a Service with no endpoints keeps one
// empty placeholder slice.

import type { KubeObject, OwnerReference } from '../../api/types.js';
import { isPodReady } from '../common/pods.js';
import { findPort, HEADLESS_LABEL, isIPv6, isServiceIPSet, podIPs, podSpec, serviceSpec, shouldPodBeInEndpoints, shouldSetHostname } from './util.js';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;

export type AddressType = 'IPv4' | 'IPv6';

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string };
  nodeName?: string;
  zone?: string;
  hints?: unknown;
}

export interface SlicePort {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

export interface SliceShape {
  addressType?: string;
  endpoints?: Endpoint[] | null;
  ports?: SlicePort[] | null;
}

export const sliceOf = (o: KubeObject): SliceShape => o as unknown as SliceShape;

export interface ReconcileInput {
  service: KubeObject;
  pods: KubeObject[];
  /** The controller's own slices of this Service (label selected), none pending deletion. */
  slices: KubeObject[];
  /** The Node a pod runs on, if known. */
  node: (name: string) => KubeObject | undefined;
  maxEndpointsPerSlice?: number;
}

export interface ReconcilePlan {
  create: KubeObject[];
  update: KubeObject[];
  delete: KubeObject[];
  /** Problems that deserve a retry (a pod on an unknown node): reported after the plan is carried out. */
  errors: string[];
}

/** Address types the Service wants slices for (getAddressTypesForService). */
export function addressTypesFor(svc: KubeObject): Set<AddressType> {
  const spec = serviceSpec(svc);
  const out = new Set<AddressType>();
  for (const f of spec.ipFamilies ?? []) {
    if (f === 'IPv4') out.add('IPv4');
    if (f === 'IPv6') out.add('IPv6');
  }
  if (out.size) return out;
  if (isServiceIPSet(svc)) return new Set([isIPv6(spec.clusterIP ?? '') ? 'IPv6' : 'IPv4']);
  return new Set(['IPv4', 'IPv6']);
}

/** A port set's identity: ports normalised (name "" and TCP are the API defaults) and ordered. */
export function portMapKey(ports: SlicePort[] | null | undefined): string {
  return JSON.stringify((ports ?? []).map((p) => [p.name ?? '', p.port ?? null, p.protocol ?? 'TCP', p.appProtocol ?? null]).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)));
}

/** An endpoint's identity (hashEndpoint): addresses, hostname and target pod; the rest may change in place. */
export function endpointKey(e: Endpoint): string {
  return JSON.stringify([[...(e.addresses ?? [])].sort(), e.hostname ?? '', e.targetRef?.namespace ?? '', e.targetRef?.name ?? '']);
}

/** EndpointsEqualBeyondHash: node, zone, conditions and target (resourceVersion aside). */
export function endpointsEqualBeyondHash(a: Endpoint, b: Endpoint): boolean {
  const ca = a.conditions ?? {};
  const cb = b.conditions ?? {};
  const ref = (e: Endpoint) => JSON.stringify(e.targetRef ? [e.targetRef.kind ?? '', e.targetRef.namespace ?? '', e.targetRef.name ?? '', e.targetRef.uid ?? ''] : null);
  return a.nodeName === b.nodeName && a.zone === b.zone && ca.ready === cb.ready && ca.serving === cb.serving && ca.terminating === cb.terminating && ref(a) === ref(b);
}

/** The endpoint a pod contributes (podToEndpoint). */
export function podToEndpoint(pod: KubeObject, node: KubeObject | undefined, svc: KubeObject, addressType: AddressType): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const ready = serviceSpec(svc).publishNotReadyAddresses === true || (serving && !terminating);
  const ep: Endpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === 'IPv6')),
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  const spec = podSpec(pod);
  if (spec.nodeName) ep.nodeName = spec.nodeName;
  const zone = node?.metadata.labels?.[ZONE_LABEL];
  if (zone) ep.zone = zone;
  if (shouldSetHostname(pod, svc)) ep.hostname = spec.hostname;
  return ep;
}

/** The ports a pod serves for the Service (getEndpointPorts): unresolvable named ports are left out. */
export function endpointPorts(svc: KubeObject, pod: KubeObject): SlicePort[] {
  const spec = serviceSpec(svc);
  const out: SlicePort[] = [];
  if ((spec.ports ?? []).length === 0 && spec.clusterIP === 'None') return out;
  for (const sp of spec.ports ?? []) {
    const num = findPort(pod, sp);
    if (num === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port: num, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

const RESERVED = new Set([LABEL_SERVICE_NAME, LABEL_MANAGED_BY, HEADLESS_LABEL]);

/** setEndpointSliceLabels: the Service's labels plus the reserved ones; `changed` when the non-reserved differ. */
export function sliceLabels(slice: KubeObject | undefined, svc: KubeObject): { labels: Record<string, string>; changed: boolean } {
  const mine: Record<string, string> = {};
  for (const [k, v] of Object.entries(slice?.metadata.labels ?? {})) if (!RESERVED.has(k)) mine[k] = v;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (!RESERVED.has(k)) labels[k] = v;
  const km = Object.keys(mine);
  const changed = km.length !== Object.keys(labels).length || km.some((k) => mine[k] !== labels[k]);
  if (!isServiceIPSet(svc)) labels[HEADLESS_LABEL] = '';
  labels[LABEL_SERVICE_NAME] = svc.metadata.name ?? '';
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return { labels, changed };
}

export function serviceOwnerRef(svc: KubeObject): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export function ownedBy(slice: KubeObject, svc: KubeObject): boolean {
  return (slice.metadata.ownerReferences ?? []).some((o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1');
}

/** A new, unnamed slice for the Service (newEndpointSlice): generateName "<service>-". */
export function newSlice(svc: KubeObject, ports: SlicePort[], addressType: AddressType): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { generateName: `${svc.metadata.name}-`, namespace: svc.metadata.namespace, labels: sliceLabels(undefined, svc).labels, ownerReferences: [serviceOwnerRef(svc)] },
    addressType,
    endpoints: [],
    ports,
  };
}

const endpointsOf = (s: KubeObject): Endpoint[] => sliceOf(s).endpoints ?? [];

/** The slice that ends up closest to full when `n` endpoints are added (getSliceToFill). */
function sliceToFill(slices: KubeObject[], n: number, max: number): KubeObject | undefined {
  let closestDiff = max;
  let closest: KubeObject | undefined;
  for (const s of slices) {
    const diff = max - (n + endpointsOf(s).length);
    if (diff >= 0 && diff < closestDiff) {
      closestDiff = diff;
      closest = s;
      if (diff === 0) return s;
    }
  }
  return closest;
}

/** Placeholder equality (placeholderSliceCompare): namespace, labels, owners and the (empty) body. */
function samePlaceholder(a: KubeObject, b: KubeObject): boolean {
  const la = a.metadata.labels ?? {};
  const lb = b.metadata.labels ?? {};
  if (a.metadata.namespace !== b.metadata.namespace) return false;
  if (Object.keys(la).length !== Object.keys(lb).length || Object.keys(la).some((k) => la[k] !== lb[k])) return false;
  const owners = (o: KubeObject) => JSON.stringify((o.metadata.ownerReferences ?? []).map((r) => [r.apiVersion, r.kind, r.name, r.uid, !!r.controller, !!r.blockOwnerDeletion]));
  const sa = sliceOf(a);
  const sb = sliceOf(b);
  return owners(a) === owners(b) && sa.addressType === sb.addressType && (sa.endpoints ?? []).length === 0 && (sb.endpoints ?? []).length === 0 && portMapKey(sa.ports) === portMapKey(sb.ports);
}

/** Plans the slices of one Service (Reconcile): every wanted address type, slices of others deleted. */
export function reconcile(input: ReconcileInput): ReconcilePlan {
  const plan: ReconcilePlan = { create: [], update: [], delete: [], errors: [] };
  const types = addressTypesFor(input.service);
  const byType = new Map<AddressType, KubeObject[]>();
  for (const s of input.slices) {
    const t = sliceOf(s).addressType as AddressType;
    if (!types.has(t)) {
      plan.delete.push(s);
      continue;
    }
    let l = byType.get(t);
    if (!l) byType.set(t, (l = []));
    l.push(s);
  }
  for (const t of types) {
    const p = reconcileByAddressType(input, byType.get(t) ?? [], t);
    plan.create.push(...p.create);
    plan.update.push(...p.update);
    plan.delete.push(...p.delete);
    plan.errors.push(...p.errors);
  }
  return plan;
}

function reconcileByAddressType(input: ReconcileInput, existing: KubeObject[], addressType: AddressType): ReconcilePlan {
  const { service: svc } = input;
  const max = input.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
  const plan: ReconcilePlan = { create: [], update: [], delete: [], errors: [] };
  const existingByPorts = new Map<string, KubeObject[]>();
  for (const s of existing) {
    if (!ownedBy(s, svc)) {
      plan.delete.push(s);
      continue;
    }
    const k = portMapKey(sliceOf(s).ports);
    let l = existingByPorts.get(k);
    if (!l) existingByPorts.set(k, (l = []));
    l.push(s);
  }
  const desiredPorts = new Map<string, SlicePort[]>();
  const desired = new Map<string, Map<string, Endpoint>>();
  const publishNotReady = serviceSpec(svc).publishNotReadyAddresses === true;
  for (const pod of input.pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(svc, pod);
    const k = portMapKey(ports);
    if (!desired.has(k)) desired.set(k, new Map());
    if (!desiredPorts.has(k)) desiredPorts.set(k, ports);
    const nodeName = podSpec(pod).nodeName ?? '';
    const node = input.node(nodeName);
    if (!node && !publishNotReady) {
      // Skip the pod for now (and retry later) rather than leave the slice stuck on a missing node.
      plan.errors.push(`skipping Pod ${pod.metadata.name} for Service ${svc.metadata.namespace}/${svc.metadata.name}: Node ${nodeName} Not Found`);
      continue;
    }
    const ep = podToEndpoint(pod, node, svc, addressType);
    if (ep.addresses.length > 0) desired.get(k)!.set(endpointKey(ep), ep);
  }
  for (const [k, eps] of desired) {
    const p = reconcileByPortMapping(svc, existingByPorts.get(k) ?? [], eps, desiredPorts.get(k) ?? [], addressType, max);
    plan.create.push(...p.create);
    plan.update.push(...p.update);
    plan.delete.push(...p.delete);
  }
  for (const [k, slices] of existingByPorts) if (!desired.has(k)) plan.delete.push(...slices);

  // With no endpoints at all, the Service keeps one empty placeholder slice.
  if (existing.length === plan.delete.length && plan.create.length === 0) {
    const placeholder = newSlice(svc, [], addressType);
    if (plan.delete.length === 1 && samePlaceholder(plan.delete[0]!, placeholder)) plan.delete = [];
    else plan.create.push(placeholder);
  }
  return plan;
}

/** Sorted for a stable fill order (upstream pops from a hash set, so its order is arbitrary). */
function popAll(m: Map<string, Endpoint>): Endpoint[] {
  const out = [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
  m.clear();
  return out;
}

function reconcileByPortMapping(svc: KubeObject, existing: KubeObject[], desired: Map<string, Endpoint>, ports: SlicePort[], addressType: AddressType, max: number): { create: KubeObject[]; update: KubeObject[]; delete: KubeObject[] } {
  const byName = new Map<string, KubeObject>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();

  // 1. Drop endpoints no longer wanted, refresh those that changed, and bring labels in line.
  for (const s of existing) {
    const name = s.metadata.name ?? '';
    byName.set(name, s);
    const kept: Endpoint[] = [];
    let changed = false;
    for (const ep of endpointsOf(s)) {
      const k = endpointKey(ep);
      const want = desired.get(k);
      if (!want) continue;
      kept.push(want);
      if (!endpointsEqualBeyondHash(want, ep)) changed = true;
      desired.delete(k);
    }
    const { labels, changed: labelsChanged } = sliceLabels(s, svc);
    if (changed || kept.length !== endpointsOf(s).length) {
      if (kept.length === 0) toDelete.add(name);
      else {
        const copy = structuredClone(s);
        copy.endpoints = kept;
        copy.metadata.labels = labels;
        byName.set(name, copy);
        toUpdate.add(name);
      }
    } else if (labelsChanged) {
      const copy = structuredClone(s);
      copy.metadata.labels = labels;
      byName.set(name, copy);
      toUpdate.add(name);
    } else unchanged.add(name);
  }

  // 2. Fill the slices being updated anyway, fullest first.
  if (desired.size > 0 && toUpdate.size > 0) {
    const slices = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) => endpointsOf(b).length - endpointsOf(a).length);
    const queue = popAll(desired);
    for (const s of slices) {
      const eps = endpointsOf(s);
      while (queue.length && eps.length < max) eps.push(queue.shift()!);
      s.endpoints = eps;
    }
    for (const e of queue) desired.set(endpointKey(e), e);
  }

  // 3. The rest go into the unchanged slice they fit best, or into new slices.
  const create: KubeObject[] = [];
  const queue = popAll(desired);
  while (queue.length) {
    let target: KubeObject | undefined;
    if (queue.length < max && unchanged.size > 0) target = sliceToFill([...unchanged].map((n) => byName.get(n)!), queue.length, max);
    if (!target) target = newSlice(svc, ports, addressType);
    else {
      target = structuredClone(target);
      byName.set(target.metadata.name ?? '', target);
    }
    const eps = endpointsOf(target);
    while (queue.length && eps.length < max) eps.push(queue.shift()!);
    target.endpoints = eps;
    if (target.metadata.name) {
      toUpdate.add(target.metadata.name);
      unchanged.delete(target.metadata.name);
    } else create.push(target);
  }
  return { create, update: [...toUpdate].map((n) => byName.get(n)!), delete: [...toDelete].map((n) => byName.get(n)!) };
}

/**
 * finalize's first step: a slice about to be deleted is reused for one about to be created (same address type,
 * owned by this Service), so churn becomes one update instead of a delete and a create.
 */
export function mergeCreatesIntoDeletes(plan: ReconcilePlan, svc: KubeObject): ReconcilePlan {
  const create = [...plan.create];
  const update = [...plan.update];
  const del: KubeObject[] = [];
  for (const d of plan.delete) {
    const c = create[create.length - 1];
    if (c && sliceOf(d).addressType === sliceOf(c).addressType && ownedBy(d, svc)) {
      create.pop();
      const reused = structuredClone(d);
      reused.metadata.labels = c.metadata.labels;
      reused.metadata.ownerReferences = c.metadata.ownerReferences;
      reused.endpoints = c.endpoints;
      reused.ports = c.ports;
      update.push(reused);
    } else del.push(d);
  }
  return { create, update, delete: del, errors: plan.errors };
}
