// End-to-end: the PV binder in `k8ts server` with the real kubectl 1.32 — a PVC binds to the smallest fitting
// hostPath PV (`get pv`/`get pvc` columns as upstream), a claim nothing fits gets the FailedBinding event, and a
// deleted claim leaves a Retain PV Released and removes a Delete PV.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, withNamespace } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start();
});

after(async () => {
  await srv?.stop();
});

const pv = (name: string, size: string, policy = 'Retain') => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: policy, hostPath: { path: `/tmp/k8ts-e2e-${name}` } },
});
const pvc = (name: string, size: string) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: size } } },
});

test('kubectl: a PVC binds to the smallest fitting PV; release keeps Retain PVs and deletes Delete PVs', async () => {
  const k = await withNamespace(srv, 'e2e-pv');
  const ns = k.namespace!;
  const admin = srv.client();
  await admin.ok(['apply', '-f', '-'], { stdin: docs(pv(`${ns}-big`, '10Gi'), pv(`${ns}-fit`, '2Gi', 'Delete'), pv(`${ns}-keep`, '1Gi')) });
  await k.ok(['apply', '-f', '-'], { stdin: docs(pvc('data', '2Gi'), pvc('small', '1Gi'), pvc('huge', '100Gi')) });

  const claims = await eventually(
    async () => {
      const t = parseTable((await k.ok(['get', 'pvc'])).stdout);
      const byName = Object.fromEntries(t.rows.map((r) => [r.NAME, r]));
      return byName.data?.STATUS === 'Bound' && byName.small?.STATUS === 'Bound' && t;
    },
    20_000,
    'claims bound',
  );
  assert.deepEqual(claims.headers, ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
  const row = (n: string) => claims.rows.find((r) => r.NAME === n)!;
  assert.equal(row('data').VOLUME, `${ns}-fit`);
  assert.equal(row('data').CAPACITY, '2Gi');
  assert.equal(row('data')['ACCESS MODES'], 'RWO');
  assert.equal(row('small').VOLUME, `${ns}-keep`);
  assert.equal(row('huge').STATUS, 'Pending');

  const pvs = parseTable((await admin.ok(['get', 'pv', `${ns}-big`, `${ns}-fit`, `${ns}-keep`])).stdout);
  const pvRow = (n: string) => pvs.rows.find((r) => r.NAME === n)!;
  assert.equal(pvRow(`${ns}-fit`).STATUS, 'Bound');
  assert.equal(pvRow(`${ns}-fit`).CLAIM, `${ns}/data`);
  assert.equal(pvRow(`${ns}-big`).STATUS, 'Available');
  const ann = JSON.parse((await k.ok(['get', 'pvc', 'data', '-o', 'jsonpath={.metadata.annotations}'])).stdout) as Record<string, string>;
  assert.equal(ann['pv.kubernetes.io/bind-completed'], 'yes');
  assert.equal(ann['pv.kubernetes.io/bound-by-controller'], 'yes');

  await eventually(
    async () => (await k.ok(['get', 'events', '--field-selector', 'involvedObject.name=huge', '-o', 'jsonpath={.items[*].message}'])).stdout.includes('no persistent volumes available for this claim and no storage class is set'),
    15_000,
    'FailedBinding event',
  );

  await k.ok(['delete', 'pvc', 'data', 'small']);
  await eventually(async () => (await admin.ok(['get', 'pv', `${ns}-keep`, '-o', 'jsonpath={.status.phase}'])).stdout === 'Released', 15_000, 'Retain PV Released');
  await eventually(async () => (await admin.run(['get', 'pv', `${ns}-fit`])).code !== 0, 15_000, 'Delete PV removed');
  await admin.ok(['delete', 'pv', `${ns}-big`, `${ns}-keep`]);
});
