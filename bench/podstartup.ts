// Pod startup latency and kubelet memory (issue 4), on a real `k8ts server` with its kubelet in a test host
// network namespace: 100 busybox pods created at 10 pods/s (image already local), latency from each create sent to
// the watch event showing it Running; p50/p99 beside the floor measured in the same run — a bare `runc run -d` of
// the same busybox rootfs (median of 20). Memory: server RSS with the agent idle and with the 100 pods running
// (the difference is the kubelet's per-pod cost, containers excluded: they are other processes), and the
// per-container monitor (conmon) RSS. With --agent-process the node agent runs as `k8ts agent` beside
// `k8ts server --disable-agent`, and its own RSS and CPU are reported (the kubelet alone). Prints JSON.
//
//   node dist/bench/podstartup.js [--pods 100] [--rate 10] [--floor-runs 20] [--agent-process]

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTestImages } from '../src/images/build.js';
import { LocalImageService } from '../src/images/service.js';
import { buildBusyboxRootfs, createTestHost, removeNodeLeftovers } from '../src/runtime/testing.js';
import { MachineLoad, childrenCpuMs, machine, median, percentile, procCpuMs, repoRoot, sleep, startServer } from './lib.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const PODS = arg('--pods', 100);
const RATE = arg('--rate', 10);
const FLOOR_RUNS = arg('--floor-runs', 20);
const AGENT_PROCESS = argv.includes('--agent-process');

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** Median milliseconds of `runc run -d` (create + start, detached) of a busybox `sleep` bundle. */
function runcFloor(dir: string, runs: number): number {
  const bundle = join(dir, 'bundle');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  buildBusyboxRootfs(join(bundle, 'rootfs'));
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['sleep', '3600'];
  // Relative cgroup path (hybrid cgroups here, environment.md quirk 1).
  spec.linux.cgroupsPath = 'k8ts-bench-floor';
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  const root = join(dir, 'runc-root');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const id = `floor-${process.pid}-${i}`;
    const t0 = performance.now();
    execFileSync('runc', ['--root', root, 'run', '-d', '--bundle', bundle, id], { stdio: ['ignore', 'ignore', 'inherit'] });
    times.push(performance.now() - t0);
    execFileSync('runc', ['--root', root, 'delete', '--force', id]);
  }
  return median(times);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (runc, network namespaces)');
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-pods-'));
  const host = await createTestHost('k8ts-bench');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const out: Record<string, unknown> = { machine: machine(), pods: PODS, ratePerSec: RATE };
  let srv: Awaited<ReturnType<typeof startServer>> | undefined;
  let agent: ChildProcess | undefined;
  let agentErr = '';
  try {
    out.runcRunFloorMs = runcFloor(dir, FLOOR_RUNS);
    await loadTestImages(await LocalImageService.open(join(dataDir, 'images')));
    // K8TS_BENCH_CPU_PROF=DIR: the server runs under `node --cpu-prof` (analyse with profile-create.js --analyse).
    const prof = process.env.K8TS_BENCH_CPU_PROF;
    // K8TS_BENCH_ROOT=DIR: the server from another built tree (an A/B measurement, run alternately with this one).
    const root = process.env.K8TS_BENCH_ROOT;
    const nodeFlags = ['--node-netns', host.path, '--node-name', 'bench-node', '--node-ip', '127.0.0.1', '--kubelet-port', '0'];
    // --agent-process: the node agent runs as `k8ts agent` beside `k8ts server --disable-agent`, so the kubelet's
    // own memory and CPU can be read (issue 4's kubelet RSS target); otherwise the server's in-process agent.
    srv = await startServer({ dataDir, ...(root ? { root } : {}), ...(prof ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${prof}`] } : {}), ...(AGENT_PROCESS ? {} : { extraArgs: nodeFlags }) });
    if (AGENT_PROCESS) {
      agent = spawn(process.execPath, [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), join(root ?? repoRoot, 'bin/k8ts.js'), 'agent', '--server-data-dir', dataDir, '--dns-upstream', 'none', ...nodeFlags], { stdio: ['ignore', 'ignore', 'pipe'] });
      agent.stderr!.on('data', (d: Buffer) => (agentErr = (agentErr + d.toString()).slice(-8000)));
    }
    const c = srv.client;
    // K8TS_POD_TRACE=1: the kubelet's per-pod phase marks (podworker.ts) go to this process's stderr.
    if (process.env.K8TS_POD_TRACE === '1') (agent ?? srv.proc).stderr!.on('data', (d: Buffer) => process.stderr.write(d.toString().split('\n').filter((l) => l.startsWith('pod-trace')).map((l) => `${l}\n`).join('')));
    for (let i = 0; ; i++) {
      if (agent && agent.exitCode !== null) throw new Error(`k8ts agent exited (${agent.exitCode}): ${agentErr}`);
      if (i > 300) throw new Error(`node bench-node not Ready within 60 s${agent ? `: ${agentErr}` : ''}`);
      const r = await c.req('GET', '/api/v1/nodes/bench-node');
      if (r.status === 200 && /"type":"Ready","status":"True"/.test(r.body) && /"podCIDR"/.test(r.body)) break;
      await sleep(200);
    }
    await sleep(3000);
    out.serverRssIdleKb = rssKb(srv.pid);
    if (agent) out.agentRssIdleKb = rssKb(agent.pid!);
    await c.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const sent = new Map<string, number>();
    const lat: number[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const stop = c.watch('/api/v1/namespaces/bench/pods?watch=true', (ev) => {
      const o = ev.object as { metadata: { name?: string }; status?: { phase?: string } };
      const name = o.metadata.name ?? '';
      if (o.status?.phase === 'Running' && sent.has(name)) {
        lat.push(performance.now() - sent.get(name)!);
        sent.delete(name);
        if (lat.length === PODS) done();
      }
    });
    await sleep(500);
    const load = new MachineLoad();
    const cpu0 = { self: procCpuMs(srv.pid), children: childrenCpuMs(srv.pid), agent: agent ? procCpuMs(agent.pid!) : 0, machine: MachineLoad.read().busy * 10 };
    const t0 = performance.now();
    for (let i = 0; i < PODS; i++) {
      const at = t0 + (i * 1000) / RATE;
      const wait = at - performance.now();
      if (wait > 0) await sleep(wait);
      const name = `p-${i}`;
      sent.set(name, performance.now());
      void c.req('POST', '/api/v1/namespaces/bench/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'k8ts.local/busybox:1.36', command: ['sleep', '3600'] }] } });
    }
    // At most 5 min for all to run; the timer is unref'd so a finished run exits at once instead of waiting it out.
    await Promise.race([all, new Promise<void>((r) => setTimeout(r, 300_000).unref())]);
    stop();
    // CPU per started pod over the create phase: the server process (API server, scheduler, controllers, kubelet),
    // the children it reaped (runc, CNI plugins, mount; conmon and the containers are not reaped by it), the machine.
    out.cpuMsPerPod = {
      server: Math.round((procCpuMs(srv.pid) - cpu0.self) / PODS),
      serverChildren: Math.round((childrenCpuMs(srv.pid) - cpu0.children) / PODS),
      ...(agent ? { agent: Math.round((procCpuMs(agent.pid!) - cpu0.agent) / PODS) } : {}),
      machine: Math.round((MachineLoad.read().busy * 10 - cpu0.machine) / PODS),
    };
    out.machineBusyShare = Number(load.sample().toFixed(2));
    const sorted = [...lat].sort((a, b) => a - b);
    out.running = lat.length;
    out.startupP50Ms = Math.round(percentile(sorted, 50));
    out.startupP99Ms = Math.round(percentile(sorted, 99));
    out.p50OverFloor = Number((percentile(sorted, 50) / (out.runcRunFloorMs as number)).toFixed(2));
    out.p99OverFloor = Number((percentile(sorted, 99) / (out.runcRunFloorMs as number)).toFixed(2));
    await sleep(5000);
    out.serverRssWithPodsKb = rssKb(srv.pid);
    if (agent) {
      out.agentRssWithPodsKb = rssKb(agent.pid!);
      out.kubeletPerPodKb = Math.round(((out.agentRssWithPodsKb as number) - (out.agentRssIdleKb as number)) / PODS);
    } else out.kubeletPerPodKb = Math.round(((out.serverRssWithPodsKb as number) - (out.serverRssIdleKb as number)) / PODS);
    const conmons = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('/usr/bin/conmon') && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dataDir);
        } catch {
          return false;
        }
      });
    out.conmonCount = conmons.length;
    out.conmonRssKbMedian = median(conmons.map((p) => rssKb(Number(p))));
    await c.req('DELETE', '/api/v1/namespaces/bench/pods');
    for (let i = 0; i < 300; i++) {
      const r = await c.req('GET', '/api/v1/namespaces/bench/pods');
      if (!/"name":"p-/.test(r.body)) break;
      await sleep(200);
    }
  } finally {
    if (agent && agent.exitCode === null) {
      const gone = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await Promise.race([gone, sleep(10_000)]);
    }
    await srv?.stop();
    removeNodeLeftovers(dataDir);
    await host.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out, null, 2));
}

await main();
