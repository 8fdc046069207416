// End-to-end: declarative and whole-object writes — create -f, apply (create / unchanged / configured / field
// removal / dry run / server-side with conflicts), replace (incl. stale resourceVersion), edit via KUBE_EDITOR,
// server-side defaulting, and invalid input (422 with fields, strict/warn/ignore field validation).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  configMapObject,
  docs,
  manifest,
  podObject,
  withNamespace,
  writeTemp,
} from './harness.js';

let srv: Server;

before(async () => {
  // API-machinery tier: the API server alone (no controllers or scheduler acting on the objects), as upstream's integration tests.
  srv = await Server.start({ extraArgs: ['--disable-controllers', '--disable-scheduler'] });
});

after(async () => {
  await srv?.stop();
});

async function getJson(k: { ok(a: string[]): Promise<{ stdout: string }> }, ...what: string[]): Promise<any> {
  return JSON.parse((await k.ok(['get', ...what, '-o', 'json'])).stdout);
}

test('create -f: created, server defaults applied, AlreadyExists names the file', async () => {
  const k = await withNamespace(srv, 'e2e-create');
  assert.equal((await k.ok(['create', '-f', manifest('pod-web.yaml')])).stdout, 'pod/web created\n');
  assert.equal((await k.ok(['create', '-f', manifest('deployment-web.yaml')])).stdout, 'deployment.apps/web created\n');

  const dup = await k.fail(['create', '-f', manifest('pod-web.yaml')]);
  assert.equal(
    dup.stderr,
    `Error from server (AlreadyExists): error when creating "${manifest('pod-web.yaml')}": pods "web" already exists\n`,
  );

  const pod = await getJson(k, 'pod', 'web');
  assert.equal(pod.spec.restartPolicy, 'Always');
  assert.equal(pod.spec.dnsPolicy, 'ClusterFirst');
  assert.equal(pod.spec.terminationGracePeriodSeconds, 30);
  assert.equal(pod.spec.schedulerName, 'default-scheduler');
  const c = pod.spec.containers[0];
  assert.equal(c.ports[0].protocol, 'TCP');
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.equal(pod.status.phase, 'Pending');

  const dep = await getJson(k, 'deployment', 'web');
  assert.equal(dep.metadata.generation, 1);
  assert.equal(dep.spec.replicas, 2);
  assert.deepEqual(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  assert.equal(dep.spec.revisionHistoryLimit, 10);
  assert.equal(dep.spec.progressDeadlineSeconds, 600);
  assert.equal(dep.spec.template.spec.containers[0].ports[0].protocol, 'TCP');
});

test('create -f with several documents and apply -f of a kind: List', async () => {
  const k = await withNamespace(srv, 'e2e-multi');
  const r = await k.ok(['create', '-f', '-'], {
    stdin: docs(configMapObject('one', { a: '1' }), configMapObject('two', { b: '2' })),
  });
  assert.equal(r.stdout, 'configmap/one created\nconfigmap/two created\n');
  const l = await k.ok(['apply', '-f', manifest('list-configmaps.yaml')]);
  assert.equal(l.stdout, 'configmap/listed-one created\nconfigmap/listed-two created\n');
  assert.equal((await k.ok(['get', 'cm', 'listed-two', '-o', 'jsonpath={.data.num}'])).stdout, '2');
});

test('apply: created → unchanged → configured, and re-apply removes fields no longer in the file', async () => {
  const k = await withNamespace(srv, 'e2e-apply');
  const v1 = configMapObject('cfg', { a: '1', b: '2' }, { tier: 'x' });
  assert.equal((await k.ok(['apply', '-f', '-'], { stdin: docs(v1) })).stdout, 'configmap/cfg created\n');

  const live1 = await getJson(k, 'cm', 'cfg');
  const lastApplied = JSON.parse(live1.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  assert.deepEqual(lastApplied.data, { a: '1', b: '2' });
  assert.equal(lastApplied.metadata.namespace, k.namespace);

  const again = await k.ok(['apply', '-f', '-'], { stdin: docs(v1) });
  assert.equal(again.stdout, 'configmap/cfg unchanged\n');
  assert.equal((await getJson(k, 'cm', 'cfg')).metadata.resourceVersion, live1.metadata.resourceVersion);

  const v2 = configMapObject('cfg', { a: '10', c: '3' });
  assert.equal((await k.ok(['apply', '-f', '-'], { stdin: docs(v2) })).stdout, 'configmap/cfg configured\n');
  const live2 = await getJson(k, 'cm', 'cfg');
  assert.deepEqual(live2.data, { a: '10', c: '3' });
  assert.equal(live2.metadata.labels, undefined);
  assert.notEqual(live2.metadata.resourceVersion, live1.metadata.resourceVersion);
});

test('apply: strategic merge on a Deployment (containers by name, env, ports, $retainKeys strategy)', async () => {
  const k = await withNamespace(srv, 'e2e-smp');
  const dep = (containers: unknown[], strategy?: unknown) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      ...(strategy ? { strategy } : {}),
      template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
    },
  });
  const v1 = dep([
    {
      name: 'main',
      image: 'busybox:1.36',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      ports: [{ containerPort: 8080 }],
    },
    { name: 'sidecar', image: 'busybox:1.36' },
  ]);
  assert.equal((await k.ok(['apply', '-f', '-'], { stdin: docs(v1) })).stdout, 'deployment.apps/web created\n');

  const v2 = dep([{ name: 'main', image: 'busybox:1.37', env: [{ name: 'A', value: '1' }] }], { type: 'Recreate' });
  assert.equal((await k.ok(['apply', '-f', '-'], { stdin: docs(v2) })).stdout, 'deployment.apps/web configured\n');
  const live = await getJson(k, 'deployment', 'web');
  const cs = live.spec.template.spec.containers;
  assert.deepEqual(
    cs.map((c: any) => c.name),
    ['main'],
  );
  assert.equal(cs[0].image, 'busybox:1.37');
  assert.deepEqual(cs[0].env, [{ name: 'A', value: '1' }]);
  assert.equal(cs[0].ports, undefined);
  assert.deepEqual(live.spec.strategy, { type: 'Recreate' });
  assert.equal(live.metadata.generation, 2);
});

