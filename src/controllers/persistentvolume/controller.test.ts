// PV binder on the fake client: binding to the smallest fit with upstream's writes, pre-bound claims and volumes,
// upstream's events when nothing fits (no class, missing class, in-tree and external provisioners), delayed binding,
// release and reclaim (Retain, Delete), lost claims, and StatefulSet claims bound while both controllers run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { PODS, STATEFULSETS } from '../../client/resources.js';
import { StatefulSetController } from '../statefulset/controller.js';
import { PERSISTENTVOLUMES, PersistentVolumeController, PVCS } from './controller.js';

function pv(name: string, o: { size?: string; cls?: string; policy?: string; claimRef?: Record<string, unknown>; hostnames?: string[]; phase?: string } = {}): KubeObject {
  const spec: Record<string, unknown> = { capacity: { storage: o.size ?? '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/data/${name}`, type: '' }, persistentVolumeReclaimPolicy: o.policy ?? 'Retain', volumeMode: 'Filesystem' };
  if (o.cls) spec.storageClassName = o.cls;
  if (o.claimRef) spec.claimRef = o.claimRef;
  if (o.hostnames) spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: o.hostnames }] }] } };
  // As the API server creates them: Pending until the binder makes them Available.
  return { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec, status: { phase: o.phase ?? 'Pending' } };
}

function pvc(name: string, o: { size?: string; cls?: string; volumeName?: string } = {}): KubeObject {
  const spec: Record<string, unknown> = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: o.size ?? '1Gi' } }, volumeMode: 'Filesystem' };
  if (o.cls !== undefined) spec.storageClassName = o.cls;
  if (o.volumeName) spec.volumeName = o.volumeName;
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'ns' }, spec, status: { phase: 'Pending' } };
}

async function until(what: string, fn: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function running(c: FakeClient, fn: (ctl: PersistentVolumeController) => Promise<void>): Promise<void> {
  const ctl = new PersistentVolumeController(c, { resyncMs: 0 });
  const done = ctl.run();
  try {
    await fn(ctl);
  } finally {
    await ctl.stop();
    await done;
  }
}

const claim = (c: FakeClient, name: string) => c.peek('persistentvolumeclaims', 'ns', name);
const vol = (c: FakeClient, name: string) => c.peek('persistentvolumes', undefined, name);
const phase = (o: KubeObject | undefined) => (o?.status as { phase?: string } | undefined)?.phase;
const events = (c: FakeClient, obj: string) =>
  c
    .all('events')
    .filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === obj)
    .map((e) => `${(e as { type?: string }).type} ${(e as { reason?: string }).reason} ${(e as { message?: string }).message}`);

