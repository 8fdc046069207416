// Work queue tests: dedupe, never one key on two workers at once, per-item exponential backoff, shutdown.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExponentialRateLimiter, WorkQueue, runWorkers, type Scheduler } from './workqueue.js';

/** A scheduler driven by hand: `advance(ms)` fires whatever falls due. Records every delay asked for. */
function manualClock() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  const delays: number[] = [];
  const schedule: Scheduler = (fn, ms) => {
    delays.push(ms);
    const t = { at: now + ms, fn, live: true };
    timers.push(t);
    return () => (t.live = false);
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.live && x.at <= now).sort((a, b) => a.at - b.at)) {
      t.live = false;
      t.fn();
    }
  };
  return { schedule, advance, delays };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('an item added many times before processing is processed once', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('b');
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
});

test('an item re-added while processing is not handed out until done(), then exactly once more', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  const first = await q.get();
  assert.equal(first, 'a');
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 0, 'must not be queued while a worker holds it');
  let second: string | undefined;
  void q.get().then((x) => (second = x));
  await tick();
  assert.equal(second, undefined, 'a second worker must not get the key being processed');
  q.done('a');
  await tick();
  assert.equal(second, 'a');
  q.done('a');
  assert.equal(q.len(), 0);
});

test('runWorkers never runs one key concurrently, even with many workers and adds during sync', async () => {
  const q = new WorkQueue<string>();
  const running = new Set<string>();
  let overlaps = 0;
  const counts = new Map<string, number>();
  const sync = async (k: string) => {
    if (running.has(k)) overlaps++;
    running.add(k);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    await tick();
    q.add(k === 'x' && (counts.get('x') ?? 0) < 3 ? 'x' : 'y'); // re-adds while processing
    await tick();
    running.delete(k);
  };
  const done = runWorkers(q, 4, sync, () => undefined);
  for (let i = 0; i < 10; i++) q.add('x');
  q.add('y');
  for (let i = 0; i < 20; i++) await tick();
  q.shutDown();
  await done;
  assert.equal(overlaps, 0);
  assert.ok((counts.get('x') ?? 0) >= 3, `x processed ${counts.get('x')} times`);
});

test('the rate limiter backs off 5 ms, 10 ms, 20 ms … per item up to 1000 s, and forget resets', () => {
  const rl = new ExponentialRateLimiter<string>();
  assert.deepEqual([rl.when('a'), rl.when('a'), rl.when('a'), rl.when('a')], [5, 10, 20, 40]);
  assert.equal(rl.when('b'), 5, 'items back off independently');
  for (let i = 0; i < 30; i++) rl.when('a');
  assert.equal(rl.when('a'), 1_000_000);
  assert.equal(rl.numRequeues('a'), 35);
  rl.forget('a');
  assert.equal(rl.when('a'), 5);
});

test('a failing sync is retried after growing delays; success forgets the backoff', async () => {
  const clock = manualClock();
  const q = new WorkQueue<string>({ schedule: clock.schedule });
  let calls = 0;
  const errors: string[] = [];
  const done = runWorkers(
    q,
    1,
    async () => {
      calls++;
      if (calls <= 3) throw new Error(`fail ${calls}`);
    },
    (_k, e) => errors.push((e as Error).message),
  );
  q.add('k');
  await tick();
  assert.equal(calls, 1);
  assert.deepEqual(clock.delays, [5]);
  clock.advance(4);
  await tick();
  assert.equal(calls, 1, 'not retried before its backoff');
  clock.advance(1);
  await tick();
  assert.equal(calls, 2);
  clock.advance(10);
  await tick();
  clock.advance(20);
  await tick();
  assert.equal(calls, 4);
  assert.deepEqual(clock.delays, [5, 10, 20]);
  assert.deepEqual(errors, ['fail 1', 'fail 2', 'fail 3']);
  assert.equal(q.numRequeues('k'), 0, 'success forgets the item');
  q.shutDown();
  await done;
});

test('addAfter keeps the earliest pending time for an item', () => {
  const clock = manualClock();
  const q = new WorkQueue<string>({ schedule: clock.schedule });
  q.addAfter('a', 100);
  q.addAfter('a', 500);
  q.addAfter('a', 50);
  clock.advance(50);
  assert.equal(q.len(), 1);
  clock.advance(1000);
  assert.equal(q.len(), 1, 'the superseded timers do not add it again');
});

test('shutDown wakes waiting workers and refuses new items', async () => {
  const q = new WorkQueue<string>();
  const got = q.get();
  q.shutDown();
  assert.equal(await got, undefined);
  q.add('a');
  assert.equal(q.len(), 0);
  assert.equal(await q.get(), undefined);
});
