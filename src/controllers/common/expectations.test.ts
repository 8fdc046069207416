// Expectations: satisfied only once every expected creation and deletion has been observed (each deletion
// once), or after the five-minute TTL.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXPECTATIONS_TTL_MS, Expectations } from './expectations.js';

test('creations and deletions must all be observed; a deletion counts once; records expire', () => {
  let now = 0;
  const e = new Expectations(() => now);
  assert.equal(e.satisfied('ns/a'), true, 'no record: act');
  e.expect('ns/a', 2, ['ns/p1']);
  assert.equal(e.satisfied('ns/a'), false);
  e.creationObserved('ns/a');
  e.creationObserved('ns/a');
  assert.equal(e.satisfied('ns/a'), false, 'the deletion is still outstanding');
  e.deletionObserved('ns/a', 'ns/other');
  assert.equal(e.satisfied('ns/a'), false, 'only the expected pod counts');
  e.deletionObserved('ns/a', 'ns/p1');
  e.deletionObserved('ns/a', 'ns/p1');
  assert.deepEqual(e.pending('ns/a'), { add: 0, del: 0 });
  assert.equal(e.satisfied('ns/a'), true);
  e.expect('ns/b', 1);
  now += EXPECTATIONS_TTL_MS + 1;
  assert.equal(e.satisfied('ns/b'), true, 'expired');
  e.delete('ns/b');
  assert.equal(e.pending('ns/b'), undefined);
});
