// Pod and Service facts both endpoint controllers share (upstream k8s.io/endpointslice/util, which the Endpoints
// controller imports too): which pods belong in endpoints, port resolution, which services a pod change touches,
// and the last-change-trigger-time tracker. Pure functions over wire-format objects; no I/O.

import type { KubeObject } from '../../api/types.js';
import { ApiError } from '../../client/interface.js';
import { isPodReady, podPhase } from '../common/pods.js';

/** The annotation both controllers stamp with the time of the change that caused their write. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Label on Endpoints and EndpointSlices of headless Services (upstream v1.IsHeadlessService). */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export interface ServicePort {
  name?: string;
  protocol?: string;
  port?: number;
  targetPort?: number | string;
  appProtocol?: string;
  nodePort?: number;
}

export interface ServiceSpec {
  type?: string;
  selector?: Record<string, string>;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ports?: ServicePort[];
  publishNotReadyAddresses?: boolean;
  externalName?: string;
}

interface ContainerShape {
  ports?: Array<{ name?: string; containerPort?: number; protocol?: string }>;
  restartPolicy?: string;
}

interface PodSpecShape {
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  containers?: ContainerShape[];
  initContainers?: ContainerShape[];
}

export const serviceSpec = (svc: KubeObject): ServiceSpec => (svc.spec ?? {}) as ServiceSpec;
export const podSpec = (pod: KubeObject): PodSpecShape => (pod.spec ?? {}) as PodSpecShape;

/** Pod IPs in status order (podIPs, else the single podIP). */
export function podIPs(pod: KubeObject): string[] {
  const st = (pod.status ?? {}) as { podIP?: string; podIPs?: Array<{ ip?: string }> };
  const ips = (st.podIPs ?? []).map((p) => p.ip ?? '').filter(Boolean);
  if (ips.length) return ips;
  return st.podIP ? [st.podIP] : [];
}

export const isIPv6 = (ip: string): boolean => ip.includes(':');

/**
 * The selector a Service selects pods with, or undefined when it selects nothing (nil selector: its endpoints
 * are written by hand). An empty map is nil on the wire (omitempty), so it counts as none too.
 */
export function serviceSelector(svc: KubeObject): Record<string, string> | undefined {
  const sel = serviceSpec(svc).selector;
  return sel && Object.keys(sel).length > 0 ? sel : undefined;
}

export function selectorMatches(sel: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(sel)) if ((labels ?? {})[k] !== v) return false;
  return true;
}

