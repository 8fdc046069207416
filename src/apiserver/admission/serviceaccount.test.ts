// ServiceAccount admission: pods default to `default`; a named account must exist; the kube-api-access volume.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../api/kinds/index.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import { Admission } from '../admission.js';
import { ResourceStore, type RequestContext } from '../registry/store.js';
import { MemStore } from '../testing/memstore.js';
import { apiAccessVolume, mountServiceAccountToken, randomSuffix, serviceAccountAdmission } from './serviceaccount.js';

const kind = (group: string, plural: string): KindDef => allKinds().find((k) => k.group === group && k.plural === plural)!;
const ctx = (): RequestContext => ({ user: { username: 'admin', groups: ['system:masters'] }, dryRun: false, warnings: [] });
const pod = (name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});

test('pods get default; a missing named account is refused with upstream wording; mirror pods are exempt', async () => {
  const rs = new ResourceStore(new MemStore(), new Admission([serviceAccountAdmission(kind)]));
  const p = await rs.create(kind('', 'pods'), 'ns', pod('a'), ctx());
  assert.equal((p.spec as { serviceAccountName?: string }).serviceAccountName, 'default');
  await assert.rejects(rs.create(kind('', 'pods'), 'ns', pod('b', { serviceAccountName: 'builder' }), ctx()), (e: Error & { code?: number }) => {
    assert.equal(e.code, 403);
    assert.equal(e.message, 'pods "b" is forbidden: error looking up service account ns/builder: serviceaccount "builder" not found');
    return true;
  });
  await rs.create(kind('', 'serviceaccounts'), 'ns', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder' } }, ctx());
  await rs.create(kind('', 'pods'), 'ns', pod('b', { serviceAccountName: 'builder' }), ctx());
  await rs.create(kind('', 'pods'), 'ns', pod('m', { serviceAccountName: 'nobody', nodeName: 'n1' }, { 'kubernetes.io/config.mirror': 'x' }), ctx());
});

const MOUNT = { name: 'kube-api-access-abcde', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };

test('mountServiceAccountToken: volume and mounts as upstream', () => {
  const cases: Array<{ name: string; spec: any; volumes: string[]; mounts: Array<string[]> }> = [
    { name: 'every container and init container', spec: { initContainers: [{ name: 'i' }], containers: [{ name: 'a' }, { name: 'b' }] }, volumes: ['kube-api-access-abcde'], mounts: [['kube-api-access-abcde'], ['kube-api-access-abcde'], ['kube-api-access-abcde']] },
    { name: 'a container with its own mount at the path is left alone', spec: { volumes: [{ name: 'mine', emptyDir: {} }], containers: [{ name: 'a', volumeMounts: [{ name: 'mine', mountPath: MOUNT.mountPath }] }, { name: 'b' }] }, volumes: ['mine', 'kube-api-access-abcde'], mounts: [['mine'], ['kube-api-access-abcde']] },
    { name: 'all containers mount the path: no volume', spec: { volumes: [{ name: 'mine', emptyDir: {} }], containers: [{ name: 'a', volumeMounts: [{ name: 'mine', mountPath: MOUNT.mountPath }] }] }, volumes: ['mine'], mounts: [['mine']] },
    { name: 'an existing kube-api-access volume is reused', spec: { volumes: [{ name: 'kube-api-access-zzzzz', emptyDir: {} }], containers: [{ name: 'a' }] }, volumes: ['kube-api-access-zzzzz'], mounts: [['kube-api-access-zzzzz']] },
  ];
  for (const c of cases) {
    mountServiceAccountToken(c.spec, () => 'abcde');
    assert.deepEqual((c.spec.volumes ?? []).map((v: any) => v.name), c.volumes, c.name);
    assert.deepEqual([...(c.spec.initContainers ?? []), ...c.spec.containers].map((x: any) => (x.volumeMounts ?? []).map((m: any) => m.name)), c.mounts, c.name);
  }
  const spec: any = { containers: [{ name: 'a' }] };
  mountServiceAccountToken(spec, () => 'abcde');
  assert.deepEqual(spec.containers[0].volumeMounts, [MOUNT]);
  const vol: any = spec.volumes[0];
  assert.deepEqual(vol.projected.sources.map((s: any) => Object.keys(s)[0]), ['serviceAccountToken', 'configMap', 'downwardAPI']);
  assert.equal(vol.projected.sources[0].serviceAccountToken.expirationSeconds, 3607);
  assert.deepEqual(vol, apiAccessVolume('kube-api-access-abcde'));
  assert.match(randomSuffix(), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});

test('automount: the pod setting wins over the account; mirror pods get nothing', async () => {
  const rs = new ResourceStore(new MemStore(), new Admission([serviceAccountAdmission(kind)]));
  await rs.create(kind('', 'serviceaccounts'), 'ns', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet' }, automountServiceAccountToken: false } as KubeObject, ctx());
  const cases: Array<{ name: string; spec: Record<string, unknown>; annotations?: Record<string, string>; mounted: boolean }> = [
    { name: 'p-default', spec: {}, mounted: true },
    { name: 'p-off', spec: { automountServiceAccountToken: false }, mounted: false },
    { name: 'p-sa-off', spec: { serviceAccountName: 'quiet' }, mounted: false },
    { name: 'p-sa-off-pod-on', spec: { serviceAccountName: 'quiet', automountServiceAccountToken: true }, mounted: true },
    { name: 'p-mirror', spec: { nodeName: 'n1' }, annotations: { 'kubernetes.io/config.mirror': 'x' }, mounted: false },
  ];
  for (const c of cases) {
    const p = await rs.create(kind('', 'pods'), 'ns', pod(c.name, c.spec, c.annotations), ctx());
    const s = p.spec as any;
    const vols = (s.volumes ?? []).filter((v: any) => v.name.startsWith('kube-api-access-'));
    assert.equal(vols.length, c.mounted ? 1 : 0, c.name);
    assert.equal((s.containers[0].volumeMounts ?? []).length, c.mounted ? 1 : 0, c.name);
  }
});
