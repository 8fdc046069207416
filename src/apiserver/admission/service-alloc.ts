// Service IP and NodePort allocation (upstream's service REST storage allocators + repair loop): each allocated
// ClusterIP or NodePort is a create-if-absent key in the datastore, so two API servers can never hand out the
// same one. Requested values are honoured or refused with upstream's errors; released when the Service goes.

import { invalidError, type FieldError } from '../../api/errors.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import { KeyExistsError, type Store } from '../../storage/interface.js';
import type { AdmissionPlugin, Attributes } from '../admission.js';

const IP_PREFIX = '/registry/k8ts/serviceips/';
const PORT_PREFIX = '/registry/k8ts/servicenodeports/';

export interface ServiceAllocOptions {
  /** IPv4 CIDR, default 10.43.0.0/16 (as k3s). */
  serviceCIDR: string;
  /** Inclusive NodePort range, default 30000-32767. */
  nodePortRange: [number, number];
}

interface Cidr {
  base: number;
  size: number;
  text: string;
}

export function parseCIDR(cidr: string): Cidr {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`invalid service CIDR ${cidr}`);
  const bits = Number(m[5]);
  if (bits < 8 || bits > 30) throw new Error(`service CIDR ${cidr}: prefix must be between /8 and /30`);
  const ip = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const size = 2 ** (32 - bits);
  return { base: ip - (ip % size), size, text: cidr };
}

const ipToString = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
function ipToNumber(s: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

interface Spec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: { nodePort?: number }[];
  externalTrafficPolicy?: string;
  healthCheckNodePort?: number;
  allocateLoadBalancerNodePorts?: boolean;
}

const svcKey = (obj: KubeObject): string => `${obj.metadata.namespace}/${obj.metadata.name}`;

export class ServiceAllocator {
  readonly cidr: Cidr;
  constructor(
    private readonly store: Store,
    readonly opts: ServiceAllocOptions = { serviceCIDR: '10.43.0.0/16', nodePortRange: [30000, 32767] },
  ) {
    this.cidr = parseCIDR(opts.serviceCIDR);
  }

  /** The first usable address (upstream gives it to the `kubernetes` Service). */
  firstIP(): string {
    return ipToString(this.cidr.base + 1);
  }

  private async reserve(key: string, owner: string): Promise<boolean> {
    try {
      await this.store.create(key, JSON.stringify({ owner, at: Date.now() }));
      return true;
    } catch (e) {
      if (e instanceof KeyExistsError) {
        const cur = await this.store.get(key);
        return cur !== null && (JSON.parse(cur.value) as { owner: string }).owner === owner;
      }
      throw e;
    }
  }

  async release(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } catch {
      /* already gone */
    }
  }

  /** Reserve a specific IP or pick a free one. Returns the IP, or a field error message. */
  async allocateIP(owner: string, requested: string | undefined, dryRun: boolean): Promise<{ ip?: string; error?: string }> {
    const { base, size, text } = this.cidr;
    if (requested) {
      const n = ipToNumber(requested);
      if (n === undefined || n <= base || n >= base + size - 1)
        return { error: `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${text}` };
      if (dryRun) return (await this.store.get(IP_PREFIX + requested)) ? { error: `failed to allocate IP ${requested}: provided IP is already allocated` } : { ip: requested };
      return (await this.reserve(IP_PREFIX + requested, owner)) ? { ip: requested } : { error: `failed to allocate IP ${requested}: provided IP is already allocated` };
    }
    // Dynamic allocation uses the upper band first; the lower band is kept for static requests (upstream KEP-3070).
    const staticBand = Math.min(Math.max(16, Math.floor(size / 16)), 256);
    const lo = base + 1 + staticBand;
    const hi = base + size - 2;
    for (let attempt = 0; attempt < 64; attempt++) {
      const ip = ipToString(lo + Math.floor(Math.random() * (hi - lo + 1)));
      if (dryRun ? !(await this.store.get(IP_PREFIX + ip)) : await this.reserve(IP_PREFIX + ip, owner)) return { ip };
    }
    // Dense range: walk it.
    for (let n = base + 1; n <= hi; n++) {
      const ip = ipToString(n);
      if (dryRun ? !(await this.store.get(IP_PREFIX + ip)) : await this.reserve(IP_PREFIX + ip, owner)) return { ip };
    }
    return { error: 'failed to allocate a serviceIP: range is full' };
  }

  async allocatePort(owner: string, requested: number | undefined, dryRun: boolean): Promise<{ port?: number; error?: string }> {
    const [lo, hi] = this.opts.nodePortRange;
    if (requested) {
      if (requested < lo || requested > hi) return { error: `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}` };
      const ok = dryRun ? !(await this.store.get(PORT_PREFIX + requested)) : await this.reserve(PORT_PREFIX + requested, owner);
      return ok ? { port: requested } : { error: 'provided port is already allocated' };
    }
    for (let attempt = 0; attempt < 64; attempt++) {
      const p = lo + Math.floor(Math.random() * (hi - lo + 1));
      if (dryRun ? !(await this.store.get(PORT_PREFIX + p)) : await this.reserve(PORT_PREFIX + p, owner)) return { port: p };
    }
    for (let p = lo; p <= hi; p++) if (dryRun ? !(await this.store.get(PORT_PREFIX + p)) : await this.reserve(PORT_PREFIX + p, owner)) return { port: p };
    return { error: 'range is full' };
  }

  /** What a Service holds: its IP keys and NodePort keys. */
  heldKeys(obj: KubeObject): string[] {
    const s = (obj.spec ?? {}) as Spec;
    const keys: string[] = [];
    for (const ip of s.clusterIPs ?? (s.clusterIP ? [s.clusterIP] : [])) if (ip && ip !== 'None' && ipToNumber(ip) !== undefined) keys.push(IP_PREFIX + ip);
    for (const p of s.ports ?? []) if (p.nodePort) keys.push(PORT_PREFIX + p.nodePort);
    if (s.healthCheckNodePort) keys.push(PORT_PREFIX + s.healthCheckNodePort);
    return keys;
  }

  /** Remove reservations whose Service no longer holds them (after crashes or failed writes). */
  async repair(listServices: () => Promise<KubeObject[]>, graceMs = 60_000): Promise<number> {
    const held = new Set<string>();
    const before = Date.now();
    for (const s of await listServices()) for (const k of this.heldKeys(s)) held.add(k);
    let removed = 0;
    for (const prefix of [IP_PREFIX, PORT_PREFIX]) {
      const { items } = await this.store.list(prefix);
      for (const kv of items) {
        if (held.has(kv.key)) continue;
        // Leave very recent reservations alone: their Service may still be on its way to the store.
        const at = (JSON.parse(kv.value) as { at?: number }).at ?? 0;
        if (before - at < graceMs && at !== 0) continue;
        await this.release(kv.key);
        removed++;
      }
    }
    return removed;
  }
}

