// Table tests for volume payloads: ConfigMap/Secret keys and items with modes and optional sources, upstream's
// missing-key errors, downwardAPI items, error aggregation and the atomic writer's path rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { aggregate, configMapPayload, downwardPayload, secretPayload, validatePayloadPath, type Payload } from './payload.js';
import type { Pod } from '../types.js';

const flat = (p: Payload) => Object.fromEntries([...p].map(([k, f]) => [k, [f.data.toString('utf8'), f.mode.toString(8)]]));

const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'ns' }, data: { 'app.conf': 'a=1', mode: 'dev' }, binaryData: { 'blob.bin': Buffer.from('BIN').toString('base64') } };

test('configMapPayload: all keys, items with paths and modes, optional', () => {
  const cases: Array<[string, Record<string, unknown>, KubeObject | undefined, number, Record<string, [string, string]> | RegExp]> = [
    ['all keys at defaultMode', {}, cm, 0o644, { 'app.conf': ['a=1', '644'], mode: ['dev', '644'], 'blob.bin': ['BIN', '644'] }],
    ['defaultMode 0400', {}, cm, 0o400, { 'app.conf': ['a=1', '400'], mode: ['dev', '400'], 'blob.bin': ['BIN', '400'] }],
    ['items pick and move', { items: [{ key: 'app.conf', path: 'etc/app.conf' }, { key: 'blob.bin', path: 'b', mode: 0o600 }] }, cm, 0o644, { 'etc/app.conf': ['a=1', '644'], b: ['BIN', '600'] }],
    ['missing key', { items: [{ key: 'nope', path: 'x' }] }, cm, 0o644, /^Error: configmap references non-existent config key: nope$/],
    ['missing key, optional', { optional: true, items: [{ key: 'nope', path: 'x' }, { key: 'mode', path: 'm' }] }, cm, 0o644, { m: ['dev', '644'] }],
    ['absent optional configmap', { optional: true }, undefined, 0o644, {}],
  ];
  for (const [name, src, obj, mode, want] of cases) {
    if (want instanceof RegExp) assert.throws(() => configMapPayload(src, obj, mode), want, name);
    else assert.deepEqual(flat(configMapPayload(src, obj, mode)), want, name);
  }
});

test('secretPayload decodes base64 and words a missing key as upstream', () => {
  const s: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: Buffer.from('hunter2').toString('base64') } };
  assert.deepEqual(flat(secretPayload({}, s, 0o644)), { password: ['hunter2', '644'] });
  assert.deepEqual(flat(secretPayload({ items: [{ key: 'password', path: 'pw', mode: 0o400 }] }, s, 0o644)), { pw: ['hunter2', '400'] });
  assert.throws(() => secretPayload({ items: [{ key: 'user', path: 'u' }] }, s, 0o644), /^Error: references non-existent secret key: user$/);
});

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u-9', labels: { b: '2', a: '1' } },
  spec: { containers: [{ name: 'main', resources: { limits: { cpu: '500m' } } }] },
};

test('downwardPayload: fieldRef and resourceFieldRef items with modes; errors aggregated', () => {
  const items = [
    { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
    { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' }, mode: 0o600 },
    { path: 'cpu_limit', resourceFieldRef: { containerName: 'main', resource: 'limits.cpu', divisor: '1m' } },
    { path: 'mem_limit', resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' } },
  ];
  assert.deepEqual(flat(downwardPayload(items, pod, 0o644, { memory: '2Gi' })), {
    name: ['p', '644'],
    labels: ['a="1"\nb="2"', '600'],
    cpu_limit: ['500', '644'],
    mem_limit: ['2048', '644'],
  });
  assert.throws(() => downwardPayload([{ path: 'x', fieldRef: { fieldPath: 'spec.nodeName' } }], pod, 0o644), /^Error: unsupported fieldPath: spec.nodeName$/);
  assert.throws(
    () => downwardPayload([{ path: 'x', fieldRef: { fieldPath: 'spec.nodeName' } }, { path: 'y', resourceFieldRef: { containerName: 'gone', resource: 'limits.cpu' } }], pod, 0o644),
    /^Error: \[unsupported fieldPath: spec.nodeName, container gone not found\]$/,
  );
  assert.equal(aggregate(['one']), 'one');
});

test('validatePayloadPath: the atomic writer path rules', () => {
  const cases: Array<[string, string | RegExp]> = [
    ['a', 'a'],
    ['a/b/c', 'a/b/c'],
    ['./a//b/', 'a/b'],
    ['a..b', 'a..b'],
    ['', /must not be empty/],
    ['/etc/passwd', /^Error: invalid path: must be relative path: \/etc\/passwd$/],
    ['a/../b', /^Error: invalid path: must not contain '\.\.': a\/\.\.\/b$/],
    ['..data', /^Error: invalid path: must not start with '\.\.': \.\.data$/],
  ];
  for (const [p, want] of cases) {
    if (want instanceof RegExp) assert.throws(() => validatePayloadPath(p), want, p);
    else assert.equal(validatePayloadPath(p), want, p);
  }
});
