// Tests for FieldsV1 encoding/decoding, element order, set algebra and path printing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldSet, canonicalPE, comparePE, fieldPE, indexPE, keyPE, makePath, pathString, valuePE } from './fieldset.js';

// A fieldsV1 as kube-apiserver 1.32 writes it for `kubectl create deployment nginx --image=nginx` (trimmed).
const upstream = {
  'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
  'f:spec': {
    'f:replicas': {},
    'f:selector': {},
    'f:template': {
      'f:spec': {
        'f:containers': {
          'k:{"name":"nginx"}': {
            '.': {},
            'f:image': {},
            'f:name': {},
            'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
          },
        },
      },
    },
  },
};

test('FieldsV1 round trip keeps upstream content and key order', () => {
  const s = FieldSet.fromFieldsV1(upstream);
  assert.equal(JSON.stringify(s.toFieldsV1()), JSON.stringify(upstream));
  assert.ok(s.has(makePath('metadata', 'labels')), 'labels is a member (".")');
  assert.ok(s.has(makePath('metadata', 'labels', 'app')));
  assert.ok(!s.has(makePath('metadata')), 'metadata is only a parent');
  assert.ok(s.has([...makePath('spec', 'template', 'spec', 'containers'), keyPE([['name', 'nginx']])]));
});

test('decoding normalises key elements and drops unknown element types', () => {
  const s = FieldSet.fromFieldsV1({ 'f:ports': { 'k:{ "protocol": "TCP", "containerPort": 80 }': {} }, 'z:future': { 'f:x': {} } });
  assert.deepEqual(s.toFieldsV1(), { 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': {} } });
  assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 5 }), /expected an object/);
  assert.throws(() => FieldSet.fromFieldsV1({ 'k:[1]': {} }), /not an object/);
  assert.throws(() => FieldSet.fromFieldsV1({ 'i:x': {} }), /invalid index/);
  assert.deepEqual(FieldSet.fromFieldsV1({}).toFieldsV1(), {});
});

test('element order: fields < keys < values < indexes; values numbers < strings < booleans', () => {
  const pes = [indexPE(2), valuePE(true), valuePE('a'), valuePE(3), keyPE([['name', 'b']]), keyPE([['name', 'a']]), fieldPE('z'), fieldPE('a'), indexPE(1)];
  const sorted = [...pes].sort(comparePE);
  assert.deepEqual(sorted, ['f:a', 'f:z', 'k:{"name":"a"}', 'k:{"name":"b"}', 'v:3', 'v:"a"', 'v:true', 'i:1', 'i:2']);
});

test('set values and keys use Go JSON escaping', () => {
  assert.equal(valuePE('<a&b>'), 'v:"\\u003ca\\u0026b\\u003e"');
  assert.equal(canonicalPE('v:"\\u003c"'), 'v:"\\u003c"');
  assert.equal(canonicalPE('v:"<"'), 'v:"\\u003c"');
});

test('set algebra', () => {
  const a = FieldSet.of(makePath('a', 'b'), makePath('a', 'c'), makePath('d'));
  const b = FieldSet.of(makePath('a', 'b'), makePath('a'), makePath('e'));
  assert.equal(a.union(b).toString(), ['.a', '.d', '.e', '.a.b', '.a.c'].join('\n'));
  assert.equal(a.intersection(b).toString(), '.a.b');
  assert.equal(a.difference(b).toString(), ['.d', '.a.c'].join('\n'), 'difference is member-wise: a parent does not remove children');
  assert.equal(a.recursiveDifference(b).toString(), '.d', 'recursive difference drops everything under .a');
  assert.ok(a.difference(a).empty());
  assert.ok(a.equals(FieldSet.fromFieldsV1(a.toFieldsV1())));
  assert.ok(!a.equals(b));
  assert.equal(a.withPrefix('f:a').toString(), ['.b', '.c'].join('\n'));
  // inputs untouched
  assert.equal(a.toString(), ['.d', '.a.b', '.a.c'].join('\n'));
});

test('paths print as upstream prints them in conflicts', () => {
  const table: [string[], string][] = [
    [makePath('spec', 'replicas'), '.spec.replicas'],
    [[...makePath('spec', 'containers'), keyPE([['name', 'nginx']]), fieldPE('image')], '.spec.containers[name="nginx"].image'],
    [[...makePath('ports'), keyPE([['protocol', 'TCP'], ['containerPort', 80]])], '.ports[containerPort=80,protocol="TCP"]'],
    [[...makePath('metadata', 'finalizers'), valuePE('a')], '.metadata.finalizers[="a"]'],
    [[fieldPE('args'), indexPE(0)], '.args[0]'],
  ];
  for (const [p, want] of table) assert.equal(pathString(p), want);
});
