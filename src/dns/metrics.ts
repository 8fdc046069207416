// Cluster DNS metrics in the Prometheus text format (0.0.4), named and labelled as CoreDNS 1.11's prometheus and
// forward plugins export them on :9153/metrics (coredns_dns_requests_total, coredns_dns_responses_total, the request
// duration and size histograms, coredns_forward_* per upstream, coredns_panics_total, coredns_build_info).
// A small registry of labelled counters and histograms written here: no Prometheus client library is installed.

import type { Question } from 'dns-packet';

type Labels = Readonly<Record<string, string>>;

/** CoreDNS's plugin.TimeBuckets: 0.25 ms doubling to 8.192 s (16 buckets). */
export const TIME_BUCKETS: readonly number[] = Array.from({ length: 16 }, (_v, i) => 0.00025 * 2 ** i);
/** CoreDNS's message size buckets (bytes). */
export const SIZE_BUCKETS: readonly number[] = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

/** The query types CoreDNS reports by name; every other type is "other". */
const MONITORED_TYPES = new Set(['A', 'AAAA', 'CNAME', 'DNSKEY', 'DS', 'MX', 'NSEC3', 'NSEC', 'NS', 'PTR', 'RRSIG', 'SOA', 'SRV', 'TXT', 'HTTPS', 'IXFR', 'AXFR', 'ANY']);

export function qTypeLabel(type: string | undefined): string {
  return type && MONITORED_TYPES.has(type) ? type : 'other';
}

/** Go's %g-like rendering Prometheus clients use: integers plainly, two-digit exponents, ±Inf and NaN spelled out. */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v).replace(/e([+-])(\d)$/, 'e$10$2');
}

const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** `{a="x",b="y"}` with the label names sorted (as client_golang writes them); '' without labels. */
function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (extra) pairs.push(extra);
  return pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

