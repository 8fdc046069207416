// Pod facts every workload controller needs (upstream podutil): readiness, availability after minReadySeconds,
// activeness, and the pod a controller stamps out of a PodTemplateSpec.

import type { KubeObject } from '../../api/types.js';

export interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
  reason?: string;
  message?: string;
}

interface PodStatusShape {
  phase?: string;
  conditions?: PodCondition[];
  containerStatuses?: Array<{ restartCount?: number }>;
  initContainerStatuses?: Array<{ restartCount?: number }>;
}

export const podStatus = (pod: KubeObject): PodStatusShape => (pod.status ?? {}) as PodStatusShape;
export const podPhase = (pod: KubeObject): string => podStatus(pod).phase ?? '';
export const podNodeName = (pod: KubeObject): string => ((pod.spec ?? {}) as { nodeName?: string }).nodeName ?? '';

export function podCondition(pod: KubeObject, type: string): PodCondition | undefined {
  return podStatus(pod).conditions?.find((c) => c.type === type);
}

/** The pod's Ready condition is True (upstream podutil.IsPodReady). */
export function isPodReady(pod: KubeObject): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** Ready for at least minReadySeconds (upstream podutil.IsPodAvailable). */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, nowMs: number): boolean {
  const c = podCondition(pod, 'Ready');
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isFinite(t) && t + minReadySeconds * 1000 <= nowMs;
}

/** Not terminal and not being deleted (upstream controller.IsPodActive). */
export function isPodActive(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

/** Highest restart count of the pod's containers. */
export function maxContainerRestarts(pod: KubeObject): number {
  let max = 0;
  for (const s of podStatus(pod).containerStatuses ?? []) max = Math.max(max, s.restartCount ?? 0);
  for (const s of podStatus(pod).initContainerStatuses ?? []) max = Math.max(max, s.restartCount ?? 0);
  return max;
}
