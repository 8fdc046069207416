// End-to-end: in-place mutations — patch (strategic, merge, json, no-op, server dry run, $patch directives,
// status subresource), label and annotate (overwrite rules, removal, resourceVersion preconditions) and scale.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, manifest, podObject, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  // API-machinery tier: the API server alone (no controllers or scheduler acting on the objects), as upstream's integration tests.
  srv = await Server.start({ extraArgs: ['--disable-controllers', '--disable-scheduler'] });
});

after(async () => {
  await srv?.stop();
});

async function getJson(k: Kubectl, ...what: string[]): Promise<any> {
  return JSON.parse((await k.ok(['get', ...what, '-o', 'json'])).stdout);
}

const CONFLICT = (kind: string, name: string) =>
  `Error from server (Conflict): Operation cannot be fulfilled on ${kind} "${name}": the object has been modified; ` +
  'please apply your changes to the latest version and try again\n';

function twoContainerPod(name: string): string {
  return docs(
    podObject(name, {
      labels: { app: 'p' },
      containers: [
        { name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], ports: [{ containerPort: 80 }] },
        { name: 'side', image: 'busybox:1.36', command: ['sleep', '3600'] },
      ],
    }),
  );
}

test('patch: strategic merge (default) merges containers by name', async () => {
  const k = await withNamespace(srv, 'e2e-smp');
  await k.ok(['create', '-f', '-'], { stdin: twoContainerPod('p') });
  const r = await k.ok(['patch', 'pod', 'p', '-p', '{"spec":{"containers":[{"name":"side","image":"busybox:1.37"}]}}']);
  assert.equal(r.stdout, 'pod/p patched\n');
  const pod = await getJson(k, 'pod', 'p');
  assert.deepEqual(
    pod.spec.containers.map((c: any) => [c.name, c.image]),
    [
      ['main', 'busybox:1.36'],
      ['side', 'busybox:1.37'],
    ],
  );
  assert.equal(pod.spec.containers[0].ports[0].containerPort, 80);
});

test('patch: strategic $patch: delete and $retainKeys on a Deployment', async () => {
  const k = await withNamespace(srv, 'e2e-directive');
  await k.ok(['create', '-f', manifest('deployment-web.yaml')]);
  await k.ok([
    'patch',
    'deployment',
    'web',
    '-p',
    '{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"busybox:1.36"}]}}}}',
  ]);
  let dep = await getJson(k, 'deployment', 'web');
  assert.deepEqual(
    dep.spec.template.spec.containers.map((c: any) => c.name).sort(),
    ['extra', 'web'],
  );
  await k.ok(['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"extra","$patch":"delete"}]}}}}']);
  await k.ok(['patch', 'deployment', 'web', '-p', '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}']);
  dep = await getJson(k, 'deployment', 'web');
  assert.deepEqual(
    dep.spec.template.spec.containers.map((c: any) => c.name),
    ['web'],
  );
  assert.deepEqual(dep.spec.strategy, { type: 'Recreate' });
  assert.equal(dep.metadata.generation, 4);
});

test('patch: --type merge and --type json', async () => {
  const k = await withNamespace(srv, 'e2e-merge');
  await k.ok(['create', '-f', '-'], { stdin: twoContainerPod('p') });
  const m = await k.ok(['patch', 'pod', 'p', '--type', 'merge', '-p', '{"metadata":{"labels":{"patched":"merge","app":null}}}']);
  assert.equal(m.stdout, 'pod/p patched\n');
  assert.deepEqual((await getJson(k, 'pod', 'p')).metadata.labels, { patched: 'merge' });

  const j = await k.ok([
    'patch',
    'pod',
    'p',
    '--type',
    'json',
    '-p',
    '[{"op":"replace","path":"/spec/containers/0/image","value":"busybox:1.35"},{"op":"add","path":"/metadata/labels/j","value":"yes"}]',
  ]);
  assert.equal(j.stdout, 'pod/p patched\n');
  const pod = await getJson(k, 'pod', 'p');
  assert.equal(pod.spec.containers[0].image, 'busybox:1.35');
  assert.equal(pod.metadata.labels.j, 'yes');

  // A failing JSON-patch test op changes nothing.
  const bad = await k.fail(['patch', 'pod', 'p', '--type', 'json', '-p', '[{"op":"test","path":"/metadata/labels/j","value":"no"}]']);
  assert.match(bad.stderr, /^(Error from server|The request is invalid)/);
  assert.equal((await getJson(k, 'pod', 'p')).metadata.resourceVersion, pod.metadata.resourceVersion);
});

