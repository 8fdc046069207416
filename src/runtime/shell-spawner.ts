// Starting short-lived host programs through one long-lived /bin/sh (a "zygote"): a fork costs page-table copies in
// proportion to the forking process's memory (measured here: ~8 ms of the server's CPU per program from a 200 MB
// server, ~1 ms through the shell), and a pod start needs about ten programs. Every argument and value is single-quoted; the shell never parses user text.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export interface ShellRunRequest {
  cmd: string;
  args: string[];
  /** The program's whole environment (as child_process takes it); default the server's. */
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

export interface ShellRunResult {
  /** Exit status; 128 + n when killed by signal n (the shell's `$?`). */
  code: number;
  stdout: string;
  stderr: string;
}

/** A shell word: `'…'` with each `'` spelled `'\''`. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Pending {
  resolve: (r: ShellRunResult) => void;
  reject: (e: Error) => void;
  pid?: number;
  timer?: NodeJS.Timeout;
  files: { in?: string; out: string; err: string };
  cmd: string;
}

/** The place for the per-command files: tmpfs when there is one. */
function filesRoot(): string {
  for (const d of ['/dev/shm', '/run']) {
    try {
      if (existsSync(d)) {
        mkdirSync(join(d, 'k8ts-spawn'), { recursive: true, mode: 0o700 });
        return join(d, 'k8ts-spawn');
      }
    } catch {
      // not writable: the next
    }
  }
  return join(tmpdir(), 'k8ts-spawn');
}

/** Removes the file folders of processes that are gone (a server killed with SIGKILL leaves its folder behind). */
function removeStale(root: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(n.split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(root, n), { recursive: true, force: true });
    }
  }
}

let instances = 0;

/**
 * One `/bin/sh -s` fed a line per program. Each line starts a background job that runs the program with
 * stdin/stdout/stderr on files, reports its pid (`P id pid`, for timeouts) and its status (`D id status`); the
 * reports are lines shorter than PIPE_BUF, so they arrive whole. Started on first use, made
 * anew if it dies, and never keeps this process alive while idle.
 */
export class ShellSpawner {
  private sh: ChildProcessByStdio<Writable, Readable, null> | undefined;
  private shEnv: NodeJS.ProcessEnv = {};
  private nextId = 1;
  private buf = '';
  private readonly pending = new Map<number, Pending>();
  private dir: string | undefined;

  /** The shell's pid while it runs (for tests). */
  get shellPid(): number | undefined {
    return this.sh?.pid;
  }

  /**
   * True when `env` can be spelled as shell exports and unsets: every name set, and every name of the shell's own
   * environment left out, is a shell name (the shell refuses others, and its job would end without a word).
   */
  canRun(req: ShellRunRequest): boolean {
    if (!req.env) return true;
    const base = this.sh ? this.shEnv : process.env;
    return Object.keys(req.env).every((k) => ENV_NAME.test(k)) && Object.keys(base).every((k) => req.env![k] !== undefined || ENV_NAME.test(k));
  }

  run(req: ShellRunRequest): Promise<ShellRunResult> {
    for (const s of [req.cmd, ...req.args, req.cwd ?? '']) if (s.includes('\0')) return Promise.reject(new TypeError('a program argument holds a NUL byte'));
    const sh = this.ensure();
    const id = this.nextId++;
    const dir = this.dir!;
    const files: Pending['files'] = { out: join(dir, `${id}.out`), err: join(dir, `${id}.err`) };
    if (req.input !== undefined && req.input !== '') {
      files.in = join(dir, `${id}.in`);
      writeFileSync(files.in, req.input);
    }
    // The job (a subshell: its cd and exports stay in it) starts the program as its own background child, so that
    // its pid is known, and reports; the long-lived shell reaps finished jobs itself. Two forks of a small shell.
    const setup: string[] = [];
    if (req.cwd) setup.push(`cd ${shellQuote(req.cwd)} 2>${shellQuote(files.err)} || { echo "D ${id} 126"; exit; }`);
    if (req.env) {
      for (const k of Object.keys(this.shEnv)) if (req.env[k] === undefined) setup.push(`unset ${k}`);
      for (const [k, v] of Object.entries(req.env)) if (v !== undefined && this.shEnv[k] !== v) setup.push(`export ${k}=${shellQuote(v)}`);
    }
    const redirs = `<${files.in ? shellQuote(files.in) : '/dev/null'} >${shellQuote(files.out)} 2>${shellQuote(files.err)}`;
    const argv = [req.cmd, ...req.args].map(shellQuote).join(' ');
    const line = `{ ${setup.map((x) => `${x}; `).join('')}${argv} ${redirs} & p=$!; echo "P ${id} $p"; wait $p; echo "D ${id} $?"; } </dev/null &\n`;
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, files, cmd: req.cmd };
      if (req.timeoutMs) {
        p.timer = setTimeout(() => {
          if (p.pid) {
            try {
              process.kill(p.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
          // The job reports the kill at once; should it never report (itself killed), the caller is not left waiting.
          setTimeout(() => {
            if (this.pending.get(id) !== p) return;
            this.pending.delete(id);
            if (this.pending.size === 0) this.refs(false);
            this.cleanup(p);
            reject(new Error(`${req.cmd}: timed out after ${req.timeoutMs} ms and its job never reported`));
          }, 5000).unref();
        }, req.timeoutMs);
      }
      this.pending.set(id, p);
      if (this.pending.size === 1) this.refs(true);
      sh.stdin.write(line);
    });
  }

