// metav1.LabelSelector helpers: the String() form (scale status.selector), conversion errors, matching.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { messages } from './testutil.js';
import { formatLabelSelector, labelSelectorMatches, selectorString, SelectorError, validateLabelSelector } from './labelselector.js';

describe('selectorString', () => {
  const cases: [unknown, string][] = [
    [undefined, ''],
    [{}, ''],
    [{ matchLabels: { app: 'web' } }, 'app=web'],
    [{ matchLabels: { tier: 'fe', app: 'web' } }, 'app=web,tier=fe'],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }, 'app=web,tier in (a,b)'],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }, { key: 'canary', operator: 'DoesNotExist' }, { key: 'app', operator: 'Exists' }] }, 'app,!canary,env notin (dev)'],
  ];
  for (const [sel, want] of cases)
    test(JSON.stringify(sel) ?? 'nil', () => {
      assert.equal(selectorString(sel), want);
    });
  test('unconvertible selectors throw, and format as <error>', () => {
    assert.throws(() => selectorString({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), SelectorError);
    assert.throws(() => selectorString({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), SelectorError);
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), '<error>');
    assert.equal(formatLabelSelector({}), '<none>');
  });
});

describe('matching', () => {
  test('nil matches nothing, {} everything, expressions as upstream', () => {
    assert.equal(labelSelectorMatches(undefined, { a: 'b' }), false);
    assert.equal(labelSelectorMatches({}, {}), true);
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] };
    assert.equal(labelSelectorMatches(sel, { app: 'web' }), true);
    assert.equal(labelSelectorMatches(sel, { app: 'web', tier: 'db' }), false);
    assert.equal(labelSelectorMatches(sel, { tier: 'fe' }), false);
  });
});

describe('validateLabelSelector', () => {
  test('messages', () => {
    assert.deepEqual(messages(validateLabelSelector({ matchLabels: { 'a/b/c': 'x' }, matchExpressions: [{ key: 'k', operator: 'Exists', values: ['v'] }, { key: 'k', operator: 'In', values: ['bad value'] }] }, 'spec.selector')), [
      "spec.selector.matchLabels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      "spec.selector.matchExpressions[1].values[0]: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]);
  });
});
