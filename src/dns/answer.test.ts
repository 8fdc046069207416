// Cluster DNS answer logic as a table: one cluster state, questions in, rcode and records out (the pure function
// the server wraps). Covers ClusterIP, headless, StatefulSet pod names, SRV, PTR, ExternalName, pod A records,
// NXDOMAIN/NODATA with SOA, the zone apex, case-insensitivity and what is forwarded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Question, RecordType } from 'dns-packet';
import type { KubeObject } from '../api/types.js';
import { resolve, reverseToIP, type DnsConfig, type Resolution } from './answer.js';
import { ClusterRecords, canonicalIPv6 } from './records.js';

const cfg: DnsConfig = { zone: 'cluster.local', ttl: 5, dnsIP: '10.43.0.10' };
const NOW = Date.parse('2026-01-01T12:00:00Z');

function service(ns: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec };
}

function slice(ns: string, svc: string, name: string, endpoints: unknown[], ports: unknown[] = [{ name: 'http', port: 8080, protocol: 'TCP' }]): KubeObject {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', endpoints, ports };
}

const ep = (ip: string, o: { ready?: boolean; hostname?: string } = {}) => ({ addresses: [ip], conditions: { ready: o.ready ?? true }, ...(o.hostname ? { hostname: o.hostname } : {}) });

