// End-to-end: walkthrough W1 from the seed documents (pods and labels), typed exactly as a reader would.
// Pods stay Pending in this tier (no scheduler or kubelet yet), so only API-visible behaviour is asserted;
// logs/exec and the Scheduled/Pulled/Created/Started events come with the node tier.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, lines, manifest, parseTable, withNamespace } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start();
});

after(async () => {
  await srv?.stop();
});

test('W1: pods and labels', async () => {
  const k = await withNamespace(srv, 'e2e-w1');
  const ns = k.namespace!;
  assert.equal((await k.ok(['apply', '-f', manifest('w1-hello-pod.yaml')])).stdout, 'pod/hello-pod created\n');
  assert.equal((await k.ok(['create', '-f', manifest('w1-kubia-manual.yaml')])).stdout, 'pod/kubia-manual created\n');
  assert.equal(
    (await k.ok(['create', '-f', manifest('w1-kubia-manual-with-labels.yaml')])).stdout,
    'pod/kubia-manual-v2 created\n',
  );
  assert.equal((await k.ok(['apply', '-f', manifest('w1-hello-pod.yaml')])).stdout, 'pod/hello-pod unchanged\n');

  const pods = parseTable((await k.ok(['get', 'pods'])).stdout);
  assert.equal(pods.headerLine.replace(/\s+/g, ' '), 'NAME READY STATUS RESTARTS AGE');
  assert.deepEqual(
    pods.rows.map((r) => [r.NAME, r.READY, r.STATUS, r.RESTARTS]),
    [
      ['hello-pod', '0/1', 'Pending', '0'],
      ['kubia-manual', '0/1', 'Pending', '0'],
      ['kubia-manual-v2', '0/1', 'Pending', '0'],
    ],
  );

  const shown = parseTable((await k.ok(['get', 'po', '--show-labels'])).stdout);
  assert.deepEqual(
    shown.rows.map((r) => [r.NAME, r.LABELS]),
    [
      ['hello-pod', 'app=web'],
      ['kubia-manual', '<none>'],
      ['kubia-manual-v2', 'creation_method=manual,env=prod'],
    ],
  );

  const cols = parseTable((await k.ok(['get', 'po', '-L', 'creation_method,env'])).stdout);
  assert.deepEqual(cols.headers.slice(-2), ['CREATION_METHOD', 'ENV']);
  assert.deepEqual(
    cols.rows.map((r) => [r.NAME, r.CREATION_METHOD, r.ENV]),
    [
      ['hello-pod', '', ''],
      ['kubia-manual', '', ''],
      ['kubia-manual-v2', 'manual', 'prod'],
    ],
  );

  assert.equal(
    (await k.ok(['label', 'po', 'kubia-manual', 'creation_method=manual'])).stdout,
    'pod/kubia-manual labeled\n',
  );
  const refused = await k.fail(['label', 'po', 'kubia-manual-v2', 'env=debug']);
  assert.equal(refused.stderr, "error: 'env' already has a value (prod), and --overwrite is false\n");
  assert.equal(
    (await k.ok(['label', 'po', 'kubia-manual-v2', 'env=debug', '--overwrite'])).stdout,
    'pod/kubia-manual-v2 labeled\n',
  );

  const select = async (sel: string) => lines((await k.ok(['get', 'po', '-l', sel, '-o', 'name'])).stdout);
  assert.deepEqual(await select('creation_method=manual'), ['pod/kubia-manual', 'pod/kubia-manual-v2']);
  assert.deepEqual(await select('env'), ['pod/kubia-manual-v2']);
  assert.deepEqual(await select('!env'), ['pod/hello-pod', 'pod/kubia-manual']);
  assert.deepEqual(await select('env notin (prod,devel)'), ['pod/hello-pod', 'pod/kubia-manual', 'pod/kubia-manual-v2']);
  assert.deepEqual(await select('creation_method!=manual'), ['pod/hello-pod']);
  const none = await k.ok(['get', 'po', '-l', 'env in (prod,devel)']);
  assert.equal(none.stdout, '');
  assert.equal(none.stderr, `No resources found in ${ns} namespace.\n`);

  const desc = (await k.ok(['describe', 'pod', 'hello-pod'])).stdout;
  assert.match(desc, /^Name:\s+hello-pod$/m);
  assert.match(desc, /^Labels:\s+app=web$/m);
  assert.match(desc, /^\s+Port:\s+8080\/TCP$/m);

  assert.equal((await k.ok(['delete', 'pod', 'hello-pod'])).stdout, 'pod "hello-pod" deleted\n');
  assert.equal((await k.ok(['get', 'pods', '-o', 'name'])).stdout, 'pod/kubia-manual\npod/kubia-manual-v2\n');
});
