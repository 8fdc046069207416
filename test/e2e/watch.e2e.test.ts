// End-to-end: watches seen through kubectl — `get -w` on lists and single objects (with and without
// --output-watch-events) and `kubectl wait` for conditions, jsonpath values, deletion and timeouts.
// Where a change must happen after kubectl's watch is open, the kubectl runs with -v=6 and the test waits for the
// logged `watch=true … 200 OK` request line (a readiness signal, not a sleep).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, podObject, withNamespace, type Background } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start();
});

after(async () => {
  await srv?.stop();
});

const WATCH_OPEN = /[?&]watch=true\S* 200 OK/;

function count(text: string, re: RegExp): number {
  return (text.match(new RegExp(re.source, 'gm')) ?? []).length;
}

async function stopAll(...bs: Background[]): Promise<void> {
  for (const b of bs) await b.stop();
}

test('get -w on a list prints the table, then one row per event', async () => {
  const k = await withNamespace(srv, 'e2e-watch');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('w1')) });
  const w = k.spawn(['get', 'pods', '-w']);
  try {
    await w.waitFor(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/m);
    await w.waitFor(/^w1\s+0\/1\s+Pending\s+0\s+\S+$/m);
    await k.ok(['create', '-f', '-'], { stdin: docs(podObject('w2')) });
    await w.waitFor(/^w2\s+0\/1\s+Pending\s+0\s+\S+$/m);
    await k.ok(['label', 'pod', 'w1', 'seen=yes']);
    await w.waitFor((out) => count(out, /^w1\s/) >= 2);
    await k.ok(['delete', 'pod', 'w2', '--wait=false']);
    await w.waitFor((out) => count(out, /^w2\s/) >= 2);
  } finally {
    await w.stop();
  }
  assert.equal(count(w.stdout, /^NAME\s/), 1, `header printed more than once:\n${w.stdout}`);
  assert.equal(w.stderr, '');
});

test('get -w --output-watch-events labels each row ADDED / MODIFIED / DELETED', async () => {
  const k = await withNamespace(srv, 'e2e-watch-ev');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('e1')) });
  const w = k.spawn(['get', 'pods', '-w', '--output-watch-events']);
  try {
    await w.waitFor(/^EVENT\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/m);
    await w.waitFor(/^ADDED\s+e1\s+0\/1\s+Pending\s/m);
    await k.ok(['create', '-f', '-'], { stdin: docs(podObject('e2')) });
    await w.waitFor(/^ADDED\s+e2\s/m);
    await k.ok(['label', 'pod', 'e2', 'x=y']);
    await w.waitFor(/^MODIFIED\s+e2\s/m);
    await k.ok(['delete', 'pod', 'e2', '--wait=false']);
    await w.waitFor(/^DELETED\s+e2\s/m);
  } finally {
    await w.stop();
  }
  assert.equal(count(w.stdout, /^MODIFIED\s+e1\s/), 0, 'e1 never changed');
});

test('get pod X -w follows only that object and skips the synthetic ADDED', async () => {
  const k = await withNamespace(srv, 'e2e-watch-one');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('s1'), podObject('s2')) });
  const w = k.spawn(['get', 'pod', 's1', '-w', '-v=6']);
  try {
    await w.waitFor(/^s1\s+0\/1\s+Pending\s/m);
    await w.waitFor(WATCH_OPEN);
    assert.equal(count(w.stdout, /^s1\s/), 1, 'the watch start re-printed the current state');
    await k.ok(['label', 'pod', 's2', 'other=change']);
    await k.ok(['label', 'pod', 's1', 'mine=change']);
    await w.waitFor((out) => count(out, /^s1\s/) >= 2);
  } finally {
    await w.stop();
  }
  assert.equal(count(w.stdout, /^s2\s/), 0, `events of another pod were printed:\n${w.stdout}`);
});

test('wait --for=condition=Ready completes when the status condition turns True', async () => {
  const k = await withNamespace(srv, 'e2e-wait-cond');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('r1')) });
  const w = k.spawn(['wait', '--for=condition=Ready', 'pod/r1', '--timeout=30s']);
  try {
    await k.ok([
      'patch',
      'pod',
      'r1',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}',
    ]);
    const r = await w.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pod/r1 condition met\n');
  } finally {
    await stopAll(w);
  }
  // Already satisfied: returns at once.
  const again = await k.ok(['wait', '--for=condition=Ready', 'pod/r1', '--timeout=5s']);
  assert.equal(again.stdout, 'pod/r1 condition met\n');
});

test('wait --for=jsonpath on one object and on a label selector', async () => {
  const k = await withNamespace(srv, 'e2e-wait-jp');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(podObject('j1', { labels: { grp: 'w' } }), podObject('j2', { labels: { grp: 'w' } })),
  });
  const one = k.spawn(['wait', '--for=jsonpath={.metadata.labels.stage}=done', 'pod/j1', '--timeout=30s']);
  const many = k.spawn(['wait', '--for=jsonpath={.metadata.labels.stage}=done', 'pods', '-l', 'grp=w', '--timeout=30s']);
  try {
    await k.ok(['label', 'pod', 'j1', 'stage=done']);
    const r1 = await one.done;
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r1.stdout, 'pod/j1 condition met\n');
    await k.ok(['label', 'pod', 'j2', 'stage=done']);
    const r2 = await many.done;
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stdout, 'pod/j1 condition met\npod/j2 condition met\n');
  } finally {
    await stopAll(one, many);
  }
});

test('wait --for=delete completes on the DELETED event', async () => {
  const k = await withNamespace(srv, 'e2e-wait-del');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('d1')) });
  const w = k.spawn(['wait', '--for=delete', 'pod/d1', '--timeout=30s', '-v=6']);
  try {
    await w.waitFor(WATCH_OPEN);
    await k.ok(['delete', 'pod', 'd1', '--wait=false']);
    const r = await w.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pod/d1 condition met\n');
  } finally {
    await stopAll(w);
  }
});

test('wait: timeout and missing object', async () => {
  const k = await withNamespace(srv, 'e2e-wait-err');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('t1')) });
  const t = await k.fail(['wait', '--for=condition=Ready', 'pod/t1', '--timeout=1s']);
  assert.equal(t.stderr, 'error: timed out waiting for the condition on pods/t1\n');
  const nf = await k.fail(['wait', '--for=condition=Ready', 'pod/nope', '--timeout=2s']);
  assert.equal(nf.stderr, 'Error from server (NotFound): pods "nope" not found\n');
});
