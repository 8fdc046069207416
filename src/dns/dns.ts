// Cluster DNS, the component (the role CoreDNS plays in k3s): informers on Services, EndpointSlices and Namespaces
// keep the cluster records, the DNS server answers from them once the caches have synced, and the `kube-dns`
// Service in kube-system (ClusterIP 10.43.0.10 by default, as k3s's CoreDNS manifest) is created if missing. With a
// node agent it also serves inside the node's network namespace, where pods reach it through that Service, with
// CoreDNS's Prometheus metrics on port 9153 of the same address (the Service's `metrics` port).
// A client of the API like any other: it never touches storage or the API server's internals.

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { KubeObject } from '../api/types.js';
import { Informer } from '../client/informer.js';
import { ApiError, type Client } from '../client/interface.js';
import { podCidrGatewayPrefix } from '../runtime/cni/bridge.js';
import { bindUdp, closeTcp, closeUdp, listenTcp } from '../runtime/netns-listen.js';
import { KubeDnsEndpoints } from './endpoints.js';
import { resolve, type DnsConfig } from './answer.js';
import { DnsMetrics, METRICS_CONTENT_TYPE } from './metrics.js';
import { ClusterRecords } from './records.js';
import { DnsServer } from './server.js';
import { resolvConfNameservers, type Upstream } from './upstream.js';
import { ENDPOINTSLICES, NAMESPACES, NODES, SERVICES } from '../client/resources.js';
export { ENDPOINTSLICES, NAMESPACES, SERVICES };

/** CoreDNS kubernetes plugin default TTL. */
export const DEFAULT_TTL = 5;

export interface ClusterDnsOptions {
  /** --cluster-domain; "cluster.local". */
  zone?: string;
  /** --cluster-dns: the kube-dns Service address; "10.43.0.10". */
  clusterDNS?: string;
  /** Where the server listens (--dns-bind-address / --dns-port; port 0 picks a free one). */
  bindAddress: string;
  port: number;
  /** Upstream resolvers; undefined: the host's /etc/resolv.conf nameservers. */
  upstreams?: Upstream[];
  ttl?: number;
  /** Create the kube-dns Service when missing (default true). */
  ensureService?: boolean;
  /** coredns_build_info's version label (the k8ts version); "unknown" when not given. */
  version?: string;
  /**
   * With the node agent: also serve on port 53 of the node's pod network gateway (the CNI bridge's address, the
   * first of the node's pod CIDR) inside the node's network namespace, and publish it as the kube-dns endpoints.
   */
  node?: NodeListenerOptions;
  log?: (msg: string) => void;
}

export interface NodeListenerOptions {
  name: string;
  /** The node's network namespace (--node-netns); undefined: this process's own. */
  netns?: string;
  /** 53. */
  port?: number;
  /** Where /metrics is served on the same address: 9153 (CoreDNS's), 0 any free port. */
  metricsPort?: number;
  /** The address to serve on; default the pod CIDR's gateway, read from the Node. */
  address?: string;
}

/** The gateway the CNI bridge takes in a pod CIDR (host-local's default: the first address), IPv4 only. */
export function podCidrGateway(cidr: string): string | undefined {
  return podCidrGatewayPrefix(cidr)?.gateway;
}

