// Pod garbage collector on the fake client with a hand-run clock: terminated pods over the threshold (evicted and
// oldest first), orphans after the quarantine (Failed + DisruptionTarget DeletionByPodGC), unscheduled terminating
// pods, terminating pods on out-of-service nodes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import type { Scheduler } from '../../client/workqueue.js';
import { NODES, PODS, PodGCController, type PodGCOptions } from './controller.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

class Clock {
  t = T0;
  private timers: Array<{ fn: () => void; at: number; off: boolean }> = [];
  readonly schedule: Scheduler = (fn, ms) => {
    const x = { fn, at: this.t + ms, off: false };
    this.timers.push(x);
    return () => (x.off = true);
  };
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => !x.off && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      due.off = true;
      due.fn();
    }
    this.t = end;
    await settle();
  }
}

const node = (name: string, o: { ready?: string; taints?: unknown[] } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: o.taints ? { taints: o.taints } : {},
  status: { conditions: [{ type: 'Ready', status: o.ready ?? 'True' }] },
});

function pod(name: string, o: { node?: string; phase?: string; ageS?: number; reason?: string; deleting?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      creationTimestamp: new Date(T0 - (o.ageS ?? 0) * 1000).toISOString(),
      ...(o.deleting ? { deletionTimestamp: new Date(T0).toISOString(), finalizers: ['example.com/hold'] } : {}),
    },
    spec: { ...(o.node ? { nodeName: o.node } : {}), containers: [{ name: 'c', image: 'x' }] },
    status: { phase: o.phase ?? 'Running', ...(o.reason ? { reason: o.reason } : {}) },
  };
}

async function rig(seed: (c: FakeClient) => void, opts: PodGCOptions = {}) {
  const c = new FakeClient();
  seed(c);
  const clock = new Clock();
  const gc = new PodGCController(c, { now: () => clock.t, schedule: clock.schedule, ...opts });
  const done = gc.run();
  await Promise.all([gc.pods.hasSynced, gc.nodes.hasSynced]);
  return {
    c,
    clock,
    deleted: () => c.actionsOf('delete').map((a) => a.name),
    statusOf: (name: string) => c.actionsOf('update').find((a) => a.subresource === 'status' && a.name === name)?.detail as KubeObject | undefined,
    async stop() {
      await gc.stop();
      await done;
    },
  };
}

test('terminated pods above the threshold go, evicted first then oldest, without a status write', async () => {
  const r = await rig(
    (c) => {
      c.seed('nodes', node('n1'));
      c.seed('pods', pod('old-done', { node: 'n1', phase: 'Succeeded', ageS: 300 }));
      c.seed('pods', pod('new-failed', { node: 'n1', phase: 'Failed', ageS: 10 }));
      c.seed('pods', pod('young-evicted', { node: 'n1', phase: 'Failed', reason: 'Evicted', ageS: 1 }));
      c.seed('pods', pod('mid-done', { node: 'n1', phase: 'Succeeded', ageS: 100 }));
      c.seed('pods', pod('running', { node: 'n1', ageS: 1000 }));
    },
    { terminatedPodGCThreshold: 2 },
  );
  await r.clock.advance(0);
  assert.deepEqual(r.deleted().sort(), ['old-done', 'young-evicted']);
  assert.equal(r.c.actionsOf('update').length, 0);
  await r.stop();
});

test('pods of a node that no longer exists go after the quarantine, marked Failed with DisruptionTarget', async () => {
  const r = await rig(
    (c) => {
      c.seed('nodes', node('n1'));
      c.seed('pods', pod('orphan', { node: 'gone' }));
      c.seed('pods', pod('safe', { node: 'n1' }));
      c.seed('pods', pod('flapping', { node: 'back-soon' }));
    },
    { quarantineMs: 5000 },
  );
  await r.clock.advance(0);
  await r.c.create(NODES, undefined, node('back-soon'));
  await r.clock.advance(4999);
  assert.deepEqual(r.deleted(), []);
  await r.clock.advance(1);
  assert.deepEqual(r.deleted(), ['orphan']);
  const st = r.statusOf('orphan')!.status as { phase: string; conditions: unknown[] };
  assert.equal(st.phase, 'Failed');
  assert.deepEqual(st.conditions, [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:05Z' }]);
  assert.ok(r.c.actionsOf('get').some((a) => a.resource === 'nodes' && a.name === 'gone'), 'the node is confirmed gone with a GET');

  // Deleting a node: its pods follow one quarantine later.
  await r.c.delete(NODES, undefined, 'n1');
  await r.clock.advance(4000);
  assert.deepEqual(r.deleted().filter((n) => n === 'safe'), []);
  await r.clock.advance(1500);
  assert.ok(r.deleted().includes('safe'), r.deleted().join(','));
  assert.ok(!r.deleted().includes('flapping'));
  await r.stop();
});

test('terminating pods never scheduled, and terminating pods on out-of-service not-ready nodes, are force deleted', async () => {
  const r = await rig((c) => {
    c.seed('nodes', node('oos', { ready: 'False', taints: [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }] }));
    c.seed('nodes', node('ok'));
    c.seed('pods', pod('unscheduled', { deleting: true, phase: 'Pending' }));
    c.seed('pods', pod('on-oos', { node: 'oos', deleting: true }));
    c.seed('pods', pod('on-ok', { node: 'ok', deleting: true }));
    c.seed('pods', pod('pending', { phase: 'Pending' }));
  });
  await r.clock.advance(0);
  assert.deepEqual(r.deleted().sort(), ['on-oos', 'unscheduled']);
  assert.equal((r.statusOf('unscheduled')!.status as { phase: string }).phase, 'Failed');
  // A pod deleted while unscheduled later: the event brings the pass forward.
  const p = r.c.peek('pods', 'default', 'pending')!;
  await r.c.update(PODS, 'default', { ...p, metadata: { ...p.metadata, finalizers: ['example.com/hold'] } });
  await r.c.delete(PODS, 'default', 'pending');
  await r.clock.advance(0);
  assert.ok(r.deleted().filter((n) => n === 'pending').length === 2, r.deleted().join(','));
  await r.stop();
});
