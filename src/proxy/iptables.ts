// The iptables data plane (--proxy-mode iptables), shaped like upstream's iptables proxy: KUBE-SERVICES and
// KUBE-NODEPORTS dispatch to KUBE-SVC-/KUBE-EXT- chains that pick a KUBE-SEP- chain with `statistic --mode random`,
// `recent` lists for ClientIP affinity, KUBE-MARK-MASQ/KUBE-POSTROUTING for masquerade, REJECT in filter for
// services without endpoints, and load-balancer source ranges as upstream does them: KUBE-FW- chains DNAT only
// allowed sources, and KUBE-PROXY-FIREWALL drops new connections still addressed to the load-balancer IP. Applied with `iptables-restore --noflush`: top-level chains in full, per-service
// chains only when they changed.

import { run } from '../runtime/command.js';
import { diffFragments, FragmentCache, MASQ_MARK, type Backend, type Fragment, type SyncResult } from './backend.js';
import { chainHash, clusterEndpoints, externalEndpoints, firewallSources, type Endpoint, type ServicePortRule } from './model.js';

export const serviceChain = (r: ServicePortRule): string => `KUBE-SVC-${chainHash(r.key)}`;
export const externalChain = (r: ServicePortRule): string => `KUBE-EXT-${chainHash(r.key)}`;
export const firewallChain = (r: ServicePortRule): string => `KUBE-FW-${chainHash(r.key)}`;
export const endpointChain = (r: ServicePortRule, e: Endpoint): string => `KUBE-SEP-${chainHash(`${r.key}|${e.ip}:${e.port}|${r.affinitySeconds ?? ''}`)}`;

const mark = `0x${MASQ_MARK.toString(16)}`;
const proto = (r: ServicePortRule): string => r.protocol.toLowerCase();

