// Where the API server spends CPU on the create path: runs `k8ts server` under `node --cpu-prof`, drives 1 KB
// ConfigMap creates, then attributes every profile sample to a phase of the request (TLS/HTTP, JSON parse, field
// validation, defaults/validation, managedFields, storage, response encoding, GC, …) and lists the hottest
// functions. Or analyse an existing profile: `node dist/bench/profile-create.js --analyse FILE.cpuprofile`.
// With --watchers N, N watches on the namespace are open first and the creates go one every 1/--rate s, to see
// what watch fan-out costs per event.
// Run: node dist/bench/profile-create.js [--count N] [--concurrency C] [--watchers N --rate R] [--datastore URL | --etcd] [--keep]

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdServer } from '../src/storage/testing/etcd-server.js';
import { closedLoop, round, sleep, startServer, withCpu } from './lib.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/**
 * Phases, checked from the leaf frame upwards: the first frame that matches decides the phase, so e.g.
 * JSON.parse called from field validation counts as field validation, and from request decoding as JSON parse.
 */
const PHASES: [string, (fn: string, url: string) => boolean][] = [
  ['managedFields', (_f, u) => u.includes('/api/managedfields/')],
  ['fieldValidation (schema walk of the body)', (_f, u) => u.includes('/api/schema/') || u.includes('/apiserver/validation.js')],
  ['storage driver (sqlite/etcd, incl. native)', (_f, u) => u.includes('/storage/') || u.includes('better-sqlite3') || u.includes('etcd3') || u.includes('@grpc')],
  ['JSON.parse of the request body', (f, u) => u.endsWith('/apiserver/request.js') && (f === 'parseJSON' || f === 'decodeObjectBody')],
  ['readBody (stream → Buffer)', (f, u) => u.endsWith('/apiserver/request.js') && f === 'readBody'],
  ['admission (namespace lookup)', (_f, u) => u.includes('/apiserver/admission')],
  ['kind defaults/validation (ObjectMeta, strategy)', (_f, u) => u.includes('/api/validation/') || u.includes('/api/kinds/')],
  ['encode for storage (JSON.stringify)', (f, u) => u.endsWith('/registry/store.js') && f === 'encode'],
  ['decode stored value (JSON.parse)', (f, u) => u.endsWith('/registry/store.js') && f === 'decode'],
  ['watch: per-watcher encode + write', (_f, u) => u.endsWith('/apiserver/watch.js')],
  ['registry create (uid, timestamps, misc)', (_f, u) => u.endsWith('/registry/store.js')],
  ['response encoding (send)', (f, u) => u.endsWith('/apiserver/server.js') && f === 'send'],
  ['authn/authz', (_f, u) => u.endsWith('/apiserver/auth.js')],
  ['routing/dispatch (URL parse, checkBody)', (_f, u) => u.endsWith('/apiserver/server.js')],
  ['TLS (node:tls, crypto)', (f, u) => /node:(_)?tls|_tls_|node:internal\/tls|node:crypto/.test(u) || /^(encrypt|decrypt|writev|SSL)/.test(f)],
  ['HTTP parser/socket (node:http, net, streams)', (_f, u) => /node:(_http|http|net|internal\/(http|streams|stream_base))/.test(u) || u.startsWith('node:internal/stream')],
  ['garbage collector', (f) => f === '(garbage collector)'],
  ['idle', (f) => f === '(idle)'],
  ['other node internals', (_f, u) => u.startsWith('node:')],
  ['program/native (unattributed)', (f) => f === '(program)' || f === '(root)'],
];

export interface Analysis {
  totalMs: number;
  busyMs: number;
  phases: Record<string, number>;
  /** Hottest self-time frames inside each phase. */
  phaseTop: Record<string, [string, number][]>;
  selfTop: [string, number][];
  inclusiveTop: [string, number][];
}

/** Attribute samples to phases; with `windowUs` only samples taken in [from, to] (CLOCK_MONOTONIC µs) count. */
export function analyse(p: Profile, windowUs?: [number, number]): Analysis {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const phases: Record<string, number> = {};
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const phaseCache = new Map<number, string>();
  const frameName = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/dist\//, '').replace(/^.*node_modules\//, '')}:${n.callFrame.lineNumber + 1}`;
  const phaseOf = (id: number): string => {
    const cached = phaseCache.get(id);
    if (cached) return cached;
    let cur: number | undefined = id;
    let phase = 'other JS (libraries, unattributed)';
    outer: while (cur !== undefined) {
      const n = byId.get(cur)!;
      for (const [name, test] of PHASES) {
        if (test(n.callFrame.functionName, n.callFrame.url)) {
          phase = name;
          break outer;
        }
      }
      cur = parent.get(cur);
    }
    phaseCache.set(id, phase);
    return phase;
  };
  const phaseSelf = new Map<string, Map<string, number>>();
  let total = 0;
  let ts = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    ts += p.timeDeltas[i] ?? 0;
    if (windowUs && (ts < windowUs[0] || ts > windowUs[1])) continue;
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const id = p.samples[i];
    total += dt;
    const ph = phaseOf(id);
    phases[ph] = (phases[ph] ?? 0) + dt;
    const n = byId.get(id)!;
    self.set(frameName(n), (self.get(frameName(n)) ?? 0) + dt);
    let ps = phaseSelf.get(ph);
    if (!ps) phaseSelf.set(ph, (ps = new Map()));
    ps.set(frameName(n), (ps.get(frameName(n)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = frameName(byId.get(cur)!);
      if (seen.has(f)) continue;
      seen.add(f);
      incl.set(f, (incl.get(f) ?? 0) + dt);
    }
  }
  const busy = total - (phases['idle'] ?? 0);
  const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, round(v, 1)] as [string, number]);
  return {
    totalMs: round(total, 0),
    busyMs: round(busy, 0),
    phases: Object.fromEntries(Object.entries(phases).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v, 1)])),
    phaseTop: Object.fromEntries([...phaseSelf.entries()].map(([k, m]) => [k, top(m, 4)])),
    selfTop: top(self, 30),
    inclusiveTop: [...incl.entries()].filter(([k]) => k.includes('src/') || k.includes('better-sqlite3') || k.includes('etcd3')).sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, v]) => [k, round(v, 1)] as [string, number]),
  };
}

