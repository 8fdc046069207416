// The proxy's desired state, pure: Services and EndpointSlices reduced to one rule per service port (its virtual
// addresses, node port, affinity, traffic policies, load-balancer source ranges and the ready endpoints behind it).
// Both backends render this.

import { createHash } from 'node:crypto';
import type { KubeObject } from '../api/types.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Endpoint {
  ip: string;
  port: number;
  /** On this node (EndpointSlice endpoint nodeName). */
  local: boolean;
}

/** One port of one Service, as the data plane sees it. */
export interface ServicePortRule {
  /** `<ns>/<name>:<portName>/<proto>`: stable across syncs, the unit of incremental updates. */
  key: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  /** IPv4 cluster IPs (IPv6 is not rendered). */
  clusterIPs: string[];
  port: number;
  nodePort?: number;
  /** status.loadBalancer.ingress IPs (ipMode VIP or unset) and spec.externalIPs: external traffic. */
  externalIPs: string[];
  /**
   * spec.loadBalancerSourceRanges (IPv4, normalized: network addresses, none inside another, sorted) and the
   * load-balancer ingress IPs among externalIPs they guard: traffic to those from other sources is dropped. Both
   * absent (or empty): no firewall, every source allowed. NodePorts and spec.externalIPs are never filtered.
   */
  sourceRanges?: string[];
  loadBalancerIPs?: string[];
  /** sessionAffinity ClientIP timeout in seconds; undefined for None. */
  affinitySeconds?: number;
  externalLocal: boolean;
  internalLocal: boolean;
  /** Ready endpoints, sorted by ip then port. */
  endpoints: Endpoint[];
}

const isV4 = (ip: unknown): ip is string => typeof ip === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(ip);

/** The default ClientIP timeout (upstream: 10800 s, 3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

interface SlicePort {
  name?: string;
  port?: number;
  protocol?: string;
}
interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
}

/**
 * Reduces the cluster's Services and EndpointSlices to the rules this node serves. Skips headless, ExternalName and
 * IPv6-only services. An endpoint counts when its `ready` condition is not false (upstream: nil means ready).
 */
export function desiredRules(services: readonly KubeObject[], slices: readonly KubeObject[], nodeName: string): ServicePortRule[] {
  const bySvc = new Map<string, KubeObject[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (!svc || (s as { addressType?: string }).addressType !== 'IPv4') continue;
    const k = `${s.metadata?.namespace ?? ''}/${svc}`;
    const list = bySvc.get(k) ?? [];
    list.push(s);
    bySvc.set(k, list);
  }
  const out: ServicePortRule[] = [];
  for (const svc of services) {
    const spec = (svc.spec ?? {}) as Record<string, any>;
    const status = (svc.status ?? {}) as Record<string, any>;
    if (spec.type === 'ExternalName') continue;
    const ips: string[] = (Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [spec.clusterIP]).filter(isV4);
    if (ips.length === 0) continue;
    const ns = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const lbIPs: string[] = (status.loadBalancer?.ingress ?? [])
      .filter((i: { ip?: string; ipMode?: string }) => isV4(i.ip) && (i.ipMode === undefined || i.ipMode === 'VIP'))
      .map((i: { ip: string }) => i.ip);
    const externalIPs = [...new Set([...((spec.externalIPs ?? []) as unknown[]).filter(isV4), ...(spec.type === 'LoadBalancer' ? lbIPs : [])])].sort();
    const sourceRanges = spec.type === 'LoadBalancer' ? normalizeCidrs(Array.isArray(spec.loadBalancerSourceRanges) ? spec.loadBalancerSourceRanges : []) : [];
    const firewall = sourceRanges.length > 0 && lbIPs.length > 0 ? { sourceRanges, lbIPs: [...new Set(lbIPs)].sort() } : undefined;
    const affinitySeconds =
      spec.sessionAffinity === 'ClientIP' ? Number(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : undefined;
    for (const p of (spec.ports ?? []) as Array<Record<string, any>>) {
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      const portName = p.name ?? '';
      const eps = new Map<string, Endpoint>();
      for (const slice of bySvc.get(`${ns}/${name}`) ?? []) {
        const sp = ((slice as { ports?: SlicePort[] }).ports ?? []).find((x) => (x.name ?? '') === portName && (x.protocol ?? 'TCP') === protocol);
        if (!sp || typeof sp.port !== 'number') continue;
        for (const e of (slice as { endpoints?: SliceEndpoint[] }).endpoints ?? []) {
          if (e.conditions?.ready === false) continue;
          const ip = e.addresses?.[0];
          if (!isV4(ip)) continue;
          eps.set(`${ip}:${sp.port}`, { ip, port: sp.port, local: e.nodeName === nodeName });
        }
      }
      const hasNodePort = (spec.type === 'NodePort' || spec.type === 'LoadBalancer') && typeof p.nodePort === 'number' && p.nodePort > 0;
      out.push({
        key: `${ns}/${name}:${portName}/${protocol}`,
        namespace: ns,
        name,
        portName,
        protocol,
        clusterIPs: ips,
        port: Number(p.port),
        nodePort: hasNodePort ? p.nodePort : undefined,
        externalIPs: [...externalIPs],
        ...(firewall ? { sourceRanges: firewall.sourceRanges, loadBalancerIPs: firewall.lbIPs } : {}),
        affinitySeconds,
        externalLocal: spec.externalTrafficPolicy === 'Local',
        internalLocal: spec.internalTrafficPolicy === 'Local',
        endpoints: [...eps.values()].sort(compareEndpoints),
      });
    }
  }
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return dropConflicts(out);
}

/**
 * One (address, protocol, port) serves one service port. ServiceLB gives every LoadBalancer the node's address, so
 * two of them on one port collide: cluster IPs win, then the first rule in key order keeps an external address.
 */
function dropConflicts(rules: ServicePortRule[]): ServicePortRule[] {
  const claimed = new Set<string>();
  for (const r of rules) for (const ip of r.clusterIPs) claimed.add(`${ip}|${r.protocol}|${r.port}`);
  for (const r of rules) {
    r.externalIPs = r.externalIPs.filter((ip) => {
      const k = `${ip}|${r.protocol}|${r.port}`;
      if (claimed.has(k)) return false;
      claimed.add(k);
      return true;
    });
    if (r.loadBalancerIPs) {
      const kept = r.loadBalancerIPs.filter((ip) => r.externalIPs.includes(ip));
      if (kept.length > 0) r.loadBalancerIPs = kept;
      else {
        delete r.loadBalancerIPs;
        delete r.sourceRanges;
      }
    }
  }
  return rules;
}

/** An IPv4 CIDR as [network, prefix], host bits cleared (upstream parses them sloppily too); undefined if not one. */
function parseCidr(s: unknown): [number, number] | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s.trim());
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (bits > 32 || o.some((x) => x > 255)) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [((((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0) & mask) >>> 0, bits];
}

const cidrString = ([n, bits]: [number, number]): string => `${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')}/${bits}`;

/** Whether the IPv4 address `ip` lies in `cidr`. */
export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const a = parseCidr(`${ip}/32`);
  if (!c || !a) return false;
  const mask = c[1] === 0 ? 0 : (0xffffffff << (32 - c[1])) >>> 0;
  return ((a[0] & mask) >>> 0) === c[0];
}

