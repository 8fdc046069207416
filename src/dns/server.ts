// The DNS wire server: UDP and TCP (RFC 1035 two-byte length framing) on one address and port, messages
// decoded and encoded with dns-packet. Each query goes to the answer function (answer.ts over the cluster
// records); what it does not own is relayed to the upstream resolvers. UDP replies larger than the client's
// buffer (512 bytes, or its EDNS size) lose their additional records first, then are sent truncated (TC) so the
// client asks again over TCP. Every reply is counted in the CoreDNS metrics (metrics.ts) when given a registry.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer as Record, Packet, Question } from 'dns-packet';
import type { Rcode, Resolution } from './answer.js';
import { replyRcode, type DnsMetrics, type QueryReport } from './metrics.js';
import { forward, upstreamString, type Upstream } from './upstream.js';

const RCODES: { [k in Rcode]: number } = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
/** Our EDNS buffer size (the DNS flag day 2020 recommendation). */
const EDNS_BUFFER = 1232;
const TCP_IDLE_MS = 10_000;

export interface DnsServerOptions {
  host: string;
  /** 0: any free port (the same one for UDP and TCP). */
  port: number;
  answer: (q: Question) => Resolution;
  upstreams: Upstream[];
  /** Per-upstream timeout for forwarded queries; 2 s. */
  forwardTimeoutMs?: number;
  /** Where served queries and upstream exchanges are counted. */
  metrics?: DnsMetrics;
  log?: (msg: string) => void;
}

/** Where a message came in: the listener (CoreDNS's `server` label) and the client's address family. */
export interface Origin {
  server: string;
  ipv6: boolean;
}

/** A reply and what the metrics say about it. */
interface Outcome {
  reply?: Buffer;
  question?: Question;
  plugin: QueryReport['plugin'];
  /** The query's EDNS DO bit. */
  dnssecOk?: boolean;
}

