// Cluster DNS answers as a pure function of the cluster records and one question, following the Kubernetes DNS
// specification (github.com/kubernetes/dns docs/specification.md) as CoreDNS's kubernetes plugin implements it
// with k3s's settings (`pods insecure`, TTL 5, fallthrough for reverse zones):
//   <svc>.<ns>.svc.<zone>                 A/AAAA: ClusterIPs; headless: ready endpoint addresses; ExternalName: CNAME
//   <hostname>.<svc>.<ns>.svc.<zone>      A/AAAA of that endpoint (hostname, or its address with dashes)
//   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV per matching port (per ready endpoint when headless)
//   <a-b-c-d>.<ns>.pod.<zone>             A <a.b.c.d> in an existing namespace
//   reverse names                          PTR for ClusterIPs and ready endpoint addresses, else forwarded
//   dns-version.<zone> TXT, <zone> SOA/NS, ns.dns.<zone> A (the cluster DNS address)
// Names in the zone that do not exist are NXDOMAIN and names without data NODATA, both with the SOA in authority;
// names outside the zone are for the upstream resolvers.

import type { Answer as Record, Question } from 'dns-packet';
import { canonicalIPv6, type ClusterRecords, type EndpointRecord } from './records.js';

export interface DnsConfig {
  /** Cluster domain, e.g. "cluster.local" (no trailing dot). */
  zone: string;
  /** TTL of every record served (CoreDNS kubernetes plugin default: 5 s). */
  ttl: number;
  /** The cluster DNS Service address, served as ns.dns.<zone>. */
  dnsIP: string;
}

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

export interface Resolution {
  /** Not in the cluster's zones (or a reverse name it has no record for): ask the upstream resolvers. */
  forward: boolean;
  rcode: Rcode;
  authoritative: boolean;
  answers: Record[];
  authorities: Record[];
  additionals: Record[];
  /** An ExternalName CNAME whose target should be resolved too, its records appended to the answer. */
  chase?: { name: string; type: 'A' | 'AAAA' };
}

/** The schema version dns-version.<zone> reports (CoreDNS: 1.1.0). */
export const DNS_SCHEMA_VERSION = '1.1.0';

const FORWARD: Resolution = { forward: true, rcode: 'NOERROR', authoritative: false, answers: [], authorities: [], additionals: [] };

const isV4 = (ip: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
const isV6 = (ip: string): boolean => ip.includes(':');

/** The address a reverse name stands for, or undefined if it is not a complete one. */
export function reverseToIP(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const octets = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) return undefined;
    return octets.reverse().map(Number).join('.');
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || nibbles.some((n) => !/^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    return canonicalIPv6(hex.match(/.{4}/g)!.join(':'));
  }
  return undefined;
}

/** A pod name label back to an address: 10-244-1-5 → 10.244.1.5, fd00--1 → fd00::1. */
function podLabelToIP(label: string): string | undefined {
  const v4 = label.replace(/-/g, '.');
  if (isV4(v4) && v4.split('.').every((o) => Number(o) <= 255)) return v4.split('.').map(Number).join('.');
  if (label.includes('-')) return canonicalIPv6(label.replace(/-/g, ':'));
  return undefined;
}

const stripUnderscore = (s: string): string => (s.startsWith('_') ? s.slice(1) : s);

interface Target {
  ip?: string;
  /** CNAME target (ExternalName). */
  host?: string;
  /** 0: no port (headless slices without ports). */
  port: number;
  /** The SRV target: the Service name, or the endpoint's name under it. */
  target: string;
}

