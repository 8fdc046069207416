// Body decoding rules (request.ts): malformed YAML of every kind is a 400 BadRequest, never another error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../api/errors.js';
import { parseYAML } from './request.js';

test('parseYAML: malformed documents are 400 BadRequest naming the YAML problem', () => {
  for (const text of ['*!', '*a', 'a: *b', '{', 'a: [1, 2', 'a: b: c', '- a\nb: c']) {
    assert.throws(
      () => parseYAML(text),
      (e: unknown) => e instanceof ApiError && e.code === 400 && /^error decoding YAML: /.test(e.message),
      `input ${JSON.stringify(text)}`,
    );
  }
});

test('parseYAML: anchors and aliases that resolve are fine', () => {
  assert.deepEqual(parseYAML('a: &x {k: v}\nb: *x'), { a: { k: 'v' }, b: { k: 'v' } });
});
