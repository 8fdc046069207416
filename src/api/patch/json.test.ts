// JSON patch: RFC 6902 appendix A, the evanphx/json-patch v4 behaviour upstream has (negative indices, strict
// replace/remove, test of null), kubectl's rollout undo and SSA-migration patches, the copy limit and purity.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonPatch, JsonPatchError, MAX_COPY_BYTES, type JsonPatchOperation } from './json.js';
import { clone } from './value.js';

type Op = JsonPatchOperation;

function fails(doc: unknown, ops: Op[], message?: RegExp): void {
  assert.throws(
    () => jsonPatch(doc, ops),
    (e: unknown) => e instanceof JsonPatchError && (!message || message.test(e.message)),
  );
}

describe('JSON patch: RFC 6902 appendix A', () => {
  const ok: [string, unknown, Op[], unknown][] = [
    ['A.1 add an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
    ['A.2 add an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    ['A.3 remove an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    ['A.4 remove an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    ['A.5 replace a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    [
      'A.6 move a value',
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    ['A.7 move an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
    [
      'A.8 testing a value: success',
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
      ],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    ['A.10 adding a nested member object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
    ['A.11 ignoring unrecognized elements', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 } as Op], { foo: 'bar', baz: 'qux' }],
    ['A.14 ~ escape ordering', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
    ['A.16 adding an array value', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
  ];
  for (const [name, doc, ops, want] of ok) {
    it(name, () => assert.deepEqual(jsonPatch(doc, ops), want));
  }
  it('A.9 testing a value: error', () => fails({ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], /^testing value \/baz failed: test failed$/));
  it('A.12 adding to a nonexistent target', () => fails({ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }], /doc is missing path/));
  it('A.15 comparing strings and numbers', () => fails({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }]));
});

describe('JSON patch: upstream (evanphx v4) behaviour', () => {
  const ok: [string, unknown, Op[], unknown][] = [
    ['add at -1 appends', { a: [1, 2] }, [{ op: 'add', path: '/a/-1', value: 3 }], { a: [1, 2, 3] }],
    ['add at -len-1 prepends', { a: [1, 2] }, [{ op: 'add', path: '/a/-3', value: 0 }], { a: [0, 1, 2] }],
    ['add at len appends', { a: [1, 2] }, [{ op: 'add', path: '/a/2', value: 3 }], { a: [1, 2, 3] }],
    ['remove -1 removes the last element', { a: [1, 2, 3] }, [{ op: 'remove', path: '/a/-1' }], { a: [1, 2] }],
    ['replace a null member', { a: null }, [{ op: 'replace', path: '/a', value: 1 }], { a: 1 }],
    ['test of null matches a missing member', { a: 1 }, [{ op: 'test', path: '/b', value: null }], { a: 1 }],
    ['a path without a leading slash addresses the root', { a: 1 }, [{ op: 'add', path: 'x/b', value: 2 }], { a: 1, b: 2 }],
    ['replace "" swaps the document', { a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }], { b: 2 }],
    ['test "" compares the document', { a: 1 }, [{ op: 'test', path: '', value: { a: 1 } }], { a: 1 }],
    ['add without value adds null', { a: 1 }, [{ op: 'add', path: '/b' }], { a: 1, b: null }],
    ['copy duplicates a subtree', { a: { x: [1] } }, [{ op: 'copy', from: '/a', path: '/b' }], { a: { x: [1] }, b: { x: [1] } }],
    ['escaped keys', { 'a/b': { '~c': 1 } }, [{ op: 'replace', path: '/a~1b/~0c', value: 2 }], { 'a/b': { '~c': 2 } }],
  ];
  for (const [name, doc, ops, want] of ok) {
    it(name, () => assert.deepEqual(jsonPatch(doc, ops), want));
  }

  const bad: [string, unknown, Op[], RegExp][] = [
    ['replace of a missing member', { a: 1 }, [{ op: 'replace', path: '/b', value: 1 }], /^replace operation does not apply: doc is missing key: \/b: missing value$/],
    ['remove of a missing member', { a: 1 }, [{ op: 'remove', path: '/b' }], /unable to remove nonexistent key: b/],
    ['add past the end', { a: [1] }, [{ op: 'add', path: '/a/3', value: 1 }], /Unable to access invalid index: 3/],
    ['add with a bad index', { a: [1] }, [{ op: 'add', path: '/a/x', value: 1 }], /value was not a proper array index: 'x'/],
    ['remove past the end', { a: [1] }, [{ op: 'remove', path: '/a/1' }], /invalid index/],
    ['test of null on a missing array index', { a: [1] }, [{ op: 'test', path: '/a/5', value: null }], /error in test for path/],
    ['move from a missing member', { a: 1 }, [{ op: 'move', from: '/b', path: '/c' }], /missing value/],
    ['an unknown op', { a: 1 }, [{ op: 'bogus', path: '/a' }], /^Unexpected kind: bogus$/],
    ['a missing op', { a: 1 }, [{ path: '/a' }], /^Unexpected kind: unknown$/],
    ['a missing path', { a: 1 }, [{ op: 'add', value: 1 }], /add operation failed to decode path/],
    ['add at ""', { a: 1 }, [{ op: 'add', path: '', value: 1 }], /doc is missing path: ""/],
    ['replace "" with a scalar', { a: 1 }, [{ op: 'replace', path: '', value: 1 }], /must be object or array/],
    ['descending through a scalar', { a: 1 }, [{ op: 'add', path: '/a/b', value: 1 }], /doc is missing path/],
  ];
  for (const [name, doc, ops, re] of bad) {
    it(`fails: ${name}`, () => fails(doc, ops, re));
  }

  it('limits the total size "copy" may add to 3 MiB', () => {
    const big = 'x'.repeat(1024 * 1024);
    const ops: Op[] = [{ op: 'copy', from: '/a', path: '/b' }, { op: 'copy', from: '/a', path: '/c' }];
    assert.doesNotThrow(() => jsonPatch({ a: big }, ops));
    ops.push({ op: 'copy', from: '/a', path: '/d' });
    fails({ a: big }, ops, new RegExp(`exceeding the limit ${MAX_COPY_BYTES}$`));
  });

  it('is atomic and pure: a failing patch leaves the input untouched', () => {
    const doc = { a: [1, 2], b: { c: 1 } };
    const copy = clone(doc);
    fails(doc, [{ op: 'remove', path: '/a/0' }, { op: 'add', path: '/b/c', value: 5 }, { op: 'test', path: '/b/c', value: 1 }]);
    assert.deepEqual(doc, copy);
    const out = jsonPatch(doc, [{ op: 'add', path: '/a/-', value: 3 }]) as { a: number[] };
    assert.deepEqual(doc, copy);
    assert.deepEqual(out.a, [1, 2, 3]);
  });
});

describe('JSON patch: kubectl patches', () => {
  it('applies `kubectl rollout undo` (replace template and annotations)', () => {
    const current = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'v2' } },
      spec: { replicas: 2, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } },
    };
    const template = { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } };
    const annotations = { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'v1' };
    const out = jsonPatch(current, [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: annotations },
    ]);
    assert.deepEqual(out, { ...current, metadata: { name: 'web', annotations }, spec: { replicas: 2, template } });
  });

  it('applies the SSA managed-fields migration (test resourceVersion, replace managedFields)', () => {
    const current = { metadata: { name: 'p', resourceVersion: '7', managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update' }] } };
    const managedFields = [{ manager: 'kubectl', operation: 'Apply' }];
    const ops: Op[] = [
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      { op: 'replace', path: '/metadata/managedFields', value: managedFields },
    ];
    assert.deepEqual(jsonPatch(current, ops), { metadata: { name: 'p', resourceVersion: '7', managedFields } });
    fails({ metadata: { ...current.metadata, resourceVersion: '8' } }, ops, /testing value \/metadata\/resourceVersion failed/);
  });
});
