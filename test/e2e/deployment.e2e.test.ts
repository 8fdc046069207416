// End-to-end: the Deployment, ReplicaSet and ReplicationController controllers run by `k8ts server` on
// simulated nodes (with the scheduler), driven by the real kubectl 1.32 — create/scale/self-heal, rolling update
// bounds watched live, rollout status/history/undo --to-revision, pause/resume, restart, Recreate, RCs.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start({ extraArgs: ['--simulate-nodes', '2'] });
});

after(async () => {
  await srv?.stop();
});

interface RS {
  metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }> };
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: { containers: Array<{ image: string }> } } };
  status: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
}

async function replicaSets(k: Kubectl, selector = 'app=web'): Promise<RS[]> {
  const r = await k.ok(['get', 'rs', '-l', selector, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: RS[] }).items;
}

async function podNames(k: Kubectl, selector = 'app=web'): Promise<string[]> {
  const r = await k.ok(['get', 'pods', '-l', selector, '-o', 'jsonpath={range .items[*]}{.metadata.name}{" "}{.metadata.deletionTimestamp}{"\\n"}{end}']);
  // Terminating pods (deletionTimestamp set) are on their way out; count the live ones.
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((f) => f[0] && !f[1])
    .map((f) => f[0]!);
}

const revision = (rs: RS) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'];

async function rolledOut(k: Kubectl, name = 'web'): Promise<void> {
  const r = await k.ok(['rollout', 'status', `deployment/${name}`, '--timeout=60s'], { timeoutMs: 70_000 });
  assert.match(r.stdout, new RegExp(`deployment "${name}" successfully rolled out\\n$`), r.stdout);
}

