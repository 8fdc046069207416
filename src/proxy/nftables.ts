// The nftables data plane (default), shaped like upstream's nftables proxy: one `table ip k8ts-proxy`, verdict maps
// from (daddr, proto, dport) and (proto, nodePort) to per-service chains, numgen spreading, per-endpoint affinity
// sets with timeouts, masquerade by mark, and load-balancer source ranges checked before DNAT (a `firewall-ips` verdict
// map to per-service chains dropping other sources). Applied with `nft -f -`, one transaction per sync, only what
// changed.

import { run } from '../runtime/command.js';
import { diffFragments, FragmentCache, MASQ_MARK, type Backend, type Fragment, type SyncResult } from './backend.js';
import { chainHash, clusterEndpoints, externalEndpoints, firewallSources, type Endpoint, type ServicePortRule } from './model.js';

export const TABLE = 'k8ts-proxy';
const T = `ip ${TABLE}`;

/** The table's fixed skeleton: base chains hooked into nat and filter, the shared maps and sets. */
export function baseScript(nodeIPs: readonly string[]): string[] {
  const l = [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T} { comment "k8ts service proxy" ; }`,
    `add chain ${T} nat-prerouting { type nat hook prerouting priority dstnat ; }`,
    `add chain ${T} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${T} nat-postrouting { type nat hook postrouting priority srcnat ; }`,
    `add chain ${T} filter-input { type filter hook input priority -1 ; }`,
    `add chain ${T} filter-forward { type filter hook forward priority -1 ; }`,
    `add chain ${T} filter-output { type filter hook output priority -1 ; }`,
    // Before DNAT (dstnat is -100): new connections to a load-balancer IP from outside its source ranges go.
    `add chain ${T} filter-prerouting { type filter hook prerouting priority -110 ; }`,
    `add chain ${T} filter-output-firewall { type filter hook output priority -110 ; }`,
    `add chain ${T} firewall-check`,
    `add chain ${T} services`,
    `add chain ${T} mark-for-masquerade`,
    `add chain ${T} masquerading`,
    `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; }`,
    `add map ${T} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }`,
    `add set ${T} nodeport-ips { type ipv4_addr ; }`,
    `add set ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service ; }`,
    `add set ${T} no-endpoint-nodeports { type inet_proto . inet_service ; }`,
    `add rule ${T} filter-prerouting ct state new jump firewall-check`,
    `add rule ${T} filter-output-firewall ct state new jump firewall-check`,
    `add rule ${T} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`,
    `add rule ${T} nat-prerouting jump services`,
    `add rule ${T} nat-output jump services`,
    `add rule ${T} nat-postrouting jump masquerading`,
    `add rule ${T} masquerading meta mark & ${hex(MASQ_MARK)} == 0 return`,
    `add rule ${T} masquerading meta mark set meta mark ^ ${hex(MASQ_MARK)}`,
    `add rule ${T} masquerading masquerade fully-random`,
    `add rule ${T} mark-for-masquerade meta mark set meta mark | ${hex(MASQ_MARK)}`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${T} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
    `add rule ${T} filter-input ip daddr . meta l4proto . th dport @no-endpoint-services reject`,
    `add rule ${T} filter-input ip daddr @nodeport-ips meta l4proto . th dport @no-endpoint-nodeports reject`,
    `add rule ${T} filter-forward ip daddr . meta l4proto . th dport @no-endpoint-services reject`,
    `add rule ${T} filter-output ip daddr . meta l4proto . th dport @no-endpoint-services reject`,
  ];
  if (nodeIPs.length > 0) l.push(`add element ${T} nodeport-ips { ${nodeIPs.join(', ')} }`);
  return l;
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const proto = (r: ServicePortRule): string => r.protocol.toLowerCase();

export const serviceChain = (r: ServicePortRule): string => `svc-${chainHash(r.key)}`;
export const externalChain = (r: ServicePortRule): string => `ext-${chainHash(r.key)}`;
export const firewallChain = (r: ServicePortRule): string => `fw-${chainHash(r.key)}`;
const epID = (r: ServicePortRule, e: Endpoint): string => chainHash(`${r.key}|${e.ip}:${e.port}|${r.affinitySeconds ?? ''}`);
export const endpointChain = (r: ServicePortRule, e: Endpoint): string => `sep-${epID(r, e)}`;
const affinitySet = (r: ServicePortRule, e: Endpoint): string => `aff-${epID(r, e)}`;

/** Rules that pick one of `eps` (affinity first, then a uniform random choice). */
function spread(r: ServicePortRule, eps: readonly Endpoint[]): string[] {
  const rules: string[] = [];
  if (r.affinitySeconds !== undefined) for (const e of eps) rules.push(`ip saddr @${affinitySet(r, e)} goto ${endpointChain(r, e)}`);
  if (eps.length > 0) rules.push(`numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${endpointChain(r, e)}`).join(', ')} }`);
  return rules;
}

