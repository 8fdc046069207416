// The DNS server over real sockets on 127.0.0.1: cluster answers over UDP and TCP, NXDOMAIN with SOA, names
// forwarded to a fake upstream the test runs (UDP and TCP, ID preserved), ExternalName chased upstream,
// truncation for UDP, REFUSED without upstreams, SERVFAIL when the upstream is silent, garbage in, and the CoreDNS
// metrics each reply adds to.
// Network rule: every packet stays on 127.0.0.1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, Socket, type Server } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Packet, RecordType } from 'dns-packet';
import { resolve, type DnsConfig } from './answer.js';
import { ClusterRecords } from './records.js';
import { DnsMetrics } from './metrics.js';
import { compressNames, DnsServer } from './server.js';

const cfg: DnsConfig = { zone: 'cluster.local', ttl: 5, dnsIP: '10.43.0.10' };

/** A fake upstream resolver: www.example.com and example.com A 192.0.2.1, anything else NXDOMAIN. */
class FakeUpstream {
  udp: UdpSocket = createSocket('udp4');
  tcp: Server = createServer((s) => this.onTcp(s));
  port = 0;
  queries: string[] = [];

  async start(): Promise<void> {
    await new Promise<void>((r) => this.udp.bind(0, '127.0.0.1', () => r()));
    this.port = this.udp.address().port;
    await new Promise<void>((r) => this.tcp.listen(this.port, '127.0.0.1', () => r()));
    this.udp.on('message', (m, ri) => this.udp.send(this.reply(m, 'udp'), ri.port, ri.address));
  }

  private reply(m: Buffer, via: string): Buffer {
    const q = dnsPacket.decode(m);
    const question = q.questions![0]!;
    this.queries.push(`${via} ${question.type} ${question.name}`);
    const known = question.name === 'www.example.com' || question.name === 'example.com';
    return dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: q.questions,
      answers: known && question.type === 'A' ? [{ name: question.name, type: 'A', ttl: 300, class: 'IN', data: '192.0.2.1' }] : [],
    });
  }

  private onTcp(s: Socket): void {
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const r = this.reply(msg, 'tcp');
        const head = Buffer.alloc(2);
        head.writeUInt16BE(r.length, 0);
        s.write(Buffer.concat([head, r]));
      }
    });
    s.on('error', () => undefined);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.udp.close(() => r()));
    await new Promise<void>((r) => this.tcp.close(() => r()));
  }
}

function udpQuery(port: number, msg: Buffer, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      rej(new Error('udp query timed out'));
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      res(m);
    });
    s.send(msg, port, '127.0.0.1');
  });
}

function tcpQuery(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((res, rej) => {
    const s = new Socket();
    let buf: Buffer = Buffer.alloc(0);
    s.on('error', rej);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        res(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.connect(port, '127.0.0.1', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(msg.length, 0);
      s.write(Buffer.concat([head, msg]));
    });
  });
}

const queryMsg = (name: string, type: string, o: { id?: number; edns?: number } = {}): Buffer =>
  dnsPacket.encode({
    type: 'query',
    id: o.id ?? 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as RecordType, class: 'IN' }],
    additionals: o.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: o.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  });

async function ask(port: number, name: string, type: string, via: 'udp' | 'tcp' = 'udp', o: { id?: number; edns?: number } = {}): Promise<Packet & { rcode?: string; flag_aa?: boolean; flag_tc?: boolean }> {
  const msg = queryMsg(name, type, o);
  return dnsPacket.decode(via === 'udp' ? await udpQuery(port, msg) : await tcpQuery(port, msg)) as Packet & { rcode?: string };
}

const records = new ClusterRecords();
const upstream = new FakeUpstream();
let server: DnsServer;
let bare: DnsServer;