function cluster(): ClusterRecords {
  const r = new ClusterRecords(() => NOW);
  for (const ns of ['default', 'kube-system', 'db']) r.upsertNamespace({ metadata: { name: ns } });
  r.upsertService(service('default', 'kubia', { type: 'ClusterIP', clusterIP: '10.43.12.7', clusterIPs: ['10.43.12.7'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 9000, protocol: 'TCP' }] }));
  r.upsertSlice(slice('default', 'kubia', 'kubia-abcde', [ep('10.244.1.5'), ep('10.244.2.6')]));
  r.upsertService(service('default', 'kubia-headless', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
  r.upsertSlice(slice('default', 'kubia-headless', 'kubia-headless-aaaaa', [ep('10.244.1.5'), ep('10.244.2.6'), ep('10.244.2.7', { ready: false })]));
  r.upsertService(service('db', 'pg', { type: 'ClusterIP', clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }));
  r.upsertSlice(slice('db', 'pg', 'pg-1', [ep('10.244.3.10', { hostname: 'pg-0' }), ep('10.244.3.11', { hostname: 'pg-1' })], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
  r.upsertService(service('db', 'empty', { type: 'ClusterIP', clusterIP: 'None', ports: [{ name: 'x', port: 1, protocol: 'TCP' }] }));
  r.upsertService(service('default', 'portless', { clusterIP: 'None' }));
  r.upsertSlice(slice('default', 'portless', 'portless-1', [ep('10.244.4.1')], []));
  r.upsertService(service('default', 'ext', { type: 'ExternalName', externalName: 'www.example.com' }));
  return r;
}

const q = (name: string, type: string): Question => ({ name, type: type as RecordType, class: 'IN' });

/** "NAME TTL TYPE DATA" lines, the shape dig prints. */
function lines(rrs: Resolution['answers']): string[] {
  return rrs.map((r) => {
    const d = (r as { data: unknown }).data;
    const data = typeof d === 'string' ? d : r.type === 'SRV' ? (() => { const s = d as { priority: number; weight: number; port: number; target: string }; return `${s.priority} ${s.weight} ${s.port} ${s.target}`; })() : r.type === 'SOA' ? (d as { mname: string }).mname : JSON.stringify(d);
    return `${r.name} ${(r as { ttl?: number }).ttl} ${r.type} ${data}`;
  });
}

interface Case {
  name: string;
  type: string;
  rcode?: string;
  answers?: string[];
  additionals?: string[];
  soa?: boolean;
  forward?: boolean;
}

const CASES: Case[] = [
  { name: 'kubia.default.svc.cluster.local', type: 'A', answers: ['kubia.default.svc.cluster.local 5 A 10.43.12.7'] },
  { name: 'KUBIA.Default.SVC.cluster.local', type: 'A', answers: ['KUBIA.Default.SVC.cluster.local 5 A 10.43.12.7'] },
  { name: 'kubia.default.svc.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: [], soa: true },
  { name: 'kubia.default.svc.cluster.local', type: 'MX', rcode: 'NOERROR', answers: [], soa: true },
  { name: '_http._tcp.kubia.default.svc.cluster.local', type: 'SRV', answers: ['_http._tcp.kubia.default.svc.cluster.local 5 SRV 0 100 80 kubia.default.svc.cluster.local'], additionals: ['kubia.default.svc.cluster.local 5 A 10.43.12.7'] },
  { name: '_dns._udp.kubia.default.svc.cluster.local', type: 'SRV', answers: ['_dns._udp.kubia.default.svc.cluster.local 5 SRV 0 100 53 kubia.default.svc.cluster.local'] },
  { name: '_dns._tcp.kubia.default.svc.cluster.local', type: 'SRV', rcode: 'NXDOMAIN', soa: true },
  { name: '_nope._tcp.kubia.default.svc.cluster.local', type: 'SRV', rcode: 'NXDOMAIN', soa: true },
  {
    name: 'kubia.default.svc.cluster.local',
    type: 'SRV',
    answers: ['kubia.default.svc.cluster.local 5 SRV 0 33 80 kubia.default.svc.cluster.local', 'kubia.default.svc.cluster.local 5 SRV 0 33 53 kubia.default.svc.cluster.local', 'kubia.default.svc.cluster.local 5 SRV 0 33 9000 kubia.default.svc.cluster.local'],
  },
  { name: 'kubia-headless.default.svc.cluster.local', type: 'A', answers: ['kubia-headless.default.svc.cluster.local 5 A 10.244.1.5', 'kubia-headless.default.svc.cluster.local 5 A 10.244.2.6'] },
  {
    name: '_http._tcp.kubia-headless.default.svc.cluster.local',
    type: 'SRV',
    answers: ['_http._tcp.kubia-headless.default.svc.cluster.local 5 SRV 0 50 8080 10-244-1-5.kubia-headless.default.svc.cluster.local', '_http._tcp.kubia-headless.default.svc.cluster.local 5 SRV 0 50 8080 10-244-2-6.kubia-headless.default.svc.cluster.local'],
    additionals: ['10-244-1-5.kubia-headless.default.svc.cluster.local 5 A 10.244.1.5', '10-244-2-6.kubia-headless.default.svc.cluster.local 5 A 10.244.2.6'],
  },
  { name: '10-244-2-6.kubia-headless.default.svc.cluster.local', type: 'A', answers: ['10-244-2-6.kubia-headless.default.svc.cluster.local 5 A 10.244.2.6'] },
  { name: '10-244-2-7.kubia-headless.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'pg-1.pg.db.svc.cluster.local', type: 'A', answers: ['pg-1.pg.db.svc.cluster.local 5 A 10.244.3.11'] },
  { name: '_pg._tcp.pg.db.svc.cluster.local', type: 'SRV', answers: ['_pg._tcp.pg.db.svc.cluster.local 5 SRV 0 50 5432 pg-0.pg.db.svc.cluster.local', '_pg._tcp.pg.db.svc.cluster.local 5 SRV 0 50 5432 pg-1.pg.db.svc.cluster.local'] },
  { name: 'pg-7.pg.db.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'empty.db.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'portless.default.svc.cluster.local', type: 'A', answers: ['portless.default.svc.cluster.local 5 A 10.244.4.1'] },
  { name: 'portless.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR', answers: [], soa: true },
  { name: 'ext.default.svc.cluster.local', type: 'A', answers: ['ext.default.svc.cluster.local 5 CNAME www.example.com'] },
  { name: 'ext.default.svc.cluster.local', type: 'CNAME', answers: ['ext.default.svc.cluster.local 5 CNAME www.example.com'] },
  { name: '10-244-9-9.default.pod.cluster.local', type: 'A', answers: ['10-244-9-9.default.pod.cluster.local 5 A 10.244.9.9'] },
  { name: '10-244-9-9.nowhere.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'not-an-ip.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'missing.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'kubia.nowhere.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [], soa: true },
  { name: 'nowhere.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [], soa: true },
  { name: 'a.b.c.kubia.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'kubia.default.other.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  // What an ndots:5 client tries first for an outside name: answered here, at once, as not existing.
  { name: 'example.com.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'example.com.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'cluster.local', type: 'SOA', answers: ['cluster.local 5 SOA ns.dns.cluster.local'] },
  { name: 'cluster.local', type: 'NS', answers: ['cluster.local 5 NS ns.dns.cluster.local'], additionals: ['ns.dns.cluster.local 5 A 10.43.0.10'] },
  { name: 'ns.dns.cluster.local', type: 'A', answers: ['ns.dns.cluster.local 5 A 10.43.0.10'] },
  { name: 'dns-version.cluster.local', type: 'TXT', answers: ['dns-version.cluster.local 5 TXT 1.1.0'] },
  { name: '7.12.43.10.in-addr.arpa', type: 'PTR', answers: ['7.12.43.10.in-addr.arpa 5 PTR kubia.default.svc.cluster.local'] },
  { name: '11.3.244.10.in-addr.arpa', type: 'PTR', answers: ['11.3.244.10.in-addr.arpa 5 PTR pg-1.pg.db.svc.cluster.local'] },
  { name: '5.1.244.10.in-addr.arpa', type: 'PTR', answers: ['5.1.244.10.in-addr.arpa 5 PTR 10-244-1-5.kubia.default.svc.cluster.local', '5.1.244.10.in-addr.arpa 5 PTR 10-244-1-5.kubia-headless.default.svc.cluster.local'] },
  { name: '1.2.0.192.in-addr.arpa', type: 'PTR', forward: true },
  { name: 'example.com', type: 'A', forward: true },
  { name: 'cluster.local.example.com', type: 'A', forward: true },
];

for (const c of CASES) {
  test(`${c.type} ${c.name}`, () => {
    const r = resolve(cluster(), q(c.name, c.type), cfg);
    if (c.forward) {
      assert.equal(r.forward, true);
      return;
    }
    assert.equal(r.forward, false);
    assert.equal(r.rcode, c.rcode ?? 'NOERROR');
    assert.equal(r.authoritative, true);
    if (c.answers) assert.deepEqual(lines(r.answers), c.answers);
    if (c.additionals) assert.deepEqual(lines(r.additionals), c.additionals);
    if (c.soa !== undefined) {
      assert.equal(r.authorities.length, c.soa ? 1 : 0);
      if (c.soa) assert.deepEqual(lines(r.authorities), ['cluster.local 5 SOA ns.dns.cluster.local']);
    }
  });
}

test('SOA: serial is the time of the last change, timers as CoreDNS', () => {
  const r = resolve(cluster(), q('missing.default.svc.cluster.local', 'A'), cfg);
  assert.deepEqual((r.authorities[0] as { data: unknown }).data, { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: NOW / 1000, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 });
});

test('ExternalName A questions ask for the CNAME target to be chased', () => {
  assert.deepEqual(resolve(cluster(), q('ext.default.svc.cluster.local', 'A'), cfg).chase, { name: 'www.example.com', type: 'A' });
  assert.equal(resolve(cluster(), q('ext.default.svc.cluster.local', 'CNAME'), cfg).chase, undefined);
});

test('records follow changes: a slice gone, a Service gone, a namespace gone', () => {
  const r = cluster();
  r.deleteSlice(slice('default', 'kubia-headless', 'kubia-headless-aaaaa', []));
  assert.equal(resolve(r, q('kubia-headless.default.svc.cluster.local', 'A'), cfg).rcode, 'NXDOMAIN');
  r.deleteService(service('default', 'kubia', {}));
  assert.equal(resolve(r, q('kubia.default.svc.cluster.local', 'A'), cfg).rcode, 'NXDOMAIN');
  assert.equal(resolve(r, q('7.12.43.10.in-addr.arpa', 'PTR'), cfg).forward, true);
  r.deleteNamespace({ metadata: { name: 'db' } });
  assert.equal(resolve(r, q('10-244-9-9.db.pod.cluster.local', 'A'), cfg).rcode, 'NXDOMAIN');
});

test('a slice relabelled to another Service moves with it', () => {
  const r = cluster();
  r.upsertService(service('default', 'other', { clusterIP: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
  const s = slice('default', 'other', 'kubia-headless-aaaaa', [ep('10.244.8.8')]);
  r.upsertSlice(s);
  assert.equal(resolve(r, q('kubia-headless.default.svc.cluster.local', 'A'), cfg).rcode, 'NXDOMAIN');
  assert.deepEqual(lines(resolve(r, q('other.default.svc.cluster.local', 'A'), cfg).answers), ['other.default.svc.cluster.local 5 A 10.244.8.8']);
});

test('reverse names and IPv6 forms', () => {
  assert.equal(reverseToIP('7.12.43.10.in-addr.arpa'), '10.43.12.7');
  assert.equal(reverseToIP('12.43.10.in-addr.arpa'), undefined);
  assert.equal(reverseToIP('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'), 'fd00::1');
  assert.equal(canonicalIPv6('FD00:0:0:0:0:0:0:0001'), 'fd00::1');
  assert.equal(canonicalIPv6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(canonicalIPv6('1:2:3:4:5:6:7:8'), '1:2:3:4:5:6:7:8');
  assert.equal(canonicalIPv6('1::2::3'), undefined);
});
