// Renders the JSON written by bench/api.ts (--out FILE) as the Markdown tables of BENCHMARKS.md: figures, the
// same-run baseline, and the ratio to each target. Run: node dist/bench/report.js FILE.json [FILE2.json …]
// (several files = several sessions: each table gets one block per file, so sessions can be compared).

import { readFileSync } from 'node:fs';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TARGET = { sqliteC64: 5000, p99At200: 25, etcdRatio: 0.5, fanoutP99: 100, readyMs: 1000, idleRssMB: 80 };
const f = (x: unknown, d = 0): string => (typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');
const ok = (good: boolean): string => (good ? 'met' : '**not met**');

function creates(j: J, store: 'sqlite' | 'etcd' | 'sqliteApiServerOnly'): string[] {
  const c = j[store]?.creates;
  if (!c) return [];
  const out: string[] = [];
  if (store !== 'etcd') {
    out.push('| concurrency | API creates/s | p50 ms | p99 ms | raw store creates/s (same run) | API ÷ raw | server CPU µs/create | client CPU µs/create | one-core ceiling ¹ | other load (cores) |');
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const k of ['c1', 'c16', 'c64']) {
      const e = c[k];
      if (!e) continue;
      const a = e.api;
      out.push(`| ${k.slice(1)} | ${f(a.opsPerSec)} | ${f(a.p50Ms, 1)} | ${f(a.p99Ms, 1)} | ${f(e.rawSqlite.opsPerSec)} | ${f(e.ratioTo_rawSqlite, 3)} | ${f(a.cpuUsPerOp.server)} | ${f(a.cpuUsPerOp.client)} | ${f(1e6 / a.cpuUsPerOp.server)} | ${a.otherCores.map((x: number) => f(x, 1)).join(' / ')} |`);
    }
  } else {
    out.push('| concurrency | API creates/s | p50 ms | p99 ms | raw etcd put/s | API ÷ put (target ≥ 0.5) | raw store create/s | API ÷ store create | server CPU µs/create | etcd CPU µs/create | other load (cores) |');
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const k of ['c1', 'c16', 'c64']) {
      const e = c[k];
      if (!e) continue;
      const a = e.api;
      out.push(`| ${k.slice(1)} | ${f(a.opsPerSec)} | ${f(a.p50Ms, 1)} | ${f(a.p99Ms, 1)} | ${f(e.rawEtcdPut.opsPerSec)} | ${f(e.ratioTo_rawEtcdPut, 2)} | ${f(e.rawEtcdStore.opsPerSec)} | ${f(e.ratioTo_rawEtcdStore, 2)} | ${f(a.cpuUsPerOp.server)} | ${f(a.cpuUsPerOp.etcd)} | ${a.otherCores.map((x: number) => f(x, 1)).join(' / ')} |`);
    }
  }
  out.push('', `API creates/s per run — ${['c1', 'c16', 'c64'].filter((k) => c[k]).map((k) => `c${k.slice(1)}: ${(c[k]?.api.runs ?? []).join(', ')}`).join('; ')}.`);
  return out;
}

