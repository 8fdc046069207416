// Integration test: the real kubectl 1.32 runs `kubectl explain` against a throwaway HTTPS server that serves
// /version, aggregated discovery (built from a small fixture) and our /openapi handlers, and must print upstream's
// fields and descriptions. Needs the built schemas (npm run build) and the kubectl from the lambda-layer dev dep.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KindDef } from '../api/kinds/types.js';
import { definitions } from '../api/schema/registry.js';
import { buildOpenAPIDocs, handleOpenAPI } from './openapi.js';
import type { OpenAPIDocs } from './openapi.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const fixtureKinds: KindDef[] = [
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], categories: ['all'], status: true },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'] },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    status: true,
    scale: { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'replicas'], selector: () => '' },
  },
];

/** Aggregated discovery (apidiscovery.k8s.io/v2) for the fixture: core group for /api, named groups for /apis. */
function discovery(core: boolean): string {
  const groups = new Map<string, KindDef[]>();
  for (const k of fixtureKinds) {
    if ((k.group === '') !== core) continue;
    groups.set(k.group, [...(groups.get(k.group) ?? []), k]);
  }
  return JSON.stringify({
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [...groups].map(([group, kinds]) => ({
      metadata: { name: group },
      versions: [
        {
          version: 'v1',
          freshness: 'Current',
          resources: kinds.map((k) => ({
            resource: k.plural,
            responseKind: { group: k.group, version: k.version, kind: k.kind },
            scope: k.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: k.singular,
            shortNames: k.shortNames ?? [],
            verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          })),
        },
      ],
    })),
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('kubectl explain against /openapi/v3', () => {
  let tmp = '';
  let server: https.Server | undefined;
  let kubectl = '';
  let env: NodeJS.ProcessEnv = {};
  const requests: string[] = [];
  /** Objects the throwaway server answers GETs with, by path; PATCH bodies received, by path. */
  const objects = new Map<string, unknown>();
  const patches: { path: string; contentType: string; body: string }[] = [];
  let docs: OpenAPIDocs | undefined;

  before(async () => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'install-kubectl.mjs'), '--quiet'], { stdio: 'inherit' });
    kubectl = path.join(root, '.tools', 'bin', 'kubectl');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-openapi-kubectl-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    docs = buildOpenAPIDocs(fixtureKinds, definitions());
    server = https.createServer({ key: fs.readFileSync(path.join(tmp, 'key.pem')), cert: fs.readFileSync(path.join(tmp, 'cert.pem')) }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const r = handleOpenAPI(url.pathname, url.searchParams, String(req.headers.accept ?? ''), () => docs as OpenAPIDocs);
      if (r) {
        res.writeHead(r.status, r.headers);
        res.end(r.body);
        return;
      }
      if (objects.has(url.pathname) && (req.method === 'GET' || req.method === 'PATCH')) {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (req.method === 'PATCH') patches.push({ path: url.pathname, contentType: String(req.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(objects.get(url.pathname)));
        });
        return;
      }
      if (url.pathname === '/version') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.3', platform: 'linux/amd64' }));
      } else if (url.pathname === '/api' || url.pathname === '/apis') {
        res.writeHead(200, { 'Content-Type': 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
        res.end(discovery(url.pathname === '/api'));
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' }));
      }
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const kubeconfig = path.join(tmp, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: t',
        '  cluster:',
        `    server: https://127.0.0.1:${port}`,
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: u',
        '  user:',
        '    token: test-token',
        'contexts:',
        '- name: c',
        '  context: {cluster: t, user: u}',
        'current-context: c',
        '',
      ].join('\n'),
    );
    env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, KUBECONFIG: kubeconfig };
  });

  after(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const explain = (...what: string[]) => run(kubectl, ['explain', ...what, '--cache-dir', path.join(tmp, 'cache')], env);

  it('explain deployment.spec.strategy prints upstream fields and descriptions', async () => {
    const r = await explain('deployment.spec.strategy');
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^GROUP:\s+apps$/m);
    assert.match(out, /^KIND:\s+Deployment$/m);
    assert.match(out, /^VERSION:\s+v1$/m);
    assert.match(out, /^FIELD: strategy <DeploymentStrategy>$/m);
    assert.match(out, /The deployment strategy to use to replace existing pods with new ones\./);
    assert.match(out, /DeploymentStrategy describes how to replace existing pods with new ones\./);
    assert.match(out, /^ {2}rollingUpdate\t<RollingUpdateDeployment>$/m);
    assert.match(out, /Rolling update config params\. Present only if DeploymentStrategyType =\s+RollingUpdate\./);
    assert.match(out, /^ {2}type\t<string>$/m);
    assert.match(out, /^ {2}enum: Recreate, RollingUpdate$/m);
    assert.match(out, /`"Recreate"` Kill all existing pods before creating new ones\./);
    assert.ok(requests.some((q) => q.startsWith('GET /openapi/v3/apis/apps/v1?hash=')), requests.join('\n'));
  });

  it('explain pods.spec.containers prints the Container fields', async () => {
    const r = await explain('pods.spec.containers');
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^KIND:\s+Pod$/m);
    assert.match(out, /^VERSION:\s+v1$/m);
    assert.match(out, /^FIELD: containers <\[\]Container>$/m);
    assert.match(out, /List of containers belonging to the pod\./);
    assert.match(out, /A single application container that you want to run within a pod\./);
    for (const [field, type] of [
      ['args', '[]string'],
      ['env', '[]EnvVar'],
      ['image', 'string'],
      ['imagePullPolicy', 'string'],
      ['livenessProbe', 'Probe'],
      ['name', 'string'],
      ['ports', '[]ContainerPort'],
      ['resources', 'ResourceRequirements'],
      ['securityContext', 'SecurityContext'],
      ['volumeMounts', '[]VolumeMount'],
    ]) {
      assert.match(out, new RegExp(`^  ${field}\\t<${type.replace(/[[\]]/g, '\\$&')}>`, 'm'), `${field} <${type}>`);
    }
    assert.match(out, /^ {2}name\t<string> -required-$/m);
    // 1.33-only fields are dropped (kubernetes-models carries 1.33 schemas)
    const lc = await explain('pods.spec.containers.lifecycle');
    assert.equal(lc.code, 0, lc.stderr);
    assert.match(lc.stdout, /^ {2}preStop\t<LifecycleHandler>$/m);
    assert.doesNotMatch(lc.stdout, /stopSignal/);
  });

  it('explain of an IntOrString field and a map of quantities', async () => {
    const r = await explain('deployment.spec.strategy.rollingUpdate.maxSurge');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^FIELD: maxSurge <IntOrString>$/m);
    const q = await explain('pods.spec.containers.resources.limits');
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /^FIELD: limits <map\[string\]Quantity>$/m);
  });

  /** Apply a changed Deployment over a live one and return the patch body kubectl sent. */
  async function applyChangedDeployment(): Promise<{ contentType: string; body: string; stderr: string }> {
    patches.length = 0;
    const lastApplied = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'a', image: 'busybox', args: ['sleep', '1'] },
              { name: 'b', image: 'busybox' },
            ],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    };
    const live = structuredClone(lastApplied) as Record<string, unknown> & { metadata: Record<string, unknown> };
    live.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(lastApplied) };
    live.metadata.uid = '0b0b0b0b-0000-4000-8000-000000000001';
    live.metadata.resourceVersion = '5';
    objects.set('/apis/apps/v1/namespaces/default/deployments/web', live);
    const changed = structuredClone(lastApplied);
    changed.spec.strategy = { type: 'Recreate' } as typeof changed.spec.strategy;
    changed.spec.template.spec.containers = [{ name: 'a', image: 'busybox', args: ['sleep', '2'] }];
    changed.spec.template.spec.volumes = [{ name: 'data', configMap: { name: 'cfg' } } as unknown as { name: string; emptyDir: object }];
    const file = path.join(tmp, 'deploy.json');
    fs.writeFileSync(file, JSON.stringify(changed));
    const r = await run(kubectl, ['apply', '-f', file, '--cache-dir', path.join(tmp, `cache-${Math.random()}`)], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(patches.length, 1, JSON.stringify(patches));
    return { ...patches[0], stderr: r.stderr };
  }

  it('kubectl apply computes a strategic merge patch from our v3 schemas (merge keys, retainKeys)', async () => {
    const p = await applyChangedDeployment();
    assert.doesNotMatch(p.stderr, /error calculating patch/);
    assert.equal(p.contentType, 'application/strategic-merge-patch+json');
    const body = JSON.parse(p.body) as { spec: { strategy: Record<string, unknown>; template: { spec: Record<string, unknown> } } };
    assert.deepEqual(body.spec.strategy.$retainKeys, ['type']);
    assert.equal(body.spec.strategy.type, 'Recreate');
    assert.equal(body.spec.strategy.rollingUpdate, null);
    const pod = body.spec.template.spec;
    assert.deepEqual(pod['$setElementOrder/containers'], [{ name: 'a' }]);
    assert.deepEqual(pod.containers, [{ args: ['sleep', '2'], name: 'a' }, { $patch: 'delete', name: 'b' }]);
    assert.deepEqual(pod.volumes, [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, emptyDir: null, name: 'data' }]);
  });

  it('control: without the merge-key extensions kubectl replaces the containers list (so the v3 path is really used)', async () => {
    const defs = structuredClone(definitions()) as Record<string, { properties?: Record<string, Record<string, unknown>> }>;
    const containers = defs['io.k8s.api.core.v1.PodSpec'].properties?.containers;
    assert.ok(containers);
    delete containers['x-kubernetes-patch-strategy'];
    delete containers['x-kubernetes-patch-merge-key'];
    const saved = docs;
    docs = buildOpenAPIDocs(fixtureKinds, defs);
    try {
      const p = await applyChangedDeployment();
      const pod = (JSON.parse(p.body) as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec;
      assert.equal(pod['$setElementOrder/containers'], undefined);
      assert.deepEqual(pod.containers, [{ args: ['sleep', '2'], image: 'busybox', name: 'a' }]);
    } finally {
      docs = saved;
    }
  });
});
