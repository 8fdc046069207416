// kubelet /portForward: the port-forward protocol over SPDY/3.1, either inside WebSocket binary messages
// (subprotocol `SPDY/3.1+portforward.k8s.io`, what kubectl 1.32 tries first) or over a plain `Upgrade: SPDY/3.1`
// connection. Each forwarded connection is a pair of streams (`streamtype: error|data`, `port`, `requestid`);
// the data stream is piped to a TCP connection to the port inside the pod's network namespace.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { FLAG_FIN, GOAWAY, HeaderCodec, PING, RST_STREAM, SYN_STREAM, dataFrame, parseFrames, parseSynStream, ping, synReply, type Frame } from './spdy.js';

export const WS_PORTFORWARD_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has(WS_PORTFORWARD_PROTOCOL) ? WS_PORTFORWARD_PROTOCOL : false) });

interface Pair {
  port: number;
  data?: number;
  error?: number;
  conn?: Duplex;
  pending: Buffer[];
  ended: boolean;
}

/** One SPDY session of port-forward requests; transport-agnostic (bytes in via `input`, frames out via `write`). */
export class PortForwardSession {
  private readonly codec = new HeaderCodec();
  private buf: Buffer = Buffer.alloc(0);
  private chain: Promise<void> = Promise.resolve();
  private readonly byStream = new Map<number, { requestId: string; type: string }>();
  private readonly pairs = new Map<string, Pair>();
  private closed = false;

  constructor(
    private readonly write: (frame: Buffer) => void,
    private readonly dial: (port: number) => Promise<Duplex>,
    private readonly log?: (msg: string) => void,
  ) {}

  input(bytes: Buffer): void {
    const { frames, rest } = parseFrames(Buffer.concat([this.buf, bytes]));
    this.buf = rest;
    for (const f of frames) this.chain = this.chain.then(() => this.frame(f)).catch((e: unknown) => this.log?.(`port-forward: ${(e as Error).message}`));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pairs.values()) p.conn?.destroy();
    this.codec.close();
  }

  private send(b: Buffer): void {
    if (!this.closed) this.write(b);
  }

  private async frame(f: Frame): Promise<void> {
    if (this.closed) return;
    if (f.control) {
      if (f.type === SYN_STREAM) return this.synStream(f.data);
      if (f.type === PING) return void this.send(ping(f.data.readUInt32BE(0)));
      if (f.type === RST_STREAM) {
        const s = this.byStream.get(f.data.readUInt32BE(0) & 0x7fffffff);
        if (s) this.pairs.get(s.requestId)?.conn?.destroy();
        return;
      }
      if (f.type === GOAWAY) return this.close();
      return; // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do
    }
    const s = this.byStream.get(f.streamId);
    if (!s) return;
    const pair = this.pairs.get(s.requestId)!;
    if (s.type !== 'data') return; // the client only closes its side of the error stream
    if (f.data.length) {
      if (pair.conn) pair.conn.write(f.data);
      else pair.pending.push(Buffer.from(f.data));
    }
    if (f.flags & FLAG_FIN) {
      pair.ended = true;
      pair.conn?.end();
    }
  }

  private async synStream(data: Buffer): Promise<void> {
    const { streamId, headerBlock } = parseSynStream(data);
    const h = await this.codec.decode(headerBlock);
    const requestId = h['requestid'] ?? String(streamId);
    const type = h['streamtype'] ?? '';
    const port = Number(h['port']);
    this.byStream.set(streamId, { requestId, type });
    let pair = this.pairs.get(requestId);
    if (!pair) this.pairs.set(requestId, (pair = { port, pending: [], ended: false }));
    if (type === 'error') pair.error = streamId;
    else if (type === 'data') pair.data = streamId;
    this.send(synReply(streamId, 0, await this.codec.encode({})));
    if (type === 'data') void this.connect(pair);
  }

  private async connect(pair: Pair): Promise<void> {
    const dataId = pair.data!;
    let conn: Duplex;
    try {
      if (!Number.isInteger(pair.port) || pair.port < 1 || pair.port > 65535) throw new Error(`invalid port ${String(pair.port)}`);
      conn = await this.dial(pair.port);
    } catch (e) {
      if (pair.error !== undefined) {
        this.send(dataFrame(pair.error, 0, Buffer.from(`error forwarding port ${pair.port} to pod: ${(e as Error).message}`)));
        this.send(dataFrame(pair.error, FLAG_FIN, Buffer.alloc(0)));
      }
      this.send(dataFrame(dataId, FLAG_FIN, Buffer.alloc(0)));
      return;
    }
    if (this.closed) return void conn.destroy();
    pair.conn = conn;
    for (const b of pair.pending) conn.write(b);
    pair.pending = [];
    if (pair.ended) conn.end();
    conn.on('data', (c: Buffer) => {
      for (let off = 0; off < c.length; off += 0xffff) this.send(dataFrame(dataId, 0, c.subarray(off, off + 0xffff)));
    });
    let finished = false;
    const fin = () => {
      if (finished) return;
      finished = true;
      this.send(dataFrame(dataId, FLAG_FIN, Buffer.alloc(0)));
      if (pair.error !== undefined) this.send(dataFrame(pair.error, FLAG_FIN, Buffer.alloc(0)));
    };
    conn.on('end', fin);
    conn.on('close', fin);
    conn.on('error', (e) => this.log?.(`port-forward ${pair.port}: ${e.message}`));
  }
}

/** Takes over an upgrade request for /portForward/{ns}/{pod}. */
export async function servePortForward(req: IncomingMessage, socket: Duplex, head: Buffer, dial: (port: number) => Promise<Duplex>, log?: (msg: string) => void): Promise<void> {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'websocket') {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new PortForwardSession((b) => ws.readyState === ws.OPEN && ws.send(b), dial, log);
      ws.on('message', (d: Buffer) => session.input(Buffer.isBuffer(d) ? d : Buffer.from(d as ArrayBuffer)));
      ws.on('close', () => session.close());
      ws.on('error', () => session.close());
    });
    return;
  }
  if (upgrade !== 'spdy/3.1') {
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nunsupported upgrade (want websocket or SPDY/3.1)');
    return;
  }
  socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
  const session = new PortForwardSession((b) => socket.writable && socket.write(b), dial, log);
  if (head.length) session.input(head);
  socket.on('data', (d: Buffer) => session.input(d));
  socket.on('close', () => session.close());
  socket.on('error', () => session.close());
}