function needsNodePorts(s: Spec): boolean {
  return s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
}

function needsHealthCheckPort(s: Spec): boolean {
  return s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
}

/**
 * Admission plugin allocating on create/update — in the reserve phase, after validation, as upstream's service
 * REST storage allocates in BeginCreate/BeginUpdate: an invalid Service never touches the allocation keys — and
 * releasing on delete or failure.
 */
export function serviceAllocation(alloc: ServiceAllocator, servicesDef: () => KindDef | undefined): AdmissionPlugin {
  return {
    name: 'ServiceAllocation',
    async reserve(a: Attributes) {
      if (a.def !== servicesDef() || !a.object || a.subresource) return;
      const obj = a.object;
      const s = (obj.spec ?? {}) as Spec;
      obj.spec = s;
      const owner = svcKey(obj);
      const old = (a.oldObject?.spec ?? {}) as Spec;
      const oldKeys = new Set(a.oldObject ? alloc.heldKeys(a.oldObject) : []);
      const errs: FieldError[] = [];
      const ctx = a.ctx;

      if (s.type !== 'ExternalName' && s.clusterIP !== 'None') {
        const want = s.clusterIP || undefined;
        if (!(a.oldObject && want && want === old.clusterIP)) {
          const r = await alloc.allocateIP(owner, want, a.dryRun);
          if (r.error) errs.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [want ?? ''], detail: r.error });
          else if (r.ip) {
            s.clusterIP = r.ip;
            s.clusterIPs = [r.ip];
          }
        }
      }
      if (needsNodePorts(s)) {
        const ports = s.ports ?? [];
        for (let i = 0; i < ports.length; i++) {
          const p = ports[i];
          if (p.nodePort && oldKeys.has(PORT_PREFIX + p.nodePort)) continue;
          const r = await alloc.allocatePort(owner, p.nodePort, a.dryRun);
          if (r.error) errs.push({ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: p.nodePort ?? 0, detail: r.error });
          else p.nodePort = r.port;
        }
      }
      if (needsHealthCheckPort(s) && !(s.healthCheckNodePort && oldKeys.has(PORT_PREFIX + s.healthCheckNodePort))) {
        const r = await alloc.allocatePort(owner, s.healthCheckNodePort, a.dryRun);
        if (r.error) errs.push({ type: 'FieldValueInvalid', field: 'spec.healthCheckNodePort', value: s.healthCheckNodePort ?? 0, detail: r.error });
        else s.healthCheckNodePort = r.port;
      }
      const newKeys = new Set(alloc.heldKeys(obj));
      const added = [...newKeys].filter((k) => !oldKeys.has(k));
      const dropped = [...oldKeys].filter((k) => !newKeys.has(k));
      if (!a.dryRun && ctx) {
        // Undo what this request reserved if the write does not happen; free what it let go once it does.
        (ctx.onAbort ??= []).push(() => Promise.all(added.map((k) => alloc.release(k))).then(() => undefined));
        (ctx.afterCommit ??= []).push(() => Promise.all(dropped.map((k) => alloc.release(k))).then(() => undefined));
      }
      if (errs.length) {
        if (!a.dryRun) await Promise.all(added.map((k) => alloc.release(k)));
        throw invalidError('', 'Service', obj.metadata.name ?? '', errs);
      }
    },
    async validate(a: Attributes) {
      if (a.def !== servicesDef() || a.operation !== 'DELETE' || !a.oldObject || a.dryRun || !a.ctx) return;
      const keys = alloc.heldKeys(a.oldObject);
      (a.ctx.afterDelete ??= []).push(() => Promise.all(keys.map((k) => alloc.release(k))).then(() => undefined));
    },
  };
}
