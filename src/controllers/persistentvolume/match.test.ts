// Table tests for the binder's pure rules: best-match selection, mismatch reasons, the no-match branches, and the
// objects binding writes (claimRef, annotations, statuses, unbinding).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { claimBoundTo, claimRefFor, claimWithStatus, volumeBoundTo, volumeUnbound, volumeWithPhase } from './bind.js';
import { claimClass, findBestMatch, noMatchAction, volumeMismatch } from './match.js';

interface PVOpts {
  size?: string;
  modes?: string[];
  cls?: string;
  labels?: Record<string, string>;
  phase?: string;
  claimRef?: Record<string, unknown>;
  mode?: string;
  hostnames?: string[];
  deleting?: boolean;
}
function pv(name: string, o: PVOpts = {}): KubeObject {
  const spec: Record<string, unknown> = { capacity: { storage: o.size ?? '1Gi' }, accessModes: o.modes ?? ['ReadWriteOnce'], hostPath: { path: `/data/${name}` }, volumeMode: o.mode ?? 'Filesystem' };
  if (o.cls) spec.storageClassName = o.cls;
  if (o.claimRef) spec.claimRef = o.claimRef;
  if (o.hostnames) spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: o.hostnames }] }] } };
  const md: KubeObject['metadata'] = { name, labels: o.labels, uid: `pv-${name}`, resourceVersion: '7' };
  if (o.deleting) md.deletionTimestamp = '2026-01-01T00:00:00Z';
  return { apiVersion: 'v1', kind: 'PersistentVolume', metadata: md, spec, status: { phase: o.phase ?? 'Available' } };
}
function pvc(name: string, o: { size?: string; modes?: string[]; cls?: string; selector?: unknown; volumeName?: string; mode?: string } = {}): KubeObject {
  const spec: Record<string, unknown> = { resources: { requests: { storage: o.size ?? '1Gi' } }, accessModes: o.modes ?? ['ReadWriteOnce'], volumeMode: o.mode ?? 'Filesystem' };
  if (o.cls !== undefined) spec.storageClassName = o.cls;
  if (o.selector) spec.selector = o.selector;
  if (o.volumeName) spec.volumeName = o.volumeName;
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '42' }, spec, status: { phase: 'Pending' } };
}

test('findBestMatch: the smallest Available volume that fits every rule', () => {
  const node = { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } };
  const cases: Array<[string, KubeObject, KubeObject[], string | undefined, typeof node?]> = [
    ['smallest that fits', pvc('c', { size: '2Gi' }), [pv('big', { size: '10Gi' }), pv('small', { size: '1Gi' }), pv('mid', { size: '5Gi' }), pv('exact', { size: '2Gi' })], 'exact'],
    ['quantities compare by value', pvc('c', { size: '1G' }), [pv('a', { size: '1Gi' }), pv('b', { size: '1000M' })], 'b'],
    ['none big enough', pvc('c', { size: '20Gi' }), [pv('a', { size: '10Gi' })], undefined],
    ['access modes must be a superset', pvc('c', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), [pv('rwo'), pv('both', { size: '5Gi', modes: ['ReadOnlyMany', 'ReadWriteOnce'] })], 'both'],
    ['"" class matches only classless volumes', pvc('c', { cls: '' }), [pv('fast', { cls: 'fast' }), pv('plain', { size: '3Gi' })], 'plain'],
    ['unset class also matches only classless', pvc('c'), [pv('fast', { cls: 'fast' })], undefined],
    ['class must match', pvc('c', { cls: 'fast' }), [pv('plain'), pv('fast', { size: '2Gi', cls: 'fast' })], 'fast'],
    ['selector', pvc('c', { selector: { matchLabels: { tier: 'gold' } } }), [pv('a'), pv('b', { size: '2Gi', labels: { tier: 'gold' } })], 'b'],
    ['volumeMode', pvc('c', { mode: 'Block' }), [pv('fs'), pv('blk', { size: '4Gi', mode: 'Block' })], 'blk'],
    ['claimed by another claim', pvc('c'), [pv('taken', { claimRef: { namespace: 'ns', name: 'other', uid: 'x' } }), pv('free', { size: '2Gi' })], 'free'],
    ['not yet Available', pvc('c'), [pv('new', { phase: 'Pending' }), pv('released', { phase: 'Released' })], undefined],
    ['being deleted', pvc('c'), [pv('gone', { deleting: true })], undefined],
    ['pre-bound to this claim wins over a smaller one', pvc('c'), [pv('small', { size: '1Gi' }), pv('mine', { size: '9Gi', phase: 'Pending', claimRef: { namespace: 'ns', name: 'c' } })], 'mine'],
    ['pre-bound but too small', pvc('c', { size: '5Gi' }), [pv('mine', { claimRef: { namespace: 'ns', name: 'c' } })], undefined],
    ['node affinity, with a node', pvc('c'), [pv('other', { hostnames: ['n2'] }), pv('here', { size: '2Gi', hostnames: ['n1'] })], 'here', node],
    ['node affinity ignored without a node', pvc('c'), [pv('other', { hostnames: ['n2'] })], 'other'],
  ];
  for (const [name, claim, vols, want, n] of cases) assert.equal(findBestMatch(claim, vols, n as never)?.metadata.name, want, name);
});

