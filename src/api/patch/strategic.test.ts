// Strategic merge patch: the patches kubectl 1.32 sends, upstream apimachinery's own test vectors (ordering and
// directives), errors, and purity.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { SchemaNode } from '../schema/types.js';
import { ApiError } from '../errors.js';
import { goStableSort, strategicMergePatch } from './strategic.js';
import { deployment, node, pod, service } from './testing.js';
import { clone, type JsonObject } from './value.js';

const y = (s: string) => parseYaml(s) as JsonObject;

function smp(original: JsonObject, patch: JsonObject, schema?: SchemaNode): JsonObject {
  return strategicMergePatch(original, patch, schema);
}

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

function liveDeployment(): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, annotations: { 'deployment.kubernetes.io/revision': '1' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'a', image: 'busybox', args: ['sleep', '1'], imagePullPolicy: 'Always' },
            { name: 'b', image: 'busybox', imagePullPolicy: 'Always' },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          restartPolicy: 'Always',
        },
      },
    },
    status: { replicas: 1 },
  };
}

/** Recursively lists keys that are SMP directives (must never reach storage). */
function directiveKeys(v: unknown, path = ''): string[] {
  if (v === null || typeof v !== 'object') return [];
  if (Array.isArray(v)) return v.flatMap((x, i) => directiveKeys(x, `${path}[${i}]`));
  return Object.entries(v).flatMap(([k, x]) => [...(k.startsWith('$') ? [`${path}.${k}`] : []), ...directiveKeys(x, `${path}.${k}`)]);
}

