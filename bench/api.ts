// API server benchmarks (issue: API server and revisioned store): create throughput and latency of 1 KB ConfigMaps
// at concurrency 1/16/64 on SQLite and etcd beside the raw store's own throughput, mutating p99 at a fixed
// 200 writes/s, watch fan-out to 1,000 watchers, cold start and idle RSS. Prints JSON; see BENCHMARKS.md.
// Run: npm run build && node dist/bench/api.js [--quick] [--only sqlite|etcd]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/storage/index.js';
import { startEtcd } from '../src/storage/testing/etcd-server.js';
import { runStoreBench } from './store-raw.js';
import { closedLoop, median, percentile, round, rssMB, startServer, type RunningServer } from './lib.js';

const quick = process.argv.includes('--quick');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const RUNS = quick ? 1 : 3;
const VALUE_1K = 'x'.repeat(1024);

async function ensureNamespace(s: RunningServer, ns: string): Promise<void> {
  const r = await s.client.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  if (r.status !== 201 && r.status !== 409) throw new Error(`namespace ${ns}: ${r.status} ${r.body}`);
}

async function createBench(s: RunningServer, ns: string, concurrency: number, count: number, tag: string) {
  await ensureNamespace(s, ns);
  const { opsPerSec, lat } = await closedLoop(count, concurrency, async (i) => {
    const r = await s.client.req('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${tag}-${i}` }, data: { v: VALUE_1K } });
    if (r.status !== 201) throw new Error(`create: ${r.status} ${r.body}`);
  });
  return { opsPerSec, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

/** Open loop: issue writes at `rate`/s for `seconds`, measuring each one's latency. */
async function fixedRate(s: RunningServer, ns: string, rate: number, seconds: number) {
  await ensureNamespace(s, ns);
  const lat: number[] = [];
  const total = rate * seconds;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      (async () => {
        const st = performance.now();
        const r = await s.client.req('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `rate-${i}` }, data: { v: VALUE_1K } });
        if (r.status !== 201) throw new Error(`create: ${r.status}`);
        lat.push(performance.now() - st);
      })(),
    );
  }
  await Promise.all(pending);
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function watchFanout(s: RunningServer, watchers: number, events: number, rate: number) {
  const ns = 'fanout';
  await ensureNamespace(s, ns);
  const sent = new Map<string, number>();
  const delays: number[] = [];
  let opened = 0;
  const closers: (() => void)[] = [];
  await new Promise<void>((res) => {
    for (let i = 0; i < watchers; i++) {
      closers.push(
        s.client.watch(
          `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${0}`,
          (ev) => {
            const name = ev.object.metadata?.name;
            const t = name ? sent.get(name) : undefined;
            if (ev.type === 'ADDED' && t !== undefined) delays.push(performance.now() - t);
          },
          () => {
            if (++opened === watchers) res();
          },
        ),
      );
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < events; i++) {
    const name = `ev-${i}`;
    sent.set(name, performance.now());
    const r = await s.client.req('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: 'x' } });
    if (r.status !== 201) throw new Error(`create: ${r.status}`);
    await new Promise((r2) => setTimeout(r2, 1000 / rate));
  }
  const deadline = Date.now() + 10_000;
  while (delays.length < watchers * events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const c of closers) c();
  delays.sort((a, b) => a - b);
  return { watchers, events, delivered: delays.length, expected: watchers * events, p50: percentile(delays, 50), p99: percentile(delays, 99) };
}

async function rawStore(url: string) {
  const out: Record<string, { opsPerSec: number; p50Ms: number; p99Ms: number }> = {};
  for (const c of [1, 16, 64]) {
    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const dir = url.startsWith('sqlite') ? mkdtempSync(join(tmpdir(), 'k8ts-raw-')) : undefined;
      const store = await openStore(dir ? `sqlite://${join(dir, 'raw.db')}` : url + `?prefix=/raw-${c}-${r}-${Date.now()}`);
      runs.push(await runStoreBench(store, { concurrency: c, count: c === 1 ? 500 : 3000, valueSize: 1024 }));
      await store.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
    out[`c${c}`] = { opsPerSec: round(median(runs.map((x) => x.opsPerSec)), 0), p50Ms: round(median(runs.map((x) => x.p50Ms))), p99Ms: round(median(runs.map((x) => x.p99Ms))) };
  }
  return out;
}

async function apiCreates(s: RunningServer, label: string) {
  const out: Record<string, { opsPerSec: number; p50Ms: number; p99Ms: number }> = {};
  for (const c of [1, 16, 64]) {
    const runs = [];
    for (let r = 0; r < RUNS; r++) runs.push(await createBench(s, `bench-${label}-c${c}-r${r}`, c, c === 1 ? 500 : quick ? 1000 : 3000, 'cm'));
    out[`c${c}`] = { opsPerSec: round(median(runs.map((x) => x.opsPerSec)), 0), p50Ms: round(median(runs.map((x) => x.p50))), p99Ms: round(median(runs.map((x) => x.p99))) };
  }
  return out;
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = { node: process.version, cpus: (await import('node:os')).cpus().length, runs: RUNS };

  if (!only || only === 'sqlite') {
    // Cold start and idle RSS: first start (PKI generation), then warm restarts of the same data dir.
    const first = await startServer();
    const dataDir = first.dataDir;
    await first.stop();
    const warm: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await startServer({ dataDir });
      warm.push(s.startMs);
      await new Promise((r) => setTimeout(r, 3000));
      rss.push(rssMB(s.proc.pid!));
      await s.stop();
    }
    result.startup = { firstStartMs: round(first.startMs, 0), warmStartMedianMs: round(median(warm), 0), idleRssMedianMB: round(median(rss), 1) };

    const s = await startServer({ dataDir });
    result.sqlite = {
      rawStore: await rawStore('sqlite://'),
      apiCreate: await apiCreates(s, 'sqlite'),
      at200wps: await fixedRate(s, 'rate-sqlite', 200, quick ? 5 : 10).then((x) => ({ p50Ms: round(x.p50), p99Ms: round(x.p99) })),
      watchFanout: await watchFanout(s, 1000, quick ? 20 : 50, 10).then((x) => ({ ...x, p50Ms: round(x.p50), p99Ms: round(x.p99) })),
    };
    await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  if (!only || only === 'etcd') {
    const etcd = await startEtcd();
    try {
      const url = etcd.url;
      const s = await startServer({ datastore: url });
      result.etcd = {
        rawStore: await rawStore(url),
        apiCreate: await apiCreates(s, 'etcd'),
        at200wps: await fixedRate(s, 'rate-etcd', 200, quick ? 5 : 10).then((x) => ({ p50Ms: round(x.p50), p99Ms: round(x.p99) })),
      };
      await s.stop();
      s.cleanup();
    } finally {
      await etcd.stop();
    }
  }
  console.log(JSON.stringify(result, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
