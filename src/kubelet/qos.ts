// Pod QoS class, cgroup placement and container resource settings as upstream's kubelet derives them from requests
// and limits (pkg/apis/core/v1/helper/qos, pkg/kubelet/cm): pure functions, no I/O.

import { parseQuantity, quantityMilliValue, quantityValue } from '../api/quantity.js';
import type { LinuxResources } from '../runtime/interface.js';
import type { Container, Pod } from './types.js';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const COMPUTE = ['cpu', 'memory'] as const;

const q = (v: unknown): ReturnType<typeof parseQuantity> | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  try {
    return parseQuantity(v as string | number);
  } catch {
    return undefined;
  }
};

/** Milli-units of a resource quantity (cpu "250m" → 250), or undefined when unset. */
export function milli(v: unknown): number | undefined {
  const x = q(v);
  return x ? quantityMilliValue(x) : undefined;
}

/** Whole units (memory "64Mi" → 67108864), or undefined when unset. */
export function units(v: unknown): number | undefined {
  const x = q(v);
  return x ? quantityValue(x) : undefined;
}

const allContainers = (pod: Pod): Container[] => [...((pod.spec?.initContainers ?? []) as Container[]), ...((pod.spec?.containers ?? []) as Container[])];

/** The pod's QoS class, as upstream's GetPodQOS: Guaranteed needs requests == limits for cpu and memory everywhere. */
export function qosClass(pod: Pod): QOSClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let anySet = false;
  let guaranteed = true;
  for (const c of allContainers(pod)) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of COMPUTE) {
      const rq = milli(req[r]);
      const lm = milli(lim[r]);
      if (rq !== undefined && rq !== 0) {
        anySet = true;
        requests.set(r, (requests.get(r) ?? 0) + rq);
      }
      if (lm !== undefined && lm !== 0) {
        anySet = true;
        limits.set(r, (limits.get(r) ?? 0) + lm);
      }
    }
    // Every container must set both limits for the pod to be Guaranteed.
    if (!COMPUTE.every((r) => (milli(lim[r]) ?? 0) !== 0)) guaranteed = false;
  }
  if (!anySet) return 'BestEffort';
  if (guaranteed) {
    for (const r of COMPUTE) if (requests.has(r) && requests.get(r) !== limits.get(r)) guaranteed = false;
  }
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Relative cgroup parent of a pod: `<root>/kubepods[/burstable|/besteffort]/pod<uid>` (environment.md quirk 1). */
export function podCgroupParent(pod: Pod, root = 'k8ts'): string {
  const cls = qosClass(pod);
  const tier = cls === 'Guaranteed' ? '' : `/${cls.toLowerCase()}`;
  return `${root}/kubepods${tier}/pod${pod.metadata.uid ?? ''}`;
}

export const CPU_PERIOD_US = 100_000;
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

/** cgroup settings of one container: cpu shares from the request (limit when no request), quota from the limit, memory limit. */
export function containerResources(c: Container): LinuxResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const out: LinuxResources = {};
  const cpuReq = milli(req.cpu) ?? milli(lim.cpu);
  // Upstream: no request → the minimum of 2 shares (BestEffort containers get the least CPU under contention).
  out.cpuShares = cpuReq === undefined || cpuReq === 0 ? MIN_SHARES : Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((cpuReq * 1024) / 1000)));
  const cpuLim = milli(lim.cpu);
  if (cpuLim !== undefined && cpuLim > 0) {
    out.cpuPeriod = CPU_PERIOD_US;
    // Upstream's minimum quota is 1 ms.
    out.cpuQuota = Math.max(1000, Math.floor((cpuLim * CPU_PERIOD_US) / 1000));
  }
  const mem = units(lim.memory);
  if (mem !== undefined && mem > 0) out.memoryLimitBytes = mem;
  return out;
}
