// End-to-end: cluster-level kubectl commands against the real server — version, api-resources, cluster-info,
// auth, explain, namespace lifecycle, `get all` and unknown resource types.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, parseTable, parseTables, podObject, stripAnsi, uniqueName, withNamespace, eventually } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start();
});

after(async () => {
  await srv?.stop();
});

test('version: client v1.32.3 and a v1.32 server, no skew warning', async () => {
  const k = srv.client();
  const r = await k.ok(['version']);
  assert.match(r.stdout, /^Client Version: v1\.32\.3$/m);
  assert.match(r.stdout, /^Kustomize Version: v5\.5\.0$/m);
  assert.match(r.stdout, /^Server Version: v1\.32\.\d+\S*$/m);
  assert.doesNotMatch(r.stderr, /WARNING/);

  const j = JSON.parse((await k.ok(['version', '-o', 'json'])).stdout) as {
    serverVersion: { major: string; minor: string; gitVersion: string; platform?: string };
  };
  assert.equal(j.serverVersion.major, '1');
  assert.equal(j.serverVersion.minor, '32');
  assert.match(j.serverVersion.gitVersion, /^v1\.32\.\d+/);
});

test('api-resources: upstream columns and rows for the core kinds', async () => {
  const k = srv.client();
  const r = await k.ok(['api-resources']);
  const t = parseTable(r.stdout);
  assert.deepEqual(t.headers, ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
  const expected: Array<[string, string, string, string, string]> = [
    ['pods', 'po', 'v1', 'true', 'Pod'],
    ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment'],
    ['replicasets', 'rs', 'apps/v1', 'true', 'ReplicaSet'],
    ['services', 'svc', 'v1', 'true', 'Service'],
    ['namespaces', 'ns', 'v1', 'false', 'Namespace'],
    ['nodes', 'no', 'v1', 'false', 'Node'],
    ['configmaps', 'cm', 'v1', 'true', 'ConfigMap'],
    ['secrets', '', 'v1', 'true', 'Secret'],
    ['serviceaccounts', 'sa', 'v1', 'true', 'ServiceAccount'],
    ['events', 'ev', 'v1', 'true', 'Event'],
    ['jobs', '', 'batch/v1', 'true', 'Job'],
  ];
  for (const [name, short, gv, namespaced, kind] of expected) {
    const row = t.rows.find((x) => x.NAME === name && x.APIVERSION === gv);
    assert.ok(row, `api-resources has no row for ${name} (${gv}):\n${r.stdout}`);
    assert.deepEqual(
      [row.NAME, row.SHORTNAMES, row.APIVERSION, row.NAMESPACED, row.KIND],
      [name, short, gv, namespaced, kind],
      `row for ${name}`,
    );
  }

  const names = (await k.ok(['api-resources', '-o', 'name'])).stdout.split('\n');
  for (const n of ['pods', 'namespaces', 'deployments.apps', 'jobs.batch']) assert.ok(names.includes(n), `-o name lacks ${n}`);

  const cluster = (await k.ok(['api-resources', '--namespaced=false', '-o', 'name'])).stdout.split('\n');
  assert.ok(cluster.includes('namespaces') && cluster.includes('nodes'), cluster.join(' '));
  assert.ok(!cluster.includes('pods'), 'pods listed as cluster-scoped');

  const apps = parseTable((await k.ok(['api-resources', '--api-group=apps'])).stdout);
  assert.ok(apps.rows.length > 0);
  for (const row of apps.rows) assert.match(row.APIVERSION!, /^apps\//);
  assert.ok(apps.rows.some((x) => x.NAME === 'deployments'));
});

test('cluster-info names the control plane URL', async () => {
  const r = await srv.client().ok(['cluster-info']);
  const out = stripAnsi(r.stdout);
  assert.match(out, new RegExp(`^Kubernetes control plane is running at https://127\\.0\\.0\\.1:${srv.port}$`, 'm'));
});

test('auth can-i: the admin kubeconfig may create pods', async () => {
  const k = srv.client();
  const r = await k.ok(['auth', 'can-i', 'create', 'pods']);
  assert.equal(r.stdout.trim(), 'yes');
  const r2 = await k.ok(['auth', 'can-i', 'delete', 'deployments.apps', '--namespace', 'kube-system']);
  assert.equal(r2.stdout.trim(), 'yes');
});

test('auth whoami reports the client certificate user', async () => {
  const r = await srv.client().ok(['auth', 'whoami']);
  const t = parseTable(r.stdout);
  assert.deepEqual(t.headers, ['ATTRIBUTE', 'VALUE']);
  const user = t.rows.find((x) => x.ATTRIBUTE === 'Username');
  assert.ok(user && user.VALUE !== '', r.stdout);
});

test('explain deployment.spec.strategy prints the schema from the server', async () => {
  const k = srv.client();
  const r = await k.ok(['explain', 'deployment.spec.strategy']);
  assert.match(r.stdout, /^GROUP:\s+apps$/m);
  assert.match(r.stdout, /^KIND:\s+Deployment$/m);
  assert.match(r.stdout, /^VERSION:\s+v1$/m);
  assert.match(r.stdout, /^FIELD:\s+strategy <DeploymentStrategy>$/m);
  assert.match(r.stdout, /^DESCRIPTION:$/m);
  assert.match(r.stdout, /^FIELDS:$/m);
  assert.match(r.stdout, /^\s+rollingUpdate\s+<RollingUpdateDeployment>$/m);
  assert.match(r.stdout, /^\s+type\s+<string>$/m);
  assert.match(r.stdout, /enum: Recreate, RollingUpdate/);

  const pods = await k.ok(['explain', 'pods']);
  assert.match(pods.stdout, /^KIND:\s+Pod$/m);
  assert.match(pods.stdout, /^VERSION:\s+v1$/m);
  for (const f of ['apiVersion', 'kind', 'metadata', 'spec', 'status']) {
    assert.match(pods.stdout, new RegExp(`^\\s+${f}\\s+<\\w+>`, 'm'), `explain pods lacks field ${f}`);
  }

  const bad = await k.fail(['explain', 'deployment.spec.nosuchfield']);
  assert.match(bad.stderr, /field "nosuchfield" does not exist/);
});

test('namespaces: built-ins exist, create, duplicate, describe-able labels, missing namespace refused', async () => {
  const k = srv.client();
  const all = parseTable((await k.ok(['get', 'namespaces'])).stdout);
  assert.deepEqual(all.headers, ['NAME', 'STATUS', 'AGE']);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    const row = all.rows.find((x) => x.NAME === ns);
    assert.ok(row, `namespace ${ns} missing`);
    assert.equal(row.STATUS, 'Active');
  }

  const ns = uniqueName('e2e-ns');
  assert.equal((await k.ok(['create', 'namespace', ns])).stdout, `namespace/${ns} created\n`);
  const dup = await k.fail(['create', 'namespace', ns]);
  assert.equal(dup.stderr, `Error from server (AlreadyExists): namespaces "${ns}" already exists\n`);
  const label = await k.ok(['get', 'namespace', ns, '-o', 'jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name}']);
  assert.equal(label.stdout, ns);
  assert.equal((await k.ok(['get', 'ns', ns, '-o', 'jsonpath={.status.phase}'])).stdout, 'Active');

  // Objects in a namespace that does not exist are refused with the namespace's NotFound.
  const missing = uniqueName('nope');
  const run = await k.fail(['run', 'x', '--image=busybox', '--namespace', missing]);
  assert.equal(run.stderr, `Error from server (NotFound): namespaces "${missing}" not found\n`);
  const create = await k.fail(['create', '-f', '-', '--namespace', missing], { stdin: docs(podObject('x')) });
  assert.equal(create.stderr, `Error from server (NotFound): error when creating "STDIN": namespaces "${missing}" not found\n`);
  // Listing in a missing namespace is just empty, as upstream.
  const list = await k.ok(['get', 'pods', '--namespace', missing]);
  assert.equal(list.stdout, '');
  assert.equal(list.stderr, `No resources found in ${missing} namespace.\n`);
});

test('namespaces: the built-in ones cannot be deleted', async () => {
  const k = srv.client();
  for (const ns of ['default', 'kube-system']) {
    const r = await k.fail(['delete', 'namespace', ns, '--wait=false']);
    assert.equal(r.stderr, `Error from server (Forbidden): namespaces "${ns}" is forbidden: this namespace may not be deleted\n`);
  }
});

test('namespaces: deletion terminates the namespace and refuses new content', async () => {
  const k = srv.client();
  const ns = uniqueName('e2e-del');
  await k.ok(['create', 'namespace', ns]);
  await k.ok(['create', 'configmap', 'c', '--from-literal=a=b', '--namespace', ns]);
  const del = await k.ok(['delete', 'namespace', ns, '--wait=false']);
  assert.equal(del.stdout, `namespace "${ns}" deleted\n`);
  // Either already gone, or Terminating (finalization is asynchronous upstream).
  const phase = await k.run(['get', 'namespace', ns, '-o', 'jsonpath={.status.phase}']);
  if (phase.code === 0) {
    assert.equal(phase.stdout, 'Terminating');
    const r = await k.fail(['create', 'configmap', 'late', '--from-literal=a=b', '--namespace', ns]);
    assert.match(
      r.stderr,
      new RegExp(`unable to create new content in namespace ${ns} because it is being terminated`),
    );
  } else {
    assert.equal(phase.stderr, `Error from server (NotFound): namespaces "${ns}" not found\n`);
  }
  // Eventually the namespace and its content disappear.
  await eventually(async () => (await k.run(['get', 'namespace', ns])).code !== 0, 30_000, `namespace ${ns} to go away`);
});

test('the default/kubernetes Service: first address of the service range, 443 → the API server port', async () => {
  const k = srv.client();
  const t = parseTable((await k.ok(['get', 'svc', '--namespace', 'default'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  assert.deepEqual(
    t.rows.filter((r) => r.NAME === 'kubernetes').map((r) => [r.TYPE, r['CLUSTER-IP'], r['EXTERNAL-IP'], r['PORT(S)']]),
    [['ClusterIP', '10.43.0.1', '<none>', '443/TCP']],
  );
  const svc = JSON.parse((await k.ok(['get', 'svc', 'kubernetes', '--namespace', 'default', '-o', 'json'])).stdout);
  assert.deepEqual(svc.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
  assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: srv.port }]);
});

test('get all lists pods, services and deployments with kind/name prefixes', async () => {
  const k = await withNamespace(srv, 'e2e-all');
  const empty = await k.ok(['get', 'all']);
  assert.equal(empty.stdout, '');
  assert.equal(empty.stderr, `No resources found in ${k.namespace} namespace.\n`);

  await k.ok(['create', '-f', '-'], { stdin: docs(podObject('web', { labels: { app: 'web' } })) });
  await k.ok(['create', 'service', 'clusterip', 'web-svc', '--tcp=80:8080']);
  await k.ok(['create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=2']);

  const r = await k.ok(['get', 'all']);
  const tables = parseTables(r.stdout);
  const byFirst = (prefix: string) => tables.find((t) => t.rows.some((row) => row.NAME!.startsWith(prefix)));
  const pods = byFirst('pod/');
  assert.ok(pods, r.stdout);
  assert.deepEqual(pods.headers, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  assert.ok(pods.rows.some((x) => x.NAME === 'pod/web'));
  const svcs = byFirst('service/');
  assert.ok(svcs, r.stdout);
  assert.deepEqual(svcs.headers, ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  const svc = svcs.rows.find((x) => x.NAME === 'service/web-svc');
  assert.ok(svc);
  assert.equal(svc.TYPE, 'ClusterIP');
  assert.equal(svc['PORT(S)'], '80/TCP');
  const deps = byFirst('deployment.apps/');
  assert.ok(deps, r.stdout);
  assert.deepEqual(deps.headers, ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
  assert.ok(deps.rows.some((x) => x.NAME === 'deployment.apps/web'));
  // Discovery order: pods before services before deployments.
  assert.ok(tables.indexOf(pods) < tables.indexOf(svcs) && tables.indexOf(svcs) < tables.indexOf(deps));
});

test('unknown resource types and objects give upstream errors', async () => {
  const k = srv.client();
  const t = await k.fail(['get', 'widgets']);
  assert.equal(t.stderr, 'error: the server doesn\'t have a resource type "widgets"\n');
  const n = await k.fail(['get', 'pods', 'nope']);
  assert.equal(n.stderr, 'Error from server (NotFound): pods "nope" not found\n');
  const d = await k.fail(['get', 'deployment', 'nope']);
  assert.equal(d.stderr, 'Error from server (NotFound): deployments.apps "nope" not found\n');
});
