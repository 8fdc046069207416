// Deployment rollout end to end (issue 3): a real `k8ts server --simulate-nodes N` (controller manager, scheduler
// and simulated kubelets in-process), a 1,000-replica Deployment created through the API → seconds until every
// pod is Running and the Deployment reports availableReplicas 1,000; then a rolling update (image change, default
// 25%/25%) → seconds until updatedReplicas == availableReplicas == replicas == 1,000 and the old ReplicaSet is at
// 0. Baseline in the same run, on its own fresh server: 1,000 bare pods POSTed by this process (concurrency 32),
// scheduled and started by the same scheduler and nodes → seconds to all Running; the ratio is the ReplicaSet and
// Deployment controllers' overhead. Everything is observed through watches opened before the first write.
// Runs are interleaved (baseline, deployment, baseline, …), each on a fresh server; prints JSON (medians).
//
//   node dist/bench/deployment.js [--nodes 100] [--replicas 1000] [--runs 3] [--concurrency 32]
//                                 [--profile]   (one extra baseline and deployment run each under node --cpu-prof, summarised)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAvg, ObjectWatch, procMem, serverConnections, startCluster, storeRevision, summariseProfile, type Cluster, type Obj } from './cluster.js';
import { closedLoop, machine, median, procCpuMs, round, sleep } from './lib.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const NODES = arg('--nodes', 100);
const REPLICAS = arg('--replicas', 1000);
const RUNS = arg('--runs', 3);
const CONCURRENCY = arg('--concurrency', 32);
const TIMEOUT_MS = 900_000;
const IMAGE_1 = 'registry.k8s.io/pause:3.9';
const IMAGE_2 = 'registry.k8s.io/pause:3.10';

const container = (image: string) => ({ name: 'main', image, resources: { requests: { cpu: '10m', memory: '16Mi' } } });

/** Counts pods Running and not being deleted, per value of one label, from a pod watch's events. */
class RunningCounter {
  readonly running = new Map<string, number>();
  added = 0;
  constructor(private readonly label: string) {}
  private key(o: Obj | undefined): string | undefined {
    if (!o || o.metadata.deletionTimestamp || (o.status as { phase?: string } | undefined)?.phase !== 'Running') return undefined;
    return o.metadata.labels?.[this.label] ?? '';
  }
  onEvent = (type: string, o: Obj, old: Obj | undefined): void => {
    if (type === 'ADDED') this.added++;
    const before = this.key(old);
    const after = type === 'DELETED' ? undefined : this.key(o);
    if (before === after) return;
    if (before !== undefined) this.running.set(before, (this.running.get(before) ?? 0) - 1);
    if (after !== undefined) this.running.set(after, (this.running.get(after) ?? 0) + 1);
  };
  of(v: string): number {
    return this.running.get(v) ?? 0;
  }
}

interface BareRun {
  createSeconds: number;
  createsPerSec: number;
  allRunningSeconds: number;
  serverCpuSeconds: number;
  /** Store writes from the first create to all Running (every kind: pods, bindings, Events, Leases). */
  writes: number;
  /** TCP connections open to the server at the end (in-process components and this process). */
  connections: number;
  load: string;
}

async function bareRun(profileDir?: string): Promise<BareRun> {
  const c = await startCluster(NODES, profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {});
  try {
    const s = c.server;
    const counter = new RunningCounter('app');
    const pods = new ObjectWatch(s.client, '/api/v1/namespaces/default/pods', counter.onEvent);
    await pods.opened;
    const load = loadAvg();
    const cpu0 = procCpuMs(s.pid);
    const rev0 = await storeRevision(s.client);
    const t0 = performance.now();
    const body = (i: number) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `bare-${i}`, labels: { app: 'bare' } }, spec: { containers: [container(IMAGE_1)] } });
    const created = await closedLoop(REPLICAS, CONCURRENCY, async (i) => {
      const r = await s.client.req('POST', '/api/v1/namespaces/default/pods', body(i), { keepBody: false });
      if (r.status !== 201) throw new Error(`create pod ${i}: ${r.status} ${r.body}`);
    });
    await pods.until(() => counter.of('bare') >= REPLICAS, TIMEOUT_MS, `${REPLICAS} bare pods Running`);
    const allRunningSeconds = (performance.now() - t0) / 1000;
    const serverCpuSeconds = (procCpuMs(s.pid) - cpu0) / 1000;
    const writes = (await storeRevision(s.client)) - rev0;
    const connections = serverConnections(Number(new URL(s.url).port));
    pods.stop();
    return { createSeconds: round(created.elapsedMs / 1000, 2), createsPerSec: round(created.opsPerSec, 0), allRunningSeconds: round(allRunningSeconds, 2), serverCpuSeconds: round(serverCpuSeconds, 1), writes, connections, load };
  } finally {
    await c.server.stop();
    c.server.cleanup();
  }
}

