// The kubelet's HTTPS server, as upstream's: container logs, exec/attach (WebSocket channel protocol), port-forward,
// the Summary API, resource metrics, /pods and /healthz, for clients holding a certificate of the cluster CA with
// the API server's kubelet-client identity (or system:masters).

import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Container as RuntimeContainer } from '../../runtime/interface.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID, type KubeletBackend, type Pod } from '../types.js';
import { CLOSE, ERROR, PROTOCOLS, RESIZE, STDERR, STDIN, STDOUT, errorStatus, exitStatus, frame, parseResize, streamOptions } from './channels.js';
import { parseLogQuery } from './crilog.js';
import { streamContainerLog } from './logs.js';
import { metricsResource, statsSummary } from './stats.js';
import { servePortForward } from './portforward.js';

export interface KubeletServerOptions {
  backend: KubeletBackend;
  tls: { cert: string; key: string; caCert: string };
  bindAddress: string;
  /** 0 = an ephemeral port. */
  port: number;
  log?: (msg: string) => void;
}

/** The identities allowed in: the API server's kubelet client (kubeadm's name) or any system:masters member. */
export const KUBELET_CLIENT_CN = 'kube-apiserver-kubelet-client';

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class KubeletServer {
  private server?: Server;
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => PROTOCOLS.find((x) => p.has(x)) ?? false });
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly opts: KubeletServerOptions) {}

  async start(): Promise<number> {
    const { cert, key, caCert } = this.opts.tls;
    const server = createServer({ cert, key, ca: caCert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    server.requestTimeout = 0;
    server.on('connection', (s: Duplex) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(req, socket, head).catch((err: unknown) => {
        const code = err instanceof HttpError ? err.code : 500;
        if (socket.writable) socket.end(`HTTP/1.1 ${code} ${code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : code === 404 ? 'Not Found' : 'Error'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${(err as Error).message}`);
      });
    });
    this.server = server;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(this.opts.port, this.opts.bindAddress, () => res());
    });
    const a = server.address();
    return typeof a === 'object' && a ? a.port : this.opts.port;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private authorized(req: IncomingMessage): boolean {
    const sock = req.socket as TLSSocket;
    if (!sock.authorized) return false;
    const subject = sock.getPeerCertificate()?.subject as Record<string, string | string[]> | undefined;
    if (!subject) return false;
    const cn = ([] as string[]).concat(subject.CN ?? []);
    const o = ([] as string[]).concat(subject.O ?? []);
    return cn.includes(KUBELET_CLIENT_CN) || o.includes('system:masters');
  }

  private fail(res: ServerResponse, err: unknown): void {
    const code = err instanceof HttpError ? err.code : 500;
    const msg = err instanceof Error ? err.message : String(err);
    if (!res.headersSent) {
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(msg);
    } else res.end();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.authorized(req)) throw new HttpError(401, 'Unauthorized');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const { backend } = this.opts;
    if (req.method !== 'GET' && !(req.method === 'POST' && ['exec', 'attach', 'portForward'].includes(parts[0] ?? ''))) throw new HttpError(405, 'Method Not Allowed');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      return void res.end('ok');
    }
    if (url.pathname === '/pods') {
      const body = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: backend.pods() });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(body);
    }
    if (url.pathname === '/stats/summary') {
      const body = JSON.stringify(await statsSummary(backend));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(body);
    }
    if (url.pathname === '/metrics/resource') {
      const body = metricsResource(await statsSummary(backend));
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      return void res.end(body);
    }
    if (parts[0] === 'containerLogs' && parts.length === 4) return this.containerLogs(parts[1]!, parts[2]!, parts[3]!, url.searchParams, req, res);
    if (['exec', 'attach', 'portForward'].includes(parts[0] ?? '')) throw new HttpError(400, 'Upgrade request required');
    throw new HttpError(404, '404 page not found');
  }

  private findPod(ns: string, name: string): Pod {
    const pod = this.opts.backend.pods().find((p) => p.metadata.namespace === ns && p.metadata.name === name);
    if (!pod) throw new HttpError(404, `pod "${name}" in namespace "${ns}" not found`);
    return pod;
  }

  /** The pod's containers named `container`, newest attempt first. */
  private async instances(pod: Pod, container: string): Promise<RuntimeContainer[]> {
    const list = await this.opts.backend.runtime.listContainers({ labelSelector: { [LABEL_POD_UID]: pod.metadata.uid!, [LABEL_CONTAINER_NAME]: container } });
    return list.sort((a, b) => b.metadata.attempt - a.metadata.attempt || b.createdAt - a.createdAt);
  }

  private async containerLogs(ns: string, podName: string, container: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let opts: ReturnType<typeof parseLogQuery>;
    try {
      opts = parseLogQuery(q);
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
    const pod = this.findPod(ns, podName);
    const all = await this.instances(pod, container);
    const c = opts.previous ? all[1] : all[0];
    if (!c) {
      throw new HttpError(
        opts.previous ? 400 : 404,
        opts.previous ? `previous terminated container "${container}" in pod "${podName}" not found` : `container "${container}" in pod "${podName}" is not available`,
      );
    }
    const rt = this.opts.backend.runtime;
    const status = await rt.containerStatus(c.id);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    let closed = false;
    res.once('close', () => (closed = true));
    const running = async () => {
      try {
        const s = await rt.containerStatus(c.id);
        return s.state === 'CONTAINER_RUNNING' || s.state === 'CONTAINER_CREATED';
      } catch {
        return false;
      }
    };
    const sink = { write: (s: string) => res.write(s), get closed() { return closed; } };
    await streamContainerLog(status.logPath, { ...opts, follow: opts.follow && !opts.previous }, sink, running);
    res.end();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.sockets.add(socket);
    if (!this.authorized(req)) throw new HttpError(401, 'Unauthorized');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const kind = parts[0];
    if (kind === 'portForward' && parts.length >= 3) {
      const pod = this.findPod(parts[1]!, parts[2]!);
      const sandboxes = await this.opts.backend.runtime.listPodSandboxes({ state: 'SANDBOX_READY', labelSelector: { [LABEL_POD_UID]: pod.metadata.uid! } });
      const sb = sandboxes[0];
      if (!sb) throw new HttpError(404, `pod sandbox of "${parts[2]}" not found`);
      return servePortForward(req, socket, head, (port) => this.opts.backend.runtime.portForward(sb.id, port), this.opts.log);
    }
    if ((kind !== 'exec' && kind !== 'attach') || parts.length !== 4) throw new HttpError(404, '404 page not found');
    const pod = this.findPod(parts[1]!, parts[2]!);
    const c = (await this.instances(pod, parts[3]!))[0];
    if (!c) throw new HttpError(404, `container "${parts[3]}" in pod "${parts[2]}" not found`);
    if (c.state !== 'CONTAINER_RUNNING') throw new HttpError(400, `container ${parts[3]} is not running`);
    const so = streamOptions(url.searchParams);
    const command = url.searchParams.getAll('command');
    if (kind === 'exec' && command.length === 0) throw new HttpError(400, 'you must specify at least one command for the container');
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') throw new HttpError(400, 'only WebSocket streaming (v4/v5.channel.k8s.io) is supported');
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.session(ws, kind, c.id, command, so));
  }

  private async session(ws: WebSocket, kind: 'exec' | 'attach', id: string, command: string[], so: ReturnType<typeof streamOptions>): Promise<void> {
    const send = (ch: number, data: Buffer | string) => {
      if (ws.readyState === ws.OPEN) ws.send(frame(ch, data));
    };
    const out = (ch: number) =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          send(ch, chunk);
          cb();
        },
      });
    const stdin = so.stdin ? new PassThrough() : undefined;
    const resizeListeners: Array<(s: { width: number; height: number }) => void> = [];
    // kubectl sends the terminal's size as the session opens, often before the runtime has asked for resizes:
    // a late listener gets the last size at once.
    let lastSize: { width: number; height: number } | undefined;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const buf = isBinary ? data : Buffer.from(data.toString(), 'base64');
      if (buf.length === 0) return;
      const ch = buf[0];
      const payload = buf.subarray(1);
      if (ch === STDIN && stdin && payload.length) stdin.write(payload);
      else if (ch === RESIZE) {
        const s = parseResize(payload);
        if (s) {
          lastSize = s;
          for (const l of resizeListeners) l(s);
        }
      } else if (ch === CLOSE && payload[0] === STDIN) stdin?.end();
    });
    const gone = new AbortController();
    ws.on('close', () => {
      stdin?.end();
      gone.abort();
    });
    const io = {
      signal: gone.signal,
      stdin,
      stdout: so.stdout ? out(STDOUT) : undefined,
      stderr: so.stderr ? out(STDERR) : undefined,
      tty: so.tty,
      onResize: (l: (s: { width: number; height: number }) => void) => {
        resizeListeners.push(l);
        if (lastSize) l(lastSize);
      },
    };
    try {
      const rt = this.opts.backend.runtime;
      if (kind === 'exec') {
        const code = await rt.exec(id, command, io);
        send(ERROR, JSON.stringify(exitStatus(code)));
      } else {
        await rt.attach(id, io);
        send(ERROR, JSON.stringify(exitStatus(0)));
      }
    } catch (e) {
      send(ERROR, JSON.stringify(errorStatus((e as Error).message)));
    }
    ws.close(1000);
  }
}
