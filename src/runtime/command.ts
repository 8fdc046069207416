// Running the host programs the runtime drives (runc, conmon, CNI plugins, nsenter, mount): argv in, exit code and
// output out, optionally inside a network namespace. Short-lived programs start from a small long-lived shell
// (shell-spawner.ts: every word quoted), detached ones (conmon) from a worker thread (command-worker.ts), so no fork
// of this large process ever blocks the event loop.
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { ShellSpawner } from './shell-spawner.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Run inside this network namespace (a path for `nsenter --net=`). */
  netns?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** `[cmd, args]` that runs argv inside `netns` (unchanged when netns is undefined). */
export function inNetns(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns ? ['nsenter', [`--net=${netns}`, '--', cmd, ...args]] : [cmd, args];
}

/** What command-worker.ts is asked to do: run a program to its end, or start a detached one with a sync pipe. */
export type SpawnRequest =
  | { kind: 'run'; id: number; cmd: string; args: string[]; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string }
  | { kind: 'detached'; id: number; cmd: string; args: string[]; env?: NodeJS.ProcessEnv; cwd: string; stderrPath: string };
export type SpawnReply =
  | { id: number; error: { message: string; code?: string | undefined } }
  | { id: number; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { id: number; sync: string; eof: boolean; pid: number };

/**
 * The spawning thread (command-worker.ts), started on first use and re-made if it ever dies; referenced only while
 * a request is outstanding, so it never keeps the process alive.
 */
class Spawner {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: SpawnReply) => void; reject: (e: Error) => void }>();

  request(req: DistributiveOmit<SpawnRequest, 'id'>): Promise<SpawnReply> {
    const w = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) w.ref();
      w.postMessage({ ...req, id });
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    // No inherited node flags: --input-type (a script given with -e) makes a worker fail to load its file.
    const w = new Worker(new URL('./command-worker.js', import.meta.url), { env: SHARE_ENV, execArgv: [] });
    w.unref();
    w.on('message', (m: SpawnReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      p.resolve(m);
    });
    const fail = (e: Error): void => {
      if (this.worker === w) this.worker = undefined;
      const all = [...this.pending.values()];
      this.pending.clear();
      for (const p of all) p.reject(e);
    };
    let why: Error | undefined;
    w.on('error', (e) => {
      why = e;
      fail(e);
    });
    w.on('exit', (code) => fail(why ?? new Error(`command worker exited (${code})`)));
    this.worker = w;
    return w;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const spawner = new Spawner();

function spawnError(e: { message: string; code?: string | undefined }): Error {
  return Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
}

const shell = new ShellSpawner();

/**
 * Runs a program to completion; never throws for a non-zero exit (see `check`). It is started by the spawning shell
 * (shell-spawner.ts: a fork of a small process, not of this one), or by the worker thread for an environment the
 * shell cannot spell.
 */
export async function run(cmd: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const [c, a] = inNetns(opts.netns, cmd, args);
  const req = {
    cmd: c,
    args: a,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  };
  if (shell.canRun(req)) return shell.run(req);
  const r = await spawner.request({ kind: 'run', ...req });
  if ('error' in r) throw spawnError(r.error);
  if (!('stdout' in r)) throw new Error(`command worker: unexpected reply to ${c}`);
  return { code: r.code ?? 128 + (r.signal ? signalNumber(r.signal) : 0), stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts a program that outlives this process (conmon: own session, stdin/stdout closed, stderr appended to
 * `stderrPath`) with a pipe on its fd 3; resolves with what it wrote there — one JSON value — or, when it closed
 * the pipe first, whatever it wrote (`eof`).
 */
export async function startDetached(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd: string; stderrPath: string }): Promise<{ sync: string; eof: boolean; pid: number }> {
  const r = await spawner.request({ kind: 'detached', cmd, args, cwd: opts.cwd, stderrPath: opts.stderrPath, ...(opts.env ? { env: opts.env } : {}) });
  if ('error' in r) throw spawnError(r.error);
  if (!('sync' in r)) throw new Error(`command worker: unexpected reply to ${cmd}`);
  return r;
}

/** Runs a program and throws with its stderr when it exits non-zero; resolves with stdout. */
export async function check(cmd: string, args: string[], opts: CommandOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10,
  SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20,
  SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
  SIGPWR: 30, SIGSYS: 31,
};

/** Linux signal number of a name (`SIGTERM`, `TERM`, `15`); throws on an unknown one. */
export function signalNumber(sig: string): number {
  if (/^\d+$/.test(sig)) return Number(sig);
  const n = SIGNALS[sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`];
  if (n === undefined) throw new Error(`unknown signal ${sig}`);
  return n;
}
