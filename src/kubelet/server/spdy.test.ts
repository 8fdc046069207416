// Tests of the SPDY/3.1 framing: the header dictionary, frame parsing across chunk boundaries, header blocks
// through the shared zlib contexts, and a port-forward session against a local TCP echo server.
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { PortForwardSession } from './portforward.js';
import { DICTIONARY, FLAG_FIN, HeaderCodec, PING, SYN_REPLY, SYN_STREAM, controlFrame, dataFrame, decodeHeaders, encodeHeaders, parseFrames, ping, type Frame } from './spdy.js';

test('the SPDY/3 dictionary has its specified size and shape', () => {
  assert.equal(DICTIONARY.length, 1423);
  assert.equal(DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.ok(DICTIONARY.toString('latin1').endsWith(',*,enq=0.'));
});

test('parseFrames: control and data frames, split anywhere', () => {
  const bytes = Buffer.concat([ping(7), dataFrame(3, FLAG_FIN, Buffer.from('abc')), controlFrame(SYN_REPLY, 0, Buffer.alloc(4))]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const a = parseFrames(bytes.subarray(0, cut));
    const b = parseFrames(Buffer.concat([a.rest, bytes.subarray(cut)]));
    const all = [...a.frames, ...b.frames];
    assert.equal(all.length, 3, `cut ${cut}`);
    assert.deepEqual(all[0], { control: true, type: PING, flags: 0, data: Buffer.from([0, 0, 0, 7]) });
    assert.deepEqual(all[1], { control: false, streamId: 3, flags: FLAG_FIN, data: Buffer.from('abc') });
    assert.equal(b.rest.length, 0);
  }
  assert.deepEqual([...ping(1).subarray(0, 4)], [0x80, 0x03, 0x00, 0x06]);
});

test('header blocks: plain round trip and through two sessions of zlib contexts', async () => {
  assert.deepEqual(decodeHeaders(encodeHeaders({ StreamType: 'data', port: '80' })), { streamtype: 'data', port: '80' });
  const client = new HeaderCodec();
  const server = new HeaderCodec();
  const blocks: Array<Record<string, string>> = [{ streamtype: 'error', port: '80', requestid: '0' }, { streamtype: 'data', port: '80', requestid: '0' }, {}];
  for (const h of blocks) {
    const block = await client.encode(h);
    assert.deepEqual(await server.decode(block), h);
  }
  client.close();
  server.close();
});

test('PortForwardSession: SYN_REPLY per stream, data piped both ways, FIN on close, PING answered', async () => {
  const echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const port = (echo.address() as AddressInfo).port;
  const out: Frame[] = [];
  let outBuf: Buffer = Buffer.alloc(0);
  let notify = () => {};
  const session = new PortForwardSession(
    (b) => {
      const r = parseFrames(Buffer.concat([outBuf, b]));
      outBuf = r.rest;
      out.push(...r.frames);
      notify();
    },
    (p) => Promise.resolve(connect(p, '127.0.0.1')),
  );
  const until = async (pred: () => boolean) => {
    while (!pred()) await new Promise<void>((r) => (notify = r));
  };
  const codec = new HeaderCodec();
  const syn = async (id: number, h: Record<string, string>) => {
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id);
    return controlFrame(SYN_STREAM, 0, Buffer.concat([head, await codec.encode(h)]));
  };
  session.input(Buffer.concat([await syn(1, { streamtype: 'error', port: String(port), requestid: '0' }), await syn(3, { streamtype: 'data', port: String(port), requestid: '0' }), dataFrame(3, 0, Buffer.from('ping-pong')), ping(5)]));
  await until(() => out.some((f) => !f.control && f.streamId === 3 && f.data.length > 0));
  const replies = out.filter((f) => f.control && f.type === SYN_REPLY).map((f) => (f.control ? f.data.readUInt32BE(0) : 0));
  assert.deepEqual(replies, [1, 3]);
  assert.ok(out.some((f) => f.control && f.type === PING && f.data.readUInt32BE(0) === 5));
  const echoed = Buffer.concat(out.filter((f) => !f.control && f.streamId === 3).map((f) => f.data)).toString();
  assert.equal(echoed, 'ping-pong');
  session.input(dataFrame(3, FLAG_FIN, Buffer.alloc(0)));
  await until(() => out.some((f) => !f.control && f.streamId === 3 && (f.flags & FLAG_FIN) !== 0));
  session.close();
  codec.close();
  await new Promise((r) => echo.close(r));
});
