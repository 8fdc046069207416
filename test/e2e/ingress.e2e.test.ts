// End-to-end: the built-in Ingress controller of `k8ts server`'s node agent, listening on 80 and 443 inside a test
// host network namespace, pods as real containers, the real kubectl. The default IngressClass, `kubectl create
// ingress` routing by host and path (round robin over a Service's pods), edits applied without a restart,
// defaultBackend, 404 and 503, TLS with a kubernetes.io/tls Secret chosen by SNI (the default certificate
// otherwise), and the ADDRESS kubectl shows. Network rule: requests are made inside the test host namespace.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';

import { DEFAULT_CERT_CN, selfSignedCertificate } from '../../src/ingress/tls.js';
import { openNetnsDialer, type NetnsDialer } from '../../src/runtime/dialer.js';
import { Server, docs, eventually, parseTable, withNamespace, writeTemp, type Kubectl } from './harness.js';
import { netnsGet, netnsGetTLS } from './netns-http.js';
import { startNodeCluster, type NodeCluster } from './nodehost.js';

const NODE = 'k8ts-e2e-ing';
const NODE_IP = '127.0.0.1';
const KUBIA = 'k8ts.local/kubia:1';

let cluster: NodeCluster | undefined;
let srv: Server;
let dialer: NetnsDialer;
let k: Kubectl;

const deployment = (name: string, replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'kubia', image: KUBIA, ports: [{ containerPort: 8080 }] }] } },
  },
});
const service = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });

before(async () => {
  cluster = await startNodeCluster({ name: 'ing', node: NODE, nodeIP: NODE_IP, extraArgs: ['--proxy-mode', 'none'], deleteFirst: ['deployments'] });
  srv = cluster.srv;
  dialer = await openNetnsDialer(cluster.host.path);
  k = await withNamespace(srv, 'e2e-ing');
  await k.ok(['create', '-f', '-'], { stdin: docs(deployment('web-a', 2), service('web-a'), deployment('web-b', 1), service('web-b')) });
});

after(async () => {
  try {
    await dialer?.close();
  } finally {
    await cluster?.stop();
  }
});

/** GET http://127.0.0.1:80<path> with a Host header, from inside the node's namespace. */
const get = (hostHeader: string, path = '/') => netnsGet(dialer, NODE_IP, 80, path, hostHeader);

/** The pod that answered (kubia says "You've hit <hostname>"), or the status and body when it was not a 200. */
async function who(hostHeader: string, path = '/'): Promise<string> {
  const r = await get(hostHeader, path);
  const m = /^You've hit (\S+)\n$/.exec(r.body);
  return r.status === 200 && m ? m[1]! : `${r.status} ${r.body.trim()}`;
}

