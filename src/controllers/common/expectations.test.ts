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

test('raise adds to an outstanding record; a satisfied or expired one starts afresh', () => {
  let t = 0;
  const e = new Expectations(() => t);
  e.raise('ns/set', 1);
  e.raise('ns/set', 1);
  e.raise('ns/set', 0, ['ns/web-3']);
  assert.deepEqual(e.pending('ns/set'), { add: 2, del: 1 });
  e.creationObserved('ns/set');
  assert.equal(e.satisfied('ns/set'), false, 'one creation still outstanding');
  e.creationObserved('ns/set');
  e.deletionObserved('ns/set', 'ns/web-3');
  assert.equal(e.satisfied('ns/set'), true);
  e.raise('ns/set', 1);
  assert.deepEqual(e.pending('ns/set'), { add: 1, del: 0 }, 'fresh record after satisfaction');
  t += 6 * 60_000;
  e.raise('ns/set', 1);
  assert.deepEqual(e.pending('ns/set'), { add: 1, del: 0 }, 'fresh record after expiry');
});
