// End-to-end: the garbage collector run by `k8ts server` — background cascade, foreground deletion waiting for
// blocking dependents, orphaning, dangling and partially dangling ownerReferences — driven by the real kubectl.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, podObject, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start();
});

after(async () => {
  await srv?.stop();
});

function replicaSet(name: string): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas: 0,
      selector: { matchLabels: { rs: name } },
      template: { metadata: { labels: { rs: name } }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } },
    },
  };
}

async function uidOf(k: Kubectl, what: string): Promise<string> {
  const uid = (await k.ok(['get', what, '-o', 'jsonpath={.metadata.uid}'])).stdout;
  assert.match(uid, /^[0-9a-f-]{36}$/);
  return uid;
}

function ownedPod(name: string, owners: Array<{ name: string; uid: string; block?: boolean }>, finalizers?: string[]): Record<string, unknown> {
  const p = podObject(name) as { metadata: Record<string, unknown> };
  p.metadata.ownerReferences = owners.map((o) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.name, uid: o.uid, controller: false, blockOwnerDeletion: o.block ?? false }));
  if (finalizers) p.metadata.finalizers = finalizers;
  return p;
}

async function exists(k: Kubectl, what: string): Promise<boolean> {
  const r = await k.run(['get', what, '-o', 'name']);
  if (r.code === 0) return true;
  assert.match(r.stderr, /NotFound/, r.stderr);
  return false;
}

/** Asserts `what` is still there after `ms` (the GC had time to act on it and must not). */
async function staysFor(k: Kubectl, what: string, ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  assert.equal(await exists(k, what), true, `${what} should not have been collected${srv.logTail()}`);
}

test('background cascade: deleting the owner deletes its dependents, and only them', async () => {
  const k = await withNamespace(srv, 'e2e-gc-bg');
  await k.ok(['create', '-f', '-'], { stdin: docs(replicaSet('owner'), replicaSet('other')) });
  const owner = await uidOf(k, 'rs/owner');
  const other = await uidOf(k, 'rs/other');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(ownedPod('dep-1', [{ name: 'owner', uid: owner }]), ownedPod('dep-2', [{ name: 'owner', uid: owner }]), ownedPod('kept', [{ name: 'other', uid: other }]), podObject('free')),
  });
  assert.equal((await k.ok(['delete', 'rs', 'owner'])).stdout, 'replicaset.apps "owner" deleted\n');
  await eventually(async () => !(await exists(k, 'pod/dep-1')) && !(await exists(k, 'pod/dep-2')), 15_000, 'dependents of rs/owner to be collected');
  assert.equal(await exists(k, 'pod/kept'), true);
  assert.equal(await exists(k, 'pod/free'), true);
});

test('a dependent whose owner never existed is collected; one with a surviving owner only loses the dead reference', async () => {
  const k = await withNamespace(srv, 'e2e-gc-dangling');
  await k.ok(['create', '-f', '-'], { stdin: docs(replicaSet('alive')) });
  const alive = await uidOf(k, 'rs/alive');
  const ghost = '00000000-0000-4000-8000-000000000001';
  await k.ok(['create', '-f', '-'], {
    stdin: docs(ownedPod('orphaned', [{ name: 'ghost', uid: ghost }]), ownedPod('half', [{ name: 'ghost', uid: ghost }, { name: 'alive', uid: alive }])),
  });
  await eventually(async () => !(await exists(k, 'pod/orphaned')), 15_000, 'pod/orphaned to be collected');
  await eventually(
    async () => (await k.ok(['get', 'pod/half', '-o', 'jsonpath={.metadata.ownerReferences[*].name}'])).stdout === 'alive',
    15_000,
    'the dangling reference of pod/half to be removed',
  );
  await staysFor(k, 'pod/half', 500);
});