interface DeploymentRun {
  nodesRegisteredSeconds: number;
  create: { podsCreatedSeconds: number; podsRunningSeconds: number; availableSeconds: number; serverCpuSeconds: number; writes: number };
  rollout: { newPodsRunningSeconds: number; completeSeconds: number; oldPodsGoneSeconds: number; serverCpuSeconds: number; peakPods: number; writes: number };
  rssMB: { idle: number; withNodes: number; afterCreate: number; end: number; hwm: number };
  watchEvents: { pods: number; deployments: number; replicasets: number };
  /** TCP connections open to the server at the end (in-process components and this process). */
  connections: number;
  load: { start: string; end: string };
}

async function deploymentRun(profileDir?: string): Promise<DeploymentRun> {
  const c: Cluster = await startCluster(NODES, profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {});
  const s = c.server;
  try {
    const counter = new RunningCounter('pod-template-hash');
    let podsNow = 0;
    let peakPods = 0;
    let oldPodsLeft = -1;
    let oldHash = '';
    const pods = new ObjectWatch(s.client, '/api/v1/namespaces/default/pods', (type, o, old) => {
      counter.onEvent(type, o, old);
      if (type === 'ADDED') peakPods = Math.max(peakPods, ++podsNow);
      if (type === 'DELETED') {
        podsNow--;
        if (oldHash && o.metadata.labels?.['pod-template-hash'] === oldHash) oldPodsLeft--;
      }
    });
    const deps = new ObjectWatch(s.client, '/apis/apps/v1/namespaces/default/deployments');
    const rss = new ObjectWatch(s.client, '/apis/apps/v1/namespaces/default/replicasets');
    await Promise.all([pods.opened, deps.opened, rss.opened]);
    const loadStart = loadAvg();

    // ---- create ----
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: REPLICAS, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container(IMAGE_1)] } } },
    };
    const status = () => (deps.objects.get('web')?.status ?? {}) as { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
    const generation = () => deps.objects.get('web')?.metadata.generation ?? 0;
    let cpu0 = procCpuMs(s.pid);
    const rev0 = await storeRevision(s.client);
    const t0 = performance.now();
    const r = await s.client.req('POST', '/apis/apps/v1/namespaces/default/deployments', dep);
    if (r.status !== 201) throw new Error(`create deployment: ${r.status} ${r.body}`);
    const since = (t: number) => round((performance.now() - t) / 1000, 2);
    let podsCreatedSeconds = NaN;
    let podsRunningSeconds = NaN;
    const hashes = () => [...rss.objects.values()].map((x) => x.metadata.labels?.['pod-template-hash'] ?? '');
    void pods.until(() => counter.added >= REPLICAS, TIMEOUT_MS, 'pods created').then(() => (podsCreatedSeconds = since(t0)), () => undefined);
    await pods.until(() => hashes().length === 1 && counter.of(hashes()[0]!) >= REPLICAS, TIMEOUT_MS, `${REPLICAS} pods Running`);
    podsRunningSeconds = since(t0);
    await deps.until(() => status().availableReplicas === REPLICAS && (status().observedGeneration ?? 0) >= generation(), TIMEOUT_MS, 'availableReplicas');
    const availableSeconds = since(t0);
    const createCpu = (procCpuMs(s.pid) - cpu0) / 1000;
    const rev1 = await storeRevision(s.client);
    await sleep(2000);
    const afterCreate = procMem(s.pid).rssMB;

    // ---- rolling update: change the image, as `kubectl set image` does (strategic merge patch) ----
    oldHash = hashes()[0]!;
    oldPodsLeft = REPLICAS;
    peakPods = podsNow;
    cpu0 = procCpuMs(s.pid);
    const rev2 = await storeRevision(s.client);
    const t1 = performance.now();
    const p = await s.client.req('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { spec: { template: { spec: { containers: [{ name: 'main', image: IMAGE_2 }] } } } }, { contentType: 'application/strategic-merge-patch+json' });
    if (p.status !== 200) throw new Error(`patch deployment: ${p.status} ${p.body}`);
    const gen2 = (JSON.parse(p.body) as Obj).metadata.generation ?? 0;
    const newHash = () => hashes().find((h) => h !== oldHash);
    let newPodsRunningSeconds = NaN;
    void pods.until(() => !!newHash() && counter.of(newHash()!) >= REPLICAS, TIMEOUT_MS, 'new pods Running').then(() => (newPodsRunningSeconds = since(t1)), () => undefined);
    const oldRS = () => [...rss.objects.values()].find((x) => x.metadata.labels?.['pod-template-hash'] === oldHash);
    const done = () => {
      const st = status();
      const o = oldRS();
      return (
        (st.observedGeneration ?? 0) >= gen2 &&
        st.updatedReplicas === REPLICAS &&
        st.availableReplicas === REPLICAS &&
        st.replicas === REPLICAS &&
        !!o &&
        (o.spec as { replicas?: number }).replicas === 0 &&
        ((o.status as { replicas?: number } | undefined)?.replicas ?? 0) === 0
      );
    };
    // Completion depends on two watches; whichever event makes it true resolves one of these.
    await Promise.race([deps.until(done, TIMEOUT_MS, 'rollout complete'), rss.until(done, TIMEOUT_MS, 'rollout complete')]);
    const completeSeconds = since(t1);
    await pods.until(() => oldPodsLeft === 0, TIMEOUT_MS, 'old pods gone');
    const oldPodsGoneSeconds = since(t1);
    const rolloutCpu = (procCpuMs(s.pid) - cpu0) / 1000;
    const rev3 = await storeRevision(s.client);
    if (!Number.isFinite(newPodsRunningSeconds)) await pods.until(() => counter.of(newHash()!) >= REPLICAS, TIMEOUT_MS, 'new pods Running');
    await sleep(2000);
    const end = procMem(s.pid);
    const out: DeploymentRun = {
      nodesRegisteredSeconds: round(c.nodesRegisteredMs / 1000, 2),
      create: { podsCreatedSeconds, podsRunningSeconds, availableSeconds, serverCpuSeconds: round(createCpu, 1), writes: rev1 - rev0 },
      rollout: { newPodsRunningSeconds, completeSeconds, oldPodsGoneSeconds, serverCpuSeconds: round(rolloutCpu, 1), peakPods, writes: rev3 - rev2 },
      rssMB: { idle: c.idle.rssMB, withNodes: c.withNodes.rssMB, afterCreate, end: end.rssMB, hwm: end.hwmMB },
      watchEvents: { pods: pods.events, deployments: deps.events, replicasets: rss.events },
      connections: serverConnections(Number(new URL(s.url).port)),
      load: { start: loadStart, end: loadAvg() },
    };
    pods.stop();
    deps.stop();
    rss.stop();
    return out;
  } finally {
    await s.stop();
    s.cleanup();
  }
}

