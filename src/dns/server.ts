// The DNS wire server: UDP and TCP (RFC 1035 two-byte length framing) on one address and port, messages
// decoded and encoded with dns-packet. Each query goes to the answer function (answer.ts over the cluster
// records); what it does not own is relayed to the upstream resolvers. UDP replies larger than the client's
// buffer (512 bytes, or its EDNS size) are sent truncated (TC) so the client asks again over TCP.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer as Record, Packet, Question } from 'dns-packet';
import type { Rcode, Resolution } from './answer.js';
import { forward, type Upstream } from './upstream.js';

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
  log?: (msg: string) => void;
}

interface DecodedPacket extends Packet {
  opcode?: string;
}

export class DnsServer {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
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
      const tcp = createServer((s) => this.onTcp(s));
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
      udp.on('error', (e) => this.log(`udp: ${e.message}`));
      udp.on('message', (msg, rinfo) => {
        void this.handle(msg, false).then(
          (reply) => {
            if (reply) udp.send(reply, rinfo.port, rinfo.address);
          },
          (e: unknown) => this.log(`query from ${rinfo.address}: ${(e as Error).message}`),
        );
      });
      tcp.on('error', (e) => this.log(`tcp: ${e.message}`));
      this.udp = udp;
      this.tcp = tcp;
      this.boundPort = port;
      return port;
    }
  }

  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.conns) c.destroy();
    await Promise.all([
      udp ? new Promise<void>((r) => udp.close(() => r())) : undefined,
      tcp ? new Promise<void>((r) => tcp.close(() => r())) : undefined,
    ]);
  }

  private onTcp(sock: Socket): void {
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
        void this.handle(msg, true).then(
          (reply) => {
            if (!reply || sock.destroyed) return;
            const head = Buffer.alloc(2);
            head.writeUInt16BE(reply.length, 0);
            sock.write(Buffer.concat([head, reply]));
          },
          (e: unknown) => this.log(`tcp query: ${(e as Error).message}`),
        );
      }
    });
  }

  /** One message in, one reply out (undefined: nothing to send, e.g. a response or garbage). */
  async handle(msg: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg) as DecodedPacket;
    } catch {
      if (msg.length < 12 || (msg.readUInt16BE(2) & 0x8000) !== 0) return undefined;
      return this.encode({ id: msg.readUInt16BE(0), rd: false, questions: [], rcode: 'FORMERR', authoritative: false, answers: [], authorities: [], additionals: [], edns: false }, tcp, 512);
    }
    if (query.type === 'response') return undefined;
    const id = query.id ?? 0;
    const rd = ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) !== 0;
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const maxUdp = Math.min(4096, Math.max(512, opt?.udpPayloadSize ?? 512));
    const questions = query.questions ?? [];
    const base = { id, rd, questions, edns: !!opt };
    if (query.opcode && query.opcode !== 'QUERY') return this.encode({ ...base, rcode: 'NOTIMP', authoritative: false, answers: [], authorities: [], additionals: [] }, tcp, maxUdp);
    if (questions.length !== 1) return this.encode({ ...base, rcode: 'FORMERR', authoritative: false, answers: [], authorities: [], additionals: [] }, tcp, maxUdp);

    const res = this.opts.answer(questions[0]!);
    if (res.forward) {
      if (this.opts.upstreams.length === 0) return this.encode({ ...base, rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], additionals: [] }, tcp, maxUdp);
      try {
        return await forward(msg, this.opts.upstreams, tcp, this.opts.forwardTimeoutMs ?? 2000);
      } catch (e) {
        this.log(`forwarding ${questions[0]!.name} ${questions[0]!.type}: ${(e as Error).message}`);
        return this.encode({ ...base, rcode: 'SERVFAIL', authoritative: false, answers: [], authorities: [], additionals: [] }, tcp, maxUdp);
      }
    }
    const answers = [...res.answers];
    if (res.chase) answers.push(...(await this.chase(res.chase.name, res.chase.type, tcp)));
    return this.encode({ ...base, rcode: res.rcode, authoritative: res.authoritative, answers, authorities: res.authorities, additionals: res.additionals }, tcp, maxUdp);
  }

  /** The records of a CNAME target: from the cluster records when ours, else from the upstreams (best effort). */
  private async chase(name: string, type: 'A' | 'AAAA', tcp: boolean): Promise<Record[]> {
    const local = this.opts.answer({ name, type, class: 'IN' });
    if (!local.forward) return local.answers;
    if (this.opts.upstreams.length === 0) return [];
    try {
      const q = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] });
      const reply = dnsPacket.decode(await forward(q, this.opts.upstreams, tcp, this.opts.forwardTimeoutMs ?? 2000));
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
    const out = compressOwnerNames(dnsPacket.encode(packet));
    if (tcp || out.length <= maxUdp) return out;
    return dnsPacket.encode({ ...packet, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt });
  }
}

/** Bytes of the name starting at `off` (labels up to and including the root), or -1 if malformed/compressed. */
function nameLength(buf: Buffer, off: number): number {
  let i = off;
  while (i < buf.length) {
    const len = buf[i]!;
    if (len === 0) return i + 1 - off;
    if ((len & 0xc0) !== 0) return -1;
    i += 1 + len;
  }
  return -1;
}

/**
 * Replaces every record owner name equal to the question name with a pointer to it (RFC 1035 §4.1.4).
 * dns-packet writes names uncompressed; most answers repeat the question name, so this keeps answers of a few
 * dozen addresses under 512 bytes as CoreDNS's are. Names inside RDATA are left as written; nothing ever points
 * into them, so shortening the message before them is safe.
 */
export function compressOwnerNames(buf: Buffer): Buffer {
  if (buf.length < 12 || buf.readUInt16BE(4) !== 1) return buf;
  const qLen = nameLength(buf, 12);
  if (qLen <= 2) return buf;
  const qname = buf.subarray(12, 12 + qLen);
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  const parts: Buffer[] = [buf.subarray(0, 12 + qLen + 4)];
  let off = 12 + qLen + 4;
  const pointer = Buffer.from([0xc0, 12]);
  for (let n = 0; n < records; n++) {
    const len = nameLength(buf, off);
    if (len < 0 || off + len + 10 > buf.length) return buf;
    const rdLen = buf.readUInt16BE(off + len + 8);
    const end = off + len + 10 + rdLen;
    if (end > buf.length) return buf;
    parts.push(len === qLen && buf.subarray(off, off + len).equals(qname) ? pointer : buf.subarray(off, off + len), buf.subarray(off + len, end));
    off = end;
  }
  if (off !== buf.length) return buf;
  return Buffer.concat(parts);
}