/** clusterIP set and not "None" (upstream helper.IsServiceIPSet). */
export function isServiceIPSet(svc: KubeObject): boolean {
  const ip = serviceSpec(svc).clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

/** Not terminal, has an IP, and (unless includeTerminating) not being deleted (ShouldPodBeInEndpoints). */
export function shouldPodBeInEndpoints(pod: KubeObject, includeTerminating: boolean): boolean {
  const phase = podPhase(pod);
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (podIPs(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** The pod's hostname goes on its endpoint when its subdomain names this Service (ShouldSetHostname). */
export function shouldSetHostname(pod: KubeObject, svc: KubeObject): boolean {
  const s = podSpec(pod);
  return !!s.hostname && s.subdomain === svc.metadata.name && svc.metadata.namespace === pod.metadata.namespace;
}

/**
 * The container port a service port reaches on this pod (upstream FindPort): a number is used as is; a name is
 * looked up among the containers' (and sidecar init containers') named ports of the same protocol.
 */
export function findPort(pod: KubeObject, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (typeof target !== 'string' || target === '') return undefined;
  if (/^\d+$/.test(target)) return Number(target);
  const proto = sp.protocol ?? 'TCP';
  const spec = podSpec(pod);
  const candidates = [...(spec.containers ?? []), ...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of candidates) for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === proto && typeof p.containerPort === 'number') return p.containerPort;
  return undefined;
}

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean => {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => (a ?? {})[k] === (b ?? {})[k]);
};

/**
 * podEndpointsChanged: [whether the pod changed in a way its endpoints show (deletion, readiness, IPs), whether
 * its service membership may have changed (labels, hostname, subdomain)].
 */
export function podEndpointsChanged(oldPod: KubeObject, newPod: KubeObject): [boolean, boolean] {
  const os = podSpec(oldPod);
  const ns = podSpec(newPod);
  const labelsChanged = !sameLabels(oldPod.metadata.labels, newPod.metadata.labels) || os.hostname !== ns.hostname || os.subdomain !== ns.subdomain;
  if (oldPod.metadata.deletionTimestamp !== newPod.metadata.deletionTimestamp) return [true, labelsChanged];
  if (isPodReady(oldPod) !== isPodReady(newPod)) return [true, labelsChanged];
  const a = podIPs(oldPod);
  const b = podIPs(newPod);
  if (a.length !== b.length || a.some((ip, i) => ip !== b[i])) return [true, labelsChanged];
  return [false, labelsChanged];
}

/** Keys of the Services in `namespace` whose selector matches `labels`. */
export function servicesForLabels(services: Iterable<KubeObject>, namespace: string | undefined, labels: Record<string, string> | undefined): Set<string> {
  const out = new Set<string>();
  for (const svc of services) {
    if (svc.metadata.namespace !== namespace) continue;
    const sel = serviceSelector(svc);
    if (sel && selectorMatches(sel, labels)) out.add(`${namespace}/${svc.metadata.name}`);
  }
  return out;
}

/**
 * The Services to sync after a pod update (GetServicesToUpdateOnPodChange): none for a resync or an irrelevant
 * change; with changed labels, the union (pod also changed) or the symmetric difference of old and new members.
 */
export function servicesToUpdateOnPodChange(services: Iterable<KubeObject>, oldPod: KubeObject, newPod: KubeObject): Set<string> {
  if (oldPod.metadata.resourceVersion === newPod.metadata.resourceVersion) return new Set();
  const [podChanged, labelsChanged] = podEndpointsChanged(oldPod, newPod);
  if (!podChanged && !labelsChanged) return new Set();
  const list = [...services];
  const now = servicesForLabels(list, newPod.metadata.namespace, newPod.metadata.labels);
  if (!labelsChanged) return now;
  const before = servicesForLabels(list, oldPod.metadata.namespace, oldPod.metadata.labels);
  const out = new Set<string>();
  if (podChanged) {
    for (const k of now) out.add(k);
    for (const k of before) out.add(k);
  } else {
    for (const k of now) if (!before.has(k)) out.add(k);
    for (const k of before) if (!now.has(k)) out.add(k);
  }
  return out;
}

const time = (s: unknown): number => {
  const t = typeof s === 'string' ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? 0 : t;
};

/**
 * TriggerTimeTracker: the value of the last-change-trigger-time annotation. For a Service seen for the first time
 * its creation time; afterwards the earliest pod Ready-transition (or Service creation) time that changed since
 * the previous sync, or 0 (no annotation) when none did. Not for concurrent use on one key (the work queue
 * guarantees that).
 */
export class TriggerTimeTracker {
  private readonly states = new Map<string, { service: number; pods: Map<string, number> }>();

  compute(svc: KubeObject, pods: KubeObject[]): number {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const state = this.states.get(key);
    let minChanged = 0;
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const t = time((pod.status as { conditions?: Array<{ type: string; lastTransitionTime?: string }> } | undefined)?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime);
      if (!t) continue;
      const name = pod.metadata.name ?? '';
      podTimes.set(name, t);
      if (t > (state?.pods.get(name) ?? 0) && (minChanged === 0 || t < minChanged)) minChanged = t;
    }
    const svcTime = time(svc.metadata.creationTimestamp);
    if (svcTime > (state?.service ?? 0) && (minChanged === 0 || svcTime < minChanged)) minChanged = svcTime;
    this.states.set(key, { service: svcTime, pods: podTimes });
    return state ? minChanged : svcTime;
  }

  delete(namespace: string, name: string): void {
    this.states.delete(`${namespace}/${name}`);
  }
}

/** RFC 3339 with nanoseconds as Go's time.RFC3339Nano prints a millisecond time (trailing zeros dropped). */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

/** A Forbidden whose Status names the NamespaceTerminating cause: creates there fail until the namespace is gone. */
export function isNamespaceTerminating(e: unknown): boolean {
  return e instanceof ApiError && e.code === 403 && (e.status?.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}