describe('strategic merge patch: patches kubectl sends', () => {
  it('applies the §1.10 apply patch (retainKeys strategy switch, container delete, volume emptyDir→configMap)', () => {
    const patch = JSON.parse(
      '{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"},' +
        '"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],"$setElementOrder/volumes":[{"name":"data"}],' +
        '"containers":[{"args":["sleep","2"],"name":"a"},{"$patch":"delete","name":"b"}],' +
        '"volumes":[{"$retainKeys":["configMap","name"],"configMap":{"name":"cfg"},"emptyDir":null,"name":"data"}]}}}}',
    );
    const out = smp(liveDeployment(), patch, deployment);
    const want = liveDeployment();
    const spec = want.spec as JsonObject;
    spec.strategy = { type: 'Recreate' };
    const tspec = (spec.template as JsonObject).spec as JsonObject;
    tspec.containers = [{ name: 'a', image: 'busybox', args: ['sleep', '2'], imagePullPolicy: 'Always' }];
    tspec.volumes = [{ name: 'data', configMap: { name: 'cfg' } }];
    assert.deepEqual(out, want);
    assert.deepEqual(directiveKeys(out), []);
  });

  it('applies `kubectl set image` (setElementOrder keeps both containers in place)', () => {
    const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ image: 'nginx:1.26', name: 'b' }] } } } };
    const out = smp(liveDeployment(), patch, deployment);
    const cs = ((((out.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[]).map((c) => [c.name, c.image]);
    assert.deepEqual(cs, [
      ['a', 'busybox'],
      ['b', 'nginx:1.26'],
    ]);
  });

  it('applies `kubectl rollout restart`, `pause` and `resume`', () => {
    const restarted = smp(liveDeployment(), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-02T03:04:05Z' } } } } }, deployment);
    const tmeta = ((restarted.spec as JsonObject).template as JsonObject).metadata as JsonObject;
    assert.deepEqual(tmeta, { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-02T03:04:05Z' } });
    const paused = smp(liveDeployment(), { spec: { paused: true } }, deployment);
    assert.equal((paused.spec as JsonObject).paused, true);
    const resumed = smp(paused, { spec: { paused: null } }, deployment);
    assert.equal(Object.hasOwn(resumed.spec as JsonObject, 'paused'), false);
    assert.deepEqual(resumed, liveDeployment());
  });

  it('applies `kubectl cordon` / `uncordon` to a Node', () => {
    const live = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDRs: ['10.0.0.0/24'] } };
    const cordoned = smp(live, { spec: { unschedulable: true } }, node);
    assert.deepEqual(cordoned.spec, { podCIDRs: ['10.0.0.0/24'], unschedulable: true });
    assert.deepEqual(smp(cordoned, { spec: { unschedulable: null } }, node), live);
  });

  it('applies the apply 3-way patch with `ports: null` and `$setElementOrder/env`', () => {
    const live: JsonObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app2', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'old' } },
      spec: {
        containers: [
          {
            name: 'main',
            image: 'nginx:1.25',
            ports: [{ containerPort: 80, protocol: 'TCP' }],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '1' },
            ],
            terminationMessagePath: '/dev/termination-log',
          },
        ],
        restartPolicy: 'Always',
      },
    };
    const patch = JSON.parse(
      '{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"new"},"labels":{"tier":"web"}},' +
        '"spec":{"$setElementOrder/containers":[{"name":"main"}],"containers":[{"$setElementOrder/env":[{"name":"B"},{"name":"A"}],' +
        '"env":[{"name":"B","value":"2"}],"image":"nginx:1.26","name":"main","ports":null}]}}',
    );
    const out = smp(live, patch, pod);
    assert.deepEqual(out, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app2', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'new' }, labels: { tier: 'web' } },
      spec: {
        containers: [
          {
            name: 'main',
            image: 'nginx:1.26',
            env: [
              { name: 'B', value: '2' },
              { name: 'A', value: '1' },
            ],
            terminationMessagePath: '/dev/termination-log',
          },
        ],
        restartPolicy: 'Always',
      },
    });
  });

  it('deletes a container with `$patch: delete` without an order list', () => {
    const out = smp(liveDeployment(), { spec: { template: { spec: { containers: [{ name: 'a', $patch: 'delete' }] } } } }, deployment);
    const cs = (((out.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[];
    assert.deepEqual(
      cs.map((c) => c.name),
      ['b'],
    );
  });

  it('switches a volume emptyDir→configMap with $retainKeys and rejects fields missing from $retainKeys', () => {
    const live = { spec: { volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }, { name: 'other', emptyDir: {} }] } };
    const out = smp(live, { spec: { volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, name: 'data' }] } }, pod);
    assert.deepEqual(out, { spec: { volumes: [{ name: 'data', configMap: { name: 'cfg' } }, { name: 'other', emptyDir: {} }] } });
    const err = apiError(() => smp(live, { spec: { volumes: [{ $retainKeys: ['name'], configMap: { name: 'cfg' }, name: 'data' }] } }, pod));
    assert.equal(err.code, 400);
    assert.equal(err.message, 'invalid patch format of retainKeys');
  });

  it('switches Deployment strategy RollingUpdate→Recreate only through $retainKeys', () => {
    const withRetain = smp(liveDeployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, deployment);
    assert.deepEqual((withRetain.spec as JsonObject).strategy, { type: 'Recreate' });
    const without = smp(liveDeployment(), { spec: { strategy: { type: 'Recreate' } } }, deployment);
    assert.deepEqual((without.spec as JsonObject).strategy, { type: 'Recreate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  });
});

describe('strategic merge patch: list strategies from the schema', () => {
  const cases: { name: string; schema: SchemaNode; live: JsonObject; patch: JsonObject; want: JsonObject }[] = [
    {
      name: 'finalizers (merge, primitive): union in patch order, live-only items after the last patch item before them',
      schema: pod,
      live: { metadata: { finalizers: ['a', 'b'] } },
      patch: { metadata: { finalizers: ['c', 'a'] } },
      want: { metadata: { finalizers: ['c', 'a', 'b'] } },
    },
    {
      name: 'finalizers: a new item goes before any live-only item; live-only items precede later live patch items',
      schema: pod,
      live: { metadata: { finalizers: ['b', 'a'] } },
      patch: { metadata: { finalizers: ['c', 'a'] } },
      want: { metadata: { finalizers: ['c', 'b', 'a'] } },
    },
    {
      name: 'finalizers: a single new item is prepended',
      schema: pod,
      live: { metadata: { finalizers: ['a', 'b'] } },
      patch: { metadata: { finalizers: ['c'] } },
      want: { metadata: { finalizers: ['c', 'a', 'b'] } },
    },
    {
      name: 'finalizers: $setElementOrder decides the order',
      schema: pod,
      live: { metadata: { finalizers: ['a', 'b'] } },
      patch: { metadata: { '$setElementOrder/finalizers': ['a', 'b', 'c'], finalizers: ['c'] } },
      want: { metadata: { finalizers: ['a', 'b', 'c'] } },
    },
    {
      name: 'finalizers: $deleteFromPrimitiveList',
      schema: pod,
      live: { metadata: { finalizers: ['a', 'b', 'a'] } },
      patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
      want: { metadata: { finalizers: ['b'] } },
    },
    {
      name: 'ownerReferences merge by uid',
      schema: pod,
      live: { metadata: { ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs', apiVersion: 'apps/v1' }] } },
      patch: { metadata: { ownerReferences: [{ uid: 'u1', controller: true }] } },
      want: { metadata: { ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs', apiVersion: 'apps/v1', controller: true }] } },
    },
    {
      name: 'container ports merge by containerPort',
      schema: pod,
      live: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } },
      patch: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, name: 'http' }] }] } },
      want: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }] }] } },
    },
    {
      name: 'volumeMounts merge by mountPath',
      schema: pod,
      live: { spec: { containers: [{ name: 'c', volumeMounts: [{ name: 'v', mountPath: '/a' }] }] } },
      patch: { spec: { containers: [{ name: 'c', volumeMounts: [{ mountPath: '/a', readOnly: true }] }] } },
      want: { spec: { containers: [{ name: 'c', volumeMounts: [{ name: 'v', mountPath: '/a', readOnly: true }] }] } },
    },
    {
      name: 'initContainers merge by name',
      schema: pod,
      live: { spec: { initContainers: [{ name: 'i', image: 'x' }] } },
      patch: { spec: { initContainers: [{ name: 'i', image: 'y' }] } },
      want: { spec: { initContainers: [{ name: 'i', image: 'y' }] } },
    },
    {
      name: 'tolerations are atomic',
      schema: pod,
      live: { spec: { tolerations: [{ key: 'a', operator: 'Exists' }] } },
      patch: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } },
      want: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } },
    },
    {
      name: 'args are atomic',
      schema: pod,
      live: { spec: { containers: [{ name: 'c', args: ['a', 'b'] }] } },
      patch: { spec: { containers: [{ name: 'c', args: ['b'] }] } },
      want: { spec: { containers: [{ name: 'c', args: ['b'] }] } },
    },
    {
      name: 'Service ports merge by port (new port first, as upstream)',
      schema: service,
      live: { spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
      patch: { spec: { ports: [{ name: 'https', port: 443, targetPort: 8443 }] } },
      want: {
        spec: {
          ports: [
            { name: 'https', port: 443, targetPort: 8443 },
            { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          ],
        },
      },
    },
    {
      name: 'Service ports with $setElementOrder keep apply order',
      schema: service,
      live: { spec: { ports: [{ name: 'http', port: 80 }] } },
      patch: { spec: { '$setElementOrder/ports': [{ port: 80 }, { port: 443 }], ports: [{ name: 'https', port: 443 }] } },
      want: {
        spec: {
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443 },
          ],
        },
      },
    },
    {
      name: 'PodStatus conditions merge by type',
      schema: pod,
      live: {
        status: {
          conditions: [
            { type: 'PodScheduled', status: 'True' },
            { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
          ],
        },
      },
      patch: { status: { conditions: [{ type: 'Ready', status: 'True', reason: null }] } },
      want: {
        status: {
          conditions: [
            { type: 'PodScheduled', status: 'True' },
            { type: 'Ready', status: 'True' },
          ],
        },
      },
    },
    {
      name: 'a list unknown to the schema is replaced, maps still merge',
      schema: pod,
      live: { spec: { extra: [{ name: 'a', x: 1 }], m: { a: 1 } } },
      patch: { spec: { extra: [{ name: 'a', y: 2 }], m: { b: 2 } } },
      want: { spec: { extra: [{ name: 'a', y: 2 }], m: { a: 1, b: 2 } } },
    },
    {
      name: 'without a schema lists are atomic',
      schema: undefined as unknown as SchemaNode,
      live: { spec: { containers: [{ name: 'a' }] } },
      patch: { spec: { containers: [{ name: 'b' }] } },
      want: { spec: { containers: [{ name: 'b' }] } },
    },
    {
      name: 'a nested map $patch: replace replaces it',
      schema: pod,
      live: { spec: { nodeSelector: { a: '1', b: '2' } } },
      patch: { spec: { nodeSelector: { $patch: 'replace', c: '3' } } },
      want: { spec: { nodeSelector: { c: '3' } } },
    },
    {
      name: 'a nested map $patch: delete empties it',
      schema: pod,
      live: { spec: { nodeSelector: { a: '1' } } },
      patch: { spec: { nodeSelector: { $patch: 'delete' } } },
      want: { spec: { nodeSelector: {} } },
    },
    {
      name: 'a {$patch: replace} element replaces the whole list',
      schema: pod,
      live: { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b' }] } },
      patch: { spec: { containers: [{ name: 'c', image: 'z' }, { $patch: 'replace' }] } },
      want: { spec: { containers: [{ name: 'c', image: 'z' }] } },
    },
    {
      name: 'a type change replaces the value',
      schema: pod,
      live: { spec: { nodeName: 'n1', nodeSelector: { a: '1' } } },
      patch: { spec: { nodeSelector: 'oops' } },
      want: { spec: { nodeName: 'n1', nodeSelector: 'oops' } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(smp(c.live, c.patch, c.schema), c.want);
    });
  }
});