test('apply on an object without last-applied warns and patches', async () => {
  const k = await withNamespace(srv, 'e2e-noanno');
  await k.ok(['create', 'configmap', 'plain', '--from-literal=a=1']);
  const r = await k.ok(['apply', '-f', '-'], { stdin: docs(configMapObject('plain', { a: '2' })) });
  assert.match(
    r.stderr,
    /^Warning: resource configmaps\/plain is missing the kubectl\.kubernetes\.io\/last-applied-configuration annotation which is required by kubectl apply\./,
  );
  assert.equal(r.stdout, 'configmap/plain configured\n');
  assert.equal((await k.ok(['get', 'cm', 'plain', '-o', 'jsonpath={.data.a}'])).stdout, '2');
});

test('apply --dry-run=server stores nothing', async () => {
  const k = await withNamespace(srv, 'e2e-dry');
  const r = await k.ok(['apply', '--dry-run=server', '-f', '-'], { stdin: docs(configMapObject('dry', { a: '1' })) });
  assert.equal(r.stdout, 'configmap/dry created (server dry run)\n');
  const nf = await k.fail(['get', 'cm', 'dry']);
  assert.equal(nf.stderr, 'Error from server (NotFound): configmaps "dry" not found\n');

  await k.ok(['apply', '-f', '-'], { stdin: docs(configMapObject('dry', { a: '1' })) });
  const u = await k.ok(['apply', '--dry-run=server', '-f', '-'], { stdin: docs(configMapObject('dry', { a: '2' })) });
  assert.equal(u.stdout, 'configmap/dry configured (server dry run)\n');
  assert.equal((await k.ok(['get', 'cm', 'dry', '-o', 'jsonpath={.data.a}'])).stdout, '1');
});

