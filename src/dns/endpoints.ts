// The kube-dns endpoints: each node's DNS listener (dns.ts, in the node's network namespace) publishes an
// EndpointSlice `kube-dns-<node>` with its address, and the `kube-dns` Endpoints carry the union of those slices,
// so the service proxy DNATs 10.43.0.10:53 (and :9153, metrics) to a listener pods can reach. The Service is selectorless and the
// slices carry their own managed-by value, so the endpoint controllers leave both alone (as apiendpoints.ts).

import type { KubeObject } from '../api/types.js';
import { isConflict, isNotFound, type Client, type Resource } from '../client/interface.js';
import { ENDPOINTS, ENDPOINTSLICES } from '../client/resources.js';

export const KUBE_DNS_MANAGED_BY = 'cluster-dns.k8ts.io';
const NAMESPACE = 'kube-system';
const SERVICE = 'kube-dns';
const SELECTOR = `kubernetes.io/service-name=${SERVICE},endpointslice.kubernetes.io/managed-by=${KUBE_DNS_MANAGED_BY}`;

/** The ports a DNS listener serves, named as the kube-dns Service's (metrics only where /metrics listens). */
export function dnsPorts(port: number, metricsPort?: number): Array<{ name: string; port: number; protocol: string }> {
  return [
    { name: 'dns', port, protocol: 'UDP' },
    { name: 'dns-tcp', port, protocol: 'TCP' },
    ...(metricsPort ? [{ name: 'metrics', port: metricsPort, protocol: 'TCP' }] : []),
  ];
}

/** The name of a node's slice: `kube-dns-<node>`, cut to the 253 characters of a DNS subdomain. */
export function kubeDnsSliceName(nodeName: string): string {
  return `${SERVICE}-${nodeName}`.slice(0, 253).replace(/[-.]+$/, '');
}

/** The EndpointSlice of one node's listener at ip:port (and /metrics at ip:metricsPort). */
export function kubeDnsSlice(nodeName: string, ip: string, port: number, metricsPort?: number): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: kubeDnsSliceName(nodeName),
      namespace: NAMESPACE,
      labels: { 'kubernetes.io/service-name': SERVICE, 'endpointslice.kubernetes.io/managed-by': KUBE_DNS_MANAGED_BY },
    },
    addressType: ip.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName }],
    ports: dnsPorts(port, metricsPort),
  } as KubeObject;
}

export interface DnsListenerAddress {
  ip: string;
  port: number;
  metricsPort?: number;
  nodeName?: string;
}

/** The kube-dns Endpoints for the listeners the slices name (sorted; one subset per port set); none: no subsets. */
export function kubeDnsEndpoints(listeners: DnsListenerAddress[]): KubeObject {
  const byPorts = new Map<string, DnsListenerAddress[]>();
  const key = (l: DnsListenerAddress) => `${l.port}/${l.metricsPort ?? 0}`;
  for (const l of listeners) byPorts.set(key(l), [...(byPorts.get(key(l)) ?? []), l]);
  const subsets = [...byPorts.values()]
    .sort((a, b) => a[0]!.port - b[0]!.port || (a[0]!.metricsPort ?? 0) - (b[0]!.metricsPort ?? 0))
    .map((ls) => ({
      addresses: [...ls].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0)).map((l) => ({ ip: l.ip, ...(l.nodeName ? { nodeName: l.nodeName } : {}) })),
      ports: dnsPorts(ls[0]!.port, ls[0]!.metricsPort),
    }));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: SERVICE, namespace: NAMESPACE, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    ...(subsets.length > 0 ? { subsets } : {}),
  } as KubeObject;
}

