// applyPatch: Content-Type dispatch, upstream's status codes and messages for malformed bodies and failed operations,
// and isNoop.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.js';
import { applyPatch, isNoop, JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH } from './index.js';
import { deployment, pod } from './testing.js';
import type { JsonObject } from './value.js';

const live = (): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, finalizers: ['a'] },
  spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] },
});

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('applyPatch: dispatch', () => {
  it('applies each patch type from a raw body, ignoring media type parameters', () => {
    const smp = applyPatch('application/strategic-merge-patch+json; charset=utf-8', live(), '{"spec":{"containers":[{"name":"c","image":"nginx:1.26"}]}}', pod);
    assert.deepEqual((smp.spec as JsonObject).containers, [{ name: 'c', image: 'nginx:1.26' }]);
    const merge = applyPatch(MERGE_PATCH, live(), Buffer.from('{"metadata":{"labels":{"app":null,"tier":"web"}}}'), pod);
    assert.deepEqual((merge.metadata as JsonObject).labels, { tier: 'web' });
    const json = applyPatch(JSON_PATCH, live(), new TextEncoder().encode('[{"op":"add","path":"/metadata/finalizers/-","value":"b"}]'), pod);
    assert.deepEqual((json.metadata as JsonObject).finalizers, ['a', 'b']);
  });

  it('accepts an already parsed body', () => {
    const out = applyPatch(STRATEGIC_MERGE_PATCH, live(), { metadata: { finalizers: ['b'] } }, pod);
    assert.deepEqual((out.metadata as JsonObject).finalizers, ['b', 'a']);
  });

  it('treats a null strategic merge or JSON patch as no change', () => {
    assert.deepEqual(applyPatch(STRATEGIC_MERGE_PATCH, live(), 'null', pod), live());
    assert.deepEqual(applyPatch(JSON_PATCH, live(), 'null', pod), live());
  });

  it('never modifies the original', () => {
    const original = live();
    applyPatch(JSON_PATCH, original, '[{"op":"remove","path":"/metadata/labels"}]', pod);
    applyPatch(MERGE_PATCH, original, '{"metadata":{"labels":null}}', pod);
    applyPatch(STRATEGIC_MERGE_PATCH, original, '{"metadata":{"labels":null}}', pod);
    assert.deepEqual(original, live());
  });

  it('answers other media types with 415, without strategic merge for custom resources', () => {
    const err = apiError(() => applyPatch('application/json', live(), '{}', pod));
    assert.equal(err.code, 415);
    assert.equal(err.reason, 'UnsupportedMediaType');
    assert.equal(
      err.message,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
    );
    const crd = apiError(() => applyPatch(STRATEGIC_MERGE_PATCH, live(), '{}', undefined, { strategic: false }));
    assert.equal(crd.code, 415);
    assert.match(crd.message, /include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml$/);
  });
});

