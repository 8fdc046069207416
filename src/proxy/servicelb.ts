// ServiceLB, the role k3s's service load balancer plays: every `type: LoadBalancer` Service without a
// loadBalancerClass gets `status.loadBalancer.ingress` = the InternalIPs of the Ready nodes (ipMode VIP), and the
// proxy on each node serves the port there (model.ts treats VIP ingress IPs as external addresses, and enforces
// spec.loadBalancerSourceRanges on them, where k3s's svclb pods would).
// Its output is a pure function of Services and Nodes, so concurrent instances agree; still run one per cluster.

import type { KubeObject } from '../api/types.js';
import { Informer } from '../client/informer.js';
import { isNotFound, type Client } from '../client/interface.js';
import { NODES, SERVICES } from '../client/resources.js';
import { runWorkers, WorkQueue } from '../client/workqueue.js';

export interface Ingress {
  ip: string;
  ipMode: 'VIP';
}

/** The ingress list for LoadBalancer services: Ready nodes' InternalIPs, numerically sorted, deduplicated. */
export function lbIngress(nodes: readonly KubeObject[]): Ingress[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    const status = (n.status ?? {}) as { conditions?: Array<{ type?: string; status?: string }>; addresses?: Array<{ type?: string; address?: string }> };
    if (!status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    if ((n.spec as { unschedulable?: boolean } | undefined)?.unschedulable) continue;
    for (const a of status.addresses ?? []) if (a.type === 'InternalIP' && a.address) ips.add(a.address);
  }
  return [...ips].sort(compareIP).map((ip) => ({ ip, ipMode: 'VIP' as const }));
}

function compareIP(a: string, b: string): number {
  const v4 = (s: string) => (s.includes(':') ? 1 : 0);
  if (v4(a) !== v4(b)) return v4(a) - v4(b);
  const pa = a.split(/[.:]/);
  const pb = b.split(/[.:]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = parseInt(pa[i] ?? '0', a.includes(':') ? 16 : 10) || 0;
    const y = parseInt(pb[i] ?? '0', b.includes(':') ? 16 : 10) || 0;
    if (x !== y) return x - y;
  }
  return 0;
}

/** Whether ServiceLB owns this Service's load balancer status. */
export function servedByServiceLB(svc: KubeObject): boolean {
  const spec = (svc.spec ?? {}) as { type?: string; loadBalancerClass?: string };
  return spec.type === 'LoadBalancer' && !spec.loadBalancerClass;
}

/** The status patch that brings `svc` to `want`, or undefined when it already matches. */
export function ingressPatch(svc: KubeObject, want: readonly Ingress[]): unknown {
  const have = ((svc.status as { loadBalancer?: { ingress?: Array<{ ip?: string; ipMode?: string; hostname?: string }> } } | undefined)?.loadBalancer?.ingress ?? []).map(
    (i) => ({ ip: i.ip, ipMode: i.ipMode ?? 'VIP', hostname: i.hostname }),
  );
  const same = have.length === want.length && have.every((h, i) => h.ip === want[i].ip && h.ipMode === 'VIP' && !h.hostname);
  return same ? undefined : { status: { loadBalancer: { ingress: want.length > 0 ? want : null } } };
}

export class ServiceLB {
  private readonly services: Informer;
  private readonly nodes: Informer;
  private readonly queue = new WorkQueue<string>();
  private workers: Promise<void> | undefined;

  constructor(
    private readonly client: Client,
    private readonly log: (m: string) => void = () => undefined,
  ) {
    this.services = new Informer(client, SERVICES);
    this.nodes = new Informer(client, NODES);
    const enqueue = (o: KubeObject) => {
      if (servedByServiceLB(o)) this.queue.add(`${o.metadata?.namespace}/${o.metadata?.name}`);
    };
    this.services.addEventHandler({ add: enqueue, update: (_o, n) => enqueue(n) });
    const all = () => {
      for (const s of this.services.list()) enqueue(s);
    };
    this.nodes.addEventHandler({ add: all, update: (o, n) => (JSON.stringify(o.status) !== JSON.stringify(n.status) ? all() : undefined), delete: all });
  }

  async start(): Promise<void> {
    this.services.start();
    this.nodes.start();
    await Promise.all([this.services.hasSynced, this.nodes.hasSynced]);
    this.workers = runWorkers(this.queue, 1, (k) => this.sync(k), (k, e) => this.log(`servicelb: ${k}: ${(e as Error).message}`));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.services.stop(), this.nodes.stop()]);
    await this.workers;
  }

  private async sync(key: string): Promise<void> {
    const svc = this.services.get(key);
    if (!svc || !servedByServiceLB(svc)) return;
    const patch = ingressPatch(svc, lbIngress(this.nodes.list()));
    if (!patch) return;
    const [ns, name] = key.split('/');
    try {
      await this.client.patch(SERVICES, ns, name, 'application/merge-patch+json', patch, 'status');
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
