// End-to-end (walkthrough W4): the DaemonSet and StatefulSet controllers run by `k8ts server --simulate-nodes 3`,
// driven by the real kubectl 1.32 — a DaemonSet following node labels (`kubectl label node`), `get ds` columns,
// RollingUpdate via `set image` within maxUnavailable, `rollout status/history/undo ds`; a StatefulSet behind a
// headless Service created in ordinal order (watched live), stable identity and claims across pod deletion and
// scale-down (highest ordinal first, one at a time), partitioned rolling update, `rollout status/history/undo sts`.
// Jobs and CronJobs live in jobs.e2e.test.ts.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, uniqueName, withNamespace, type Background, type Kubectl } from './harness.js';

let srv: Server;
/** Node label keys set by a test, removed again at the end so later tests see plain nodes. */
const labelKeys = new Set<string>();

before(async () => {
  srv = await Server.start({ extraArgs: ['--simulate-nodes', '3'] });
});

after(async () => {
  if (srv) for (const key of labelKeys) await srv.client().run(['label', 'nodes', '--all', `${key}-`]);
  await srv?.stop();
});

const NODES = ['sim-node-0', 'sim-node-1', 'sim-node-2'];
/** Containers turn ready one second after they start: ordering and rollouts take visible steps, but briefly. */
const READY_1S = { 'sim.k8ts.io/ready-seconds': '1' };

/** `kubectl get <what…> -o jsonpath=<path>`; `what` is split on spaces ("pods -l app=web"). */
async function jsonpath(k: Kubectl, what: string, path: string): Promise<string> {
  return (await k.ok(['get', ...what.split(' '), '-o', `jsonpath=${path}`])).stdout;
}

interface PodRow {
  name: string;
  uid: string;
  node: string;
  image: string;
  deleting: boolean;
  ready: boolean;
  claim: string;
}

/** Pods by name (Terminating ones included, flagged). */
async function pods(k: Kubectl, selector: string): Promise<Map<string, PodRow>> {
  const out = await jsonpath(
    k,
    `pods -l ${selector}`,
    '{range .items[*]}{.metadata.name}|{.metadata.uid}|{.spec.nodeName}|{.spec.containers[0].image}|{.metadata.deletionTimestamp}|{.status.conditions[?(@.type=="Ready")].status}|{.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}{"\\n"}{end}',
  );
  const m = new Map<string, PodRow>();
  for (const l of out.split('\n').filter(Boolean)) {
    const [name, uid, node, image, del, ready, claim] = l.split('|');
    m.set(name!, { name: name!, uid: uid!, node: node!, image: image!, deleting: del !== '', ready: ready === 'True', claim: claim ?? '' });
  }
  return m;
}

const live = (m: Map<string, PodRow>): PodRow[] => [...m.values()].filter((p) => !p.deleting);

/** `kubectl get pods -w --output-watch-events` lines `TYPE|name|uid|node|deletionTimestamp|phase|Ready`. */
function watchPods(k: Kubectl, selector: string): Background {
  return k.spawn([
    'get',
    'pods',
    '-l',
    selector,
    '-w',
    '--output-watch-events',
    '-o',
    'jsonpath={.type}|{.object.metadata.name}|{.object.metadata.uid}|{.object.spec.nodeName}|{.object.metadata.deletionTimestamp}|{.object.status.phase}|{.object.status.conditions[?(@.type=="Ready")].status}{"\\n"}',
  ]);
}

interface WatchLine {
  type: string;
  name: string;
  uid: string;
  node: string;
  deleting: boolean;
  phase: string;
  ready: boolean;
}

function watchLines(w: Background): WatchLine[] {
  return w.stdout
    .split('\n')
    .filter((l) => l.includes('|'))
    .map((l) => {
      const [type, name, uid, node, del, phase, ready] = l.trim().split('|');
      return { type: type!, name: name!, uid: uid!, node: node!, deleting: del !== '', phase: phase!, ready: ready === 'True' };
    });
}

