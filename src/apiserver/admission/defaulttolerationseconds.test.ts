// DefaultTolerationSeconds admission through the generic store: the two NoExecute tolerations are added unless
// already tolerated (an empty key or effect counts), with configurable seconds, on create and update only of pods.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../api/kinds/index.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import { Admission } from '../admission.js';
import { ResourceStore, type RequestContext } from '../registry/store.js';
import { MemStore } from '../testing/memstore.js';
import { defaultTolerationSeconds } from './defaulttolerationseconds.js';

const kind = (group: string, plural: string): KindDef => allKinds().find((k) => k.group === group && k.plural === plural)!;
const ctx = (): RequestContext => ({ user: { username: 'admin', groups: ['system:masters'] }, dryRun: false, warnings: [] });
const pod = (name: string, tolerations?: unknown[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...(tolerations ? { tolerations } : {}) },
});
const tolerationsOf = (p: KubeObject): unknown[] => ((p.spec as { tolerations?: unknown[] }).tolerations ?? []) as unknown[];

const NOT_READY = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
const UNREACHABLE = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };

test('a new pod gets both tolerations for 300 s, after its own', async () => {
  const rs = new ResourceStore(new MemStore(), new Admission([defaultTolerationSeconds(kind)]));
  const p = await rs.create(kind('', 'pods'), 'ns', pod('a'), ctx());
  assert.deepEqual(tolerationsOf(p), [NOT_READY, UNREACHABLE]);
  const own = { key: 'dedicated', operator: 'Equal', value: 'x', effect: 'NoSchedule' };
  const q = await rs.create(kind('', 'pods'), 'ns', pod('b', [own]), ctx());
  assert.deepEqual(tolerationsOf(q), [own, NOT_READY, UNREACHABLE]);
});

test('tolerations that already cover a taint are left alone (table)', async () => {
  const rs = new ResourceStore(new MemStore(), new Admission([defaultTolerationSeconds(kind)]));
  const cases: Array<[string, unknown[], unknown[]]> = [
    ['wildcard Exists covers both', [{ operator: 'Exists' }], [{ operator: 'Exists' }]],
    ['empty key with NoExecute covers both', [{ operator: 'Exists', effect: 'NoExecute' }], [{ operator: 'Exists', effect: 'NoExecute' }]],
    [
      'not-ready NoExecute (forever) covers not-ready only',
      [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }],
      [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }, UNREACHABLE],
    ],
    [
      'unreachable with any effect covers unreachable',
      [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }],
      [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }, NOT_READY],
    ],
    [
      'NoSchedule does not cover',
      [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }],
      [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }, NOT_READY, UNREACHABLE],
    ],
  ];
  let i = 0;
  for (const [name, given, want] of cases) {
    const p = await rs.create(kind('', 'pods'), 'ns', pod(`p${i++}`, given), ctx());
    assert.deepEqual(tolerationsOf(p), want, name);
  }
});

test('the seconds are configurable; other kinds and subresources are not touched', async () => {
  const rs = new ResourceStore(new MemStore(), new Admission([defaultTolerationSeconds(kind, { notReadySeconds: 7, unreachableSeconds: 3 })]));
  const p = await rs.create(kind('', 'pods'), 'ns', pod('a'), ctx());
  assert.deepEqual(tolerationsOf(p), [
    { ...NOT_READY, tolerationSeconds: 7 },
    { ...UNREACHABLE, tolerationSeconds: 3 },
  ]);
  const plugin = defaultTolerationSeconds(kind);
  const tmpl: KubeObject = { apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: 't' }, spec: {} };
  await plugin.mutate!({ operation: 'CREATE', def: kind('', 'podtemplates'), namespace: 'ns', name: 't', object: tmpl, user: ctx().user, dryRun: false, store: rs });
  assert.deepEqual(tmpl.spec, {});
  const status = pod('s');
  await plugin.mutate!({ operation: 'UPDATE', def: kind('', 'pods'), namespace: 'ns', name: 's', object: status, subresource: 'status', user: ctx().user, dryRun: false, store: rs });
  assert.equal((status.spec as { tolerations?: unknown }).tolerations, undefined);
  const upd = pod('u');
  await plugin.mutate!({ operation: 'UPDATE', def: kind('', 'pods'), namespace: 'ns', name: 'u', object: upd, user: ctx().user, dryRun: false, store: rs });
  assert.deepEqual(tolerationsOf(upd), [NOT_READY, UNREACHABLE]);
});
