// The Endpoints a Service should have, as pure functions (upstream endpoints_controller.go syncService body,
// pkg/api/v1/endpoints RepackSubsets and truncateEndpoints): one subset per distinct set of ports, ready and
// not-ready addresses from pod readiness, hostnames for the Service's subdomain pods, at most 1000 addresses.

import type { KubeObject } from '../../api/types.js';
import { isPodReady } from '../common/pods.js';
import { findPort, isIPv6, podIPs, podSpec, serviceSpec, shouldPodBeInEndpoints, shouldSetHostname } from '../endpointslice/util.js';

/** Addresses an Endpoints object holds before the controller truncates it (upstream maxCapacity). */
export const MAX_CAPACITY = 1000;
export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';

export interface ObjectReference {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectReference;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface DesiredEndpoints {
  subsets: EndpointSubset[];
  ready: number;
  notReady: number;
}

/** The pod's address for this Service: the first pod IP of the Service's (first) IP family. */
function podAddress(svc: KubeObject, pod: KubeObject): EndpointAddress | undefined {
  const spec = serviceSpec(svc);
  let v6: boolean;
  if (spec.ipFamilies?.length) v6 = spec.ipFamilies[0] === 'IPv6';
  else if (spec.clusterIP && spec.clusterIP !== 'None') v6 = isIPv6(spec.clusterIP);
  else v6 = isIPv6(podIPs(pod)[0] ?? '');
  const ip = podIPs(pod).find((a) => isIPv6(a) === v6);
  if (!ip) return undefined;
  const addr: EndpointAddress = { ip };
  const node = podSpec(pod).nodeName;
  if (node) addr.nodeName = node;
  addr.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name ?? '', uid: pod.metadata.uid };
  if (shouldSetHostname(pod, svc)) addr.hostname = podSpec(pod).hostname;
  return addr;
}

/** Subsets for `svc` from the pods its selector matches (before repacking), with ready/not-ready counts. */
export function desiredEndpoints(svc: KubeObject, pods: KubeObject[]): DesiredEndpoints {
  const spec = serviceSpec(svc);
  const tolerate = spec.publishNotReadyAddresses === true;
  const raw: EndpointSubset[] = [];
  let ready = 0;
  let notReady = 0;
  const add = (pod: KubeObject, addr: EndpointAddress, port: EndpointPort | undefined) => {
    const ports = port ? [port] : [];
    if (tolerate || isPodReady(pod)) {
      raw.push({ addresses: [addr], ports });
      ready++;
    } else {
      raw.push({ notReadyAddresses: [addr], ports });
      notReady++;
    }
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerate)) continue;
    const addr = podAddress(svc, pod);
    if (!addr) continue;
    const ports = spec.ports ?? [];
    if (ports.length === 0) {
      // Only a headless Service may go without ports.
      if (spec.clusterIP === 'None') add(pod, addr, undefined);
      continue;
    }
    for (const sp of ports) {
      const num = findPort(pod, sp);
      if (num === undefined) continue;
      const ep: EndpointPort = { port: num, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      add(pod, addr, ep);
    }
  }
  return { subsets: repackSubsets(raw), ready, notReady };
}

const addrKey = (a: EndpointAddress): string => `${a.ip}\u0000${a.targetRef?.uid ?? ''}`;
const portKey = (p: EndpointPort): string => JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol ?? '']);

/** LessEndpointAddress: by IP (bytewise), then target uid (no targetRef first). */
function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid;
  const ub = b.targetRef?.uid;
  if (ua === ub) return 0;
  if (ub === undefined) return 1;
  if (ua === undefined) return -1;
  return ua < ub ? -1 : 1;
}

/**
 * RepackSubsets: regroup into the fewest subsets — every port maps to the addresses offering it (not-ready wins
 * over ready for an address listed both ways), and ports with identical address sets share a subset. Sorted
 * deterministically (addresses by IP then uid, as upstream; ports and subsets by content, where upstream orders
 * by a hash).
 */
