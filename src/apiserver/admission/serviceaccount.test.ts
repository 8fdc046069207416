// ServiceAccount admission through the generic store: pods default to `default`; a named account must exist.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../api/kinds/index.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import { Admission } from '../admission.js';
import { ResourceStore, type RequestContext } from '../registry/store.js';
import { MemStore } from '../testing/memstore.js';
import { serviceAccountAdmission } from './serviceaccount.js';

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
