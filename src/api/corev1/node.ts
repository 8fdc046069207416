// What every kubelet (real or simulated) reports about its node: the healthy node conditions and the
// kube-node-lease heartbeat Lease. Pure, no I/O.

import type { KubeObject } from '../types.js';
import { microTime, rfc3339 } from '../time.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;

/** The four node conditions a healthy kubelet reports; `transition` is when each became what it is. */
export function nodeConditions(heartbeatMs: number, transitionMs: number): Array<Record<string, unknown>> {
  const hb = rfc3339(heartbeatMs);
  const tr = rfc3339(transitionMs);
  const c = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: hb, lastTransitionTime: tr, reason, message });
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

/** The node's heartbeat Lease as the kubelet writes it (owned by its Node, so it goes when the Node goes). */
export function leaseObject(name: string, nodeUID: string, nowMs: number, resourceVersion?: string): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: NODE_LEASE_NAMESPACE,
      ...(resourceVersion ? { resourceVersion } : {}),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: nodeUID }],
    },
    spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(nowMs) },
  };
}
