// Proxy rule sync time: N services × M endpoints (default 1,000 × 10), both backends, inside a fresh test host
// network namespace. Measures the model (objects → rules), a full sync (first apply), an incremental sync (one
// service's endpoints change) and a no-op sync, each the median of --rounds.
// Then the propagation delay through the whole proxy (informer event → rules applied), p50/p99 over --changes
// EndpointSlice updates spaced past the minimum sync interval, on an in-memory API client.
// Run (root): node dist/bench/proxy.js [--services 1000] [--endpoints 10] [--rounds 5]

import type { KubeObject } from '../src/api/types.js';
import { run } from '../src/runtime/command.js';
import { createTestHost } from '../src/runtime/testing.js';
import { desiredRules } from '../src/proxy/model.js';
import { makeBackend, ServiceProxy, type ProxyMode } from '../src/proxy/proxy.js';
import { FakeClient } from '../src/client/fake.js';
import { ENDPOINTSLICES } from '../src/client/resources.js';

const argv = process.argv.slice(2);
const num = (name: string, d: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : d);
const SERVICES = num('--services', 1000);
const ENDPOINTS = num('--endpoints', 10);
const ROUNDS = num('--rounds', 5);
const CHANGES = num('--changes', 30);

function objects(generation: number, changed: number): { services: KubeObject[]; slices: KubeObject[] } {
  const services: KubeObject[] = [];
  const slices: KubeObject[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const ip = `10.43.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`;
    services.push({
      metadata: { name: `svc${i}`, namespace: 'bench' },
      spec: { type: i % 10 === 0 ? 'NodePort' : 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30000 + i }] },
    } as KubeObject);
    const shift = i === changed ? generation : 0;
    slices.push({
      metadata: { name: `svc${i}-x`, namespace: 'bench', labels: { 'kubernetes.io/service-name': `svc${i}` } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: ENDPOINTS }, (_, e) => {
        const n = (i * ENDPOINTS + e + shift) % 60000;
        return { addresses: [`10.${42 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`], conditions: { ready: true }, nodeName: 'n1' };
      }),
    } as KubeObject);
  }
  return { services, slices };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (f: () => Promise<unknown>): Promise<number> => {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

async function main(): Promise<void> {
  const host = await createTestHost('k8ts-pxb');
  try {
    const base = objects(0, -1);
    const t0 = process.hrtime.bigint();
    const rules = desiredRules(base.services, base.slices, 'n1');
    console.log(`model: ${SERVICES} services × ${ENDPOINTS} endpoints → ${rules.length} rules in ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`);
    for (const mode of ['nftables', 'iptables'] as ProxyMode[]) {
      const full: number[] = [];
      const inc: number[] = [];
      const noop: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const backend = makeBackend(mode, ['192.168.77.2'], host.path);
        full.push(await time(() => backend.sync(rules)));
        for (let g = 1; g <= 3; g++) {
          const o = objects(g, (r * 7 + g) % SERVICES);
          const next = desiredRules(o.services, o.slices, 'n1');
          inc.push(await time(async () => {
            const res = await backend.sync(next);
            if (res.changed < 1 || res.changed > 2 || res.full) throw new Error(`expected an incremental change of 1–2 services, got ${JSON.stringify(res)}`);
          }));
          noop.push(await time(() => backend.sync(next)));
        }
        await backend.cleanup();
      }
      console.log(
        `${mode}: full ${median(full).toFixed(0)} ms, incremental (1–2 services) ${median(inc).toFixed(0)} ms, no-op ${median(noop).toFixed(0)} ms ` +
          `(medians of ${full.length}/${inc.length}/${noop.length})`,
      );
    }
    for (const mode of ['nftables', 'iptables'] as ProxyMode[]) {
      const client = new FakeClient();
      for (const o of base.services) client.seed('services', o);
      for (const o of base.slices) client.seed('endpointslices', o);
      let waiter: (() => void) | undefined;
      const proxy = new ServiceProxy({ client, nodeName: 'n1', nodeIPs: ['192.168.77.2'], netns: host.path, mode, onSync: () => waiter?.() });
      await proxy.start();
      const delays: number[] = [];
      for (let c = 0; c < CHANGES; c++) {
        const i = (c * 37) % SERVICES;
        const slice = client.peek('endpointslices', 'bench', `svc${i}-x`)! as unknown as { endpoints: unknown[] };
        const applied = new Promise<void>((r) => (waiter = r));
        const t = process.hrtime.bigint();
        await client.update(ENDPOINTSLICES, 'bench', { ...slice, endpoints: slice.endpoints.slice(1) } as never);
        await applied;
        delays.push(Number(process.hrtime.bigint() - t) / 1e6);
        await new Promise((r) => setTimeout(r, 250));
      }
      await proxy.stop();
      const sorted = [...delays].sort((a, b) => a - b);
      const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)].toFixed(0);
      console.log(`${mode}: endpoint change → rules applied: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms (${CHANGES} changes)`);
    }
    const left = await run('nft', ['list', 'ruleset'], { netns: host.path });
    if (/k8ts-proxy|KUBE-/.test(left.stdout)) throw new Error('rules left behind');
  } finally {
    await host.destroy();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
