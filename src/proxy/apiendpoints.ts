// The `default/kubernetes` endpoints (upstream: the API server's endpoint reconciler): keeps the Endpoints and the
// EndpointSlice named `kubernetes` pointing at the API server's advertise address and port, so the proxy routes the
// `kubernetes` Service (10.43.0.1:443) to it. Selectorless, so the endpoint controllers leave both alone.

import type { KubeObject } from '../api/types.js';
import { isNotFound, type Client, type Resource } from '../client/interface.js';
import { ENDPOINTS, ENDPOINTSLICES } from '../client/resources.js';

/** The Endpoints and EndpointSlice the reconciler keeps for an API server at ip:port. */
export function kubernetesEndpoints(ip: string, port: number): { endpoints: KubeObject; slice: KubeObject } {
  const ipv6 = ip.includes(':');
  return {
    endpoints: {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
    } as KubeObject,
    slice: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: ipv6 ? 'IPv6' : 'IPv4',
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    } as KubeObject,
  };
}

/** Whether `have` already carries `want`'s content (subsets, or endpoints/ports/addressType, and labels). */
export function sameContent(have: KubeObject, want: KubeObject): boolean {
  const pick = (o: KubeObject) => {
    const x = o as Record<string, unknown>;
    return JSON.stringify([o.metadata?.labels ?? {}, x.subsets ?? null, x.addressType ?? null, x.endpoints ?? null, x.ports ?? null]);
  };
  return pick(have) === pick(want);
}

export interface ApiEndpointsOptions {
  /** The advertise address: an IP that is not loopback (Endpoints refuse 127.0.0.0/8 and ::1). */
  ip: string;
  port: number;
  /** Re-check interval (upstream reconciles every 10 s). */
  intervalMs?: number;
  log?: (m: string) => void;
}

export class ApiEndpointsReconciler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly opts: ApiEndpointsOptions,
  ) {}

  async start(): Promise<void> {
    await this.reconcile();
    const tick = () => {
      if (this.stopped) return;
      this.reconcile()
        .catch((e: unknown) => this.opts.log?.(`kubernetes endpoints: ${(e as Error).message}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs ?? 10_000);
        });
    };
    this.timer = setTimeout(tick, this.opts.intervalMs ?? 10_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Creates or corrects both objects; writes nothing when they already match. */
  async reconcile(): Promise<void> {
    const want = kubernetesEndpoints(this.opts.ip, this.opts.port);
    await this.ensure(ENDPOINTS, want.endpoints);
    await this.ensure(ENDPOINTSLICES, want.slice);
  }

  private async ensure(r: Resource, want: KubeObject): Promise<void> {
    let have: KubeObject | undefined;
    try {
      have = await this.client.get(r, 'default', 'kubernetes');
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!have) {
      await this.client.create(r, 'default', want);
      return;
    }
    if (sameContent(have, want)) return;
    await this.client.update(r, 'default', { ...want, metadata: { ...have.metadata, labels: want.metadata?.labels } });
  }
}