before(async () => {
  records.upsertNamespace({ metadata: { name: 'default' } });
  records.upsertService({ metadata: { name: 'kubia', namespace: 'default' }, spec: { clusterIP: '10.43.12.7', clusterIPs: ['10.43.12.7'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
  records.upsertService({ metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'www.example.com' } });
  records.upsertService({ metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
  records.upsertSlice({
    metadata: { name: 'big-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: 100 }, (_, i) => ({ addresses: [`10.244.0.${i + 1}`], conditions: { ready: true } })),
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  });
  await upstream.start();
  server = new DnsServer({ host: '127.0.0.1', port: 0, upstreams: [{ host: '127.0.0.1', port: upstream.port }], answer: (q) => resolve(records, q, cfg) });
  await server.listen();
  bare = new DnsServer({ host: '127.0.0.1', port: 0, upstreams: [], answer: (q) => resolve(records, q, cfg) });
  await bare.listen();
});

after(async () => {
  await server.close();
  await bare.close();
  await upstream.stop();
});

test('cluster names over UDP and TCP: authoritative, TTL 5, question echoed, ID kept', async () => {
  for (const via of ['udp', 'tcp'] as const) {
    const r = await ask(server.port, 'kubia.default.svc.cluster.local', 'A', via, { id: 777 });
    assert.equal(r.id, 777);
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.flag_aa, true);
    assert.deepEqual(r.questions, [{ name: 'kubia.default.svc.cluster.local', type: 'A', class: 'IN' }]);
    assert.deepEqual(r.answers!.map((a) => [a.name, a.type, (a as { ttl: number }).ttl, (a as { data: unknown }).data]), [['kubia.default.svc.cluster.local', 'A', 5, '10.43.12.7']]);
  }
});

test('a missing cluster name is NXDOMAIN with the SOA in authority', async () => {
  const r = await ask(server.port, 'nope.default.svc.cluster.local', 'A');
  assert.equal(r.rcode, 'NXDOMAIN');
  assert.equal(r.answers!.length, 0);
  assert.equal(r.authorities![0]!.type, 'SOA');
  assert.equal(r.authorities![0]!.name, 'cluster.local');
});

test('other names go to the upstream, over the transport the client used, with the client ID', async () => {
  upstream.queries.length = 0;
  const u = await ask(server.port, 'example.com', 'A', 'udp', { id: 31337 });
  assert.equal(u.id, 31337);
  assert.deepEqual(u.answers!.map((a) => (a as { data: unknown }).data), ['192.0.2.1']);
  const t = await ask(server.port, 'example.com', 'A', 'tcp', { id: 1 });
  assert.equal(t.id, 1);
  assert.deepEqual(t.answers!.map((a) => (a as { data: unknown }).data), ['192.0.2.1']);
  const nx = await ask(server.port, 'unknown.example.org', 'A');
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.deepEqual(upstream.queries, ['udp A example.com', 'tcp A example.com', 'udp A unknown.example.org']);
});

test('ExternalName: the CNAME and the target records from upstream', async () => {
  const r = await ask(server.port, 'ext.default.svc.cluster.local', 'A');
  assert.deepEqual(r.answers!.map((a) => `${a.name} ${a.type} ${(a as { data: unknown }).data}`), ['ext.default.svc.cluster.local CNAME www.example.com', 'www.example.com A 192.0.2.1']);
});

test('UDP replies over the client buffer lose additionals first, then are truncated; TCP and a large EDNS buffer get them whole', async () => {
  const srv = await ask(server.port, '_http._tcp.big.default.svc.cluster.local', 'SRV', 'tcp');
  assert.equal(srv.answers!.length, 100);
  assert.equal(srv.additionals!.length, 100);
  const srvUdp = await ask(server.port, '_http._tcp.big.default.svc.cluster.local', 'SRV');
  assert.equal(srvUdp.flag_tc, true, '100 SRV records do not fit 512 bytes');
  const small = await ask(server.port, 'big.default.svc.cluster.local', 'A');
  assert.equal(small.flag_tc, true);
  assert.equal(small.answers!.length, 0);
  const whole = await ask(server.port, 'big.default.svc.cluster.local', 'A', 'tcp');
  assert.equal(whole.flag_tc, false);
  assert.equal(whole.answers!.length, 100);
  const edns = await ask(server.port, 'big.default.svc.cluster.local', 'A', 'udp', { edns: 4096 });
  assert.equal(edns.answers!.length, 100);
  assert.ok(edns.additionals!.some((a) => a.type === 'OPT'), 'EDNS answered with EDNS');
});

test('without upstreams outside names are REFUSED; a silent upstream is SERVFAIL', async () => {
  const r = await ask(bare.port, 'example.com', 'A');
  assert.equal(r.rcode, 'REFUSED');
  const silent = createSocket('udp4');
  await new Promise<void>((res) => silent.bind(0, '127.0.0.1', () => res()));
  const s = new DnsServer({ host: '127.0.0.1', port: 0, upstreams: [{ host: '127.0.0.1', port: silent.address().port }], forwardTimeoutMs: 200, answer: (q) => resolve(records, q, cfg) });
  await s.listen();
  try {
    const f = await ask(s.port, 'example.com', 'A');
    assert.equal(f.rcode, 'SERVFAIL');
  } finally {
    await s.close();
    silent.close();
  }
});

test('garbage gets FORMERR (or nothing when too short to answer); several questions are FORMERR', async () => {
  const junk = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff]);
  const r = dnsPacket.decode(await udpQuery(server.port, junk)) as Packet & { rcode?: string };
  assert.equal(r.id, 0x1234);
  assert.equal(r.rcode, 'FORMERR');
  assert.equal(await server.handle(Buffer.from([1, 2, 3]), false), undefined);
  const two = dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'a.cluster.local', type: 'A' }, { name: 'b.cluster.local', type: 'A' }] });
  assert.equal((dnsPacket.decode((await server.handle(two, false))!) as { rcode?: string }).rcode, 'FORMERR');
});

