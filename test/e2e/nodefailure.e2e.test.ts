// End-to-end: node failure on `k8ts server --simulate-nodes 3` with short timings, seen through the real kubectl —
// a node whose kubelet dies (sim.k8ts.io/down) turns NotReady and is tainted unreachable, its pods (tolerating
// unreachable for --default-unreachable-toleration-seconds) are evicted by the taint eviction controller and the
// Deployment runs them again elsewhere; the node coming back loses its taints and ends the evicted pods (Killing).
// Then the pod garbage collector: deleting a Node object removes the pods bound to it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, podObject, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start({
    extraArgs: ['--simulate-nodes', '3', '--node-monitor-grace-period', '4s', '--default-unreachable-toleration-seconds', '3', '--pod-gc-quarantine', '2s'],
  });
});

after(async () => {
  await srv?.stop();
});

interface PodInfo {
  name: string;
  node: string;
  phase: string;
  deleting: string;
  /** deletionGracePeriodSeconds: deletionTimestamp is when the deletion was asked for plus this. */
  grace: string;
  disruption: string;
}

async function pods(k: Kubectl, selector: string): Promise<PodInfo[]> {
  const out = (
    await k.ok([
      'get',
      'pods',
      '-l',
      selector,
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}|{.spec.nodeName}|{.status.phase}|{.metadata.deletionTimestamp}|{.metadata.deletionGracePeriodSeconds}|{.status.conditions[?(@.type=="DisruptionTarget")].reason}{"\\n"}{end}',
    ])
  ).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, node, phase, deleting, grace, disruption] = l.split('|') as [string, string, string, string, string, string];
      return { name, node, phase, deleting, grace, disruption };
    });
}

async function nodeStatus(k: Kubectl, name: string): Promise<string> {
  const t = parseTable((await k.ok(['get', 'nodes'])).stdout);
  return t.rows.find((r) => r.NAME === name)?.STATUS ?? '';
}

const taints = async (k: Kubectl, name: string): Promise<string[]> =>
  (await k.ok(['get', 'node', name, '-o', 'jsonpath={range .spec.taints[*]}{.key}:{.effect}{"\\n"}{end}'])).stdout.split('\n').filter(Boolean).sort();

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
        containers: [{ name: 'main', image: 'nginx:1.25' }],
      },
    },
  },
};

