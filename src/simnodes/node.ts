// What a simulated node says about itself: the Node object a kubelet would register (labels, capacity, conditions,
// nodeInfo, addresses), its kube-node-lease Lease, and the address plan. Pure functions, no I/O.
//
// Address plan (only data — nothing is ever routed to these addresses):
//   node i (0-based)  InternalIP 10.240.0.0/14 + i + 1        (10.240.0.1, 10.240.0.2, …)
//   node i pods       the /24 at 10.244.0.0 + i·256 in 10/8   (10.244.0.0/24, 10.244.1.0/24, …, wrapping to 10.0.0.0)
//                     pod addresses .1–.254 of that /24

import { createHash } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import { LEASE_DURATION_SECONDS, NODE_LEASE_NAMESPACE, leaseObject, nodeConditions } from '../api/corev1/node.js';
import { microTime, rfc3339 } from '../api/time.js';
// Shared with the real kubelet (src/api/corev1/node.ts); re-exported for the simulated nodes' callers.
export { LEASE_DURATION_SECONDS, NODE_LEASE_NAMESPACE, leaseObject, microTime, nodeConditions };

/** Capacity and identity shared by every simulated node. */
export interface NodeConfig {
  cpu: string;
  memory: string;
  pods: number;
  ephemeralStorage: string;
  kubeletVersion: string;
  /** Extra labels on every node (the defaults below win over none of them: these are applied last). */
  labels: Record<string, string>;
}

export const DEFAULT_NODE_CONFIG: NodeConfig = {
  cpu: '8',
  memory: '32Gi',
  pods: 110,
  ephemeralStorage: '100Gi',
  kubeletVersion: 'v1.32.3-k8ts',
  labels: {},
};

/** The label every simulated node carries (kwok uses `type: kwok`). */
export const SIMULATED_LABEL = { key: 'type', value: 'simulated' } as const;

/** The kubelet's default port, reported in daemonEndpoints (nothing listens on it). */
export const KUBELET_PORT = 10250;

const ipv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const NODE_IP_BASE = ((10 << 24) | (240 << 16)) >>> 0;
const POD_NET_FIRST_BLOCK = 244 * 256; // /24 number of 10.244.0.0 within 10.0.0.0/8

export function nodeIP(index: number): string {
  return ipv4(NODE_IP_BASE + index + 1);
}

/** The numeric base address of node `index`'s pod /24. */
export function podCIDRBase(index: number): number {
  return ((10 << 24) + ((POD_NET_FIRST_BLOCK + index) % 65536) * 256) >>> 0;
}

export function podCIDR(index: number): string {
  return `${ipv4(podCIDRBase(index))}/24`;
}

/** Pod address `host` (1–254) in node `index`'s /24. */
export function podIP(index: number, host: number): string {
  return ipv4(podCIDRBase(index) + host);
}

/** The host part (1–254) of `ip` if it lies in node `index`'s pod /24, else undefined. */
export function podIPHost(index: number, ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const n = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const host = n - podCIDRBase(index);
  return host >= 1 && host <= 254 ? host : undefined;
}

const hex = (s: string, len = 32): string => createHash('sha256').update(s).digest('hex').slice(0, len);

/** A stable UUID-shaped id derived from a string (systemUUID, bootID). */
function uuidOf(s: string): string {
  const h = hex(s);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Labels the kubelet sets on registration, plus `type: simulated`. */
export function nodeLabels(name: string, cfg: NodeConfig): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': 'k8ts-simulated',
    [SIMULATED_LABEL.key]: SIMULATED_LABEL.value,
    ...cfg.labels,
  };
}

export function nodeStatus(name: string, index: number, cfg: NodeConfig, nowMs: number): Record<string, unknown> {
  const resources = {
    cpu: cfg.cpu,
    'ephemeral-storage': cfg.ephemeralStorage,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: cfg.memory,
    pods: String(cfg.pods),
  };
  return {
    capacity: { ...resources },
    allocatable: { ...resources },
    conditions: nodeConditions(nowMs, nowMs),
    addresses: [
      { type: 'InternalIP', address: nodeIP(index) },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
    nodeInfo: {
      machineID: hex(`machine:${name}`),
      systemUUID: uuidOf(`system:${name}`),
      bootID: uuidOf(`boot:${name}:${nowMs}`),
      kernelVersion: '6.1.0-k8ts-sim',
      osImage: 'k8ts simulated node',
      containerRuntimeVersion: 'sim://1.0.0',
      kubeletVersion: cfg.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** The Node a simulated kubelet registers. */
export function nodeObject(name: string, index: number, cfg: NodeConfig, nowMs: number): KubeObject {
  const cidr = podCIDR(index);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: nodeLabels(name, cfg),
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: cidr, podCIDRs: [cidr] },
    status: nodeStatus(name, index, cfg, nowMs),
  };
}
