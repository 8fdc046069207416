// `k8ts agent`: the node agent as a process of its own (as `k3s agent`): the kubelet over runc, the node's service
// proxy, Ingress controller and cluster DNS listener, talking to an API server (`k8ts server --disable-agent`)
// over HTTPS with credentials minted from that server's cluster CA (--server-data-dir, on the same machine).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ensurePKI } from '../apiserver/pki.js';
import { parseProxyMode } from '../proxy/proxy.js';
import { startComponent, type Started } from './components.js';
import { FlagError, flagHelp, parseFlags } from './flags.js';
import { agent, agentOptions, clusterDns, dnsOptions } from './node-components.js';

const FLAGS = {
  'server-data-dir': { type: 'string', default: '/var/lib/k8ts', help: 'the API server\'s data directory: its cluster CA signs this node\'s certificates, its kubeconfig names the server' },
  server: { type: 'string', default: '', help: 'the API server\'s URL (default: the one in <server-data-dir>/kubeconfig.yaml)' },
  'data-dir': { type: 'string', default: '', help: 'directory for the node\'s images, containers and pod volumes (default: --server-data-dir)' },
  'node-name': { type: 'string', default: '', help: 'name of this Node (default: the hostname, lower-cased)' },
  'node-ip': { type: 'string', default: '', help: 'the Node\'s InternalIP (default: the first non-loopback IPv4 address)' },
  'node-netns': { type: 'string', default: '', help: 'run pods and their networking in this network namespace (e.g. /run/netns/X) instead of the machine\'s own' },
  'pod-cidr': { type: 'string', default: '', help: 'use this pod CIDR instead of the one the controller manager gives the node' },
  'kubelet-port': { type: 'number', default: 10250, help: 'port of the kubelet\'s HTTPS server (logs, exec, port-forward, stats); 0 picks a free one' },
  'proxy-mode': { type: 'string', default: 'nftables', help: 'service proxy backend: nftables, iptables or none' },
  'ingress-http-port': { type: 'number', default: 80, help: 'port of the Ingress controller\'s HTTP listener on this node; 0 disables it' },
  'ingress-https-port': { type: 'number', default: 443, help: 'port of the Ingress controller\'s HTTPS listener on this node; 0 disables it' },
  'cluster-domain': { type: 'string', default: 'cluster.local', help: 'the cluster DNS zone' },
  'cluster-dns': { type: 'string', default: '10.43.0.10', help: 'ClusterIP of the kube-dns Service' },
  'disable-dns': { type: 'boolean', default: false, help: 'do not serve cluster DNS on this node\'s pod network gateway' },
  'dns-upstream': { type: 'string', default: '', help: 'resolvers for names outside the cluster: host[:port],… or "none" (default: /etc/resolv.conf)' },
} as const;

/** host and port of an https URL. */
function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  if (u.protocol !== 'https:') throw new FlagError(`invalid --server "${url}" (want https://host:port)`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443) };
}

export async function runAgent(argv: string[]): Promise<void> {
  let f;
  let proxyMode;
  let dns;
  let target: { host: string; port: number };
  try {
    f = parseFlags(FLAGS, argv);
    proxyMode = parseProxyMode(f['proxy-mode']);
    for (const flag of ['ingress-http-port', 'ingress-https-port', 'kubelet-port'] as const) {
      const v = f[flag];
      if (!Number.isInteger(v) || v < 0 || v > 65535) throw new FlagError(`invalid --${flag} ${v} (want 0–65535)`);
    }
    dns = await dnsOptions({ ...f, 'disable-agent': false, 'dns-bind-address': '127.0.0.1', 'dns-port': 0 });
    const serverDir = resolve(f['server-data-dir']);
    // All of the server's PKI files, or ensurePKI below would make a new CA instead of reading the server's.
    const missing = ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'admin.crt', 'admin.key'].filter((n) => !existsSync(join(serverDir, 'pki', n)));
    if (missing.length > 0) throw new FlagError(`--server-data-dir ${serverDir} holds no cluster PKI (missing pki/${missing.join(', pki/')}): start \`k8ts server --data-dir ${serverDir}\` first`);
    let url = f.server;
    if (!url) {
      const kc = join(serverDir, 'kubeconfig.yaml');
      const m = existsSync(kc) ? /^\s*server:\s*(\S+)\s*$/m.exec(readFileSync(kc, 'utf8')) : null;
      if (!m) throw new FlagError(`no --server given and ${kc} names none`);
      url = m[1]!;
    }
    target = hostPort(url);
  } catch (e) {
    if (e instanceof FlagError && e.message === 'help') {
      console.log(`Usage: k8ts agent [flags]\n\nFlags:\n${flagHelp(FLAGS)}`);
      return;
    }
    console.error(`k8ts agent: ${(e as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const serverDir = resolve(f['server-data-dir']);
  const dataDir = resolve(f['data-dir'] || serverDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Every PKI file exists (checked above): ensurePKI only reads them.
  const pki = await ensurePKI(serverDir, [target.host]);
  const nodeName = (f['node-name'] || hostname()).toLowerCase();
  const netns = f['node-netns'] ? { netns: f['node-netns'] } : {};

  const started: Array<Promise<Started | undefined>> = [];
  const launch = (spec: Parameters<typeof startComponent>[0]): Promise<Started | undefined> =>
    startComponent(spec, serverDir, pki, target.host, target.port).catch((e: unknown) => {
      console.error(`k8ts agent: ${spec.name} failed to start: ${(e as Error).message}`);
      process.exitCode = 1;
      return undefined;
    });
  // Each node serves cluster DNS on its own pod network gateway (the kube-dns endpoints are per node).
  if (dns) started.push(launch(clusterDns({ ...dns, node: { name: nodeName, ...netns } })));
  const kubelet = agent(agentOptions(f, { dataDir, nodeName, proxyMode, dns: dns !== undefined }), pki, serverDir);
  // Its own client certificate file per node (the server's in-process agent keeps `kubelet`).
  started.push(launch({ ...kubelet, certFile: `kubelet-${nodeName}-client` }));
  await Promise.all(started);
  console.log(`k8ts: agent for node ${nodeName} started against https://${target.host}:${target.port}`);

  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`k8ts: ${sig} received, agent shutting down`);
    setTimeout(() => process.exit(1), 5000).unref();
    void Promise.all(started.map((p) => p.then((c) => c?.stop()))).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
