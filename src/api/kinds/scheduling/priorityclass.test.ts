// PriorityClass: defaulted preemption policy, value limits, reserved system- names, update rules, columns.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { messages, obj } from '../meta/testutil.js';
import { priorityClassKind } from './priorityclass.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');
const pc = (name: string, extra: Record<string, unknown>) => obj('scheduling.k8s.io/v1', 'PriorityClass', name, extra, undefined);

describe('PriorityClass', () => {
  test('defaults preemptionPolicy and shows it in the table', () => {
    const p = pc('high', { value: 1000, globalDefault: false });
    priorityClassKind.defaults!(p);
    assert.equal(p.preemptionPolicy, 'PreemptLowerPriority');
    assert.deepEqual(priorityClassKind.validate!(p), []);
    assert.deepEqual(priorityClassKind.table!.cells(p, NOW), ['high', 1000, false, '5m', 'PreemptLowerPriority']);
  });
  test('user values are capped and system- names are reserved', () => {
    assert.deepEqual(messages(priorityClassKind.validate!(pc('huge', { value: 1_000_000_001 }))), ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
    assert.deepEqual(messages(priorityClassKind.validate!(pc('system-mine', { value: 5 }))), [
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    ]);
    assert.deepEqual(priorityClassKind.validate!(pc('system-node-critical', { value: 2000001000 })), []);
  });
  test('value and preemption policy are immutable', () => {
    const a = pc('high', { value: 1, preemptionPolicy: 'Never' });
    const b = pc('high', { value: 2, preemptionPolicy: 'PreemptLowerPriority' });
    assert.deepEqual(messages(priorityClassKind.validateUpdate!(b, a)), ['value: Forbidden: may not be changed in an update.', 'preemptionPolicy: Invalid value: "PreemptLowerPriority": field is immutable']);
  });
});