test('foreground deletion: the owner waits (Terminating, foregroundDeletion) until its blocking dependents are gone', async () => {
  const k = await withNamespace(srv, 'e2e-gc-fg');
  await k.ok(['create', '-f', '-'], { stdin: docs(replicaSet('owner')) });
  const owner = await uidOf(k, 'rs/owner');
  // dep-held cannot disappear until its own finalizer is removed, so the owner must stay until then.
  await k.ok(['create', '-f', '-'], {
    stdin: docs(ownedPod('dep-held', [{ name: 'owner', uid: owner, block: true }], ['example.com/hold']), ownedPod('dep-free', [{ name: 'owner', uid: owner, block: true }])),
  });
  await k.ok(['delete', 'rs', 'owner', '--cascade=foreground', '--wait=false']);
  await eventually(async () => !(await exists(k, 'pod/dep-free')), 15_000, 'pod/dep-free to be deleted');
  await eventually(
    async () => (await k.ok(['get', 'pod/dep-held', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout !== '',
    15_000,
    'pod/dep-held to be marked for deletion',
  );
  await staysFor(k, 'rs/owner', 1000);
  assert.equal((await k.ok(['get', 'rs/owner', '-o', 'jsonpath={.metadata.finalizers}'])).stdout, '["foregroundDeletion"]');
  assert.notEqual((await k.ok(['get', 'rs/owner', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout, '');

  await k.ok(['patch', 'pod/dep-held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await eventually(async () => !(await exists(k, 'rs/owner')), 15_000, 'rs/owner to go once its dependents are gone');
  assert.equal(await exists(k, 'pod/dep-held'), false);
});

test('kubectl delete --cascade=foreground waits for the dependents and the owner', async () => {
  const k = await withNamespace(srv, 'e2e-gc-fg-wait');
  await k.ok(['create', '-f', '-'], { stdin: docs(replicaSet('owner')) });
  const owner = await uidOf(k, 'rs/owner');
  await k.ok(['create', '-f', '-'], { stdin: docs(ownedPod('dep', [{ name: 'owner', uid: owner, block: true }])) });
  const r = await k.ok(['delete', 'rs', 'owner', '--cascade=foreground', '--timeout=15s']);
  assert.equal(r.stdout, 'replicaset.apps "owner" deleted\n');
  assert.equal(await exists(k, 'rs/owner'), false);
  assert.equal(await exists(k, 'pod/dep'), false);
});

test('orphan: the owner goes, its dependents stay without the reference', async () => {
  const k = await withNamespace(srv, 'e2e-gc-orphan');
  await k.ok(['create', '-f', '-'], { stdin: docs(replicaSet('owner')) });
  const owner = await uidOf(k, 'rs/owner');
  await k.ok(['create', '-f', '-'], { stdin: docs(ownedPod('dep', [{ name: 'owner', uid: owner, block: true }])) });
  const r = await k.ok(['delete', 'rs', 'owner', '--cascade=orphan', '--timeout=15s']);
  assert.equal(r.stdout, 'replicaset.apps "owner" deleted\n');
  assert.equal(await exists(k, 'rs/owner'), false);
  assert.equal((await k.ok(['get', 'pod/dep', '-o', 'jsonpath={.metadata.ownerReferences}'])).stdout, '');
  await staysFor(k, 'pod/dep', 500);
});

test('--disable-controllers: nothing collects dependents', async () => {
  const off = await Server.start({ extraArgs: ['--disable-controllers'] });
  try {
    const k = await withNamespace(off, 'e2e-gc-off');
    await k.ok(['create', '-f', '-'], { stdin: docs(replicaSet('owner')) });
    const owner = await uidOf(k, 'rs/owner');
    await k.ok(['create', '-f', '-'], { stdin: docs(ownedPod('dep', [{ name: 'owner', uid: owner }])) });
    await k.ok(['delete', 'rs', 'owner']);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await exists(k, 'pod/dep'), true);
  } finally {
    await off.stop();
  }
});
