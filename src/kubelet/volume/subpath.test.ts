// Table tests for subPath rules: upstream's $(VAR) expansion, the env a subPathExpr sees, missing variables, and
// the absolute/backstep checks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSubPath, expand, expandSubPathExpr, subPathEnv, within } from './subpath.js';
import type { Pod } from '../types.js';

test('expand follows the expansion package', () => {
  const vars: Record<string, string> = { A: 'x', B: 'y', EMPTY: '' };
  const map = (k: string) => vars[k] ?? `$(${k})`;
  const cases: Array<[string, string]> = [
    ['$(A)', 'x'],
    ['pre-$(A)-$(B)-post', 'pre-x-y-post'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$x'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$(A', '$(A'],
    ['$A', '$A'],
    ['cost: 5$', 'cost: 5$'],
    ['$()', '$()'],
    ['', ''],
  ];
  for (const [input, want] of cases) assert.equal(expand(input, map), want, input);
});

const pod: Pod = {
  metadata: { name: 'web-0', namespace: 'prod', uid: 'u1' },
  spec: { nodeName: 'node-a', containers: [] },
  status: { podIP: '10.1.0.7' },
};

test('subPathEnv: literal values (expanded against earlier ones) and downward fields; configMap refs left out', () => {
  const c = {
    name: 'c',
    resources: { limits: { memory: '1Gi' } },
    env: [
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'DIR', value: 'logs/$(POD)' },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'CM', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } },
      { name: 'LATER', value: '$(AFTER)' },
      { name: 'AFTER', value: 'a' },
    ],
  };
  const env = subPathEnv(pod, c);
  assert.deepEqual(Object.fromEntries(env), { POD: 'web-0', DIR: 'logs/web-0', NODE: 'node-a', MEM: '1024', LATER: '$(AFTER)', AFTER: 'a' });
  assert.equal(expandSubPathExpr('$(DIR)/$(NODE)', env), 'logs/web-0/node-a');
  assert.throws(() => expandSubPathExpr('$(CM)/$(NOPE)/$(POD)', env), /^Error: missing value for CM, NOPE$/);
  assert.throws(() => expandSubPathExpr('$(E)', new Map([['E', '']])), /missing value for E/);
});

test('checkSubPath refuses absolute paths and backsteps; within compares whole path elements', () => {
  const cases: Array<[string, string | undefined]> = [
    ['a/b', undefined],
    ['..data', undefined],
    ['a..b/c', undefined],
    ['/etc', 'error SubPath `/etc` must not be an absolute path'],
    ['../x', "unable to provision SubPath `../x`: must not contain '..'"],
    ['a/../../x', "unable to provision SubPath `a/../../x`: must not contain '..'"],
  ];
  for (const [p, want] of cases) assert.equal(checkSubPath(p), want, p);
  assert.equal(within('/v/a', '/v/a'), true);
  assert.equal(within('/v/a', '/v/a/b'), true);
  assert.equal(within('/v/a', '/v/ab'), false);
  assert.equal(within('/v/a', '/v'), false);
});