/**
 * loadBalancerSourceRanges as rules can use them: IPv4 CIDRs only (others, and IPv6, skipped as kube-proxy filters
 * by family), host bits cleared, duplicates and ranges inside another dropped (an nft interval set refuses
 * overlaps), in address order.
 */
export function normalizeCidrs(list: readonly unknown[]): string[] {
  const parsed = list.map(parseCidr).filter((c): c is [number, number] => c !== undefined);
  parsed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const c of parsed) {
    const last = out.at(-1);
    if (last) {
      const mask = last[1] === 0 ? 0 : (0xffffffff << (32 - last[1])) >>> 0;
      if (((c[0] & mask) >>> 0) === last[0]) continue; // inside (or equal to) the previous range
    }
    out.push(c);
  }
  return out.map(cidrString);
}

/**
 * The sources a load-balancer firewall lets through: the ranges, plus the load-balancer IPs themselves when a range
 * holds one of the node's addresses (the node reaching its own load-balancer address uses it as the source), as
 * kube-proxy's allowFromNode.
 */
export function firewallSources(r: ServicePortRule, nodeIPs: readonly string[]): string[] {
  const ranges = r.sourceRanges ?? [];
  const fromNode = nodeIPs.some((ip) => ranges.some((c) => cidrContains(c, ip)));
  return fromNode ? normalizeCidrs([...ranges, ...(r.loadBalancerIPs ?? []).map((ip) => `${ip}/32`)]) : ranges;
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const x = ipNumber(a.ip) - ipNumber(b.ip);
  return x !== 0 ? x : a.port - b.port;
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** The endpoints cluster (ClusterIP) traffic may reach: local ones only under internalTrafficPolicy Local. */
export function clusterEndpoints(r: ServicePortRule): Endpoint[] {
  return r.internalLocal ? r.endpoints.filter((e) => e.local) : r.endpoints;
}

/** The endpoints external (NodePort, LoadBalancer, externalIPs) traffic may reach. */
export function externalEndpoints(r: ServicePortRule): Endpoint[] {
  return r.externalLocal ? r.endpoints.filter((e) => e.local) : r.endpoints;
}

/** Upstream-style chain hash: the first 16 base32 characters of sha256(text). */
export function chainHash(text: string): string {
  const d = createHash('sha256').update(text).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let s = '';
  for (const byte of d) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && s.length < 16) {
      s += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (s.length >= 16) break;
  }
  return s;
}
