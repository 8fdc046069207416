// SPDY/3.1 framing as kubectl port-forward speaks it (plain, or inside WebSocket binary messages): control frames
// (SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE) and DATA frames, name/value
// header blocks, and the per-direction zlib contexts with the protocol's fixed header dictionary.

import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;
export const FLAG_FIN = 0x01;
/** RST_STREAM status codes. */
export const RST = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6 } as const;

export type Frame =
  | { control: true; type: number; flags: number; data: Buffer }
  | { control: false; streamId: number; flags: number; data: Buffer };

/** The header-compression dictionary of SPDY/3 (draft 3, section 2.6.10.1): length-prefixed words, then a tail. */
export const DICTIONARY: Buffer = (() => {
  const words = (
    'options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age allow ' +
    'authorization cache-control connection content-base content-encoding content-language content-length ' +
    'content-location content-md5 content-range content-type date etag expect expires from host if-match ' +
    'if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma ' +
    'proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade ' +
    'user-agent vary via warning www-authenticate method get status'
  ).split(' ');
  words.push('200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin');
  const tail =
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
    '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
    'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
    'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
    'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  const parts: Buffer[] = [];
  for (const w of words) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
})();

/** Splits complete frames off the front of `buf`; `rest` is the incomplete remainder. */
export function parseFrames(buf: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let off = 0;
  while (buf.length - off >= 8) {
    const len = buf.readUIntBE(off + 5, 3);
    if (buf.length - off < 8 + len) break;
    const flags = buf[off + 4]!;
    const data = buf.subarray(off + 8, off + 8 + len);
    if (buf[off]! & 0x80) frames.push({ control: true, type: buf.readUInt16BE(off + 2), flags, data });
    else frames.push({ control: false, streamId: buf.readUInt32BE(off) & 0x7fffffff, flags, data });
    off += 8 + len;
  }
  return { frames, rest: buf.subarray(off) };
}

function head(first: number, flags: number, len: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(first >>> 0);
  h[4] = flags;
  h.writeUIntBE(len, 5, 3);
  return h;
}

export function controlFrame(type: number, flags: number, data: Buffer): Buffer {
  return Buffer.concat([head((0x8003 << 16) | type, flags, data.length), data]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  return Buffer.concat([head(streamId & 0x7fffffff, flags, data.length), data]);
}

function u32(...vals: number[]): Buffer {
  const b = Buffer.alloc(4 * vals.length);
  vals.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

export const rstStream = (streamId: number, status: number): Buffer => controlFrame(RST_STREAM, 0, u32(streamId & 0x7fffffff, status));
export const ping = (id: number): Buffer => controlFrame(PING, 0, u32(id));
export const goAway = (lastStreamId: number, status = 0): Buffer => controlFrame(GOAWAY, 0, u32(lastStreamId & 0x7fffffff, status));
export const synReply = (streamId: number, flags: number, headerBlock: Buffer): Buffer => controlFrame(SYN_REPLY, flags, Buffer.concat([u32(streamId & 0x7fffffff), headerBlock]));

/** The stream id and the (compressed) header block of a SYN_STREAM. */
export function parseSynStream(data: Buffer): { streamId: number; associatedTo: number; headerBlock: Buffer } {
  return { streamId: data.readUInt32BE(0) & 0x7fffffff, associatedTo: data.readUInt32BE(4) & 0x7fffffff, headerBlock: data.subarray(10) };
}

/** An uncompressed name/value block (names lower-cased; multiple values joined by NUL). */
export function encodeHeaders(h: Record<string, string>): Buffer {
  const parts: Buffer[] = [u32(Object.keys(h).length)];
  for (const [k, v] of Object.entries(h)) {
    const kb = Buffer.from(k.toLowerCase());
    const vb = Buffer.from(v);
    parts.push(u32(kb.length), kb, u32(vb.length), vb);
  }
  return Buffer.concat(parts);
}

export function decodeHeaders(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 4;
  const n = b.readUInt32BE(0);
  for (let i = 0; i < n; i++) {
    const kl = b.readUInt32BE(off);
    const k = b.subarray(off + 4, off + 4 + kl).toString();
    off += 4 + kl;
    const vl = b.readUInt32BE(off);
    out[k.toLowerCase()] = b.subarray(off + 4, off + 4 + vl).toString();
    off += 4 + vl;
  }
  return out;
}

/** One direction's zlib context: all header blocks of a session share it, each ended with a sync flush. */
export class HeaderCodec {
  private readonly inflate: Inflate = createInflate({ dictionary: DICTIONARY });
  private readonly deflate: Deflate = createDeflate({ dictionary: DICTIONARY });
  private chain: Promise<unknown> = Promise.resolve();

  private run(z: Inflate | Deflate, input: Buffer): Promise<Buffer> {
    const p = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const onData = (c: Buffer) => chunks.push(c);
          const onError = (e: Error) => {
            z.off('data', onData);
            reject(e);
          };
          z.on('data', onData);
          z.once('error', onError);
          z.write(input);
          z.flush(constants.Z_SYNC_FLUSH, () => {
            z.off('data', onData);
            z.off('error', onError);
            resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.chain = p.catch(() => undefined);
    return p;
  }

  async decode(block: Buffer): Promise<Record<string, string>> {
    return decodeHeaders(await this.run(this.inflate, block));
  }

  encode(h: Record<string, string>): Promise<Buffer> {
    return this.run(this.deflate, encodeHeaders(h));
  }

  close(): void {
    this.inflate.destroy();
    this.deflate.destroy();
  }
}
