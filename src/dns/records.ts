// The cluster state DNS answers from: Services, EndpointSlices and Namespaces reduced to what names need, with
// reverse indexes by IP. Fed by informer events (dns.ts); read by the pure answer logic (answer.ts). No I/O.

import type { KubeObject } from '../api/types.js';

export interface ServicePortRecord {
  name: string;
  port: number;
  protocol: string;
}

export interface ServiceRecord {
  namespace: string;
  name: string;
  type: string;
  /** ClusterIPs, "None" excluded: empty for headless and ExternalName Services. */
  clusterIPs: string[];
  headless: boolean;
  externalName?: string;
  ports: ServicePortRecord[];
}

export interface EndpointRecord {
  addresses: string[];
  /** The endpoint's DNS label: its hostname, else its (first) address with dashes (CoreDNS endpoint_pod_names off). */
  hostname: string;
  ready: boolean;
  /** The ports of the slice the endpoint is in; empty when the slice has none. */
  ports: ServicePortRecord[];
}

interface SliceShape {
  addressType?: string;
  endpoints?: Array<{ addresses?: string[]; hostname?: string; conditions?: { ready?: boolean | null } }> | null;
  ports?: Array<{ name?: string; port?: number; protocol?: string }> | null;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** An IPv6 address in RFC 5952 form (lowercase, no leading zeros, longest zero run as ::), or undefined. */
export function canonicalIPv6(s: string): string | undefined {
  const parts = s.toLowerCase().split('::');
  if (parts.length > 2) return undefined;
  const head = parts[0] ? parts[0].split(':') : [];
  const tail = parts.length === 2 && parts[1] ? parts[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((parts.length === 1 && missing !== 0) || missing < 0) return undefined;
  const groups = [...head, ...Array<string>(parts.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  const g = groups.map((x) => x.replace(/^0+(?=.)/, ''));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

/** An address as a DNS label: dots and colons become dashes (10.244.1.5 → 10-244-1-5). */
export const dashed = (ip: string): string => ip.replace(/[.:]/g, '-');

function toServiceRecord(o: KubeObject): ServiceRecord {
  const spec = (o.spec ?? {}) as { type?: string; clusterIP?: string; clusterIPs?: string[]; externalName?: string; ports?: Array<{ name?: string; port?: number; protocol?: string }> };
  const ips = (spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []).filter((ip) => ip && ip !== 'None');
  const type = spec.type ?? 'ClusterIP';
  return {
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name ?? '',
    type,
    clusterIPs: type === 'ExternalName' ? [] : ips,
    headless: type !== 'ExternalName' && (spec.clusterIP === 'None' || ips.length === 0),
    externalName: type === 'ExternalName' ? spec.externalName : undefined,
    ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port ?? 0, protocol: p.protocol ?? 'TCP' })),
  };
}

function toEndpoints(o: KubeObject): EndpointRecord[] {
  const s = o as unknown as SliceShape;
  if (s.addressType === 'FQDN') return [];
  const ports = (s.ports ?? []).filter((p) => typeof p.port === 'number').map((p) => ({ name: p.name ?? '', port: p.port!, protocol: p.protocol ?? 'TCP' }));
  return (s.endpoints ?? [])
    .filter((e) => (e.addresses ?? []).length > 0)
    .map((e) => ({
      addresses: [...(e.addresses ?? [])],
      hostname: e.hostname || dashed(e.addresses![0]!),
      // A nil ready condition means ready (EndpointConditions doc).
      ready: e.conditions?.ready !== false,
      ports,
    }));
}

export interface ReverseEntry {
  namespace: string;
  service: string;
  /** Set for an endpoint (hostname label), unset for a ClusterIP. */
  hostname?: string;
}

export class ClusterRecords {
  private readonly services = new Map<string, ServiceRecord>();
  /** "ns/service" → slice "ns/name" → endpoints. */
  private readonly slices = new Map<string, Map<string, EndpointRecord[]>>();
  /** slice "ns/name" → the service key it is indexed under (labels may change). */
  private readonly sliceOwner = new Map<string, string>();
  private readonly namespaces = new Set<string>();
  private reverse: Map<string, ReverseEntry[]> | undefined;
  /** Unix seconds of the last change: the zone's SOA serial, as CoreDNS reports it. */
  serial: number;

  constructor(private readonly now: () => number = Date.now) {
    this.serial = Math.floor(now() / 1000);
  }

  private touch(): void {
    this.reverse = undefined;
    this.serial = Math.floor(this.now() / 1000);
  }

  upsertService(o: KubeObject): void {
    this.services.set(`${o.metadata.namespace}/${o.metadata.name}`, toServiceRecord(o));
    this.touch();
  }

  deleteService(o: KubeObject): void {
    this.services.delete(`${o.metadata.namespace}/${o.metadata.name}`);
    this.touch();
  }

  upsertSlice(o: KubeObject): void {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    this.removeSlice(key);
    const svc = o.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc) {
      const owner = `${o.metadata.namespace}/${svc}`;
      let m = this.slices.get(owner);
      if (!m) this.slices.set(owner, (m = new Map()));
      m.set(key, toEndpoints(o));
      this.sliceOwner.set(key, owner);
    }
    this.touch();
  }

  deleteSlice(o: KubeObject): void {
    this.removeSlice(`${o.metadata.namespace}/${o.metadata.name}`);
    this.touch();
  }

  private removeSlice(key: string): void {
    const owner = this.sliceOwner.get(key);
    if (owner === undefined) return;
    this.sliceOwner.delete(key);
    const m = this.slices.get(owner);
    m?.delete(key);
    if (m?.size === 0) this.slices.delete(owner);
  }

  upsertNamespace(o: KubeObject): void {
    this.namespaces.add(o.metadata.name ?? '');
    this.touch();
  }

  deleteNamespace(o: KubeObject): void {
    this.namespaces.delete(o.metadata.name ?? '');
    this.touch();
  }

  hasNamespace(ns: string): boolean {
    return this.namespaces.has(ns);
  }

  service(namespace: string, name: string): ServiceRecord | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  /** Every endpoint of the Service, across its slices (ready or not). */
  endpoints(namespace: string, name: string): EndpointRecord[] {
    return [...(this.slices.get(`${namespace}/${name}`)?.values() ?? [])].flat();
  }

  /** Services and endpoints with this address (PTR); IPv6 addresses compare in canonical form. */
  byIP(ip: string): ReverseEntry[] {
    if (!this.reverse) {
      const r = new Map<string, ReverseEntry[]>();
      const add = (addr0: string, e: ReverseEntry) => {
        const addr = addr0.includes(':') ? (canonicalIPv6(addr0) ?? addr0) : addr0;
        let l = r.get(addr);
        if (!l) r.set(addr, (l = []));
        l.push(e);
      };
      for (const s of this.services.values()) for (const ip of s.clusterIPs) add(ip, { namespace: s.namespace, service: s.name });
      for (const [owner, m] of this.slices) {
        const i = owner.indexOf('/');
        const namespace = owner.slice(0, i);
        const service = owner.slice(i + 1);
        for (const eps of m.values()) for (const e of eps) if (e.ready) for (const a of e.addresses) add(a, { namespace, service, hostname: e.hostname });
      }
      this.reverse = r;
    }
    return this.reverse.get(ip) ?? [];
  }
}
