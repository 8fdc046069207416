// The upstream resolvers names outside the cluster go to (CoreDNS's `forward . /etc/resolv.conf`): parsing the
// configured list or the host's resolv.conf, and one query exchanged over UDP or TCP with a timeout, upstreams
// tried in order. Messages are relayed as bytes; only the query ID is rewritten (a fresh one per exchange).

import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { Socket } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

export const upstreamString = (u: Upstream): string => (u.host.includes(':') ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`);

/** "10.0.0.1", "10.0.0.1:5353", "[::1]:53", "::1" → host and port (53 by default). */
export function parseUpstream(s: string): Upstream {
  const t = s.trim();
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) return { host: bracket[1]!, port: bracket[2] ? Number(bracket[2]) : 53 };
  const colons = (t.match(/:/g) ?? []).length;
  if (colons === 1) {
    const [host, port] = t.split(':') as [string, string];
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new Error(`invalid upstream "${s}"`);
    return { host, port: Number(port) };
  }
  if (!t) throw new Error('empty upstream');
  return { host: t, port: 53 };
}

/** A comma-separated list of upstreams. */
export function parseUpstreams(spec: string): Upstream[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseUpstream);
}

/** The `nameserver` lines of a resolv.conf (port 53). */
export function resolvConfNameservers(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push({ host: m[1]!.replace(/%.*$/, ''), port: 53 });
  }
  return out;
}

const withId = (msg: Buffer, id: number): Buffer => {
  const b = Buffer.from(msg);
  b.writeUInt16BE(id, 0);
  return b;
};

/** One exchange with one upstream; rejects on timeout, error or a reply whose ID does not match. */
export function exchange(query: Buffer, up: Upstream, tcp: boolean, timeoutMs: number): Promise<Buffer> {
  const clientId = query.readUInt16BE(0);
  const id = randomInt(0, 65536);
  const msg = withId(query, id);
  return tcp ? exchangeTcp(msg, up, timeoutMs).then((r) => check(r, id, clientId)) : exchangeUdp(msg, up, timeoutMs).then((r) => check(r, id, clientId));
}

function check(reply: Buffer, id: number, clientId: number): Buffer {
  if (reply.length < 12 || reply.readUInt16BE(0) !== id) throw new Error('upstream reply with a wrong ID');
  return withId(reply, clientId);
}

function exchangeUdp(msg: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(up.host.includes(':') ? 'udp6' : 'udp4');
    const done = (err: Error | undefined, reply?: Buffer) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => done(new Error(`upstream ${upstreamString(up)} timed out`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('message', (reply, rinfo) => {
      // Only the upstream we asked may answer (a spoofed reply from elsewhere is ignored).
      if (rinfo.port !== up.port) return;
      if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) done(undefined, reply);
    });
    sock.send(msg, up.port, up.host, (e) => {
      if (e) done(e);
    });
  });
}

function exchangeTcp(msg: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    let buf: Buffer = Buffer.alloc(0);
    const done = (err: Error | undefined, reply?: Buffer) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => done(new Error(`upstream ${upstreamString(up)} timed out`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('close', () => done(new Error(`upstream ${upstreamString(up)} closed the connection`)));
    sock.connect(up.port, up.host, () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length, 0);
      sock.write(Buffer.concat([len, msg]));
    });
  });
}

/**
 * Asks the upstreams in order until one answers, over the transport the client used (a UDP client that gets a
 * truncated reply retries over TCP, which is then forwarded over TCP). `observe` hears of every exchange: its
 * upstream, the reply (undefined: none came) and how long it took.
 */
export async function forward(
  query: Buffer,
  upstreams: Upstream[],
  tcp: boolean,
  timeoutMs: number,
  observe?: (up: Upstream, reply: Buffer | undefined, seconds: number) => void,
): Promise<Buffer> {
  let last: unknown = new Error('no upstream resolvers');
  for (const up of upstreams) {
    const began = process.hrtime.bigint();
    const took = () => Number(process.hrtime.bigint() - began) / 1e9;
    try {
      const reply = await exchange(query, up, tcp, timeoutMs);
      observe?.(up, reply, took());
      return reply;
    } catch (e) {
      observe?.(up, undefined, took());
      last = e;
    }
  }
  throw last;
}
