// End-to-end: kubectl delete variants — by name, -f, -l, --all, several types, --grace-period, --force,
// --cascade=orphan, --wait=false, --ignore-not-found and the NotFound / "No resources found" messages.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, configMapObject, docs, manifest, podObject, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start();
});

after(async () => {
  await srv?.stop();
});

async function gone(k: Kubectl, kind: string, name: string, plural = `${kind}s`): Promise<void> {
  const r = await k.fail(['get', kind, name]);
  assert.equal(r.stderr, `Error from server (NotFound): ${plural} "${name}" not found\n`);
}

test('delete pod by name waits for it to disappear', async () => {
  const k = await withNamespace(srv, 'e2e-del');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('d1')) });
  const r = await k.ok(['delete', 'pod', 'd1']);
  assert.equal(r.stdout, 'pod "d1" deleted\n');
  await gone(k, 'pod', 'd1');
});

test('delete of a missing object: NotFound, or silence with --ignore-not-found', async () => {
  const k = await withNamespace(srv, 'e2e-del-nf');
  const r = await k.fail(['delete', 'pod', 'nope']);
  assert.equal(r.stderr, 'Error from server (NotFound): pods "nope" not found\n');
  const i = await k.ok(['delete', 'pod', 'nope', '--ignore-not-found']);
  assert.equal(i.stdout + i.stderr, '');
});

test('delete -f, -l, several types, --all', async () => {
  const k = await withNamespace(srv, 'e2e-del-sel');
  await k.ok(['create', '-f', manifest('pod-web.yaml')]);
  assert.equal((await k.ok(['delete', '-f', manifest('pod-web.yaml')])).stdout, 'pod "web" deleted\n');

  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      podObject('a', { labels: { grp: 'x' } }),
      podObject('b', { labels: { grp: 'x' } }),
      podObject('c', { labels: { grp: 'y' } }),
      configMapObject('cm-x', { k: 'v' }, { grp: 'x' }),
      configMapObject('cm-y', { k: 'v' }, { grp: 'y' }),
    ),
  });
  const sel = await k.ok(['delete', 'pods', '-l', 'grp=x']);
  assert.equal(sel.stdout, 'pod "a" deleted\npod "b" deleted\n');
  assert.equal((await k.ok(['get', 'pods', '-o', 'name'])).stdout, 'pod/c\n');

  const none = await k.ok(['delete', 'pods', '-l', 'grp=nothing']);
  // delete (unlike get) prints this on stdout.
  assert.equal(none.stdout, 'No resources found\n');
  assert.equal(none.stderr, '');

  const multi = await k.ok(['delete', 'pods,configmaps', '-l', 'grp=y']);
  assert.equal(multi.stdout, 'pod "c" deleted\nconfigmap "cm-y" deleted\n');

  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('p1'), podObject('p2')) });
  const all = await k.ok(['delete', 'pods', '--all']);
  assert.equal(all.stdout, 'pod "p1" deleted\npod "p2" deleted\n');
  const left = await k.ok(['get', 'pods']);
  assert.equal(left.stderr, `No resources found in ${k.namespace} namespace.\n`);
  // The configmap of the other group is untouched.
  assert.equal((await k.ok(['get', 'cm', '-l', 'grp', '-o', 'name'])).stdout, 'configmap/cm-x\n');
});

test('delete --grace-period of an unscheduled pod removes it at once', async () => {
  const k = await withNamespace(srv, 'e2e-del-grace');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('g')) });
  // Unscheduled pods have nothing to stop, so upstream deletes them at once whatever the grace period.
  assert.equal((await k.ok(['delete', 'pod', 'g', '--grace-period=5', '--timeout=10s'])).stdout, 'pod "g" deleted\n');
  await gone(k, 'pod', 'g');
});

test('delete --grace-period=0 --force', async () => {
  const k = await withNamespace(srv, 'e2e-del-force');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('f')) });
  const f = await k.ok(['delete', 'pod', 'f', '--grace-period=0', '--force']);
  assert.equal(f.stdout, 'pod "f" force deleted\n');
  assert.match(f.stderr, /^Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated\./);
  await gone(k, 'pod', 'f');
});

test('delete --wait=false returns after the DELETE', async () => {
  const k = await withNamespace(srv, 'e2e-del-nowait');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('w')) });
  assert.equal((await k.ok(['delete', 'pod', 'w', '--wait=false'])).stdout, 'pod "w" deleted\n');
  const wr = await k.run(['get', 'pod', 'w', '-o', 'jsonpath={.metadata.deletionTimestamp}']);
  if (wr.code === 0) assert.notEqual(wr.stdout, '', 'pod still present after delete but has no deletionTimestamp');
  else assert.equal(wr.stderr, 'Error from server (NotFound): pods "w" not found\n');
});

test('delete deployment with the default (background) cascade', async () => {
  const k = await withNamespace(srv, 'e2e-del-bg');
  await k.ok(['create', '-f', manifest('deployment-web.yaml')]);
  const b = await k.ok(['delete', 'deploy/web', '--timeout=10s']);
  assert.equal(b.stdout, 'deployment.apps "web" deleted\n');
  await gone(k, 'deployment', 'web', 'deployments.apps');
});

test('delete deployment --cascade=orphan', async () => {
  const k = await withNamespace(srv, 'e2e-del-orphan');
  await k.ok(['create', '-f', manifest('deployment-web.yaml')]);
  const o = await k.ok(['delete', 'deployment', 'web', '--cascade=orphan', '--timeout=10s']);
  assert.equal(o.stdout, 'deployment.apps "web" deleted\n');
  await gone(k, 'deployment', 'web', 'deployments.apps');
});

test('delete a configmap and a service by name', async () => {
  const k = await withNamespace(srv, 'e2e-del-misc');
  await k.ok(['create', 'configmap', 'cfg', '--from-literal=a=1']);
  await k.ok(['create', 'service', 'clusterip', 'svc', '--tcp=80:8080']);
  assert.equal((await k.ok(['delete', 'configmap', 'cfg'])).stdout, 'configmap "cfg" deleted\n');
  assert.equal((await k.ok(['delete', 'svc', 'svc'])).stdout, 'service "svc" deleted\n');
  await gone(k, 'configmap', 'cfg');
  await gone(k, 'service', 'svc');
});