test('patch: no-op prints (no change) and keeps the resourceVersion; --dry-run=server stores nothing', async () => {
  const k = await withNamespace(srv, 'e2e-noop');
  await k.ok(['create', '-f', '-'], { stdin: twoContainerPod('p') });
  const rv = (await getJson(k, 'pod', 'p')).metadata.resourceVersion;
  const same = await k.ok(['patch', 'pod', 'p', '-p', '{"metadata":{"labels":{"app":"p"}}}']);
  assert.equal(same.stdout, 'pod/p patched (no change)\n');
  assert.equal((await getJson(k, 'pod', 'p')).metadata.resourceVersion, rv);

  const dry = await k.ok(['patch', 'pod', 'p', '--dry-run=server', '-p', '{"metadata":{"labels":{"dry":"yes"}}}']);
  // kubectl 1.32's patch overwrites the dry-run suffix of its printer (wire notes §2 "patch"); label keeps it.
  assert.equal(dry.stdout, 'pod/p patched\n');
  const dryLabel = await k.ok(['label', 'pod', 'p', '--dry-run=server', 'dry=label']);
  assert.equal(dryLabel.stdout, 'pod/p labeled (server dry run)\n');
  const after1 = await getJson(k, 'pod', 'p');
  assert.equal(after1.metadata.labels.dry, undefined);
  assert.equal(after1.metadata.resourceVersion, rv);

  const nf = await k.fail(['patch', 'pod', 'nope', '-p', '{}']);
  assert.equal(nf.stderr, 'Error from server (NotFound): pods "nope" not found\n');
});

test('patch --subresource=status changes status only', async () => {
  const k = await withNamespace(srv, 'e2e-status');
  await k.ok(['create', '-f', '-'], { stdin: twoContainerPod('p') });
  const r = await k.ok([
    'patch',
    'pod',
    'p',
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}',
  ]);
  assert.equal(r.stdout, 'pod/p patched\n');
  const pod = await getJson(k, 'pod', 'p');
  assert.ok(pod.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  // Status written through the main resource is ignored, as upstream.
  await k.ok(['patch', 'pod', 'p', '--type=merge', '-p', '{"status":{"phase":"Running"}}']);
  assert.equal((await getJson(k, 'pod', 'p')).status.phase, 'Pending');
});

test('label: add, not labeled, overwrite rules, removal, missing key, stale resourceVersion', async () => {
  const k = await withNamespace(srv, 'e2e-label');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('web')) });
  assert.equal((await k.ok(['label', 'pod', 'web', 'a=b'])).stdout, 'pod/web labeled\n');
  assert.equal((await k.ok(['label', 'pod', 'web', 'a=b'])).stdout, 'pod/web not labeled\n');
  const no = await k.fail(['label', 'pod', 'web', 'a=c']);
  assert.equal(no.stderr, "error: 'a' already has a value (b), and --overwrite is false\n");
  assert.equal((await k.ok(['label', 'pod', 'web', 'a=c', '--overwrite'])).stdout, 'pod/web labeled\n');
  assert.equal((await k.ok(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.labels.a}'])).stdout, 'c');
  assert.equal((await k.ok(['label', 'pod', 'web', 'a-'])).stdout, 'pod/web unlabeled\n');
  assert.equal((await getJson(k, 'pod', 'web')).metadata.labels?.a, undefined);
  assert.equal((await k.ok(['label', 'pod', 'web', 'a-'])).stdout, 'label "a" not found.\npod/web not labeled\n');

  const rv = (await getJson(k, 'pod', 'web')).metadata.resourceVersion as string;
  await k.ok(['label', 'pod', 'web', 'x=1']);
  const stale = await k.fail(['label', 'pod', 'web', 'y=2', `--resource-version=${rv}`]);
  assert.equal(stale.stderr, CONFLICT('pods', 'web'));

  const invalid = await k.fail(['label', 'pod', 'web', 'inv@lid=x']);
  assert.match(invalid.stderr, /^The Pod "web" is invalid: metadata\.labels: Invalid value: "inv@lid"/);
});