export function resolve(records: ClusterRecords, q: Question, cfg: DnsConfig): Resolution {
  const qname = q.name;
  // dns-packet decodes type 255 as "ANY", which its typings leave out.
  const qtype = q.type as string;
  const name = qname.toLowerCase().replace(/\.$/, '');
  const zone = cfg.zone.toLowerCase().replace(/\.$/, '');

  if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) return reverse(records, q, name, cfg);
  if (name !== zone && !name.endsWith(`.${zone}`)) return FORWARD;

  const soa: Record = {
    name: zone,
    type: 'SOA',
    ttl: cfg.ttl,
    class: 'IN',
    data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: records.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: cfg.ttl },
  };
  const reply = (rcode: Rcode, answers: Record[] = [], additionals: Record[] = []): Resolution => ({
    forward: false,
    rcode,
    authoritative: true,
    answers,
    authorities: answers.length === 0 ? [soa] : [],
    additionals,
  });
  const nxdomain = () => reply('NXDOMAIN');
  const nodata = () => reply('NOERROR');
  if ((q.class ?? 'IN') !== 'IN' && q.class !== 'ANY') return { ...reply('REFUSED'), authorities: [] };

  const labels = name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.');
  const ttl = cfg.ttl;

  if (labels.length === 0) {
    if (qtype === 'SOA') return reply('NOERROR', [{ ...soa, name: qname }]);
    if (qtype === 'NS') {
      const ns = `ns.dns.${zone}`;
      const extra: Record[] = isV4(cfg.dnsIP) ? [{ name: ns, type: 'A', ttl, class: 'IN', data: cfg.dnsIP }] : isV6(cfg.dnsIP) ? [{ name: ns, type: 'AAAA', ttl, class: 'IN', data: cfg.dnsIP }] : [];
      return reply('NOERROR', [{ name: qname, type: 'NS', ttl, class: 'IN', data: ns }], extra);
    }
    return nodata();
  }
  if (labels.length === 1 && labels[0] === 'dns-version') {
    return qtype === 'TXT' ? reply('NOERROR', [{ name: qname, type: 'TXT', ttl, class: 'IN', data: DNS_SCHEMA_VERSION }]) : nodata();
  }
  if (labels.length === 1 && labels[0] === 'dns') return nodata();
  if (labels.length === 2 && labels[0] === 'ns' && labels[1] === 'dns') {
    const rr = addressRecords(qname, [cfg.dnsIP], qtype, ttl);
    return rr.length ? reply('NOERROR', rr) : nodata();
  }

  const kind = labels[labels.length - 1];
  if (kind === 'pod') {
    if (labels.length === 1) return nodata();
    const ns = labels[labels.length - 2]!;
    if (!records.hasNamespace(ns)) return nxdomain();
    if (labels.length === 2) return nodata();
    if (labels.length !== 3) return nxdomain();
    const ip = podLabelToIP(labels[0]!);
    if (!ip) return nxdomain();
    const rr = addressRecords(qname, [ip], qtype, ttl);
    return rr.length ? reply('NOERROR', rr) : nodata();
  }
  if (kind !== 'svc') return nxdomain();
  if (labels.length === 1) return nodata();
  const ns = labels[labels.length - 2]!;
  if (labels.length === 2) return records.hasNamespace(ns) ? nodata() : nxdomain();
  if (labels.length > 5) return nxdomain();
  const svcName = labels[labels.length - 3]!;
  const svc = records.service(ns, svcName);
  if (!svc) return nxdomain();
  const rest = labels.slice(0, labels.length - 3);
  const endpoint = rest.length === 1 ? rest[0] : undefined;
  const port = rest.length === 2 ? stripUnderscore(rest[0]!) : undefined;
  const proto = rest.length === 2 ? stripUnderscore(rest[1]!) : undefined;
  const svcFqdn = `${svcName}.${ns}.svc.${zone}`;
  const portMatches = (p: { name: string; protocol: string }) => port === undefined || (p.name.toLowerCase() === port && p.protocol.toLowerCase() === proto);

  const targets: Target[] = [];
  if (svc.type === 'ExternalName') {
    if (endpoint !== undefined || !svc.externalName) return nxdomain();
    const host = svc.externalName.replace(/\.$/, '');
    if (port !== undefined) for (const p of svc.ports) if (portMatches(p)) targets.push({ host, port: p.port, target: host });
    if (port === undefined) targets.push({ host, port: 0, target: host });
  } else if (svc.headless || endpoint !== undefined) {
    for (const e of records.endpoints(ns, svcName)) {
      if (!e.ready) continue;
      if (endpoint !== undefined && e.hostname.toLowerCase() !== endpoint) continue;
      for (const t of endpointTargets(e, portMatches, port !== undefined, `${e.hostname}.${svcFqdn}`)) targets.push(t);
    }
  } else {
    for (const p of svc.ports) if (portMatches(p)) for (const ip of svc.clusterIPs) targets.push({ ip, port: p.port, target: svcFqdn });
  }
  if (targets.length === 0) return nxdomain();

  if (svc.type === 'ExternalName' && qtype !== 'SRV') {
    const host = targets[0]!.host!;
    const cname: Record = { name: qname, type: 'CNAME', ttl, class: 'IN', data: host };
    const r = reply('NOERROR', [cname]);
    if (qtype === 'A' || qtype === 'AAAA') r.chase = { name: host, type: qtype };
    return r;
  }
  switch (qtype) {
    case 'A':
    case 'AAAA':
    case 'ANY': {
      const rr = addressRecords(qname, targets.map((t) => t.ip ?? ''), qtype, ttl);
      return rr.length ? reply('NOERROR', rr) : nodata();
    }
    case 'SRV': {
      const seen = new Set<string>();
      const srv = targets.filter((t) => t.port > 0 && !seen.has(`${t.port}/${t.target}`) && seen.add(`${t.port}/${t.target}`));
      if (srv.length === 0) return nodata();
      // CoreDNS spreads a weight of 100 over records of equal priority, at least 1 each.
      const weight = Math.max(1, Math.floor(100 / srv.length));
      const answers: Record[] = srv.map((t) => ({ name: qname, type: 'SRV', ttl, class: 'IN', data: { priority: 0, weight, port: t.port, target: t.target } }));
      const extraSeen = new Set<string>();
      const extra: Record[] = [];
      for (const t of srv) {
        if (!t.ip || extraSeen.has(`${t.target}/${t.ip}`)) continue;
        extraSeen.add(`${t.target}/${t.ip}`);
        extra.push(...addressRecords(t.target, [t.ip], isV6(t.ip) ? 'AAAA' : 'A', ttl));
      }
      return reply('NOERROR', answers, extra);
    }
    default:
      return nodata();
  }
}

