// End-to-end: cluster DNS as pods use it. `k8ts server` with its kubelet and service proxy, pods as runc containers
// in a test host network namespace, driven by the real kubectl: the kube-dns endpoints point at the DNS listener on
// the node's pod network gateway, and from inside a busybox pod (nameserver 10.43.0.10, DNATed there by the proxy)
// nslookup resolves a Service by short name, svc.ns and FQDN, a headless Service to its ready pods, StatefulSet
// pod names, SRV for a named port, ExternalName as a CNAME, NXDOMAIN for an unknown name; wget reaches kubia by name;
// CoreDNS's metrics answer at 10.43.0.10:9153/metrics and count the pod's queries.
// Network rule: every packet stays inside the test host (no upstream resolver: --dns-upstream none).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, freePort, withNamespace, type Kubectl } from './harness.js';
import { startNodeCluster, type NodeCluster } from './nodehost.js';

const NODE = 'k8ts-e2e-dns';
const BUSYBOX = 'k8ts.local/busybox:1.36';
const KUBIA = 'k8ts.local/kubia:1';

let cluster: NodeCluster | undefined;
let srv: Server;
let k: Kubectl;
let ns: string;

before(async () => {
  cluster = await startNodeCluster({
    name: 'dns',
    node: NODE,
    extraArgs: ['--dns-port', String(await freePort()), '--dns-upstream', 'none'],
    deleteFirst: ['deployments', 'statefulsets'],
  });
  srv = cluster.srv;
  k = await withNamespace(srv, 'e2e-dns');
  ns = k.namespace!;
  const labels = (app: string) => ({ app });
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubia' }, spec: { selector: labels('kubia'), ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'kubia' },
        spec: { replicas: 2, selector: { matchLabels: labels('kubia') }, template: { metadata: { labels: labels('kubia') }, spec: { containers: [{ name: 'kubia', image: KUBIA, ports: [{ name: 'http', containerPort: 8080 }] }] } } },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: labels('web'), ports: [{ name: 'http', port: 80 }] } },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'web' },
        spec: {
          serviceName: 'web',
          replicas: 2,
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: labels('web') },
          template: { metadata: { labels: labels('web') }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: BUSYBOX, command: ['sleep', '3600'] }] } },
        },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: `kubia.${ns}.svc.cluster.local` } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'client', image: BUSYBOX, command: ['sleep', '3600'] }] } },
    ),
  });
  await eventually(async () => {
    const out = (await k.ok(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'])).stdout.trim().split(' ');
    return out.length === 5 && out.every((x) => x.endsWith('=True'));
  }, 60_000, `5 pods Ready${srv.logTail()}`);
});

after(async () => {
  await cluster?.stop();
});

/** Runs a command in the client pod; resolves to its exit code and output. */
async function inClient(...cmd: string[]): Promise<{ code: number; out: string }> {
  const r = await k.run(['exec', 'client', '--', ...cmd]);
  return { code: r.code ?? -1, out: r.stdout + r.stderr };
}

/**
 * The addresses busybox nslookup printed for `fqdn` (its "Name:" line, then "Address:" lines). nslookup asks for
 * every search-path expansion of a short name and prints each answer, so the one for the real name is picked out.
 */
function answers(out: string, fqdn: string): string[] {
  const ips: string[] = [];
  for (const block of out.split(/\n\s*\n/)) {
    const lines = block.trim().split('\n');
    let mine = false;
    for (const l of lines) {
      const name = /^Name:\s*(\S+)$/.exec(l);
      if (name) mine = name[1] === fqdn;
      const addr = /^Address:\s*(\S+)$/.exec(l);
      if (addr && mine) ips.push(addr[1]!);
    }
  }
  return ips.sort();
}

const podIP = async (name: string): Promise<string> => (await k.ok(['get', 'pod', name, '-o', 'jsonpath={.status.podIP}'])).stdout;

test('kube-dns is selectorless; its endpoints are the DNS listener on the node\'s pod network gateway', async () => {
  const svc = JSON.parse((await k.ok(['get', 'svc', '-n', 'kube-system', 'kube-dns', '-o', 'json'])).stdout);
  assert.equal(svc.spec.clusterIP, '10.43.0.10');
  assert.equal(svc.spec.selector, undefined);
  const node = JSON.parse((await k.ok(['get', 'node', NODE, '-o', 'json'])).stdout);
  const gateway = node.spec.podCIDR.replace(/\.0\/24$/, '.1');
  const eps = await eventually(async () => {
    const r = (await k.ok(['get', 'endpoints', '-n', 'kube-system', 'kube-dns', '-o', 'jsonpath={.subsets[*].addresses[*].ip}/{.subsets[*].ports[*].name}'])).stdout;
    return r.startsWith(gateway) ? r : undefined;
  }, 20_000, `kube-dns endpoints${srv.logTail()}`);
  assert.equal(eps, `${gateway}/dns dns-tcp metrics`);
  const slice = JSON.parse((await k.ok(['get', 'endpointslices', '-n', 'kube-system', '-l', 'kubernetes.io/service-name=kube-dns', '-o', 'json'])).stdout).items;
  assert.equal(slice.length, 1);
  assert.equal(slice[0].metadata.labels['endpointslice.kubernetes.io/managed-by'], 'cluster-dns.k8ts.io');
  assert.deepEqual(slice[0].endpoints[0].addresses, [gateway]);
  assert.equal(slice[0].endpoints[0].nodeName, NODE);
});

