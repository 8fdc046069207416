// End-to-end: cluster DNS on a fresh node is up before the first pod. The runtime makes the pod bridge with its
// gateway address when it learns the node's pod CIDR (runtime/cni/bridge.ts), so the DNS node listener binds and
// publishes the kube-dns endpoints while no pod exists, and the very first pod's very first lookups succeed (before,
// the bridge came with the first pod's CNI ADD and that pod's early lookups were refused for about a second).
// Network rule: every packet stays inside the test host (no upstream resolver: --dns-upstream none).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, freePort, type Kubectl } from './harness.js';
import { startNodeCluster, type NodeCluster } from './nodehost.js';

const NODE = 'k8ts-e2e-dnsfirst';
const BUSYBOX = 'k8ts.local/busybox:1.36';

let cluster: NodeCluster | undefined;
let srv: Server;
let k: Kubectl;

before(async () => {
  cluster = await startNodeCluster({ name: 'dnsf', node: NODE, extraArgs: ['--dns-port', String(await freePort()), '--dns-upstream', 'none'] });
  srv = cluster.srv;
  k = srv.client();
});

after(async () => {
  await cluster?.stop();
});

test('with no pod on the node, kube-dns endpoints already point at the node listener on the bridge gateway', async () => {
  const gateway = await eventually(async () => {
    const cidr = (await k.ok(['get', 'node', NODE, '-o', 'jsonpath={.spec.podCIDR}'])).stdout;
    return cidr ? cidr.replace(/\.0\/24$/, '.1') : undefined;
  }, 30_000, `pod CIDR of ${NODE}${srv.logTail()}`);
  const eps = await eventually(async () => {
    const r = (await k.ok(['get', 'endpoints', '-n', 'kube-system', 'kube-dns', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).stdout;
    return r === gateway ? r : undefined;
  }, 30_000, `kube-dns endpoints at ${gateway} before any pod${srv.logTail()}`);
  assert.equal(eps, gateway);
  assert.equal((await k.ok(['get', 'pods', '--all-namespaces', '-o', 'name'])).stdout.trim(), '', 'no pod has been created yet');
});

test('the first pod\'s first lookups succeed', async () => {
  const script = [
    'nslookup kubernetes.default.svc.cluster.local || exit 11',
    'nslookup kube-dns.kube-system.svc.cluster.local || exit 12',
  ].join('\n');
  await k.ok(['create', '-f', '-'], {
    stdin: docs({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'first', namespace: 'default' },
      spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'lookup', image: BUSYBOX, command: ['sh', '-c', script] }] },
    }),
  });
  const phase = await eventually(async () => {
    const p = (await k.ok(['get', 'pod', 'first', '-o', 'jsonpath={.status.phase}'])).stdout;
    return p === 'Succeeded' || p === 'Failed' ? p : undefined;
  }, 60_000, `pod first finished${srv.logTail()}`);
  const logs = (await k.ok(['logs', 'first'])).stdout;
  assert.equal(phase, 'Succeeded', logs);
  assert.match(logs, /Address:\s*10\.43\.0\.1$/m, logs);
  assert.match(logs, /Address:\s*10\.43\.0\.10$/m, logs);
});
