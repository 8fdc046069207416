// End-to-end W3 (Services) on real containers: `k8ts server` with its kubelet and service proxy, pods in a test host
// network namespace, the real kubectl. `kubectl exec client -- wget` of a ClusterIP answers from different pods,
// ClientIP affinity pins one, a pod failing readiness leaves the rotation (and comes back), a multi-port Service with
// named target ports, NodePort and LoadBalancer (EXTERNAL-IP) reached from the test host, and service environment
// variables in pods started after the Service. Network rule: all traffic stays inside the test host namespace.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { openNetnsDialer, type NetnsDialer } from '../../src/runtime/dialer.js';
import { Server, docs, eventually, parseTable, withNamespace, type Kubectl } from './harness.js';
import { netnsGet } from './netns-http.js';
import { startNodeCluster, type NodeCluster } from './nodehost.js';

const NODE = 'k8ts-e2e-svc';
const NODE_IP = '127.0.0.1';
const KUBIA = 'k8ts.local/kubia:1';
const PAUSE = 'k8ts.local/pause:1';

let cluster: NodeCluster | undefined;
let srv: Server;
let dialer: NetnsDialer;
let k: Kubectl;
let kubiaIP = '';

before(async () => {
  cluster = await startNodeCluster({ name: 'svc', node: NODE, nodeIP: NODE_IP, extraArgs: ['--ingress-http-port', '0', '--ingress-https-port', '0'], deleteFirst: ['deployments'] });
  srv = cluster.srv;
  dialer = await openNetnsDialer(cluster.host.path);
  k = await withNamespace(srv, 'e2e-svc');
});

after(async () => {
  try {
    await dialer?.close();
  } finally {
    await cluster?.stop();
  }
});

/** kubia pods: httpd on 8080 (`http`) and a second one on 8443 (`https`); ready while /tmp/unready is absent. */
const kubiaDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'kubia' },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'kubia' } },
    template: {
      metadata: { labels: { app: 'kubia' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'kubia',
            image: KUBIA,
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { exec: { command: ['sh', '-c', 'test ! -e /tmp/unready'] }, periodSeconds: 1, failureThreshold: 1 },
          },
          { name: 'alt', image: KUBIA, command: ['httpd', '-f', '-p', '8443', '-h', '/www'], ports: [{ name: 'https', containerPort: 8443 }] },
        ],
      },
    },
  },
};

const pause = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: PAUSE }] },
});

async function readyKubiaPods(n: number): Promise<Array<{ name: string; ip: string }>> {
  return await eventually(
    async () => {
      const out = (await k.ok(['get', 'pods', '-l', 'app=kubia', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.podIP} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])).stdout;
      const rows = out.trim().split('\n').filter(Boolean).map((l) => l.split(' '));
      return rows.length === n && rows.every((r) => r[2] === 'True') && rows.map(([name, ip]) => ({ name: name!, ip: ip! }));
    },
    60_000,
    `${n} ready kubia pods${srv.logTail()}`,
  );
}

