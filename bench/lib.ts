// Shared benchmark plumbing: start the real `k8ts server` binary, a lean HTTPS client with the admin certificate,
// latency statistics, CPU accounting from /proc and a machine snapshot. Benchmarks talk only to 127.0.0.1.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { connect as tlsConnect } from 'node:tls';
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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface RunningServer {
  proc: ChildProcess;
  pid: number;
  url: string;
  dataDir: string;
  kubeconfig: string;
  /** Milliseconds from spawn to the "API server ready" line (listening, default namespaces in place). */
  startMs: number;
  client: Client;
  /** SIGTERM and wait for exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** Remove the data dir. */
  cleanup(): void;
  /** The last 64 KB of the server's stdout+stderr. */
  log(): string;
}

export interface StartServerOptions {
  dataDir?: string;
  datastore?: string;
  extraArgs?: string[];
  /** Node flags for the server process, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/x']. */
  nodeArgs?: string[];
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** Tree holding bin/k8ts.js and dist/ (default: this checkout), e.g. a patched copy for an A/B measurement. */
  root?: string;
}

/** Spawn `node bin/k8ts.js server` on a free 127.0.0.1 port and wait for its ready line. */
export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'k8ts-bench-'));
  const port = await freePort();
  const args = [...(opts.nodeArgs ?? []), join(opts.root ?? repoRoot, 'bin/k8ts.js'), 'server', '--data-dir', dataDir, '--port', String(port), '--bind-address', '127.0.0.1'];
  if (opts.datastore) args.push('--datastore', opts.datastore);
  // Benchmarks of the control plane run without the server's kubelet (no containers on this machine's network).
  if (!(opts.extraArgs ?? []).includes('--node-netns')) args.push('--disable-agent');
  // With the agent, cluster DNS runs too: benchmarks never forward names out of the cluster.
  else if (!(opts.extraArgs ?? []).includes('--dns-upstream')) args.push('--dns-upstream', 'none');
  args.push(...(opts.extraArgs ?? []));
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let out = '';
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`server did not become ready within 30 s: ${out}`));
    }, 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-65536);
      if (out.includes('API server ready')) {
        clearTimeout(timer);
        res();
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-65536)));
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      rej(new Error(`server exited (${code ?? sig}): ${out}`));
    });
  });
  const startMs = performance.now() - t0;
  proc.once('exit', (code, sig) => {
    if (code !== 0 && sig !== 'SIGTERM') process.stderr.write(`k8ts server ${proc.pid} exited (${code ?? sig}):\n${out.slice(-4000)}\n`);
  });
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  const client = Client.fromKubeconfig(kubeconfig);
  return {
    proc,
    pid: proc.pid!,
    url: client.base,
    dataDir,
    kubeconfig,
    startMs,
    client,
    async stop() {
      client.close();
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
    log: () => out,
  };
}

export interface Response {
  status: number;
  body: string;
}

export interface WatchEventLine {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string } };
}

/**
 * A minimal HTTPS client using the kubeconfig's admin certificate. Requests use one keep-alive agent; watches
 * use a second agent without a socket limit (a long-lived watch holds its socket for its whole life).
 */
export class Client {
  private readonly tlsOptions: { ca: string; cert: string; key: string };
  readonly agent: Agent;
  readonly watchAgent: Agent;
  constructor(
    readonly base: string,
    ca: string,
    cert: string,
    key: string,
    maxSockets = 256,
  ) {
    this.tlsOptions = { ca, cert, key };
    this.agent = new Agent({ ca, cert, key, keepAlive: true, maxSockets });
    this.watchAgent = new Agent({ ca, cert, key, keepAlive: false, maxSockets: Infinity });
  }