test('apply --server-side: upsert, managedFields, field removal, conflicts and --force-conflicts', async () => {
  const k = await withNamespace(srv, 'e2e-ssa');
  const r = await k.ok(['apply', '--server-side', '-f', '-'], { stdin: docs(configMapObject('ssa', { a: '1', b: '2' })) });
  assert.equal(r.stdout, 'configmap/ssa serverside-applied\n');
  const live = await getJson(k, 'cm', 'ssa', '--show-managed-fields');
  assert.deepEqual(live.data, { a: '1', b: '2' });
  const mf = (live.metadata.managedFields ?? []) as Array<{ manager: string; operation: string }>;
  assert.ok(
    mf.some((m) => m.manager === 'kubectl' && m.operation === 'Apply'),
    `managedFields: ${JSON.stringify(mf)}`,
  );

  const same = await k.ok(['apply', '--server-side', '-f', '-'], { stdin: docs(configMapObject('ssa', { a: '1', b: '2' })) });
  assert.equal(same.stdout, 'configmap/ssa serverside-applied\n');

  // Dropping b from the applied configuration removes it: kubectl was its only owner.
  await k.ok(['apply', '--server-side', '-f', '-'], { stdin: docs(configMapObject('ssa', { a: '1' })) });
  assert.deepEqual((await getJson(k, 'cm', 'ssa')).data, { a: '1' });

  const conflict = await k.fail(['apply', '--server-side', '--field-manager=other', '-f', '-'], {
    stdin: docs(configMapObject('ssa', { a: '9' })),
  });
  assert.match(conflict.stderr, /conflict with "kubectl"/);
  assert.match(conflict.stderr, /\.data\.a/);
  assert.equal((await k.ok(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.a}'])).stdout, '1');

  const forced = await k.ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], {
    stdin: docs(configMapObject('ssa', { a: '9' })),
  });
  assert.equal(forced.stdout, 'configmap/ssa serverside-applied\n');
  assert.equal((await k.ok(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.a}'])).stdout, '9');
});

test('replace: replaced, stale resourceVersion → Conflict, missing → NotFound, --force recreates', async () => {
  const k = await withNamespace(srv, 'e2e-replace');
  await k.ok(['create', '-f', '-'], { stdin: docs(configMapObject('r', { a: '1' })) });
  const before1 = await getJson(k, 'cm', 'r');

  const r = await k.ok(['replace', '-f', '-'], { stdin: docs(configMapObject('r', { a: '2' })) });
  assert.equal(r.stdout, 'configmap/r replaced\n');
  assert.deepEqual((await getJson(k, 'cm', 'r')).data, { a: '2' });

  const stale = configMapObject('r', { a: '3' });
  (stale.metadata as Record<string, unknown>).resourceVersion = before1.metadata.resourceVersion;
  const c = await k.fail(['replace', '-f', '-'], { stdin: docs(stale) });
  assert.equal(
    c.stderr,
    'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "r": ' +
      'the object has been modified; please apply your changes to the latest version and try again\n',
  );
  assert.deepEqual((await getJson(k, 'cm', 'r')).data, { a: '2' });

  const nf = await k.fail(['replace', '-f', '-'], { stdin: docs(configMapObject('nope', { a: '1' })) });
  assert.equal(nf.stderr, 'Error from server (NotFound): error when replacing "STDIN": configmaps "nope" not found\n');

  const f = await k.ok(['replace', '--force', '-f', '-'], { stdin: docs(configMapObject('r', { a: '4' })) });
  assert.equal(f.stdout, 'configmap "r" deleted\nconfigmap/r replaced\n');
  const after1 = await getJson(k, 'cm', 'r');
  assert.deepEqual(after1.data, { a: '4' });
  assert.notEqual(after1.metadata.uid, before1.metadata.uid);
});

test('edit via KUBE_EDITOR: edited, and no change → cancelled', async () => {
  const k = await withNamespace(srv, 'e2e-edit');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('ed', { labels: { tier: 'old' } })) });
  const editor = writeTemp(
    srv,
    `editor-${k.namespace}.sh`,
    '#!/bin/sh\nsed -i -e "s/tier: old/tier: new/" -e "s/image: busybox:1.36/image: busybox:1.37/" "$1"\n',
    0o755,
  );
  const r = await k.ok(['edit', 'pod', 'ed'], { env: { KUBE_EDITOR: editor } });
  assert.equal(r.stdout, 'pod/ed edited\n');
  const pod = await getJson(k, 'pod', 'ed');
  assert.equal(pod.metadata.labels.tier, 'new');
  assert.equal(pod.spec.containers[0].image, 'busybox:1.37');

  const none = await k.ok(['edit', 'pod', 'ed'], { env: { KUBE_EDITOR: 'true' } });
  assert.equal(none.stdout, '');
  assert.equal(none.stderr, 'Edit cancelled, no changes made.\n');

  await k.ok(['create', 'configmap', 'conf', '--from-literal=key=before']);
  const cmEditor = writeTemp(srv, `cm-editor-${k.namespace}.sh`, '#!/bin/sh\nsed -i -e "s/key: before/key: after/" "$1"\n', 0o755);
  assert.equal((await k.ok(['edit', 'configmap', 'conf'], { env: { KUBE_EDITOR: cmEditor } })).stdout, 'configmap/conf edited\n');
  assert.equal((await k.ok(['get', 'cm', 'conf', '-o', 'jsonpath={.data.key}'])).stdout, 'after');
});