/** CoreDNS's server label for a listener: `dns://<ip>:<port>`. */
export function serverLabel(addr: { address: string; port: number } | string | null): string {
  if (!addr || typeof addr === 'string') return 'dns://:53';
  return `dns://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
}

interface DecodedPacket extends Packet {
  opcode?: string;
}

export class DnsServer {
  private readonly udps = new Set<UdpSocket>();
  private readonly tcps = new Set<Server>();
  private readonly conns = new Set<Socket>();
  private boundPort = 0;
  private readonly log: (msg: string) => void;

  constructor(private readonly opts: DnsServerOptions) {
    this.log = opts.log ?? (() => undefined);
  }

  get port(): number {
    return this.boundPort;
  }

  /** Binds UDP then TCP on the same port; resolves to it. */
  async listen(): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket({ type: this.opts.host.includes(':') ? 'udp6' : 'udp4' });
      await new Promise<void>((res, rej) => {
        udp.once('error', rej);
        udp.bind(this.opts.port, this.opts.host, () => {
          udp.off('error', rej);
          res();
        });
      });
      const port = udp.address().port;
      const tcp = createServer();
      try {
        await new Promise<void>((res, rej) => {
          tcp.once('error', rej);
          tcp.listen(port, this.opts.host, () => {
            tcp.off('error', rej);
            res();
          });
        });
      } catch (e) {
        udp.close();
        // A free UDP port whose TCP twin is taken: with an ephemeral port, try another.
        if (this.opts.port === 0 && attempt < 5) continue;
        throw e;
      }
      this.serve(udp, tcp);
      this.boundPort = port;
      return port;
    }
  }

  /**
   * Answers on sockets bound elsewhere (e.g. inside the node's network namespace, runtime/netns-listen.ts): a
   * bound UDP socket and/or a listening TCP server. close() closes them with the rest.
   */
  serve(udp: UdpSocket | undefined, tcp: Server | undefined): void {
    if (udp) {
      const server = serverLabel(udp.address());
      udp.on('error', (e) => this.log(`udp: ${e.message}`));
      udp.on('message', (msg, rinfo) => {
        void this.handle(msg, false, { server, ipv6: rinfo.family === 'IPv6' }).then(
          (reply) => {
            if (reply) udp.send(reply, rinfo.port, rinfo.address);
          },
          (e: unknown) => this.failed(`query from ${rinfo.address}`, e),
        );
      });
      this.udps.add(udp);
    }
    if (tcp) {
      const server = serverLabel(tcp.address());
      tcp.on('connection', (s) => this.onTcp(s, server));
      tcp.on('error', (e) => this.log(`tcp: ${e.message}`));
      this.tcps.add(tcp);
    }
  }

  async close(): Promise<void> {
    const udps = [...this.udps];
    const tcps = [...this.tcps];
    this.udps.clear();
    this.tcps.clear();
    for (const c of this.conns) c.destroy();
    await Promise.all([
      ...udps.map((u) => new Promise<void>((r) => {
        try {
          u.close(() => r());
        } catch {
          r(); // closed already
        }
      })),
      ...tcps.map((t) => new Promise<void>((r) => (t.listening ? t.close(() => r()) : r()))),
    ]);
  }

  /** A query that threw (CoreDNS recovers a panicking plugin and counts it). */
  private failed(what: string, e: unknown): void {
    this.opts.metrics?.panic();
    this.log(`${what}: ${(e as Error).message}`);
  }

  private onTcp(sock: Socket, server: string): void {
    const origin: Origin = { server, ipv6: sock.remoteFamily === 'IPv6' };
    this.conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.handle(msg, true, origin).then(
          (reply) => {
            if (!reply || sock.destroyed) return;
            const head = Buffer.alloc(2);
            head.writeUInt16BE(reply.length, 0);
            sock.write(Buffer.concat([head, reply]));
          },
          (e: unknown) => this.failed('tcp query', e),
        );
      }
    });
  }

  /**
   * One message in, one reply out (undefined: nothing to send, e.g. a response or garbage), counted in the metrics
   * under `origin` (default: this server's own listener over IPv4).
   */
  async handle(msg: Buffer, tcp: boolean, origin?: Origin): Promise<Buffer | undefined> {
    const began = process.hrtime.bigint();
    const out = await this.respond(msg, tcp);
    const m = this.opts.metrics;
    if (m && out.reply) {
      m.query({
        server: origin?.server ?? serverLabel({ address: this.opts.host, port: this.boundPort }),
        proto: tcp ? 'tcp' : 'udp',
        ipv6: origin?.ipv6 ?? false,
        ...(out.question ? { question: out.question } : {}),
        dnssecOk: out.dnssecOk ?? false,
        rcode: replyRcode(out.reply),
        plugin: out.plugin,
        requestBytes: msg.length,
        responseBytes: out.reply.length,
        seconds: Number(process.hrtime.bigint() - began) / 1e9,
      });
    }
    return out.reply;
  }

  private async respond(msg: Buffer, tcp: boolean): Promise<Outcome> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg) as DecodedPacket;
    } catch {
      if (msg.length < 12 || (msg.readUInt16BE(2) & 0x8000) !== 0) return { plugin: '' };
      return { plugin: '', reply: this.encode({ id: msg.readUInt16BE(0), rd: false, questions: [], rcode: 'FORMERR', authoritative: false, answers: [], authorities: [], additionals: [], edns: false }, tcp, 512) };
    }
    if (query.type === 'response') return { plugin: '' };
    const id = query.id ?? 0;
    const rd = ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) !== 0;
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number; flag_do?: boolean } | undefined;
    const maxUdp = Math.min(4096, Math.max(512, opt?.udpPayloadSize ?? 512));
    const questions = query.questions ?? [];
    const base = { id, rd, questions, edns: !!opt };
    const empty = { authoritative: false, answers: [], authorities: [], additionals: [] };
    if (query.opcode && query.opcode !== 'QUERY') return { plugin: '', reply: this.encode({ ...base, ...empty, rcode: 'NOTIMP' }, tcp, maxUdp) };
    if (questions.length !== 1) return { plugin: '', reply: this.encode({ ...base, ...empty, rcode: 'FORMERR' }, tcp, maxUdp) };

    const question = questions[0]!;
    const dnssecOk = !!opt?.flag_do;
    const res = this.opts.answer(question);
    if (res.forward) {
      // No forwarder: the end of CoreDNS's plugin chain, where the server itself refuses.
      if (this.opts.upstreams.length === 0) return { question, dnssecOk, plugin: '', reply: this.encode({ ...base, ...empty, rcode: 'REFUSED' }, tcp, maxUdp) };
      try {
        return { question, dnssecOk, plugin: 'forward', reply: await this.forward(msg, tcp) };
      } catch (e) {
        this.log(`forwarding ${question.name} ${question.type}: ${(e as Error).message}`);
        return { question, dnssecOk, plugin: 'forward', reply: this.encode({ ...base, ...empty, rcode: 'SERVFAIL' }, tcp, maxUdp) };
      }
    }
    const answers = [...res.answers];
    if (res.chase) answers.push(...(await this.chase(res.chase.name, res.chase.type, tcp)));
    return { question, dnssecOk, plugin: 'kubernetes', reply: this.encode({ ...base, rcode: res.rcode, authoritative: res.authoritative, answers, authorities: res.authorities, additionals: res.additionals }, tcp, maxUdp) };
  }

  /** Relays a query to the upstreams, each exchange counted per upstream. */
  private forward(msg: Buffer, tcp: boolean): Promise<Buffer> {
    const m = this.opts.metrics;
    const observe = m ? (up: Upstream, reply: Buffer | undefined, seconds: number) => m.upstream(upstreamString(up), reply ? replyRcode(reply) : undefined, seconds) : undefined;
    return forward(msg, this.opts.upstreams, tcp, this.opts.forwardTimeoutMs ?? 2000, observe);
  }

  /** The records of a CNAME target: from the cluster records when ours, else from the upstreams (best effort). */
  private async chase(name: string, type: 'A' | 'AAAA', tcp: boolean): Promise<Record[]> {
    const local = this.opts.answer({ name, type, class: 'IN' });
    if (!local.forward) return local.answers;
    if (this.opts.upstreams.length === 0) return [];
    try {
      const q = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] });
      const reply = dnsPacket.decode(await this.forward(q, tcp));
      return reply.answers ?? [];
    } catch {
      return [];
    }
  }

  private encode(
    r: { id: number; rd: boolean; questions: Question[]; rcode: Rcode; authoritative: boolean; answers: Record[]; authorities: Record[]; additionals: Record[]; edns: boolean },
    tcp: boolean,
    maxUdp: number,
  ): Buffer {
    let flags = dnsPacket.RECURSION_AVAILABLE | RCODES[r.rcode];
    if (r.rd) flags |= dnsPacket.RECURSION_DESIRED;
    if (r.authoritative) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
    const opt: Record[] = r.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_BUFFER, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
    const packet: Packet = { type: 'response', id: r.id, flags, questions: r.questions, answers: r.answers, authorities: r.authorities, additionals: [...r.additionals, ...opt] };
    const out = compressNames(dnsPacket.encode(packet));
    if (tcp || out.length <= maxUdp) return out;
    // Additional records may go without saying so (RFC 2181 §9); only a cut answer sets TC.
    const lean = compressNames(dnsPacket.encode({ ...packet, additionals: opt }));
    if (lean.length <= maxUdp) return lean;
    return dnsPacket.encode({ ...packet, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt });
  }
}

/** The labels of the uncompressed name at `off` and the offset after it; undefined on a pointer or overrun. */
function readName(buf: Buffer, off: number): { labels: Buffer[]; end: number } | undefined {
  const labels: Buffer[] = [];
  let i = off;
  while (i < buf.length) {
    const len = buf[i]!;
    if (len === 0) return { labels, end: i + 1 };
    if ((len & 0xc0) !== 0 || i + 1 + len > buf.length) return undefined;
    labels.push(buf.subarray(i + 1, i + 1 + len));
    i += 1 + len;
  }
  return undefined;
}

/** RDATA layouts with names: [bytes before the name, whether the name may be compressed, bytes after]. */
const RDATA_NAMES: { [type: number]: Array<{ skip: number; compress: boolean }> } = {
  2: [{ skip: 0, compress: true }], // NS
  5: [{ skip: 0, compress: true }], // CNAME
  12: [{ skip: 0, compress: true }], // PTR
  6: [{ skip: 0, compress: true }, { skip: 0, compress: true }], // SOA mname, rname (+ 20 bytes)
  15: [{ skip: 2, compress: true }], // MX
  // SRV: the target must not be compressed (RFC 2782), but later names may point into it.
  33: [{ skip: 6, compress: false }],
};

/**
 * Name compression (RFC 1035 §4.1.4) over a message dns-packet encoded, which writes every name in full: each
 * name becomes a pointer to an earlier occurrence of its longest known suffix. Owner names, and names inside NS,
 * CNAME, PTR, SOA and MX data, are compressed; SRV targets are written whole but may be pointed to (as CoreDNS's
 * answers do, where the additional A records name the SRV targets). Keeps answers of a few dozen records under
 * 512 bytes. Returns the input unchanged if it is not what dns-packet writes.
 */
export function compressNames(buf: Buffer): Buffer {
  if (buf.length < 12) return buf;
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10)];
  const chunks: Buffer[] = [buf.subarray(0, 12)];
  let size = 12;
  const dict = new Map<string, number>();
  const emit = (b: Buffer) => {
    chunks.push(b);
    size += b.length;
  };
  const writeName = (labels: Buffer[], compress: boolean) => {
    for (let i = 0; i < labels.length; i++) {
      const key = labels.slice(i).map((l) => l.toString('latin1')).join('\u0000');
      const at = dict.get(key);
      if (compress && at !== undefined) {
        emit(Buffer.from([0xc0 | (at >> 8), at & 0xff]));
        return;
      }
      if (at === undefined && size < 0x3fff) dict.set(key, size);
      emit(Buffer.concat([Buffer.from([labels[i]!.length]), labels[i]!]));
    }
    emit(Buffer.from([0]));
  };
  let off = 12;
  for (let n = 0; n < counts[0]!; n++) {
    const name = readName(buf, off);
    if (!name || name.end + 4 > buf.length) return buf;
    writeName(name.labels, true);
    emit(buf.subarray(name.end, name.end + 4));
    off = name.end + 4;
  }
  for (let n = 0; n < counts[1]!; n++) {
    const name = readName(buf, off);
    if (!name || name.end + 10 > buf.length) return buf;
    writeName(name.labels, true);
    const fixed = name.end;
    const type = buf.readUInt16BE(fixed);
    const rdLen = buf.readUInt16BE(fixed + 8);
    const rdStart = fixed + 10;
    const rdEnd = rdStart + rdLen;
    if (rdEnd > buf.length) return buf;
    emit(buf.subarray(fixed, fixed + 8));
    const lenAt = chunks.length;
    emit(Buffer.alloc(2));
    const before = size;
    const layout = RDATA_NAMES[type];
    if (!layout) emit(buf.subarray(rdStart, rdEnd));
    else {
      let p = rdStart;
      for (const part of layout) {
        emit(buf.subarray(p, p + part.skip));
        p += part.skip;
        const rn = readName(buf, p);
        if (!rn || rn.end > rdEnd) return buf;
        writeName(rn.labels, part.compress);
        p = rn.end;
      }
      emit(buf.subarray(p, rdEnd));
    }
    const len = Buffer.alloc(2);
    len.writeUInt16BE(size - before, 0);
    chunks[lenAt] = len;
    off = rdEnd;
  }
  if (off !== buf.length) return buf;
  return Buffer.concat(chunks);
}