  static fromKubeconfig(path: string): Client {
    const kc = parse(readFileSync(path, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    };
    const b = (s: string) => Buffer.from(s, 'base64').toString();
    return new Client(kc.clusters[0].cluster.server, b(kc.clusters[0].cluster['certificate-authority-data']), b(kc.users[0].user['client-certificate-data']), b(kc.users[0].user['client-key-data']));
  }

  /**
   * One request. `body` may be pre-serialised (string/Buffer) so the load generator spends as little CPU as
   * possible; with `keepBody: false` a 2xx response body is drained without being kept.
   */
  req(method: string, path: string, body?: unknown, opts: { contentType?: string; keepBody?: boolean } = {}): Promise<Response> {
    return new Promise((res, rej) => {
      const data = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const headers: Record<string, string | number> = {};
      if (data !== undefined) {
        headers['Content-Type'] = opts.contentType ?? 'application/json';
        headers['Content-Length'] = Buffer.byteLength(data);
      }
      const r = request(this.base + path, { method, agent: this.agent, headers }, (resp) => {
        const status = resp.statusCode ?? 0;
        if (opts.keepBody === false && status >= 200 && status < 300) {
          resp.on('end', () => res({ status, body: '' }));
          resp.on('error', rej);
          resp.resume();
          return;
        }
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () => res({ status, body: Buffer.concat(chunks).toString() }));
        resp.on('error', rej);
      });
      r.on('error', rej);
      r.end(data);
    });
  }

