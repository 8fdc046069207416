// Plumbing for the workload benchmarks (issue 3: bench/deployment.ts, bench/scale-rss.ts): a real `k8ts server
// --simulate-nodes N` with its controllers and scheduler in-process, watches that keep a namespace's objects and
// resolve a promise when a predicate over them holds, server memory from /proc, and a CPU profile summarised by
// component. Everything stays on 127.0.0.1.

import { readdirSync, readFileSync } from 'node:fs';
import { round, sleep, startServer, type Client, type RunningServer, type StartServerOptions } from './lib.js';

/** VmRSS and VmHWM (peak RSS) of a process, in MB. */
export function procMem(pid: number): { rssMB: number; hwmMB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
  return { rssMB: round(kb('VmRSS') / 1024, 1), hwmMB: round(kb('VmHWM') / 1024, 1) };
}

/** ESTABLISHED TCP connections whose local port is `port` (the server's side of its clients' connections). */
export function serverConnections(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[1]!.endsWith(`:${hex}`) && cols[3] === '01') n++;
    }
  }
  return n;
}

/** The 1/5/15-minute load averages as `uptime` shows them. */
export function loadAvg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' / ');
}

/**
 * The store's current revision (a list's resourceVersion is the revision it was read at): the difference between
 * two readings is the number of writes in between, of every kind (including Leases and Events).
 */
export async function storeRevision(client: Client): Promise<number> {
  const r = await client.req('GET', '/api/v1/namespaces?limit=1');
  return Number((JSON.parse(r.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
}

export interface Cluster {
  server: RunningServer;
  /** Server RSS right after the ready line, before any node registered. */
  idle: { rssMB: number; hwmMB: number };
  /** Milliseconds from the ready line until the server logged every simulated node registered. */
  nodesRegisteredMs: number;
  /** Server RSS once the nodes are registered and the components have settled (2 s later). */
  withNodes: { rssMB: number; hwmMB: number };
}

/**
 * Starts `k8ts server --simulate-nodes N` (controllers and scheduler on, as a user runs it) and waits — by
 * reading the server's own log, not by polling the API — until every node is registered, then checks that all N
 * report Ready.
 */
export async function startCluster(nodes: number, opts: StartServerOptions & { nodePods?: number; settleMs?: number } = {}): Promise<Cluster> {
  const extra = ['--simulate-nodes', String(nodes), ...(opts.nodePods ? ['--simulate-node-pods', String(opts.nodePods)] : []), ...(opts.extraArgs ?? [])];
  const server = await startServer({ ...opts, extraArgs: extra });
  const idle = procMem(server.pid);
  const t0 = performance.now();
  const deadline = Date.now() + 600_000;
  while (!/simulated nodes registered in \d+ ms/.test(server.log())) {
    if (/simulated nodes failed/.test(server.log()) || Date.now() > deadline) throw new Error(`simulated nodes did not register:\n${server.log().slice(-2000)}`);
    await sleep(50);
  }
  const nodesRegisteredMs = performance.now() - t0;
  await sleep(opts.settleMs ?? 2000);
  const list = JSON.parse((await server.client.req('GET', '/api/v1/nodes')).body) as { items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> };
  const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  if (ready !== nodes) throw new Error(`${ready} of ${nodes} nodes Ready`);
  return { server, idle, nodesRegisteredMs, withNodes: procMem(server.pid) };
}

export interface Obj {
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; resourceVersion?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/**
 * One watch kept as a name → object map (DELETED removes). `until(pred)` resolves the first time pred holds
 * after an event (or at once); the predicate runs on every event, so keep it O(1) with counters from `onEvent`.
 */
export class ObjectWatch {
  readonly objects = new Map<string, Obj>();
  readonly opened: Promise<void>;
  events = 0;
  private waiters: Array<{ pred: () => boolean; resolve: () => void }> = [];
  private readonly close: () => void;
  private failure: Error | undefined;

  constructor(
    client: Client,
    path: string,
    private readonly onEvent?: (type: string, obj: Obj, old: Obj | undefined) => void,
  ) {
    let open!: () => void;
    this.opened = new Promise((r) => (open = r));
    this.close = client.watch(
      `${path}${path.includes('?') ? '&' : '?'}watch=true`,
      (ev) => {
        const o = ev.object as Obj;
        if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') return;
        this.events++;
        const old = this.objects.get(o.metadata.name);
        if (ev.type === 'DELETED') this.objects.delete(o.metadata.name);
        else this.objects.set(o.metadata.name, o);
        this.onEvent?.(ev.type, o, old);
        this.check();
      },
      open,
      (e) => {
        this.failure = e ?? new Error(`watch ${path} ended`);
        for (const w of this.waiters) w.resolve();
      },
    );
  }

  private check(): void {
    if (!this.waiters.length) return;
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once pred() holds; rejects after timeoutMs or if the watch ends first. */
  async until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)), timeoutMs).unref();
      this.waiters.push({ pred, resolve });
    });
    clearTimeout(timer);
    if (this.failure && !pred()) throw new Error(`${what}: ${this.failure.message}`);
  }

  stop(): void {
    this.close();
  }
}

