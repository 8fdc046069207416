// End-to-end: `kubectl create <generator>` and `kubectl run`. The generators use client-go's typed clients, which
// send protobuf request bodies (wire notes §0.3, §1.5): these tests prove the server decodes them faithfully,
// including Go pointer fields that are legitimately zero (--replicas=0).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, parseTable, withNamespace, writeTemp, type Kubectl } from './harness.js';

let srv: Server;
let k: Kubectl;

before(async () => {
  // API-machinery tier: the API server alone (no controllers or scheduler acting on the objects), as upstream's integration tests.
  srv = await Server.start({ extraArgs: ['--disable-controllers', '--disable-scheduler'] });
  k = await withNamespace(srv, 'e2e-gen');
});

after(async () => {
  await srv?.stop();
});

async function getJson(...what: string[]): Promise<any> {
  return JSON.parse((await k.ok(['get', ...what, '-o', 'json'])).stdout);
}

test('create deployment (protobuf): labels, selector, replicas, image', async () => {
  const r = await k.ok(['create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=2', '--port=8080']);
  assert.equal(r.stdout, 'deployment.apps/web created\n');
  const d = await getJson('deployment', 'web');
  assert.deepEqual(d.metadata.labels, { app: 'web' });
  assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } });
  assert.equal(d.spec.replicas, 2);
  assert.deepEqual(d.spec.template.metadata.labels, { app: 'web' });
  const c = d.spec.template.spec.containers;
  assert.equal(c.length, 1);
  assert.equal(c[0].name, 'busybox');
  assert.equal(c[0].image, 'busybox:1.36');
  assert.deepEqual(c[0].ports, [{ containerPort: 8080, protocol: 'TCP' }]);
  // Zero values the Go marshaller wrote must not leak in as real fields.
  assert.equal(d.metadata.generateName, undefined);
  assert.equal(d.spec.template.spec.hostNetwork, undefined);
  assert.equal(d.spec.paused, undefined);
  assert.equal(d.metadata.generation, 1);
  assert.equal(d.spec.strategy.type, 'RollingUpdate');

  const zero = await k.ok(['create', 'deployment', 'zero', '--image=busybox', '--replicas=0']);
  assert.equal(zero.stdout, 'deployment.apps/zero created\n');
  assert.equal((await k.ok(['get', 'deploy', 'zero', '-o', 'jsonpath={.spec.replicas}'])).stdout, '0');

  const dflt = await k.ok(['create', 'deployment', 'one', '--image=busybox']);
  assert.equal(dflt.stdout, 'deployment.apps/one created\n');
  assert.equal((await k.ok(['get', 'deploy', 'one', '-o', 'jsonpath={.spec.replicas}'])).stdout, '1');

  const t = parseTable((await k.ok(['get', 'deployments'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
  assert.deepEqual(t.rows.map((x) => x.NAME), ['one', 'web', 'zero']);

  const bad = await k.fail(['create', 'deployment', 'Bad', '--image=busybox']);
  // Either the wrapped Status message or kubectl's own rendering of the Invalid details.
  assert.match(bad.stderr, /(Deployment\.apps|The Deployment) "Bad" is invalid: metadata\.name: Invalid value: "Bad"/);
});

test('create configmap (protobuf): literals and files; duplicate refused', async () => {
  const file = writeTemp(srv, 'game.properties', 'lives=3\nlevel=1\n');
  const r = await k.ok(['create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b=two words', `--from-file=${file}`]);
  assert.equal(r.stdout, 'configmap/cfg created\n');
  const cm = await getJson('configmap', 'cfg');
  assert.deepEqual(cm.data, { a: '1', b: 'two words', 'game.properties': 'lives=3\nlevel=1\n' });
  assert.equal(cm.binaryData, undefined);
  assert.equal(cm.immutable, undefined);
  const t = parseTable((await k.ok(['get', 'configmap', 'cfg'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'DATA', 'AGE']);
  assert.equal(t.rows[0]!.DATA, '3');

  const dup = await k.fail(['create', 'configmap', 'cfg', '--from-literal=a=1']);
  assert.equal(dup.stderr, 'error: failed to create configmap: configmaps "cfg" already exists\n');
});

test('create secret generic (protobuf): base64 data, type Opaque', async () => {
  const r = await k.ok(['create', 'secret', 'generic', 's', '--from-literal=pw=hunter2', '--from-literal=user=admin']);
  assert.equal(r.stdout, 'secret/s created\n');
  const s = await getJson('secret', 's');
  assert.equal(s.type, 'Opaque');
  assert.deepEqual(s.data, {
    pw: Buffer.from('hunter2').toString('base64'),
    user: Buffer.from('admin').toString('base64'),
  });
  const t = parseTable((await k.ok(['get', 'secret', 's'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'TYPE', 'DATA', 'AGE']);
  assert.deepEqual([t.rows[0]!.TYPE, t.rows[0]!.DATA], ['Opaque', '2']);
});

test('create namespace (protobuf)', async () => {
  const name = `${k.namespace}-x`;
  const r = await k.ok(['create', 'namespace', name]);
  assert.equal(r.stdout, `namespace/${name} created\n`);
  const ns = await getJson('namespace', name);
  assert.equal(ns.status.phase, 'Active');
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
});

test('create service clusterip / nodeport / headless (protobuf): IPs and ports allocated', async () => {
  const r = await k.ok(['create', 'service', 'clusterip', 'svc', '--tcp=80:8080']);
  assert.equal(r.stdout, 'service/svc created\n');
  const s = await getJson('service', 'svc');
  assert.equal(s.spec.type, 'ClusterIP');
  assert.deepEqual(s.spec.selector, { app: 'svc' });
  assert.deepEqual(s.spec.ports, [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }]);
  assert.match(s.spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/);
  assert.deepEqual(s.spec.clusterIPs, [s.spec.clusterIP]);
  assert.equal(s.spec.sessionAffinity, 'None');

  const t = parseTable((await k.ok(['get', 'svc', 'svc'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  assert.deepEqual([t.rows[0]!.TYPE, t.rows[0]!['CLUSTER-IP'], t.rows[0]!['EXTERNAL-IP'], t.rows[0]!['PORT(S)']], [
    'ClusterIP',
    s.spec.clusterIP,
    '<none>',
    '80/TCP',
  ]);

  const np = await k.ok(['create', 'service', 'nodeport', 'np', '--tcp=80:8080']);
  assert.equal(np.stdout, 'service/np created\n');
  const n = await getJson('service', 'np');
  assert.equal(n.spec.type, 'NodePort');
  const nodePort = n.spec.ports[0].nodePort as number;
  assert.ok(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort}`);
  assert.notEqual(n.spec.clusterIP, s.spec.clusterIP);
  const nt = parseTable((await k.ok(['get', 'svc', 'np'])).stdout);
  assert.equal(nt.rows[0]!['PORT(S)'], `80:${nodePort}/TCP`);

  const hl = await k.ok(['create', 'service', 'clusterip', 'headless', '--clusterip=None', '--tcp=80:80']);
  assert.equal(hl.stdout, 'service/headless created\n');
  assert.equal((await getJson('service', 'headless')).spec.clusterIP, 'None');
});

test('create job (protobuf): command, restartPolicy and server defaults', async () => {
  const r = await k.ok(['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi']);
  assert.equal(r.stdout, 'job.batch/j created\n');
  const j = await getJson('job', 'j');
  const c = j.spec.template.spec.containers;
  assert.equal(c[0].image, 'busybox');
  assert.deepEqual(c[0].command, ['echo', 'hi']);
  assert.equal(j.spec.template.spec.restartPolicy, 'Never');
  assert.equal(j.spec.backoffLimit, 6);
  assert.equal(j.spec.completions, 1);
  assert.equal(j.spec.parallelism, 1);
  assert.ok(j.spec.selector?.matchLabels, 'the server generates the job selector');
  const t = parseTable((await k.ok(['get', 'jobs'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
  assert.equal(t.rows[0]!.NAME, 'j');
});

test('create serviceaccount (protobuf)', async () => {
  const r = await k.ok(['create', 'serviceaccount', 'sa']);
  assert.equal(r.stdout, 'serviceaccount/sa created\n');
  const sa = await getJson('serviceaccount', 'sa');
  assert.equal(sa.kind, 'ServiceAccount');
  assert.equal(sa.metadata.name, 'sa');
  const t = parseTable((await k.ok(['get', 'sa', 'sa'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'SECRETS', 'AGE']);
  assert.equal(t.rows[0]!.SECRETS, '0');
});

test('run creates a pod labelled run=<name>', async () => {
  const r = await k.ok(['run', 'r1', '--image=busybox', '--', 'sleep', '60']);
  assert.equal(r.stdout, 'pod/r1 created\n');
  const p = await getJson('pod', 'r1');
  assert.deepEqual(p.metadata.labels, { run: 'r1' });
  assert.deepEqual(p.spec.containers[0].args, ['sleep', '60']);
  assert.equal(p.spec.restartPolicy, 'Always');
});
