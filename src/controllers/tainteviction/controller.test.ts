// Taint eviction controller on the fake client with hand-run eviction timers: immediate eviction of pods not
// tolerating a NoExecute taint, delayed eviction after tolerationSeconds, cancellation, DisruptionTarget and the
// TaintManagerEviction events; plus the toleration matching table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import type { Scheduler } from '../../client/workqueue.js';
import type { Taint, Toleration } from '../../api/corev1/types.js';
import { NODES, PODS, TaintEvictionController, matchingTolerations, minTolerationMs } from './controller.js';

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
    this.t += ms;
    for (const x of this.timers.filter((x) => !x.off && x.at <= this.t)) {
      x.off = true;
      x.fn();
    }
    await settle();
  }
}

const node = (name: string, taints: Taint[] = []): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: taints.length ? { taints } : {} });
const pod = (name: string, nodeName: string, tolerations?: Toleration[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName, containers: [{ name: 'c', image: 'x' }], ...(tolerations ? { tolerations } : {}) },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});
const UNREACHABLE: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
const tolerateUnreachable = (seconds?: number): Toleration => ({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) });

async function rig(seed: (c: FakeClient) => void) {
  const c = new FakeClient();
  seed(c);
  const clock = new Clock();
  const tec = new TaintEvictionController(c, { now: () => clock.t, schedule: clock.schedule });
  const done = tec.run();
  await Promise.all([tec.nodes.hasSynced, tec.pods.hasSynced]);
  await settle();
  return {
    c,
    tec,
    clock,
    deleted: () => c.actionsOf('delete').map((a) => a.name),
    async taint(name: string, taints: Taint[]) {
      const n = c.peek('nodes', undefined, name)!;
      await c.update(NODES, undefined, { ...n, spec: { ...(n.spec as object), taints } });
      await settle();
    },
    async events() {
      await tec.recorder.flush();
      return c.all('events').map((e) => `${(e.involvedObject as { name: string }).name} ${e.reason}: ${e.message}`);
    },
    async stop() {
      await tec.stop();
      await done;
    },
  };
}

test('pods not tolerating a NoExecute taint are evicted at once: DisruptionTarget, delete, event', async () => {
  const r = await rig((c) => {
    c.seed('nodes', node('n1'));
    c.seed('nodes', node('n2'));
    c.seed('pods', pod('victim', 'n1'));
    c.seed('pods', pod('elsewhere', 'n2'));
    c.seed('pods', pod('forever', 'n1', [tolerateUnreachable()]));
  });
  await r.taint('n1', [{ ...UNREACHABLE, timeAdded: '2026-01-01T00:00:00Z' } as Taint, { key: 'other', effect: 'NoSchedule' }]);
  await r.clock.advance(0);
  assert.deepEqual(r.deleted(), ['victim']);
  const status = r.c.actionsOf('update').find((a) => a.subresource === 'status' && a.name === 'victim')!.detail as KubeObject;
  assert.deepEqual((status.status as { conditions: unknown[] }).conditions[1], {
    type: 'DisruptionTarget',
    status: 'True',
    reason: 'DeletionByTaintManager',
    message: 'Taint manager: deleting due to NoExecute taint',
    lastProbeTime: null,
    lastTransitionTime: '2026-01-01T00:00:00Z',
  });
  assert.deepEqual(await r.events(), ['victim TaintManagerEviction: Marking for deletion Pod default/victim', 'victim TaintManagerEviction: Cancelling deletion of Pod default/victim']);
  await r.stop();
});

test('tolerationSeconds delays the eviction; the smallest of the tolerations used counts', async () => {
  const r = await rig((c) => {
    c.seed('nodes', node('n1'));
    c.seed('pods', pod('three', 'n1', [tolerateUnreachable(3), { key: 'k', operator: 'Exists' }]));
    c.seed('pods', pod('partial', 'n1', [tolerateUnreachable(300)]));
    c.seed('pods', pod('two', 'n1', [tolerateUnreachable(300), { key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }]));
  });
  await r.taint('n1', [UNREACHABLE, { key: 'k', value: 'v', effect: 'NoExecute' }]);
  // `partial` does not tolerate k: at once.
  assert.deepEqual([...r.tec.scheduled()].sort(), [
    ['default/partial', T0],
    ['default/three', T0 + 3000],
    ['default/two', T0 + 2000],
  ]);
  await r.clock.advance(1999);
  assert.deepEqual(r.deleted(), ['partial']);
  await r.clock.advance(1);
  assert.deepEqual(r.deleted(), ['partial', 'two']);
  await r.clock.advance(1000);
  assert.deepEqual(r.deleted(), ['partial', 'two', 'three']);
  await r.stop();
});

test('taints removed before the deadline cancel the eviction, with an event', async () => {
  const r = await rig((c) => {
    c.seed('nodes', node('n1'));
    c.seed('pods', pod('web', 'n1', [tolerateUnreachable(3)]));
  });
  await r.taint('n1', [UNREACHABLE]);
  await r.clock.advance(2000);
  await r.taint('n1', []);
  await r.clock.advance(5000);
  assert.deepEqual(r.deleted(), []);
  assert.equal(r.tec.scheduled().size, 0);
  assert.deepEqual(await r.events(), ['web TaintManagerEviction: Cancelling deletion of Pod default/web']);
  await r.stop();
});

test('a pod bound later to a tainted node is judged against its taints; a toleration added forever cancels', async () => {
  const r = await rig((c) => c.seed('nodes', node('n1', [UNREACHABLE])));
  await r.c.create(PODS, 'default', pod('late', 'n1', [tolerateUnreachable(10)]));
  await settle();
  assert.deepEqual([...r.tec.scheduled()], [['default/late', T0 + 10_000]]);
  const p = r.c.peek('pods', 'default', 'late')!;
  await r.c.update(PODS, 'default', { ...p, spec: { ...(p.spec as object), tolerations: [tolerateUnreachable(10), { operator: 'Exists' }] } });
  await settle();
  // matchingTolerations uses the first toleration that matches: still 10 s.
  assert.deepEqual([...r.tec.scheduled()], [['default/late', T0 + 10_000]]);
  const q = r.c.peek('pods', 'default', 'late')!;
  await r.c.update(PODS, 'default', { ...q, spec: { ...(q.spec as object), tolerations: [tolerateUnreachable()] } });
  await settle();
  assert.equal(r.tec.scheduled().size, 0);
  await r.stop();
});

test('matchingTolerations and minTolerationMs (table)', () => {
  const taints: Taint[] = [UNREACHABLE, { key: 'a', value: '1', effect: 'NoExecute' }];
  const cases: Array<[string, Toleration[], boolean, number]> = [
    ['none', [], false, 0],
    ['one missing', [tolerateUnreachable(5)], false, 0],
    ['wildcard forever', [{ operator: 'Exists' }], true, -1],
    ['equal value', [tolerateUnreachable(5), { key: 'a', operator: 'Equal', value: '1', tolerationSeconds: 7 }], true, 5000],
    ['wrong value', [tolerateUnreachable(5), { key: 'a', operator: 'Equal', value: '2' }], false, 0],
    ['negative seconds is zero', [tolerateUnreachable(-1), { key: 'a', operator: 'Exists' }], true, 0],
  ];
  for (const [name, tols, all, ms] of cases) {
    const m = matchingTolerations(taints, tols);
    assert.equal(m.all, all, name);
    if (all) assert.equal(minTolerationMs(m.used), ms, name);
  }
});