// Vectors from apimachinery strategicpatch patch_test.go (custom and three-way raw cases), with the same fake
// MergeItem schema: mergingList merges by name, mergingIntList merges as a set.
const mergeItem: SchemaNode = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    value: { type: 'string' },
    other: { type: 'string' },
    mergingList: { type: 'array', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name', items: { type: 'object' } },
    nonMergingList: { type: 'array', items: { type: 'object' } },
    mergingIntList: { type: 'array', 'x-kubernetes-patch-strategy': 'merge', items: { type: 'integer' } },
    nonMergingIntList: { type: 'array', items: { type: 'integer' } },
    simpleMap: { type: 'object', additionalProperties: { type: 'string' } },
  },
};
(mergeItem.properties!.mergingList.items as SchemaNode) = mergeItem;

describe('strategic merge patch: upstream apimachinery test vectors', () => {
  const vectors: [string, string, string, string][] = [
    ['unique scalars when merging lists', 'mergingIntList: [1, 2]', 'mergingIntList: [2, 3]', 'mergingIntList: [1, 2, 3]'],
    ['delete map from nested map', 'simpleMap: {key1: 1, key2: 1}', 'simpleMap: {$patch: delete}', 'simpleMap: {}'],
    ['delete all items from merging list', 'mergingList: [{name: 1}, {name: 2}]', 'mergingList: [{$patch: replace}]', 'mergingList: []'],
    ['merge empty merging lists', 'mergingList: []', 'mergingList: []', 'mergingList: []'],
    ['delete all keys from map', '{name: 1, value: 1}', '{$patch: replace}', '{}'],
    ['add key and delete all keys from map', '{name: 1, value: 1}', '{other: a, $patch: replace}', '{other: a}'],
    [
      'delete all duplicate entries in a merging list',
      'mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]',
      'mergingList: [{name: 1, $patch: delete}, {name: 3, $patch: delete}]',
      'mergingList: [{name: 2, value: a}]',
    ],
    [
      'preserve the order from the patch in a merging list',
      'mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]',
      'mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, other: x}]',
      'mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, value: b, other: x}]',
    ],
    [
      'preserve the order from the patch in a merging list 2',
      'mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]',
      'mergingList: [{name: 3, value: c}, {name: 1, value: a}]',
      'mergingList: [{name: 2, value: b}, {name: 3, value: c}, {name: 1, value: a}]',
    ],
    ['preserve the order from the patch in a merging int list', 'mergingIntList: [1, 2, 3]', 'mergingIntList: [3, 1, 2]', 'mergingIntList: [3, 1, 2]'],
    ['preserve the order from the patch in a merging int list 2', 'mergingIntList: [1, 2, 3]', 'mergingIntList: [3, 1]', 'mergingIntList: [2, 3, 1]'],
    [
      '$setElementOrder contains item that is not present in the list to be merged',
      'mergingList: [{name: 1}, {name: 3}]',
      '{$setElementOrder/mergingList: [{name: 3}, {name: 2}, {name: 1}], mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}',
      'mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]',
    ],
    ['$setElementOrder contains item that is not present in the int list to be merged', 'mergingIntList: [1, 3]', '{$setElementOrder/mergingIntList: [3, 2, 1]}', 'mergingIntList: [3, 1]'],
    ['delete items in lists of scalars', 'mergingIntList: [1, 2, 3, 4]', '{$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}', 'mergingIntList: [1, 2, 4]'],
    ['delete all duplicate items in lists of scalars', 'mergingIntList: [1, 2, 3, 3, 4]', '{$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}', 'mergingIntList: [1, 2, 4]'],
    [
      'merge lists of maps',
      'mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]',
      '{$setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}], mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]}',
      'mergingList: [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]',
    ],
    [
      'add field to map in merging list with conflict',
      'mergingList: [{name: 1, other: a}, {name: 3, value: 2, other: b}]',
      '{$setElementOrder/mergingList: [{name: 1}, {name: 2}], mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}',
      'mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2}, {name: 3, value: 2, other: b}]',
    ],
    [
      'delete missing map from merging list with conflict',
      'mergingList: [{name: 3, other: a}]',
      '{$setElementOrder/mergingList: [{name: 2}], mergingList: [{name: 2}, {name: 1, $patch: delete}]}',
      'mergingList: [{name: 2}, {name: 3, other: a}]',
    ],
    // These two only come out right when the live list is read after upstream's in-place slice mutation.
    [
      'add map and delete map from merging list',
      'mergingList: [{name: 1}, {name: 2, other: b}, {name: 4, other: c}]',
      '{$setElementOrder/mergingList: [{name: 2}, {name: 3}], mergingList: [{name: 3}, {name: 1, $patch: delete}]}',
      'mergingList: [{name: 2, other: b}, {name: 4, other: c}, {name: 3}]',
    ],
    [
      'add map and delete map from merging list with conflict',
      'mergingList: [{name: 1, other: a}, {name: 4, other: c}]',
      '{$setElementOrder/mergingList: [{name: 2}, {name: 3}], mergingList: [{name: 2}, {name: 3}, {name: 1, $patch: delete}]}',
      'mergingList: [{name: 4, other: c}, {name: 2}, {name: 3}]',
    ],
    [
      'delete field from map in merging list',
      'mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]',
      '{$setElementOrder/mergingList: [{name: 1}, {name: 2}], mergingList: [{name: 1, value: null}]}',
      'mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]',
    ],
  ];
  for (const [name, live, patch, want] of vectors) {
    it(name, () => {
      assert.deepEqual(smp(y(live), y(patch), mergeItem), y(want));
    });
  }

  it('rejects a patch list out of $setElementOrder order', () => {
    const err = apiError(() => smp(y('mergingList: [{name: 1}, {name: 3}, {name: 2}]'), y('{$setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}], mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}'), mergeItem));
    assert.equal(err.code, 400);
    assert.match(err.message, /^The order in patch list:\n\[map\[name:3 value:3\] map\[name:1 value:1\]\]\n doesn't match \$setElementOrder list:\n/);
  });
});

describe('strategic merge patch: errors', () => {
  const cases: { name: string; schema?: SchemaNode; live: JsonObject; patch: JsonObject; code: number; message: string }[] = [
    {
      name: 'missing merge key (the message kubectl users know)',
      live: { spec: { containers: [{ name: 'a' }] } },
      patch: { spec: { containers: [{ image: 'nginx' }] } },
      code: 400,
      message: 'map: map[image:nginx] does not contain declared merge key: name',
    },
    { name: 'unknown $patch on a map', live: { spec: { nodeSelector: { a: '1' } } }, patch: { spec: { nodeSelector: { $patch: 'merge', b: '2' } } }, code: 400, message: 'unknown patch type: merge in map: map[$patch:merge b:2]' },
    { name: '$patch: merge in a list', live: { spec: { containers: [{ name: 'a' }] } }, patch: { spec: { containers: [{ name: 'a', $patch: 'merge' }] } }, code: 400, message: 'merging lists cannot yet be specified in the patch' },
    { name: 'bad $deleteFromPrimitiveList key', live: { metadata: { finalizers: ['a'] } }, patch: { metadata: { $deleteFromPrimitiveList: ['a'] } }, code: 400, message: 'invalid patch format of primitive list' },
    { name: 'bad $setElementOrder key', live: { metadata: { finalizers: ['a'] } }, patch: { metadata: { $setElementOrderfinalizers: ['a'] } }, code: 400, message: 'invalid patch format of setElementOrder list' },
    { name: '$retainKeys not a list', schema: deployment, live: { spec: { strategy: { type: 'A' } } }, patch: { spec: { strategy: { $retainKeys: 'type' } } }, code: 400, message: 'invalid patch format of retainKeys' },
    { name: '$setElementOrder not a list', live: { metadata: { finalizers: ['a'] } }, patch: { metadata: { '$setElementOrder/finalizers': 'a' } }, code: 400, message: 'expected a []interface {}, but received a string' },
    { name: 'mixed element types', live: { metadata: { finalizers: ['a'] } }, patch: { metadata: { finalizers: [1] } }, code: 400, message: 'list element types are not identical: [[a] [1]]' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = apiError(() => smp(c.live, c.patch, c.schema ?? pod));
      assert.equal(err.code, c.code);
      assert.equal(err.reason, 'BadRequest');
      assert.equal(err.message, c.message);
    });
  }

  it('answers lists of lists with upstream’s generic 422', () => {
    const err = apiError(() => smp({ metadata: { finalizers: [['a']] } }, { metadata: { finalizers: [['b']] } }, pod));
    assert.equal(err.code, 422);
    assert.equal(err.reason, 'Invalid');
    assert.equal(err.message, 'the server rejected our request due to an error in our request');
    assert.deepEqual(err.details, {});
    assert.equal(err.cause, 'lists of lists are not supported');
  });
});

