// End-to-end: cluster DNS of `k8ts server --simulate-nodes 2 --dns-port P` queried with dns-packet over UDP (and
// once TCP) on 127.0.0.1, objects made with the real kubectl 1.32 — the kube-dns Service, a Service's ClusterIP,
// a headless Service's pod IPs following a scale, SRV for named ports, StatefulSet pod names, PTR, ExternalName,
// pod A records, NXDOMAIN for search-path guesses, and outside names forwarded to a fake upstream the test runs.
// Network rule: every packet stays on 127.0.0.1 (the fake upstream is the only resolver the server may use).

import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import type { Packet, RecordType } from 'dns-packet';

import { Server, docs, eventually, freePort, parseTable, withNamespace, type Kubectl } from './harness.js';

/** The only upstream the server is given: www.example.com A 192.0.2.1, anything else NXDOMAIN. */
class FakeUpstream {
  private readonly udp: UdpSocket = createSocket('udp4');
  port = 0;
  readonly asked: string[] = [];

  async start(): Promise<void> {
    await new Promise<void>((r) => this.udp.bind(0, '127.0.0.1', () => r()));
    this.port = this.udp.address().port;
    this.udp.on('message', (m, ri) => {
      const q = dnsPacket.decode(m);
      const question = q.questions![0]!;
      this.asked.push(question.name);
      const known = question.name === 'www.example.com';
      this.udp.send(
        dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3), questions: q.questions, answers: known && question.type === 'A' ? [{ name: question.name, type: 'A', ttl: 60, class: 'IN', data: '192.0.2.1' }] : [] }),
        ri.port,
        ri.address,
      );
    });
  }

  stop(): void {
    this.udp.close();
  }
}

type Reply = Packet & { rcode?: string; flag_aa?: boolean };

let srv: Server;
let dnsPort: number;
const upstream = new FakeUpstream();

before(async () => {
  await upstream.start();
  dnsPort = await freePort();
  srv = await Server.start({ extraArgs: ['--simulate-nodes', '2', '--dns-port', String(dnsPort), '--dns-upstream', `127.0.0.1:${upstream.port}`] });
});

after(async () => {
  await srv?.stop();
  upstream.stop();
});

function query(name: string, type: string, via: 'udp' | 'tcp' = 'udp'): Promise<Reply> {
  const msg = dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65536), flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as RecordType, class: 'IN' }] });
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => reject(e);
    if (via === 'udp') {
      const s = createSocket('udp4');
      const t = setTimeout(() => {
        s.close();
        fail(new Error(`no DNS reply for ${name} ${type}`));
      }, 3000);
      s.on('message', (m) => {
        clearTimeout(t);
        s.close();
        resolve(dnsPacket.decode(m) as Reply);
      });
      s.send(msg, dnsPort, '127.0.0.1');
      return;
    }
    const s = new Socket();
    let buf: Buffer = Buffer.alloc(0);
    s.on('error', fail);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))) as Reply);
      }
    });
    s.connect(dnsPort, '127.0.0.1', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(msg.length, 0);
      s.write(Buffer.concat([head, msg]));
    });
  });
}

const data = (r: Reply, type?: string): string[] =>
  (r.answers ?? [])
    .filter((a) => !type || a.type === type)
    .map((a) => {
      const d = (a as { data: unknown }).data;
      if (a.type === 'SRV') {
        const s = d as { priority: number; weight: number; port: number; target: string };
        return `${s.priority} ${s.weight} ${s.port} ${s.target}`;
      }
      return String(d);
    })
    .sort();

async function podIPs(k: Kubectl, selector: string, n: number): Promise<string[]> {
  return await eventually(
    async () => {
      const out = (await k.ok(['get', 'pods', '-l', selector, '-o', 'jsonpath={range .items[*]}{.status.podIP}/{.status.conditions[?(@.type=="Ready")].status}/{.metadata.deletionTimestamp}{"\\n"}{end}'])).stdout;
      const rows = out.trim().split('\n').filter(Boolean).map((l) => l.split('/'));
      return rows.length === n && rows.every(([ip, ready, del]) => ip && ready === 'True' && !del) && rows.map(([ip]) => ip!).sort();
    },
    20_000,
    `${n} ready pods ${selector}`,
  );
}

