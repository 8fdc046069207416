// End-to-end: ResourceQuota, LimitRange and Priority admission with the quota controller, on one simulated node,
// driven by the real kubectl 1.32 — refusals exactly as kubectl prints them, describe/get quota Used/Hard, quota
// given back on delete, parallel creates never over quota, a Deployment's FailedCreate events, LimitRange
// defaults and bounds, PriorityClass resolution and the undeletable system classes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, podObject, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start({ extraArgs: ['--simulate-nodes', '1'] });
});

after(async () => {
  await srv?.stop();
});

function pod(name: string, resources?: Record<string, unknown>, spec: Record<string, unknown> = {}): Record<string, unknown> {
  const p = podObject(name, { containers: [{ name: 'main', image: 'busybox:1.36', ...(resources ? { resources } : {}) }] }) as { spec: Record<string, unknown> };
  Object.assign(p.spec, spec);
  return p;
}

/** Waits for the quota controller to have filled status.hard and status.used (before that the quota applies to nothing). */
async function quotaReady(k: Kubectl, name: string): Promise<void> {
  await eventually(async () => (await k.ok(['get', 'quota', name, '-o', 'jsonpath={.status.hard}|{.status.used}'])).stdout.match(/^\{.+\}\|\{.+\}$/), 15_000, `quota ${name} status`);
}

const used = async (k: Kubectl, name: string, res: string): Promise<string> => (await k.ok(['get', 'quota', name, '-o', `jsonpath={.status.used.${res.replace(/\./g, '\\.')}}`])).stdout;

test('quota: refusals as kubectl prints them, describe/get show used/hard, a deleted pod gives quota back', async () => {
  const k = await withNamespace(srv, 'e2e-quota');
  assert.equal((await k.ok(['create', 'quota', 'compute', '--hard=pods=2,requests.cpu=1'])).stdout, 'resourcequota/compute created\n');
  await quotaReady(k, 'compute');

  let r = await k.fail(['run', 'nocpu', '--image=busybox:1.36']);
  assert.equal(r.stderr, 'Error from server (Forbidden): pods "nocpu" is forbidden: failed quota: compute: must specify requests.cpu for: nocpu\n');
  await k.ok(['create', '-f', '-'], { stdin: docs(pod('p1', { requests: { cpu: '500m' } }), pod('p2', { requests: { cpu: '500m' } })) });
  await eventually(async () => (await used(k, 'compute', 'pods')) === '2', 10_000, 'pods charged');
  r = await k.fail(['create', '-f', '-'], { stdin: docs(pod('p3', { requests: { cpu: '500m' } })) });
  assert.equal(
    r.stderr,
    'Error from server (Forbidden): error when creating "STDIN": pods "p3" is forbidden: exceeded quota: compute, requested: pods=1,requests.cpu=500m, used: pods=2,requests.cpu=1, limited: pods=2,requests.cpu=1\n',
  );

  const d = (await k.ok(['describe', 'quota', 'compute'])).stdout;
  assert.match(d, /^Name:\s+compute$/m);
  assert.match(d, /^Resource\s+Used\s+Hard$/m);
  assert.match(d, /^pods\s+2\s+2$/m);
  assert.match(d, /^requests\.cpu\s+1\s+1$/m);
  const t = parseTable((await k.ok(['get', 'quota'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'AGE', 'REQUEST', 'LIMIT']);
  assert.deepEqual([t.rows[0]!.NAME, t.rows[0]!.REQUEST, t.rows[0]!.LIMIT], ['compute', 'pods: 2/2, requests.cpu: 1/1', '']);

  await k.ok(['delete', 'pod', 'p1', '--wait=false']);
  await eventually(async () => (await used(k, 'compute', 'requests.cpu')) === '500m', 40_000, 'p1 released');
  await k.ok(['create', '-f', '-'], { stdin: docs(pod('p3', { requests: { cpu: '500m' } })) });
  assert.equal(await used(k, 'compute', 'pods'), '2');
});

test('quota: parallel creates never exceed it', async () => {
  const k = await withNamespace(srv, 'e2e-quota-par');
  await k.ok(['create', 'quota', 'three', '--hard=pods=3']);
  await quotaReady(k, 'three');
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => k.run(['run', `p${i}`, '--image=busybox:1.36'])));
  const ok = results.filter((x) => x.code === 0);
  assert.equal(ok.length, 3, results.map((x) => x.stdout + x.stderr).join(''));
  for (const x of results.filter((y) => y.code !== 0)) assert.match(x.stderr, /^Error from server \(Forbidden\): pods "p\d" is forbidden: exceeded quota: three, requested: pods=1, used: pods=3, limited: pods=3\n$/);
  assert.equal((await k.ok(['get', 'pods', '-o', 'name'])).stdout.trim().split('\n').length, 3);
  assert.equal(await used(k, 'three', 'pods'), '3');
});