/** The kube-dns Service k3s's CoreDNS manifest declares. */
export function kubeDnsService(clusterIP: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    // Selectorless: the DNS server is no pod; its node listeners publish the endpoints (endpoints.ts).
    spec: {
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilyPolicy: 'SingleStack',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
}

/** GET /metrics: the exposition; anything else 404 (CoreDNS's metrics path is fixed). */
export function metricsServer(metrics: DnsMetrics): HttpServer {
  return createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' }).end(path === '/metrics' ? 'method not allowed\n' : '404 page not found\n');
      return;
    }
    const body = metrics.render();
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

/** The host's resolvers (none if /etc/resolv.conf cannot be read). */
export function hostUpstreams(path = '/etc/resolv.conf'): Upstream[] {
  try {
    return resolvConfNameservers(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

export class ClusterDNS {
  readonly records = new ClusterRecords();
  readonly config: DnsConfig;
  readonly metrics: DnsMetrics;
  private metricsListener: HttpServer | undefined;
  private readonly informers: Informer[];
  private server: DnsServer | undefined;
  private readonly log: (msg: string) => void;
  private stopped = false;
  private ensuring: Promise<void> = Promise.resolve();
  private readonly wakers = new Set<() => void>();
  private nodeEndpoints: KubeDnsEndpoints | undefined;
  private serving: Promise<void> = Promise.resolve();
  /** Where the node listener serves, once it does (metricsPort: where /metrics is, if it could listen). */
  nodeAddress: { ip: string; port: number; metricsPort?: number } | undefined;

  constructor(
    private readonly client: Client,
    private readonly opts: ClusterDnsOptions,
  ) {
    this.log = opts.log ?? (() => undefined);
    this.metrics = new DnsMetrics({ version: opts.version ?? 'unknown', revision: 'k8ts', goversion: `node${process.versions.node}` });
    this.config = { zone: (opts.zone ?? 'cluster.local').replace(/\.$/, '').toLowerCase(), ttl: opts.ttl ?? DEFAULT_TTL, dnsIP: opts.clusterDNS ?? '10.43.0.10' };
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${(e as Error).message}`);
    const services = new Informer(client, SERVICES, { onError: onError('services') });
    const slices = new Informer(client, ENDPOINTSLICES, { onError: onError('endpointslices') });
    const namespaces = new Informer(client, NAMESPACES, { onError: onError('namespaces') });
    const r = this.records;
    services.addEventHandler({ add: (o) => r.upsertService(o), update: (_o, n) => r.upsertService(n), delete: (o) => r.deleteService(o) });
    slices.addEventHandler({ add: (o) => r.upsertSlice(o), update: (_o, n) => r.upsertSlice(n), delete: (o) => r.deleteSlice(o) });
    namespaces.addEventHandler({ add: (o) => r.upsertNamespace(o), update: (_o, n) => r.upsertNamespace(n), delete: (o) => r.deleteNamespace(o) });
    this.informers = [services, slices, namespaces];
  }

  /** Resolves once the node listener serves and its endpoints are published (undefined: none, or stopped first). */
  nodeListening(): Promise<{ ip: string; port: number; metricsPort?: number } | undefined> {
    return this.serving.then(() => this.nodeAddress);
  }

  /** The port the server listens on (after start). */
  get port(): number {
    return this.server?.port ?? 0;
  }

  /** Starts the caches, then listens once they are filled (answers before that would deny existing names). */
  async start(): Promise<void> {
    for (const i of this.informers) i.start();
    if (this.opts.ensureService !== false) this.ensuring = this.ensureKubeDnsService();
    await Promise.all(this.informers.map((i) => i.hasSynced));
    if (this.stopped) return;
    const upstreams = (this.opts.upstreams ?? hostUpstreams()).filter((u) => !(u.port === this.opts.port && u.host === this.opts.bindAddress));
    this.server = new DnsServer({ host: this.opts.bindAddress, port: this.opts.port, upstreams, answer: (q) => resolve(this.records, q, this.config), metrics: this.metrics, log: this.log });
    const port = await this.server.listen();
    this.log(`serving ${this.config.zone} on ${this.opts.bindAddress}:${port} (udp, tcp); upstreams: ${upstreams.map((u) => `${u.host}:${u.port}`).join(', ') || 'none'}`);
    if (this.opts.node) this.serving = this.serveNode(this.server, this.opts.node).catch((e: unknown) => this.log(`node listener: ${(e as Error).message}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.wakers) w();
    await this.serving;
    await this.nodeEndpoints?.stop();
    if (this.metricsListener) {
      this.metricsListener.closeAllConnections();
      await closeTcp(this.metricsListener);
    }
    await this.server?.close();
    await Promise.all(this.informers.map((i) => i.stop()));
    await this.ensuring;
  }

  private async sleep(ms: number): Promise<void> {
    if (this.stopped) return;
    await new Promise<void>((r) => {
      const wake = (): void => {
        clearTimeout(t);
        this.wakers.delete(wake);
        r();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /**
   * The node listener: waits for the node's pod CIDR, then binds UDP and TCP on its gateway in the node's network
   * namespace (retrying while the address does not exist yet: the runtime makes the bridge with it when it learns the
   * pod CIDR, before any pod, runtime/cni/bridge.ts), serves them from `server` and publishes the address as this
   * node's kube-dns endpoints.
   */
  private async serveNode(server: DnsServer, node: NodeListenerOptions): Promise<void> {
    const port = node.port ?? 53;
    let ip = node.address;
    // Every 250 ms for the first 10 s (a fresh node gets its CIDR from node IPAM within a moment), then every 2 s.
    for (let attempt = 0; !ip && !this.stopped; attempt++) {
      try {
        const n = (await this.client.get(NODES, undefined, node.name)) as { spec?: { podCIDR?: string } };
        ip = n.spec?.podCIDR ? podCidrGateway(n.spec.podCIDR) : undefined;
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) this.log(`node ${node.name}: ${(e as Error).message}`);
      }
      if (!ip) await this.sleep(attempt < 40 ? 250 : 2000);
    }
    let logged = '';
    let bound = 0;
    while (ip && !this.stopped) {
      try {
        const udp = await bindUdp(node.netns, ip, port);
        let tcp;
        try {
          // The same port for both (port 0: the one the kernel gave UDP).
          tcp = await listenTcp(node.netns, ip, udp.address().port);
        } catch (e) {
          await closeUdp(udp);
          throw e;
        }
        if (this.stopped) {
          await Promise.all([closeUdp(udp), closeTcp(tcp)]);
          return;
        }
        server.serve(udp, tcp);
        bound = udp.address().port;
        break;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        // EADDRNOTAVAIL: no bridge yet (the agent is starting). Anything else is worth a line (once per distinct error).
        if (err.code !== 'EADDRNOTAVAIL' && err.message !== logged) this.log(`node listener ${ip}:${port}: ${err.message}`);
        logged = err.message;
        await this.sleep(err.code === 'EADDRNOTAVAIL' ? 250 : 2000);
      }
    }
    if (!ip || this.stopped) return;
    const metricsPort = await this.serveMetrics(node, ip);
    if (this.stopped) return;
    this.nodeAddress = { ip, port: bound, ...(metricsPort ? { metricsPort } : {}) };
    this.log(`serving ${this.config.zone} on ${ip}:${bound} in ${node.netns ?? 'the host network namespace'} (udp, tcp)${metricsPort ? `, metrics on :${metricsPort}` : ''}: kube-dns endpoints`);
    this.nodeEndpoints = new KubeDnsEndpoints(this.client, { nodeName: node.name, ip, port: bound, ...(metricsPort ? { metricsPort } : {}), log: this.log });
    await this.nodeEndpoints.start();
  }

  /** Listens for /metrics beside the node listener; undefined when it cannot (logged: DNS works without it). */
  private async serveMetrics(node: NodeListenerOptions, ip: string): Promise<number | undefined> {
    try {
      const srv = metricsServer(this.metrics);
      await listenTcp(node.netns, ip, node.metricsPort ?? 9153, srv);
      if (this.stopped) {
        await closeTcp(srv);
        return undefined;
      }
      this.metricsListener = srv;
      return (srv.address() as { port: number }).port;
    } catch (e) {
      this.log(`metrics listener ${ip}:${node.metricsPort ?? 9153}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Creates kube-system/kube-dns unless it exists (retrying while the API or the namespace is not there yet). */
  private async ensureKubeDnsService(): Promise<void> {
    const svc = kubeDnsService(this.config.dnsIP);
    for (let delay = 200; !this.stopped; delay = Math.min(delay * 2, 10_000)) {
      try {
        const have = (await this.client.get(SERVICES, 'kube-system', 'kube-dns')) as KubeObject & { spec?: { selector?: Record<string, string> } };
        // Made by an older k8ts with the CoreDNS selector: no pod matches, so the endpoint controllers would empty
        // the Endpoints the node listeners publish (endpoints.ts). Selectorless, as the API server's `kubernetes`.
        if (have.spec?.selector && JSON.stringify(have.spec.selector) === JSON.stringify({ 'k8s-app': 'kube-dns' })) {
          const { selector: _drop, ...spec } = have.spec;
          await this.client.update(SERVICES, 'kube-system', { ...have, spec } as KubeObject);
          this.log('kube-dns service: dropped the k8s-app selector (its endpoints come from the DNS server)');
        }
        return;
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) {
          this.log(`kube-dns service: ${(e as Error).message}`);
          await this.sleep(delay);
          continue;
        }
      }
      try {
        await this.client.create(SERVICES, 'kube-system', svc);
        this.log(`created service kube-system/kube-dns (${this.config.dnsIP})`);
        return;
      } catch (e) {
        if (e instanceof ApiError && e.code === 409) return;
        // Invalid (the address is taken, or outside the service range) will not get better by retrying.
        if (e instanceof ApiError && e.code === 422) {
          this.log(`cannot create service kube-system/kube-dns: ${e.message}`);
          return;
        }
        this.log(`kube-dns service: ${(e as Error).message}`);
        await this.sleep(delay);
      }
    }
  }
}
