// A/B measurement of the create path: runs the server in several variants (environment and/or another built tree)
// interleaved round by round, and reports per variant the medians of create throughput and server CPU per
// create, and the ratio to the first variant. Server CPU per create is the figure to trust on a shared machine.
// Run: node dist/bench/ab.js --variant base --variant 'auth:PROTO_AUTH=1@/tmp/tree' [--rounds 5] [--count 3000]
//      [--concurrency 64] [--etcd | --datastore etcd://…]   (variant syntax: name[:K=V,K=V][@root])

import { startEtcd, type EtcdServer } from '../src/storage/testing/etcd-server.js';
import { closedLoop, median, percentile, round, startServer, withCpu } from './lib.js';

interface Variant {
  name: string;
  env: Record<string, string>;
  root?: string;
}

function parseVariant(s: string): Variant {
  const [head, root] = s.split('@');
  const [name, envs] = head.split(':');
  const env: Record<string, string> = {};
  for (const kv of (envs ?? '').split(',').filter(Boolean)) {
    const i = kv.indexOf('=');
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { name, env, root: root || undefined };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const variants = argv.flatMap((a, i) => (a === '--variant' ? [parseVariant(argv[i + 1])] : []));
  if (!variants.length) throw new Error('give at least one --variant');
  const rounds = Number(arg('--rounds') ?? 5);
  const count = Number(arg('--count') ?? 3000);
  const c = Number(arg('--concurrency') ?? 64);
  // --etcd: a throwaway local etcd (each server run gets its own key prefix).
  const etcd: EtcdServer | undefined = argv.includes('--etcd') ? await startEtcd() : undefined;
  const datastoreBase = etcd?.url ?? arg('--datastore');
  const value = 'x'.repeat(1024);
  const res = new Map<string, { ops: number[]; cpu: number[]; p99: number[] }>(variants.map((v) => [v.name, { ops: [], cpu: [], p99: [] }]));
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so no variant always runs first (or right after a warm disk cache).
    const order = variants.map((_, i) => variants[(i + r) % variants.length]);
    for (const v of order) {
      const datastore = datastoreBase ? `${datastoreBase}${datastoreBase.includes('?') ? '&' : '?'}prefix=/ab-${Date.now().toString(36)}-${v.name}` : undefined;
      const s = await startServer({ env: v.env, root: v.root, datastore });
      const pids: Record<string, number> = { server: s.pid };
      if (etcd) pids.etcd = etcd.pid;
      try {
        const post = async (ns: string, name: string) => {
          const rr = await s.client.req('POST', `/api/v1/namespaces/${ns}/configmaps`, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"},"data":{"v":"${value}"}}`, { keepBody: false });
          if (rr.status !== 201) throw new Error(`${v.name}: create: ${rr.status} ${rr.body}`);
        };
        await s.client.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ab' } });
        await closedLoop(500, 16, (i) => post('ab', `warm-${i}`));
 const { result, cpuMs } = await withCpu(pids, () => closedLoop(count, c, (i) => post('ab', `cm-${i}`)));
        const e = res.get(v.name)!;
        e.ops.push(result.opsPerSec);
        e.cpu.push((cpuMs.server * 1000) / count);
        e.p99.push(percentile(result.lat, 99));
        process.stderr.write(`round ${r} ${v.name}: ${round(result.opsPerSec, 0)}/s, server ${round((cpuMs.server * 1000) / count, 0)} µs/create\n`);
      } finally {
        await s.stop();
        s.cleanup();
      }
    }
  }
  await etcd?.stop();
  const base = res.get(variants[0].name)!;
  const out = variants.map((v) => {
    const e = res.get(v.name)!;
    return {
      variant: v.name,
      env: v.env,
      opsPerSec: round(median(e.ops), 0),
      serverCpuUsPerCreate: round(median(e.cpu), 0),
      p99Ms: round(median(e.p99), 1),
      cpuRatioToFirst: round(median(e.cpu) / median(base.cpu), 3),
      opsRatioToFirst: round(median(e.ops) / median(base.ops), 3),
      opsRuns: e.ops.map((x) => round(x, 0)),
      cpuRuns: e.cpu.map((x) => round(x, 0)),
    };
  });
  process.stdout.write(`${JSON.stringify({ bench: 'ab', count, concurrency: c, rounds, datastore: datastoreBase ?? 'sqlite', results: out }, null, 2)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
