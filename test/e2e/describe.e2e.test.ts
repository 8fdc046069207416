// End-to-end: `kubectl describe` of pods, deployments, namespaces and configmaps — the server's object shape and
// defaults as rendered by kubectl's describers (no scheduler or controllers run yet: no events, no ReplicaSets).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, manifest, withNamespace } from './harness.js';

let srv: Server;

before(async () => {
  // API-machinery tier: the API server alone (no controllers or scheduler acting on the objects), as upstream's integration tests.
  srv = await Server.start({ extraArgs: ['--disable-controllers', '--disable-scheduler'] });
});

after(async () => {
  await srv?.stop();
});

/** Asserts each `Key:  value` line (any run of spaces after the colon) appears in text. */
function assertFields(text: string, fields: Array<[string, string]>): void {
  for (const [key, value] of fields) {
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`^\\s*${esc(key)}:${value === '' ? '\\s*' : `\\s+${esc(value)}`}$`, 'm');
    assert.match(text, re, `describe output lacks "${key}: ${value}"`);
  }
}

test('describe pod: metadata, status, container, QoS, no events yet', async () => {
  const k = await withNamespace(srv, 'e2e-desc-pod');
  await k.ok(['apply', '-f', manifest('w1-hello-pod.yaml')]);
  const r = await k.ok(['describe', 'pod', 'hello-pod']);
  const out = r.stdout;
  assertFields(out, [
    ['Name', 'hello-pod'],
    ['Namespace', k.namespace!],
    ['Priority', '0'],
    ['Node', '<none>'],
    ['Labels', 'app=web'],
    ['Annotations', '<none>'], // last-applied-configuration is hidden by kubectl
    ['Status', 'Pending'],
    ['IP', ''],
    ['IPs', '<none>'],
    ['Image', 'busybox:1.36'],
    ['Port', '8080/TCP'],
    ['Host Port', '0/TCP'],
    ['QoS Class', 'BestEffort'],
    ['Events', '<none>'],
  ]);
  assert.match(out, /^Containers:\n  web-ctr:\n/m);
  assert.match(out, /^\s+Command:\n\s+sh\n\s+-c\n\s+sleep 3600\n/m);

  const nf = await k.fail(['describe', 'pod', 'nope']);
  assert.equal(nf.stderr, 'Error from server (NotFound): pods "nope" not found\n');
});

test('describe deployment: selector, replicas, defaulted strategy, pod template', async () => {
  const k = await withNamespace(srv, 'e2e-desc-dep');
  await k.ok(['create', '-f', manifest('deployment-web.yaml')]);
  const out = (await k.ok(['describe', 'deployment', 'web'])).stdout;
  assertFields(out, [
    ['Name', 'web'],
    ['Namespace', k.namespace!],
    ['Labels', 'app=web'],
    ['Selector', 'app=web'],
    ['StrategyType', 'RollingUpdate'],
    ['MinReadySeconds', '0'],
    ['RollingUpdateStrategy', '25% max unavailable, 25% max surge'],
    ['Image', 'busybox:1.36'],
    ['Port', '8080/TCP'],
    ['Events', '<none>'],
  ]);
  assert.match(out, /^Replicas:\s+2 desired \| \d+ updated \| \d+ total \| \d+ available \| \d+ unavailable$/m);
  assert.match(out, /^CreationTimestamp:\s+\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/m);
  assert.match(out, /^Pod Template:\n  Labels:\s+app=web\n  Containers:\n   web:\n/m);
});

test('describe namespace: the metadata.name label, Active, no quota or limit range', async () => {
  const k = await withNamespace(srv, 'e2e-desc-ns');
  const out = (await k.ok(['describe', 'namespace', k.namespace!])).stdout;
  assertFields(out, [
    ['Name', k.namespace!],
    ['Labels', `kubernetes.io/metadata.name=${k.namespace!}`],
    ['Annotations', '<none>'],
    ['Status', 'Active'],
  ]);
  assert.match(out, /^No resource quota\.$/m);
  assert.match(out, /^No LimitRange resource\.$/m);
});

test('describe configmap shows its data', async () => {
  const k = await withNamespace(srv, 'e2e-desc-cm');
  await k.ok(['create', 'configmap', 'cfg', '--from-literal=greeting=hello']);
  const out = (await k.ok(['describe', 'configmap', 'cfg'])).stdout;
  assertFields(out, [
    ['Name', 'cfg'],
    ['Namespace', k.namespace!],
    ['Labels', '<none>'],
  ]);
  assert.match(out, /^Data\n====\ngreeting:\n----\nhello\n/m);
});
