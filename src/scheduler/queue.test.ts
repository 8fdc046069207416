// Scheduling queue tests: priority then creation-time order, backoff doubling to its cap, cluster events moving
// only pods whose rejecting plugins care, events during a cycle, status-only updates not retrying, leftovers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulingQueue } from './queue.js';
import { makePod } from './testing.js';

function queue(now: { t: number }, pluginEvents = new Map<string, readonly ('NodeAdd' | 'AssignedPodDelete')[]>()) {
  return new SchedulingQueue(undefined, { now: () => now.t, flushIntervalMs: 1_000_000, initialBackoffMs: 1000, maxBackoffMs: 4000, unschedulableTimeoutMs: 60_000, pluginEvents });
}

const ts = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();

test('pops by priority, then creation time', async () => {
  const q = queue({ t: 0 });
  q.add('ns/late-low', makePod('late-low', { creationTimestamp: ts(9) }), 0);
  q.add('ns/early-low', makePod('early-low', { creationTimestamp: ts(1) }), 0);
  q.add('ns/high', makePod('high', { creationTimestamp: ts(20) }), 100);
  const order = [];
  for (let i = 0; i < 3; i++) order.push((await q.pop())!.key);
  assert.deepEqual(order, ['ns/high', 'ns/early-low', 'ns/late-low']);
  q.close();
  assert.equal(await q.pop(), undefined);
});

test('backoff doubles per attempt up to the cap; flush moves expired pods back', async () => {
  const now = { t: 0 };
  const q = queue(now);
  q.add('ns/p', makePod('p'), 0);
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    const p = (await q.pop())!;
    q.addUnschedulable(p, q.schedulingCycle, new Set()); // an error: straight to backoff
    waits.push(p.backoffUntil - now.t);
    q.flush();
    assert.equal(q.stats().active, 0, 'still backing off');
    now.t = p.backoffUntil;
    q.flush();
    assert.equal(q.stats().active, 1);
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 4000]);
  q.close();
});

test('cluster events move only pods rejected by plugins registered for them; a status-only update does not', async () => {
  const now = { t: 0 };
  const q = queue(now, new Map([['NodeResourcesFit', ['NodeAdd', 'AssignedPodDelete'] as const], ['NodeAffinity', ['NodeAdd'] as const]]));
  q.add('ns/cpu', makePod('cpu'), 0);
  q.add('ns/sel', makePod('sel'), 0);
  const a = (await q.pop())!;
  q.addUnschedulable(a, q.schedulingCycle, new Set(['NodeResourcesFit']));
  const b = (await q.pop())!;
  q.addUnschedulable(b, q.schedulingCycle, new Set(['NodeAffinity']));
  assert.equal(q.stats().unschedulable, 2);
  const statusOnly = makePod('sel');
  statusOnly.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] };
  q.update('ns/sel', statusOnly, 0);
  assert.equal(q.stats().unschedulable, 2, 'our own condition write is not a reason to retry');
  now.t = 5000; // past both backoffs
  q.moveAll('AssignedPodDelete');
  assert.deepEqual(q.stats(), { active: 1, backoff: 0, unschedulable: 1, inFlight: 0 });
  assert.equal((await q.pop())!.key, 'ns/cpu');
  q.update('ns/sel', makePod('sel', { labels: { changed: 'yes' } }), 0);
  assert.equal(q.stats().active, 1, 'a spec/label change retries');
  q.close();
});

test('an event during the cycle sends the rejected pod to backoff instead of the unschedulable pool', async () => {
  const q = queue({ t: 0 });
  q.add('ns/p', makePod('p'), 0);
  const p = (await q.pop())!;
  const cycle = q.schedulingCycle;
  q.moveAll('NodeAdd');
  q.addUnschedulable(p, cycle, new Set(['NodeResourcesFit']));
  assert.deepEqual(q.stats(), { active: 0, backoff: 1, unschedulable: 0, inFlight: 0 });
  q.close();
});

test('unschedulable pods are retried after the leftover timeout; deleted pods are dropped', async () => {
  const now = { t: 0 };
  const q = queue(now);
  q.add('ns/p', makePod('p'), 0);
  q.add('ns/gone', makePod('gone'), 0);
  const p = (await q.pop())!;
  q.addUnschedulable(p, q.schedulingCycle, new Set(['X']));
  const g = (await q.pop())!;
  q.delete('ns/gone');
  q.addUnschedulable(g, q.schedulingCycle, new Set(['X']));
  assert.equal(q.stats().unschedulable, 1);
  now.t = 59_000;
  q.flush();
  assert.equal(q.stats().unschedulable, 1);
  now.t = 60_000;
  q.flush();
  assert.equal(q.stats().active, 1);
  q.close();
});
