// Unit tests for the event recorder: upstream event shape and naming, aggregation into count, best-effort writes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventRecorder, eventName } from './events.js';
import { FakeClient } from './fake.js';
import { ApiError } from './interface.js';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'demo', uid: 'u-1', resourceVersion: '7' } };

test('event names are <name>.<hex unix nanoseconds>', () => {
  assert.equal(eventName('web-1', 1_700_000_000_000, 0), `web-1.${(1_700_000_000_000n * 1_000_000n).toString(16)}`);
  assert.notEqual(eventName('x', 5, 1), eventName('x', 5, 2));
});

test('an event carries involvedObject, source, timestamps and count 1; a repeat bumps count', async () => {
  const c = new FakeClient();
  let now = Date.parse('2026-01-02T03:04:05.678Z');
  const r = new EventRecorder(c, 'default-scheduler', 'node-a', () => now);
  r.event(pod, 'Normal', 'Scheduled', 'Successfully assigned demo/web-1 to node-a');
  await r.flush();
  const created = c.actions.filter((a) => a.verb === 'create');
  assert.equal(created.length, 1);
  assert.equal(created[0]!.namespace, 'demo');
  const list = await c.list({ group: '', version: 'v1', resource: 'events', namespaced: true }, 'demo');
  assert.equal(list.items.length, 1);
  const ev = list.items[0] as Record<string, unknown>;
  assert.deepEqual(ev.involvedObject, { kind: 'Pod', namespace: 'demo', name: 'web-1', uid: 'u-1', apiVersion: 'v1', resourceVersion: '7' });
  assert.deepEqual(ev.source, { component: 'default-scheduler', host: 'node-a' });
  assert.equal(ev.type, 'Normal');
  assert.equal(ev.reason, 'Scheduled');
  assert.equal(ev.count, 1);
  assert.equal(ev.firstTimestamp, '2026-01-02T03:04:05Z');
  assert.match(String((ev.metadata as { name: string }).name), /^web-1\.[0-9a-f]+$/);

  now += 30_000;
  r.event(pod, 'Normal', 'Scheduled', 'Successfully assigned demo/web-1 to node-a');
  await r.flush();
  assert.equal(c.actions.filter((a) => a.verb === 'create').length, 1, 'aggregated, not a second event');
  const again = (await c.list({ group: '', version: 'v1', resource: 'events', namespaced: true }, 'demo')).items[0] as Record<string, unknown>;
  assert.equal(again.count, 2);
  assert.equal(again.lastTimestamp, '2026-01-02T03:04:35Z');
  assert.equal(again.firstTimestamp, '2026-01-02T03:04:05Z');

  r.event(pod, 'Warning', 'FailedScheduling', 'other message');
  await r.flush();
  assert.equal(c.actions.filter((a) => a.verb === 'create').length, 2, 'a different reason is a new event');
});

test('cluster-scoped objects get their events in default; a failing write does not throw', async () => {
  const c = new FakeClient();
  const r = new EventRecorder(c, 'node-controller');
  c.failures.set('create events', new ApiError(500, 'InternalError', 'boom'));
  r.event({ kind: 'Node', metadata: { name: 'n1', uid: 'n' } }, 'Normal', 'RegisteredNode', 'x');
  await r.flush();
  r.event({ kind: 'Node', metadata: { name: 'n1', uid: 'n' } }, 'Normal', 'NodeReady', 'y');
  await r.flush();
  const list = await c.list({ group: '', version: 'v1', resource: 'events', namespaced: true }, 'default');
  assert.deepEqual(list.items.map((e) => (e as Record<string, unknown>).reason), ['NodeReady']);
});
