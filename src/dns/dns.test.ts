// ClusterDNS (dns.ts) on the fake client with a test host as the node's network namespace: an old kube-dns Service
// loses its CoreDNS selector; the node listener waits for its gateway address (the runtime's bridge, made late here),
// then answers over UDP and TCP from inside the namespace, serves /metrics there counting those queries, and
// publishes kube-dns endpoints (dns, dns-tcp, metrics), which stop() withdraws.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as dnsPacket from 'dns-packet';
import type { KubeObject } from '../api/types.js';
import { FakeClient } from '../client/fake.js';
import { check } from '../runtime/command.js';
import { createTestHost, preflight, type TestHost } from '../runtime/testing.js';
import { ClusterDNS } from './dns.js';

const exec = promisify(execFile);

/** Sends one UDP query from inside the namespace and returns the decoded reply. */
async function queryIn(host: TestHost, ip: string, port: number, name: string): Promise<dnsPacket.Packet & { rcode?: string }> {
  const q = dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] }).toString('hex');
  const script = `const u=require('dgram').createSocket('udp4');u.on('message',m=>{console.log(m.toString('hex'));u.close()});u.send(Buffer.from(process.argv[1],'hex'),+process.argv[2],process.argv[3]);setTimeout(()=>process.exit(3),3000).unref();`;
  const { stdout } = await exec('nsenter', [`--net=${host.path}`, '--', process.execPath, '-e', script, '--', q, String(port), ip], { timeout: 10_000 });
  return dnsPacket.decode(Buffer.from(stdout.trim(), 'hex')) as dnsPacket.Packet & { rcode?: string };
}

/** The same over TCP (two-byte length framing). */
async function queryTcpIn(host: TestHost, ip: string, port: number, name: string): Promise<dnsPacket.Packet & { rcode?: string }> {
  const q = dnsPacket.encode({ type: 'query', id: 8, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] });
  const framed = Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q]).toString('hex');
  const script = `const s=require('net').connect(+process.argv[2],process.argv[3],()=>s.write(Buffer.from(process.argv[1],'hex')));let b=Buffer.alloc(0);s.on('data',d=>{b=Buffer.concat([b,d]);if(b.length>=2&&b.length>=2+b.readUInt16BE(0)){console.log(b.subarray(2).toString('hex'));s.destroy()}});setTimeout(()=>process.exit(3),3000).unref();`;
  const { stdout } = await exec('nsenter', [`--net=${host.path}`, '--', process.execPath, '-e', script, '--', framed, String(port), ip], { timeout: 10_000 });
  return dnsPacket.decode(Buffer.from(stdout.trim(), 'hex')) as dnsPacket.Packet & { rcode?: string };
}

/** GET http://ip:port/path from inside the namespace: status and body. */
async function httpGetIn(host: TestHost, ip: string, port: number, path: string): Promise<{ status: number; body: string; type: string }> {
  const script = `require('http').get({host:process.argv[2],port:+process.argv[1],path:process.argv[3]},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>{console.log(JSON.stringify({status:r.statusCode,type:r.headers['content-type'],body:b}))})});`;
  const { stdout } = await exec('nsenter', [`--net=${host.path}`, '--', process.execPath, '-e', script, '--', String(port), ip, path], { timeout: 10_000 });
  return JSON.parse(stdout) as { status: number; body: string; type: string };
}

