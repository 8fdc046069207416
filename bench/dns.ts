// Cluster DNS from inside a pod: queries per second and p50/p99 latency of A lookups, measured by a load generator
// running in a real pod's network namespace (nsenter), on a real `k8ts server` with its kubelet, service proxy
// (nftables) and DNS in a test host network namespace, with --services Services in the store. Two paths: the
// kube-dns ClusterIP (10.43.0.10:53, DNATed by the proxy) and the listener on the node's pod network gateway
// directly; each at concurrency 1 (latency) and --concurrency outstanding queries (throughput), closed loop over
// UDP with dns-packet, names cycling over the services. Prints JSON.
//
//   node dist/bench/dns.js [--services 1000] [--seconds 5] [--concurrency 32]
// (the same file with --load is the generator: --load <host> <port> <seconds> <concurrency> <services>)

import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as dnsPacket from 'dns-packet';
import { loadTestImages } from '../src/images/build.js';
import { LocalImageService } from '../src/images/service.js';
import { createTestHost, removeNodeLeftovers } from '../src/runtime/testing.js';
import { freePort, machine, percentile, sleep, startServer } from './lib.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);

interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  timeouts: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
}

/** The generator: `concurrency` queries in flight on one UDP socket for `seconds`, after a 1 s warm-up. */
async function load(host: string, port: number, seconds: number, concurrency: number, services: number): Promise<LoadResult> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, r));
  const inflight = new Map<number, number>();
  const lat: number[] = [];
  let nextId = 1;
  let n = 0;
  let measuring = false;
  let stopped = false;
  const r = { sent: 0, ok: 0, errors: 0, timeouts: 0 };
  const send = (): void => {
    if (stopped) return;
    let id = nextId;
    while (inflight.has(id)) id = (id % 65535) + 1;
    nextId = (id % 65535) + 1;
    const name = `svc${n++ % services}.bench.svc.cluster.local`;
    inflight.set(id, performance.now());
    if (measuring) r.sent++;
    sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] }), port, host);
  };
  sock.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    const t0 = inflight.get(id);
    if (t0 === undefined) return;
    inflight.delete(id);
    if (measuring) {
      lat.push(performance.now() - t0);
      const reply = dnsPacket.decode(msg) as { rcode?: string; answers?: unknown[] };
      if (reply.rcode === 'NOERROR' && (reply.answers?.length ?? 0) === 1) r.ok++;
      else r.errors++;
    }
    send();
  });
  // Lost queries (none expected) are retired after a second so the loop keeps its concurrency.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [id, t0] of inflight) {
      if (now - t0 > 1000) {
        inflight.delete(id);
        if (measuring) r.timeouts++;
        send();
      }
    }
  }, 200);
  for (let i = 0; i < concurrency; i++) send();
  await sleep(1000);
  measuring = true;
  const began = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - began) / 1000;
  stopped = true;
  clearInterval(sweep);
  sock.close();
  const sorted = lat.sort((a, b) => a - b);
  return { ...r, qps: Math.round(lat.length / elapsed), p50Ms: Number(percentile(sorted, 50).toFixed(3)), p99Ms: Number(percentile(sorted, 99).toFixed(3)) };
}

const exec = promisify(execFile);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (runc, network namespaces)');
  const SERVICES = arg('--services', 1000);
  const SECONDS = arg('--seconds', 5);
  const CONCURRENCY = arg('--concurrency', 32);
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-dns-'));
  const host = await createTestHost('k8ts-bdns');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const out: Record<string, unknown> = { machine: machine(), services: SERVICES, seconds: SECONDS };
  let srv: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    await loadTestImages(await LocalImageService.open(join(dataDir, 'images')));
    srv = await startServer({ dataDir, extraArgs: ['--node-netns', host.path, '--node-name', 'bench-node', '--node-ip', '127.0.0.1', '--kubelet-port', '0', '--dns-port', String(await freePort()), '--dns-upstream', 'none'] });
    const c = srv.client;
    await c.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const t0 = performance.now();
    for (let i = 0; i < SERVICES; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, SERVICES - i) }, (_, j) =>
          c.req('POST', '/api/v1/namespaces/bench/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc${i + j}` }, spec: { selector: { app: `a${i + j}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }).then((r) => {
            if (r.status !== 201) throw new Error(`create svc${i + j}: ${r.status} ${r.body}`);
          }),
        ),
      );
    }
    out.createServicesMs = Math.round(performance.now() - t0);
    // One pod whose network namespace the generator runs in.
    await c.req('POST', '/api/v1/namespaces/bench/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'k8ts.local/busybox:1.36', command: ['sleep', '3600'] }] } });
    for (let i = 0; ; i++) {
      const r = await c.req('GET', '/api/v1/namespaces/bench/pods/client');
      if (/"phase":"Running"/.test(r.body)) break;
      if (i > 300) throw new Error(`client pod not Running: ${r.body}\n${srv.log()}`);
      await sleep(200);
    }
    const sandboxes = join(dataDir, 'runtime', 'sandboxes');
    const podNetns = readdirSync(sandboxes).map((id) => join(sandboxes, id, 'net')).find((p) => existsSync(p));
    if (!podNetns) throw new Error('no pod network namespace found');
    const node = JSON.parse((await c.req('GET', '/api/v1/nodes/bench-node')).body) as { spec: { podCIDR: string } };
    const gateway = node.spec.podCIDR.replace(/\.0\/24$/, '.1');
    const self = fileURLToPath(import.meta.url);
    const runLoad = async (target: string, concurrency: number, seconds: number): Promise<LoadResult> => {
      const { stdout } = await exec('nsenter', [`--net=${podNetns}`, '--', process.execPath, self, '--load', target, '53', String(seconds), String(concurrency), String(SERVICES)], { timeout: (seconds + 30) * 1000 });
      return JSON.parse(stdout) as LoadResult;
    };
    // Ready when the last service resolves through the ClusterIP (endpoints published, rules synced, caches filled).
    for (let i = 0; ; i++) {
      const r = await runLoad('10.43.0.10', 1, 1).catch(() => undefined);
      if (r && r.ok > 0 && r.errors === 0 && r.timeouts === 0) break;
      if (i > 30) throw new Error(`DNS through 10.43.0.10 not answering from the pod: ${JSON.stringify(r)}\n${srv.log()}`);
      await sleep(500);
    }
    for (const [label, target] of [['clusterIP', '10.43.0.10'], ['direct', gateway]] as const) {
      out[`${label}Serial`] = await runLoad(target, 1, SECONDS);
      out[`${label}Concurrent${CONCURRENCY}`] = await runLoad(target, CONCURRENCY, SECONDS);
    }
    await c.req('DELETE', '/api/v1/namespaces/bench/pods/client');
    for (let i = 0; i < 100; i++) {
      const r = await c.req('GET', '/api/v1/namespaces/bench/pods/client');
      if (r.status === 404) break;
      await sleep(200);
    }
  } finally {
    await srv?.stop();
    removeNodeLeftovers(dataDir);
    await host.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out, null, 2));
}

if (argv[0] === '--load') {
  const [, h = '', p = '53', s = '5', cc = '1', n = '1'] = argv;
  console.log(JSON.stringify(await load(h, Number(p), Number(s), Number(cc), Number(n))));
} else {
  await main();
}
