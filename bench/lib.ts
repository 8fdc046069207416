// Shared benchmark plumbing: start the real `k8ts server` binary, an HTTPS client with the admin certificate,
// and latency statistics. Benchmarks talk only to 127.0.0.1.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export interface RunningServer {
  proc: ChildProcess;
  url: string;
  dataDir: string;
  kubeconfig: string;
  /** Milliseconds from spawn to the ready line. */
  startMs: number;
  client: Client;
  stop(): Promise<void>;
  cleanup(): void;
}

export async function startServer(opts: { dataDir?: string; datastore?: string; extraArgs?: string[] } = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'k8ts-bench-'));
  const port = await freePort();
  const args = [join(repoRoot, 'bin/k8ts.js'), 'server', '--data-dir', dataDir, '--port', String(port), '--bind-address', '127.0.0.1'];
  if (opts.datastore) args.push('--datastore', opts.datastore);
  args.push(...(opts.extraArgs ?? []));
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not become ready: ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        res();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code}: ${out}`));
    });
  });
  const startMs = performance.now() - t0;
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  const client = Client.fromKubeconfig(kubeconfig);
  return {
    proc,
    url: client.base,
    dataDir,
    kubeconfig,
    startMs,
    client,
    async stop() {
      client.close();
      if (proc.exitCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Response {
  status: number;
  body: string;
}

/** A minimal HTTPS client using the kubeconfig's admin certificate. */
export class Client {
  readonly agent: Agent;
  constructor(
    readonly base: string,
    ca: string,
    cert: string,
    key: string,
    maxSockets = 256,
  ) {
    this.agent = new Agent({ ca, cert, key, keepAlive: true, maxSockets });
  }

  static fromKubeconfig(path: string): Client {
    const kc = parse(readFileSync(path, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    };
    const b = (s: string) => Buffer.from(s, 'base64').toString();
    return new Client(kc.clusters[0].cluster.server, b(kc.clusters[0].cluster['certificate-authority-data']), b(kc.users[0].user['client-certificate-data']), b(kc.users[0].user['client-key-data']));
  }

  req(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
    return new Promise((res, rej) => {
      const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const r = request(this.base + path, { method, agent: this.agent, headers: data ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) } : {} }, (resp) => {
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () => res({ status: resp.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        resp.on('error', rej);
      });
      r.on('error', rej);
      if (data) r.write(data);
      r.end();
    });
  }

  /** Open a watch stream; calls onEvent per JSON line. Returns a closer. */
  watch(path: string, onEvent: (ev: { type: string; object: { metadata?: { name?: string; resourceVersion?: string } } }) => void, onOpen?: () => void): () => void {
    const r = request(this.base + path, { method: 'GET', agent: this.agent }, (resp) => {
      onOpen?.();
      let buf = '';
      resp.on('data', (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line) onEvent(JSON.parse(line) as never);
        }
      });
      resp.on('error', () => undefined);
    });
    r.on('error', () => undefined);
    r.end();
    return () => r.destroy();
  }

  close(): void {
    this.agent.destroy();
  }
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** Run `count` operations with `concurrency` in flight; returns ops/s and per-op latencies (ms, sorted). */
export async function closedLoop(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<{ opsPerSec: number; lat: number[] }> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const s = performance.now();
        await op(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { opsPerSec: count / secs, lat: lat.sort((a, b) => a - b) };
}

export function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}