/** The listeners our slices name (ready endpoints with their slice's dns port; other slices are skipped). */
export function listenersOf(slices: KubeObject[]): DnsListenerAddress[] {
  const out: DnsListenerAddress[] = [];
  for (const s of slices as Array<KubeObject & { endpoints?: Array<{ addresses?: string[]; nodeName?: string; conditions?: { ready?: boolean } }>; ports?: Array<{ name?: string; port?: number }> }>) {
    const labels = s.metadata?.labels ?? {};
    if (s.metadata?.deletionTimestamp || labels['kubernetes.io/service-name'] !== SERVICE || labels['endpointslice.kubernetes.io/managed-by'] !== KUBE_DNS_MANAGED_BY) continue;
    const port = (s.ports ?? []).find((p) => p.name === 'dns')?.port;
    if (!port) continue;
    const metricsPort = (s.ports ?? []).find((p) => p.name === 'metrics')?.port;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const ip of e.addresses ?? []) out.push({ ip, port, ...(metricsPort ? { metricsPort } : {}), ...(e.nodeName ? { nodeName: e.nodeName } : {}) });
    }
  }
  return out;
}

/** Whether `have` already carries `want`'s content (labels, subsets, or the slice's fields). */
function sameContent(have: KubeObject, want: KubeObject): boolean {
  const pick = (o: KubeObject) => {
    const x = o as Record<string, unknown>;
    const subsets = Array.isArray(x.subsets) && x.subsets.length === 0 ? null : (x.subsets ?? null);
    return JSON.stringify([o.metadata?.labels ?? {}, subsets, x.addressType ?? null, x.endpoints ?? null, x.ports ?? null]);
  };
  return pick(have) === pick(want);
}

export interface KubeDnsEndpointsOptions {
  nodeName: string;
  /** The node listener's address and port. */
  ip: string;
  port: number;
  /** Where the listener serves /metrics (none: the slice has no metrics port). */
  metricsPort?: number;
  /** Re-check interval; 10 s. */
  intervalMs?: number;
  log?: (m: string) => void;
}

/** Keeps this node's slice and the union Endpoints; stop() withdraws the slice (the listener goes with it). */
export class KubeDnsEndpoints {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly opts: KubeDnsEndpointsOptions,
  ) {}

  async start(): Promise<void> {
    await this.run();
    const tick = () => {
      if (this.stopped) return;
      void this.run().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs ?? 10_000);
      });
    };
    this.timer = setTimeout(tick, this.opts.intervalMs ?? 10_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    try {
      await this.client.delete(ENDPOINTSLICES, NAMESPACE, kubeDnsSliceName(this.opts.nodeName));
    } catch (e) {
      if (!isNotFound(e)) this.opts.log?.(`kube-dns endpoints: ${(e as Error).message}`);
    }
    await this.syncEndpoints().catch((e: unknown) => this.opts.log?.(`kube-dns endpoints: ${(e as Error).message}`));
  }

  private run(): Promise<void> {
    this.running = this.reconcile().catch((e: unknown) => this.opts.log?.(`kube-dns endpoints: ${(e as Error).message}`));
    return this.running;
  }

  /** Creates or corrects this node's slice, then the Endpoints from all our slices; writes nothing when they match. */
  async reconcile(): Promise<void> {
    await this.ensure(ENDPOINTSLICES, kubeDnsSlice(this.opts.nodeName, this.opts.ip, this.opts.port, this.opts.metricsPort));
    await this.syncEndpoints();
  }

  private async syncEndpoints(): Promise<void> {
    const slices = (await this.client.list(ENDPOINTSLICES, NAMESPACE, { labelSelector: SELECTOR })).items;
    await this.ensure(ENDPOINTS, kubeDnsEndpoints(listenersOf(slices)));
  }

  private async ensure(r: Resource, want: KubeObject): Promise<void> {
    const name = want.metadata!.name!;
    let have: KubeObject | undefined;
    try {
      have = await this.client.get(r, NAMESPACE, name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!have) {
      try {
        await this.client.create(r, NAMESPACE, want);
      } catch (e) {
        if (!isConflict(e)) throw e; // another node's reconciler made it first: the next round corrects it
      }
      return;
    }
    if (sameContent(have, want)) return;
    const next = { ...want, metadata: { ...have.metadata, labels: want.metadata?.labels } } as KubeObject & { subsets?: unknown };
    if (!('subsets' in want)) delete next.subsets;
    await this.client.update(r, NAMESPACE, next);
  }
}
