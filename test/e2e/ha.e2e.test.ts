// End-to-end: two `k8ts server`s on one etcd. Both serve the API; the controller manager and the scheduler run
// on one of them at a time (leader election on kube-system Leases), and the other takes over when it dies.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEtcd, type EtcdServer } from '../../src/storage/testing/etcd-server.js';
import { Server, eventually, uniqueName } from './harness.js';

let etcd: EtcdServer;
let a: Server;
let b: Server;

before(async () => {
  etcd = await startEtcd();
  // Short leases so the take-over fits a test; the flags exist for exactly this.
  const args = ['--datastore', etcd.url, '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms'];
  a = await Server.start({ extraArgs: args });
  b = await Server.start({ extraArgs: args });
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await etcd?.stop();
});

interface Lease {
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

async function holder(s: Server, name: string): Promise<string | undefined> {
  const r = await s.client().run(['get', 'lease', name, '--namespace', 'kube-system', '-o', 'json']);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as Lease).spec.holderIdentity || undefined;
}

test('one holder per component; the stand-by takes over when the leader is killed, and controllers keep working', async () => {
  const first = await eventually(() => holder(b, 'kube-controller-manager'), 20_000, 'a controller-manager leader');
  const sched = await eventually(() => holder(b, 'kube-scheduler'), 20_000, 'a scheduler leader');
  assert.match(first, /_[0-9a-f-]{36}$/, 'identity is <hostname>_<uuid>');
  assert.match(sched, /_[0-9a-f-]{36}$/);
  // Both servers answer; the lease is the same object seen through either.
  assert.equal(await holder(a, 'kube-controller-manager'), first);

  // Which server leads? Its log says so.
  const leaderIsA = a.logTail(200).includes(first);
  const leader = leaderIsA ? a : b;
  const survivor = leaderIsA ? b : a;
  assert.ok(leader.logTail(200).includes(`became leader ${first}`), 'leader identified from its log');
  assert.ok(!survivor.logTail(200).includes('kube-controller-manager: successfully acquired'), 'the stand-by runs no controllers');
  assert.ok(leader.logTail(200).includes(`became leader ${sched}`) || survivor.logTail(200).includes(`became leader ${sched}`), 'a scheduler leader logged');

  await leader.kill('SIGKILL');
  const next = await eventually(async () => {
    const h = await holder(survivor, 'kube-controller-manager');
    return h && h !== first ? h : undefined;
  }, 30_000, 'a new controller-manager leader');
  // The lease names the survivor's identity; its log says so too (the line may trail the lease write a moment).
  await eventually(async () => survivor.logTail(2000).includes(`became leader ${next}`) || undefined, 10_000, `the survivor logs that it holds the lease${survivor.logTail()}`);
  // Whichever server led the scheduler, the survivor leads it now, and its scheduler acts: with no nodes, a pod
  // gets PodScheduled=False from it.
  await eventually(async () => {
    const h = await holder(survivor, 'kube-scheduler');
    return h && survivor.logTail(2000).includes(`became leader ${h}`) ? h : undefined;
  }, 30_000, 'the survivor to lead the scheduler');
  // The new leader's controllers act: a deleted namespace is emptied and removed (namespace controller).
  const k = survivor.client();
  const ns = uniqueName('ha');
  await k.ok(['create', 'namespace', ns]);
  await k.ok(['create', 'configmap', 'c', '--from-literal=a=b', '--namespace', ns]);
  await k.ok(['delete', 'namespace', ns, '--wait=false']);
  await eventually(async () => (await k.run(['get', 'namespace', ns])).code !== 0, 30_000, `namespace ${ns} to go`);
  await k.ok(['run', 'ha-pod', '--image', 'k8ts.local/pause:1', '--restart', 'Never']);
  await eventually(async () => {
    const r = await k.run(['get', 'pod', 'ha-pod', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}']);
    return r.stdout === 'False' ? true : undefined;
  }, 30_000, 'ha-pod to be judged unschedulable');
});