/** One target per matching slice port (a portless slice gives one portless target unless a port was asked). */
function endpointTargets(e: EndpointRecord, portMatches: (p: { name: string; protocol: string }) => boolean, portAsked: boolean, target: string): Target[] {
  const out: Target[] = [];
  if (e.ports.length === 0) {
    if (!portAsked) for (const ip of e.addresses) out.push({ ip, port: 0, target });
    return out;
  }
  for (const p of e.ports) if (portMatches(p)) for (const ip of e.addresses) out.push({ ip, port: p.port, target });
  return out;
}

/** A/AAAA records (ANY: both) for the distinct addresses of the asked family. */
function addressRecords(name: string, ips: string[], type: string, ttl: number): Record[] {
  const out: Record[] = [];
  const seen = new Set<string>();
  for (const ip of ips) {
    if (!ip || seen.has(ip)) continue;
    seen.add(ip);
    if (isV4(ip) && (type === 'A' || type === 'ANY')) out.push({ name, type: 'A', ttl, class: 'IN', data: ip });
    else if (isV6(ip) && (type === 'AAAA' || type === 'ANY')) out.push({ name, type: 'AAAA', ttl, class: 'IN', data: ip });
  }
  return out;
}

/** PTR for ClusterIPs and ready endpoint addresses; anything else falls through to the upstream resolvers. */
function reverse(records: ClusterRecords, q: Question, name: string, cfg: DnsConfig): Resolution {
  const ip = reverseToIP(name);
  if (!ip) return FORWARD;
  const zone = cfg.zone.toLowerCase().replace(/\.$/, '');
  const entries = records.byIP(ip);
  if (entries.length === 0) return FORWARD;
  const qtype = q.type as string;
  if (qtype !== 'PTR' && qtype !== 'ANY') return { forward: false, rcode: 'NOERROR', authoritative: true, answers: [], authorities: [], additionals: [] };
  const seen = new Set<string>();
  const answers: Record[] = [];
  for (const e of entries) {
    const target = e.hostname ? `${e.hostname}.${e.service}.${e.namespace}.svc.${zone}` : `${e.service}.${e.namespace}.svc.${zone}`;
    if (seen.has(target)) continue;
    seen.add(target);
    answers.push({ name: q.name, type: 'PTR', ttl: cfg.ttl, class: 'IN', data: target });
  }
  return { forward: false, rcode: 'NOERROR', authoritative: true, answers, authorities: [], additionals: [] };
}