test('label: --all and -l select several objects', async () => {
  const k = await withNamespace(srv, 'e2e-label-many');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(podObject('a', { labels: { g: '1' } }), podObject('b', { labels: { g: '1' } }), podObject('c')),
  });
  const sel = await k.ok(['label', 'pods', '-l', 'g=1', 'sel=yes']);
  assert.equal(sel.stdout, 'pod/a labeled\npod/b labeled\n');
  const all = await k.ok(['label', 'pods', '--all', 'every=one']);
  assert.equal(all.stdout, 'pod/a labeled\npod/b labeled\npod/c labeled\n');
  assert.equal((await k.ok(['get', 'pods', '-l', 'sel=yes,every=one', '-o', 'name'])).stdout, 'pod/a\npod/b\n');
});

test('annotate: add, overwrite rules, removal', async () => {
  const k = await withNamespace(srv, 'e2e-annotate');
  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('web')) });
  assert.equal((await k.ok(['annotate', 'pod', 'web', 'note=hello world'])).stdout, 'pod/web annotated\n');
  assert.equal((await k.ok(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.annotations.note}'])).stdout, 'hello world');
  const no = await k.fail(['annotate', 'pod', 'web', 'note=changed']);
  assert.equal(
    no.stderr,
    "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (hello world)\n",
  );
  assert.equal((await k.ok(['annotate', 'pod', 'web', 'note=changed', '--overwrite'])).stdout, 'pod/web annotated\n');
  assert.equal((await k.ok(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.annotations.note}'])).stdout, 'changed');
  assert.equal((await k.ok(['annotate', 'pod', 'web', 'note-'])).stdout, 'pod/web annotated\n');
  assert.equal((await getJson(k, 'pod', 'web')).metadata.annotations?.note, undefined);
});

test('scale: through the scale subresource, with preconditions', async () => {
  const k = await withNamespace(srv, 'e2e-scale');
  await k.ok(['create', '-f', manifest('deployment-web.yaml')]);
  assert.equal((await k.ok(['scale', 'deployment', 'web', '--replicas=3'])).stdout, 'deployment.apps/web scaled\n');
  const dep = await getJson(k, 'deployment', 'web');
  assert.equal(dep.spec.replicas, 3);
  assert.equal(dep.metadata.generation, 2);

  const pre = await k.fail(['scale', 'deployment', 'web', '--current-replicas=2', '--replicas=5']);
  assert.equal(pre.stderr, 'error: Expected replicas to be 2, was 3\n');
  assert.equal((await k.ok(['scale', 'deployment/web', '--current-replicas=3', '--replicas=1'])).stdout, 'deployment.apps/web scaled\n');
  assert.equal((await k.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout, '1');

  // --resource-version is checked by kubectl against the Scale object the server returns.
  const rv = (await getJson(k, 'deployment', 'web')).metadata.resourceVersion as string;
  await k.ok(['label', 'deployment', 'web', 'bump=1']);
  const newRv = (await getJson(k, 'deployment', 'web')).metadata.resourceVersion as string;
  const stale = await k.fail(['scale', 'deployment', 'web', '--replicas=4', `--resource-version=${rv}`]);
  assert.equal(stale.stderr, `error: Expected resource version to be ${rv}, was ${newRv}\n`);

  const zero = await k.ok(['scale', 'deployment', 'web', '--replicas=0']);
  assert.equal(zero.stdout, 'deployment.apps/web scaled\n');
  assert.equal((await k.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout, '0');

  const nf = await k.fail(['scale', 'deployment', 'nope', '--replicas=1']);
  assert.equal(nf.stderr, 'error: no objects passed to scale deployments.apps "nope" not found\n');
});
