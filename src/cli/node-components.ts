// The node-side components that `k8ts server` (for its own machine) and `k8ts agent` (a node agent process) both
// start: the kubelet with its proxy and Ingress controller, and the cluster DNS; kept apart from server.ts so that
// an agent loads none of the API server's modules.

import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ensureKubeletServingCert } from '../apiserver/pki.js';
import type { ClusterDnsOptions } from '../dns/dns.js';
import type { Upstream } from '../dns/upstream.js';
import type { AgentOptions } from '../kubelet/agent.js';
import type { ProxyMode } from '../proxy/proxy.js';
import type { ComponentSpec } from './components.js';
import { FlagError } from './flags.js';
import { VERSION } from './main.js';

/** The node agent (kubelet over runc) as user system:node:<name> (group system:nodes). */
export function agent(opts: Omit<import('../kubelet/agent.js').AgentOptions, 'client' | 'log' | 'servingTLS'>, pki: { caCert: string }, pkiDataDir = opts.dataDir): ComponentSpec {
  return {
    name: 'kubelet',
    certFile: 'kubelet',
    user: `system:node:${opts.nodeName}`,
    groups: ['system:nodes'],
    userAgent: `kubelet/${VERSION} (linux/amd64) k8ts`,
    make: async (client, log) => {
      const { startAgent } = await import('../kubelet/agent.js');
      let running: import('../kubelet/agent.js').Agent | undefined;
      return {
        start: async () => {
          // Registration waits for the node's pod CIDR from the controller manager: do not hold up the others.
          const tls = await ensureKubeletServingCert(pkiDataDir, opts.nodeName, [opts.nodeIP]);
          void startAgent({ ...opts, servingTLS: { ...tls, caCert: pki.caCert }, client, log }).then(
            (a) => (running = a),
            (e: unknown) => console.error(`k8ts: kubelet failed to start: ${(e as Error).message}`),
          );
        },
        stop: async () => {
          await running?.stop();
        },
      };
    },
  };
}

/** The first non-internal IPv4 address of this machine, else loopback. */
export function defaultNodeIP(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/** The cluster DNS (src/dns) as user system:k8ts:cluster-dns; with `node`, also this node's listener on its pod gateway. */
export function clusterDns(opts: ClusterDnsOptions): ComponentSpec {
  return {
    name: 'cluster-dns',
    certFile: 'cluster-dns',
    user: 'system:k8ts:cluster-dns',
    userAgent: 'k8ts-cluster-dns',
    make: async (client, log) => {
      const { ClusterDNS } = await import('../dns/dns.js');
      const dns = new ClusterDNS(client, { ...opts, version: VERSION, log });
      return { start: () => dns.start(), stop: () => dns.stop() };
    },
  };
}

/**
 * The DNS flags: on with the agent (as k3s deploys CoreDNS) or with a --dns-port, off with --disable-dns; an
 * IPv4/IPv6 --cluster-dns, and the upstream list ("none": no forwarding).
 */
export async function dnsOptions(f: { 'cluster-domain': string; 'cluster-dns': string; 'disable-dns': boolean; 'disable-agent': boolean; 'dns-bind-address': string; 'dns-port': number; 'dns-upstream': string }): Promise<ClusterDnsOptions | undefined> {
  const port = f['dns-port'];
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FlagError(`invalid --dns-port ${port} (want 0–65535)`);
  if (f['disable-dns'] || (port === 0 && f['disable-agent'])) return undefined;
  const zone = f['cluster-domain'].replace(/\.$/, '');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(zone)) throw new FlagError(`invalid --cluster-domain "${f['cluster-domain']}"`);
  if (isIP(f['cluster-dns']) === 0) throw new FlagError(`invalid --cluster-dns "${f['cluster-dns']}" (want an IP address)`);
  let upstreams: Upstream[] | undefined;
  try {
    // Loaded only when DNS runs: a control-plane-only server never loads src/dns.
    upstreams = f['dns-upstream'] === 'none' ? [] : f['dns-upstream'] ? (await import('../dns/upstream.js')).parseUpstreams(f['dns-upstream']) : undefined;
  } catch (e) {
    throw new FlagError(`invalid --dns-upstream "${f['dns-upstream']}": ${(e as Error).message}`);
  }
  return { zone, clusterDNS: f['cluster-dns'], bindAddress: f['dns-bind-address'], port, upstreams };
}

/** The node flags `server` and `agent` share. */
export interface NodeFlags {
  'node-ip': string;
  'node-netns': string;
  'pod-cidr': string;
  'cluster-dns': string;
  'cluster-domain': string;
  'kubelet-port': number;
  'ingress-http-port': number;
  'ingress-https-port': number;
}

/** The kubelet's options from those flags (cluster DNS in pods' resolv.conf only when DNS runs). */
export function agentOptions(f: NodeFlags, o: { dataDir: string; nodeName: string; proxyMode: ProxyMode | 'none'; dns: boolean }): Omit<AgentOptions, 'client' | 'log' | 'servingTLS'> {
  return {
    dataDir: o.dataDir,
    nodeName: o.nodeName,
    nodeIP: f['node-ip'] || defaultNodeIP(),
    ...(f['node-netns'] ? { nodeNetns: f['node-netns'] } : {}),
    ...(f['pod-cidr'] ? { podCIDR: f['pod-cidr'] } : {}),
    clusterDNS: o.dns ? [f['cluster-dns']] : [],
    clusterDomain: f['cluster-domain'],
    kubeletPort: f['kubelet-port'],
    kubeletVersion: VERSION,
    proxyMode: o.proxyMode,
    ingressHttpPort: f['ingress-http-port'],
    ingressHttpsPort: f['ingress-https-port'],
  };
}
