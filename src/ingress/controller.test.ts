// The Ingress controller on the fake client with real sockets on 127.0.0.0/8: the default IngressClass, host/path
// routing to round-robin backends (two HTTP servers on 127.0.0.1 and 127.0.0.2), forwarded headers, 404/503/502,
// edits applied without a restart, TLS chosen by SNI from a kubernetes.io/tls Secret, WebSocket-style upgrades and
// the status address.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { KubeObject } from '../api/types.js';
import { FakeClient } from '../client/fake.js';
import { ENDPOINTSLICES, INGRESSES, SECRETS } from '../client/resources.js';
import { IngressController, type Listen } from './controller.js';
import { selfSignedCertificate, DEFAULT_CERT_CN } from './tls.js';

const NODE_IP = '10.0.0.7';
let client: FakeClient;
let ctl: IngressController;
let httpPort = 0;
let httpsPort = 0;
let backends: Server[] = [];
let backendPort = 0;
const seen: Array<{ who: string; headers: IncomingHttpHeaders; url: string }> = [];

// The listener seam binds an ephemeral port on loopback instead of 80/443.
const ephemeral: Listen = (server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));

async function backend(ip: string, port: number, who: string): Promise<Server> {
  const s = createServer((req, res) => {
    if (req.headers.upgrade) return;
    seen.push({ who, headers: req.headers, url: req.url ?? '' });
    res.setHeader('set-cookie', [`a=${who}`, 'b=2']);
    res.end(`${who} ${req.url}\n`);
  });
  s.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(`${who}:${d.toString()}`));
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((r) => s.listen(port, ip, () => r()));
  return s;
}

const svc = (name: string, ports: Array<{ name: string; port: number }>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports } }) as KubeObject;
const slice = (svcName: string, port: number, ips: string[], portName = 'http'): KubeObject =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svcName}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': svcName } },
    addressType: 'IPv4',
    ports: [{ name: portName, port, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  }) as unknown as KubeObject;
const ingress = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' }, spec }) as KubeObject;
const backendRef = (name: string, port: number | string) => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });

function get(path: string, host: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: IncomingHttpHeaders; raw: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: httpPort, path, headers: { ...(host ? { host } : {}), ...headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, raw: res.rawHeaders }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function eventually<T>(fn: () => Promise<T | undefined | false>, what: string): Promise<T> {
  const until = Date.now() + 5000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  // Two pods answering on one port at two loopback addresses, as an EndpointSlice lists pods.
  const probe = createNetServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  backendPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  backends = [await backend('127.0.0.1', backendPort, 'pod-a'), await backend('127.0.0.2', backendPort, 'pod-b')];
  client = new FakeClient();
  client.seed('services', svc('web', [{ name: 'http', port: 80 }]));
  client.seed('endpointslices', slice('web', backendPort, ['127.0.0.1', '127.0.0.2']));
  client.seed('services', svc('empty', [{ name: 'http', port: 80 }]));
  client.seed('services', svc('gone', [{ name: 'http', port: 80 }]));
  // A pod that is listed ready but refuses connections.
  client.seed('endpointslices', slice('gone', 1, ['127.0.0.3']));
  client.seed('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } } as KubeObject);
  client.seed(
    'ingresses',
    ingress('routes', {
      rules: [
        {
          host: 'a.test',
          http: {
            paths: [
              { path: '/app', pathType: 'Prefix', backend: backendRef('web', 80) },
              { path: '/empty', pathType: 'Exact', backend: backendRef('empty', 'http') },
              { path: '/gone', pathType: 'Exact', backend: backendRef('gone', 80) },
              { path: '/missing', pathType: 'Exact', backend: backendRef('nosuch', 80) },
            ],
          },
        },
      ],
    }),
  );
  ctl = new IngressController({ client, nodeIP: NODE_IP, bindAddress: '127.0.0.1', httpPort: 80, httpsPort: 443, dial: dialLoopback, listen: ephemeral });
  await ctl.start();
  [httpPort, httpsPort] = ctl.boundPorts() as [number, number];
});

after(async () => {
  await ctl?.stop();
  for (const b of backends) b.close();
});

/** Pods are on loopback here: dial directly. */
function dialLoopback(host: string, port: number): Promise<import('node:stream').Duplex> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

test('the default IngressClass k8ts is created (controller k8ts.io/ingress, is-default-class)', async () => {
  const c = await eventually(async () => client.peek('ingressclasses', undefined, 'k8ts'), 'IngressClass k8ts');
  assert.deepEqual(c.spec, { controller: 'k8ts.io/ingress' });
  assert.equal(c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
});

test('routing: round-robin over the ready endpoints, X-Forwarded-* set (not trusted from the client), 404 and 503', async () => {
  seen.length = 0;
  const who: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await eventually(async () => {
      const x = await get(`/app/x?q=${i}`, 'a.test', { 'x-forwarded-for': '6.6.6.6' });
      return x.status === 200 && x;
    }, 'the Ingress routed');
    who.push(r.body.split(' ')[0]!);
    assert.equal(r.body.split(' ')[1], `/app/x?q=${i}\n`);
    // Repeated response headers survive.
    assert.deepEqual(r.headers['set-cookie']?.length, 2);
  }
  assert.deepEqual(new Set(who), new Set(['pod-a', 'pod-b']));
  assert.notEqual(who[0], who[1]);
  const h = seen[0]!.headers;
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.equal(h['x-real-ip'], '127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], 'a.test');
  assert.equal(h['x-forwarded-port'], '80');
  assert.equal(h.host, 'a.test');
  const cases: Array<[string, string | undefined, number, RegExp]> = [
    ['/other', 'a.test', 404, /^404 page not found/],
    ['/app', 'b.test', 404, /^404 page not found/],
    ['/app', undefined, 404, /^404 page not found/],
    ['/empty', 'a.test', 503, /^503/],
    ['/missing', 'a.test', 503, /^503/],
    ['/gone', 'a.test', 502, /^502 Bad Gateway/],
  ];
  for (const [path, host, status, body] of cases) {
    const r = await get(path, host);
    assert.equal(r.status, status, `${host} ${path}`);
    assert.match(r.body, body);
  }
});

test('edits apply without a restart: a new path, then endpoints appearing', async () => {
  const cur = client.peek('ingresses', 'default', 'routes')!;
  const spec = structuredClone(cur.spec) as { rules: Array<{ http: { paths: unknown[] } }> };
  spec.rules[0]!.http.paths.push({ path: '/new', pathType: 'Prefix', backend: backendRef('web', 'http') });
  await client.update(INGRESSES, 'default', { ...structuredClone(cur), spec } as KubeObject);
  await eventually(async () => (await get('/new/page', 'a.test')).status === 200, '/new routed');
  assert.equal((await get('/empty', 'a.test')).status, 503);
  await client.create(ENDPOINTSLICES, 'default', slice('empty', backendPort, ['127.0.0.2']));
  const r = await eventually(async () => {
    const x = await get('/empty', 'a.test');
    return x.status === 200 && x;
  }, '/empty served once its slice exists');
  assert.match(r.body, /^pod-b /);
});

test('status.loadBalancer.ingress is the node address', async () => {
  const ing = await eventually(async () => {
    const i = client.peek('ingresses', 'default', 'routes');
    return (i?.status as any)?.loadBalancer?.ingress?.length && i;
  }, 'status written');
  assert.deepEqual((ing.status as any).loadBalancer, { ingress: [{ ip: NODE_IP }] });
});

function servedCert(servername: string | undefined): Promise<{ cn: string; response: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: httpsPort, ...(servername ? { servername } : {}), rejectUnauthorized: false }, () => {
      const cert = s.getPeerCertificate();
      s.write(`GET /app/tls HTTP/1.1\r\nHost: ${servername ?? 'a.test'}\r\nConnection: close\r\n\r\n`);
      let response = '';
      s.on('data', (d: Buffer) => (response += d.toString()));
      s.on('end', () => resolve({ cn: String(cert.subject?.CN ?? ''), response }));
    });
    s.on('error', reject);
  });
}

