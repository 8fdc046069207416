// The Ingress controller's reverse proxy: an HTTP request (or WebSocket upgrade) is routed by its Host and path,
// forwarded to one ready endpoint of the backend (round-robin, the next one tried when a dial fails) with
// X-Forwarded-For/-Proto/-Host/-Port and X-Real-Ip set, and the response streamed back. 404 when no rule matches,
// 503 when the backend has no endpoints, 502 when none can be reached.

import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TargetEndpoint } from './routes.js';

export type Lookup =
  | { kind: 'none' }
  | { kind: 'unavailable'; why: string }
  | { kind: 'ok'; key: string; endpoints: TargetEndpoint[] };

export interface ReverseProxyOptions {
  /** Routes a request: host header and path (without the query). */
  lookup(host: string | undefined, path: string): Lookup;
  /** A TCP connection to a pod (from inside the node's network namespace). */
  dial(host: string, port: number, timeoutMs?: number): Promise<Duplex>;
  log?: (m: string) => void;
  dialTimeoutMs?: number;
}

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1), plus those the Connection header names. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function connectionTokens(v: string | string[] | undefined): Set<string> {
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  return new Set(s.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/** The client's address as the proxy reports it (IPv4-mapped IPv6 unwrapped). */
export function clientAddress(s: { remoteAddress?: string | undefined }): string {
  const a = s.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * The request headers sent upstream: hop-by-hop ones dropped (unless keepUpgrade, for a WebSocket handshake), the
 * client's own X-Forwarded-* replaced (clients are not trusted to set them), Host kept.
 */
export function forwardedHeaders(h: IncomingHttpHeaders, f: { clientIP: string; proto: 'http' | 'https'; port: number }, keepUpgrade = false): Record<string, string | string[]> {
  const drop = connectionTokens(h.connection);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if ((HOP_BY_HOP.has(k) || drop.has(k)) && !(keepUpgrade && (k === 'connection' || k === 'upgrade'))) continue;
    if (k.startsWith('x-forwarded-') || k === 'x-real-ip') continue;
    out[k] = v;
  }
  out['x-forwarded-for'] = f.clientIP;
  out['x-forwarded-proto'] = f.proto;
  if (h.host) out['x-forwarded-host'] = h.host;
  out['x-forwarded-port'] = String(f.port);
  out['x-real-ip'] = f.clientIP;
  return out;
}

/** Response headers (raw, so repeated Set-Cookie survive) without the hop-by-hop ones. */
function responseHeaders(raw: readonly string[], connection: string | string[] | undefined): string[] {
  const drop = connectionTokens(connection);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(k) || drop.has(k)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

const pathOf = (url: string | undefined): string => {
  const u = url ?? '/';
  const q = u.search(/[?#]/);
  return q < 0 ? u : u.slice(0, q);
};

export class ReverseProxy {
  private readonly next = new Map<string, number>();
  /** Both ends of every upgraded connection: they leave the HTTP servers' bookkeeping, so stop() ends them here. */
  private readonly tunnels = new Set<Duplex>();

  constructor(private readonly o: ReverseProxyOptions) {}

  /** A request listener for a server of `proto` on `port`. */
  handler(proto: 'http' | 'https', port: number): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => void this.serve(req, res, proto, port);
  }

  /** An 'upgrade' listener (WebSocket and other Upgrade handshakes pass through as raw bytes). */
  upgradeHandler(proto: 'http' | 'https', port: number): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
    return (req, socket, head) => void this.upgrade(req, socket, head, proto, port);
  }

  /** Round-robin over the endpoints; a failed dial moves on to the next (at most three tries). */
  private async connect(key: string, endpoints: readonly TargetEndpoint[]): Promise<Duplex> {
    const start = this.next.get(key) ?? 0;
    this.next.set(key, (start + 1) % endpoints.length);
    let last: unknown;
    for (let i = 0; i < Math.min(3, endpoints.length); i++) {
      const ep = endpoints[(start + i) % endpoints.length]!;
      try {
        return await this.o.dial(ep.ip, ep.port, this.o.dialTimeoutMs ?? 5000);
      } catch (e) {
        last = e;
        this.o.log?.(`ingress: ${key}: dial ${ep.ip}:${ep.port}: ${(e as Error).message}`);
      }
    }
    throw last;
  }

  private async serve(req: IncomingMessage, res: ServerResponse, proto: 'http' | 'https', port: number): Promise<void> {
    const found = this.o.lookup(req.headers.host, pathOf(req.url));
    if (found.kind === 'none') return plain(res, 404, '404 page not found\n');
    if (found.kind === 'unavailable') return plain(res, 503, '503 Service Unavailable\n');
    let conn: Duplex;
    try {
      conn = await this.connect(found.key, found.endpoints);
    } catch {
      return plain(res, 502, '502 Bad Gateway\n');
    }
    const headers = forwardedHeaders(req.headers, { clientIP: clientAddress(req.socket), proto, port });
    // One upstream connection per request, made already: no agent, so the request says Connection: close.
    const up = httpRequest({ method: req.method, path: req.url, headers, setHost: false, createConnection: () => conn as Socket });
    up.on('response', (r) => {
      res.writeHead(r.statusCode ?? 502, r.statusMessage, responseHeaders(r.rawHeaders, r.headers.connection));
      r.pipe(res);
      r.on('error', () => res.destroy());
    });
    up.on('error', (e) => {
      this.o.log?.(`ingress: ${found.key}: ${e.message}`);
      if (!res.headersSent) plain(res, 502, '502 Bad Gateway\n');
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, proto: 'http' | 'https', port: number): Promise<void> {
    socket.on('error', () => socket.destroy());
    const found = this.o.lookup(req.headers.host, pathOf(req.url));
    const refuse = (code: number, text: string) => socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`);
    if (found.kind === 'none') return void refuse(404, 'Not Found');
    if (found.kind === 'unavailable') return void refuse(503, 'Service Unavailable');
    let conn: Duplex;
    try {
      conn = await this.connect(found.key, found.endpoints);
    } catch {
      return void refuse(502, 'Bad Gateway');
    }
    const headers = forwardedHeaders(req.headers, { clientIP: clientAddress(req.socket), proto, port }, true);
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) text += `${k}: ${one}\r\n`;
    conn.write(`${text}\r\n`);
    if (head.length > 0) conn.write(head);
    conn.on('error', () => socket.destroy());
    for (const [a, b] of [[socket, conn], [conn, socket]] as const) {
      this.tunnels.add(a);
      a.on('close', () => {
        this.tunnels.delete(a);
        b.destroy();
      });
    }
    conn.pipe(socket);
    socket.pipe(conn);
  }

  /** Ends every upgraded connection (at shutdown). */
  destroyTunnels(): void {
    for (const t of this.tunnels) t.destroy();
  }
}

function plain(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff' });
  res.end(body);
}