describe('applyPatch: malformed bodies are 400 with encoding/json’s words', () => {
  const cases: [string, string, unknown, string][] = [
    ['SMP syntax error', STRATEGIC_MERGE_PATCH, '{"spec": x}', "invalid character 'x' looking for beginning of value"],
    ['SMP truncated', STRATEGIC_MERGE_PATCH, '{"spec":', 'unexpected end of JSON input'],
    ['SMP array', STRATEGIC_MERGE_PATCH, '[]', 'json: cannot unmarshal array into Go value of type map[string]interface {}'],
    ['merge syntax error', MERGE_PATCH, '{"a" 1}', "error decoding patch: invalid character '1' after object key"],
    ['merge string', MERGE_PATCH, '"x"', 'error decoding patch: json: cannot unmarshal string into Go value of type map[string]interface {}'],
    ['merge null', MERGE_PATCH, 'null', 'Invalid JSON Patch'],
    ['JSON patch object', JSON_PATCH, '{"op":"add"}', 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp'],
    ['JSON patch element', JSON_PATCH, '[1]', 'error decoding patch: json: cannot unmarshal number into Go value of type handlers.jsonPatchOp'],
    ['JSON patch field', JSON_PATCH, '[{"op":"add","path":5}]', 'error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string'],
    ['JSON patch syntax error', JSON_PATCH, '[{"op":"add",}]', `error decoding patch: invalid character '}' looking for beginning of object key string`],
    ['nesting beyond 10000', MERGE_PATCH, `{"a":${'['.repeat(10001)}${']'.repeat(10001)}}`, "error decoding patch: invalid character '[' exceeded max depth"],
  ];
  for (const [name, ct, body, message] of cases) {
    it(name, () => {
      const err = apiError(() => applyPatch(ct, live(), body, pod));
      assert.equal(err.code, 400);
      assert.equal(err.reason, 'BadRequest');
      assert.equal(err.message, message);
    });
  }

  it('a strategic merge patch that breaks its own rules is 400 with upstream’s text', () => {
    const err = apiError(() => applyPatch(STRATEGIC_MERGE_PATCH, live(), '{"spec":{"containers":[{"image":"x"}]}}', pod));
    assert.equal(err.code, 400);
    assert.equal(err.message, 'map: map[image:x] does not contain declared merge key: name');
  });
});

describe('applyPatch: JSON patch failures', () => {
  it('a failed operation is upstream’s generic 422 Invalid with empty details', () => {
    const err = apiError(() => applyPatch(JSON_PATCH, live(), '[{"op":"test","path":"/metadata/name","value":"other"}]', pod));
    assert.equal(err.code, 422);
    assert.equal(err.reason, 'Invalid');
    assert.equal(err.message, 'the server rejected our request due to an error in our request');
    assert.deepEqual(err.details, {});
    assert.equal(err.cause, 'testing value /metadata/name failed: test failed');
  });

  it('a missing path is the same 422', () => {
    const err = apiError(() => applyPatch(JSON_PATCH, live(), '[{"op":"remove","path":"/spec/affinity"}]', pod));
    assert.equal(err.code, 422);
    assert.equal(err.message, 'the server rejected our request due to an error in our request');
  });

  it('more than 10000 operations is 413', () => {
    const ops = JSON.stringify(Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Pod' })));
    const err = apiError(() => applyPatch(JSON_PATCH, live(), ops, pod));
    assert.equal(err.code, 413);
    assert.equal(err.message, 'The allowed maximum operations in a JSON patch is 10000, got 10001');
  });

  it('a result that is not an object is 422 Invalid on field "patch"', () => {
    const err = apiError(() => applyPatch(JSON_PATCH, live(), '[{"op":"replace","path":"","value":[1]}]', pod));
    assert.equal(err.code, 422);
    assert.equal(err.message, ' "" is invalid: patch: Invalid value: "[1]": json: cannot unmarshal array into Go value of type map[string]interface {}');
  });
});

describe('isNoop', () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ['same object, other key order', { a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 }, true],
    ['array order matters', { a: [1, 2] }, { a: [2, 1] }, false],
    ['extra key', { a: 1 }, { a: 1, b: 1 }, false],
    ['undefined counts as absent', { a: 1, b: undefined }, { a: 1 }, true],
    ['null is not absent', { a: 1, b: null }, { a: 1 }, false],
    ['1 vs "1"', { a: 1 }, { a: '1' }, false],
    ['object vs array', { a: {} }, { a: [] }, false],
  ];
  for (const [name, a, b, want] of cases) {
    it(name, () => {
      assert.equal(isNoop(a, b), want);
      assert.equal(isNoop(b, a), want);
    });
  }

  it('a patch that changes nothing is a no-op', () => {
    const d = { metadata: { name: 'd' }, spec: { paused: true, strategy: { type: 'Recreate' } } };
    assert.ok(isNoop(d, applyPatch(STRATEGIC_MERGE_PATCH, d, '{"spec":{"paused":true,"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}', deployment)));
    assert.ok(!isNoop(d, applyPatch(STRATEGIC_MERGE_PATCH, d, '{"spec":{"paused":null}}', deployment)));
  });
});
