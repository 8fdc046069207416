// TCP connections made from inside a network namespace, cheaply enough for probes: one long-lived relay process per
// namespace (dialer-relay.ts, entered once with nsenter) reached over a unix socket, one header line per connection.
// Without a namespace it dials directly with node:net. Errors carry node's errno message and code.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';

export interface NetnsDialer {
  /** A connected TCP stream to host:port; rejects with e.g. `connect ECONNREFUSED 10.42.0.5:8080` (err.code set). */
  dial(host: string, port: number, timeoutMs?: number): Promise<Duplex>;
  /** Stops the relay and removes its socket; dials after close reject. Idempotent. */
  close(): Promise<void>;
}

const RELAY = fileURLToPath(new URL('./dialer-relay.js', import.meta.url));

function errnoError(message: string, code: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  e.code = code;
  return e;
}

function timeoutError(host: string, port: number): NodeJS.ErrnoException {
  return errnoError(`connect ETIMEDOUT ${host}:${port}`, 'ETIMEDOUT');
}

/** Direct dial with node:net (no namespace). */
function dialDirect(host: string, port: number, timeoutMs?: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      s.destroy();
      reject(timeoutError(host, port));
    }, timeoutMs);
    s.once('connect', () => {
      if (timer) clearTimeout(timer);
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
  });
}

/** Opens a dialer for `netns` (a path for `nsenter --net=`); undefined dials from the caller's own namespace. */
export async function openNetnsDialer(netns: string | undefined): Promise<NetnsDialer> {
  if (!netns) return { dial: dialDirect, close: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-dialer-'));
  const sockPath = join(dir, 'relay.sock');
  let child: ChildProcess | undefined;
  let starting: Promise<void> | undefined;
  let closed = false;

  // Starts the relay (again, if it died) and resolves once it listens.
  const ensureRelay = (): Promise<void> => {
    if (starting) return starting;
    starting = new Promise<void>((resolve, reject) => {
      rmSync(sockPath, { force: true });
      const c = spawn('nsenter', [`--net=${netns}`, '--', process.execPath, RELAY, sockPath], { stdio: ['pipe', 'pipe', 'pipe'] });
      child = c;
      let out = '';
      let err = '';
      let ready = false;
      c.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (!ready && out.includes('ready\n')) {
          ready = true;
          resolve();
        }
      });
      c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      c.on('error', (e) => {
        starting = undefined;
        reject(e);
      });
      c.on('exit', (code, signal) => {
        if (child === c) {
          child = undefined;
          starting = undefined;
        }
        if (!ready) reject(new Error(`netns dialer relay in ${netns} exited (${signal ?? code}): ${err.trim()}`));
      });
    });
    return starting;
  };
  await ensureRelay();

  const dial = async (host: string, port: number, timeoutMs?: number): Promise<Duplex> => {
    if (closed) throw new Error('netns dialer is closed');
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    await ensureRelay();
    return new Promise<Duplex>((resolve, reject) => {
      const s: Socket = connect({ path: sockPath });
      let settled = false;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        s.off('readable', onReadable);
        s.off('error', settle);
        s.off('end', onEnd);
        if (err) {
          s.destroy();
          reject(err);
        } else resolve(s);
      };
      const left = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      const timer = left === undefined ? undefined : setTimeout(() => settle(timeoutError(host, port)), left);
      let buf = Buffer.alloc(0);
      const onReadable = (): void => {
        let chunk: Buffer | null;
        while ((chunk = s.read() as Buffer | null) !== null) {
          buf = Buffer.concat([buf, chunk]);
          const nl = buf.indexOf(10);
          if (nl < 0) continue;
          const rest = buf.subarray(nl + 1);
          let reply: { ok?: boolean; error?: string; code?: string };
          try {
            reply = JSON.parse(buf.subarray(0, nl).toString()) as typeof reply;
          } catch {
            settle(new Error(`netns dialer: bad relay reply ${JSON.stringify(buf.subarray(0, nl).toString())}`));
            return;
          }
          if (!reply.ok) {
            settle(errnoError(reply.error ?? `connect failed ${host}:${port}`, reply.code ?? 'UNKNOWN'));
            return;
          }
          // Bytes the peer sent right after the reply belong to the caller.
          if (rest.length > 0) s.unshift(rest);
          settle();
          return;
        }
      };
      s.on('readable', onReadable);
      const onEnd = (): void => settle(new Error(`netns dialer: relay closed the connection to ${host}:${port}`));
      s.once('error', settle);
      s.once('end', onEnd);
      s.once('connect', () => {
        s.write(`${JSON.stringify({ host, port, timeoutMs: left })}\n`);
      });
    });
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { dial, close };
}
