// Control-plane memory at scale (issue 3): one real `k8ts server --simulate-nodes 1000` (API server, controller
// manager, scheduler and simulated kubelets in one process, as a user runs it) filled with Deployments of
// --replicas pods each, --parallel at a time, each in its own namespace, until --pods pods are Running or
// --max-minutes pass. Server VmRSS / VmHWM from /proc/<pid>/status: idle before any node, after the nodes registered,
// after each step (its Deployments available, then --settle seconds), and at the end. Prints JSON with the steps,
// the per-pod slope (least squares over the settled steps) and how long it took.
//
// --workload pods|bound-pods with --server-args "--disable-controllers [--disable-scheduler]" fills the same
// steps with bare pods instead, so the differences attribute memory to the controller manager and scheduler.
//
//   node dist/bench/scale-rss.js [--nodes 1000] [--pods 30000] [--replicas 1000] [--parallel 1]
//                                [--settle 10] [--max-minutes 45] [--workload deployments|pods|bound-pods]
//                                [--server-args "…"]

import { loadAvg, ObjectWatch, procMem, startCluster } from './cluster.js';
import { closedLoop, machine, procCpuMs, round, sleep } from './lib.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const NODES = arg('--nodes', 1000);
const PODS = arg('--pods', 30_000);
const REPLICAS = arg('--replicas', 1000);
const PARALLEL = arg('--parallel', 1);
const SETTLE_S = arg('--settle', 10);
const MAX_MINUTES = arg('--max-minutes', 45);
/** deployments (default); pods: bare pods POSTed by this process (concurrency 32); bound-pods: the same with spec.nodeName set. */
const WORKLOAD = argv.includes('--workload') ? argv[argv.indexOf('--workload') + 1]! : 'deployments';
if (!['deployments', 'pods', 'bound-pods'].includes(WORKLOAD)) throw new Error(`unknown --workload ${WORKLOAD}`);
/** Extra `k8ts server` flags, e.g. "--disable-controllers --disable-scheduler" (to attribute memory to components). */
const SERVER_ARGS = argv.includes('--server-args') ? argv[argv.indexOf('--server-args') + 1]!.split(/\s+/).filter(Boolean) : [];

interface Step {
  /** Deployments (or namespaces of bare pods) so far. */
  deployments: number;
  pods: number;
  /** Seconds for this step's Deployments to become available. */
  stepSeconds: number;
  /** Seconds since the first Deployment was created. */
  elapsedSeconds: number;
  serverCpuSeconds: number;
  rssMB: number;
  hwmMB: number;
  load: string;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}