async function main(): Promise<void> {
  const m = machine();
  const bare: BareRun[] = [];
  const dep: DeploymentRun[] = [];
  for (let r = 0; r < RUNS; r++) {
    const b = await bareRun();
    bare.push(b);
    console.error(`run ${r + 1} baseline: ${REPLICAS} bare pods Running in ${b.allRunningSeconds} s (creates ${b.createsPerSec}/s; load ${b.load})`);
    const d = await deploymentRun();
    dep.push(d);
    console.error(
      `run ${r + 1} deployment: available in ${d.create.availableSeconds} s (pods Running ${d.create.podsRunningSeconds} s); rollout complete in ${d.rollout.completeSeconds} s; RSS end ${d.rssMB.end} MB, peak ${d.rssMB.hwm} MB (load ${d.load.start} → ${d.load.end})`,
    );
  }
  const med = (f: (x: DeploymentRun) => number) => round(median(dep.map(f)), 2);
  const bareMed = round(median(bare.map((b) => b.allRunningSeconds)), 2);
  const result: Record<string, unknown> = {
    bench: 'deployment',
    nodes: NODES,
    replicas: REPLICAS,
    runs: RUNS,
    baselineConcurrency: CONCURRENCY,
    median: {
      bareAllRunningSeconds: bareMed,
      createAvailableSeconds: med((d) => d.create.availableSeconds),
      createPodsRunningSeconds: med((d) => d.create.podsRunningSeconds),
      rolloutCompleteSeconds: med((d) => d.rollout.completeSeconds),
      rolloutOldPodsGoneSeconds: med((d) => d.rollout.oldPodsGoneSeconds),
      bareServerCpuSeconds: round(median(bare.map((b) => b.serverCpuSeconds)), 1),
      createServerCpuSeconds: med((d) => d.create.serverCpuSeconds),
      rolloutServerCpuSeconds: med((d) => d.rollout.serverCpuSeconds),
      bareWrites: median(bare.map((b) => b.writes)),
      createWrites: med((d) => d.create.writes),
      rolloutWrites: med((d) => d.rollout.writes),
      endRssMB: med((d) => d.rssMB.end),
      peakRssMB: med((d) => d.rssMB.hwm),
    },
    ratios: {
      createAvailableOverBare: round(median(dep.map((d) => d.create.availableSeconds)) / bareMed, 2),
      rolloutOverBare: round(median(dep.map((d) => d.rollout.completeSeconds)) / bareMed, 2),
      perRun: dep.map((d, i) => ({ create: round(d.create.availableSeconds / bare[i]!.allRunningSeconds, 2), rollout: round(d.rollout.completeSeconds / bare[i]!.allRunningSeconds, 2) })),
    },
    baseline: bare,
    deployment: dep,
    machine: m,
    loadAtEnd: loadAvg(),
  };
  if (argv.includes('--profile')) {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-prof-'));
    const b = await bareRun(dir);
    const bareProfile = summariseProfile(dir);
    rmSync(dir, { recursive: true, force: true });
    const dir2 = mkdtempSync(join(tmpdir(), 'k8ts-prof-'));
    const d = await deploymentRun(dir2);
    result.profiled = { bare: { run: b, profile: bareProfile }, deployment: { run: d, profile: summariseProfile(dir2) } };
    rmSync(dir2, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