test('name compression: decodes to the same message, much shorter; SRV targets stay whole but are pointed to', () => {
  const q = 'web.default.svc.cluster.local';
  const packet: Packet = {
    type: 'response',
    id: 7,
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    questions: [{ name: q, type: 'SRV', class: 'IN' }],
    answers: [
      { name: q, type: 'SRV', ttl: 5, class: 'IN', data: { priority: 0, weight: 50, port: 80, target: `web-0.${q}` } },
      { name: q, type: 'SRV', ttl: 5, class: 'IN', data: { priority: 0, weight: 50, port: 80, target: `web-1.${q}` } },
      { name: q, type: 'CNAME', ttl: 5, class: 'IN', data: `other.${q}` },
      { name: q, type: 'PTR', ttl: 5, class: 'IN', data: 'x.cluster.local' },
    ],
    authorities: [{ name: 'cluster.local', type: 'SOA', ttl: 5, class: 'IN', data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 } }],
    additionals: [
      { name: `web-0.${q}`, type: 'A', ttl: 5, class: 'IN', data: '10.0.0.1' },
      { name: `web-1.${q}`, type: 'A', ttl: 5, class: 'IN', data: '10.0.0.2' },
      { type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
    ],
  };
  const plain = dnsPacket.encode(packet);
  const small = compressNames(plain);
  assert.ok(small.length < plain.length * 0.6, `${small.length} vs ${plain.length}`);
  assert.deepEqual(dnsPacket.decode(small), dnsPacket.decode(plain));
  // The SRV targets are written in full (RFC 2782): their labels appear verbatim.
  assert.ok(small.includes(Buffer.from('\x05web-0\x03web\x07default', 'latin1')));
  assert.ok(small.includes(Buffer.from('\x05web-1\x03web\x07default', 'latin1')));
  assert.deepEqual(compressNames(Buffer.from([1, 2, 3])), Buffer.from([1, 2, 3]));
});

test('metrics: each reply is counted by server, proto, type, rcode and plugin; forwarded ones per upstream', async () => {
  const metrics = new DnsMetrics({ version: 'test', revision: 'k8ts', goversion: 'node' });
  const s = new DnsServer({ host: '127.0.0.1', port: 0, upstreams: [{ host: '127.0.0.1', port: upstream.port }], metrics, answer: (q) => resolve(records, q, cfg) });
  const port = await s.listen();
  try {
    const server = `dns://127.0.0.1:${port}`;
    const base = { server, zone: '.', view: '' };
    await ask(port, 'kubia.default.svc.cluster.local', 'A');
    await ask(port, 'kubia.default.svc.cluster.local', 'A', 'tcp');
    await ask(port, 'nosuch.default.svc.cluster.local', 'TXT');
    await ask(port, 'www.example.com', 'A');
    await ask(port, 'kubia.default.svc.cluster.local', 'NAPTR');
    assert.equal(metrics.requests.get({ ...base, proto: 'udp', family: '1', type: 'A' }), 2);
    assert.equal(metrics.requests.get({ ...base, proto: 'tcp', family: '1', type: 'A' }), 1);
    assert.equal(metrics.requests.get({ ...base, proto: 'udp', family: '1', type: 'TXT' }), 1);
    assert.equal(metrics.requests.get({ ...base, proto: 'udp', family: '1', type: 'other' }), 1, 'NAPTR is not a monitored type');
    assert.equal(metrics.responses.get({ ...base, rcode: 'NOERROR', plugin: 'kubernetes' }), 3);
    assert.equal(metrics.responses.get({ ...base, rcode: 'NXDOMAIN', plugin: 'kubernetes' }), 1);
    assert.equal(metrics.responses.get({ ...base, rcode: 'NOERROR', plugin: 'forward' }), 1);
    assert.equal(metrics.duration.count(base), 5);
    assert.equal(metrics.requestSize.count({ ...base, proto: 'udp' }), 4);
    assert.equal(metrics.responseSize.count({ ...base, proto: 'tcp' }), 1);
    const to = `127.0.0.1:${upstream.port}`;
    assert.equal(metrics.forwardRequests.get({ to }), 1);
    assert.equal(metrics.forwardResponses.get({ rcode: 'NOERROR', to }), 1);
    assert.equal(metrics.proxyDuration.count({ proxy_name: 'forward', to, rcode: 'NOERROR' }), 1);
    // An ExternalName chased upstream is one more upstream exchange, but the reply is the kubernetes plugin's.
    await ask(port, 'ext.default.svc.cluster.local', 'A');
    assert.equal(metrics.forwardRequests.get({ to }), 2);
    assert.equal(metrics.responses.get({ ...base, rcode: 'NOERROR', plugin: 'kubernetes' }), 4);
    // A message without a readable question falls in no zone: "dropped".
    const junk = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff]);
    await udpQuery(port, junk);
    assert.equal(metrics.responses.get({ server, zone: 'dropped', view: '', rcode: 'FORMERR', plugin: '' }), 1);
    assert.match(metrics.render(), new RegExp(`^coredns_dns_requests_total\\{family="1",proto="udp",server="dns://127\\.0\\.0\\.1:${port}",type="A",view="",zone="\\."\\} 3$`, 'm'));
  } finally {
    await s.close();
  }
});
