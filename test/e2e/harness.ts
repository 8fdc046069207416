// End-to-end harness: starts the real `node bin/k8ts.js server` on a free loopback port with a temporary data dir,
// and runs the real kubectl 1.32 (.tools/bin/kubectl, installed by scripts/install-kubectl.mjs) against it.
// Also holds the small output parsers the e2e tests share (kubectl tables, ANSI stripping).

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as stringifyYaml } from 'yaml';

/** Repository root: the nearest ancestor of this file holding a package.json named k8ts (works from dist/ too). */
export const repoRoot: string = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
export const kubectlBin: string = path.join(repoRoot, '.tools', 'bin', 'kubectl');
export const manifestsDir: string = path.join(repoRoot, 'test', 'e2e', 'manifests');

const READY_TIMEOUT_MS = Number(process.env.K8TS_E2E_READY_TIMEOUT_MS ?? 30_000);
const KUBECTL_TIMEOUT_MS = Number(process.env.K8TS_E2E_KUBECTL_TIMEOUT_MS ?? 30_000);
const KEEP = process.env.K8TS_E2E_KEEP === '1';

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'k8ts') return dir;
      } catch {
        // not ours; keep climbing
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`k8ts repository root not found above ${start}`);
    dir = up;
  }
}

/** Absolute path of one of the test's own manifests (test/e2e/manifests/<name>). */
export function manifest(name: string): string {
  return path.join(manifestsDir, name);
}

// Every child we start is killed if the test process dies, so no server outlives its test file.
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of liveChildren) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The command line, for assertion messages. */
  command: string;
}

export interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** A long-running child (kubectl get -w, kubectl wait) whose output can be awaited line by line. */
export class Background {
  stdout = '';
  stderr = '';
  readonly done: Promise<RunResult>;
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(child: ChildProcess, command: string, timeoutMs: number) {
    this.child = child;
    liveChildren.add(child);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      this.stdout += d;
      this.wake();
    });
    child.stderr?.on('data', (d: string) => {
      this.stderr += d;
      this.wake();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    this.done = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        liveChildren.delete(child);
        this.wake();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, timedOut, command });
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /**
   * Resolves once the output satisfies `what` (a RegExp tested against stdout+stderr, or a predicate given stdout and
   * stderr); rejects after timeoutMs or if the process exits first without a match.
   */
  async waitFor(what: RegExp | ((stdout: string, stderr: string) => boolean), timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (what instanceof RegExp) {
        const m = what.exec(this.stdout + this.stderr);
        if (m) return m[0];
      } else if (what(this.stdout, this.stderr)) {
        return this.stdout;
      }
      if (this.exited) {
        throw new Error(`process exited before output matched ${String(what)}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${String(what)}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL after 3 s) and returns its result. */
  async stop(): Promise<RunResult> {
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
      const r = await this.done;
      clearTimeout(t);
      return r;
    }
    return await this.done;
  }
}

/** Runs a process to completion with a hard timeout (SIGKILL), collecting its output. */
export async function run(file: string, args: string[], opts: RunOptions & { cwd?: string } = {}): Promise<RunResult> {
  const command = [file, ...args].map(shellQuote).join(' ');
  const child = spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const bg = new Background(child, command, opts.timeoutMs ?? KUBECTL_TIMEOUT_MS);
  child.stdin?.on('error', () => {
    // kubectl may exit before reading stdin; that is not our failure
  });
  child.stdin?.end(opts.stdin ?? '');
  return await bg.done;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Formats a result for an assertion message. */
export function describeResult(r: RunResult): string {
  return (
    `$ ${r.command}\n` +
    `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' (TIMED OUT)' : ''}\n` +
    `--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`
  );
}

export interface KubectlClientOptions {
  /** Adds `--namespace <ns>` to every command. */
  namespace?: string;
  /** Use this kubeconfig instead of the server's current one. */
  kubeconfig?: string;
}

/** The real kubectl bound to one server, kubeconfig and private discovery cache dir. */
export class Kubectl {
  constructor(
    private readonly server: Server,
    private readonly cacheDir: string,
    private readonly opts: KubectlClientOptions,
  ) {}

  get namespace(): string | undefined {
    return this.opts.namespace;
  }

  private argv(args: string[]): string[] {
    const g = ['--kubeconfig', this.opts.kubeconfig ?? this.server.kubeconfig, '--cache-dir', this.cacheDir];
    if (this.opts.namespace) g.push('--namespace', this.opts.namespace);
    return [...g, ...args];
  }

  private env(extra?: Record<string, string>): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.server.homeDir,
      LANG: 'C',
      TMPDIR: this.server.tmpDir,
      ...extra,
    };
  }

  async run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return await run(kubectlBin, this.argv(args), { ...opts, env: this.env(opts.env) });
  }

  /** Runs and requires exit code 0. */
  async ok(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`kubectl failed unexpectedly\n${describeResult(r)}${this.server.logTail()}`);
    return r;
  }

  /** Runs and requires a non-zero exit code (and no timeout). */
  async fail(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const r = await this.run(args, opts);
    if (r.code === 0 || r.timedOut) {
      throw new Error(`kubectl should have failed\n${describeResult(r)}${this.server.logTail()}`);
    }
    return r;
  }

  /** Starts a long-running kubectl (get -w, wait); call stop() or await done. */
  spawn(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Background {
    const argv = this.argv(args);
    const child = spawn(kubectlBin, argv, { env: this.env(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    return new Background(child, [kubectlBin, ...argv].map(shellQuote).join(' '), opts.timeoutMs ?? 60_000);
  }
}

export interface ServerOptions {
  /** Reuse an existing data dir (restart tests); default a fresh temp dir. */
  dataDir?: string;
  port?: number;
  extraArgs?: string[];
  /**
   * Run the server's kubelet (real containers). Off by default: a test that wants it passes `--node-netns` in
   * extraArgs so that pods live in a test host namespace (network rule), not in the machine's own.
   */
  agent?: boolean;
}

/** One real k8ts server process. Start with Server.start(); stop() kills it and removes its temp dirs. */
export class Server {
  readonly tmpDir: string;
  readonly dataDir: string;
  readonly homeDir: string;
  readonly port: number;
  kubeconfig = '';
  readyLine = '';
  private child: ChildProcess | undefined;
  private logBuf: string[] = [];
  private readonly logFile: string;
  private readonly extraArgs: string[];
  private cacheCount = 0;

  private constructor(tmpDir: string, dataDir: string, port: number, extraArgs: string[]) {
    this.tmpDir = tmpDir;
    this.dataDir = dataDir;
    this.port = port;
    this.homeDir = path.join(tmpDir, 'home');
    this.logFile = path.join(tmpDir, 'server.log');
    this.extraArgs = extraArgs;
    fs.mkdirSync(this.homeDir, { recursive: true });
  }

  static async start(opts: ServerOptions = {}): Promise<Server> {
    if (!fs.existsSync(kubectlBin)) {
      throw new Error(`${kubectlBin} missing: run \`node scripts/install-kubectl.mjs\` first`);
    }
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-e2e-'));
    const dataDir = opts.dataDir ?? path.join(tmpDir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const port = opts.port ?? (await freePort());
    // With the agent the cluster DNS runs too; tests never forward names out of the cluster (no upstream resolver)
    // unless they say otherwise.
    const extra = opts.extraArgs ?? [];
    const agentArgs = extra.includes('--dns-upstream') ? [] : ['--dns-upstream', 'none'];
    const s = new Server(tmpDir, dataDir, port, [...(opts.agent ? agentArgs : ['--disable-agent']), ...extra]);
    try {
      await s.launch();
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** A kubectl with its own fresh --cache-dir (so discovery caching never leaks between tests). */
  client(opts: KubectlClientOptions = {}): Kubectl {
    const dir = path.join(this.tmpDir, `cache-${++this.cacheCount}`);
    fs.mkdirSync(dir, { recursive: true });
    return new Kubectl(this, dir, opts);
  }

  /** The last lines of the server's output, appended to assertion messages. */
  logTail(lines = 40): string {
    const all = this.logBuf.join('').split('\n');
    return `\n--- server log (last ${lines} lines) ---\n${all.slice(-lines).join('\n')}\n`;
  }

  private async launch(): Promise<void> {
    const args = [
      path.join(repoRoot, 'bin', 'k8ts.js'),
      'server',
      '--data-dir',
      this.dataDir,
      '--bind-address',
      '127.0.0.1',
      '--port',
      String(this.port),
      ...this.extraArgs,
    ];
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, HOME: this.homeDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    liveChildren.add(child);
    let pending = '';
    let readyResolve: (line: string) => void = () => {};
    let readyReject: (e: Error) => void = () => {};
    const ready = new Promise<string>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    const onData = (d: Buffer): void => {
      const s = d.toString('utf8');
      fs.writeSync(log, s);
      this.logBuf.push(s);
      if (this.logBuf.length > 2000) this.logBuf.splice(0, 1000);
      pending += s;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (/\bready\b/i.test(line)) readyResolve(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('close', (code, signal) => {
      liveChildren.delete(child);
      fs.closeSync(log);
      readyReject(new Error(`server exited before ready (code ${code}, signal ${signal})${this.logTail()}`));
    });
    const timer = setTimeout(
      () => readyReject(new Error(`server not ready within ${READY_TIMEOUT_MS} ms${this.logTail()}`)),
      READY_TIMEOUT_MS,
    );
    try {
      this.readyLine = await ready;
    } finally {
      clearTimeout(timer);
    }
    const fromLine = /(\/\S*kubeconfig\S*)/.exec(this.readyLine)?.[1];
    this.kubeconfig = fromLine && fs.existsSync(fromLine) ? fromLine : path.join(this.dataDir, 'kubeconfig.yaml');
    if (!fs.existsSync(this.kubeconfig)) {
      throw new Error(`server said ready but ${this.kubeconfig} does not exist: ${this.readyLine}`);
    }
  }

  /** Stops the process: `signal` (SIGTERM by default), then SIGKILL after 10 s. Keeps the data dir. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null };
    }
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const r = await closed;
    clearTimeout(t);
    return r;
  }

  /** Stops (SIGTERM, or SIGKILL to simulate a crash) and starts the server again on the same port and data dir. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.kill(signal);
    await this.launch();
  }

  /** Stops the server and removes every temp dir it made (unless K8TS_E2E_KEEP=1). */
  async stop(): Promise<void> {
    await this.kill();
    if (KEEP) {
      process.stderr.write(`k8ts e2e: kept ${this.tmpDir}\n`);
      return;
    }
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Output helpers

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

export interface Table {
  headers: string[];
  rows: Array<Record<string, string>>;
  /** Raw header line (right-trimmed). */
  headerLine: string;
}

/**
 * Parses one kubectl table (tabwriter output): column starts come from the header line, where names are separated
 * by at least two spaces (a header may contain one space, e.g. "NOMINATED NODE").
 */
export function parseTable(text: string): Table {
  const tables = parseTables(text);
  if (tables.length !== 1) throw new Error(`expected exactly one table, found ${tables.length} in:\n${text}`);
  return tables[0]!;
}

/** Parses blank-line-separated tables (kubectl get all, get pod,svc). */
export function parseTables(text: string): Table[] {
  const blocks = text
    .split(/\n\s*\n/)
    .map((b) => b.split('\n').filter((l) => l.trim() !== ''))
    .filter((b) => b.length > 0);
  return blocks.map((lines) => {
    const headerLine = lines[0]!.trimEnd();
    const starts: number[] = [];
    const headers: string[] = [];
    const re = /\S+(?: \S+)*/g;
    for (let m = re.exec(headerLine); m; m = re.exec(headerLine)) {
      starts.push(m.index);
      headers.push(m[0]);
    }
    const rows = lines.slice(1).map((line) => {
      const row: Record<string, string> = {};
      headers.forEach((h, i) => {
        const end = i + 1 < starts.length ? starts[i + 1] : undefined;
        row[h] = line.slice(starts[i], end).trim();
      });
      return row;
    });
    return { headers, rows, headerLine };
  });
}

/** Lines of s without the trailing empty line. */
export function lines(s: string): string[] {
  const l = s.split('\n');
  if (l.length > 0 && l[l.length - 1] === '') l.pop();
  return l;
}

let nameSeq = 0;
/** A DNS-1123 name unique within this process: `<prefix>-<pid-ish><seq>`. */
export function uniqueName(prefix: string): string {
  nameSeq++;
  return `${prefix}-${(process.pid % 1000).toString(36)}${nameSeq.toString(36)}${Math.floor(Math.random() * 1296)
    .toString(36)
    .padStart(2, '0')}`;
}

/** Polls fn until it returns a truthy value or the deadline passes (for state the API reaches asynchronously). */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Writes text to a file in the server's temp dir and returns its path (for KUBE_EDITOR scripts, -f files). */
export function writeTemp(server: Server, name: string, text: string, mode = 0o644): string {
  const p = path.join(server.tmpDir, name);
  fs.writeFileSync(p, text, { mode });
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// Manifest builders (objects rendered as YAML for `kubectl create -f -`).

export interface PodOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  image?: string;
  containers?: Array<Record<string, unknown>>;
  namespace?: string;
}

export function podObject(name: string, o: PodOptions = {}): Record<string, unknown> {
  const metadata: Record<string, unknown> = { name };
  if (o.namespace) metadata.namespace = o.namespace;
  if (o.labels) metadata.labels = o.labels;
  if (o.annotations) metadata.annotations = o.annotations;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: {
      containers: o.containers ?? [{ name: 'main', image: o.image ?? 'busybox:1.36', command: ['sleep', '3600'] }],
    },
  };
}

export function configMapObject(name: string, data: Record<string, string>, labels?: Record<string, string>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: labels ? { name, labels } : { name }, data };
}

/**
 * Several objects as one multi-document YAML stream. Not JSON: kubectl sniffs a stream starting with `{` as JSON
 * and then rejects the `---` separators. YAML 1.1 rules, as kubectl's parser uses them: `y`, `n`, `on`… get quoted.
 */
export function docs(...objs: unknown[]): string {
  return objs.map((o) => stringifyYaml(o, { version: '1.1' })).join('---\n');
}

/** Creates a uniquely named namespace (via `create -f`, JSON body) and returns a kubectl bound to it. */
export async function withNamespace(server: Server, prefix: string): Promise<Kubectl> {
  const ns = uniqueName(prefix);
  await server.client().ok(['create', '-f', '-'], {
    stdin: docs({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }),
  });
  return server.client({ namespace: ns });
}