function render(j: J, label: string): string {
  const m = j.machine ?? {};
  const lines: string[] = [];
  lines.push(`### ${label}`, '');
  lines.push(`${m.date} · ${m.nproc} × ${m.cpuModel} · ${m.memTotalGiB} GiB · Node ${m.node} · load average at start ${(m.loadavg ?? []).join(' / ')}, at end ${(j.machineAtEnd?.loadavg ?? []).join(' / ')} · ${j.runs} run(s) per figure · \`${j.command}\``, '');
  const titles = { sqlite: 'SQLite (default datastore)', sqliteApiServerOnly: 'SQLite, API server alone (`--disable-controllers --disable-scheduler`)', etcd: 'etcd 3.4 (single local member)' };
  for (const store of ['sqlite', 'sqliteApiServerOnly', 'etcd'] as const) {
    const rows = creates(j, store);
    if (rows.length) lines.push(`**Creates, ${titles[store]}** — 1 KB ConfigMaps, closed loop, medians`, '', ...rows, '');
  }
  const rate = ['sqlite', 'etcd'].filter((s) => j[s]?.at200wps);
  if (rate.length) {
    lines.push('**Mutating latency at a fixed 200 creates/s** (open loop, latency from each request\'s scheduled time)', '');
    lines.push('| datastore | p50 ms | p99 ms (median of runs) | p99 per run | max per run | target p99 ≤ 25 ms | p99 ÷ target | server cores used |', '|---|---:|---:|---|---|---|---:|---:|');
    for (const s of rate) {
      const r = j[s].at200wps;
      lines.push(`| ${s} | ${f(r.p50Ms, 1)} | ${f(r.p99Ms, 1)} | ${r.p99Runs.map((x: number) => f(x, 1)).join(', ')} | ${r.maxMsRuns.map((x: number) => f(x, 0)).join(', ')} | ${ok(r.p99Ms <= TARGET.p99At200)} | ${f(r.p99Ms / TARGET.p99At200, 2)} | ${f(r.serverCores, 2)} |`);
    }
    lines.push('');
  }
  const fan = ['sqlite', 'etcd'].filter((s) => j[s]?.watchFanout);
  if (fan.length) {
    lines.push('**Watch fan-out** — 1,000 watches on one namespace, creates at 10/s; delay = create sent → ADDED received', '');
    lines.push('| datastore | delivered | p50 ms | p99 ms | target p99 ≤ 100 ms | p99 ÷ target | server CPU µs/delivery | burst of 100 creates: p50 / p99 ms | opening 1,000 watches | server RSS before → with watches |', '|---|---|---:|---:|---|---:|---:|---|---:|---|');
    for (const s of fan) {
      const w = j[s].watchFanout;
      const cpu = w.rounds.map((r: J) => r.serverCpuUsPerDelivery);
      lines.push(
        `| ${s} | ${w.allDelivered ? 'all' : '**missing events**'} | ${f(w.p50Ms, 1)} | ${f(w.p99Ms, 1)} | ${ok(w.p99Ms <= TARGET.fanoutP99)} | ${f(w.p99Ms / TARGET.fanoutP99, 2)} | ${cpu.map((x: number) => f(x, 1)).join(' / ')} | ${f(w.burst.p50Ms, 0)} / ${f(w.burst.p99Ms, 0)} | ${f(w.openAllMs / 1000, 1)} s | ${f(w.serverRssMB.before, 0)} → ${f(w.serverRssMB.with1000Watchers, 0)} MB |`,
      );
    }
    lines.push('');
  }
  const st = j.startup;
  if (st) {
    lines.push('**Start-up and memory** (SQLite; warm install, existing data dir)', '');
    lines.push('| figure | value | target | ratio to target |', '|---|---:|---:|---:|');
    lines.push(`| first start (new data dir: PKI + database) | ${f(st.firstStartMs)} ms | — | — |`);
    lines.push(`| warm start to ready, median (runs: ${st.readyMs.join(', ')} ms) | ${f(st.readyMedianMs)} ms | ≤ 1,000 ms | ${f(st.readyMedianMs / TARGET.readyMs, 2)} (${ok(st.readyMedianMs <= TARGET.readyMs)}) |`);
    lines.push(`| first authenticated request after ready | ${f(st.firstRequestMedianMs, 1)} ms | — | — |`);
    lines.push(`| idle RSS 3 s after start, median (runs: ${st.idleRssMB.join(', ')}) | ${f(st.idleRssMedianMB, 1)} MB | ≤ 80 MB | ${f(st.idleRssMedianMB / TARGET.idleRssMB, 2)} (${ok(st.idleRssMedianMB <= TARGET.idleRssMB)}) |`);
    const rw = j.sqlite?.restartWithData;
    if (rw) {
      lines.push(`| warm start with the benchmark's data (runs: ${rw.readyMs.join(', ')} ms) | ${f(rw.readyMedianMs)} ms | ≤ 1,000 ms | ${f(rw.readyMedianMs / TARGET.readyMs, 2)} |`);
      lines.push(`| idle RSS after that restart | ${f(rw.idleRssMedianMB, 1)} MB | ≤ 80 MB | ${f(rw.idleRssMedianMB / TARGET.idleRssMB, 2)} |`);
    }
    if (j.sqlite?.idleRssAfterLoadMB) lines.push(`| RSS idle after the whole SQLite workload (same process) | ${f(j.sqlite.idleRssAfterLoadMB, 1)} MB | — | — |`);
    if (j.etcd?.serverReadyMs) lines.push(`| start to ready over etcd | ${f(j.etcd.serverReadyMs)} ms | — | — |`);
    lines.push('');
  }
  return lines.join('\n');
}

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node dist/bench/report.js RESULT.json […]');
  process.exit(2);
}
for (const [i, file] of files.entries()) {
  const j = JSON.parse(readFileSync(file, 'utf8')) as J;
  process.stdout.write(render(j, files.length > 1 ? `Session ${i + 1}` : 'Results') + '\n');
}