test('quota: a Deployment over quota gets ReplicaSet FailedCreate events', async () => {
  const k = await withNamespace(srv, 'e2e-quota-deploy');
  await k.ok(['create', 'quota', 'one', '--hard=pods=1']);
  await quotaReady(k, 'one');
  await k.ok(['create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=3']);
  const msgs = await eventually(async () => {
    const out = (await k.ok(['get', 'events', '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={range .items[*]}{.involvedObject.kind} {.message}{"\\n"}{end}'])).stdout;
    return out.trim() && out.trim().split('\n');
  }, 20_000, 'FailedCreate events');
  for (const m of msgs) assert.match(m, /^ReplicaSet Error creating: pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: one, requested: pods=1, used: pods=1, limited: pods=1$/);
  assert.equal((await k.ok(['get', 'pods', '-o', 'name'])).stdout.trim().split('\n').length, 1);
});

test('limitrange: defaults fill a new pod, min/max are enforced', async () => {
  const k = await withNamespace(srv, 'e2e-limits');
  const lr = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'limits' },
    spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' }, min: { cpu: '50m' }, max: { cpu: '1', memory: '1Gi' } }] },
  };
  await k.ok(['create', '-f', '-'], { stdin: docs(lr) });
  await k.ok(['run', 'filled', '--image=busybox:1.36']);
  const res = JSON.parse((await k.ok(['get', 'pod', 'filled', '-o', 'jsonpath={.spec.containers[0].resources}'])).stdout) as unknown;
  assert.deepEqual(res, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  assert.equal(
    (await k.ok(['get', 'pod', 'filled', '-o', 'jsonpath={.metadata.annotations.kubernetes\\.io/limit-ranger}'])).stdout,
    'LimitRanger plugin set: cpu, memory request for container filled; cpu, memory limit for container filled',
  );
  assert.equal((await k.ok(['get', 'pod', 'filled', '-o', 'jsonpath={.status.qosClass}'])).stdout, 'Burstable');

  let r = await k.fail(['create', '-f', '-'], { stdin: docs(pod('tiny', { requests: { cpu: '10m' } })) });
  assert.equal(r.stderr, 'Error from server (Forbidden): error when creating "STDIN": pods "tiny" is forbidden: minimum cpu usage per Container is 50m, but request is 10m\n');
  r = await k.fail(['create', '-f', '-'], { stdin: docs(pod('both', { requests: { cpu: '10m' }, limits: { memory: '2Gi' } })) });
  assert.equal(
    r.stderr,
    'Error from server (Forbidden): error when creating "STDIN": pods "both" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, maximum memory usage per Container is 1Gi, but limit is 2Gi]\n',
  );
});

test('priority: priorityClassName resolves to spec.priority; unknown classes refused; system classes stay', async () => {
  const k = await withNamespace(srv, 'e2e-priority');
  const admin = srv.client();
  await admin.ok(['create', 'priorityclass', 'e2e-policy-high', '--value=1000', '--description=e2e']);
  await k.ok(['create', '-f', '-'], { stdin: docs(pod('important', undefined, { priorityClassName: 'e2e-policy-high' }), pod('plain')) });
  assert.equal((await k.ok(['get', 'pod', 'important', '-o', 'jsonpath={.spec.priority} {.spec.preemptionPolicy}'])).stdout, '1000 PreemptLowerPriority');
  assert.equal((await k.ok(['get', 'pod', 'plain', '-o', 'jsonpath={.spec.priority}'])).stdout, '0');
  let r = await k.fail(['create', '-f', '-'], { stdin: docs(pod('lost', undefined, { priorityClassName: 'nope' })) });
  assert.equal(r.stderr, 'Error from server (Forbidden): error when creating "STDIN": pods "lost" is forbidden: no PriorityClass with name nope was found\n');
  r = await k.fail(['create', '-f', '-'], { stdin: docs(pod('liar', undefined, { priorityClassName: 'e2e-policy-high', priority: 5 })) });
  assert.match(r.stderr, /pods "liar" is forbidden: the integer value of priority \(5\) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name\n$/);
  r = await admin.fail(['delete', 'priorityclass', 'system-node-critical']);
  assert.equal(r.stderr, 'Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted\n');
  const t = parseTable((await admin.ok(['get', 'priorityclass'])).stdout);
  assert.deepEqual(
    t.rows.filter((row) => row.NAME!.startsWith('system-')).map((row) => [row.NAME, row.VALUE]),
    [
      ['system-cluster-critical', '2000000000'],
      ['system-node-critical', '2000001000'],
    ],
  );
  await admin.ok(['delete', 'priorityclass', 'e2e-policy-high']);
});
