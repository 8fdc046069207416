// Scheduler throughput (issue 3): N nodes and M pending pods, scheduled in-process on the fake client (so the
// number is the scheduler's own cost: queue, filters on the adaptive share of nodes, scores, assume, bind call).
// Reports pods/s from informer sync to the last binding, median of runs; upstream scheduler_perf's threshold
// for 5,000 nodes / 10,000 pods (SchedulingBasic) is 680 pods/s.
//
//   node dist/bench/scheduler.js [--nodes 5000] [--pods 10000] [--runs 3]

import { Scheduler } from '../src/scheduler/index.js';
import { FakeClusterClient, makeNode, makePod } from '../src/scheduler/testing.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

async function once(nodes: number, pods: number): Promise<number> {
  const c = new FakeClusterClient();
  for (let i = 0; i < nodes; i++) c.seed('nodes', makeNode(`node-${i}`, { cpu: '4', memory: '32Gi', pods: 110, labels: { 'topology.kubernetes.io/zone': `zone-${i % 3}` } }));
  for (let i = 0; i < pods; i++) c.seed('pods', makePod(`pod-${i}`, { cpu: '100m', memory: '500Mi' }));
  let bound = 0;
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  const s = new Scheduler(c, {
    statusPatch: 'merge',
    onBound: () => {
      if (++bound === pods) resolve();
    },
  });
  const done = s.run();
  await s.synced;
  const t0 = performance.now();
  await all;
  const secs = (performance.now() - t0) / 1000;
  await s.stop();
  await done;
  return pods / secs;
}

const nodes = arg('nodes', 5000);
const pods = arg('pods', 10000);
const runs = arg('runs', 3);
const rates: number[] = [];
for (let r = 0; r < runs; r++) {
  const rate = await once(nodes, pods);
  rates.push(rate);
  console.log(`run ${r + 1}: ${rate.toFixed(0)} pods/s`);
}
rates.sort((a, b) => a - b);
console.log(JSON.stringify({ bench: 'scheduler', nodes, pods, runs, medianPodsPerSecond: Math.round(rates[Math.floor(rates.length / 2)]), all: rates.map(Math.round), upstreamThreshold: 680 }));
