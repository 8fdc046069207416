// The files a pod sandbox manages for its containers (bind-mounted at /etc/hosts, /etc/hostname, /etc/resolv.conf),
// with the kubelet's layout. Pure.
import type { DNSConfig } from '../interface.js';

/**
 * The kubelet's managed /etc/hosts: localhost entries, the pod's own IP and name (`<ip>\t<hostname>.<domain>\t<hostname>`
 * with a subdomain, as upstream), then hostAliases.
 */
export function hostsFile(ip: string | undefined, hostname: string, aliases: Array<{ ip: string; hostnames: string[] }> = [], domain?: string): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  if (ip) lines.push(domain ? `${ip}\t${hostname}.${domain}\t${hostname}` : `${ip}\t${hostname}`);
  if (aliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** resolv.conf from the pod's DNS config. */
export function resolvConf(dns: DNSConfig): string {
  const lines: string[] = [];
  if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(' ')}`);
  for (const s of dns.servers) lines.push(`nameserver ${s}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
