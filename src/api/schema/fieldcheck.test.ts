// Tests for unknown-field and duplicate-key detection (fieldValidation=Strict|Warn), against hand-made schemas and
// the built-in Deployment schema.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateFields, duplicateYAMLFields, strictFieldErrors, unknownFields } from './fieldcheck.js';
import { kindSchema, useDefinitions } from './registry.js';
import type { SchemaNode } from './types.js';

const schema: SchemaNode = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer' },
        items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        byKey: { type: 'object', additionalProperties: { type: 'object', properties: { a: { type: 'string' } } } },
        raw: { type: 'object' },
        free: { type: 'object', properties: { known: { type: 'string' } }, 'x-kubernetes-preserve-unknown-fields': true },
        any: { description: 'no type at all' },
        open: { type: 'object', properties: { x: { type: 'string' } }, additionalProperties: true },
      },
    },
  },
};

describe('unknownFields', () => {
  const cases: { name: string; obj: unknown; want: string[] }[] = [
    { name: 'all known', obj: { spec: { replicas: 1, items: [{ name: 'a' }], labels: { x: 'y' } } }, want: [] },
    { name: 'top-level and nested unknown', obj: { foo: 1, spec: { bar: 2, replicas: 1 } }, want: ['.foo', '.spec.bar'] },
    { name: 'unknown inside a list item', obj: { spec: { items: [{ name: 'a' }, { name: 'b', extra: true }] } }, want: ['.spec.items[1].extra'] },
    { name: 'map values are checked against additionalProperties', obj: { spec: { byKey: { k1: { a: 'x', b: 'y' } } } }, want: ['.spec.byKey.k1.b'] },
    { name: 'objects without declared properties accept anything', obj: { spec: { raw: { anything: { goes: 1 } }, any: { x: 1 } } }, want: [] },
    { name: 'x-kubernetes-preserve-unknown-fields', obj: { spec: { free: { known: 'a', other: { deep: 1 } } } }, want: [] },
    { name: 'additionalProperties: true', obj: { spec: { open: { x: 'a', y: 'b' } } }, want: [] },
    { name: 'null and scalars where objects are expected are not unknown fields', obj: { spec: null }, want: [] },
    { name: 'keys with dots are kept verbatim', obj: { spec: { 'a.b': 1 } }, want: ['.spec.a.b'] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(unknownFields(c.obj, schema), c.want));
  }

  it('stops after 100 problems like upstream', () => {
    const spec: Record<string, number> = {};
    for (let i = 0; i < 250; i++) spec[`f${i}`] = i;
    assert.equal(unknownFields({ spec }, schema).length, 100);
  });

  describe('built-in Deployment schema', () => {
    after(() => useDefinitions(undefined));
    it('reports upstream-style paths', () => {
      useDefinitions(undefined);
      const dep = kindSchema('apps', 'v1', 'Deployment');
      assert.ok(dep);
      const obj = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', labels: { app: 'web' }, annotations: { a: 'b' }, bogus: 1, managedFields: [{ manager: 'x', fieldsV1: { 'f:spec': { '.': {} } } }] },
        spec: {
          replicas: 2,
          foo: true,
          selector: { matchLabels: { app: 'web' } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', nope: 1 } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [{ name: 'a', image: 'nginx', resources: { limits: { cpu: '1' } }, restartPolicy: 'Always' }],
              initContainers: [{ name: 'i', image: 'busybox', volumeMounts: [{ name: 'v', mountPath: '/x', hostPath: '/y' }] }],
            },
          },
        },
        status: { replicas: 1 },
      };
      assert.deepEqual(unknownFields(obj, dep), ['.metadata.bogus', '.spec.foo', '.spec.strategy.rollingUpdate.nope', '.spec.template.spec.initContainers[0].volumeMounts[0].hostPath']);
    });
  });
});