describe('strategic merge patch: purity and directive-free results', () => {
  it('never modifies its inputs', () => {
    const live = liveDeployment();
    const patch = JSON.parse(
      '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"}],"containers":[{"name":"c","image":"x"},{"$patch":"delete","name":"b"}]}}}}',
    );
    const liveCopy = clone(live);
    const patchCopy = clone(patch);
    const out = smp(live, patch, deployment);
    assert.deepEqual(live, liveCopy);
    assert.deepEqual(patch, patchCopy);
    const names = ((((out.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[]).map((c) => c.name);
    assert.deepEqual(names, ['c', 'a']);
  });

  it('drops directives and nulls from content inserted as-is', () => {
    const live = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } };
    const patch = {
      metadata: { labels: { $patch: 'replace', a: 'b', gone: null } },
      spec: {
        containers: [{ name: 'new', env: [{ name: 'X', $patch: 'delete' }], '$setElementOrder/env': [{ name: 'X' }], resources: { limits: { cpu: null, memory: '1Gi' } } }],
        volumes: [{ name: 'v', $retainKeys: ['name'], emptyDir: null }],
        tolerations: [{ key: 'k', $patch: 'delete' }],
      },
    };
    const out = smp(live, patch, pod);
    assert.deepEqual(directiveKeys(out), []);
    assert.deepEqual(out, {
      metadata: { name: 'p', labels: { a: 'b' } },
      spec: {
        containers: [{ name: 'new', env: [{ name: 'X' }], resources: { limits: { memory: '1Gi' } } }, { name: 'a' }],
        volumes: [{ name: 'v' }],
        tolerations: [{ key: 'k' }],
      },
    });
  });

  it('treats __proto__ as an ordinary key', () => {
    const out = smp({ a: {} }, JSON.parse('{"a":{"__proto__":{"polluted":true}}}') as JsonObject);
    assert.equal(({} as JsonObject).polluted, undefined);
    assert.deepEqual(Object.keys(out.a as object), ['__proto__']);
  });
});

describe('goStableSort', () => {
  it('is a stable sort for a proper order', () => {
    for (const n of [0, 1, 5, 20, 21, 57, 200]) {
      const items = Array.from({ length: n }, (_, i) => ({ k: (i * 7919) % 13, i }));
      const got = items.slice();
      goStableSort(got, (a, b) => a.k < b.k);
      assert.deepEqual(got, items.slice().sort((a, b) => a.k - b.k));
    }
  });

  it('reproduces Go’s insertion sort for an always-true comparator (reverses small inputs)', () => {
    const got = [1, 2, 3, 4, 5];
    goStableSort(got, () => true);
    assert.deepEqual(got, [5, 4, 3, 2, 1]);
  });
});
