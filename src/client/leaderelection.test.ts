// Leader election tests on the fake client: one leader at a time, hand-over on release, take-over after a dead
// leader's lease expires, and step-down when renewals fail past the renew deadline.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClient } from './fake.js';
import { ApiError, type Client } from './interface.js';
import { LEASES, LeaderElector, microTime } from './leaderelection.js';

const FAST = { leaseDurationMs: 1_000, renewDeadlineMs: 400, retryPeriodMs: 20 };

/** A client that starts failing every call once `dead.value` is set (a leader whose API server went away). */
function breakable(c: Client, dead: { value: boolean }): Client {
  return new Proxy(c, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (dead.value) return Promise.reject(new ApiError(503, 'ServiceUnavailable', 'gone'));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('MicroTime has microseconds', () => {
  assert.equal(microTime(Date.parse('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05.678000Z');
});

test('one leader; the stand-by takes over at once when the leader releases', async () => {
  const c = new FakeClient();
  const leading: string[] = [];
  const mk = (id: string) => new LeaderElector(c, { ...FAST, name: 'kube-controller-manager', identity: id, onStartedLeading: () => leading.push(id) });
  const a = mk('a');
  void a.run();
  await until(() => a.isLeader);
  const b = mk('b');
  void b.run();
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(b.isLeader, false, 'b stands by while a renews');
  const lease = await c.get(LEASES, 'kube-system', 'kube-controller-manager');
  assert.equal((lease.spec as { holderIdentity: string }).holderIdentity, 'a');
  const started = Date.now();
  await a.stop();
  await until(() => b.isLeader);
  assert.ok(Date.now() - started < FAST.leaseDurationMs, 'released lease is taken without waiting for expiry');
  const after = (await c.get(LEASES, 'kube-system', 'kube-controller-manager')).spec as { holderIdentity: string; leaseTransitions: number };
  assert.equal(after.holderIdentity, 'b');
  assert.equal(after.leaseTransitions, 1);
  assert.deepEqual(leading, ['a', 'b']);
  await b.stop();
});

test('a dead leader loses the lease after its duration; it steps down after the renew deadline', async () => {
  const c = new FakeClient();
  const dead = { value: false };
  let aLost = false;
  const a = new LeaderElector(breakable(c, dead), { ...FAST, name: 'sched', identity: 'a', onStartedLeading: (lost) => void lost.then(() => (aLost = true)) });
  void a.run();
  await until(() => a.isLeader);
  const b = new LeaderElector(c, { ...FAST, name: 'sched', identity: 'b', onStartedLeading: () => undefined });
  void b.run();
  dead.value = true;
  const t0 = Date.now();
  await until(() => aLost);
  assert.ok(Date.now() - t0 >= FAST.renewDeadlineMs - 50, 'not before the renew deadline');
  await until(() => b.isLeader);
  assert.ok(Date.now() - t0 >= FAST.leaseDurationMs - 50, 'b waited for the lease to expire');
  await a.stop();
  await b.stop();
});
