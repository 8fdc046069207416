// Ingress routing rules, pure: which Ingresses this controller serves (IngressClass), the host/path table they add up
// to (upstream's Exact and element-wise Prefix semantics, longest path wins), the TLS Secret for an SNI name, and a
// backend's ready endpoints from Services and EndpointSlices.

import type { KubeObject } from '../api/types.js';

/** spec.controller of our IngressClass. */
export const CONTROLLER = 'k8ts.io/ingress';
/** The IngressClass created at start. */
export const CLASS_NAME = 'k8ts';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The pre-IngressClass way of naming a class (still honoured by upstream controllers). */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** A service backend: a Service in the Ingress's namespace and one of its ports (by number or name). */
export interface BackendRef {
  namespace: string;
  service: string;
  port: { number?: number; name?: string };
}

export type PathType = 'Exact' | 'Prefix';

interface PathEntry {
  host: string;
  path: string;
  type: PathType;
  segments: string[];
  /** Undefined for a resource backend (which this controller cannot serve: 503). */
  backend: BackendRef | undefined;
  /** `<ns>/<name>` of the Ingress it came from. */
  ingress: string;
}

export interface RouteTable {
  /** Exact host → its paths. */
  exact: Map<string, PathEntry[]>;
  /** `*.example.com` keyed by `example.com` → its paths. */
  wildcard: Map<string, PathEntry[]>;
  /** Rules without a host: they apply to every request. */
  any: PathEntry[];
  defaultBackend?: { backend: BackendRef | undefined; ingress: string };
}

export interface Match {
  backend: BackendRef | undefined;
  ingress: string;
  /** The rule that matched: host ("" for any), path and type; undefined for the default backend. */
  rule?: { host: string; path: string; type: PathType };
}

interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: RawBackend;
  rules?: Array<{ host?: string; http?: { paths?: Array<{ path?: string; pathType?: string; backend?: RawBackend }> } }>;
  tls?: Array<{ hosts?: string[]; secretName?: string }>;
}
interface RawBackend {
  service?: { name?: string; port?: { number?: number; name?: string } };
  resource?: unknown;
}

