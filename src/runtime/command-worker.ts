// The thread that starts the host programs command.ts does not hand to the spawning shell: detached ones (conmon)
// and those whose environment the shell cannot spell. Node's spawn blocks its caller until the child has exec'd — a
// fork of the whole (large) process, ~10 ms on a busy node — so here it blocks this thread, never the event loop.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { SpawnRequest, SpawnReply } from './command.js';

const port = parentPort!;

function reply(m: SpawnReply): void {
  port.postMessage(m);
}

function runToEnd(m: Extract<SpawnRequest, { kind: 'run' }>): void {
  let child;
  try {
    child = spawn(m.cmd, m.args, { env: m.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], ...(m.cwd ? { cwd: m.cwd } : {}) });
  } catch (e) {
    reply({ id: m.id, error: { message: (e as Error).message, code: (e as NodeJS.ErrnoException).code } });
    return;
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  let failed = false;
  if (m.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), m.timeoutMs);
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.on('error', (e: NodeJS.ErrnoException) => {
    if (timer) clearTimeout(timer);
    failed = true;
    reply({ id: m.id, error: { message: e.message, code: e.code } });
  });
  child.on('close', (code, signal) => {
    if (timer) clearTimeout(timer);
    if (failed) return;
    reply({ id: m.id, code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
  });
  child.stdin.on('error', () => {});
  child.stdin.end(m.input ?? '');
}

/** A detached program that outlives us (conmon): stderr appended to a file, fd 3 a pipe read until one JSON value or EOF. */
function detached(m: Extract<SpawnRequest, { kind: 'detached' }>): void {
  let errFd: number;
  try {
    errFd = openSync(m.stderrPath, 'a');
  } catch (e) {
    reply({ id: m.id, error: { message: (e as Error).message, code: (e as NodeJS.ErrnoException).code } });
    return;
  }
  let child;
  try {
    child = spawn(m.cmd, m.args, { stdio: ['ignore', 'ignore', errFd, 'pipe'], env: m.env ?? process.env, cwd: m.cwd, detached: true });
  } catch (e) {
    closeSync(errFd);
    reply({ id: m.id, error: { message: (e as Error).message, code: (e as NodeJS.ErrnoException).code } });
    return;
  }
  closeSync(errFd);
  child.unref();
  const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  let buf = '';
  let done = false;
  const finish = (r: SpawnReply): void => {
    if (done) return;
    done = true;
    sync.destroy();
    reply(r);
  };
  child.on('error', (e: NodeJS.ErrnoException) => finish({ id: m.id, error: { message: e.message, code: e.code } }));
  sync.on('data', (d: Buffer) => {
    buf += d.toString();
    try {
      JSON.parse(buf.trim());
      finish({ id: m.id, sync: buf.trim(), eof: false, pid: child.pid ?? 0 });
    } catch {
      // a partial message
    }
  });
  sync.on('error', () => {});
  sync.on('end', () => finish({ id: m.id, sync: buf.trim(), eof: true, pid: child.pid ?? 0 }));
}

port.on('message', (m: SpawnRequest) => (m.kind === 'run' ? runToEnd(m) : detached(m)));