test('volumeMismatch: why a named volume cannot serve the claim', () => {
  const cases: Array<[KubeObject, KubeObject, string | undefined]> = [
    [pv('a'), pvc('c'), undefined],
    [pv('a', { size: '1Gi' }), pvc('c', { size: '2Gi' }), 'requested PV is too small'],
    [pv('a', { cls: 'x' }), pvc('c'), 'storageClassName does not match'],
    [pv('a', { mode: 'Block' }), pvc('c'), 'incompatible volumeMode'],
    [pv('a'), pvc('c', { modes: ['ReadWriteMany'] }), 'incompatible accessMode'],
  ];
  for (const [v, c, want] of cases) assert.equal(volumeMismatch(v, c), want);
  const beta = pvc('c');
  beta.metadata.annotations = { 'volume.beta.kubernetes.io/storage-class': 'old' };
  assert.equal(claimClass(beta), 'old');
});

test('noMatchAction: upstream branches and messages', () => {
  const cls = (provisioner: string): KubeObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, provisioner } as KubeObject);
  assert.deepEqual(noMatchAction(pvc('c'), undefined, true), { kind: 'wait-first-consumer' });
  assert.deepEqual(noMatchAction(pvc('c'), undefined, false), { kind: 'no-class' });
  assert.deepEqual(noMatchAction(pvc('c', { cls: 'fast' }), undefined, false), { kind: 'class-not-found', message: 'storageclass.storage.k8s.io "fast" not found' });
  assert.deepEqual(noMatchAction(pvc('c', { cls: 'fast' }), cls('kubernetes.io/no-provisioner'), false), { kind: 'no-plugin', message: 'no volume plugin matched name: kubernetes.io/no-provisioner' });
  const ext = noMatchAction(pvc('c', { cls: 'fast' }), cls('ebs.csi.aws.com'), false);
  assert.equal(ext.kind, 'external');
  assert.match((ext as { message: string }).message, /^Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator\./);
});

test('binding writes: claimRef with uid and resourceVersion, annotations, statuses; no-ops return undefined', () => {
  const claim = pvc('data');
  const vol = pv('pv1', { size: '5Gi', modes: ['ReadWriteOnce', 'ReadOnlyMany'] });
  const boundPV = volumeBoundTo(vol, claim)!;
  assert.deepEqual((boundPV.spec as Record<string, unknown>).claimRef, { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: 'uid-data', apiVersion: 'v1', resourceVersion: '42' });
  assert.deepEqual(claimRefFor(claim), (boundPV.spec as Record<string, unknown>).claimRef);
  assert.equal(boundPV.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
  assert.equal(volumeBoundTo(boundPV, claim), undefined);
  // Pre-bound by the user (claimRef by name): the uid is filled in, no bound-by-controller.
  const user = volumeBoundTo(pv('pv2', { claimRef: { namespace: 'ns', name: 'data' } }), claim)!;
  assert.equal((user.spec as any).claimRef.uid, 'uid-data');
  assert.equal(user.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);

  const named = claimBoundTo(claim, boundPV)!;
  assert.equal((named.spec as any).volumeName, 'pv1');
  assert.deepEqual(named.metadata.annotations, { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
  assert.equal(claimBoundTo(named, boundPV), undefined);
  const preNamed = claimBoundTo(pvc('x', { volumeName: 'pv1' }), boundPV)!;
  assert.deepEqual(preNamed.metadata.annotations, { 'pv.kubernetes.io/bind-completed': 'yes' });

  const st = claimWithStatus(named, 'Bound', boundPV)!;
  assert.deepEqual(st.status, { phase: 'Bound', accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], capacity: { storage: '5Gi' } });
  assert.equal(claimWithStatus(st, 'Bound', boundPV), undefined);
  assert.deepEqual(claimWithStatus(st, 'Lost')!.status, { phase: 'Lost' });
  assert.equal(claimWithStatus(pvc('p'), 'Pending'), undefined);

  const now = new Date('2026-02-03T04:05:06.789Z');
  const released = volumeWithPhase(boundPV, 'Released', now)!;
  assert.deepEqual(released.status, { phase: 'Released', lastPhaseTransitionTime: '2026-02-03T04:05:06Z' });
  assert.equal(volumeWithPhase(released, 'Released', now), undefined);

  const freed = volumeUnbound(boundPV);
  assert.equal((freed.spec as any).claimRef, undefined);
  assert.equal(freed.metadata.annotations, undefined);
  assert.deepEqual((volumeUnbound(user).spec as any).claimRef, { namespace: 'ns', name: 'data', kind: 'PersistentVolumeClaim', apiVersion: 'v1', resourceVersion: '42' });
});
