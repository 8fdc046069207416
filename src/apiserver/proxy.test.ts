// Table tests of the pod checks made before going to the kubelet: container choice and log-status rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/types.js';
import { checkLogStatus, chooseContainer } from './proxy.js';

const pod = (containers: string[], statuses: Array<Record<string, unknown>> = [], init: string[] = []): KubeObject =>
  ({ metadata: { name: 'p' }, spec: { containers: containers.map((name) => ({ name })), initContainers: init.map((name) => ({ name })) }, status: { containerStatuses: statuses } }) as unknown as KubeObject;

test('chooseContainer', () => {
  const cases: Array<[KubeObject, string | null, string | RegExp]> = [
    [pod(['a']), null, 'a'],
    [pod(['a', 'b']), 'b', 'b'],
    [pod(['a'], [], ['i']), 'i', 'i'],
    [pod(['a', 'b'], [], ['i']), null, /^a container name must be specified for pod p, choose one of: \[i a b\]$/],
    [pod(['a']), 'x', /^container x is not valid for pod p$/],
    [pod([]), null, /^pod p does not have a container$/],
  ];
  for (const [p, c, want] of cases) {
    if (typeof want === 'string') assert.equal(chooseContainer(p, c), want);
    else assert.throws(() => chooseContainer(p, c), (e: Error & { code?: number }) => want.test(e.message) && e.code === 400);
  }
});

test('checkLogStatus', () => {
  const running = { name: 'c', state: { running: {} } };
  const waiting = { name: 'c', state: { waiting: { reason: 'ContainerCreating' } } };
  const crashed = { name: 'c', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } };
  const cases: Array<[Record<string, unknown> | undefined, boolean, RegExp | undefined]> = [
    [running, false, undefined],
    [running, true, /^previous terminated container "c" in pod "p" not found$/],
    [waiting, false, /^container "c" in pod "p" is waiting to start: ContainerCreating$/],
    [crashed, false, undefined],
    [crashed, true, undefined],
    [undefined, false, /is waiting to start: ContainerCreating$/],
  ];
  for (const [st, previous, want] of cases) {
    const p = pod(['c'], st ? [st] : []);
    if (!want) assert.doesNotThrow(() => checkLogStatus(p, 'c', previous));
    else assert.throws(() => checkLogStatus(p, 'c', previous), (e: Error) => want.test(e.message));
  }
});
