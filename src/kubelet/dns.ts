// A pod's DNS settings as the kubelet forms them (upstream pkg/kubelet/network/dns): the resolv.conf from dnsPolicy
// (ClusterFirst, ClusterFirstWithHostNet, Default, None) and dnsConfig over the host's resolv.conf, cut to the
// resolver's limits; and the pod's hostname and domain (hostname/subdomain). Pure: the caller reads the files and
// records the events.
import type { DNSConfig } from '../runtime/interface.js';
import type { Pod } from './types.js';

/** glibc's limits, as upstream validates them. */
export const MAX_NAMESERVERS = 3;
export const MAX_SEARCH_PATHS = 32;
export const MAX_SEARCH_CHARS = 2048;

export interface DnsEvent {
  type: 'Warning';
  reason: string;
  message: string;
}

/** The nameserver, search and options lines of a resolv.conf (the last search line wins; "." and trailing dots dropped). */
export function parseResolvConf(text: string): DNSConfig {
  const out: DNSConfig = { servers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    if (/^\s*[#;]/.test(line)) continue;
    const f = line.trim().split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) out.servers.push(f[1]);
    else if (f[0] === 'search') out.searches = f.slice(1).filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    else if (f[0] === 'options') out.options = mergeOptions(out.options, f.slice(1).map(splitOption));
  }
  return out;
}

function splitOption(o: string): { name: string; value?: string } {
  const i = o.indexOf(':');
  return i < 0 ? { name: o } : { name: o.slice(0, i), value: o.slice(i + 1) };
}

/** Options by name: a later one replaces an earlier one of the same name in place; new names go last. */
function mergeOptions(have: string[], add: Array<{ name: string; value?: string | null }>): string[] {
  const out = [...have];
  for (const o of add) {
    const text = o.value !== undefined && o.value !== null && o.value !== '' ? `${o.name}:${o.value}` : o.name;
    const i = out.findIndex((x) => splitOption(x).name === o.name);
    if (i >= 0) out[i] = text;
    else out.push(text);
  }
  return out;
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

export interface PodDnsOptions {
  /** --cluster-dns; empty: ClusterFirst falls back to Default (with a MissingClusterDNS event). */
  clusterDNS: string[];
  clusterDomain: string;
  /** The host's resolv.conf (parseResolvConf of the kubelet's --resolv-conf). */
  host: DNSConfig;
}

const podRef = (pod: Pod): string => `${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`;

/** The pod's resolv.conf content and the events upstream records while forming it. */
export function podDNSConfig(pod: Pod, o: PodDnsOptions): { config: DNSConfig; events: DnsEvent[] } {
  const spec = (pod.spec ?? {}) as { dnsPolicy?: string; hostNetwork?: boolean; dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: Array<{ name: string; value?: string | null }> } };
  const events: DnsEvent[] = [];
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  const cluster = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && spec.hostNetwork !== true);
  let config: DNSConfig;
  if (policy === 'None') {
    config = { servers: [], searches: [], options: [] };
  } else if (cluster && o.clusterDNS.length > 0) {
    const d = o.clusterDomain.replace(/\.$/, '');
    const ns = pod.metadata.namespace ?? 'default';
    const searches = d ? [`${ns}.svc.${d}`, `svc.${d}`, d, ...o.host.searches] : [...o.host.searches];
    config = { servers: [...o.clusterDNS], searches: unique(searches), options: ['ndots:5'] };
  } else {
    if (cluster) {
      events.push({
        type: 'Warning',
        reason: 'MissingClusterDNS',
        message: `pod: "${podRef(pod)}". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`,
      });
    }
    config = { servers: [...o.host.servers], searches: [...o.host.searches], options: [...o.host.options] };
  }
  const extra = spec.dnsConfig;
  if (extra) {
    config.servers = unique([...config.servers, ...(extra.nameservers ?? [])]);
    config.searches = unique([...config.searches, ...(extra.searches ?? [])]);
    config.options = mergeOptions(config.options, extra.options ?? []);
  }
  if (config.servers.length > MAX_NAMESERVERS) {
    config.servers = config.servers.slice(0, MAX_NAMESERVERS);
    events.push({ type: 'Warning', reason: 'DNSConfigForming', message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${config.servers.join(' ')}` });
  }
  let searches = config.searches;
  while (searches.length > 0 && searches.join(' ').length > MAX_SEARCH_CHARS) searches = searches.slice(0, -1);
  if (searches.length > MAX_SEARCH_PATHS) searches = searches.slice(0, MAX_SEARCH_PATHS);
  if (searches.length !== config.searches.length) {
    config.searches = searches;
    events.push({ type: 'Warning', reason: 'DNSConfigForming', message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}` });
  }
  return { config, events };
}

/**
 * The pod's hostname (spec.hostname, else its name cut to 63 characters without a trailing "-" or ".") and, with a
 * subdomain, its domain `<subdomain>.<ns>.svc.<cluster domain>` (upstream GeneratePodHostNameAndDomain).
 */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain?: string } {
  const spec = (pod.spec ?? {}) as { hostname?: string; subdomain?: string };
  const hostname = spec.hostname || (pod.metadata.name ?? '').slice(0, 63).replace(/[-.]+$/, '');
  const d = clusterDomain.replace(/\.$/, '');
  const domain = spec.subdomain ? `${spec.subdomain}.${pod.metadata.namespace ?? 'default'}.svc${d ? `.${d}` : ''}` : undefined;
  return domain ? { hostname, domain } : { hostname };
}