  private refs(on: boolean): void {
    const sh = this.sh;
    if (!sh) return;
    const f = on ? 'ref' : 'unref';
    sh[f]();
    for (const s of [sh.stdin, sh.stdout] as unknown as Array<{ ref?: () => void; unref?: () => void }>) s[f]?.();
  }

  private ensure(): ChildProcessByStdio<Writable, Readable, null> {
    if (this.sh) return this.sh;
    if (!this.dir) {
      const root = filesRoot();
      removeStale(root);
      this.dir = join(root, `${process.pid}-${instances++}`);
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const dir = this.dir;
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
    this.shEnv = { ...process.env };
    const sh = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'inherit'], env: this.shEnv });
    this.sh = sh;
    this.buf = '';
    sh.stdout.setEncoding('utf8');
    sh.stdout.on('data', (d: string) => this.onData(d));
    sh.stdin.on('error', () => {});
    const gone = (why: string): void => {
      if (this.sh !== sh) return;
      this.sh = undefined;
      const all = [...this.pending.values()];
      this.pending.clear();
      for (const p of all) {
        if (p.timer) clearTimeout(p.timer);
        this.cleanup(p);
        p.reject(new Error(`the spawning shell ${why}`));
      }
    };
    sh.on('error', (e) => gone(`failed: ${e.message}`));
    sh.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    if (this.pending.size === 0) this.refs(false);
    return sh;
  }

  private onData(d: string): void {
    this.buf += d;
    for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      const [kind, idText, value] = line.split(' ');
      const id = Number(idText);
      const p = this.pending.get(id);
      if (!p) continue;
      if (kind === 'P') {
        p.pid = Number(value);
        continue;
      }
      if (kind !== 'D') continue;
      this.pending.delete(id);
      if (this.pending.size === 0) this.refs(false);
      if (p.timer) clearTimeout(p.timer);
      const code = Number(value);
      const stdout = read(p.files.out);
      const stderr = read(p.files.err);
      this.cleanup(p);
      // The shell's own refusals, as spawn's errors: no such program (127), not executable or no such cwd (126) —
      // recognised by the shell's one-line message naming the program or the cd, not by the status alone.
      const shellSaid = (what: RegExp): boolean => /^[^\n]*\n?$/.test(stderr) && /^(\/bin\/)?sh: \d+: /.test(stderr) && what.test(stderr);
      const cmdText = p.cmd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (code === 127 && shellSaid(new RegExp(`: ${cmdText}: not found\\s*$`))) p.reject(Object.assign(new Error(`spawn ${p.cmd} ENOENT: ${stderr.trim()}`), { code: 'ENOENT' }));
      else if (code === 126 && shellSaid(new RegExp(`: (cd: can't cd to .*|${cmdText}: Permission denied)\\s*$`))) p.reject(Object.assign(new Error(`spawn ${p.cmd} EACCES: ${stderr.trim()}`), { code: 'EACCES' }));
      else p.resolve({ code, stdout, stderr });
    }
  }

  private cleanup(p: Pending): void {
    for (const f of [p.files.in, p.files.out, p.files.err]) {
      if (!f) continue;
      try {
        unlinkSync(f);
      } catch {
        // never made (the shell died first)
      }
    }
  }
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
