// The Node object a real kubelet registers for its host: capacity and allocatable from the machine (cpu, memory,
// ephemeral-storage of the kubelet's root dir, pods), addresses, nodeInfo (kernel, OS image, runtime and kubelet
// versions, machine/boot ids) and the four conditions. Host facts are read once per call; the rest is pure.

import { readFileSync, statfsSync } from 'node:fs';
import { arch, cpus, release, totalmem } from 'node:os';
import type { KubeObject } from '../api/types.js';
import { nodeConditions } from '../api/corev1/node.js';

export interface HostFacts {
  cpus: number;
  memoryBytes: number;
  ephemeralBytes: number;
  kernelVersion: string;
  osImage: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  architecture: string;
}

const readTrim = (p: string): string => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
};

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

/** What this machine is, as the kubelet's cadvisor-backed node status reads it. */
export function hostFacts(rootDir: string): HostFacts {
  let ephemeralBytes = 0;
  try {
    const s = statfsSync(rootDir);
    ephemeralBytes = Number(s.blocks) * Number(s.bsize);
  } catch {
    ephemeralBytes = 0;
  }
  const osRelease = readTrim('/etc/os-release');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? 'Linux';
  const machineID = readTrim('/etc/machine-id') || readTrim('/var/lib/dbus/machine-id');
  const productUUID = readTrim('/sys/class/dmi/id/product_uuid').toLowerCase();
  return {
    cpus: cpus().length,
    memoryBytes: totalmem(),
    ephemeralBytes,
    kernelVersion: release(),
    osImage: pretty,
    machineID,
    systemUUID: productUUID || machineID,
    bootID: readTrim('/proc/sys/kernel/random/boot_id'),
    architecture: GOARCH[arch()] ?? arch(),
  };
}

export interface NodeIdentity {
  name: string;
  internalIP: string;
  kubeletPort: number;
  kubeletVersion: string;
  /** `runc://1.1.5` and the like (CRI Version: runtimeName://runtimeVersion). */
  containerRuntimeVersion: string;
  maxPods: number;
  labels?: Record<string, string>;
}

/** Resources as upstream reports them: cpu in cores, memory and ephemeral-storage in Ki. */
export function nodeResources(h: HostFacts, maxPods: number): Record<string, string> {
  return {
    cpu: String(h.cpus),
    'ephemeral-storage': `${Math.floor(h.ephemeralBytes / 1024)}Ki`,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${Math.floor(h.memoryBytes / 1024)}Ki`,
    pods: String(maxPods),
  };
}

export function nodeLabels(id: NodeIdentity, h: HostFacts): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': h.architecture,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': h.architecture,
    'kubernetes.io/hostname': id.name,
    'kubernetes.io/os': 'linux',
    'node-role.kubernetes.io/control-plane': 'true',
    ...(id.labels ?? {}),
  };
}

export function nodeStatus(id: NodeIdentity, h: HostFacts, heartbeatMs: number, transitionMs: number, images: Array<{ names: string[]; sizeBytes: number }> = []): Record<string, unknown> {
  const res = nodeResources(h, id.maxPods);
  return {
    capacity: { ...res },
    allocatable: { ...res },
    conditions: nodeConditions(heartbeatMs, transitionMs),
    addresses: [
      { type: 'InternalIP', address: id.internalIP },
      { type: 'Hostname', address: id.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: id.kubeletPort } },
    nodeInfo: {
      machineID: h.machineID,
      systemUUID: h.systemUUID,
      bootID: h.bootID,
      kernelVersion: h.kernelVersion,
      osImage: h.osImage,
      containerRuntimeVersion: id.containerRuntimeVersion,
      kubeletVersion: id.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: h.architecture,
    },
    // Upstream reports at most 50 images, largest first.
    images: [...images].sort((a, b) => b.sizeBytes - a.sizeBytes).slice(0, 50),
  };
}

export function nodeObject(id: NodeIdentity, h: HostFacts, nowMs: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.name,
      labels: nodeLabels(id, h),
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {},
    status: nodeStatus(id, h, nowMs, nowMs),
  };
}