test('the pod\'s resolv.conf points at kube-dns with the cluster search path and ndots:5', async () => {
  const conf = (await k.ok(['exec', 'client', '--', 'cat', '/etc/resolv.conf'])).stdout;
  assert.match(conf, /^nameserver 10\.43\.0\.10$/m);
  assert.match(conf, new RegExp(`^search ${ns}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local( |$)`, 'm'));
  assert.match(conf, /^options ndots:5$/m);
});

test('a Service by short name and FQDN (nslookup), by name and <svc>.<ns> (wget)', async () => {
  const ip = (await k.ok(['get', 'svc', 'kubia', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  const fqdn = `kubia.${ns}.svc.cluster.local`;
  // busybox nslookup walks the search path for dot-less names only; <svc>.<ns> goes through libc (wget) below.
  for (const name of ['kubia', fqdn]) {
    const r = await eventually(async () => {
      const x = await inClient('nslookup', name);
      if (answers(x.out, fqdn).length === 0) throw new Error(x.out);
      return x;
    }, 15_000, `nslookup ${name}`);
    // The search path turns the short forms into the FQDN: its one answer is the ClusterIP.
    assert.deepEqual(answers(r.out, fqdn), [ip], `${name}: ${r.out}`);
  }
  const exact = await inClient('nslookup', fqdn);
  assert.equal(exact.code, 0, exact.out);
  for (const name of ['kubia', `kubia.${ns}`]) {
    const hit = await inClient('wget', '-qO-', `http://${name}`);
    assert.equal(hit.code, 0, hit.out);
    assert.match(hit.out, /^You've hit kubia-/, name);
  }
});

test('a headless Service resolves to its ready pods; StatefulSet pods by <pod>.<svc>; /etc/hosts carries the FQDN', async () => {
  const ips = [await podIP('web-0'), await podIP('web-1')].sort();
  const r = await eventually(async () => {
    const x = await inClient('nslookup', `web.${ns}.svc.cluster.local`);
    return x.code === 0 && answers(x.out, `web.${ns}.svc.cluster.local`).length === 2 ? x : undefined;
  }, 15_000, 'headless web');
  assert.deepEqual(answers(r.out, `web.${ns}.svc.cluster.local`), ips);
  const pod = await inClient('nslookup', `web-0.web.${ns}.svc.cluster.local`);
  assert.equal(pod.code, 0, pod.out);
  assert.deepEqual(answers(pod.out, `web-0.web.${ns}.svc.cluster.local`), [await podIP('web-0')]);
  const hosts = (await k.ok(['exec', 'web-0', '--', 'cat', '/etc/hosts'])).stdout;
  assert.match(hosts, new RegExp(`^${(await podIP('web-0')).replace(/\./g, '\\.')}\\tweb-0\\.web\\.${ns}\\.svc\\.cluster\\.local\\tweb-0$`, 'm'), hosts);
  assert.equal((await k.ok(['exec', 'web-0', '--', 'hostname'])).stdout.trim(), 'web-0');
});

test('SRV for a named port, ExternalName as a CNAME, NXDOMAIN for an unknown name', async () => {
  const srv = await inClient('nslookup', '-type=srv', `_http._tcp.kubia.${ns}.svc.cluster.local`);
  assert.equal(srv.code, 0, srv.out);
  assert.match(srv.out, new RegExp(`service = 0 100 80 kubia\\.${ns}\\.svc\\.cluster\\.local`), srv.out);
  const cname = await inClient('nslookup', `ext.${ns}.svc.cluster.local`);
  assert.match(cname.out, new RegExp(`canonical name = kubia\\.${ns}\\.svc\\.cluster\\.local`), cname.out);
  const missing = await inClient('nslookup', `nosuch.${ns}.svc.cluster.local`);
  assert.notEqual(missing.code, 0, missing.out);
  assert.match(missing.out, /NXDOMAIN/, missing.out);
});

/** The value of one sample line `name{labels} v` in a scrape (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

test('CoreDNS metrics at kube-dns:9153/metrics from inside a pod count the query it just made', async () => {
  const node = JSON.parse((await k.ok(['get', 'node', NODE, '-o', 'json'])).stdout);
  const server = `dns://${node.spec.podCIDR.replace(/\.0\/24$/, '.1')}:53`;
  const scrape = async (): Promise<string> => {
    const r = await inClient('wget', '-qO-', 'http://10.43.0.10:9153/metrics');
    assert.equal(r.code, 0, r.out);
    return r.out;
  };
  const txt = `coredns_dns_requests_total{family="1",proto="udp",server="${server}",type="TXT",view="",zone="."}`;
  const ok = `coredns_dns_responses_total{plugin="kubernetes",rcode="NOERROR",server="${server}",view="",zone="."}`;
  const before = await scrape();
  assert.match(before, /^# TYPE coredns_dns_requests_total counter$/m);
  assert.match(before, /^coredns_build_info\{goversion="node[^"]+",revision="k8ts",version="[^"]+"\} 1$/m);
  assert.match(before, /^coredns_panics_total 0$/m);
  // Earlier tests' lookups went through the same listener: counted already.
  assert.ok(sample(before, ok) > 0, before);
  // A TXT query for an absolute name (no search-path expansion): the TXT counter grows by what this pod asked.
  const q = await inClient('nslookup', '-type=txt', 'dns-version.cluster.local.');
  assert.equal(q.code, 0, q.out);
  assert.match(q.out, /1\.1\.0/, q.out);
  const after = await scrape();
  assert.ok(sample(after, txt) >= sample(before, txt) + 1, `TXT requests ${sample(before, txt)} → ${sample(after, txt)}\n${after}`);
  assert.ok(sample(after, ok) > sample(before, ok));
  assert.ok(sample(after, `coredns_dns_request_duration_seconds_count{server="${server}",view="",zone="."}`) > 0);
});
