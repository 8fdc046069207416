// Listening sockets inside another network namespace, served by this process: a short-lived helper
// (netns-listen-child.ts) entered with nsenter binds the socket there and passes the handle back over node's IPC
// channel (SCM_RIGHTS). A socket keeps the namespace it was created in, so the returned net.Server / dgram.Socket
// accepts connections and datagrams from inside `netns` while this process stays where it is. Without a namespace
// it binds directly. Close the results with closeTcp / closeUdp (or their own close()).
import { spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./netns-listen-child.js', import.meta.url));
const HELPER_TIMEOUT_MS = 15_000;

function errnoError(message: string, code: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  e.code = code;
  return e;
}

/** Runs the helper in `netns`; resolves to the handle it sent (a raw TCP handle, or a dgram.Socket) once it has exited. */
function bindInNetns(netns: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netns}`, '--', process.execPath, CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let settled = false;
    let got: unknown;
    const settle = (err: Error | undefined, handle?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve(handle);
    };
    const timer = setTimeout(() => settle(new Error(`netns listener ${args.join(' ')} in ${netns}: helper did not answer`)), HELPER_TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => settle(e));
    child.on('message', (msg: { ok?: boolean; error?: string; code?: string }, handle: unknown) => {
      if (msg.ok && handle) got = handle;
      else settle(errnoError(`${msg.error ?? 'bind failed'} (in ${netns})`, msg.code ?? 'UNKNOWN'));
    });
    // 'close', not 'exit': it comes after the IPC channel has delivered everything the helper sent.
    child.on('close', (code, signal) => {
      if (got !== undefined) settle(undefined, got);
      else settle(new Error(`netns listener ${args.join(' ')} in ${netns}: helper exited (${signal ?? code}) ${stderr.trim()}`));
    });
  });
}

function listenOn(server: Server, what: object | { host: string; port: number; backlog?: number }): Promise<Server> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(what, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

/**
 * A TCP server listening on host:port inside the network namespace `netns` (a path for `nsenter --net=`; undefined:
 * this process's own). `server` (default a new net.Server; an http.Server or https.Server works too) is made to
 * listen on that socket and returned; port 0 picks a free port (see server.address()). Rejects with the bind error
 * (err.code EADDRINUSE, EADDRNOTAVAIL …).
 */
export async function listenTcp(netns: string | undefined, host: string, port: number, server: Server = createServer(), backlog?: number): Promise<Server> {
  if (!netns) return listenOn(server, { host, port, ...(backlog !== undefined ? { backlog } : {}) });
  const handle = await bindInNetns(netns, ['tcp', host, String(port), ...(backlog !== undefined ? [String(backlog)] : [])]);
  // net.Server.listen accepts a raw handle; the socket is already bound and listening.
  return listenOn(server, handle as object);
}

/** A UDP socket bound to host:port inside `netns` (undefined: this process's own); udp6 when host is IPv6. */
export async function bindUdp(netns: string | undefined, host: string, port: number): Promise<UdpSocket> {
  const type = isIPv6(host) ? 'udp6' : 'udp4';
  if (!netns) {
    const sock = createSocket({ type });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return sock;
  }
  return (await bindInNetns(netns, [type, host, String(port)])) as UdpSocket;
}

/** Stops accepting and resolves once the server's open connections have ended (destroy them first to hurry). */
export function closeTcp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** Closes a UDP socket; idempotent. */
export function closeUdp(sock: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