/**
 * One service port's chains, affinity sets and map/set elements (entries are `<set>|<key>|<verdict or "">`);
 * `nodeIPs` decide whether the node itself passes a load-balancer firewall (model.ts firewallSources).
 */
export function renderFragment(r: ServicePortRule, nodeIPs: readonly string[] = []): Fragment {
  const chains = new Map<string, string[]>();
  const sets = new Map<string, string>();
  const entries: string[] = [];
  const p = proto(r);
  const cluster = clusterEndpoints(r);
  const external = externalEndpoints(r);
  for (const e of r.endpoints) {
    const rules = [`ip saddr ${e.ip} jump mark-for-masquerade`];
    if (r.affinitySeconds !== undefined) {
      sets.set(affinitySet(r, e), `{ type ipv4_addr ; flags dynamic,timeout ; timeout ${r.affinitySeconds}s ; }`);
      rules.push(`update @${affinitySet(r, e)} { ip saddr }`);
    }
    rules.push(`meta l4proto ${p} dnat to ${e.ip}:${e.port}`);
    chains.set(endpointChain(r, e), rules);
  }
  chains.set(serviceChain(r), [...spread(r, cluster)]);
  for (const ip of r.clusterIPs) {
    entries.push(cluster.length > 0 ? `service-ips|${ip} . ${p} . ${r.port}|goto ${serviceChain(r)}` : `no-endpoint-services|${ip} . ${p} . ${r.port}|`);
  }
  const hasExternal = r.nodePort !== undefined || r.externalIPs.length > 0;
  if (hasExternal) {
    const ext = r.externalLocal
      ? [
          // Traffic from the node itself has no source to preserve: masquerade it and use the cluster chain.
          ...(cluster.length > 0 ? [`fib saddr type local jump mark-for-masquerade`, `fib saddr type local goto ${serviceChain(r)}`] : []),
          ...spread(r, external),
        ]
      : [`jump mark-for-masquerade`, ...spread(r, external)];
    chains.set(externalChain(r), ext);
    for (const ip of r.externalIPs) {
      entries.push(external.length > 0 ? `service-ips|${ip} . ${p} . ${r.port}|goto ${externalChain(r)}` : `no-endpoint-services|${ip} . ${p} . ${r.port}|`);
    }
    if (r.nodePort !== undefined) {
      entries.push(external.length > 0 ? `service-nodeports|${p} . ${r.nodePort}|goto ${externalChain(r)}` : `no-endpoint-nodeports|${p} . ${r.nodePort}|`);
    }
  }
  if (r.sourceRanges?.length && r.loadBalancerIPs?.length) {
    chains.set(firewallChain(r), [`ip saddr != { ${firewallSources(r, nodeIPs).join(', ')} } drop`]);
    for (const ip of r.loadBalancerIPs) entries.push(`firewall-ips|${ip} . ${p} . ${r.port}|goto ${firewallChain(r)}`);
  }
  return { chains, sets, entries };
}