export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const all = new Map<string, EndpointAddress>();
  const byPort = new Map<string, { port: EndpointPort | undefined; addrs: Map<string, boolean> }>();
  const map = (a: EndpointAddress, port: EndpointPort | undefined, ready: boolean) => {
    const k = addrKey(a);
    if (!all.has(k)) all.set(k, a);
    const pk = port ? portKey(port) : 'sentinel';
    let entry = byPort.get(pk);
    if (!entry) byPort.set(pk, (entry = { port, addrs: new Map() }));
    const was = entry.addrs.get(k);
    if (was === undefined || was) entry.addrs.set(k, ready);
  };
  for (const ss of subsets) {
    const ports: Array<EndpointPort | undefined> = ss.ports?.length ? ss.ports : [undefined];
    for (const p of ports) {
      for (const a of ss.addresses ?? []) map(a, p, true);
      for (const a of ss.notReadyAddresses ?? []) map(a, p, false);
    }
  }
  const groups = new Map<string, { addrs: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, addrs } of byPort.values()) {
    const key = JSON.stringify([...addrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { addrs, ports: [] }));
    if (port) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [k, r] of g.addrs) (r ? ready : notReady).push(all.get(k)!);
    const ss: EndpointSubset = {};
    if (ready.length) ss.addresses = ready.sort(compareAddresses);
    if (notReady.length) ss.notReadyAddresses = notReady.sort(compareAddresses);
    if (g.ports.length) ss.ports = g.ports.sort((a, b) => (portKey(a) < portKey(b) ? -1 : portKey(a) > portKey(b) ? 1 : 0));
    out.push(ss);
  }
  const subsetKey = (s: EndpointSubset) => JSON.stringify([(s.addresses ?? s.notReadyAddresses ?? [])[0]?.ip ?? '', (s.ports ?? []).map(portKey)]);
  return out.sort((a, b) => (subsetKey(a) < subsetKey(b) ? -1 : subsetKey(a) > subsetKey(b) ? 1 : 0));
}

/**
 * truncateEndpoints: over MAX_CAPACITY addresses, keep ready ones first — each subset keeps its proportional
 * share (rounded up, the last subsets getting what is left). Returns the truncated copy, or undefined if within.
 */
export function truncateSubsets(subsets: EndpointSubset[]): EndpointSubset[] | undefined {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const ss of subsets) {
    totalReady += ss.addresses?.length ?? 0;
    totalNotReady += ss.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= MAX_CAPACITY) return undefined;
  const truncateReady = totalReady > MAX_CAPACITY;
  const max = truncateReady ? MAX_CAPACITY : MAX_CAPACITY - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = max;
  return subsets.map((ss0) => {
    const ss = { ...ss0 };
    const inSubset = (truncateReady ? ss.addresses?.length : ss.notReadyAddresses?.length) ?? 0;
    const toBeAdded = Math.min(Math.ceil((inSubset / numTotal) * max), canBeAdded);
    if (truncateReady) {
      ss.addresses = (ss.addresses ?? []).slice(0, toBeAdded);
      delete ss.notReadyAddresses;
      canBeAdded -= ss.addresses.length;
      if (!ss.addresses.length) delete ss.addresses;
    } else {
      ss.notReadyAddresses = (ss.notReadyAddresses ?? []).slice(0, toBeAdded);
      canBeAdded -= ss.notReadyAddresses.length;
      if (!ss.notReadyAddresses.length) delete ss.notReadyAddresses;
    }
    return ss;
  });
}

/** Subsets equal as the API compares them: empty and absent lists alike, targetRef resourceVersions ignored. */
export function subsetsEqual(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  const norm = (x: unknown, key?: string): unknown => {
    if (Array.isArray(x)) return x.length ? x.map((e) => norm(e)) : undefined;
    if (x && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) {
        if (key === 'targetRef' && k === 'resourceVersion') continue;
        const n = norm((x as Record<string, unknown>)[k], k);
        if (n !== undefined && n !== '') o[k] = n;
      }
      return o;
    }
    return x === null ? undefined : x;
  };
  return JSON.stringify(norm(v) ?? []);
}