test('TLS: the Secret\'s certificate for SNI names its Ingress lists, the default certificate otherwise; X-Forwarded-Proto https', async () => {
  const pair = await selfSignedCertificate('a.test', ['a.test']);
  await client.create(SECRETS, 'default', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'a-tls', namespace: 'default' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
  } as KubeObject);
  const cur = client.peek('ingresses', 'default', 'routes')!;
  await client.update(INGRESSES, 'default', { ...structuredClone(cur), spec: { ...(cur.spec as object), tls: [{ hosts: ['a.test'], secretName: 'a-tls' }] } } as KubeObject);
  const served = await eventually(async () => {
    const r = await servedCert('a.test');
    return r.cn === 'a.test' && r;
  }, 'the Secret\'s certificate');
  assert.match(served.response, /^HTTP\/1\.1 200 /);
  assert.match(served.response, /pod-[ab] \/app\/tls/);
  assert.equal(seen.at(-1)!.headers['x-forwarded-proto'], 'https');
  assert.equal(seen.at(-1)!.headers['x-forwarded-port'], '443');
  assert.equal((await servedCert('other.test')).cn, DEFAULT_CERT_CN);
  assert.equal((await servedCert(undefined)).cn, DEFAULT_CERT_CN);
});

test('an Upgrade handshake passes through and the connection becomes a raw stream', async () => {
  const text = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: httpPort }, () => {
      s.write('GET /app/ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    });
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\r\n\r\n') && !got.includes('ping')) s.write('ping');
      if (/:ping$/.test(got)) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
  assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(text, /pod-[ab]:ping$/);
});

test('an Ingress of another class is neither served nor given our address; moving one away removes the address', async () => {
  await client.create(INGRESSES, 'default', ingress('foreign', { ingressClassName: 'nginx', rules: [{ host: 'foreign.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backendRef('web', 80) }] } }] }));
  await client.create(INGRESSES, 'default', ingress('moving', { rules: [{ host: 'moving.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backendRef('web', 80) }] } }] }));
  await eventually(async () => (client.peek('ingresses', 'default', 'moving')?.status as any)?.loadBalancer?.ingress?.length === 1, 'moving gets our address');
  assert.equal((await get('/', 'moving.test')).status, 200);
  assert.equal((await get('/', 'foreign.test')).status, 404);
  assert.equal((client.peek('ingresses', 'default', 'foreign')?.status as any)?.loadBalancer?.ingress, undefined);
  const cur = client.peek('ingresses', 'default', 'moving')!;
  await client.update(INGRESSES, 'default', { ...structuredClone(cur), spec: { ...(cur.spec as object), ingressClassName: 'nginx' } } as KubeObject);
  await eventually(async () => (client.peek('ingresses', 'default', 'moving')?.status as any)?.loadBalancer?.ingress === undefined, 'our address removed');
  assert.equal((await get('/', 'moving.test')).status, 404);
});