// ---- CPU profile by component -----------------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Component of a frame, from the innermost k8ts source frame on its stack (src/<folder>[/<sub>]). */
function componentOf(url: string): string | undefined {
  const m = /\/dist\/src\/([^/]+)(?:\/([^/]+)\/)?/.exec(url);
  if (!m) return undefined;
  if ((m[1] === 'controllers' || m[1] === 'apiserver') && m[2]) return `${m[1]}/${m[2]}`;
  return m[1];
}

/**
 * Cross-cutting categories, decided by the first frame from the leaf upwards that matches one (so JSON.parse in
 * the client counts as client, a TLS record write under the API server's send as socket I/O).
 */
const CATEGORIES: Array<[string, (fn: string, url: string) => boolean]> = [
  ['garbage collector', (f) => f === '(garbage collector)'],
  ['TLS connection setup (contexts, handshakes, peer certificates)', (f, u) => /tls\/secure-context|_tls_common/.test(u) || /^TLSSocket\.(_init|_start|setSession|getPeerCertificate)$|^onhandshake|^SecureContext$|^_finishInit$/.test(f)],
  ['API server: managedFields', (_f, u) => u.includes('/src/api/managedfields/') || u.endsWith('/apiserver/fieldmanager.js')],
  ['API server: storage (SQLite, commit, fsync)', (f, u) => u.includes('/src/storage/') || u.includes('better-sqlite3') || f === 'fsync'],
  ['API server: watch fan-out', (_f, u) => u.endsWith('/apiserver/watch.js')],
  ['API server: validation, defaults, schemas', (_f, u) => u.includes('/src/api/') || u.endsWith('/apiserver/validation.js')],
  ['API server: registry (store, decode, clone)', (_f, u) => u.includes('/apiserver/registry/')],
  ['API server: HTTP edge, admission, auth', (_f, u) => u.includes('/src/apiserver/')],
  ['scheduler', (_f, u) => u.includes('/src/scheduler/')],
  ['controllers', (_f, u) => u.includes('/src/controllers/')],
  ['simulated nodes', (_f, u) => u.includes('/src/simnodes/')],
  ['client: events', (_f, u) => u.endsWith('/client/events.js')],
  ['client: requests, responses, watch decoding', (_f, u) => u.includes('/src/client/')],
  ['socket I/O, TLS records, HTTP parsing (node internals)', (_f, u) => u.startsWith('node:')],
  ['(program)', (f) => f === '(program)'],
];

export interface ProfileSummary {
  busyMs: number;
  /** Busy ms by cross-cutting category (see CATEGORIES). */
  categories: Array<[string, number]>;
  /** Busy ms by the innermost k8ts folder on the stack (self time of libraries and node internals included). */
  byComponent: Array<[string, number]>;
  /** Hottest self-time frames. */
  selfTop: Array<[string, number]>;
  /** Hottest k8ts frames by inclusive time. */
  inclusiveTop: Array<[string, number]>;
}

/** Summarises the one .cpuprofile in dir. */
export function summariseProfile(dir: string): ProfileSummary {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const p = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/dist\//, '').replace(/^.*node_modules\//, '')}:${n.callFrame.lineNumber + 1}`;
  const comp = new Map<number, string>();
  const compOf = (id: number): string => {
    let c = comp.get(id);
    if (c) return c;
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(garbage collector)') c = '(garbage collector)';
    else if (n.callFrame.functionName === '(idle)') c = '(idle)';
    else if (n.callFrame.functionName === '(program)') c = '(program)';
    else c = componentOf(n.callFrame.url) ?? (parent.has(id) ? compOf(parent.get(id)!) : 'node internals (no k8ts frame)');
    comp.set(id, c);
    return c;
  };
  const cat = new Map<number, string>();
  const catOf = (id: number): string => {
    let c = cat.get(id);
    if (c) return c;
    const n = byId.get(id)!;
    c = CATEGORIES.find(([, test]) => test(n.callFrame.functionName, n.callFrame.url))?.[0] ?? (parent.has(id) ? catOf(parent.get(id)!) : 'other');
    cat.set(id, c);
    return c;
  };
  const byCat = new Map<string, number>();
  const byComp = new Map<string, number>();
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const id = p.samples[i]!;
    const c = compOf(id);
    if (c === '(idle)') continue;
    byComp.set(c, (byComp.get(c) ?? 0) + dt);
    const k = catOf(id);
    byCat.set(k, (byCat.get(k) ?? 0) + dt);
    const leaf = name(byId.get(id)!);
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = name(byId.get(cur)!);
      if (seen.has(f) || !f.includes('src/')) continue;
      seen.add(f);
      incl.set(f, (incl.get(f) ?? 0) + dt);
    }
  }
  const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, round(v, 0)] as [string, number]);
  const busyMs = [...byComp.values()].reduce((a, b) => a + b, 0);
  return { busyMs: round(busyMs, 0), categories: top(byCat, 20), byComponent: top(byComp, 20), selfTop: top(self, 25), inclusiveTop: top(incl, 30) };
}