test('create deployment → RS <name>-<pod-template-hash> with 3 running pods; get rs columns; scale; a deleted pod is replaced', async () => {
  const k = await withNamespace(srv, 'e2e-deploy');
  await k.ok(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=3']);
  await rolledOut(k);
  const [rs, ...more] = await replicaSets(k);
  assert.ok(rs && more.length === 0, 'exactly one ReplicaSet');
  const hash = rs.metadata.labels?.['pod-template-hash'];
  assert.match(hash ?? '', /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
  assert.equal(rs.metadata.name, `web-${hash}`);
  assert.deepEqual(rs.spec.selector.matchLabels, { app: 'web', 'pod-template-hash': hash });
  assert.equal(rs.spec.template.metadata.labels['pod-template-hash'], hash);
  const uid = (await k.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.uid}'])).stdout;
  assert.deepEqual(rs.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid, o.controller, o.blockOwnerDeletion]), [['Deployment', 'web', uid, true, true]]);
  assert.equal(revision(rs), '1');
  assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
  assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '4');

  const pods = await podNames(k);
  assert.equal(pods.length, 3);
  for (const p of pods) assert.match(p, new RegExp(`^${rs.metadata.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));

  const t = parseTable((await k.ok(['get', 'rs'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
  assert.deepEqual([t.rows[0]!.NAME, t.rows[0]!.DESIRED, t.rows[0]!.CURRENT, t.rows[0]!.READY], [rs.metadata.name, '3', '3', '3']);
  const dt = parseTable((await k.ok(['get', 'deploy', 'web'])).stdout);
  assert.deepEqual([dt.rows[0]!.READY, dt.rows[0]!['UP-TO-DATE'], dt.rows[0]!.AVAILABLE], ['3/3', '3', '3']);

  assert.match((await k.ok(['scale', 'deployment/web', '--replicas=5'])).stdout, /deployment.apps\/web scaled/);
  await eventually(async () => (await podNames(k)).length === 5, 20_000, '5 pods');
  await rolledOut(k);
  await k.ok(['scale', 'deployment/web', '--replicas=2']);
  await eventually(async () => (await podNames(k)).length === 2, 20_000, '2 pods');
  assert.equal((await replicaSets(k)).length, 1, 'scaling makes no new ReplicaSet');

  const [victim, survivor] = await podNames(k);
  await k.ok(['delete', 'pod', victim!, '--wait=false']);
  const healed = await eventually(
    async () => {
      const now = await podNames(k);
      return now.length === 2 && !now.includes(victim!) && now.includes(survivor!) ? now : undefined;
    },
    20_000,
    'a replacement pod',
  );
  const replacement = healed.find((p) => p !== survivor)!;
  await rolledOut(k);
  const ev = await eventually(async () => {
    const r = await k.ok(['get', 'events', '--field-selector', `involvedObject.name=${rs.metadata.name}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    return r.stdout.includes(`SuccessfulCreate: Created pod: ${replacement}`) && r.stdout.includes('SuccessfulDelete: Deleted pod: ') ? r.stdout : undefined;
  }, 10_000, 'RS events');
  assert.match(ev, /SuccessfulDelete: Deleted pod: /);
  const dev = (await k.ok(['get', 'events', '--field-selector', 'involvedObject.kind=Deployment', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}'])).stdout;
  assert.match(dev, new RegExp(`^Scaled up replica set ${rs.metadata.name} from 0 to 3$`, 'm'));
  assert.match(dev, new RegExp(`^Scaled up replica set ${rs.metadata.name} from 3 to 5$`, 'm'));
  assert.match(dev, new RegExp(`^Scaled down replica set ${rs.metadata.name} from 5 to 2$`, 'm'));
});

test('rolling update watched live stays within maxSurge/maxUnavailable; history; undo --to-revision=1 reuses the first RS as revision 3', async () => {
  const k = await withNamespace(srv, 'e2e-rollout');
  const replicas = 4;
  const dep = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } },
    },
  };
  await k.ok(['create', '-f', '-'], { stdin: docs(dep) });
  await rolledOut(k);
  const [first] = await replicaSets(k);

  // Watch every ReplicaSet change during the rollout: desired pods never above replicas+1, available never below replicas-1.
  const w = k.spawn(['get', 'rs', '-l', 'app=web', '-w', '-o', 'jsonpath={.metadata.name} {.spec.replicas} {.status.availableReplicas}{"\\n"}']);
  await w.waitFor(new RegExp(`${first!.metadata.name} 4 4`));
  await k.ok(['set', 'image', 'deployment/web', 'nginx=nginx:1.26']);
  await rolledOut(k);
  const newName = await eventually(async () => (await replicaSets(k)).find((rs) => rs.metadata.name !== first!.metadata.name && rs.status.availableReplicas === replicas)?.metadata.name, 20_000, 'new RS');
  await w.waitFor(new RegExp(`${newName} 4 4`));
  await w.stop();
  const state = new Map<string, { spec: number; avail: number }>();
  let peak = 0;
  let trough = Infinity;
  for (const line of w.stdout.split('\n')) {
    const [name, spec, avail] = line.trim().split(' ');
    if (!name || spec === undefined) continue;
    state.set(name, { spec: Number(spec), avail: Number(avail || 0) });
    const total = [...state.values()].reduce((n, s) => n + s.spec, 0);
    const available = [...state.values()].reduce((n, s) => n + Math.min(s.spec, s.avail), 0);
    peak = Math.max(peak, total);
    trough = Math.min(trough, available);
    assert.ok(total <= replicas + 1, `desired ${total} > ${replicas}+1 at "${line}"\n${w.stdout}`);
    assert.ok(available >= replicas - 1, `available ${available} < ${replicas}-1 at "${line}"\n${w.stdout}`);
  }
  assert.equal(peak, replicas + 1, `the rollout used its surge\n${w.stdout}`);

  const hist = (await k.ok(['rollout', 'history', 'deployment/web'])).stdout;
  assert.match(hist, /^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/m);
  const rev1 = (await k.ok(['rollout', 'history', 'deployment/web', '--revision=1'])).stdout;
  assert.match(rev1, /Image:\s+nginx:1\.25/);

  assert.match((await k.ok(['rollout', 'undo', 'deployment/web', '--to-revision=1'])).stdout, /deployment.apps\/web rolled back/);
  await rolledOut(k);
  const after = await eventually(async () => {
    const rss = await replicaSets(k);
    const reused = rss.find((rs) => rs.metadata.name === first!.metadata.name);
    return rss.length === 2 && reused?.spec.replicas === replicas && revision(reused) === '3' ? rss : undefined;
  }, 20_000, 'the first RS back at revision 3');
  const reused = after.find((rs) => rs.metadata.name === first!.metadata.name)!;
  assert.equal(reused.metadata.uid, first!.metadata.uid, 'the same ReplicaSet object');
  assert.equal(reused.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
  assert.equal((await k.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}'])).stdout, '3');
  assert.match((await k.ok(['rollout', 'history', 'deployment/web'])).stdout, /^REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/m);
  const skip = await k.ok(['rollout', 'undo', 'deployment/web', '--to-revision=3']);
  assert.match(skip.stdout + skip.stderr, /skipped rollback \(current template already matches revision 3\)/);
});

