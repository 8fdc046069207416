// Scheduler throughput (issue 3): N nodes and M pending pods. By default scheduled in-process on the fake client
// (the scheduler's own cost: queue, filters on the adaptive share of nodes, scores, assume, bind call); with
// --server, against a real `k8ts server` (--disable-scheduler) over HTTPS, Node and Pod objects created through
// the API first, so each binding is a real POST pods/NAME/binding plus its watch event and Scheduled Event.
// Reports pods/s from informer sync to the last binding, median of runs; upstream scheduler_perf's threshold
// for 5,000 nodes / 10,000 pods (SchedulingBasic) is 680 pods/s.
//
//   node dist/bench/scheduler.js [--nodes 5000] [--pods 10000] [--runs 3] [--server]

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Client } from '../src/client/interface.js';
import { RestClient } from '../src/client/rest.js';
import { Scheduler } from '../src/scheduler/index.js';
import { NODES, PODS } from '../src/scheduler/scheduler.js';
import { FakeClusterClient, makeNode, makePod } from '../src/scheduler/testing.js';
import { closedLoop, startServer } from './lib.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const nodeObj = (i: number) => makeNode(`node-${i}`, { cpu: '4', memory: '32Gi', pods: 110, labels: { 'topology.kubernetes.io/zone': `zone-${i % 3}` } });
const podObj = (i: number) => makePod(`pod-${i}`, { cpu: '100m', memory: '500Mi' });

async function once(nodes: number, pods: number): Promise<number> {
  const c = new FakeClusterClient();
  for (let i = 0; i < nodes; i++) c.seed('nodes', nodeObj(i));
  for (let i = 0; i < pods; i++) c.seed('pods', podObj(i));
  return await measure(c, pods, 'merge');
}

async function againstServer(nodes: number, pods: number): Promise<number> {
  const srv = await startServer({ extraArgs: ['--disable-controllers', '--disable-scheduler'] });
  const kc = parse(readFileSync(srv.kubeconfig, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  const client = new RestClient({
    server: kc.clusters[0].cluster.server,
    caCert: b64(kc.clusters[0].cluster['certificate-authority-data']),
    clientCert: b64(kc.users[0].user['client-certificate-data']),
    clientKey: b64(kc.users[0].user['client-key-data']),
  });
  try {
    const t = performance.now();
    await closedLoop(nodes, 32, async (i) => void (await client.create(NODES, undefined, nodeObj(i))));
    await closedLoop(pods, 32, async (i) => void (await client.create(PODS, 'default', podObj(i))));
    console.log(`  created ${nodes} nodes and ${pods} pods in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return await measure(client, pods, 'strategic');
  } finally {
    client.close();
    await srv.stop();
  }
}

async function measure(c: Client, pods: number, statusPatch: 'merge' | 'strategic'): Promise<number> {
  let bound = 0;
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  const s = new Scheduler(c, {
    statusPatch,
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
  const rate = process.argv.includes('--server') ? await againstServer(nodes, pods) : await once(nodes, pods);
  rates.push(rate);
  console.log(`run ${r + 1}: ${rate.toFixed(0)} pods/s`);
}
rates.sort((a, b) => a - b);
console.log(JSON.stringify({ bench: 'scheduler', mode: process.argv.includes('--server') ? 'server' : 'in-process', nodes, pods, runs, medianPodsPerSecond: Math.round(rates[Math.floor(rates.length / 2)]), all: rates.map(Math.round), upstreamThreshold: 680 }));
