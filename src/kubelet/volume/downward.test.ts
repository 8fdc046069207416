// Table tests for the downward API values: Go %q quoting, the k="v" map format, pod fields (volume and env sets),
// and resourceFieldRef arithmetic with divisors and the node-allocatable fallback.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerResourceValue, formatMap, goQuote, podFieldValue } from './downward.js';
import type { Pod } from '../types.js';

test('goQuote matches strconv.Quote', () => {
  const cases: Array<[string, string]> = [
    ['plain', '"plain"'],
    ['with space', '"with space"'],
    ['a"b', '"a\\"b"'],
    ['back\\slash', '"back\\\\slash"'],
    ['line\nbreak\ttab', '"line\\nbreak\\ttab"'],
    ['\x00\x7f', '"\\x00\\x7f"'],
    ['héllo ☃', '"héllo ☃"'],
    ['\u00a0', '"\\u00a0"'],
    ['\u200b', '"\\u200b"'],
    ['', '""'],
  ];
  for (const [input, want] of cases) assert.equal(goQuote(input), want, JSON.stringify(input));
});

test('formatMap: sorted key="value" lines without a trailing newline', () => {
  assert.equal(formatMap({ zone: 'b', app: 'web', 'x.io/y': 'say "hi"' }), 'app="web"\nx.io/y="say \\"hi\\""\nzone="b"');
  assert.equal(formatMap({}), '');
  assert.equal(formatMap(undefined), '');
});

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-0', namespace: 'prod', uid: 'u-1', labels: { app: 'web', tier: 'front' }, annotations: { note: 'x' } },
  spec: { nodeName: 'node-a', serviceAccountName: 'sa' },
  status: { podIP: '10.1.0.5', podIPs: [{ ip: '10.1.0.5' }], hostIP: '10.0.0.1' },
};

test('podFieldValue: metadata fields for volumes, spec/status fields only for env', () => {
  const ok: Array<[string, boolean, string]> = [
    ['metadata.name', false, 'web-0'],
    ['metadata.namespace', false, 'prod'],
    ['metadata.uid', false, 'u-1'],
    ['metadata.labels', false, 'app="web"\ntier="front"'],
    ['metadata.annotations', false, 'note="x"'],
    ["metadata.labels['tier']", false, 'front'],
    ["metadata.annotations['missing']", false, ''],
    ['spec.nodeName', true, 'node-a'],
    ['spec.serviceAccountName', true, 'sa'],
    ['status.podIP', true, '10.1.0.5'],
    ['status.podIPs', true, '10.1.0.5'],
    ['status.hostIP', true, '10.0.0.1'],
  ];
  for (const [path, env, want] of ok) assert.equal(podFieldValue(pod, path, env), want, path);
  assert.throws(() => podFieldValue(pod, 'spec.nodeName'), /^Error: unsupported fieldPath: spec.nodeName$/);
  assert.throws(() => podFieldValue(pod, 'metadata.generation', true), /unsupported fieldPath: metadata.generation/);
});

test('containerResourceValue: divisors round up; unset limits fall back to allocatable, unset requests are 0', () => {
  const c = { name: 'c', resources: { limits: { cpu: '1500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi' } } };
  const bare = { name: 'b' };
  const alloc = { cpu: '2', memory: '8Gi', 'ephemeral-storage': '10Gi' };
  const cases: Array<[typeof c | typeof bare, string, unknown, string]> = [
    [c, 'limits.cpu', undefined, '2'],
    [c, 'limits.cpu', '1m', '1500'],
    [c, 'limits.cpu', '100m', '15'],
    [c, 'requests.cpu', '1', '1'],
    [c, 'requests.cpu', '1m', '250'],
    [c, 'limits.memory', undefined, String(128 * 1024 * 1024)],
    [c, 'limits.memory', '1Mi', '128'],
    [c, 'requests.memory', '1M', '68'],
    [bare, 'limits.cpu', '1m', '2000'],
    [bare, 'limits.memory', '1Gi', '8'],
    [bare, 'limits.ephemeral-storage', '1Gi', '10'],
    [bare, 'requests.cpu', undefined, '0'],
    [bare, 'requests.memory', undefined, '0'],
  ];
  for (const [ctr, res, div, want] of cases) assert.equal(containerResourceValue(ctr, res, div, alloc), want, `${ctr.name} ${res} / ${String(div)}`);
  assert.throws(() => containerResourceValue(c, 'limits.gpu', undefined), /unsupported container resource : limits.gpu/);
});
