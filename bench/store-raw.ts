// Raw storage benchmark: create throughput and p50/p99 latency of 1 KB values at concurrency 1/16/64 on SQLite
// (synchronous=FULL, the default, and NORMAL for comparison) and on a real local etcd (the store's guarded create
// and a plain etcd3 put); prints a JSON summary of medians over several runs.
// Run: npm run build && node dist/bench/store-raw.js [--runs N] [--only sqlite|etcd] [--quick]
// runStoreBench()/etcdPutTarget() are also used by bench/api.ts to put the raw store beside the API-level numbers.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Etcd3 } from 'etcd3';
import { openStore, type OpenStoreOptions } from '../src/storage/index.js';
import type { Store } from '../src/storage/interface.js';
import { startEtcd } from '../src/storage/testing/etcd-server.js';

export interface StoreBenchOptions {
  /** Writers issuing creates back to back. */
  concurrency: number;
  /** Total creates (excluding a short warm-up). */
  count: number;
  /** Value size in bytes. */
  valueSize: number;
  /** Key prefix; default a fresh unique one so repeated runs on one store never collide. */
  keyPrefix?: string;
}

export interface StoreBenchResult {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of this process per create, µs (the driver's own cost: SQLite in-process, or the etcd gRPC client). */
  cpuUsPerOp: number;
}

/** What runStoreBench drives: a Store, or anything else with a create-like call (e.g. a plain etcd put). */
export type CreateTarget = Pick<Store, 'create'> | { create(key: string, value: string): Promise<unknown> };

/** A plain etcd3 `put` (no compare) under `prefix`, the floor any etcd-backed create can reach. */
export function etcdPutTarget(endpoint: string, prefix: string): { create(key: string, value: string): Promise<unknown>; close(): void } {
  const client = new Etcd3({ hosts: [endpoint] });
  return {
    create: (key, value) => client.put(prefix + key).value(value).exec(),
    close: () => client.close(),
  };
}

/** `concurrency` writers create `count` distinct keys with `valueSize`-byte values; latency is per create call. */
export async function runStoreBench(store: CreateTarget, opts: StoreBenchOptions): Promise<StoreBenchResult> {
  const { concurrency, count, valueSize } = opts;
  if (!(concurrency >= 1 && count >= 1 && valueSize >= 0)) throw new RangeError('bad store bench options');
  const value = 'x'.repeat(valueSize);
  const prefix = opts.keyPrefix ?? `/bench/${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}/`;
  // Warm-up (statement caches, connections, first pages); not measured.
  const warm = Math.min(50, count);
  await Promise.all(Array.from({ length: warm }, (_, i) => store.create(`${prefix}warm/${i}`, value)));

  const lat = new Float64Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const t = performance.now();
      await store.create(`${prefix}${i}`, value);
      lat[i] = performance.now() - t;
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  lat.sort();
  return {
    opsPerSec: count / (elapsed / 1000),
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    cpuUsPerOp: (cpu.user + cpu.system) / count,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

type Summary = Record<string, StoreBenchResult & { runs: number[] }>;

async function series(open: (run: number) => Promise<{ store: CreateTarget; done: () => Promise<void> }>, runs: number, counts: Record<number, number>): Promise<Summary> {
  const out: Summary = {};
  for (const c of [1, 16, 64]) {
    const rs: StoreBenchResult[] = [];
    for (let r = 0; r < runs; r++) {
      const { store, done } = await open(r);
      try {
        rs.push(await runStoreBench(store, { concurrency: c, count: counts[c]!, valueSize: 1024 }));
      } finally {
        await done();
      }
    }
    out[`c${c}`] = {
      opsPerSec: round(median(rs.map((x) => x.opsPerSec)), 0),
      p50Ms: round(median(rs.map((x) => x.p50Ms))),
      p99Ms: round(median(rs.map((x) => x.p99Ms))),
      cpuUsPerOp: round(median(rs.map((x) => x.cpuUsPerOp)), 0),
      runs: rs.map((x) => round(x.opsPerSec, 0)),
    };
  }
  return out;
}

function sqliteOpener(sqlite: OpenStoreOptions['sqlite']) {
  return async (): Promise<{ store: Store; done: () => Promise<void> }> => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-store-bench-'));
    const store = await openStore(`sqlite://${join(dir, 'bench.db')}`, { sqlite });
    return {
      store,
      done: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const runs = Number(arg('--runs') ?? (quick ? 3 : 5));
  const only = arg('--only');
  const counts: Record<number, number> = quick ? { 1: 300, 16: 2_000, 64: 3_000 } : { 1: 1_000, 16: 5_000, 64: 10_000 };
  const result: Record<string, unknown> = {
    bench: 'store-raw',
    node: process.version,
    cpus: cpus().length,
    valueBytes: 1024,
    runs,
    counts,
  };
  if (only === undefined || only === 'sqlite') {
    result.sqlite = await series(sqliteOpener({ compactIntervalMs: 0 }), runs, counts);
    result.sqliteSynchronousNormal = await series(sqliteOpener({ compactIntervalMs: 0, synchronous: 'NORMAL' }), runs, counts);
  }
  if (only === undefined || only === 'etcd') {
    const etcd = await startEtcd();
    try {
      const stamp = Date.now().toString(36);
      result.etcd = await series(
        async (run) => {
          const store = await openStore(`${etcd.url}?prefix=/bench-${stamp}-${run}`);
          return { store, done: () => store.close() };
        },
        runs,
        counts,
      );
      result.etcdPlainPut = await series(
        async (run) => {
          const t = etcdPutTarget(etcd.endpoint, `/bench-put-${stamp}-${run}`);
          return { store: t, done: async () => t.close() };
        },
        runs,
        counts,
      );
    } finally {
      await etcd.stop();
    }
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