test('a node whose kubelet stops: NotReady, unreachable taints, pods evicted after the toleration and run elsewhere; back again: Ready, untainted', async () => {
  const admin = srv.client();
  await eventually(async () => {
    const t = parseTable((await admin.ok(['get', 'nodes'])).stdout);
    return t.rows.length === 3 && t.rows.every((r) => r.STATUS === 'Ready');
  }, 15_000, 'three Ready nodes');
  const k = await withNamespace(srv, 'e2e-nodefail');
  await k.ok(['create', '-f', '-'], { stdin: docs(deployment) });
  await k.ok(['rollout', 'status', 'deployment/web', '--timeout=30s'], { timeoutMs: 40_000 });
  const before = await pods(k, 'app=web');
  assert.equal(before.length, 3);
  const tol = (await k.ok(['get', 'pod', before[0]!.name, '-o', 'jsonpath={.spec.tolerations[?(@.key=="node.kubernetes.io/unreachable")].tolerationSeconds}'])).stdout;
  assert.equal(tol, '3', 'DefaultTolerationSeconds admission used --default-unreachable-toleration-seconds');
  const victim = before[0]!.node;
  const onVictim = before.filter((p) => p.node === victim).map((p) => p.name);

  await admin.ok(['annotate', 'node', victim, 'sim.k8ts.io/down=true']);
  const downAt = Date.now();
  await eventually(async () => (await nodeStatus(admin, victim)) === 'NotReady', 15_000, `${victim} NotReady${srv.logTail()}`);
  const notReadyMs = Date.now() - downAt;
  assert.ok(notReadyMs >= 3000, `NotReady only after the grace period (${notReadyMs} ms)`);
  const ready = (await admin.ok(['get', 'node', victim, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}/{.status.conditions[?(@.type=="Ready")].message}'])).stdout;
  assert.equal(ready, 'Unknown/NodeStatusUnknown/Kubelet stopped posting node status.');
  await eventually(async () => (await taints(admin, victim)).join(',') === 'node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule', 10_000, `unreachable taints on ${victim}`);
  const described = (await admin.ok(['describe', 'node', victim])).stdout;
  assert.match(described, /^Taints:\s+node\.kubernetes\.io\/unreachable:NoExecute\n\s+node\.kubernetes\.io\/unreachable:NoSchedule\n/m);
  const taintedAt = Date.parse((await admin.ok(['get', 'node', victim, '-o', 'jsonpath={.spec.taints[?(@.effect=="NoExecute")].timeAdded}'])).stdout);

  // Evicted after the 3 s toleration: deletion started, DisruptionTarget from the taint manager.
  const evicted = await eventually(async () => {
    const ps = (await pods(k, 'app=web')).filter((p) => onVictim.includes(p.name));
    return ps.length === onVictim.length && ps.every((p) => p.deleting) && ps;
  }, 15_000, `pods on ${victim} evicted${srv.logTail()}`);
  for (const p of evicted) {
    assert.equal(p.disruption, 'DeletionByTaintManager');
    const after = Date.parse(p.deleting) - Number(p.grace) * 1000 - taintedAt;
    assert.ok(after >= 2000 && after <= 6000, `evicted ${after} ms after the NoExecute taint (want ~3 s)`);
  }
  const podReady = (await k.ok(['get', 'pod', onVictim[0]!, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout;
  assert.equal(podReady, 'False', 'pods on the failed node were marked not Ready');

  // The Deployment runs three pods again, all on the remaining nodes.
  await eventually(async () => {
    const live = (await pods(k, 'app=web')).filter((p) => !p.deleting);
    return live.length === 3 && live.every((p) => p.phase === 'Running' && p.node !== victim);
  }, 20_000, `three Running replacements off ${victim}`);
  const table = parseTable((await k.ok(['get', 'pods', '-o', 'wide'])).stdout);
  assert.equal(table.rows.filter((r) => r.STATUS === 'Running' && r.NODE !== victim).length, 3);
  assert.ok(table.rows.filter((r) => onVictim.includes(r.NAME!)).every((r) => r.STATUS === 'Terminating'), 'the evicted pods wait for their kubelet');

  const events = (await k.ok(['get', 'events', '-o', 'jsonpath={range .items[*]}{.reason}|{.source.component}|{.involvedObject.name}|{.message}{"\\n"}{end}'])).stdout;
  for (const name of onVictim) {
    assert.ok(events.includes(`TaintManagerEviction|taint-eviction-controller|${name}|Marking for deletion Pod ${k.namespace}/${name}\n`), events);
    assert.ok(events.includes(`NodeNotReady|node-controller|${name}|Node is not ready\n`), events);
  }
  const nodeEvents = (await admin.ok(['get', 'events', '-n', 'default', '--field-selector', `involvedObject.kind=Node,involvedObject.name=${victim}`, '-o', 'jsonpath={range .items[*]}{.reason}|{.message}{"\\n"}{end}'])).stdout;
  assert.ok(nodeEvents.includes(`NodeNotReady|Node ${victim} status is now: NodeNotReady\n`), nodeEvents);

  // The kubelet comes back: Ready, taints gone, the evicted pods stopped (Killing) and removed.
  await admin.ok(['annotate', 'node', victim, 'sim.k8ts.io/down-']);
  await eventually(async () => (await nodeStatus(admin, victim)) === 'Ready', 15_000, `${victim} Ready again`);
  await eventually(async () => (await taints(admin, victim)).length === 0, 10_000, `taints gone from ${victim}`);
  await eventually(async () => (await pods(k, 'app=web')).length === 3, 15_000, 'evicted pods removed');
  const killing = await eventually(async () => {
    const out = (await k.ok(['get', 'events', '--field-selector', `reason=Killing,involvedObject.name=${onVictim[0]}`, '-o', 'jsonpath={range .items[*]}{.source.component}|{.source.host}|{.message}{"\\n"}{end}'])).stdout;
    return out.trim() && out;
  }, 10_000, 'Killing event');
  assert.equal(killing.trim(), `kubelet|${victim}|Stopping container main`);
});

test('pod GC: deleting a Node object deletes the pods bound to it', async () => {
  const admin = srv.client();
  const k = await withNamespace(srv, 'e2e-podgc');
  const p = podObject('stray', {}) as { spec: Record<string, unknown> };
  p.spec.nodeName = 'sim-node-2';
  await k.ok(['create', '-f', '-'], { stdin: docs(p) });
  await k.ok(['wait', '--for=condition=Ready', 'pod/stray', '--timeout=20s']);
  await admin.ok(['delete', 'node', 'sim-node-2']);
  await eventually(async () => (await k.run(['get', 'pod', 'stray'])).stderr.includes('NotFound'), 15_000, `stray deleted by the pod GC${srv.logTail()}`);
  const removing = (await admin.ok(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.kind=Node,involvedObject.name=sim-node-2', '-o', 'jsonpath={range .items[*]}{.reason}|{.source.component}|{.message}{"\\n"}{end}'])).stdout;
  assert.ok(removing.includes('RemovingNode|node-controller|Node sim-node-2 event: Removing Node sim-node-2 from Controller\n'), removing);
});
