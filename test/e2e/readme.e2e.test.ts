// End-to-end: the README's first session, word for word, on a node whose images were imported by the script the
// README's first command runs (scripts/demo-images.mjs): luksa/kubia:v1 behind a Service, a busybox:1.36 client, and
// `kubectl exec client -- wget -qO- http://kubia` answered by different pods through cluster DNS and the proxy.
// Network rule: the node and its pods live in a test host namespace; nothing is pulled.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';

import { repoRoot, type Server } from './harness.js';
import { startNodeCluster, type NodeCluster } from './nodehost.js';

let cluster: NodeCluster | undefined;
let srv: Server;

before(async () => {
  cluster = await startNodeCluster({ name: 'readme', deleteFirst: ['deployments'] });
  srv = cluster.srv;
  await promisify(execFile)(process.execPath, [join(repoRoot, 'scripts', 'demo-images.mjs'), cluster.dataDir], { timeout: 120_000 });
});

after(async () => {
  await cluster?.stop();
});

test("README: the seeds' W3 on the demo images — wget http://kubia from a pod answers from several pods", async () => {
  const k = srv.client();
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  // The commands this test runs are the README's (kept in step: a changed README fails here first).
  const session = [
    'kubectl create deployment kubia --image=luksa/kubia:v1 --replicas=3',
    'kubectl expose deployment kubia --port=80 --target-port=8080',
    'kubectl run client --image=busybox:1.36 -- sleep 3600',
    'kubectl rollout status deployment kubia && kubectl wait --for=condition=Ready pod/client',
    'kubectl exec client -- wget -qO- http://kubia',
  ];
  for (const line of session) assert.ok(readme.includes(line), `README shows: ${line}`);
  await k.ok(['get', 'nodes']);
  await k.ok(['create', 'deployment', 'kubia', '--image=luksa/kubia:v1', '--replicas=3']);
  await k.ok(['expose', 'deployment', 'kubia', '--port=80', '--target-port=8080']);
  await k.ok(['run', 'client', '--image=busybox:1.36', '--', 'sleep', '3600']);
  await k.ok(['rollout', 'status', 'deployment', 'kubia', '--timeout=90s'], { timeoutMs: 100_000 });
  await k.ok(['wait', '--for=condition=Ready', 'pod/client', '--timeout=60s'], { timeoutMs: 70_000 });
  const hits = new Set<string>();
  for (let i = 0; i < 20 && hits.size < 2; i++) {
    const r = await k.run(['exec', 'client', '--', 'wget', '-qO-', 'http://kubia']);
    const m = /^You've hit (kubia-[a-z0-9]+-[a-z0-9]+)/.exec(r.stdout);
    if (m) hits.add(m[1]!);
  }
  assert.ok(hits.size >= 2, `answers from at least two pods, got ${[...hits].join(', ') || 'none'}${srv.logTail()}`);
});
