// Running the host programs the runtime drives (runc, conmon, CNI plugins, nsenter, mount): argv in, exit code and
// output out, optionally inside a network namespace. No shell is ever involved.
import { spawn } from 'node:child_process';

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
}

/** `[cmd, args]` that runs argv inside `netns` (unchanged when netns is undefined). */
export function inNetns(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns ? ['nsenter', [`--net=${netns}`, '--', cmd, ...args]] : [cmd, args];
}

/** Runs a program to completion; never throws for a non-zero exit (see `check`). */
export function run(cmd: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const [c, a] = inNetns(opts.netns, cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(c, a, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: code ?? 128 + (signal ? signalNumber(signal) : 0),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
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