async function rolledOut(k: Kubectl, what: string): Promise<string> {
  const r = await k.ok(['rollout', 'status', what, '--timeout=40s'], { timeoutMs: 45_000 });
  return r.stdout.trim().split('\n').pop()!;
}

function daemonSet(name: string, labelKey: string, image = 'luksa/ssd-monitor:v1'): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: READY_1S },
        spec: { nodeSelector: { [labelKey]: 'ssd' }, containers: [{ name: 'main', image }] },
      },
    },
  };
}

test('DaemonSet with a nodeSelector follows node labels: kubectl label node adds its pod, relabelling removes it; get ds columns', async () => {
  const k = await withNamespace(srv, 'e2e-ds-labels');
  const key = uniqueName('disk');
  labelKeys.add(key);
  await k.ok(['create', '-f', '-'], { stdin: docs(daemonSet('ssd-monitor', key)) });
  const empty = await eventually(async () => {
    const t = parseTable((await k.ok(['get', 'ds'])).stdout);
    return t.rows[0]?.DESIRED === '0' && t;
  }, 10_000, 'the DaemonSet with status');
  assert.deepEqual(empty.headers, ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']);
  assert.deepEqual(empty.rows.map((r) => [r.NAME, r.DESIRED, r.CURRENT, r.READY, r['UP-TO-DATE'], r.AVAILABLE, r['NODE SELECTOR']]), [['ssd-monitor', '0', '0', '0', '0', '0', `${key}=ssd`]]);
  assert.equal((await pods(k, 'app=ssd-monitor')).size, 0, 'no node matches: no pods');

  await k.ok(['label', 'node', 'sim-node-1', `${key}=ssd`]);
  const [first] = await eventually(async () => {
    const l = live(await pods(k, 'app=ssd-monitor'));
    return l.length === 1 && l[0]!.ready && l;
  }, 15_000, 'a ready daemon pod');
  assert.equal(first!.node, 'sim-node-1');
  assert.match(first!.name, /^ssd-monitor-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  await k.ok(['label', 'node', 'sim-node-2', `${key}=ssd`]);
  await eventually(async () => {
    const t = parseTable((await k.ok(['get', 'ds', 'ssd-monitor'])).stdout);
    const r = t.rows[0]!;
    return [r.DESIRED, r.CURRENT, r.READY, r['UP-TO-DATE'], r.AVAILABLE].join() === '2,2,2,2,2';
  }, 15_000, 'get ds 2 2 2 2 2');
  assert.deepEqual(live(await pods(k, 'app=ssd-monitor')).map((p) => p.node).sort(), ['sim-node-1', 'sim-node-2']);

  // W4: relabelling with --overwrite removes the pod from that node; so does removing the label.
  await k.ok(['label', 'node', 'sim-node-1', `${key}=hdd`, '--overwrite']);
  await eventually(async () => {
    const m = await pods(k, 'app=ssd-monitor');
    return m.size === 1 && [...m.values()][0]!.node === 'sim-node-2';
  }, 15_000, 'the sim-node-1 pod gone');
  await k.ok(['label', 'node', 'sim-node-2', `${key}-`]);
  await eventually(async () => (await pods(k, 'app=ssd-monitor')).size === 0, 15_000, 'no daemon pods left');
  const t = parseTable((await k.ok(['get', 'ds'])).stdout);
  assert.equal(t.rows[0]!.DESIRED, '0');
});

test('DaemonSet RollingUpdate: set image and rollout status ds, never more than maxUnavailable (1) node without a ready pod; history and undo', async () => {
  const k = await withNamespace(srv, 'e2e-ds-roll');
  const key = uniqueName('disk');
  labelKeys.add(key);
  await k.ok(['label', 'nodes', '--all', `${key}=ssd`]);
  await k.ok(['create', '-f', '-'], { stdin: docs(daemonSet('mon', key)) });
  assert.equal(await rolledOut(k, 'ds/mon'), 'daemon set "mon" successfully rolled out');
  const before = live(await pods(k, 'app=mon'));
  assert.deepEqual(before.map((p) => p.node).sort(), NODES);

  const w = watchPods(k, 'app=mon');
  await w.waitFor((out) => NODES.every((n) => out.includes(`|${n}|`)), 10_000);
  assert.match((await k.ok(['set', 'image', 'ds/mon', 'main=luksa/ssd-monitor:v2'])).stdout, /daemonset.apps\/mon image updated/);
  assert.equal(await rolledOut(k, 'ds/mon'), 'daemon set "mon" successfully rolled out');
  const after = live(await pods(k, 'app=mon'));
  assert.deepEqual(after.map((p) => p.node).sort(), NODES);
  assert.ok(after.every((p) => p.image === 'luksa/ssd-monitor:v2' && p.ready), JSON.stringify(after));
  await w.stop();
  // Replay: a node counts while it has a ready pod not being deleted; at most one may lack one at any moment.
  // (Checked from the moment the watch's initial listing has shown all three.)
  const state = new Map<string, WatchLine>();
  let listed = false;
  for (const l of watchLines(w)) {
    if (l.type === 'DELETED') state.delete(l.uid);
    else state.set(l.uid, l);
    const covered = new Set([...state.values()].filter((p) => p.ready && !p.deleting && p.node).map((p) => p.node));
    listed ||= covered.size === 3;
    if (listed) assert.ok(covered.size >= 2, `more than one node without a ready daemon pod at ${JSON.stringify(l)}\n${w.stdout}`);
  }
  assert.equal(new Set(watchLines(w).filter((l) => l.type === 'DELETED').map((l) => l.uid)).size, 3, 'every old pod replaced');

  assert.match((await k.ok(['rollout', 'history', 'ds/mon'])).stdout, /^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/m);
  assert.match((await k.ok(['rollout', 'history', 'ds/mon', '--revision=1'])).stdout, /Image:\s+luksa\/ssd-monitor:v1/);
  assert.match((await k.ok(['rollout', 'undo', 'ds/mon'])).stdout, /daemonset.apps\/mon rolled back/);
  assert.equal(await rolledOut(k, 'ds/mon'), 'daemon set "mon" successfully rolled out');
  await eventually(async () => {
    const l = live(await pods(k, 'app=mon'));
    return l.length === 3 && l.every((p) => p.image === 'luksa/ssd-monitor:v1');
  }, 15_000, 'pods back on v1');
  assert.match((await k.ok(['rollout', 'history', 'ds/mon'])).stdout, /^REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/m);
  const skip = await k.ok(['rollout', 'undo', 'ds/mon', '--to-revision=3']);
  assert.match(skip.stdout, /skipped rollback \(current template already matches revision 3\)/);
});

function statefulSet(name: string, o: { replicas?: number; image?: string } = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: READY_1S },
        spec: { containers: [{ name: 'nginx', image: o.image ?? 'nginx:1.25' }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}

const headless = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ port: 80 }] } });