async function main(): Promise<void> {
  const m = machine();
  const loadStart = loadAvg();
  const t00 = performance.now();
  const c = await startCluster(NODES, { settleMs: SETTLE_S * 1000, extraArgs: SERVER_ARGS });
  const s = c.server;
  const steps: Step[] = [];
  const alive = () => s.proc.exitCode === null && s.proc.signalCode === null;
  let stopReason = 'target reached';
  let verification: Record<string, unknown> = {};
  try {
    console.error(`${NODES} nodes registered in ${round(c.nodesRegisteredMs / 1000, 1)} s; RSS idle ${c.idle.rssMB} MB → with nodes ${c.withNodes.rssMB} MB (load ${loadAvg()})`);
    const deps = WORKLOAD === 'deployments' ? new ObjectWatch(s.client, '/apis/apps/v1/deployments') : undefined;
    await deps?.opened;
    const createNamespace = async (name: string) => {
      const ns = await s.client.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      if (ns.status !== 201) throw new Error(`create namespace ${name}: ${ns.status} ${ns.body}`);
    };
    const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } });
    const createDeployment = async (name: string) => {
      await createNamespace(name);
      const body = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas: REPLICAS, selector: { matchLabels: { app: name } }, template: template(name) } };
      const r = await s.client.req('POST', `/apis/apps/v1/namespaces/${name}/deployments`, body);
      if (r.status !== 201) throw new Error(`create deployment ${name}: ${r.status} ${r.body}`);
    };
    /** REPLICAS bare pods in namespace `name` (bound round-robin for --workload bound-pods), waited for through a watch. */
    const createPods = async (name: string, first: number) => {
      await createNamespace(name);
      let running = 0;
      const seen = new Set<string>();
      const w = new ObjectWatch(s.client, `/api/v1/namespaces/${name}/pods`, (_t, o) => {
        if ((o.status as { phase?: string } | undefined)?.phase === 'Running' && !seen.has(o.metadata.name)) {
          seen.add(o.metadata.name);
          running++;
        }
      });
      await w.opened;
      try {
        const t = template(name);
        await closedLoop(REPLICAS, 32, async (i) => {
          const spec = WORKLOAD === 'bound-pods' ? { ...t.spec, nodeName: `sim-node-${(first + i) % NODES}` } : t.spec;
          const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, labels: t.metadata.labels }, spec });
          const r = await s.client.req('POST', `/api/v1/namespaces/${name}/pods`, body, { keepBody: false });
          if (r.status !== 201) throw new Error(`create pod ${name}/p-${i}: ${r.status} ${r.body}`);
        });
        const left = MAX_MINUTES * 60_000 - (performance.now() - t0);
        await w.until(() => running >= REPLICAS, Math.max(60_000, left), `${name}: ${REPLICAS} pods Running`);
      } finally {
        w.stop();
      }
    };
    const available = (name: string) => {
      const d = deps?.objects.get(name);
      const st = (d?.status ?? {}) as { availableReplicas?: number; observedGeneration?: number };
      return !!d && st.availableReplicas === REPLICAS && (st.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
    };
    const total = Math.ceil(PODS / REPLICAS);
    const t0 = performance.now();
    const cpu0 = procCpuMs(s.pid);
    let made = 0;
    while (made < total) {
      if ((performance.now() - t0) / 60_000 > MAX_MINUTES) {
        stopReason = `stopped after ${MAX_MINUTES} minutes`;
        break;
      }
      const batch = Array.from({ length: Math.min(PARALLEL, total - made) }, (_, i) => `d${made + i}`);
      const ts = performance.now();
      const cs = procCpuMs(s.pid);
      try {
        if (WORKLOAD === 'deployments') {
          for (const name of batch) await createDeployment(name);
          const left = MAX_MINUTES * 60_000 - (performance.now() - t0);
          await deps!.until(() => batch.every(available), Math.max(60_000, left), `${batch.join(',')} available`);
        } else {
          for (const [j, name] of batch.entries()) await createPods(name, (made + j) * REPLICAS);
        }
      } catch (e) {
        stopReason = `${(e as Error).message}; server ${alive() ? 'alive' : `exited (${s.proc.exitCode ?? s.proc.signalCode})`}`;
        break;
      }
      made += batch.length;
      const stepSeconds = (performance.now() - ts) / 1000;
      const stepCpu = (procCpuMs(s.pid) - cs) / 1000;
      await sleep(SETTLE_S * 1000);
      const mem = procMem(s.pid);
      const step: Step = {
        deployments: made,
        pods: made * REPLICAS,
        stepSeconds: round(stepSeconds, 1),
        elapsedSeconds: round((performance.now() - t0) / 1000, 0),
        serverCpuSeconds: round(stepCpu, 1),
        rssMB: mem.rssMB,
        hwmMB: mem.hwmMB,
        load: loadAvg(),
      };
      steps.push(step);
      console.error(`${step.pods} pods: step ${step.stepSeconds} s (server CPU ${step.serverCpuSeconds} s), elapsed ${step.elapsedSeconds} s, RSS ${step.rssMB} MB, peak ${step.hwmMB} MB (load ${step.load})`);
    }
    const totalCpu = (procCpuMs(s.pid) - cpu0) / 1000;
    deps?.stop();
    if (alive()) {
      // After the figures: nothing left Pending, and how many pods the API holds.
      const notRunning = JSON.parse((await s.client.req('GET', '/api/v1/pods?fieldSelector=status.phase!%3DRunning&limit=500')).body) as { items: unknown[] };
      const one = JSON.parse((await s.client.req('GET', '/api/v1/pods?limit=1')).body) as { items: unknown[]; metadata: { remainingItemCount?: number } };
      verification = { podsNotRunning: notRunning.items.length, podsStored: one.items.length + (one.metadata.remainingItemCount ?? 0) };
    }
    const xs = steps.map((x) => x.pods);
    const per = steps.length >= 2 ? round((slope(xs, steps.map((x) => x.rssMB)) * 1024), 1) : NaN;
    const perHwm = steps.length >= 2 ? round((slope(xs, steps.map((x) => x.hwmMB)) * 1024), 1) : NaN;
    const last = steps[steps.length - 1];
    console.log(
      JSON.stringify(
        {
          bench: 'scale-rss',
          nodes: NODES,
          targetPods: PODS,
          workload: WORKLOAD,
          serverArgs: SERVER_ARGS,
          replicasPerStep: REPLICAS,
          parallel: PARALLEL,
          settleSeconds: SETTLE_S,
          reachedPods: last?.pods ?? 0,
          stopReason,
          nodesRegisteredSeconds: round(c.nodesRegisteredMs / 1000, 1),
          rssMB: { idle: c.idle.rssMB, withNodes: c.withNodes.rssMB, atEnd: last?.rssMB, peak: alive() ? procMem(s.pid).hwmMB : last?.hwmMB },
          kbPerPod: { rss: per, hwm: perHwm },
          podsSeconds: last?.elapsedSeconds,
          totalSeconds: round((performance.now() - t00) / 1000, 0),
          serverCpuSeconds: round(totalCpu, 0),
          verification,
          steps,
          machine: m,
          load: { start: loadStart, end: loadAvg() },
        },
        null,
        2,
      ),
    );
  } finally {
    await s.stop();
    s.cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
