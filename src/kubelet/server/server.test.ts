// The kubelet server's client authentication (cluster-CA certificate with the API server's kubelet-client identity
// or system:masters) and its plain endpoints (/healthz, /pods, errors of /containerLogs and upgrades).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureClientCert, ensureKubeletClientCert, ensureKubeletServingCert, ensurePKI, type ClusterPKI } from '../../apiserver/pki.js';
import type { RuntimeService } from '../../runtime/interface.js';
import type { Pod } from '../types.js';
import { KubeletServer } from './server.js';

let dir = '';
let pki: ClusterPKI;
let server: KubeletServer;
let port = 0;
const certs: Record<string, { cert: string; key: string }> = {};
const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' } };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'k8ts-kubelet-server-'));
  pki = await ensurePKI(dir, []);
  certs.kubeletClient = await ensureKubeletClientCert(dir);
  certs.node = await ensureClientCert(dir, 'node', 'system:node:n1', ['system:nodes']);
  const serving = await ensureKubeletServingCert(dir, 'n1', ['127.0.0.1']);
  const runtime = { listContainers: async () => [] } as unknown as RuntimeService;
  server = new KubeletServer({ backend: { nodeName: 'n1', runtime, pods: () => [pod] }, tls: { ...serving, caCert: pki.caCert }, bindAddress: '127.0.0.1', port: 0 });
  port = await server.start();
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, who?: { cert: string; key: string }, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path, ca: pki.caCert, ...(who ?? {}), headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

test('only the kubelet-client identity or system:masters get in', async () => {
  assert.deepEqual(await get('/healthz', certs.kubeletClient), { status: 200, body: 'ok' });
  assert.equal((await get('/healthz', { cert: pki.adminCert, key: pki.adminKey })).status, 200);
  assert.equal((await get('/healthz', certs.node)).status, 401);
  assert.equal((await get('/healthz')).status, 401);
});

test('/pods is a PodList of the backend pods; log errors as upstream', async () => {
  const r = await get('/pods', certs.kubeletClient);
  const list = JSON.parse(r.body) as { kind: string; items: Pod[] };
  assert.equal(list.kind, 'PodList');
  assert.deepEqual(list.items.map((p) => p.metadata.name), ['p']);
  assert.deepEqual(await get('/containerLogs/ns/nope/c', certs.kubeletClient), { status: 404, body: 'pod "nope" in namespace "ns" not found' });
  assert.deepEqual(await get('/containerLogs/ns/p/c?previous=true', certs.kubeletClient), { status: 400, body: 'previous terminated container "c" in pod "p" not found' });
  assert.equal((await get('/containerLogs/ns/p/c?tailLines=-2', certs.kubeletClient)).status, 400);
  assert.equal((await get('/exec/ns/p/c?command=ls', certs.kubeletClient)).status, 400);
  assert.equal((await get('/nothing', certs.kubeletClient)).status, 404);
});
