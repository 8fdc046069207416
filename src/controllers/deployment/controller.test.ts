// Deployment controller tests on the fake client, with a stand-in for the ReplicaSet controller and kubelet
// (each tick makes every RS's pods exist and become available): RS naming and annotations, rolling-update
// step sequences that never exceed maxSurge nor drop below maxUnavailable, Recreate, undo reusing the old RS,
// history cleanup, pause, proportional scaling, progress deadline; plus the pure helpers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { DEPLOYMENTS, DeploymentController, PODS, REPLICASETS } from './controller.js';
import { computeHash, fnv32a, safeEncodeString } from './hash.js';
import * as u from './util.js';

const T0 = Date.parse('2026-01-01T12:00:00Z');

function deployment(replicas: number, image: string, spec: Partial<u.DeploymentSpec> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...spec,
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

interface Harness {
  c: FakeClient;
  ctl: DeploymentController;
  clock: { now: number };
  /** One deployment sync after the caches caught up. */
  sync(): Promise<void>;
  /** The RS controller + kubelet stand-in: every RS's pods exist, are ready and available. */
  tick(): Promise<void>;
  rss(): KubeObject[];
  d(): KubeObject;
  edit(fn: (d: KubeObject) => void): Promise<void>;
  stop(): Promise<void>;
}

async function harness(d: KubeObject): Promise<Harness> {
  const c = new FakeClient();
  c.seed('deployments', d);
  const clock = { now: T0 };
  const ctl = new DeploymentController(c, { now: () => clock.now });
  for (const i of [ctl.deployments, ctl.replicaSets]) i.start();
  await Promise.all([ctl.deployments.hasSynced, ctl.replicaSets.hasSynced]);
  const h: Harness = {
    c,
    ctl,
    clock,
    async sync() {
      await settle();
      await ctl.sync('ns/web');
      await settle();
    },
    async tick() {
      for (const rs of c.all('replicasets')) {
        const n = u.rsReplicas(rs);
        await c.update(REPLICASETS, 'ns', { ...rs, status: { replicas: n, readyReplicas: n, availableReplicas: n, observedGeneration: rs.metadata.generation ?? 0 } }, 'status');
      }
      await settle();
    },
    rss: () => c.all('replicasets').sort(u.byRevision),
    d: () => c.peek('deployments', 'ns', 'web')!,
    async edit(fn) {
      const cur = h.d();
      fn(cur);
      cur.metadata.generation = (cur.metadata.generation ?? 1) + 1;
      await c.update(DEPLOYMENTS, 'ns', cur);
      await settle();
    },
    async stop() {
      await ctl.stop();
    },
  };
  return h;
}

const setImage = (image: string) => (d: KubeObject) => {
  (u.dspec(d).template!.spec as { containers: Array<{ image: string }> }).containers[0]!.image = image;
};

/** Syncs and ticks until the rollout is complete; returns how many rounds it took. */
async function rollOut(h: Harness, check?: () => void): Promise<number> {
  for (let round = 1; round <= 60; round++) {
    await h.sync();
    check?.();
    await h.tick();
    await h.sync();
    const st = u.dstatus(h.d());
    if (u.deploymentComplete(h.d(), st) && h.rss().filter((rs) => u.rsReplicas(rs) > 0).length === 1) return round;
  }
  assert.fail(`rollout did not complete: ${JSON.stringify(h.rss().map((rs) => [rs.metadata.name, u.rsReplicas(rs)]))}`);
}

test('hash helpers: FNV-32a, SafeEncodeString, collision count changes the hash', () => {
  assert.equal(fnv32a(new TextEncoder().encode('a')), 0xe40c292c);
  assert.equal(fnv32a(new Uint8Array()), 0x811c9dc5);
  assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  const t = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
  const reordered = { spec: { containers: [{ image: 'nginx', name: 'c' }] }, metadata: { labels: { app: 'web' }, creationTimestamp: null } };
  assert.equal(computeHash(t), computeHash(reordered), 'key order and nulls do not matter');
  assert.notEqual(computeHash(t), computeHash(t, 1));
  assert.match(computeHash(t), /^[456789bcdf]{6,10}$/);
});

test('fenceposts: surge rounds up, unavailable down, both zero → one unavailable', () => {
  const cases: Array<[number | string, number | string, number, [number, number]]> = [
    ['25%', '25%', 10, [3, 2]],
    ['25%', '25%', 3, [1, 0]],
    [0, 0, 5, [0, 1]],
    ['50%', '0%', 3, [2, 0]],
    [2, '10%', 4, [2, 0]],
    ['0%', '0%', 1, [0, 1]],
  ];
  for (const [s, un, n, want] of cases) assert.deepEqual(u.resolveFenceposts(s, un, n), want, `${s}/${un} of ${n}`);
});

test('first sync: RS <deployment>-<hash> with the hash label, controller ref, annotations; deployment revision 1', async () => {
  const h = await harness(deployment(3, 'nginx:1.25'));
  await h.sync();
  const [rs] = h.rss();
  assert.ok(rs);
  const hash = rs.metadata.labels?.['pod-template-hash'];
  assert.equal(hash, computeHash(u.dspec(h.d()).template));
  assert.equal(rs.metadata.name, `web-${hash}`);
  assert.deepEqual(u.rsspec(rs).selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
  assert.deepEqual(u.rsspec(rs).template?.metadata?.labels, { app: 'web', 'pod-template-hash': hash });
  assert.equal(u.rsReplicas(rs), 3);
  assert.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: h.d().metadata.uid, controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(rs.metadata.annotations, { [u.REVISION]: '1', [u.DESIRED_REPLICAS]: '3', [u.MAX_REPLICAS]: '4' });
  assert.equal(h.d().metadata.annotations?.[u.REVISION], '1');
  const conds = Object.fromEntries((u.dstatus(h.d()).conditions ?? []).map((x) => [x.type, x.reason]));
  assert.deepEqual(conds, { Progressing: u.NewReplicaSetCreated, Available: u.MinimumReplicasUnavailable });
  await h.ctl.recorder.flush();
  assert.deepEqual(h.c.all('events').map((e) => e.message), [`Scaled up replica set ${rs.metadata.name} from 0 to 3`]);
  await h.tick();
  await h.sync();
  const st = u.dstatus(h.d());
  assert.deepEqual([st.replicas, st.updatedReplicas, st.readyReplicas, st.availableReplicas, st.unavailableReplicas, st.observedGeneration], [3, 3, 3, 3, 0, 1]);
  const prog = u.getCondition(st, 'Progressing')!;
  assert.equal(prog.reason, u.NewRSAvailable);
  assert.equal(prog.message, `ReplicaSet "${rs.metadata.name}" has successfully progressed.`);
  assert.equal(u.getCondition(st, 'Available')!.reason, u.MinimumReplicasAvailable);
  await h.stop();
});

test('rolling update never exceeds replicas+maxSurge nor drops below replicas-maxUnavailable', async () => {
  const cases: Array<{ replicas: number; surge: number | string; unavailable: number | string }> = [
    { replicas: 3, surge: '25%', unavailable: '25%' },
    { replicas: 10, surge: '25%', unavailable: '25%' },
    { replicas: 4, surge: 1, unavailable: 0 },
    { replicas: 5, surge: 0, unavailable: 2 },
    { replicas: 6, surge: '50%', unavailable: '0%' },
  ];
  for (const tc of cases) {
    const h = await harness(deployment(tc.replicas, 'v1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: tc.surge, maxUnavailable: tc.unavailable } } }));
    await rollOut(h);
    const [surge, unav] = u.resolveFenceposts(tc.surge, tc.unavailable, tc.replicas);
    await h.edit(setImage('v2'));
    const label = `${tc.replicas} replicas, surge ${tc.surge}, unavailable ${tc.unavailable}`;
    const steps: string[] = [];
    const rounds = await rollOut(h, () => {
      const rss = h.rss();
      const total = u.sumSpecReplicas(rss);
      // Pods removed by a scale-down go at once; pods added are not available until the next tick.
      const available = rss.reduce((n, rs) => n + Math.min(u.rsReplicas(rs), u.rsstatus(rs).availableReplicas ?? 0), 0);
      steps.push(rss.map(u.rsReplicas).join('/'));
      assert.ok(total <= tc.replicas + surge, `${label}: ${total} pods > ${tc.replicas}+${surge} (${steps.join(' → ')})`);
      assert.ok(available >= tc.replicas - unav, `${label}: ${available} available < ${tc.replicas}-${unav} (${steps.join(' → ')})`);
    });
    const rss = h.rss();
    assert.equal(rss.length, 2, label);
    assert.deepEqual(rss.map(u.rsReplicas), [0, tc.replicas], label);
    assert.equal(h.d().metadata.annotations?.[u.REVISION], '2');
    assert.ok(rounds > 1 || surge >= tc.replicas, `${label}: took ${rounds} rounds`);
    await h.stop();
  }
});

test('an old RS whose status still counts the pods of its last scale-down is not scaled down on them (maxUnavailable holds)', async () => {
  // The e2e flake: replicas 4, surge 1, unavailable 1 (minAvailable 3). The old RS was just scaled 3 → 2, but its
  // status still says 3 available (the ReplicaSet controller reports the pods it saw before deleting one); the new
  // RS has 3 desired, 2 available. Summing statuses gives 5 available and would scale the old RS 2 → 0, leaving 2.
  const h = await harness(deployment(4, 'v1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
  await rollOut(h);
  await h.edit(setImage('v2'));
  await h.sync();
  const [oldRS, newRS] = h.rss();
  assert.ok(oldRS && newRS && u.rsReplicas(newRS) === 1, 'the new RS was created');
  const put = async (rs: KubeObject, spec: number, available: number) => {
    const cur = h.c.peek('replicasets', 'ns', rs.metadata.name!)!;
    const written = await h.c.update(REPLICASETS, 'ns', { ...cur, spec: { ...(cur.spec as object), replicas: spec } });
    await h.c.update(REPLICASETS, 'ns', { ...written, status: { replicas: available, readyReplicas: available, availableReplicas: available, observedGeneration: cur.metadata.generation ?? 0 } }, 'status');
  };
  await put(oldRS, 2, 3);
  await put(newRS, 3, 2);
  await h.sync();
  const after = new Map(h.rss().map((rs) => [rs.metadata.name, rs]));
  const oldNow = after.get(oldRS.metadata.name)!;
  const newNow = after.get(newRS.metadata.name)!;
  // Really available afterwards: the old RS keeps at most its new size (its other pods are being deleted), the new RS 2.
  const available = Math.min(u.rsReplicas(oldNow), 2) + Math.min(u.rsReplicas(newNow), 2);
  assert.ok(available >= 3, `available ${available} < 4-1: old RS scaled to ${u.rsReplicas(oldNow)}`);
  assert.equal(u.rsReplicas(oldNow), 1, 'the one pod the budget allows goes');
  await h.stop();
});

test('rolling update within bounds when a scaled-down RS reports its deleted pods for one more round', async () => {
  for (const [replicas, surge, unavailable] of [[4, 1, 1], [10, '25%', '25%'], [5, 0, 2], [6, 2, 2]] as const) {
    const h = await harness(deployment(replicas, 'v1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } } }));
    await rollOut(h);
    const [s, un] = u.resolveFenceposts(surge, unavailable, replicas);
    await h.edit(setImage('v2'));
    const label = `${replicas} replicas, surge ${surge}, unavailable ${unavailable}`;
    const lastSpec = new Map<string, number>(h.rss().map((rs) => [rs.metadata.name!, u.rsReplicas(rs)]));
    const steps: string[] = [];
    let done = false;
    for (let round = 0; round < 80 && !done; round++) {
      // Two syncs per round: the controller's own RS writes wake it again before the RS statuses catch up.
      let rss: KubeObject[] = [];
      for (let again = 0; again < 2; again++) {
        await h.sync();
        rss = h.rss();
        steps.push(rss.map(u.rsReplicas).join('/'));
        // A scale-down deletes pods at once, whatever the status still says.
        const available = rss.reduce((n, rs) => n + Math.min(u.rsReplicas(rs), u.rsstatus(rs).availableReplicas ?? 0), 0);
        assert.ok(u.sumSpecReplicas(rss) <= replicas + s, `${label}: too many pods (${steps.join(' → ')})`);
        assert.ok(available >= replicas - un, `${label}: ${available} available < ${replicas}-${un} (${steps.join(' → ')})`);
      }
      // The stand-in ReplicaSet controller + kubelet: new pods are available by the next round, but a scaled-down
      // RS still counts the pods it is deleting for one round (upstream's status is computed from the pods it saw).
      for (const rs of rss) {
        const shown = Math.max(lastSpec.get(rs.metadata.name!) ?? 0, u.rsReplicas(rs));
        await h.c.update(REPLICASETS, 'ns', { ...rs, status: { replicas: shown, readyReplicas: shown, availableReplicas: shown, observedGeneration: rs.metadata.generation ?? 0 } }, 'status');
        lastSpec.set(rs.metadata.name!, u.rsReplicas(rs));
      }
      await settle();
      done = u.deploymentComplete(h.d(), u.dstatus(h.d())) && h.rss().filter((rs) => u.rsReplicas(rs) > 0).length === 1;
    }
    assert.ok(done, `${label}: rollout did not complete (${steps.join(' → ')})`);
    await h.stop();
  }
});

test('rolling update step sequence for 3 replicas at 25%/25% (surge 1, unavailable 0), with upstream event wording', async () => {
  const h = await harness(deployment(3, 'v1'));
  await rollOut(h);
  await h.edit(setImage('v2'));
  const seen: string[] = [];
  await rollOut(h, () => seen.push(h.rss().map(u.rsReplicas).join('/')));
  assert.deepEqual(seen.slice(0, 3), ['3/1', '2/2', '1/3']);
  await h.ctl.recorder.flush();
  const [oldRS, newRS] = h.rss().map((rs) => rs.metadata.name);
  const msgs = h.c.all('events').map((e) => e.message);
  for (const m of [`Scaled up replica set ${newRS} from 0 to 1`, `Scaled down replica set ${oldRS} from 3 to 2`, `Scaled up replica set ${newRS} from 1 to 2`, `Scaled down replica set ${oldRS} from 1 to 0`]) {
    assert.ok(msgs.includes(m), `missing event "${m}" in ${JSON.stringify(msgs)}`);
  }
  await h.stop();
});

test('Recreate: old RSs scale to 0 and their pods must be gone before the new RS appears at full size', async () => {
  const h = await harness(deployment(2, 'v1', { strategy: { type: 'Recreate' } }));
  await rollOut(h);
  const [old] = h.rss();
  h.c.seed('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'straggler', namespace: 'ns', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: old!.metadata.name!, uid: old!.metadata.uid!, controller: true }] }, status: { phase: 'Running' } });
  await h.edit(setImage('v2'));
  await h.sync();
  assert.deepEqual(h.rss().map(u.rsReplicas), [0], 'old scaled down, no new RS yet');
  await h.tick();
  await h.sync();
  assert.equal(h.rss().length, 1, 'a running old pod holds the new RS back');
  await h.c.delete(PODS, 'ns', 'straggler');
  await h.sync();
  assert.deepEqual(h.rss().map(u.rsReplicas), [0, 2], 'new RS created at full size');
  await rollOut(h);
  await h.stop();
});

test('undo: the template back at revision 1 reuses the first RS with revision 3 and revision-history 1', async () => {
  const h = await harness(deployment(2, 'v1'));
  await rollOut(h);
  const first = h.rss()[0]!.metadata.name;
  await h.edit(setImage('v2'));
  await rollOut(h);
  await h.edit(setImage('v1'));
  const createsBefore = h.c.actionsOf('create').filter((a) => a.resource === 'replicasets').length;
  await rollOut(h);
  assert.equal(h.c.actionsOf('create').filter((a) => a.resource === 'replicasets').length, createsBefore, 'no new RS');
  const rss = h.rss();
  assert.equal(rss.length, 2);
  const reused = rss.find((rs) => rs.metadata.name === first)!;
  assert.equal(reused.metadata.annotations?.[u.REVISION], '3');
  assert.equal(reused.metadata.annotations?.[u.REVISION_HISTORY], '1');
  assert.equal(u.rsReplicas(reused), 2);
  assert.equal(h.d().metadata.annotations?.[u.REVISION], '3');
  await h.stop();
});

test('revisionHistoryLimit: the oldest scaled-down RSs beyond the limit are deleted once the rollout is complete', async () => {
  const h = await harness(deployment(1, 'v1', { revisionHistoryLimit: 1 }));
  for (const img of ['v1', 'v2', 'v3', 'v4']) {
    if (img !== 'v1') await h.edit(setImage(img));
    await rollOut(h);
  }
  await h.sync();
  const rss = h.rss();
  assert.deepEqual(rss.map((rs) => rs.metadata.annotations?.[u.REVISION]), ['3', '4']);
  assert.deepEqual(rss.map(u.rsReplicas), [0, 1]);
  await h.stop();
});

test('paused: no new RS for a template change (Progressing DeploymentPaused); resume rolls out', async () => {
  const h = await harness(deployment(2, 'v1'));
  await rollOut(h);
  await h.edit((d) => {
    u.dspec(d).paused = true;
    setImage('v2')(d);
  });
  await h.sync();
  await h.sync();
  assert.equal(h.rss().length, 1);
  const p = u.getCondition(u.dstatus(h.d()), 'Progressing')!;
  assert.deepEqual([p.status, p.reason, p.message], ['Unknown', u.Paused, 'Deployment is paused']);
  // Scaling still works while paused.
  await h.edit((d) => void (u.dspec(d).replicas = 4));
  await h.sync();
  assert.deepEqual(h.rss().map(u.rsReplicas), [4]);
  await h.edit((d) => void delete u.dspec(d).paused);
  await h.sync();
  assert.equal(u.getCondition(u.dstatus(h.d()), 'Progressing')!.reason, u.NewReplicaSetCreated);
  await rollOut(h);
  assert.deepEqual(h.rss().map(u.rsReplicas), [0, 4]);
  await h.stop();
});

test('scaling mid-rollout is proportional (leftovers to the largest RS)', async () => {
  const h = await harness(deployment(10, 'v1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
  await rollOut(h);
  await h.edit(setImage('v2'));
  await h.sync();
  assert.deepEqual(h.rss().map(u.rsReplicas), [8, 3]);
  await h.edit((d) => void (u.dspec(d).replicas = 20));
  await h.sync();
  const rss = h.rss();
  assert.deepEqual(rss.map(u.rsReplicas), [18, 5]);
  assert.deepEqual(rss.map((rs) => rs.metadata.annotations?.[u.DESIRED_REPLICAS]), ['20', '20']);
  assert.deepEqual(rss.map((rs) => rs.metadata.annotations?.[u.MAX_REPLICAS]), ['23', '23']);
  await h.stop();
});

test('progress deadline: a stuck rollout gets Progressing=False ProgressDeadlineExceeded', async () => {
  const h = await harness(deployment(2, 'v1', { progressDeadlineSeconds: 60 }));
  await rollOut(h);
  await h.edit(setImage('v2'));
  await h.sync(); // new RS scaled up; it never becomes available (no tick)
  await h.sync();
  assert.equal(u.getCondition(u.dstatus(h.d()), 'Progressing')!.reason, u.NewReplicaSetCreated, 'no progress without new pods');
  h.clock.now += 61_000;
  await h.sync();
  const p = u.getCondition(u.dstatus(h.d()), 'Progressing')!;
  const newRS = h.rss()[1]!.metadata.name;
  assert.deepEqual([p.status, p.reason, p.message], ['False', u.TimedOut, `ReplicaSet "${newRS}" has timed out progressing.`]);
  await h.stop();
});

test('adoption: an orphan RS matching the selector and the template is adopted as the new RS', async () => {
  const d = deployment(2, 'v1');
  const h = await harness(d);
  const hash = computeHash(u.dspec(d).template);
  h.c.seed('replicasets', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'hand-made', namespace: 'ns', labels: { app: 'web', 'pod-template-hash': hash } },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } }, template: { ...structuredClone(u.dspec(d).template!), metadata: { labels: { app: 'web', 'pod-template-hash': hash } } } },
  });
  await h.sync();
  const rss = h.rss();
  assert.equal(rss.length, 1);
  assert.equal(rss[0]!.metadata.ownerReferences?.[0]?.uid, h.d().metadata.uid);
  assert.equal(rss[0]!.metadata.annotations?.[u.REVISION], '1');
  await h.stop();
});

test('hash collision: a foreign RS holding the name bumps collisionCount, and the next pass uses the new hash', async () => {
  const d = deployment(1, 'v1');
  const h = await harness(d);
  const hash = computeHash(u.dspec(d).template);
  h.c.seed('replicasets', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `web-${hash}`, namespace: 'ns', labels: { other: 'x' } },
    spec: { replicas: 0, selector: { matchLabels: { other: 'x' } }, template: { metadata: { labels: { other: 'x' } }, spec: { containers: [{ name: 'c', image: 'other' }] } } },
  });
  await settle();
  await assert.rejects(h.ctl.sync('ns/web'), /hash collision/);
  assert.equal(u.dstatus(h.d()).collisionCount, 1);
  await h.sync();
  const ours = h.c.all('replicasets').filter((rs) => rs.metadata.ownerReferences?.[0]?.uid === h.d().metadata.uid);
  assert.equal(ours.length, 1);
  assert.equal(ours[0]!.metadata.name, `web-${computeHash(u.dspec(d).template, 1)}`);
  await h.stop();
});
