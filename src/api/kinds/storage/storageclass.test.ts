// StorageClass: defaults, validation, immutability and the "(default)" name marker.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { messages, obj } from '../meta/testutil.js';
import { storageClassKind } from './storageclass.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');
const sc = (extra: Record<string, unknown>) => obj('storage.k8s.io/v1', 'StorageClass', 'local', extra, undefined);

describe('StorageClass', () => {
  test('defaults reclaimPolicy and volumeBindingMode', () => {
    const s = sc({ provisioner: 'rancher.io/local-path' });
    storageClassKind.defaults!(s);
    assert.equal(s.reclaimPolicy, 'Delete');
    assert.equal(s.volumeBindingMode, 'Immediate');
    assert.deepEqual(storageClassKind.validate!(s), []);
  });
  test('validation messages', () => {
    const s = sc({ reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' });
    assert.deepEqual(messages(storageClassKind.validate!(s)), [
      'provisioner: Required value',
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    ]);
  });
  test('parameters, provisioner and reclaimPolicy are fixed once created', () => {
    const a = sc({ provisioner: 'a.io/x', parameters: { type: 'ssd' }, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
    const b = sc({ provisioner: 'b.io/x', parameters: { type: 'hdd' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' });
    assert.deepEqual(messages(storageClassKind.validateUpdate!(b, a)), [
      'parameters: Forbidden: updates to parameters are forbidden.',
      'provisioner: Forbidden: updates to provisioner are forbidden.',
      'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
      'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]);
  });
  test('the default class is marked in the name column', () => {
    const s = sc({ provisioner: 'rancher.io/local-path', allowVolumeExpansion: true });
    storageClassKind.defaults!(s);
    s.metadata.annotations = { 'storageclass.kubernetes.io/is-default-class': 'true' };
    assert.deepEqual(storageClassKind.table!.cells(s, NOW), ['local (default)', 'rancher.io/local-path', 'Delete', 'Immediate', true, '5m']);
  });
});
