// Cluster DNS, the component (the role CoreDNS plays in k3s): informers on Services, EndpointSlices and Namespaces
// keep the cluster records, the DNS server answers from them once the caches have synced, and the `kube-dns`
// Service in kube-system (ClusterIP 10.43.0.10 by default, as k3s's CoreDNS manifest) is created if missing.
// A client of the API like any other: it never touches storage or the API server's internals.

import { readFileSync } from 'node:fs';
import type { KubeObject } from '../api/types.js';
import { Informer } from '../client/informer.js';
import { ApiError, type Client, type Resource } from '../client/interface.js';
import { resolve, type DnsConfig } from './answer.js';
import { ClusterRecords } from './records.js';
import { DnsServer } from './server.js';
import { resolvConfNameservers, type Upstream } from './upstream.js';
import { ENDPOINTSLICES, NAMESPACES, SERVICES } from '../client/resources.js';
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
  log?: (msg: string) => void;
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
    spec: {
      selector: { 'k8s-app': 'kube-dns' },
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
  private readonly informers: Informer[];
  private server: DnsServer | undefined;
  private readonly log: (msg: string) => void;
  private stopped = false;
  private ensuring: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: Client,
    private readonly opts: ClusterDnsOptions,
  ) {
    this.log = opts.log ?? (() => undefined);
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
    this.server = new DnsServer({ host: this.opts.bindAddress, port: this.opts.port, upstreams, answer: (q) => resolve(this.records, q, this.config), log: this.log });
    const port = await this.server.listen();
    this.log(`serving ${this.config.zone} on ${this.opts.bindAddress}:${port} (udp, tcp); upstreams: ${upstreams.map((u) => `${u.host}:${u.port}`).join(', ') || 'none'}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.server?.close();
    await Promise.all(this.informers.map((i) => i.stop()));
    await this.ensuring;
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
    this.wake = undefined;
  }

  /** Creates kube-system/kube-dns unless it exists (retrying while the API or the namespace is not there yet). */
  private async ensureKubeDnsService(): Promise<void> {
    const svc = kubeDnsService(this.config.dnsIP);
    for (let delay = 200; !this.stopped; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.client.get(SERVICES, 'kube-system', 'kube-dns');
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