  /** Open a watch stream; calls onEvent per JSON line. `onOpen` fires when the response headers arrive. */
  watch(path: string, onEvent: (ev: WatchEventLine) => void, onOpen?: () => void, onEnd?: (err?: Error) => void): () => void {
    let closing = false;
    const r = request(this.base + path, { method: 'GET', agent: this.watchAgent }, (resp) => {
      if (resp.statusCode !== 200) {
        onEnd?.(new Error(`watch ${path}: HTTP ${resp.statusCode}`));
        resp.resume();
        return;
      }
      onOpen?.();
      const dec = new StringDecoder('utf8');
      let buf = '';
      resp.on('data', (c: Buffer) => {
        buf += dec.write(c);
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line) onEvent(JSON.parse(line) as WatchEventLine);
        }
      });
      resp.on('end', () => onEnd?.());
      resp.on('error', (e) => onEnd?.(closing ? undefined : e));
    });
    r.on('error', (e) => onEnd?.(closing ? undefined : e));
    r.end();
    return () => {
      closing = true;
      r.destroy();
    };
  }

  /**
   * A watch as lean as a measuring instrument can be: its own TLS connection, HTTP/1.1 chunked framing read by
   * hand, and per event only the type and metadata.name taken from the line (no JSON.parse). For fan-out
   * figures, where one client process holds 1,000 watches and its own per-event cost would otherwise dominate
   * the delay it measures. `onEvent(type, name, at)`: `at` is performance.now() when the bytes were read.
   */
  rawWatch(path: string, onEvent: (type: string, name: string, at: number) => void, onOpen?: () => void, onEnd?: (err?: Error) => void): () => void {
    const url = new URL(this.base);
    let closing = false;
    let headersDone = false;
    let buf: Buffer = Buffer.alloc(0);
    let chunkLeft = 0; // bytes of chunk data still to come (then its CRLF)
    let line = ''; // event text gathered across chunks
    const dec = new StringDecoder('utf8');
    const sock = tlsConnect({ host: url.hostname, port: Number(url.port), servername: url.hostname, ...this.tlsOptions, ALPNProtocols: ['http/1.1'] }, () => {
      sock.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: application/json\r\n\r\n`);
    });
    const emitLines = (text: string, at: number) => {
      line += text;
      let i: number;
      while ((i = line.indexOf('\n')) >= 0) {
        const ev = line.slice(0, i);
        line = line.slice(i + 1);
        const t = /^\{"type":"([A-Z]+)"/.exec(ev);
        const m = ev.indexOf('"metadata":{');
        const n = m < 0 ? -1 : ev.indexOf('"name":"', m);
        const name = n < 0 ? '' : ev.slice(n + 8, ev.indexOf('"', n + 8));
        onEvent(t ? t[1]! : '', name, at);
      }
    };
    sock.on('data', (d: Buffer) => {
      const at = performance.now();
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      if (!headersDone) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        headersDone = true;
        if (!/^HTTP\/1\.1 200 /.test(head) || !/transfer-encoding: chunked/i.test(head)) {
          onEnd?.(new Error(`watch ${path}: ${head.split('\r\n')[0]}`));
          sock.destroy();
          return;
        }
        onOpen?.();
      }
      for (;;) {
        if (chunkLeft > 0) {
          if (buf.length === 0) return;
          const take = Math.min(chunkLeft, buf.length);
          emitLines(dec.write(buf.subarray(0, take)), at);
          chunkLeft -= take;
          buf = buf.subarray(take);
          if (chunkLeft > 0) return;
          chunkLeft = -2; // the chunk's trailing CRLF
        }
        if (chunkLeft === -2) {
          if (buf.length < 2) return;
          buf = buf.subarray(2);
          chunkLeft = 0;
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const size = parseInt(buf.subarray(0, eol).toString('latin1'), 16);
        buf = buf.subarray(eol + 2);
        if (size === 0) {
          sock.end();
          return;
        }
        chunkLeft = size;
      }
    });
    sock.on('close', () => onEnd?.());
    sock.on('error', (e) => onEnd?.(closing ? undefined : e));
    return () => {
      closing = true;
      sock.destroy();
    };
  }

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }
}

// ---- statistics -------------------------------------------------------------------------------------------------

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const round = (x: number, d = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

/** Run `count` operations with `concurrency` in flight; returns ops/s and per-op latencies (ms, ascending). */
export async function closedLoop(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<{ opsPerSec: number; lat: Float64Array; elapsedMs: number }> {
  const lat = new Float64Array(count);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const s = performance.now();
        await op(i);
        lat[i] = performance.now() - s;
      }
    }),
  );
  const elapsedMs = performance.now() - t0;
  return { opsPerSec: count / (elapsedMs / 1000), lat: lat.sort(), elapsedMs };
}

// ---- processes and machine --------------------------------------------------------------------------------------

export function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** User+system CPU time of a process in ms (from /proc/PID/stat; 10 ms resolution at USER_HZ 100). */
/** The fields of /proc/PID/stat after the parenthesised command name (field 3 onwards). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

export function procCpuMs(pid: number): number {
  // utime and stime are fields 14 and 15 (1-based).
  const rest = statFields(pid);
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
}

/** CPU ms of a process's reaped children (cutime + cstime, fields 16 and 17). */
export function childrenCpuMs(pid: number): number {
  const rest = statFields(pid);
  return ((Number(rest[13]) + Number(rest[14])) * 1000) / 100;
}

/** CPU time of this (load-generator) process in ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU ms spent by several processes across `fn`, for per-operation CPU cost (robust against a busy machine). */
export async function withCpu<T>(pids: Record<string, number>, fn: () => Promise<T>): Promise<{ result: T; cpuMs: Record<string, number>; wallMs: number }> {
  const before: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) before[k] = procCpuMs(pid);
  const self0 = selfCpuMs();
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const cpuMs: Record<string, number> = { client: selfCpuMs() - self0 };
  for (const [k, pid] of Object.entries(pids)) cpuMs[k] = procCpuMs(pid) - before[k];
  return { result, cpuMs, wallMs };
}

/** Busy share of all cores since the previous call (from /proc/stat), to show how loaded the machine was. */
export class MachineLoad {
  private last = MachineLoad.read();
  static read(): { busy: number; total: number } {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = line[3] + (line[4] ?? 0);
    const total = line.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  }
  /** Fraction (0..1) of all cores busy since the last call, by every process on the machine. */
  sample(): number {
    const now = MachineLoad.read();
    const f = (now.busy - this.last.busy) / Math.max(1, now.total - this.last.total);
    this.last = now;
    return f;
  }
}

export function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    nproc: c.length,
    cpuModel: c[0]?.model,
    memTotalGiB: round(totalmem() / 2 ** 30, 1),
    memFreeGiB: round(freemem() / 2 ** 30, 1),
    loadavg: loadavg().map((x) => round(x, 2)),
    node: process.version,
    date: new Date().toISOString(),
  };
}