describe('duplicateFields', () => {
  const cases: { name: string; json: string; want: string[] }[] = [
    { name: 'none', json: '{"a":1,"b":{"c":[1,2,{"d":3}]}}', want: [] },
    { name: 'top level', json: '{"kind":"Pod","kind":"Pod"}', want: ['kind'] },
    { name: 'nested object', json: '{"spec":{"replicas":1,"paused":false,"replicas":2}}', want: ['spec.replicas'] },
    { name: 'inside list items', json: '{"spec":{"containers":[{"name":"a"},{"name":"b","name":"c"}]}}', want: ['spec.containers[1].name'] },
    { name: 'same key in sibling objects is fine', json: '{"a":{"x":1},"b":{"x":2}}', want: [] },
    { name: 'reported once per path', json: '{"a":1,"a":2,"a":3}', want: ['a'] },
    { name: 'escaped keys are compared unescaped', json: '{"a\\u0062":1,"ab":2}', want: ['ab'] },
    { name: 'strings containing braces and quotes', json: '{"s":"{\\"x\\":1}","s2":"]","t":1,"t":2}', want: ['t'] },
    { name: 'whitespace and literals', json: ' { "a" : true , "b" : null , "c" : -1.5e3 , "a" : false } ', want: ['a'] },
    { name: 'malformed JSON returns what was seen', json: '{"a":1,"a":', want: ['a'] },
    { name: 'not an object', json: '[1,2,3]', want: [] },
    { name: 'empty containers', json: '{"a":{},"b":[],"a":[]}', want: ['a'] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(duplicateFields(c.json), c.want));
  }
});

describe('duplicateYAMLFields', () => {
  const cases: { name: string; yaml: string; want: { path: string; key: string; line: number }[] }[] = [
    { name: 'none', yaml: 'a: 1\nb:\n  c: 2\n', want: [] },
    { name: 'nested duplicate', yaml: 'spec:\n  replicas: 1\n  replicas: 2\n', want: [{ path: 'spec.replicas', key: 'replicas', line: 3 }] },
    { name: 'in a sequence item', yaml: 'spec:\n  containers:\n  - name: a\n  - name: b\n    name: c\n', want: [{ path: 'spec.containers[1].name', key: 'name', line: 5 }] },
    { name: 'JSON is YAML', yaml: '{"kind":"Pod","kind":"Pod"}', want: [{ path: 'kind', key: 'kind', line: 1 }] },
    { name: 'every repetition is reported with its line', yaml: 'a: 1\na: 2\na: 3\n', want: [{ path: 'a', key: 'a', line: 2 }, { path: 'a', key: 'a', line: 3 }] },
    { name: 'syntax error yields nothing', yaml: 'a: [1, 2\n', want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(duplicateYAMLFields(c.yaml), c.want));
  }
});

describe('strictFieldErrors', () => {
  after(() => useDefinitions(undefined));

  it('reports unknown and duplicate fields of a typed body in document order, like upstream', () => {
    useDefinitions(undefined);
    const dep = kindSchema('apps', 'v1', 'Deployment');
    assert.ok(dep);
    // The shape of upstream's field-validation integration test body.
    const body = `{
      "apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"name": "d", "labels": {"a": "1", "a": "2"}},
      "spec": {
        "unknown1": "val1",
        "unknownDupe": "valDupe",
        "unknownDupe": "valDupe2",
        "paused": true,
        "paused": false,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
          "metadata": {"labels": {"app": "nginx"}},
          "spec": {"containers": [{
            "name": "nginx", "image": "nginx:latest",
            "unknownNested": {"x": 1, "x": 2},
            "imagePullPolicy": "Always",
            "imagePullPolicy": "Never"
          }]}
        }
      }
    }`;
    assert.deepEqual(strictFieldErrors(body, dep), [
      'duplicate field "metadata.labels.a"',
      'unknown field "spec.unknown1"',
      'unknown field "spec.unknownDupe"',
      'duplicate field "spec.paused"',
      'unknown field "spec.template.spec.containers[0].unknownNested"',
      'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
    ]);
  });

  it('checks duplicates inside untyped objects (preserve-unknown-fields, no properties)', () => {
    assert.deepEqual(strictFieldErrors('{"spec":{"raw":{"k":1,"k":2},"free":{"z":1,"z":2},"zz":1}}', schema), [
      'duplicate field "spec.raw.k"',
      'duplicate field "spec.free.z"',
      'unknown field "spec.zz"',
    ]);
  });
});