abstract class Family<S> {
  protected readonly series = new Map<string, { labels: Labels; value: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected abstract fresh(): S;
  protected abstract lines(labels: Labels, value: S): string[];

  /** The series for these label values (created at zero); every declared label must be given, no other. */
  protected at(labels: Labels): S {
    const key = this.labelNames.map((n) => {
      const v = labels[n];
      if (v === undefined) throw new Error(`${this.name}: label ${n} missing`);
      return v;
    });
    if (Object.keys(labels).length !== this.labelNames.length) throw new Error(`${this.name}: labels ${Object.keys(labels).join(',')} ≠ ${this.labelNames.join(',')}`);
    const k = JSON.stringify(key);
    let s = this.series.get(k);
    if (!s) {
      s = { labels: { ...labels }, value: this.fresh() };
      this.series.set(k, s);
    }
    return s.value;
  }

  render(): string {
    if (this.series.size === 0) return '';
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    // Series ordered by their label values taken in label-name order (as client_golang sorts them).
    const names = [...this.labelNames].sort();
    const sortKey = (l: Labels) => names.map((n) => l[n]).join('\u0000');
    const all = [...this.series.values()].map((s) => ({ s, k: sortKey(s.labels) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    for (const { s } of all) out.push(...this.lines(s.labels, s.value));
    return `${out.join('\n')}\n`;
  }
}

/** A counter (or, with `type` gauge, a value that is set). */
export class Counter extends Family<{ v: number }> {
  constructor(name: string, help: string, labelNames: readonly string[], readonly type: 'counter' | 'gauge' = 'counter') {
    super(name, help, labelNames);
  }
  protected fresh() {
    return { v: 0 };
  }
  protected lines(labels: Labels, s: { v: number }): string[] {
    return [`${this.name}${labelText(labels)} ${formatValue(s.v)}`];
  }
  inc(labels: Labels = {}, by = 1): void {
    this.at(labels).v += by;
  }
  set(labels: Labels, v: number): void {
    this.at(labels).v = v;
  }
  /** The current value (0 for a series never touched). */
  get(labels: Labels = {}): number {
    return this.series.get(JSON.stringify(this.labelNames.map((n) => labels[n])))?.value.v ?? 0;
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Family<HistogramState> {
  readonly type = 'histogram' as const;

  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }
  protected fresh(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  protected lines(labels: Labels, s: HistogramState): string[] {
    const out = this.buckets.map((b, i) => `${this.name}_bucket${labelText(labels, ['le', formatValue(b)])} ${s.counts[i]}`);
    out.push(`${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${s.count}`);
    out.push(`${this.name}_sum${labelText(labels)} ${formatValue(s.sum)}`, `${this.name}_count${labelText(labels)} ${s.count}`);
    return out;
  }
  observe(labels: Labels, v: number): void {
    const s = this.at(labels);
    // Cumulative buckets: every bound at or above v counts it.
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }
  /** The number of observations of a series (0 for one never touched). */
  count(labels: Labels): number {
    return this.series.get(JSON.stringify(this.labelNames.map((n) => labels[n])))?.value.count ?? 0;
  }
}

/** What one served query contributes to the metrics. */
export interface QueryReport {
  /** The listener: `dns://<ip>:<port>`. */
  server: string;
  proto: 'udp' | 'tcp';
  /** The client's address family. */
  ipv6: boolean;
  /** The question (undefined: the message had none we could read). */
  question?: Question;
  /** The DO bit was set. */
  dnssecOk: boolean;
  rcode: string;
  /** The plugin CoreDNS would name as the writer: kubernetes, forward, or '' when the server itself answered. */
  plugin: '' | 'kubernetes' | 'forward';
  requestBytes: number;
  responseBytes: number;
  seconds: number;
}

/** The server block every query falls in (k3s's Corefile: `.:53 { … }`); "dropped" when it has no question. */
const ZONE = '.';

export interface BuildInfo {
  version: string;
  revision: string;
  goversion: string;
}

/** The CoreDNS metric set of one cluster DNS instance. */
export class DnsMetrics {
  readonly buildInfo = new Counter('coredns_build_info', "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.", ['version', 'revision', 'goversion'], 'gauge');
  readonly panics = new Counter('coredns_panics_total', 'A metrics that counts the number of panics.', []);
  readonly requests = new Counter('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', ['server', 'zone', 'view', 'proto', 'family', 'type']);
  readonly duration = new Histogram('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', ['server', 'zone', 'view'], TIME_BUCKETS);
  readonly requestSize = new Histogram('coredns_dns_request_size_bytes', 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.', ['server', 'zone', 'view', 'proto'], SIZE_BUCKETS);
  readonly doRequests = new Counter('coredns_dns_do_requests_total', 'Counter of DNS requests with DO bit set per zone.', ['server', 'zone', 'view']);
  readonly responseSize = new Histogram('coredns_dns_response_size_bytes', 'Size of the returned response in bytes.', ['server', 'zone', 'view', 'proto'], SIZE_BUCKETS);
  readonly responses = new Counter('coredns_dns_responses_total', 'Counter of response status codes.', ['server', 'zone', 'view', 'rcode', 'plugin']);
  readonly forwardRequests = new Counter('coredns_forward_requests_total', 'Counter of requests made per upstream.', ['to']);
  readonly forwardResponses = new Counter('coredns_forward_responses_total', 'Counter of responses received per upstream.', ['rcode', 'to']);
  readonly forwardDuration = new Histogram('coredns_forward_request_duration_seconds', 'Histogram of the time each request took.', ['to', 'rcode'], TIME_BUCKETS);
  readonly proxyDuration = new Histogram('coredns_proxy_request_duration_seconds', 'Histogram of the time each request took.', ['proxy_name', 'to', 'rcode'], TIME_BUCKETS);

  constructor(build: BuildInfo) {
    this.buildInfo.set({ ...build }, 1);
    // Present from the start (at 0), as a Go counter without labels is.
    this.panics.inc({}, 0);
  }

  /** One answered query (CoreDNS's vars.Report). */
  query(r: QueryReport): void {
    const zone = r.question ? ZONE : 'dropped';
    const base = { server: r.server, zone, view: '' };
    if (r.dnssecOk) this.doRequests.inc(base);
    this.requests.inc({ ...base, proto: r.proto, family: r.ipv6 ? '2' : '1', type: qTypeLabel(r.question?.type) });
    this.duration.observe(base, r.seconds);
    this.responseSize.observe({ ...base, proto: r.proto }, r.responseBytes);
    this.requestSize.observe({ ...base, proto: r.proto }, r.requestBytes);
    this.responses.inc({ ...base, rcode: r.rcode, plugin: r.plugin });
  }

  /** One exchange with an upstream (`to` = host:port); rcode undefined when it gave no reply (timeout, error). */
  upstream(to: string, rcode: string | undefined, seconds: number): void {
    this.forwardRequests.inc({ to });
    if (rcode === undefined) return;
    this.forwardResponses.inc({ rcode, to });
    this.forwardDuration.observe({ to, rcode }, seconds);
    this.proxyDuration.observe({ proxy_name: 'forward', to, rcode }, seconds);
  }

  panic(): void {
    this.panics.inc();
  }

  /** The exposition, families in name order (as client_golang gathers them). */
  render(): string {
    const families = [this.buildInfo, this.panics, this.requests, this.duration, this.requestSize, this.doRequests, this.responseSize, this.responses, this.forwardRequests, this.forwardResponses, this.forwardDuration, this.proxyDuration];
    return families
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((f) => f.render())
      .join('');
  }
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The rcode names of RFC 1035/6895 as CoreDNS's label spells them (miekg/dns RcodeToString). */
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/** The rcode of a wire-format reply (its low four header bits). */
export function replyRcode(reply: Buffer): string {
  const code = reply.length >= 4 ? reply[3]! & 0x0f : 2;
  return RCODE_NAMES[code] ?? String(code);
}