/** Hooks from the built-in chains into ours: [table, chain, rule spec]. */
export const JUMPS: Array<[string, string, string[]]> = [
  ['nat', 'PREROUTING', ['-m', 'comment', '--comment', 'k8ts service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'OUTPUT', ['-m', 'comment', '--comment', 'k8ts service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'POSTROUTING', ['-m', 'comment', '--comment', 'k8ts postrouting rules', '-j', 'KUBE-POSTROUTING']],
  ['filter', 'INPUT', ['-m', 'comment', '--comment', 'k8ts externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES']],
  ['filter', 'FORWARD', ['-m', 'comment', '--comment', 'k8ts service portals', '-j', 'KUBE-SERVICES']],
  ['filter', 'FORWARD', ['-m', 'comment', '--comment', 'k8ts externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES']],
  ['filter', 'OUTPUT', ['-m', 'comment', '--comment', 'k8ts service portals', '-j', 'KUBE-SERVICES']],
  // Inserted last, so first in their chains: a dropped source is not rejected by the rules above first.
  ['filter', 'INPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'k8ts load balancer firewall', '-j', 'KUBE-PROXY-FIREWALL']],
  ['filter', 'FORWARD', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'k8ts load balancer firewall', '-j', 'KUBE-PROXY-FIREWALL']],
  ['filter', 'OUTPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'k8ts load balancer firewall', '-j', 'KUBE-PROXY-FIREWALL']],
];

function spread(r: ServicePortRule, chain: string, eps: readonly Endpoint[]): string[] {
  const rules: string[] = [];
  const c = `-m comment --comment "${r.key}"`;
  if (r.affinitySeconds !== undefined) {
    for (const e of eps) {
      const sep = endpointChain(r, e);
      rules.push(`-A ${chain} ${c} -m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds ${r.affinitySeconds} --reap -j ${sep}`);
    }
  }
  eps.forEach((e, i) => {
    const left = eps.length - i;
    const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
    rules.push(`-A ${chain} ${c}${stat} -j ${endpointChain(r, e)}`);
  });
  return rules;
}

/**
 * One service port: its own nat chains (rendered in full) and its lines in the shared chains, as
 * `<table>|<chain>|<rule args>` entries that the top-level chains are rebuilt from; `nodeIPs` decide whether the
 * node itself passes a load-balancer firewall (model.ts firewallSources).
 */
export function renderFragment(r: ServicePortRule, nodeIPs: readonly string[] = []): Fragment {
  const chains = new Map<string, string[]>();
  const entries: string[] = [];
  const p = proto(r);
  const c = `-m comment --comment "${r.key}"`;
  const cluster = clusterEndpoints(r);
  const external = externalEndpoints(r);
  for (const e of r.endpoints) {
    const sep = endpointChain(r, e);
    const recent = r.affinitySeconds !== undefined ? ` -m recent --name ${sep} --mask 255.255.255.255 --rsource --set` : '';
    chains.set(sep, [`-A ${sep} ${c} -s ${e.ip}/32 -j KUBE-MARK-MASQ`, `-A ${sep} ${c} -p ${p}${recent} -m ${p} -j DNAT --to-destination ${e.ip}:${e.port}`]);
  }
  const svc = serviceChain(r);
  chains.set(svc, spread(r, svc, cluster));
  for (const ip of r.clusterIPs) {
    const match = `-d ${ip}/32 -p ${p} -m ${p} --dport ${r.port}`;
    if (cluster.length > 0) entries.push(`nat|KUBE-SERVICES|${c} ${match} -j ${svc}`);
    else entries.push(`filter|KUBE-SERVICES|-m comment --comment "${r.key} has no endpoints" ${match} -j REJECT`);
  }
  if (r.nodePort !== undefined || r.externalIPs.length > 0) {
    const ext = externalChain(r);
    const rules = r.externalLocal
      ? [
          ...(cluster.length > 0
            ? [`-A ${ext} ${c} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`, `-A ${ext} ${c} -m addrtype --src-type LOCAL -j ${svc}`]
            : []),
          ...spread(r, ext, external),
        ]
      : [`-A ${ext} ${c} -j KUBE-MARK-MASQ`, ...spread(r, ext, external)];
    chains.set(ext, rules);
    const firewalled = r.sourceRanges?.length ? new Set(r.loadBalancerIPs ?? []) : new Set<string>();
    if (firewalled.size > 0) {
      const fw = firewallChain(r);
      chains.set(fw, firewallSources(r, nodeIPs).map((src) => `-A ${fw} ${c} -s ${src} -j ${ext}`));
    }
    for (const ip of r.externalIPs) {
      const match = `-d ${ip}/32 -p ${p} -m ${p} --dport ${r.port}`;
      // Load-balancer IPs with source ranges go through the firewall chain; what it does not DNAT is dropped below.
      const to = firewalled.has(ip) ? firewallChain(r) : ext;
      if (external.length > 0) entries.push(`nat|KUBE-SERVICES|${c} ${match} -j ${to}`);
      else entries.push(`filter|KUBE-EXTERNAL-SERVICES|-m comment --comment "${r.key} has no endpoints" ${match} -j REJECT`);
      if (firewalled.has(ip)) entries.push(`filter|KUBE-PROXY-FIREWALL|-m comment --comment "${r.key} traffic not accepted by ${firewallChain(r)}" ${match} -j DROP`);
    }
    if (r.nodePort !== undefined) {
      const match = `-p ${p} -m ${p} --dport ${r.nodePort}`;
      if (external.length > 0) entries.push(`nat|KUBE-NODEPORTS|${c} ${match} -j ${ext}`);
      else entries.push(`filter|KUBE-NODEPORTS|-m comment --comment "${r.key} has no endpoints" ${match} -j REJECT`);
    }
  }
  return { chains, sets: new Map(), entries };
}

/** The iptables-restore input moving from `prev` to `next` (pure). Top-level chains are always rewritten. */
export function transition(prev: ReadonlyMap<string, Fragment>, next: ReadonlyMap<string, Fragment>, nodeIPs: readonly string[], full: boolean): { script: string; changed: number } {
  const before = full ? new Map<string, Fragment>() : prev;
  const { changed, removed } = diffFragments(before, next);
  const top: Record<'nat' | 'filter', Record<string, string[]>> = {
    nat: { 'KUBE-SERVICES': [], 'KUBE-NODEPORTS': [], 'KUBE-POSTROUTING': [], 'KUBE-MARK-MASQ': [] },
    filter: { 'KUBE-SERVICES': [], 'KUBE-EXTERNAL-SERVICES': [], 'KUBE-NODEPORTS': [], 'KUBE-PROXY-FIREWALL': [] },
  };
  for (const f of next.values()) {
    for (const e of f.entries) {
      const [table, chain, rule] = e.split('|') as ['nat' | 'filter', string, string];
      top[table][chain].push(`-A ${chain} ${rule}`);
    }
  }
  top.nat['KUBE-POSTROUTING'].push(
    `-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`,
    `-A KUBE-POSTROUTING -m comment --comment "k8ts service traffic requiring SNAT" -j MASQUERADE --random-fully`,
  );
  top.nat['KUBE-MARK-MASQ'].push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`);
  for (const ip of nodeIPs) {
    top.nat['KUBE-SERVICES'].push(`-A KUBE-SERVICES -m comment --comment "k8ts service nodeports" -d ${ip}/32 -j KUBE-NODEPORTS`);
    top.filter['KUBE-EXTERNAL-SERVICES'].push(`-A KUBE-EXTERNAL-SERVICES -d ${ip}/32 -j KUBE-NODEPORTS`);
  }
  const natDecl: string[] = Object.keys(top.nat).map((c) => `:${c} - [0:0]`);
  const natRules: string[] = Object.values(top.nat).flat();
  const natDrop: string[] = [];
  for (const k of [...changed, ...removed]) {
    const old = before.get(k);
    const neu = next.get(k);
    for (const [name, rules] of neu?.chains ?? []) {
      natDecl.push(`:${name} - [0:0]`);
      natRules.push(...rules);
    }
    for (const name of old?.chains.keys() ?? []) {
      if (neu?.chains.has(name)) continue;
      natDecl.push(`:${name} - [0:0]`);
      natDrop.push(`-X ${name}`);
    }
  }
  const lines = [
    '*filter',
    ...Object.keys(top.filter).map((c) => `:${c} - [0:0]`),
    ...Object.values(top.filter).flat(),
    'COMMIT',
    '*nat',
    ...natDecl,
    ...natRules,
    ...natDrop,
    'COMMIT',
  ];
  return { script: `${lines.join('\n')}\n`, changed: changed.length + removed.length };
}

export interface IptablesOptions {
  nodeIPs: readonly string[];
  netns?: string;
}

export class IptablesBackend implements Backend {
  readonly name = 'iptables' as const;
  private applied = new Map<string, Fragment>();
  private readonly fragments = new FragmentCache();
  private needFull = true;
  private hooked = false;

  constructor(private readonly opts: IptablesOptions) {}

  private ipt(args: string[], input?: string) {
    return run(args[0], args.slice(1), { netns: this.opts.netns, input });
  }

  async sync(rules: readonly ServicePortRule[]): Promise<SyncResult> {
    const next = this.fragments.render(rules, (r) => renderFragment(r, this.opts.nodeIPs));
    const full = this.needFull;
    if (full && !this.hooked) await this.removeStale();
    const { script, changed } = transition(this.applied, next, this.opts.nodeIPs, full);
    this.needFull = true;
    const res = await this.ipt(['iptables-restore', '--noflush', '-w', '5'], script);
    if (res.code !== 0) throw new Error(`iptables-restore: ${res.stderr.trim().split('\n').slice(0, 6).join('; ')}`);
    if (!this.hooked) {
      for (const [table, chain, spec] of JUMPS) {
        const has = await this.ipt(['iptables', '-w', '5', '-t', table, '-C', chain, ...spec]);
        if (has.code === 0) continue;
        const ins = await this.ipt(['iptables', '-w', '5', '-t', table, '-I', chain, '1', ...spec]);
        if (ins.code !== 0) throw new Error(`iptables -I ${chain}: ${ins.stderr.trim()}`);
      }
      this.hooked = true;
    }
    this.applied = next;
    this.needFull = false;
    return { changed, full };
  }

  /** Chains a previous run left behind (KUBE-SVC/EXT/SEP not in this run's state), removed before a full sync. */
  private async removeStale(): Promise<void> {
    const saved = await this.ipt(['iptables-save', '-t', 'nat']);
    const stale = [...saved.stdout.matchAll(/^:(KUBE-(?:SVC|EXT|SEP|FW)-[A-Z2-7]{16}) /gm)].map((m) => m[1]);
    if (stale.length === 0) return;
    const script = ['*nat', ...stale.map((c) => `:${c} - [0:0]`), ':KUBE-SERVICES - [0:0]', ':KUBE-NODEPORTS - [0:0]', ...stale.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
    await this.ipt(['iptables-restore', '--noflush', '-w', '5'], script);
  }

  async cleanup(): Promise<void> {
    for (const [table, chain, spec] of JUMPS) {
      for (let i = 0; i < 10; i++) {
        const r = await this.ipt(['iptables', '-w', '5', '-t', table, '-D', chain, ...spec]);
        if (r.code !== 0) break;
      }
    }
    for (const table of ['nat', 'filter']) {
      const saved = await this.ipt(['iptables-save', '-t', table]);
      const ours = [...saved.stdout.matchAll(/^:(KUBE-[A-Z0-9-]+) /gm)].map((m) => m[1]);
      if (ours.length === 0) continue;
      const script = [`*${table}`, ...ours.map((c) => `:${c} - [0:0]`), ...ours.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
      const r = await this.ipt(['iptables-restore', '--noflush', '-w', '5'], script);
      if (r.code !== 0) throw new Error(`iptables-restore (cleanup): ${r.stderr.trim()}`);
    }
    this.applied = new Map();
    this.needFull = true;
    this.hooked = false;
  }
}