test('invalid objects: 422 Invalid with field paths, nothing stored', async () => {
  const k = await withNamespace(srv, 'e2e-invalid');
  const noImage = podObject('bad', { containers: [{ name: 'main' }] });
  const r = await k.fail(['create', '-f', '-'], { stdin: docs(noImage) });
  assert.equal(r.stderr, 'The Pod "bad" is invalid: spec.containers[0].image: Required value\n');
  assert.equal((await k.fail(['get', 'pod', 'bad'])).stderr, 'Error from server (NotFound): pods "bad" not found\n');

  const two = podObject('bad2', { containers: [{ name: 'a' }, { name: 'b' }] });
  const r2 = await k.fail(['create', '-f', '-'], { stdin: docs(two) });
  assert.equal(
    r2.stderr,
    'The Pod "bad2" is invalid: \n* spec.containers[0].image: Required value\n* spec.containers[1].image: Required value\n',
  );

  const badName = await k.fail(['create', '-f', '-'], { stdin: docs(podObject('Bad_Name')) });
  assert.match(
    badName.stderr,
    /^The Pod "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters/,
  );

  const mismatch = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'mismatch' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
  const m = await k.fail(['apply', '-f', '-'], { stdin: docs(mismatch) });
  assert.match(m.stderr, /^The Deployment "mismatch" is invalid: spec\.template\.metadata\.labels: Invalid value: /);
  assert.match(m.stderr, /`selector` does not match template `labels`/);
});

test('field validation: unknown fields are rejected (strict), warned (warn) or ignored (false)', async () => {
  const k = await withNamespace(srv, 'e2e-fv');
  const withUnknown = (name: string) => {
    const p = podObject(name);
    (p.spec as Record<string, unknown>).foo = 'bar';
    return docs(p);
  };
  const strict = await k.fail(['create', '-f', '-'], { stdin: withUnknown('strict') });
  assert.equal(
    strict.stderr,
    'Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: ' +
      'strict decoding error: unknown field "spec.foo"\n',
  );
  assert.equal((await k.fail(['get', 'pod', 'strict'])).code, 1);

  const warn = await k.ok(['create', '--validate=warn', '-f', '-'], { stdin: withUnknown('warned') });
  assert.equal(warn.stderr, 'Warning: unknown field "spec.foo"\n');
  assert.equal(warn.stdout, 'pod/warned created\n');
  // Upstream decodes into typed structs, so an unknown field is dropped whatever the validation level.
  assert.equal((await getJson(k, 'pod', 'warned')).spec.foo, undefined);

  const ignore = await k.ok(['create', '--validate=false', '-f', '-'], { stdin: withUnknown('ignored') });
  assert.equal(ignore.stderr, '');
  assert.equal(ignore.stdout, 'pod/ignored created\n');
  assert.equal((await getJson(k, 'pod', 'ignored')).spec.foo, undefined);

  const kind = await k.fail(['create', '-f', '-'], { stdin: docs({ apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w' } }) });
  assert.match(kind.stderr, /no matches for kind "Widget" in version "v1"/);
});
