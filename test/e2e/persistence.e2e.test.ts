// End-to-end: restart persistence — objects, uids and resourceVersions survive a clean stop and a crash (SIGKILL)
// of the server; the kubeconfig (CA and admin client certificate) written on first start keeps working; revisions
// keep growing after a restart and watches work on the restored state.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Server, configMapObject, docs, manifest, podObject, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start();
});

after(async () => {
  await srv?.stop();
});

async function getJson(k: Kubectl, ...what: string[]): Promise<any> {
  return JSON.parse((await k.ok(['get', ...what, '-o', 'json'])).stdout);
}

test('objects and the original kubeconfig survive a clean restart; revisions keep growing', async () => {
  const k = await withNamespace(srv, 'e2e-persist');
  await k.ok(['create', '-f', '-'], { stdin: docs(configMapObject('cfg', { a: '1' }), podObject('p', { labels: { app: 'p' } })) });
  await k.ok(['create', '-f', manifest('deployment-web.yaml')]);
  await k.ok(['create', 'secret', 'generic', 's', '--from-literal=pw=hunter2']);
  await k.ok(['label', 'pod', 'p', 'extra=yes']);
  const before1 = {
    cm: await getJson(k, 'cm', 'cfg'),
    pod: await getJson(k, 'pod', 'p'),
    dep: await getJson(k, 'deployment', 'web'),
  };
  const listRv = Number((await getJson(k, 'pods')).metadata?.resourceVersion ?? before1.pod.metadata.resourceVersion);

  // Keep a private copy of the kubeconfig as first written: it must still work after the restart.
  const saved = path.join(srv.tmpDir, 'kubeconfig-before-restart.yaml');
  fs.copyFileSync(srv.kubeconfig, saved);

  await srv.restart();

  const old = srv.client({ namespace: k.namespace!, kubeconfig: saved });
  const cm = await getJson(old, 'cm', 'cfg');
  assert.deepEqual(cm.data, { a: '1' });
  assert.equal(cm.metadata.uid, before1.cm.metadata.uid);
  assert.equal(cm.metadata.resourceVersion, before1.cm.metadata.resourceVersion);
  assert.equal(cm.metadata.creationTimestamp, before1.cm.metadata.creationTimestamp);
  const pod = await getJson(old, 'pod', 'p');
  assert.deepEqual(pod.metadata.labels, { app: 'p', extra: 'yes' });
  assert.equal(pod.metadata.uid, before1.pod.metadata.uid);
  const dep = await getJson(old, 'deployment', 'web');
  assert.equal(dep.metadata.uid, before1.dep.metadata.uid);
  assert.equal(dep.spec.replicas, 2);
  assert.equal(
    (await old.ok(['get', 'secret', 's', '-o', 'jsonpath={.data.pw}'])).stdout,
    Buffer.from('hunter2').toString('base64'),
  );

  // New writes get revisions above everything seen before the restart.
  await old.ok(['create', 'configmap', 'after', '--from-literal=b=2']);
  const after1 = await getJson(old, 'cm', 'after');
  assert.ok(
    Number(after1.metadata.resourceVersion) > Number(before1.pod.metadata.resourceVersion) &&
      Number(after1.metadata.resourceVersion) > listRv,
    `resourceVersion went backwards: ${after1.metadata.resourceVersion} after ${before1.pod.metadata.resourceVersion}`,
  );
  // Updates still enforce the stored resourceVersion.
  const stale = configMapObject('cfg', { a: '2' });
  (stale.metadata as Record<string, unknown>).resourceVersion = String(Number(before1.cm.metadata.resourceVersion) - 1);
  const c = await old.fail(['replace', '-f', '-'], { stdin: docs(stale) });
  assert.match(c.stderr, /^Error from server \(Conflict\): /);
});

test('get -w after a restart lists pre-restart objects and sees new changes', async () => {
  const k = await withNamespace(srv, 'e2e-persist-watch');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('w')) });
  await srv.restart();
  const k2 = srv.client({ namespace: k.namespace! });
  const w = k2.spawn(['get', 'pods', '-w', '--output-watch-events']);
  try {
    await w.waitFor(/^ADDED\s+w\s/m);
    await k2.ok(['label', 'pod', 'w', 'after=restart']);
    await w.waitFor(/^MODIFIED\s+w\s/m);
  } finally {
    await w.stop();
  }
});

test('acknowledged writes survive a crash (SIGKILL)', async () => {
  const k = await withNamespace(srv, 'e2e-crash');
  const names = Array.from({ length: 5 }, (_, i) => `c${i}`);
  await k.ok(['create', '-f', '-'], { stdin: docs(...names.map((n) => configMapObject(n, { n }))) });
  await k.ok(['label', 'cm', 'c4', 'last=write']);
  await srv.restart('SIGKILL');
  const k2 = srv.client({ namespace: k.namespace! });
  assert.equal(
    (await k2.ok(['get', 'cm', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout
      .split(' ')
      .filter((n) => names.includes(n))
      .join(' '),
    names.join(' '),
  );
  assert.equal((await k2.ok(['get', 'cm', 'c4', '-o', 'jsonpath={.metadata.labels.last}'])).stdout, 'write');
});
