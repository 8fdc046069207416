// The kubelet's resource statistics: upstream's Summary API (/stats/summary: node and pods with cpu, memory and
// ephemeral-storage) from the runtime's container stats plus the host's /proc, and the Prometheus text of
// /metrics/resource that metrics-server scrapes.

import { readFile } from 'node:fs/promises';
import type { ContainerStats } from '../../runtime/interface.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID, type KubeletBackend } from '../types.js';

interface CpuStats { time: string; usageNanoCores?: number; usageCoreNanoSeconds: number }
interface MemStats { time: string; usageBytes: number; workingSetBytes: number; availableBytes?: number; rssBytes?: number }

export interface Summary {
  node: { nodeName: string; startTime?: string; cpu: CpuStats; memory: MemStats; systemContainers?: unknown[] };
  pods: Array<{
    podRef: { name: string; namespace: string; uid: string };
    startTime?: string;
    containers: Array<{ name: string; startTime?: string; cpu: CpuStats; memory: MemStats; rootfs: { time: string; usedBytes: number } }>;
    cpu: CpuStats;
    memory: MemStats;
    'ephemeral-storage': { time: string; usedBytes: number };
  }>;
}

let lastNodeCpu: { t: number; ns: number } | undefined;

/** Host CPU time used (all CPUs, excluding idle and iowait) in nanoseconds, from /proc/stat. */
export function nodeCpuNanos(procStat: string, userHz = 100): number {
  const f = /^cpu\s+(.*)$/m.exec(procStat)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return ((user + nice + system + irq + softirq + steal) * 1e9) / userHz;
}

/** Total, available and working-set bytes of the host from /proc/meminfo. */
export function nodeMemory(meminfo: string): { total: number; available: number; workingSet: number } {
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  const inactiveFile = kb('Inactive\\(file\\)');
  return { total, available, workingSet: Math.max(0, total - kb('MemFree') - inactiveFile) };
}

export async function statsSummary(backend: KubeletBackend): Promise<Summary> {
  const now = new Date();
  const time = now.toISOString();
  const [procStat, meminfo] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8')]);
  const cpuNs = nodeCpuNanos(procStat);
  let nano: number | undefined;
  if (lastNodeCpu && now.getTime() > lastNodeCpu.t) nano = Math.round(((cpuNs - lastNodeCpu.ns) / (now.getTime() - lastNodeCpu.t)) * 1e6);
  lastNodeCpu = { t: now.getTime(), ns: cpuNs };
  const mem = nodeMemory(meminfo);
  const rt = backend.runtime;
  const containers = await rt.listContainers({ state: 'CONTAINER_RUNNING' });
  const stats = new Map<string, ContainerStats>();
  for (const s of await rt.listContainerStats({ state: 'CONTAINER_RUNNING' }).catch(() => [] as ContainerStats[])) stats.set(s.containerId, s);
  const pods: Summary['pods'] = [];
  for (const pod of backend.pods()) {
    const uid = pod.metadata.uid ?? '';
    const mine = containers.filter((c) => c.labels[LABEL_POD_UID] === uid);
    const cs: Summary['pods'][number]['containers'] = [];
    for (const c of mine) {
      const s = stats.get(c.id);
      if (!s) continue;
      const t = new Date(s.timestamp).toISOString();
      cs.push({
        name: c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name,
        startTime: new Date(c.createdAt).toISOString(),
        cpu: { time: t, usageNanoCores: s.cpuUsageNanoCores ?? 0, usageCoreNanoSeconds: s.cpuUsageCoreNanoSeconds },
        memory: { time: t, usageBytes: s.memoryUsageBytes, workingSetBytes: s.memoryWorkingSetBytes },
        rootfs: { time: t, usedBytes: s.writableLayerBytes },
      });
    }
    const sum = (f: (c: (typeof cs)[number]) => number) => cs.reduce((a, c) => a + f(c), 0);
    pods.push({
      podRef: { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', uid },
      startTime: pod.status?.startTime,
      containers: cs,
      cpu: { time, usageNanoCores: sum((c) => c.cpu.usageNanoCores ?? 0), usageCoreNanoSeconds: sum((c) => c.cpu.usageCoreNanoSeconds) },
      memory: { time, usageBytes: sum((c) => c.memory.usageBytes), workingSetBytes: sum((c) => c.memory.workingSetBytes) },
      'ephemeral-storage': { time, usedBytes: sum((c) => c.rootfs.usedBytes) },
    });
  }
  return {
    node: {
      nodeName: backend.nodeName,
      cpu: { time, usageNanoCores: nano ?? 0, usageCoreNanoSeconds: cpuNs },
      memory: { time, usageBytes: mem.total - mem.available, workingSetBytes: mem.workingSet, availableBytes: mem.available },
    },
    pods,
  };
}

/** The Prometheus text of /metrics/resource (the series metrics-server reads). */
export function metricsResource(s: Summary): string {
  const ts = (t: string) => Date.parse(t);
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const out: string[] = [];
  const family = (name: string, help: string, type: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  family('node_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the node in core-seconds', 'counter');
  out.push(`node_cpu_usage_seconds_total ${s.node.cpu.usageCoreNanoSeconds / 1e9} ${ts(s.node.cpu.time)}`);
  family('node_memory_working_set_bytes', '[STABLE] Current working set of the node in bytes', 'gauge');
  out.push(`node_memory_working_set_bytes ${s.node.memory.workingSetBytes} ${ts(s.node.memory.time)}`);
  family('container_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the container in core-seconds', 'counter');
  for (const p of s.pods) for (const c of p.containers) out.push(`container_cpu_usage_seconds_total{container="${esc(c.name)}",namespace="${esc(p.podRef.namespace)}",pod="${esc(p.podRef.name)}"} ${c.cpu.usageCoreNanoSeconds / 1e9} ${ts(c.cpu.time)}`);
  family('container_memory_working_set_bytes', '[STABLE] Current working set of the container in bytes', 'gauge');
  for (const p of s.pods) for (const c of p.containers) out.push(`container_memory_working_set_bytes{container="${esc(c.name)}",namespace="${esc(p.podRef.namespace)}",pod="${esc(p.podRef.name)}"} ${c.memory.workingSetBytes} ${ts(c.memory.time)}`);
  family('pod_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', 'counter');
  for (const p of s.pods) out.push(`pod_cpu_usage_seconds_total{namespace="${esc(p.podRef.namespace)}",pod="${esc(p.podRef.name)}"} ${p.cpu.usageCoreNanoSeconds / 1e9} ${ts(p.cpu.time)}`);
  family('pod_memory_working_set_bytes', '[STABLE] Current working set of the pod in bytes', 'gauge');
  for (const p of s.pods) out.push(`pod_memory_working_set_bytes{namespace="${esc(p.podRef.namespace)}",pod="${esc(p.podRef.name)}"} ${p.memory.workingSetBytes} ${ts(p.memory.time)}`);
  family('resource_scrape_error', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', 'gauge');
  out.push('resource_scrape_error 0');
  return out.join('\n') + '\n';
}
