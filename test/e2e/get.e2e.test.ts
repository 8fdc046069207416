// End-to-end: `kubectl get` output forms (table, wide, yaml, json, name, jsonpath, custom-columns, --show-labels,
// -L, -A), label selectors in every form, field selectors, --sort-by, chunking and the empty/NotFound messages.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';

import { Server, docs, lines, parseTable, podObject, withNamespace, type Kubectl } from './harness.js';

let srv: Server;
let k: Kubectl; // namespace with alpha, bravo, charlie
let ns: string;

before(async () => {
  srv = await Server.start();
  k = await withNamespace(srv, 'e2e-get');
  ns = k.namespace!;
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      podObject('alpha', { labels: { app: 'web', tier: 'frontend', env: 'prod', rank: '3' } }),
      podObject('bravo', { labels: { app: 'web', tier: 'backend', env: 'dev', rank: '1' } }),
      podObject('charlie', { labels: { app: 'db', rank: '2' } }),
    ),
  });
});

after(async () => {
  await srv?.stop();
});

const AGE = /^\d+(s|m\d*s?|h\d*m?|d\d*h?)$/;

test('default table: upstream header exactly, Pending pods', async () => {
  const k1 = await withNamespace(srv, 'e2e-tbl');
  await k1.ok(['create', '-f', '-'], { stdin: docs(podObject('web')) });
  const r = await k1.ok(['get', 'pods']);
  const out = lines(r.stdout);
  assert.equal(out[0], 'NAME   READY   STATUS    RESTARTS   AGE');
  assert.match(out[1]!, /^web    0\/1     Pending   0          \d+s$/);
  assert.equal(out.length, 2);
  assert.equal(r.stderr, '');

  const t = parseTable((await k.ok(['get', 'pods'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  assert.deepEqual(
    t.rows.map((x) => x.NAME),
    ['alpha', 'bravo', 'charlie'],
  );
  for (const row of t.rows) {
    assert.equal(row.READY, '0/1');
    assert.equal(row.STATUS, 'Pending');
    assert.equal(row.RESTARTS, '0');
    assert.match(row.AGE!, AGE);
  }
});

test('get by name, several names, short name and resource/name form', async () => {
  const one = parseTable((await k.ok(['get', 'pod', 'alpha'])).stdout);
  assert.deepEqual(one.rows.map((x) => x.NAME), ['alpha']);
  const two = parseTable((await k.ok(['get', 'po', 'alpha', 'charlie'])).stdout);
  assert.deepEqual(two.rows.map((x) => x.NAME), ['alpha', 'charlie']);
  const slash = await k.ok(['get', 'pod/bravo', '-o', 'name']);
  assert.equal(slash.stdout, 'pod/bravo\n');
});

test('-o wide adds IP, NODE, NOMINATED NODE, READINESS GATES', async () => {
  const t = parseTable((await k.ok(['get', 'pods', '-o', 'wide'])).stdout);
  assert.deepEqual(t.headers, [
    'NAME',
    'READY',
    'STATUS',
    'RESTARTS',
    'AGE',
    'IP',
    'NODE',
    'NOMINATED NODE',
    'READINESS GATES',
  ]);
  const a = t.rows.find((x) => x.NAME === 'alpha')!;
  assert.equal(a.IP, '<none>');
  assert.equal(a.NODE, '<none>');
  assert.equal(a['NOMINATED NODE'], '<none>');
  assert.equal(a['READINESS GATES'], '<none>');
});

test('-o yaml and -o json: full objects, lists as kind List, no managedFields', async () => {
  const y = parseYaml((await k.ok(['get', 'pod', 'alpha', '-o', 'yaml'])).stdout) as Record<string, any>;
  assert.equal(y.apiVersion, 'v1');
  assert.equal(y.kind, 'Pod');
  assert.equal(y.metadata.name, 'alpha');
  assert.equal(y.metadata.namespace, ns);
  assert.deepEqual(y.metadata.labels, { app: 'web', tier: 'frontend', env: 'prod', rank: '3' });
  assert.match(y.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.match(y.metadata.resourceVersion, /^\d+$/);
  assert.match(y.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(y.metadata.managedFields, undefined);
  assert.equal(y.spec.containers[0].image, 'busybox:1.36');
  assert.equal(y.status.phase, 'Pending');

  const list = parseYaml((await k.ok(['get', 'pods', '-o', 'yaml'])).stdout) as Record<string, any>;
  assert.equal(list.apiVersion, 'v1');
  assert.equal(list.kind, 'List');
  assert.deepEqual(
    list.items.map((i: any) => `${i.kind}/${i.metadata.name}`),
    ['Pod/alpha', 'Pod/bravo', 'Pod/charlie'],
  );

  const j = JSON.parse((await k.ok(['get', 'pod', 'bravo', '-o', 'json'])).stdout) as Record<string, any>;
  assert.equal(j.kind, 'Pod');
  assert.equal(j.metadata.labels.tier, 'backend');
  const jl = JSON.parse((await k.ok(['get', 'pods', '-o', 'json'])).stdout) as Record<string, any>;
  assert.equal(jl.kind, 'List');
  assert.equal(jl.items.length, 3);
  for (const i of jl.items) assert.equal(i.apiVersion, 'v1');
});

test('-o name, jsonpath and custom-columns', async () => {
  assert.equal((await k.ok(['get', 'pods', '-o', 'name'])).stdout, 'pod/alpha\npod/bravo\npod/charlie\n');
  assert.equal(
    (await k.ok(['get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout,
    'alpha bravo charlie',
  );
  assert.equal(
    (await k.ok(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.tier}{"\\n"}{end}']))
      .stdout,
    'alpha=frontend\nbravo=backend\ncharlie=\n',
  );
  assert.equal((await k.ok(['get', 'pod', 'alpha', '-o', 'jsonpath={.metadata.labels.env}'])).stdout, 'prod');

  const cc = await k.ok(['get', 'pods', '-o', 'custom-columns=NAME:.metadata.name,APP:.metadata.labels.app,ENV:.metadata.labels.env']);
  const t = parseTable(cc.stdout);
  assert.deepEqual(t.headers, ['NAME', 'APP', 'ENV']);
  assert.deepEqual(
    t.rows.map((x) => [x.NAME, x.APP, x.ENV]),
    [
      ['alpha', 'web', 'prod'],
      ['bravo', 'web', 'dev'],
      ['charlie', 'db', '<none>'],
    ],
  );
});

test('--show-labels and -L label columns', async () => {
  const t = parseTable((await k.ok(['get', 'pods', '--show-labels'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'LABELS']);
  assert.deepEqual(
    t.rows.map((x) => [x.NAME, x.LABELS]),
    [
      ['alpha', 'app=web,env=prod,rank=3,tier=frontend'],
      ['bravo', 'app=web,env=dev,rank=1,tier=backend'],
      ['charlie', 'app=db,rank=2'],
    ],
  );
  const l = parseTable((await k.ok(['get', 'pods', '-L', 'env,tier'])).stdout);
  assert.deepEqual(l.headers, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'ENV', 'TIER']);
  assert.deepEqual(
    l.rows.map((x) => [x.NAME, x.ENV, x.TIER]),
    [
      ['alpha', 'prod', 'frontend'],
      ['bravo', 'dev', 'backend'],
      ['charlie', '', ''],
    ],
  );
});

test('-A adds a NAMESPACE column filled from the objects', async () => {
  const r = await k.ok(['get', 'pods', '-A', '-l', 'app=web']);
  const t = parseTable(r.stdout);
  assert.deepEqual(t.headers, ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  const mine = t.rows.filter((x) => x.NAMESPACE === ns).map((x) => x.NAME);
  assert.deepEqual(mine, ['alpha', 'bravo']);
  const none = await k.ok(['get', 'pods', '-A', '-l', 'no-such-label=here']);
  assert.equal(none.stdout, '');
  assert.equal(none.stderr, 'No resources found\n');
});

test('label selectors: every operator', async () => {
  const cases: Array<[string, string[]]> = [
    ['app=web', ['alpha', 'bravo']],
    ['app==web', ['alpha', 'bravo']],
    ['app!=web', ['charlie']],
    ['env', ['alpha', 'bravo']],
    ['!env', ['charlie']],
    ['env in (prod,staging)', ['alpha']],
    ['env notin (prod)', ['bravo', 'charlie']],
    ['app=web,tier=backend', ['bravo']],
    ['app in (web,db),!env', ['charlie']],
    ['tier in (frontend, backend),env!=prod', ['bravo']],
  ];
  for (const [sel, want] of cases) {
    const r = await k.ok(['get', 'pods', '-l', sel, '-o', 'name']);
    assert.deepEqual(lines(r.stdout), want.map((n) => `pod/${n}`), `selector ${sel}`);
  }
  const none = await k.ok(['get', 'pods', '-l', 'tier=nothing']);
  assert.equal(none.stdout, '');
  assert.equal(none.stderr, `No resources found in ${ns} namespace.\n`);
  const bad = await k.fail(['get', 'pods', '-l', 'app in (web']);
  assert.match(bad.stderr, /^Error from server \(BadRequest\): /);
});

test('field selectors: =, ==, != and unsupported fields', async () => {
  const cases: Array<[string, string[]]> = [
    ['metadata.name=alpha', ['alpha']],
    ['metadata.name==bravo', ['bravo']],
    ['metadata.name!=alpha', ['bravo', 'charlie']],
    ['status.phase=Pending', ['alpha', 'bravo', 'charlie']],
    ['status.phase!=Pending', []],
    [`metadata.namespace=${ns}`, ['alpha', 'bravo', 'charlie']],
    ['spec.nodeName=', ['alpha', 'bravo', 'charlie']],
    ['metadata.name!=alpha,metadata.name!=charlie', ['bravo']],
  ];
  for (const [sel, want] of cases) {
    const r = await k.ok(['get', 'pods', '--field-selector', sel, '-o', 'name']);
    assert.deepEqual(lines(r.stdout), want.map((n) => `pod/${n}`), `field selector ${sel}`);
  }
  const mixed = await k.ok(['get', 'pods', '-l', 'app=web', '--field-selector', 'metadata.name!=bravo', '-o', 'name']);
  assert.equal(mixed.stdout, 'pod/alpha\n');
  const bad = await k.fail(['get', 'pods', '--field-selector', 'spec.foo=bar']);
  assert.match(bad.stderr, /^Error from server \(BadRequest\): .*field label not supported: spec\.foo/);
});

test('--sort-by orders rows client-side from the full objects', async () => {
  const t = parseTable((await k.ok(['get', 'pods', '--sort-by=.metadata.labels.rank'])).stdout);
  assert.deepEqual(t.rows.map((x) => x.NAME), ['bravo', 'charlie', 'alpha']);
  const n = await k.ok(['get', 'pods', '--sort-by=.metadata.labels.tier', '-l', 'tier', '-o', 'name']);
  assert.equal(n.stdout, 'pod/bravo\npod/alpha\n');
});

test('--chunk-size pages through continue tokens and merges the output', async () => {
  const r = await k.ok(['get', 'pods', '--chunk-size=1', '-o', 'name']);
  assert.equal(r.stdout, 'pod/alpha\npod/bravo\npod/charlie\n');
  const t = parseTable((await k.ok(['get', 'pods', '--chunk-size=2'])).stdout);
  assert.deepEqual(t.rows.map((x) => x.NAME), ['alpha', 'bravo', 'charlie']);
});

test('NotFound, --ignore-not-found and empty lists', async () => {
  const nf = await k.fail(['get', 'pod', 'nope']);
  assert.equal(nf.stdout, '');
  assert.equal(nf.stderr, 'Error from server (NotFound): pods "nope" not found\n');
  const ign = await k.ok(['get', 'pod', 'nope', '--ignore-not-found']);
  assert.equal(ign.stdout + ign.stderr, '');
  const empty = await k.ok(['get', 'configmaps,secrets', '-l', 'nothing=here']);
  assert.equal(empty.stderr, `No resources found in ${ns} namespace.\n`);
});

test('pods in other namespaces stay invisible', async () => {
  const other = await withNamespace(srv, 'e2e-other');
  const r = await other.ok(['get', 'pods']);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `No resources found in ${other.namespace} namespace.\n`);
  const nf = await other.fail(['get', 'pod', 'alpha']);
  assert.equal(nf.stderr, 'Error from server (NotFound): pods "alpha" not found\n');
});
