// planInitContainers as a table: regular init containers one at a time, sidecars started in order and out of the
// way once running and started, restarts of exited or unhealthy sidecars, restartPolicy Never, an initialized pod.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planInitContainers, type InitPlan, type InitState } from './initcontainers.js';

const init = (state?: InitState['state'], exitCode?: number): InitState => ({ sidecar: false, ...(state ? { state } : {}), ...(exitCode !== undefined ? { exitCode } : {}), started: true, unhealthy: false, changed: false });
const side = (state?: InitState['state'], o: Partial<InitState> = {}): InitState => ({ sidecar: true, ...(state ? { state } : {}), started: true, unhealthy: false, changed: false, ...o });
const start = (index: number) => ({ index, action: 'start' as const });

test('planInitContainers', () => {
  const cases: Array<{ name: string; inits: InitState[]; policy?: string; prev?: boolean; want: InitPlan }> = [
    { name: 'no init containers', inits: [], want: { steps: [], initialized: true } },
    { name: 'first regular init starts', inits: [init(), init()], want: { steps: [start(0)], initialized: false } },
    { name: 'a running init blocks the next', inits: [init('running'), init()], want: { steps: [], initialized: false } },
    { name: 'done inits let the next start', inits: [init('exited', 0), init()], want: { steps: [start(1)], initialized: false } },
    { name: 'all done', inits: [init('exited', 0), init('exited', 0)], want: { steps: [], initialized: true } },
    { name: 'a failed init is retried', inits: [init('exited', 1), init()], want: { steps: [start(0)], initialized: false } },
    { name: 'a failed init fails a Never pod', inits: [init('exited', 1)], policy: 'Never', want: { steps: [], initialized: false, failed: 0 } },
    { name: 'a sidecar without startup probe and the next init start together', inits: [side(), init()], want: { steps: [start(0), start(1)], initialized: false } },
    { name: 'a sidecar with a startup probe holds the next until started', inits: [side(undefined, { started: false }), init()], want: { steps: [start(0)], initialized: false } },
    { name: 'running, not yet started', inits: [side('running', { started: false }), init()], want: { steps: [], initialized: false } },
    { name: 'running and started: the next init runs', inits: [side('running'), init()], want: { steps: [start(1)], initialized: false } },
    { name: 'sidecars in order, then the main containers', inits: [side('running'), side('running'), init('exited', 0)], want: { steps: [], initialized: true } },
    { name: 'a sidecar last: main containers start with it', inits: [init('exited', 0), side()], want: { steps: [start(1)], initialized: true } },
    { name: 'an exited sidecar restarts even under Never', inits: [side('exited', { exitCode: 0 }), init('exited', 0)], policy: 'Never', want: { steps: [start(0)], initialized: true } },
    { name: 'an unhealthy sidecar restarts and holds initialization', inits: [side('running', { unhealthy: true }), init()], want: { steps: [{ index: 0, action: 'restart' }], initialized: false } },
    { name: 'a changed sidecar restarts', inits: [side('running', { changed: true })], want: { steps: [{ index: 0, action: 'restart' }], initialized: false } },
    { name: 'initialized: an exited sidecar restarts, nothing waits', inits: [side('exited', { exitCode: 2 }), side('running')], prev: true, want: { steps: [start(0)], initialized: true } },
    { name: 'initialized: regular inits whose records are gone are not rerun', inits: [init(), side('running', { unhealthy: true })], prev: true, want: { steps: [{ index: 1, action: 'restart' }], initialized: true } },
  ];
  for (const c of cases) assert.deepEqual(planInitContainers(c.inits, c.policy ?? 'Always', c.prev ?? false), c.want, c.name);
});