function entryLine(verb: 'add' | 'delete', entry: string): string {
  const [set, key, verdict] = entry.split('|');
  return `${verb} element ${T} ${set} { ${key}${verb === 'add' && verdict ? ` : ${verdict}` : ''} }`;
}

/** The nft script that moves the table from `prev` to `next` (pure; `full` rebuilds the table from scratch). */
export function transition(prev: ReadonlyMap<string, Fragment>, next: ReadonlyMap<string, Fragment>, nodeIPs: readonly string[], full: boolean): { script: string; changed: number } {
  const before = full ? new Map<string, Fragment>() : prev;
  const { changed, removed } = diffFragments(before, next);
  const declare: string[] = [];
  const flush: string[] = [];
  const rules: string[] = [];
  const elements: string[] = [];
  const drop: string[] = [];
  for (const k of [...changed, ...removed]) {
    const old = before.get(k);
    const neu = next.get(k);
    for (const [name, decl] of neu?.sets ?? []) if (!old?.sets.has(name)) declare.push(`add set ${T} ${name} ${decl}`);
    for (const [name, body] of neu?.chains ?? []) {
      if (old?.chains.has(name)) flush.push(`flush chain ${T} ${name}`);
      else declare.push(`add chain ${T} ${name}`);
      for (const rule of body) rules.push(`add rule ${T} ${name} ${rule}`);
    }
    const newEntries = new Set(neu?.entries ?? []);
    const oldEntries = new Set(old?.entries ?? []);
    for (const e of oldEntries) if (!newEntries.has(e)) elements.push(entryLine('delete', e));
    for (const e of newEntries) if (!oldEntries.has(e)) elements.push(entryLine('add', e));
    for (const name of old?.chains.keys() ?? []) {
      if (neu?.chains.has(name)) continue;
      flush.push(`flush chain ${T} ${name}`);
      drop.push(`delete chain ${T} ${name}`);
    }
    for (const name of old?.sets.keys() ?? []) if (!neu?.sets.has(name)) drop.push(`delete set ${T} ${name}`);
  }
  // Element deletes precede element adds, so an element moving between sets never collides; deletions of chains
  // and sets come last, once nothing references them.
  const lines = [...(full ? baseScript(nodeIPs) : []), ...declare, ...flush, ...rules, ...elements.filter((l) => l.startsWith('delete')), ...elements.filter((l) => l.startsWith('add')), ...drop];
  return { script: lines.length > 0 ? `${lines.join('\n')}\n` : '', changed: changed.length + removed.length };
}

export interface NftablesOptions {
  nodeIPs: readonly string[];
  netns?: string;
}

export class NftablesBackend implements Backend {
  readonly name = 'nftables' as const;
  private applied = new Map<string, Fragment>();
  private readonly fragments = new FragmentCache();
  private needFull = true;

  constructor(private readonly opts: NftablesOptions) {}

  async sync(rules: readonly ServicePortRule[]): Promise<SyncResult> {
    const next = this.fragments.render(rules, (r) => renderFragment(r, this.opts.nodeIPs));
    const full = this.needFull;
    const { script, changed } = transition(this.applied, next, this.opts.nodeIPs, full);
    if (script) {
      this.needFull = true;
      const res = await run('nft', ['-f', '-'], { input: script, netns: this.opts.netns });
      if (res.code !== 0) throw new Error(`nft -f: ${res.stderr.trim().split('\n').slice(0, 6).join('; ')}`);
    }
    this.applied = next;
    this.needFull = false;
    return { changed, full };
  }

  async cleanup(): Promise<void> {
    const res = await run('nft', ['-f', '-'], { input: `add table ${T}\ndelete table ${T}\n`, netns: this.opts.netns });
    if (res.code !== 0) throw new Error(`nft delete table: ${res.stderr.trim()}`);
    this.applied = new Map();
    this.needFull = true;
  }
}
