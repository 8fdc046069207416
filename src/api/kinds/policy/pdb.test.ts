// PodDisruptionBudget: validation messages, status validation and columns.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GO_VALUE_TODO, goValuesRendered, messages, obj } from '../meta/testutil.js';
import { pdbKind } from './pdb.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');
const pdb = (spec: Record<string, unknown>) => obj('policy/v1', 'PodDisruptionBudget', 'web', { spec });

describe('PodDisruptionBudget', () => {
  test('valid budgets and the initial status', () => {
    const p = pdb({ minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
    pdbKind.prepareForCreate!(p);
    assert.deepEqual(p.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    assert.deepEqual(pdbKind.validate!(p), []);
  });
  test('both bounds, bad percentages and an unknown eviction policy', { todo: goValuesRendered ? undefined : GO_VALUE_TODO }, () => {
    assert.deepEqual(messages(pdbKind.validate!(pdb({ minAvailable: '150%', maxUnavailable: -1, unhealthyPodEvictionPolicy: 'Never' }))), [
      'spec: Invalid value: policy.PodDisruptionBudgetSpec{...}: minAvailable and maxUnavailable cannot be both set',
      'spec.minAvailable: Invalid value: 150%: must not be greater than 100%',
      'spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0',
      'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
    ]);
  });
  test('status counters are non-negative and conditions well formed', () => {
    const p = pdb({ minAvailable: 1 });
    p.status = { disruptionsAllowed: -1, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, conditions: [{ type: 'DisruptionAllowed', status: 'Maybe', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'SufficientPods' }] };
    assert.deepEqual(messages(pdbKind.validateStatusUpdate!(p, p)), [
      'status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
      'status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });
  test('columns show N/A for an unset bound', () => {
    const p = pdb({ maxUnavailable: '25%' });
    p.status = { disruptionsAllowed: 2 };
    assert.deepEqual(pdbKind.table!.cells(p, NOW), ['web', 'N/A', '25%', 2, '5m']);
  });
});