test('a Pending claim binds to the smallest Available PV that fits, with upstream’s writes', async () => {
  const c = new FakeClient();
  c.seed('persistentvolumes', pv('big', { size: '10Gi' }));
  c.seed('persistentvolumes', pv('tiny', { size: '500Mi' }));
  c.seed('persistentvolumes', pv('fit', { size: '2Gi' }));
  c.seed('persistentvolumes', pv('classy', { size: '1Gi', cls: 'fast' }));
  const created = c.seed('persistentvolumeclaims', pvc('data', { size: '1Gi' }));
  await running(c, async () => {
    await until('claim bound', () => phase(claim(c, 'data')) === 'Bound');
    await until('every free PV Available', () => ['big', 'tiny', 'classy'].every((n) => phase(vol(c, n)) === 'Available'));
    const v = vol(c, 'fit')!;
    const cl = claim(c, 'data')!;
    assert.equal(phase(v), 'Bound');
    assert.deepEqual((v.spec as any).claimRef, { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: created.metadata.uid, apiVersion: 'v1', resourceVersion: (v.spec as any).claimRef.resourceVersion });
    assert.ok((v.spec as any).claimRef.resourceVersion);
    assert.equal(v.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.match((v.status as any).lastPhaseTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal((cl.spec as any).volumeName, 'fit');
    assert.deepEqual(cl.metadata.annotations, { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    assert.deepEqual(cl.status, { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' } });
    // A second claim gets the next smallest that fits; the bound one is not offered again.
    c.seed('persistentvolumeclaims', pvc('more', { size: '1Gi' }));
    await until('second claim bound', () => phase(claim(c, 'more')) === 'Bound');
    assert.equal((claim(c, 'more')!.spec as any).volumeName, 'big');
  });
});

test('nothing fits: upstream events for no class, a missing class, an in-tree and an external provisioner', async () => {
  const c = new FakeClient();
  c.seed('storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'Immediate' } as KubeObject);
  c.seed('storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'csi' }, provisioner: 'csi.example.com', volumeBindingMode: 'Immediate' } as KubeObject);
  c.seed('persistentvolumeclaims', pvc('plain', { size: '5Gi' }));
  c.seed('persistentvolumeclaims', pvc('ghost', { cls: 'nope' }));
  c.seed('persistentvolumeclaims', pvc('intree', { cls: 'local' }));
  c.seed('persistentvolumeclaims', pvc('ext', { cls: 'csi' }));
  c.seed('persistentvolumes', pv('small', { size: '1Gi' }));
  await running(c, async (ctl) => {
    await until('events', () => ['plain', 'ghost', 'intree', 'ext'].every((n) => events(c, n).length > 0));
    await ctl.stop();
    assert.deepEqual(events(c, 'plain'), ['Normal FailedBinding no persistent volumes available for this claim and no storage class is set']);
    assert.deepEqual(events(c, 'ghost'), ['Warning ProvisioningFailed storageclass.storage.k8s.io "nope" not found']);
    assert.deepEqual(events(c, 'intree'), ['Warning ProvisioningFailed no volume plugin matched name: kubernetes.io/no-provisioner']);
    assert.deepEqual(events(c, 'ext'), [
      "Normal ExternalProvisioning Waiting for a volume to be created either by the external provisioner 'csi.example.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
    ]);
    const ann = claim(c, 'ext')!.metadata.annotations!;
    assert.equal(ann['volume.kubernetes.io/storage-provisioner'], 'csi.example.com');
    assert.equal(ann['volume.beta.kubernetes.io/storage-provisioner'], 'csi.example.com');
    for (const n of ['plain', 'ghost', 'intree', 'ext']) assert.equal(phase(claim(c, n)), 'Pending');
  });
});

test('a PV added later binds a waiting claim', async () => {
  const c = new FakeClient();
  c.seed('persistentvolumeclaims', pvc('wait', { size: '3Gi' }));
  await running(c, async () => {
    await until('FailedBinding', () => events(c, 'wait').length > 0);
    await c.create(PERSISTENTVOLUMES, undefined, pv('late', { size: '3Gi' }));
    await until('bound', () => phase(claim(c, 'wait')) === 'Bound');
    assert.equal((claim(c, 'wait')!.spec as any).volumeName, 'late');
  });
});

test('pre-bound: a claim naming a PV binds to it (or reports the mismatch); a PV naming a claim gets it', async () => {
  const c = new FakeClient();
  c.seed('persistentvolumes', pv('named', { size: '1Gi' }));
  c.seed('persistentvolumes', pv('smaller', { size: '1Gi' }));
  c.seed('persistentvolumes', pv('reserved', { size: '50Gi', claimRef: { namespace: 'ns', name: 'vip' } }));
  c.seed('persistentvolumeclaims', pvc('wants-named', { volumeName: 'named' }));
  c.seed('persistentvolumeclaims', pvc('too-big', { size: '5Gi', volumeName: 'smaller' }));
  c.seed('persistentvolumeclaims', pvc('vip'));
  await running(c, async () => {
    await until('bound', () => phase(claim(c, 'wants-named')) === 'Bound' && phase(claim(c, 'vip')) === 'Bound');
    await until('mismatch event', () => events(c, 'too-big').length > 0);
    const named = claim(c, 'wants-named')!;
    assert.deepEqual(named.metadata.annotations, { 'pv.kubernetes.io/bind-completed': 'yes' });
    assert.equal(vol(c, 'named')!.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal((claim(c, 'vip')!.spec as any).volumeName, 'reserved');
    assert.equal(vol(c, 'reserved')!.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
    assert.equal((vol(c, 'reserved')!.spec as any).claimRef.uid, claim(c, 'vip')!.metadata.uid);
    assert.equal(events(c, 'too-big')[0], 'Warning VolumeMismatch Cannot bind to requested volume "smaller": requested PV is too small');
    assert.equal(phase(claim(c, 'too-big')), 'Pending');
  });
});

test('a deleted claim releases its PV: Retain keeps it Released, Delete removes the PV object', async () => {
  const c = new FakeClient();
  c.seed('persistentvolumes', pv('keep', { size: '1Gi' }));
  c.seed('persistentvolumes', pv('drop', { size: '2Gi', policy: 'Delete' }));
  c.seed('persistentvolumeclaims', pvc('a', { volumeName: 'keep' }));
  c.seed('persistentvolumeclaims', pvc('b', { volumeName: 'drop' }));
  await running(c, async (ctl) => {
    await until('bound', () => phase(claim(c, 'a')) === 'Bound' && phase(claim(c, 'b')) === 'Bound');
    await c.delete(PVCS, 'ns', 'a');
    await c.delete(PVCS, 'ns', 'b');
    await until('released and deleted', () => phase(vol(c, 'keep')) === 'Released' && vol(c, 'drop') === undefined);
    assert.ok(c.actionsOf('delete').some((x) => x.resource === 'persistentvolumes' && x.name === 'drop'));
    // A new claim of the same name is a different claim: the Released PV is not handed to it.
    const again = c.seed('persistentvolumeclaims', pvc('a', { volumeName: 'keep' }));
    await until('informer has the new claim', () => ctl.claims.get('ns/a')?.metadata.uid === again.metadata.uid);
    await ctl.sync('claim:ns/a');
    await ctl.sync('volume:keep');
    assert.equal(phase(vol(c, 'keep')), 'Released');
    assert.equal(phase(claim(c, 'a')), 'Pending');
    assert.equal((vol(c, 'keep')!.spec as any).claimRef.uid === again.metadata.uid, false);
  });
});

test('a bound claim whose PV is deleted is Lost, with upstream’s event', async () => {
  const c = new FakeClient();
  c.seed('persistentvolumes', pv('v'));
  c.seed('persistentvolumeclaims', pvc('data'));
  await running(c, async () => {
    await until('bound', () => phase(claim(c, 'data')) === 'Bound');
    await c.delete(PERSISTENTVOLUMES, undefined, 'v');
    await until('lost', () => phase(claim(c, 'data')) === 'Lost');
    await until('event', () => events(c, 'data').length > 0);
    assert.deepEqual(events(c, 'data'), ['Warning ClaimLost Bound claim has lost its PersistentVolume. Data on the volume is lost!']);
  });
});

test('WaitForFirstConsumer: the claim waits for a pod, then binds to a PV whose node affinity admits the pod’s node', async () => {
  const c = new FakeClient();
  c.seed('storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' } as KubeObject);
  c.seed('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } });
  c.seed('persistentvolumes', pv('on-n2', { cls: 'local', hostnames: ['n2'] }));
  c.seed('persistentvolumes', pv('on-n1', { cls: 'local', size: '5Gi', hostnames: ['n1'] }));
  c.seed('persistentvolumeclaims', pvc('data', { cls: 'local' }));
  await running(c, async () => {
    await until('waiting event', () => events(c, 'data').length > 0);
    assert.deepEqual(events(c, 'data'), ['Normal WaitForFirstConsumer waiting for first consumer to be created before binding']);
    assert.equal(phase(claim(c, 'data')), 'Pending');
    await c.create(PODS, 'ns', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user', namespace: 'ns' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] } });
    await until('bound', () => phase(claim(c, 'data')) === 'Bound');
    assert.equal((claim(c, 'data')!.spec as any).volumeName, 'on-n1');
  });
});

test('StatefulSet claims from volumeClaimTemplates are bound while both controllers run', async () => {
  const c = new FakeClient();
  for (let i = 0; i < 3; i++) c.seed('persistentvolumes', pv(`pv-${i}`, { size: `${i + 1}Gi` }));
  const sts = new StatefulSetController(c);
  const stsDone = sts.run();
  try {
    await running(c, async () => {
      await c.create(STATEFULSETS, 'ns', {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db', namespace: 'ns', generation: 1 },
        spec: {
          replicas: 3,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          podManagementPolicy: 'Parallel',
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
          revisionHistoryLimit: 10,
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          template: { metadata: { labels: { app: 'db' } }, spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'db:1' }] } },
          volumeClaimTemplates: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' } }],
        },
      });
      const names = ['data-db-0', 'data-db-1', 'data-db-2'];
      await until('claims bound', () => names.every((n) => phase(claim(c, n)) === 'Bound'), 5000);
      await until('pods created', () => c.all('pods').length === 3);
      const used = names.map((n) => (claim(c, n)!.spec as any).volumeName).sort();
      assert.deepEqual(used, ['pv-0', 'pv-1', 'pv-2']);
      // The claims keep the StatefulSet's labels next to the binder's annotations.
      for (const n of names) {
        const cl = claim(c, n)!;
        assert.equal(cl.metadata.labels?.app, 'db');
        assert.equal(cl.metadata.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
      }
    });
  } finally {
    await sts.stop();
    await stsDone;
  }
});