async function claims(k: Kubectl): Promise<Map<string, string>> {
  const out = await jsonpath(k, 'pvc', '{range .items[*]}{.metadata.name} {.metadata.uid}{"\\n"}{end}');
  return new Map(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

test('StatefulSet: web-N created in order, each after its predecessor is Running and Ready; identity and a claim per ordinal kept across deletion and scale-down', async () => {
  const k = await withNamespace(srv, 'e2e-sts');
  const w = watchPods(k, 'app=web');
  await k.ok(['create', '-f', '-'], { stdin: docs(headless('web'), statefulSet('web')) });
  assert.equal(await rolledOut(k, 'sts/web'), 'partitioned roll out complete: 3 new pods have been updated...');
  await w.waitFor((out) => out.includes('|web-2|'), 5_000);

  // Ordering, from the live watch: web-N appears only once web-(N-1) has been reported Running and Ready.
  const lines = watchLines(w);
  for (const n of [1, 2]) {
    const added = lines.findIndex((l) => l.type === 'ADDED' && l.name === `web-${n}`);
    const predReady = lines.findIndex((l) => l.name === `web-${n - 1}` && l.phase === 'Running' && l.ready && !l.deleting);
    assert.ok(added > 0 && predReady >= 0 && predReady < added, `web-${n} created before web-${n - 1} was Ready:\n${w.stdout}`);
  }
  const t = parseTable((await k.ok(['get', 'sts'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'READY', 'AGE']);
  assert.deepEqual([t.rows[0]!.NAME, t.rows[0]!.READY], ['web', '3/3']);
  const m = await pods(k, 'app=web');
  assert.deepEqual([...m.keys()].sort(), ['web-0', 'web-1', 'web-2']);
  for (const [name, p] of m) assert.equal(p.claim, `data-${name}`);
  assert.equal(await jsonpath(k, 'pod/web-1', '{.spec.hostname}.{.spec.subdomain} {.metadata.labels.statefulset\\.kubernetes\\.io/pod-name} {.metadata.labels.apps\\.kubernetes\\.io/pod-index}'), 'web-1.web web-1 1');
  const pvcs = await claims(k);
  assert.deepEqual([...pvcs.keys()].sort(), ['data-web-0', 'data-web-1', 'data-web-2']);
  assert.equal(await jsonpath(k, 'pvc/data-web-0', '{.metadata.labels.app} {.spec.accessModes[0]}'), 'web ReadWriteOnce');

  // A deleted pod comes back under the same name, on the same claim.
  const old0 = m.get('web-0')!.uid;
  await k.ok(['delete', 'pod', 'web-0']);
  const back = await eventually(async () => {
    const p = (await pods(k, 'app=web')).get('web-0');
    return p && p.uid !== old0 && p.ready && p;
  }, 15_000, 'web-0 back and ready');
  assert.equal(back.claim, 'data-web-0');
  assert.deepEqual(await claims(k), pvcs, 'the same claims, none made anew');

  // Scale-down: web-2 goes first; web-1 is only deleted once web-2 is gone. The claims stay.
  await rolledOut(k, 'sts/web');
  const mark = watchLines(w).length;
  await k.ok(['scale', 'sts/web', '--replicas=1']);
  await eventually(async () => [...(await pods(k, 'app=web')).keys()].join() === 'web-0', 20_000, 'only web-0 left');
  await w.waitFor((out) => out.split('\n').some((l) => l.startsWith('DELETED|web-1|')), 5_000);
  await w.stop();
  const down = watchLines(w).slice(mark);
  const web2Gone = down.findIndex((l) => l.type === 'DELETED' && l.name === 'web-2');
  const web1Deleting = down.findIndex((l) => l.name === 'web-1' && l.deleting);
  assert.ok(web2Gone >= 0 && web1Deleting > web2Gone, `web-1 deleted before web-2 was gone:\n${w.stdout}`);
  assert.ok(!down.some((l) => l.name === 'web-0' && l.deleting), 'web-0 untouched');
  assert.deepEqual(await claims(k), pvcs, 'claims kept after scale-down');
  const ev = await jsonpath(k, 'events --field-selector involvedObject.kind=StatefulSet', '{range .items[*]}{.reason}: {.message}{"\\n"}{end}');
  assert.match(ev, /^SuccessfulCreate: create Claim data-web-0 Pod web-0 in StatefulSet web success$/m);
  assert.match(ev, /^SuccessfulDelete: delete Pod web-2 in StatefulSet web successful$/m);

  // Scaling up again reuses them.
  await k.ok(['scale', 'sts/web', '--replicas=3']);
  assert.equal(await rolledOut(k, 'sts/web'), 'partitioned roll out complete: 3 new pods have been updated...');
  const again = await pods(k, 'app=web');
  assert.deepEqual([...again.values()].map((p) => p.claim).sort(), ['data-web-0', 'data-web-1', 'data-web-2']);
  assert.deepEqual(await claims(k), pvcs);
});

test('StatefulSet partitioned rolling update, then the rest by descending ordinal; rollout status, history and undo', async () => {
  const k = await withNamespace(srv, 'e2e-sts-roll');
  await k.ok(['create', '-f', '-'], { stdin: docs(headless('db'), statefulSet('db')) });
  await rolledOut(k, 'sts/db');
  const orig = await pods(k, 'app=db');
  await k.ok(['patch', 'sts/db', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}']);
  await k.ok(['set', 'image', 'sts/db', 'nginx=nginx:1.26']);
  assert.equal(await rolledOut(k, 'sts/db'), 'partitioned roll out complete: 1 new pods have been updated...');
  let m = await pods(k, 'app=db');
  assert.deepEqual(['db-0', 'db-1', 'db-2'].map((n) => m.get(n)!.image), ['nginx:1.25', 'nginx:1.25', 'nginx:1.26']);
  assert.equal(m.get('db-0')!.uid, orig.get('db-0')!.uid, 'below the partition: untouched');
  assert.equal(m.get('db-1')!.uid, orig.get('db-1')!.uid);
  const st = await jsonpath(k, 'sts/db', '{.status.updatedReplicas} {.status.currentReplicas} {.status.readyReplicas}');
  assert.equal(st, '1 2 3');
  const [cur, upd] = (await jsonpath(k, 'sts/db', '{.status.currentRevision} {.status.updateRevision}')).split(' ');
  assert.notEqual(cur, upd);
  assert.equal(await jsonpath(k, 'pod/db-2', '{.metadata.labels.controller-revision-hash}'), upd);
  assert.equal(await jsonpath(k, 'pod/db-0', '{.metadata.labels.controller-revision-hash}'), cur);

  // Lowering the partition rolls db-1 then db-0.
  const w = watchPods(k, 'app=db');
  await w.waitFor(/\|db-2\|/, 5_000);
  await k.ok(['patch', 'sts/db', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
  assert.equal(await rolledOut(k, 'sts/db'), 'partitioned roll out complete: 3 new pods have been updated...');
  await w.stop();
  const firstDeleting = (n: string) => watchLines(w).findIndex((l) => l.name === n && l.deleting);
  assert.ok(firstDeleting('db-1') >= 0 && firstDeleting('db-0') > firstDeleting('db-1'), `db-1 before db-0:\n${w.stdout}`);
  assert.equal(firstDeleting('db-2'), -1, 'db-2 already updated');
  m = await pods(k, 'app=db');
  assert.ok([...m.values()].every((p) => p.image === 'nginx:1.26'));
  assert.equal(await jsonpath(k, 'sts/db', '{.status.currentRevision}'), upd, 'the rollout completed the revision');

  assert.match((await k.ok(['rollout', 'history', 'sts/db'])).stdout, /^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/m);
  assert.match((await k.ok(['rollout', 'history', 'sts/db', '--revision=1'])).stdout, /Image:\s+nginx:1\.25/);
  assert.match((await k.ok(['rollout', 'undo', 'sts/db'])).stdout, /statefulset.apps\/db rolled back/);
  assert.equal(await rolledOut(k, 'sts/db'), 'partitioned roll out complete: 3 new pods have been updated...');
  await eventually(async () => [...(await pods(k, 'app=db')).values()].every((p) => p.image === 'nginx:1.25' && !p.deleting), 15_000, 'back on nginx:1.25');
  assert.match((await k.ok(['rollout', 'history', 'sts/db'])).stdout, /^REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/m);
  assert.equal(await jsonpath(k, 'sts/db', '{.status.currentRevision}'), cur, 'the first revision is current again');
  const skip = await k.ok(['rollout', 'undo', 'sts/db', '--to-revision=3']);
  assert.match(skip.stdout, /skipped rollback \(current template already matches revision 3\)/);
});
