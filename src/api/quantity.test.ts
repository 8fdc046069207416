// Tests for resource.Quantity parsing and canonical formatting against upstream's documented forms.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  QUANTITY_FORMAT_MESSAGE,
  QUANTITY_SUFFIX_MESSAGE,
  addQuantity,
  canonicalQuantity,
  cmpQuantity,
  formatQuantity,
  parseQuantity,
  quantityMilliValue,
  quantityValue,
  roundUp,
  subQuantity,
} from './quantity.js';

test('canonical forms match upstream Quantity.String()', () => {
  const cases: [string | number, string][] = [
    ['100m', '100m'],
    ['0.1', '100m'],
    ['0.5', '500m'],
    ['1', '1'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['1.5', '1500m'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['2000', '2k'],
    ['1e3', '1e3'],
    ['1.5e3', '1500'],
    ['1E6', '1e6'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1000Mi', '1000Mi'],
    ['0.5Gi', '512Mi'],
    ['1.5Gi', '1536Mi'],
    ['512Ki', '512Ki'],
    ['100Ki', '100Ki'],
    ['1023', '1023'],
    ['0.5Ki', '512'],
    ['128974848', '128974848'],
    ['129e6', '129e6'],
    ['129M', '129M'],
    ['123Mi', '123Mi'],
    ['0', '0'],
    ['0Gi', '0'],
    ['-0', '0'],
    ['-1', '-1'],
    ['-100m', '-100m'],
    ['+5', '5'],
    ['.5', '500m'],
    ['5.', '5'],
    ['0.1n', '1n'],
    ['1.0000000001', '1000000001n'],
    [1, '1'],
    [0.25, '250m'],
    ['2Ti', '2Ti'],
    ['1Ei', '1Ei'],
    ['1E', '1E'],
    ['10G', '10G'],
    ['1.1Gi', '1181116006400m'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, `canonical(${JSON.stringify(input)})`);
});

test('invalid quantities fail with upstream messages', () => {
  const cases: [string, string][] = [
    ['', QUANTITY_FORMAT_MESSAGE],
    ['abc', QUANTITY_FORMAT_MESSAGE],
    ['1.2.3', QUANTITY_FORMAT_MESSAGE],
    ['1 Gi', QUANTITY_FORMAT_MESSAGE],
    ['1Gb', QUANTITY_FORMAT_MESSAGE],
    ['1ki', QUANTITY_SUFFIX_MESSAGE],
    ['1mi', QUANTITY_SUFFIX_MESSAGE],
    ['1KiB', QUANTITY_FORMAT_MESSAGE],
    ['.', QUANTITY_FORMAT_MESSAGE],
  ];
  for (const [input, msg] of cases) assert.throws(() => parseQuantity(input), { message: msg }, `parse(${JSON.stringify(input)})`);
});

test('compare, add, sub, values', () => {
  assert.equal(cmpQuantity('1', '1000m'), 0);
  assert.equal(cmpQuantity('1Gi', '1G'), 1);
  assert.equal(cmpQuantity('100m', '0.2'), -1);
  assert.equal(formatQuantity(addQuantity(parseQuantity('100m'), parseQuantity('1'))), '1100m');
  assert.equal(formatQuantity(addQuantity(parseQuantity('1Gi'), parseQuantity('1Gi'))), '2Gi');
  assert.equal(formatQuantity(subQuantity(parseQuantity('1'), parseQuantity('250m'))), '750m');
  assert.equal(quantityMilliValue(parseQuantity('1.5')), 1500);
  assert.equal(quantityValue(parseQuantity('1500m')), 2, 'Value() rounds up');
  assert.equal(quantityValue(parseQuantity('1Ki')), 1024);
});

test('roundUp to milli as resource-list defaulting does', () => {
  assert.equal(formatQuantity(roundUp(parseQuantity('0.0001'), -3)), '1m');
  assert.equal(formatQuantity(roundUp(parseQuantity('1.0001'), -3)), '1001m');
  assert.equal(formatQuantity(roundUp(parseQuantity('100m'), -3)), '100m');
  assert.equal(formatQuantity(roundUp(parseQuantity('1Gi'), -3)), '1Gi');
});
