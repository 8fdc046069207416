// kube-proxy as a client of the API: Service and EndpointSlice informers → the pure desired-rules model → one
// backend (nftables by default, iptables), synced at most every minSyncIntervalMs and soon after any change, run in
// the node's network namespace, and removed on stop().

import { Informer } from '../client/informer.js';
import { run } from '../runtime/command.js';
import type { Client } from '../client/interface.js';
import { ENDPOINTSLICES, SERVICES } from '../client/resources.js';
import type { Backend, SyncResult } from './backend.js';
import { IptablesBackend } from './iptables.js';
import { desiredRules } from './model.js';
import { NftablesBackend } from './nftables.js';

export type ProxyMode = 'nftables' | 'iptables';

export interface ServiceProxyOptions {
  client: Client;
  nodeName: string;
  /** The node's addresses: NodePorts answer on these (IPv4 only). */
  nodeIPs: string[];
  /** The node's network namespace (a path for `nsenter --net=`); default: the current one. */
  netns?: string;
  mode: ProxyMode;
  log?: (msg: string) => void;
  /** Minimum time between two syncs (upstream's minSyncPeriod); default 200 ms. */
  minSyncIntervalMs?: number;
  /** Called after each successful sync (tests and benchmarks). */
  onSync?: (r: SyncResult & { ms: number }) => void;
}

/** --proxy-mode: the backend, or "none" (no service proxy on this node). */
export function parseProxyMode(s: string): ProxyMode | 'none' {
  if (s === 'nftables' || s === 'iptables' || s === 'none') return s;
  throw new Error(`invalid --proxy-mode "${s}" (want nftables, iptables or none)`);
}

export function makeBackend(mode: ProxyMode, nodeIPs: readonly string[], netns?: string): Backend {
  return mode === 'iptables' ? new IptablesBackend({ nodeIPs, netns }) : new NftablesBackend({ nodeIPs, netns });
}

export class ServiceProxy {
  private readonly services: Informer;
  private readonly slices: Informer;
  private readonly backend: Backend;
  private readonly minInterval: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private lastSync = 0;
  private stopped = false;
  private started = false;
  private failures = 0;
  private stoppedSignal!: () => void;
  private readonly stopping = new Promise<void>((r) => (this.stoppedSignal = r));

  constructor(private readonly opts: ServiceProxyOptions) {
    this.services = new Informer(opts.client, SERVICES);
    this.slices = new Informer(opts.client, ENDPOINTSLICES);
    this.backend = makeBackend(opts.mode, opts.nodeIPs, opts.netns);
    this.minInterval = opts.minSyncIntervalMs ?? 200;
    const changed = { add: () => this.requestSync(), update: () => this.requestSync(), delete: () => this.requestSync() };
    this.services.addEventHandler(changed);
    this.slices.addEventHandler(changed);
  }

  /** Starts the informers; resolves after the first sync has been applied. */
  async start(): Promise<void> {
    this.started = true;
    this.services.start();
    this.slices.start();
    await Promise.race([Promise.all([this.services.hasSynced, this.slices.hasSynced]), this.stopping]);
    if (this.stopped) return;
    // NodePorts on a loopback node address (upstream's localhost NodePorts): DNAT of a 127.0.0.0/8 source to a pod
    // needs route_localnet, which kube-proxy sets too; the masquerade rules rewrite the source on the way out.
    if (this.opts.nodeIPs.some((ip) => ip.startsWith('127.'))) {
      const r = await run('sysctl', ['-w', 'net.ipv4.conf.all.route_localnet=1'], { netns: this.opts.netns });
      if (r.code !== 0) this.opts.log?.(`proxy: localhost NodePorts unavailable: sysctl route_localnet: ${r.stderr.trim()}`);
    }
    this.dirty = true;
    await this.runSync();
  }

  /** Stops syncing and removes every rule this proxy installed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stoppedSignal();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all([this.services.stop(), this.slices.stop()]);
    await this.running;
    await this.backend.cleanup();
  }

  private requestSync(): void {
    this.dirty = true;
    if (!this.started || this.stopped || this.timer || this.running || !this.services.isSynced || !this.slices.isSynced) return;
    const wait = Math.max(0, this.lastSync + this.minInterval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runSync();
    }, wait);
  }

  private async runSync(): Promise<void> {
    if (this.running || this.stopped || !this.dirty) return;
    this.dirty = false;
    this.running = (async () => {
      const began = Date.now();
      try {
        const rules = desiredRules(this.services.list(), this.slices.list(), this.opts.nodeName);
        const r = await this.backend.sync(rules);
        this.failures = 0;
        this.opts.onSync?.({ ...r, ms: Date.now() - began });
      } catch (e) {
        this.failures++;
        this.dirty = true;
        this.opts.log?.(`proxy: ${this.backend.name} sync failed: ${(e as Error).message}`);
      } finally {
        this.lastSync = Date.now();
      }
    })();
    await this.running;
    this.running = undefined;
    if (this.dirty && !this.stopped) {
      if (this.failures > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.runSync();
        }, Math.min(30_000, this.minInterval * 2 ** this.failures));
      } else this.requestSync();
    }
  }
}
