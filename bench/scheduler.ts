// Scheduler throughput (issue 3): N nodes and M pending pods. By default scheduled in-process on the fake client
// (the scheduler's own cost: queue, filters on the adaptive share of nodes, scores, assume, bind call); with
// --server, against a real `k8ts server` (--disable-scheduler) over HTTPS, Node and Pod objects created through
// the API first, so each binding is a real POST pods/NAME/binding plus its watch event and Scheduled Event.
// Reports pods/s from informer sync to the last binding, median of runs, and the CPU each bound pod cost the
// scheduler and the server (robust against other load on the machine); upstream scheduler_perf's threshold
// for 5,000 nodes / 10,000 pods (SchedulingBasic) is 680 pods/s.
//
//   node dist/bench/scheduler.js [--nodes 5000] [--pods 10000] [--runs 3] [--server [--server-cpu-prof DIR]]

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Client } from '../src/client/interface.js';
import { RestClient } from '../src/client/rest.js';
import { Scheduler } from '../src/scheduler/index.js';
import { NODES, PODS } from '../src/scheduler/scheduler.js';
import { FakeClusterClient, makeNode, makePod } from '../src/scheduler/testing.js';
import { closedLoop, MachineLoad, median, procCpuMs, selfCpuMs, startServer } from './lib.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

function sarg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const nodeObj = (i: number) => makeNode(`node-${i}`, { cpu: '4', memory: '32Gi', pods: 110, labels: { 'topology.kubernetes.io/zone': `zone-${i % 3}` } });
const podObj = (i: number) => makePod(`pod-${i}`, { cpu: '100m', memory: '500Mi' });

async function once(nodes: number, pods: number): Promise<Run> {
  const c = new FakeClusterClient();
  for (let i = 0; i < nodes; i++) c.seed('nodes', nodeObj(i));
  for (let i = 0; i < pods; i++) c.seed('pods', podObj(i));
  return await measure(c, pods, 'merge', undefined);
}

async function againstServer(nodes: number, pods: number): Promise<Run> {
  const prof = sarg('server-cpu-prof');
  const srv = await startServer({ extraArgs: ['--disable-controllers', '--disable-scheduler'], nodeArgs: prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [] });
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
    return await measure(client, pods, 'strategic', srv.pid);
  } finally {
    client.close();
    await srv.stop();
    srv.cleanup();
  }
}

interface Run {
  podsPerSecond: number;
  /** CPU per bound pod during the measured phase (µs): this process (the scheduler) and the server. */
  schedulerCpuUs: number;
  serverCpuUs: number;
  /** Share of both cores busy (every process on the machine) during the phase. */
  machineBusy: number;
}

async function measure(c: Client, pods: number, statusPatch: 'merge' | 'strategic', serverPid: number | undefined): Promise<Run> {
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
  const load = new MachineLoad();
  const cpu0 = selfCpuMs();
  const srv0 = serverPid ? procCpuMs(serverPid) : 0;
  const t0 = performance.now();
  const h0 = process.hrtime.bigint();
  await all;
  const secs = (performance.now() - t0) / 1000;
  const run: Run = {
    podsPerSecond: pods / secs,
    schedulerCpuUs: ((selfCpuMs() - cpu0) * 1000) / pods,
    serverCpuUs: serverPid ? ((procCpuMs(serverPid) - srv0) * 1000) / pods : 0,
    machineBusy: load.sample(),
  };
  // The measured phase on the monotonic clock that CPU profiles use (µs), to cut a profile to it.
  if (sarg('server-cpu-prof')) console.log(`  measured phase: ${h0 / 1000n}..${process.hrtime.bigint() / 1000n} µs`);
  await s.stop();
  await done;
  return run;
}

const nodes = arg('nodes', 5000);
const pods = arg('pods', 10000);
const runs = arg('runs', 3);
const all: Run[] = [];
for (let r = 0; r < runs; r++) {
  const run = process.argv.includes('--server') ? await againstServer(nodes, pods) : await once(nodes, pods);
  all.push(run);
  const srvCpu = run.serverCpuUs ? `, server ${run.serverCpuUs.toFixed(0)} µs CPU/pod` : '';
  console.log(`run ${r + 1}: ${run.podsPerSecond.toFixed(0)} pods/s (scheduler ${run.schedulerCpuUs.toFixed(0)} µs CPU/pod${srvCpu}; machine ${(run.machineBusy * 100).toFixed(0)}% busy)`);
}
const med = (f: (r: Run) => number): number => Math.round(median(all.map(f)));
console.log(
  JSON.stringify({
    bench: 'scheduler',
    mode: process.argv.includes('--server') ? 'server' : 'in-process',
    nodes,
    pods,
    runs,
    medianPodsPerSecond: med((r) => r.podsPerSecond),
    all: all.map((r) => Math.round(r.podsPerSecond)),
    medianSchedulerCpuUsPerPod: med((r) => r.schedulerCpuUs),
    medianServerCpuUsPerPod: med((r) => r.serverCpuUs),
    upstreamThreshold: 680,
  }),
);