const service = (name: string, o: { headless?: boolean; selector?: Record<string, string> } = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { ...(o.headless ? { clusterIP: 'None' } : {}), selector: o.selector ?? { app: 'kubia' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});

test('the kube-dns Service exists in kube-system with k3s\'s address and ports, and resolves itself', async () => {
  const k = srv.client();
  const t = await eventually(async () => parseTable((await k.ok(['get', 'svc', '-n', 'kube-system', 'kube-dns'])).stdout), 10_000, 'kube-dns service');
  assert.equal(t.rows[0]!['CLUSTER-IP'], '10.43.0.10');
  assert.equal(t.rows[0]!['PORT(S)'], '53/UDP,53/TCP,9153/TCP');
  assert.equal((await k.ok(['get', 'svc', '-n', 'kube-system', 'kube-dns', '-o', 'jsonpath={.metadata.labels.k8s-app}'])).stdout, 'kube-dns');
  const r = await eventually(async () => {
    const r = await query('kube-dns.kube-system.svc.cluster.local', 'A');
    return r.rcode === 'NOERROR' && r;
  }, 10_000, 'kube-dns A');
  assert.deepEqual(data(r), ['10.43.0.10']);
  assert.equal(r.flag_aa, true);
  assert.equal((r.answers![0] as { ttl: number }).ttl, 5);
  assert.deepEqual(data(await query('kubernetes.default.svc.cluster.local', 'A', 'tcp')), ['10.43.0.1']);
});

test('a Service: A is the ClusterIP, SRV the named port, PTR the name; headless: the ready pod IPs, following a scale', async () => {
  const k = await withNamespace(srv, 'e2e-dns');
  const ns = k.namespace!;
  await k.ok(['create', 'deployment', 'kubia', '--image=luksa/kubia', '--replicas=3', '--port=8080']);
  await k.ok(['create', '-f', '-'], { stdin: docs(service('kubia'), service('kubia-headless', { headless: true })) });
  const clusterIP = (await k.ok(['get', 'svc', 'kubia', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  const fqdn = `kubia.${ns}.svc.cluster.local`;
  await eventually(async () => data(await query(fqdn, 'A')).join() === clusterIP, 10_000, `${fqdn} A ${clusterIP}`);
  assert.deepEqual(data(await query(`_http._tcp.${fqdn}`, 'SRV')), [`0 100 80 ${fqdn}`]);
  const ptr = await query(`${clusterIP.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR');
  assert.deepEqual(data(ptr), [fqdn]);

  let ips = await podIPs(k, 'app=kubia', 3);
  const headless = `kubia-headless.${ns}.svc.cluster.local`;
  await eventually(async () => data(await query(headless, 'A')).join() === ips.join(), 15_000, `${headless} A ${ips.join()}`);
  const srv3 = await query(`_http._tcp.${headless}`, 'SRV');
  assert.deepEqual(data(srv3), ips.map((ip) => `0 33 8080 ${ip.replace(/\./g, '-')}.${headless}`).sort());
  assert.deepEqual((srv3.additionals ?? []).filter((a) => a.type === 'A').map((a) => (a as { data: string }).data).sort(), ips);
  assert.deepEqual(data(await query(`${ips[0]!.replace(/\./g, '-')}.${headless}`, 'A')), [ips[0]!]);

  await k.ok(['scale', 'deployment', 'kubia', '--replicas=2']);
  ips = await podIPs(k, 'app=kubia', 2);
  await eventually(async () => data(await query(headless, 'A')).join() === ips.join(), 15_000, `${headless} A after scale`);
  // A pod that is not ready is not in a headless answer.
  await k.ok(['create', '-f', '-'], {
    stdin: docs({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lagging', labels: { app: 'kubia' }, annotations: { 'sim.k8ts.io/ready-seconds': 'never' } }, spec: { containers: [{ name: 'main', image: 'luksa/kubia', ports: [{ containerPort: 8080 }] }] } }),
  });
  await eventually(async () => (await k.ok(['get', 'endpoints', 'kubia-headless', '-o', 'jsonpath={.subsets[*].notReadyAddresses[*].ip}'])).stdout.trim() !== '', 15_000, 'lagging pod not ready in endpoints');
  assert.deepEqual(data(await query(headless, 'A')), ips);

  const nx = await query(`nope.${ns}.svc.cluster.local`, 'A');
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.authorities?.[0]?.type, 'SOA');
});

test('StatefulSet pods resolve as <pod>.<service>.<ns>.svc.cluster.local; SRV names them', async () => {
  const k = await withNamespace(srv, 'e2e-dns');
  const ns = k.namespace!;
  await k.ok(['create', '-f', '-'], {
    stdin: docs(service('web', { headless: true, selector: { app: 'web' } }), {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: { serviceName: 'web', replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] } } },
    }),
  });
  await podIPs(k, 'app=web', 2);
  const ip0 = (await k.ok(['get', 'pod', 'web-0', '-o', 'jsonpath={.status.podIP}'])).stdout;
  const ip1 = (await k.ok(['get', 'pod', 'web-1', '-o', 'jsonpath={.status.podIP}'])).stdout;
  await eventually(async () => data(await query(`web-1.web.${ns}.svc.cluster.local`, 'A')).join() === ip1, 15_000, 'web-1 A');
  assert.deepEqual(data(await query(`web-0.web.${ns}.svc.cluster.local`, 'A')), [ip0]);
  assert.deepEqual(data(await query(`_http._tcp.web.${ns}.svc.cluster.local`, 'SRV')), [`0 50 8080 web-0.web.${ns}.svc.cluster.local`, `0 50 8080 web-1.web.${ns}.svc.cluster.local`]);
  assert.deepEqual(data(await query(`${ip0.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR')), [`web-0.web.${ns}.svc.cluster.local`]);
  assert.equal((await query(`web-7.web.${ns}.svc.cluster.local`, 'A')).rcode, 'NXDOMAIN');
});

test('ExternalName is a CNAME, pod names resolve, search-path guesses are NXDOMAIN and other names go upstream', async () => {
  const k = await withNamespace(srv, 'e2e-dns');
  const ns = k.namespace!;
  await k.ok(['create', 'service', 'externalname', 'ext', '--external-name', 'www.example.com']);
  const ext = await eventually(async () => {
    const r = await query(`ext.${ns}.svc.cluster.local`, 'A');
    return r.rcode === 'NOERROR' && r;
  }, 10_000, 'ext CNAME');
  assert.deepEqual(data(ext, 'CNAME'), ['www.example.com']);
  assert.deepEqual(data(ext, 'A'), ['192.0.2.1']);

  assert.deepEqual(data(await query(`10-244-1-9.${ns}.pod.cluster.local`, 'A')), ['10.244.1.9']);
  assert.equal((await query('10-244-1-9.no-such-ns.pod.cluster.local', 'A')).rcode, 'NXDOMAIN');

  // What an ndots:5 resolver tries for "www.example.com" before the name itself.
  upstream.asked.length = 0;
  for (const guess of [`www.example.com.${ns}.svc.cluster.local`, 'www.example.com.svc.cluster.local', 'www.example.com.cluster.local']) {
    assert.equal((await query(guess, 'A')).rcode, 'NXDOMAIN', guess);
  }
  assert.deepEqual(upstream.asked, [], 'guesses inside the zone never leave the server');
  const out = await query('www.example.com', 'A');
  assert.deepEqual(data(out), ['192.0.2.1']);
  assert.equal((await query('nowhere.example.org', 'A')).rcode, 'NXDOMAIN');
  assert.deepEqual(upstream.asked, ['www.example.com', 'nowhere.example.org']);
});