async function waitRunning(name: string): Promise<void> {
  await eventually(async () => (await k.ok(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 60_000, `${name} Running${srv.logTail()}`);
}

/** `kubectl exec client -- wget -qO- URL`: the hostname the answer names ("You've hit <pod>"), or an error. */
async function hit(url: string): Promise<string> {
  const r = await k.run(['exec', 'client', '--', 'timeout', '5', 'wget', '-qO-', url]);
  if (r.code !== 0) throw new Error(`wget ${url}: exit ${r.code}: ${r.stderr.trim()}`);
  const m = /^You've hit (\S+)\n$/.exec(r.stdout);
  if (!m) throw new Error(`wget ${url}: unexpected answer ${JSON.stringify(r.stdout)}`);
  return m[1]!;
}

async function hits(url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await hit(url));
  return out;
}

async function clusterIP(name: string): Promise<string> {
  return (await k.ok(['get', 'svc', name, '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
}

test('W3: kubectl expose; exec wget of the ClusterIP answers from different pods', async () => {
  // The client starts before any Service exists (the environment-variable test below relies on that).
  await k.ok(['create', '-f', '-'], { stdin: docs(pause('client'), kubiaDeployment) });
  const pods = await readyKubiaPods(3);
  await waitRunning('client');
  await k.ok(['expose', 'deployment', 'kubia', '--port=80', '--target-port=8080']);
  kubiaIP = await clusterIP('kubia');
  assert.match(kubiaIP, /^10\.43\.\d+\.\d+$/);
  const row = parseTable((await k.ok(['get', 'svc', 'kubia'])).stdout).rows[0]!;
  assert.equal(row.TYPE, 'ClusterIP');
  assert.equal(row['CLUSTER-IP'], kubiaIP);
  assert.equal(row['EXTERNAL-IP'], '<none>');
  assert.equal(row['PORT(S)'], '80/TCP');
  await eventually(async () => (await k.ok(['get', 'endpoints', 'kubia', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).stdout.split(' ').filter(Boolean).length === 3, 15_000, 'kubia endpoints');
  // describe svc lists the ready pods' IPs as its endpoints.
  const described = (await k.ok(['describe', 'svc', 'kubia'])).stdout;
  const listed = /^Endpoints:\s+(\S+)$/m.exec(described)?.[1]?.split(',').sort();
  assert.deepEqual(listed, pods.map((p) => `${p.ip}:8080`).sort(), described);
  const names = new Set(pods.map((p) => p.name));
  const seen = new Set<string>();
  await eventually(
    async () => {
      const who = await hit(`http://${kubiaIP}`);
      assert.ok(names.has(who), `${who} is one of the kubia pods`);
      seen.add(who);
      return seen.size >= 2;
    },
    30_000,
    `answers from two different pods (so far ${[...seen]})${srv.logTail()}`,
  );
});

test('sessionAffinity ClientIP pins one pod', async () => {
  await k.ok(['create', '-f', '-'], {
    stdin: docs({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubia-sticky' }, spec: { selector: { app: 'kubia' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080 }] } }),
  });
  const ip = await clusterIP('kubia-sticky');
  await eventually(async () => (await k.ok(['get', 'endpoints', 'kubia-sticky', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).stdout.split(' ').filter(Boolean).length === 3, 15_000, 'sticky endpoints');
  const first = await eventually(async () => await hit(`http://${ip}`), 15_000, `kubia-sticky answers${srv.logTail()}`);
  assert.deepEqual(new Set(await hits(`http://${ip}`, 10)), new Set([first]));
  assert.equal((await k.ok(['get', 'svc', 'kubia-sticky', '-o', 'jsonpath={.spec.sessionAffinityConfig.clientIP.timeoutSeconds}'])).stdout, '10800');
});

test('a pod failing its readiness probe leaves the rotation, and returns when it passes again', async () => {
  const pods = await readyKubiaPods(3);
  const out = pods[0]!;
  await k.ok(['exec', out.name, '-c', 'kubia', '--', 'touch', '/tmp/unready']);
  await eventually(
    async () => {
      const ep = JSON.parse((await k.ok(['get', 'endpoints', 'kubia', '-o', 'json'])).stdout);
      const ready = (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip));
      const notReady = (ep.subsets ?? []).flatMap((s: any) => (s.notReadyAddresses ?? []).map((a: any) => a.ip));
      return ready.length === 2 && notReady.includes(out.ip);
    },
    20_000,
    `${out.name} a notReadyAddress${srv.logTail()}`,
  );
  // The proxy follows the EndpointSlice within moments; from then on no answer comes from the unready pod.
  await eventually(async () => !(await hits(`http://${kubiaIP}`, 3)).includes(out.name), 10_000, 'the proxy drops the unready pod');
  const after = await hits(`http://${kubiaIP}`, 12);
  assert.ok(!after.includes(out.name), `${out.name} answered while unready: ${after}`);
  assert.equal(new Set(after).size, 2, `both ready pods answer: ${after}`);
  await k.ok(['exec', out.name, '-c', 'kubia', '--', 'rm', '/tmp/unready']);
  await eventually(async () => (await hit(`http://${kubiaIP}`)) === out.name, 30_000, `${out.name} back in rotation`);
});

test('a multi-port Service with named target ports: 80 → http (8080), 443 → https (8443)', async () => {
  await k.ok(['create', '-f', '-'], {
    stdin: docs({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubia-multi' },
      spec: { selector: { app: 'kubia' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'https', port: 443, targetPort: 'https' }] },
    }),
  });
  const ip = await clusterIP('kubia-multi');
  assert.equal(parseTable((await k.ok(['get', 'svc', 'kubia-multi'])).stdout).rows[0]!['PORT(S)'], '80/TCP,443/TCP');
  const ports = await eventually(
    async () => {
      const ep = JSON.parse((await k.ok(['get', 'endpoints', 'kubia-multi', '-o', 'json'])).stdout);
      const s = ep.subsets?.[0];
      return s?.addresses?.length === 3 && (s.ports as Array<{ name: string; port: number }>).map((p) => `${p.name}:${p.port}`).sort();
    },
    15_000,
    'kubia-multi endpoints',
  );
  assert.deepEqual(ports, ['http:8080', 'https:8443']);
  const pods = new Set((await readyKubiaPods(3)).map((p) => p.name));
  for (const port of [80, 443]) {
    const who = await eventually(async () => await hit(`http://${ip}:${port}`), 15_000, `kubia-multi:${port}${srv.logTail()}`);
    assert.ok(pods.has(who), `${port}: ${who}`);
  }
});

test('W3: kubectl expose pod --type=NodePort answers at nodeIP:nodePort from the test host', async () => {
  const pod = (await readyKubiaPods(3))[0]!;
  // The Service selects by all the pod's labels (app and pod-template-hash): every kubia pod.
  await k.ok(['expose', 'pod', pod.name, '--name=kubia-np', '--type=NodePort', '--port=80', '--target-port=8080']);
  const nodePort = Number((await k.ok(['get', 'svc', 'kubia-np', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout);
  assert.ok(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort}`);
  assert.equal(parseTable((await k.ok(['get', 'svc', 'kubia-np'])).stdout).rows[0]!['PORT(S)'], `80:${nodePort}/TCP`);
  const r = await eventually(async () => await netnsGet(dialer, NODE_IP, nodePort), 15_000, `${NODE_IP}:${nodePort} answers${srv.logTail()}`);
  assert.equal(r.status, 200);
  assert.match(r.body, /^You've hit kubia-/);
});

test('LoadBalancer: kubectl get svc shows the EXTERNAL-IP, which answers on the service port', async () => {
  await k.ok(['create', '-f', '-'], {
    stdin: docs({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubia-lb' }, spec: { type: 'LoadBalancer', selector: { app: 'kubia' }, ports: [{ port: 8088, targetPort: 8080 }] } }),
  });
  const row = await eventually(
    async () => {
      const r = parseTable((await k.ok(['get', 'svc', 'kubia-lb'])).stdout).rows[0];
      return r?.['EXTERNAL-IP'] === NODE_IP && r;
    },
    15_000,
    `EXTERNAL-IP ${NODE_IP}${srv.logTail()}`,
  );
  assert.equal(row.TYPE, 'LoadBalancer');
  assert.match(row['PORT(S)']!, /^8088:3\d{4}\/TCP$/);
  const r = await eventually(async () => await netnsGet(dialer, NODE_IP, 8088), 15_000, `${NODE_IP}:8088 answers${srv.logTail()}`);
  assert.match(r.body, /^You've hit kubia-/);
  assert.match((await k.ok(['describe', 'svc', 'kubia-lb'])).stdout, new RegExp(`LoadBalancer Ingress:\\s+${NODE_IP.replace(/\./g, '\\.')}`));
});

test('service environment variables: set in a pod started after the Service, absent from one started before', async () => {
  await k.ok(['create', '-f', '-'], { stdin: docs(pause('envpod')) });
  await waitRunning('envpod');
  const env = Object.fromEntries(
    (await k.ok(['exec', 'envpod', '--', 'env'])).stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const multiIP = await clusterIP('kubia-multi');
  const want: Record<string, string> = {
    KUBIA_SERVICE_HOST: kubiaIP,
    KUBIA_SERVICE_PORT: '80',
    KUBIA_PORT: `tcp://${kubiaIP}:80`,
    KUBIA_PORT_80_TCP_ADDR: kubiaIP,
    KUBIA_MULTI_SERVICE_PORT_HTTPS: '443',
    KUBIA_MULTI_PORT_443_TCP: `tcp://${multiIP}:443`,
    KUBERNETES_SERVICE_PORT: '443',
  };
  for (const [name, value] of Object.entries(want)) assert.equal(env[name], value, name);
  const before = (await k.ok(['exec', 'client', '--', 'env'])).stdout;
  assert.doesNotMatch(before, /^KUBIA_SERVICE_HOST=/m);
});