test('pause holds a template change back (no new RS) until resume; rollout restart makes a new RS', async () => {
  const k = await withNamespace(srv, 'e2e-pause');
  await k.ok(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=2']);
  await rolledOut(k);
  assert.match((await k.ok(['rollout', 'pause', 'deployment/web'])).stdout, /deployment.apps\/web paused/);
  await k.ok(['set', 'image', 'deployment/web', 'nginx=nginx:1.26']);
  // The controller has seen the change (observedGeneration caught up) and still made no ReplicaSet.
  await eventually(async () => {
    const r = await k.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.generation} {.status.observedGeneration} {.status.conditions[?(@.type=="Progressing")].reason}']);
    const [gen, seen, reason] = r.stdout.split(' ');
    return gen === seen && reason === 'DeploymentPaused';
  }, 15_000, 'paused deployment observed');
  assert.equal((await replicaSets(k)).length, 1);
  const undo = await k.run(['rollout', 'undo', 'deployment/web', '--to-revision=1']);
  assert.notEqual(undo.code, 0);
  assert.match(undo.stderr, /you cannot rollback a paused deployment; resume it first/);

  assert.match((await k.ok(['rollout', 'resume', 'deployment/web'])).stdout, /deployment.apps\/web resumed/);
  await rolledOut(k);
  let rss = await replicaSets(k);
  assert.equal(rss.length, 2);
  const active = rss.find((rs) => rs.spec.replicas === 2)!;
  assert.equal(active.spec.template.spec.containers[0]!.image, 'nginx:1.26');
  assert.equal(revision(active), '2');

  assert.match((await k.ok(['rollout', 'restart', 'deployment/web'])).stdout, /deployment.apps\/web restarted/);
  await rolledOut(k);
  rss = await eventually(async () => {
    const all = await replicaSets(k);
    return all.length === 3 && all.filter((rs) => rs.spec.replicas > 0).length === 1 ? all : undefined;
  }, 20_000, 'a third RS, the only active one');
  const restarted = rss.find((rs) => rs.spec.replicas === 2)!;
  assert.ok(restarted.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], 'template carries restartedAt');
  assert.equal(revision(restarted), '3');
  const status = (await k.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}/{.status.conditions[?(@.type=="Available")].reason}'])).stdout;
  assert.equal(status, 'NewReplicaSetAvailable/MinimumReplicasAvailable');
});

test('Recreate: the old RS is at 0 before the new one scales up', async () => {
  const k = await withNamespace(srv, 'e2e-recreate');
  const dep = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'Recreate' },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } },
    },
  };
  await k.ok(['create', '-f', '-'], { stdin: docs(dep) });
  await rolledOut(k);
  const w = k.spawn(['get', 'rs', '-l', 'app=web', '-w', '-o', 'jsonpath={.metadata.name} {.spec.replicas}{"\\n"}']);
  await w.waitFor(/ 2\n/);
  await k.ok(['set', 'image', 'deployment/web', 'nginx=nginx:1.26']);
  await rolledOut(k);
  await eventually(async () => (await replicaSets(k)).length === 2, 10_000, 'two RSs');
  const rss = await replicaSets(k);
  const fresh = rss.find((rs) => rs.spec.template.spec.containers[0]!.image === 'nginx:1.26')!;
  await w.waitFor(new RegExp(`${fresh.metadata.name} 2\\n`));
  await w.stop();
  const state = new Map<string, number>();
  for (const line of w.stdout.split('\n')) {
    const [name, spec] = line.trim().split(' ');
    if (!name) continue;
    state.set(name, Number(spec));
    assert.ok([...state.values()].filter((n) => n > 0).length <= 1, `two RSs with pods at once at "${line}"\n${w.stdout}`);
  }
});

test('ReplicationController keeps its replicas and reports them in get rc', async () => {
  const k = await withNamespace(srv, 'e2e-rc');
  const rc = {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'legacy' },
    spec: { replicas: 2, selector: { app: 'legacy' }, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } } },
  };
  await k.ok(['create', '-f', '-'], { stdin: docs(rc) });
  await eventually(async () => {
    const t = parseTable((await k.ok(['get', 'rc', 'legacy'])).stdout);
    return t.rows[0]?.DESIRED === '2' && t.rows[0]?.CURRENT === '2' && t.rows[0]?.READY === '2';
  }, 20_000, 'rc 2/2/2');
  const pods = await podNames(k, 'app=legacy');
  assert.equal(pods.length, 2);
  for (const p of pods) assert.match(p, /^legacy-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  await k.ok(['scale', 'rc', 'legacy', '--replicas=1']);
  await eventually(async () => (await podNames(k, 'app=legacy')).length === 1, 20_000, '1 pod');
});