async function readyEndpoints(svc: string, n: number): Promise<void> {
  await eventually(
    async () => (await k.ok(['get', 'endpoints', svc, '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).stdout.split(' ').filter(Boolean).length === n,
    60_000,
    `${n} ready endpoints of ${svc}${srv.logTail()}`,
  );
}

test('the k8ts IngressClass exists and is the default', async () => {
  const row = await eventually(async () => parseTable((await k.ok(['get', 'ingressclass'])).stdout).rows.find((r) => r.NAME === 'k8ts'), 15_000, `IngressClass k8ts${srv.logTail()}`);
  assert.equal(row.CONTROLLER, 'k8ts.io/ingress');
  assert.equal((await k.ok(['get', 'ingressclass', 'k8ts', '-o', 'jsonpath={.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}'])).stdout, 'true');
});

test('kubectl create ingress: routing by host and path, round robin over the pods, 404 for no rule; ADDRESS is the node', async () => {
  await readyEndpoints('web-a', 2);
  await readyEndpoints('web-b', 1);
  await k.ok(['create', 'ingress', 'web', '--class=k8ts', '--rule=a.example.com/*=web-a:80', '--rule=b.example.com/cgi-bin*=web-b:http', '--rule=b.example.com/*=web-a:80']);
  const first = await eventually(async () => {
    const w = await who('a.example.com');
    return w.startsWith('web-a-') && w;
  }, 15_000, `a.example.com routed${srv.logTail()}`);
  const seen = new Set([first]);
  await eventually(async () => {
    seen.add(await who('a.example.com'));
    return seen.size === 2;
  }, 10_000, `both web-a pods answer (so far ${[...seen]})`);
  assert.ok([...seen].every((w) => w.startsWith('web-a-')), [...seen].join(' '));
  const cases: Array<[string, string, RegExp]> = [
    ['b.example.com', '/cgi-bin/index.cgi', /^web-b-/],
    ['B.Example.com:80', '/cgi-bin/index.cgi?q=1', /^web-b-/],
    ['b.example.com', '/', /^web-a-/],
    ['b.example.com', '/cgi-binx', /^404 /],
    ['c.example.com', '/', /^404 404 page not found$/],
  ];
  for (const [h, path, want] of cases) assert.match(await who(h, path), want, `${h}${path}`);
  const row = await eventually(async () => {
    const r = parseTable((await k.ok(['get', 'ingress', 'web'])).stdout).rows[0];
    return r?.ADDRESS === NODE_IP && r;
  }, 15_000, 'ingress ADDRESS');
  assert.equal(row.CLASS, 'k8ts');
  assert.equal(row.HOSTS, 'a.example.com,b.example.com');
  assert.equal(row.PORTS, '80');
  const described = (await k.ok(['describe', 'ingress', 'web'])).stdout;
  assert.match(described, new RegExp(`Address:\\s+${NODE_IP.replace(/\./g, '\\.')}`));
  assert.match(described, /b\.example\.com\s*\n\s+\/cgi-bin\s+web-b:http \(10\.42\.\d+\.\d+:8080\)/);
});

test('edits apply without a restart: an Exact path and a defaultBackend added by patch; 503 once a backend has no pods', async () => {
  await k.ok(['patch', 'ingress', 'web', '--type=json', '-p', JSON.stringify([
    { op: 'add', path: '/spec/defaultBackend', value: { service: { name: 'web-b', port: { number: 80 } } } },
    { op: 'add', path: '/spec/rules/0/http/paths/-', value: { path: '/exact', pathType: 'Exact', backend: { service: { name: 'web-b', port: { number: 80 } } } } },
  ])]);
  await eventually(async () => (await who('c.example.com')).startsWith('web-b-'), 15_000, 'the defaultBackend serves an unknown host');
  // web-b's httpd has no /exact: its 404 proves the request reached web-b; /exact/x is no Exact match.
  const exact = await get('a.example.com', '/exact');
  assert.equal(exact.status, 404);
  assert.doesNotMatch(exact.body, /page not found/);
  assert.match(await who('a.example.com', '/exact/x'), /^404 /);
  await k.ok(['scale', 'deployment', 'web-b', '--replicas=0']);
  const r = await eventually(async () => {
    const x = await get('b.example.com', '/cgi-bin/index.cgi');
    return x.status === 503 && x;
  }, 30_000, `503 once web-b has no endpoints${srv.logTail()}`);
  assert.match(r.body, /^503 Service Unavailable/);
  assert.match(await who('a.example.com'), /^web-a-/);
});

test('TLS: the kubernetes.io/tls Secret\'s certificate for its host (SNI), the default certificate otherwise', async () => {
  const pair = await selfSignedCertificate('secure.example.com', ['secure.example.com']);
  const certFile = writeTemp(srv, 'secure.crt', pair.cert);
  const keyFile = writeTemp(srv, 'secure.key', pair.key, 0o600);
  await k.ok(['create', 'secret', 'tls', 'secure-tls', `--cert=${certFile}`, `--key=${keyFile}`]);
  // No ingressClassName: ours because k8ts is the default class.
  await k.ok(['create', '-f', '-'], {
    stdin: docs({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'secure' },
      spec: {
        tls: [{ hosts: ['secure.example.com'], secretName: 'secure-tls' }],
        rules: [{ host: 'secure.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web-a', port: { name: 'http' } } } }] } }],
      },
    }),
  });
  const want = new X509Certificate(pair.cert).fingerprint256;
  const r = await eventually(async () => {
    const x = await netnsGetTLS(dialer, NODE_IP, 443, 'secure.example.com');
    return x.cert.fingerprint256 === want && x;
  }, 15_000, `the Secret's certificate served for secure.example.com${srv.logTail()}`);
  assert.equal(r.status, 200);
  assert.match(r.body, /^You've hit web-a-/);
  assert.equal(r.cert.subject.CN, 'secure.example.com');
  for (const sni of ['other.example.com', undefined]) {
    const d = await netnsGetTLS(dialer, NODE_IP, 443, sni, '/', 'a.example.com');
    assert.equal(d.cert.subject.CN, DEFAULT_CERT_CN, `SNI ${sni}`);
    assert.match(d.body, /^You've hit web-a-/, 'plain-HTTP rules answer over HTTPS too');
  }
  const row = await eventually(async () => {
    const x = parseTable((await k.ok(['get', 'ingress', 'secure'])).stdout).rows[0];
    return x?.ADDRESS === NODE_IP && x;
  }, 15_000, 'secure ADDRESS');
  assert.equal(row.CLASS, 'k8ts', 'DefaultIngressClass admission names the default class');
  assert.equal(row.PORTS, '80, 443');
});
