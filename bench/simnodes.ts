// Simulated nodes at scale: N nodes (default 1,000) registered with Leases → time until all are Ready; P pods
// (default 3,000) bound round-robin → time until all are Running, then deleted (graceful) → time until all are
// gone; then a steady window of lease renewals (100/s at
// 1,000 nodes) with the API server's CPU; RSS of the server and of this process (which runs the component, events
// off). Prints JSON.
// Run: npx tsc -p tsconfig.json && node scripts/gen-openapi.mjs && node --expose-gc dist/bench/simnodes.js
//      [--nodes N] [--pods P] [--steady SECONDS]

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { simulatedNodesFor } from '../src/simnodes/simnodes.js';
import { closedLoop, machine, procCpuMs, round, rssMB, sleep, startServer } from './lib.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const NODES = arg('--nodes', 1000);
const PODS = arg('--pods', 3000);
const STEADY_S = arg('--steady', 20);

/** This process's live heap after a full GC when run with --expose-gc (else the current heap, GC pending). */
function heapMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return round(process.memoryUsage().heapUsed / 2 ** 20, 1);
}

const podBody = (i: number): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p-${i}` },
    spec: { nodeName: `sim-node-${i % NODES}`, containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  });

async function main(): Promise<void> {
  const s = await startServer({ extraArgs: ['--disable-controllers'] });
  try {
    const kc = parse(readFileSync(s.kubeconfig, 'utf8')) as {
      clusters: { cluster: { 'certificate-authority-data': string } }[];
      users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    };
    const b = (x: string) => Buffer.from(x, 'base64').toString();
    const { sim, close } = await simulatedNodesFor(
      { server: s.url, caCert: b(kc.clusters[0].cluster['certificate-authority-data']), clientCert: b(kc.users[0].user['client-certificate-data']), clientKey: b(kc.users[0].user['client-key-data']) },
      { count: NODES, events: false, log: () => {} },
    );
    const rssIdle = { server: rssMB(s.pid), component: round(process.memoryUsage().rss / 2 ** 20, 1) };

    const t0 = performance.now();
    await sim.start();
    const registeredMs = performance.now() - t0;
    const list = JSON.parse((await s.client.req('GET', '/api/v1/nodes')).body) as { items: Array<{ status: { conditions: Array<{ type: string; status: string }> } }> };
    const readyNodes = list.items.filter((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')).length;

    // Pods: count Running from one watch, opened before the first create.
    let running = 0;
    const seen = new Set<string>();
    let allRunning!: () => void;
    const allRunningP = new Promise<void>((r) => (allRunning = r));
    const stopWatch = s.client.watch('/api/v1/namespaces/default/pods?watch=true', (ev) => {
      const o = ev.object as { metadata?: { name?: string }; status?: { phase?: string } };
      if (o.status?.phase === 'Running' && !seen.has(o.metadata?.name ?? '')) {
        seen.add(o.metadata?.name ?? '');
        if (++running === PODS) allRunning();
      }
    });
    await sleep(200);
    const p0 = performance.now();
    const created = await closedLoop(PODS, 32, async (i) => {
      const r = await s.client.req('POST', '/api/v1/namespaces/default/pods', podBody(i), { keepBody: false });
      if (r.status !== 201) throw new Error(`create pod ${i}: ${r.status} ${r.body}`);
    });
    await allRunningP;
    const podsRunningMs = performance.now() - p0;
    stopWatch();
    const heapLoaded = heapMB();
    const rssLoaded = { server: rssMB(s.pid), component: round(process.memoryUsage().rss / 2 ** 20, 1) };

    // Deletion: every pod gets a deletionTimestamp (grace 30 s); the nodes stop them (≤ 500 ms) and delete them.
    let deleted = 0;
    let allDeleted!: () => void;
    const allDeletedP = new Promise<void>((r) => (allDeleted = r));
    const stopDelWatch = s.client.watch('/api/v1/namespaces/default/pods?watch=true&resourceVersion=0', (ev) => {
      if (ev.type === 'DELETED' && ++deleted === PODS) allDeleted();
    });
    await sleep(500);
    const d0 = performance.now();
    const dc = await s.client.req('DELETE', '/api/v1/namespaces/default/pods', { kind: 'DeleteOptions', apiVersion: 'v1' });
    if (dc.status !== 200) throw new Error(`deletecollection: ${dc.status} ${dc.body.slice(0, 200)}`);
    await allDeletedP;
    const podsGoneMs = performance.now() - d0;
    stopDelWatch();

    const cpu0 = procCpuMs(s.pid);
    const self0 = process.cpuUsage();
    await sleep(STEADY_S * 1000);
    const serverCpu = (procCpuMs(s.pid) - cpu0) / (STEADY_S * 1000);
    const selfUse = process.cpuUsage(self0);
    const componentCpu = (selfUse.user + selfUse.system) / 1000 / (STEADY_S * 1000);

    const result = {
      nodes: NODES,
      pods: PODS,
      nodesRegisteredWithLeasesMs: round(registeredMs, 0),
      readyNodes,
      podCreatesPerSec: round(created.opsPerSec, 0),
      podsAllRunningMs: round(podsRunningMs, 0),
      podsDeletedAndGoneMs: round(podsGoneMs, 0),
      steady: { seconds: STEADY_S, leaseRenewalsPerSec: round(NODES / 10, 0), serverCpuCores: round(serverCpu, 3), componentCpuCores: round(componentCpu, 3) },
      rssMB: { idle: rssIdle, loaded: rssLoaded, afterDeletion: { server: rssMB(s.pid), component: round(process.memoryUsage().rss / 2 ** 20, 1) } },
      componentHeapMB: { loaded: heapLoaded, afterDeletion: heapMB() },
      machine: machine(),
    };
    console.log(JSON.stringify(result, null, 2));
    await sim.stop();
    close();
  } finally {
    await s.stop();
    s.cleanup();
  }
}

await main();