describe('cluster DNS node listener', { timeout: 60_000 }, () => {
  let host: TestHost;

  before(async () => {
    preflight();
    host = await createTestHost();
  });

  after(async () => {
    await host?.destroy();
  });

  it('waits for the gateway, serves inside the node namespace, publishes and withdraws kube-dns endpoints', async () => {
    const client = new FakeClient();
    client.seed('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } as KubeObject);
    client.seed('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.99.7.0/24' } } as KubeObject);
    client.seed('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubia', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.43.5.5', clusterIPs: ['10.43.5.5'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } } as KubeObject);
    client.seed('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { selector: { 'k8s-app': 'kube-dns' }, clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } } as KubeObject);
    const logs: string[] = [];
    const dns = new ClusterDNS(client, { bindAddress: '127.0.0.1', port: 0, upstreams: [], node: { name: 'n1', netns: host.path, port: 0, metricsPort: 0 }, log: (m) => logs.push(m) });
    try {
      await dns.start();
      // No 10.99.7.1 in the namespace yet: the listener keeps trying, and nothing is published.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(dns.nodeAddress, undefined);
      assert.equal(client.peek('endpointslices', 'kube-system', 'kube-dns-n1'), undefined);
      await check('ip', ['-n', host.name, 'addr', 'add', '10.99.7.1/24', 'dev', 'lo']);
      const at = await dns.nodeListening();
      assert.equal(at?.ip, '10.99.7.1');
      const reply = await queryIn(host, at!.ip, at!.port, 'kubia.default.svc.cluster.local');
      assert.equal(reply.rcode, 'NOERROR');
      assert.deepEqual(reply.answers?.map((a) => [a.name, a.type, (a as { data?: unknown }).data]), [['kubia.default.svc.cluster.local', 'A', '10.43.5.5']]);
      const overTcp = await queryTcpIn(host, at!.ip, at!.port, 'kubia.default.svc.cluster.local');
      assert.deepEqual(overTcp.answers?.map((a) => (a as { data?: unknown }).data), ['10.43.5.5']);
      assert.ok(at!.metricsPort, 'metrics served');
      const m = await httpGetIn(host, at!.ip, at!.metricsPort!, '/metrics');
      assert.equal(m.status, 200);
      assert.equal(m.type, 'text/plain; version=0.0.4; charset=utf-8');
      const server = `dns://10.99.7.1:${at!.port}`;
      for (const proto of ['udp', 'tcp']) {
        assert.ok(m.body.split('\n').includes(`coredns_dns_requests_total{family="1",proto="${proto}",server="${server}",type="A",view="",zone="."} 1`), `${proto} query counted:\n${m.body}`);
      }
      assert.match(m.body, new RegExp(`^coredns_dns_responses_total\\{plugin="kubernetes",rcode="NOERROR",server="${server.replace(/[./]/g, '\\$&')}",view="",zone="\\."\\} 2$`, 'm'));
      assert.equal((await httpGetIn(host, at!.ip, at!.metricsPort!, '/other')).status, 404);
      const slice = client.peek('endpointslices', 'kube-system', 'kube-dns-n1') as unknown as { endpoints: Array<{ addresses: string[] }>; ports: Array<{ name: string; port: number; protocol: string }> };
      assert.deepEqual(slice.endpoints[0]!.addresses, ['10.99.7.1']);
      assert.deepEqual(slice.ports, [
        { name: 'dns', port: at!.port, protocol: 'UDP' },
        { name: 'dns-tcp', port: at!.port, protocol: 'TCP' },
        { name: 'metrics', port: at!.metricsPort, protocol: 'TCP' },
      ]);
      const ep = client.peek('endpoints', 'kube-system', 'kube-dns') as unknown as { subsets: Array<{ addresses: Array<{ ip: string }>; ports: Array<{ name: string }> }> };
      assert.deepEqual(ep.subsets[0]!.addresses.map((a) => a.ip), ['10.99.7.1']);
      assert.deepEqual(ep.subsets[0]!.ports.map((p) => p.name), ['dns', 'dns-tcp', 'metrics']);
      const svc = client.peek('services', 'kube-system', 'kube-dns') as unknown as { spec: { selector?: unknown; clusterIP: string } };
      assert.equal(svc.spec.selector, undefined, 'the CoreDNS selector is dropped');
      assert.equal(svc.spec.clusterIP, '10.43.0.10');
    } finally {
      await dns.stop();
    }
    assert.equal(client.peek('endpointslices', 'kube-system', 'kube-dns-n1'), undefined, 'withdrawn on stop');
    assert.equal((client.peek('endpoints', 'kube-system', 'kube-dns') as unknown as { subsets?: unknown }).subsets, undefined);
    assert.ok(!logs.some((l) => /node listener/.test(l)), `no listener errors besides EADDRNOTAVAIL: ${logs.join('\n')}`);
  });
});
