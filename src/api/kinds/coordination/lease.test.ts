// Lease: spec validation, alpha fields dropped, holder column.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { messages, obj } from '../meta/testutil.js';
import { leaseKind } from './lease.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');

describe('Lease', () => {
  test('validation messages', () => {
    const l = obj('coordination.k8s.io/v1', 'Lease', 'node-1', { spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } }, 'kube-node-lease');
    assert.deepEqual(messages(leaseKind.validate!(l)), ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0', 'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0']);
  });
  test('holder column; alpha fields are dropped on create', () => {
    const l = obj('coordination.k8s.io/v1', 'Lease', 'node-1', { spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, strategy: 'OldestEmulationVersion' } }, 'kube-node-lease');
    leaseKind.prepareForCreate!(l);
    assert.deepEqual(l.spec, { holderIdentity: 'node-1', leaseDurationSeconds: 40 });
    assert.deepEqual(leaseKind.table!.cells(l, NOW), ['node-1', 'node-1', '5m']);
  });
});