function printAnalysis(a: Analysis, creates?: number): void {
  const per = (ms: number) => (creates ? ` ${round((ms * 1000) / creates, 0)} µs/create` : '');
  console.log(`profile: ${a.totalMs} ms sampled, ${a.busyMs} ms busy${per(a.busyMs)}`);
  console.log('\nphase (leaf-upward attribution)                    ms   share of busy');
  for (const [k, v] of Object.entries(a.phases)) {
    if (k === 'idle') continue;
    console.log(`  ${k.padEnd(48)} ${String(v).padStart(8)} ${String(round((100 * v) / a.busyMs, 1)).padStart(6)}%${per(v)}`);
    for (const [f, ms] of a.phaseTop[k] ?? []) console.log(`      ${String(ms).padStart(8)} ms  ${f}`);
  }
  console.log('\nself time, top functions');
  for (const [k, v] of a.selfTop) console.log(`  ${String(v).padStart(8)} ms  ${k}`);
  console.log('\ninclusive time, project/storage functions');
  for (const [k, v] of a.inclusiveTop) console.log(`  ${String(v).padStart(8)} ms  ${k}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const file = arg('--analyse');
  if (file) {
    const w = arg('--window')?.split(',').map(Number) as [number, number] | undefined;
    printAnalysis(analyse(JSON.parse(readFileSync(file, 'utf8')) as Profile, w), arg('--creates') ? Number(arg('--creates')) : undefined);
    return;
  }
  const count = Number(arg('--count') ?? 10_000);
  const c = Number(arg('--concurrency') ?? 64);
  const profDir = mkdtempSync(join(tmpdir(), 'k8ts-prof-'));
  // --etcd: a throwaway local etcd as the datastore.
  const etcd: EtcdServer | undefined = argv.includes('--etcd') ? await startEtcd() : undefined;
  const s = await startServer({ datastore: etcd?.url ?? arg('--datastore'), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=250'] });
  const value = 'x'.repeat(1024);
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let window: [number, number] | undefined;
  let done = 0;
  try {
    await s.client.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prof' } });
    // Warm-up (JIT, module loading), outside the profiled window.
    await closedLoop(500, 16, async (i) => {
      const r = await s.client.req('POST', '/api/v1/namespaces/prof/configmaps', `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"warm-${i}"},"data":{"v":"${value}"}}`, { keepBody: false });
      if (r.status !== 201) throw new Error(`create: ${r.status} ${r.body}`);
    });
    const watchers = Number(arg('--watchers') ?? 0);
    const rate = Number(arg('--rate') ?? 10);
    let delivered = 0;
    // Watchers get their own, empty namespace (no initial ADDED events).
    const ns = watchers ? 'profw' : 'prof';
    if (watchers) await s.client.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const closers: (() => void)[] = [];
    for (let b = 0; b < watchers; b += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, watchers - b) }, () => new Promise<void>((res, rej) => closers.push(s.client.watch('/api/v1/namespaces/profw/configmaps?watch=true', () => void delivered++, res, (e) => e && rej(e))))),
      );
    }
    const from = nowUs();
    const { result, cpuMs } = await withCpu({ server: s.pid }, () =>
      closedLoop(count, watchers ? 1 : c, async (i) => {
        if (watchers) await sleep(1000 / rate);
        const r = await s.client.req('POST', `/api/v1/namespaces/${ns}/configmaps`, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-${i}"},"data":{"v":"${value}"}}`, { keepBody: false });
        if (r.status !== 201) throw new Error(`create: ${r.status} ${r.body}`);
        done++;
      }),
    );
    if (watchers) {
      const deadline = Date.now() + 20_000;
      while (delivered < watchers * count && Date.now() < deadline) await sleep(20);
      for (const close of closers) close();
      console.log(`${watchers} watchers: ${delivered} events delivered; server CPU ${round((cpuMs.server * 1000) / (count * watchers), 1)} µs per delivery`);
    }
    window = [from, nowUs()];
    console.log(`${count} creates at concurrency ${c}: ${round(result.opsPerSec, 0)}/s; server CPU ${round((cpuMs.server * 1000) / count, 0)} µs/create (profiler on), client ${round((cpuMs.client * 1000) / count, 0)} µs/create`);
  } finally {
    await s.stop();
    if (!argv.includes('--keep')) s.cleanup();
    await etcd?.stop();
  }
  const prof = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!prof) throw new Error(`no profile written in ${profDir}`);
  // The window uses CLOCK_MONOTONIC, which V8's profile timestamps share on Linux (same machine).
  printAnalysis(analyse(JSON.parse(readFileSync(join(profDir, prof), 'utf8')) as Profile, window), done);
  if (argv.includes('--keep')) console.log(`\nprofile kept: ${join(profDir, prof)}`);
  else rmSync(profDir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