const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** The names of the IngressClasses that name our controller, and whether one of them is marked default. */
export function ourClasses(classes: readonly KubeObject[], controller = CONTROLLER): { names: Set<string>; isDefault: boolean } {
  const names = new Set<string>();
  let isDefault = false;
  for (const c of classes) {
    if ((c.spec as { controller?: string } | undefined)?.controller !== controller || !c.metadata?.name) continue;
    names.add(c.metadata.name);
    if (c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') isDefault = true;
  }
  return { names, isDefault };
}

/**
 * Whether we serve this Ingress: its spec.ingressClassName (else the legacy annotation) names one of our classes,
 * or it names none and one of our classes is the default.
 */
export function isOurs(ing: KubeObject, classes: { names: Set<string>; isDefault: boolean }): boolean {
  const named = (ing.spec as IngressSpec | undefined)?.ingressClassName ?? ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  return named ? classes.names.has(named) : classes.isDefault;
}

/** Oldest first (creationTimestamp, then namespace/name): the older Ingress wins a conflict, as upstream controllers do. */
export function byAge(ingresses: readonly KubeObject[]): KubeObject[] {
  return [...ingresses].sort((a, b) => {
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ka = keyOf(a);
    const kb = keyOf(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

function backendRef(namespace: string, b: RawBackend | undefined): BackendRef | undefined {
  const s = b?.service;
  if (!s?.name) return undefined;
  const port: BackendRef['port'] = {};
  if (typeof s.port?.number === 'number' && s.port.number > 0) port.number = s.port.number;
  else if (s.port?.name) port.name = s.port.name;
  return { namespace, service: s.name, port };
}

const segmentsOf = (p: string): string[] => p.split('/').filter((s) => s !== '');

/** Host names compare case-insensitively and without the port (`Host: Example.com:8080` → `example.com`). */
export function normalizeHost(host: string | undefined): string {
  let h = (host ?? '').trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.lastIndexOf(':');
  if (colon >= 0 && h.indexOf(':') === colon) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * The route table of the Ingresses we serve. Paths from every Ingress for one host merge; on an equal host, path and
 * type the oldest Ingress wins; the oldest Ingress with a defaultBackend provides the default.
 */
export function buildRoutes(ingresses: readonly KubeObject[]): RouteTable {
  const table: RouteTable = { exact: new Map(), wildcard: new Map(), any: [] };
  const seen = new Set<string>();
  for (const ing of byAge(ingresses)) {
    const ns = ing.metadata?.namespace ?? '';
    const key = keyOf(ing);
    const spec = (ing.spec ?? {}) as IngressSpec;
    if (spec.defaultBackend && !table.defaultBackend) table.defaultBackend = { backend: backendRef(ns, spec.defaultBackend), ingress: key };
    for (const rule of spec.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      for (const p of rule.http?.paths ?? []) {
        // ImplementationSpecific is ours to define: it behaves as Prefix. An empty path means "/".
        const type: PathType = p.pathType === 'Exact' ? 'Exact' : 'Prefix';
        const path = p.path || '/';
        const id = `${host}|${type}|${type === 'Prefix' ? segmentsOf(path).join('/') : path}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const entry: PathEntry = { host, path, type, segments: segmentsOf(path), backend: backendRef(ns, p.backend), ingress: key };
        if (host === '') table.any.push(entry);
        else {
          const bucket = host.startsWith('*.') ? table.wildcard : table.exact;
          const k = host.startsWith('*.') ? host.slice(2) : host;
          const list = bucket.get(k) ?? [];
          list.push(entry);
          bucket.set(k, list);
        }
      }
    }
  }
  return table;
}

/**
 * Whether a rule path matches a request path. Exact: equal strings (case-sensitive). Prefix: the rule's `/`-separated
 * elements are the first elements of the request's, so `/foo/bar` matches `/foo/bar/baz` but not `/foo/barbaz`,
 * and a trailing slash on either side does not matter.
 */
export function pathMatches(type: PathType, rulePath: string, requestPath: string): boolean {
  if (type === 'Exact') return rulePath === requestPath;
  const rule = segmentsOf(rulePath);
  const req = segmentsOf(requestPath);
  return rule.length <= req.length && rule.every((s, i) => s === req[i]);
}

/** The length that ranks a matching path: longer wins; for equal lengths Exact beats Prefix. */
function rank(e: PathEntry): number {
  const len = e.type === 'Exact' ? e.path.length : `/${e.segments.join('/')}`.length;
  return len * 2 + (e.type === 'Exact' ? 1 : 0);
}

function bestPath(entries: readonly PathEntry[] | undefined, path: string): PathEntry | undefined {
  let best: PathEntry | undefined;
  for (const e of entries ?? []) if (pathMatches(e.type, e.path, path) && (!best || rank(e) > rank(best))) best = e;
  return best;
}

/**
 * Routes one request: the most specific host tier with a matching path (exact host, then `*.` wildcard for exactly
 * one leading label, then rules without a host), its longest matching path; else the default backend; else nothing
 * (404). `path` is the request path without the query string.
 */
export function route(table: RouteTable, host: string | undefined, path: string): Match | undefined {
  const h = normalizeHost(host);
  const dot = h.indexOf('.');
  const tiers = [table.exact.get(h), dot > 0 ? table.wildcard.get(h.slice(dot + 1)) : undefined, table.any];
  for (const tier of tiers) {
    const e = bestPath(tier, path || '/');
    if (e) return { backend: e.backend, ingress: e.ingress, rule: { host: e.host, path: e.path, type: e.type } };
  }
  return table.defaultBackend ? { ...table.defaultBackend } : undefined;
}

/** Whether a TLS host (exact, or `*.example.com` for one label) covers an SNI name. */
export function hostCovers(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  if (!p.startsWith('*.')) return p === name;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot + 1) === p.slice(2);
}

/**
 * The `kubernetes.io/tls` Secret for an SNI name, from spec.tls of the Ingresses we serve: an exact host first, then a
 * wildcard, then an entry that lists no hosts; the oldest Ingress first within each. Undefined: the default cert.
 */
export function tlsSecretFor(ingresses: readonly KubeObject[], serverName: string | undefined): { namespace: string; name: string } | undefined {
  const name = normalizeHost(serverName);
  if (!name) return undefined;
  const tiers: Array<{ namespace: string; name: string } | undefined> = [undefined, undefined, undefined];
  for (const ing of byAge(ingresses)) {
    const ns = ing.metadata?.namespace ?? '';
    for (const t of ((ing.spec ?? {}) as IngressSpec).tls ?? []) {
      if (!t.secretName) continue;
      const hosts = t.hosts ?? [];
      const tier = hosts.length === 0 ? 2 : hosts.some((h) => h.toLowerCase() === name) ? 0 : hosts.some((h) => hostCovers(h, name)) ? 1 : -1;
      if (tier >= 0 && !tiers[tier]) tiers[tier] = { namespace: ns, name: t.secretName };
    }
  }
  return tiers.find((t) => t !== undefined);
}

export interface TargetEndpoint {
  ip: string;
  port: number;
}

export type Resolution =
  | { ok: true; endpoints: TargetEndpoint[] }
  | { ok: false; reason: 'NoBackend' | 'ServiceNotFound' | 'PortNotFound' | 'NoEndpoints' };

interface ServicePort {
  name?: string;
  port?: number;
  protocol?: string;
}

/**
 * A backend's ready endpoints: the Service port named by number (its `port`) or name, then the EndpointSlices of the
 * Service (label kubernetes.io/service-name) for that port name over TCP, endpoints whose `ready` is not false,
 * sorted and deduplicated. `slices` are the Service's slices (or all; others are ignored).
 */
export function resolveBackend(ref: BackendRef | undefined, service: KubeObject | undefined, slices: readonly KubeObject[]): Resolution {
  if (!ref) return { ok: false, reason: 'NoBackend' };
  if (!service) return { ok: false, reason: 'ServiceNotFound' };
  const ports = ((service.spec as { ports?: ServicePort[] } | undefined)?.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP');
  const sp = ref.port.number !== undefined ? ports.find((p) => p.port === ref.port.number) : ports.find((p) => (p.name ?? '') === (ref.port.name ?? ''));
  if (!sp) return { ok: false, reason: 'PortNotFound' };
  const out = new Map<string, TargetEndpoint>();
  for (const s of slices) {
    if (s.metadata?.namespace !== ref.namespace || s.metadata?.labels?.['kubernetes.io/service-name'] !== ref.service) continue;
    const port = ((s as { ports?: ServicePort[] }).ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP') === 'TCP');
    if (typeof port?.port !== 'number') continue;
    for (const e of (s as { endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean } }> }).endpoints ?? []) {
      const ip = e.addresses?.[0];
      if (!ip || e.conditions?.ready === false) continue;
      out.set(`${ip}:${port.port}`, { ip, port: port.port });
    }
  }
  if (out.size === 0) return { ok: false, reason: 'NoEndpoints' };
  return { ok: true, endpoints: [...out.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : compareIP(a.ip, b.ip))) };
}

function compareIP(a: string, b: string): number {
  const n = (ip: string) => (ip.includes(':') ? Number.MAX_SAFE_INTEGER : ip.split('.').reduce((x, o) => x * 256 + Number(o), 0));
  return n(a) - n(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The status.loadBalancer.ingress IPs an Ingress should show: ours, our node's address joins those of other nodes
 * (kept while they are Nodes' addresses); not ours, only our address leaves. Sorted; undefined when nothing changes.
 */
export function statusIPs(current: readonly string[], ours: boolean, selfIP: string, nodeIPs: ReadonlySet<string>): string[] | undefined {
  const want = ours ? [...new Set([...current.filter((ip) => ip !== selfIP && nodeIPs.has(ip)), selfIP])].sort(compareIP) : current.filter((ip) => ip !== selfIP);
  return want.length === current.length && want.every((ip, i) => ip === current[i]) ? undefined : want;
}
