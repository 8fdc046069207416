// REST client tests against a local node:https server with real cluster certificates: the client certificate
// identity, URLs and bodies of each verb, Status errors, and watch streams (events, BOOKMARK, ERROR 410, timeout).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClientCert, ensurePKI } from '../apiserver/pki.js';
import { ApiError, type Resource, type WatchEvent } from './interface.js';
import { RestClient } from './rest.js';

const CM: Resource = { group: '', version: 'v1', resource: 'configmaps', namespaced: true };
const DEPLOY: Resource = { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true };

interface Seen {
  method: string;
  url: string;
  cn: string;
  contentType?: string;
  body: string;
}
const seen: Seen[] = [];
let route: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined;
let server: Server;
let client: RestClient;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'k8ts-rest-'));
  const pki = await ensurePKI(dir, ['127.0.0.1']);
  const id = await ensureClientCert(dir, 'controller-manager', 'system:kube-controller-manager');
  server = createServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const cn = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      seen.push({ method: req.method ?? '', url: req.url ?? '', cn, contentType: req.headers['content-type'], body });
      route(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  client = new RestClient({ server: `https://127.0.0.1:${port}`, caCert: pki.caCert, clientCert: id.cert, clientKey: id.key });
});

after(async () => {
  client.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const json = (res: ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

test('verbs: paths, query, bodies, content types; the client certificate names the controller manager', async () => {
  seen.length = 0;
  route = (req, res, body) => json(res, 200, req.method === 'GET' && !req.url?.includes('/x') ? { kind: 'ConfigMapList', metadata: { resourceVersion: '7' }, items: [] } : body ? JSON.parse(body) : { metadata: { name: 'x' } });
  await client.get(CM, 'ns', 'x');
  await client.list(DEPLOY, 'ns', { labelSelector: 'a=b' });
  await client.list(CM, undefined);
  await client.create(CM, 'ns', { metadata: { name: 'x' } });
  await client.create({ group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true }, 'ns', { kind: 'TokenRequest', metadata: { name: 'default' } }, 'token');
  await client.update({ group: '', version: 'v1', resource: 'namespaces', namespaced: false }, undefined, { metadata: { name: 'x' } }, 'finalize');
  await client.patch(CM, 'ns', 'x', 'application/merge-patch+json', { metadata: { labels: { a: 'b' } } });
  await client.delete(CM, 'ns', 'x', { propagationPolicy: 'Foreground', preconditions: { uid: 'u' } });
  await client.deleteCollection(CM, 'ns', { propagationPolicy: 'Background' });
  assert.deepEqual(
    seen.map((s) => `${s.method} ${s.url}`),
    [
      'GET /api/v1/namespaces/ns/configmaps/x',
      'GET /apis/apps/v1/namespaces/ns/deployments?labelSelector=a%3Db',
      'GET /api/v1/configmaps',
      'POST /api/v1/namespaces/ns/configmaps',
      'POST /api/v1/namespaces/ns/serviceaccounts/default/token',
      'PUT /api/v1/namespaces/x/finalize',
      'PATCH /api/v1/namespaces/ns/configmaps/x',
      'DELETE /api/v1/namespaces/ns/configmaps/x',
      'DELETE /api/v1/namespaces/ns/configmaps',
    ],
  );
  assert.ok(seen.every((s) => s.cn === 'system:kube-controller-manager'));
  assert.equal(seen[6]!.contentType, 'application/merge-patch+json');
  assert.deepEqual(JSON.parse(seen[7]!.body), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', preconditions: { uid: 'u' } });
});

test('a Status reply becomes an ApiError with its code and reason', async () => {
  route = (_req, res) => json(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'configmaps "x" not found' });
  await assert.rejects(client.get(CM, 'ns', 'x'), (e: unknown) => e instanceof ApiError && e.code === 404 && e.reason === 'NotFound' && e.message === 'configmaps "x" not found');
});

test('watch: query, events split across chunks, BOOKMARK, normal end', async () => {
  seen.length = 0;
  route = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const a = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '8' } } }) + '\n';
    res.write(a.slice(0, 10));
    setTimeout(() => {
      res.write(a.slice(10) + JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }) + '\n');
      res.end(JSON.stringify({ type: 'DELETED', object: { metadata: { name: 'a', resourceVersion: '10' } } }) + '\n');
    }, 10);
  };
  const events: WatchEvent[] = [];
  const w = client.watch(CM, 'ns', { resourceVersion: '7', timeoutSeconds: 30, allowWatchBookmarks: true }, (e) => events.push(e));
  await w.done;
  assert.equal(seen[0]!.url, '/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=7&timeoutSeconds=30&allowWatchBookmarks=true');
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.resourceVersion}`), ['ADDED 8', 'BOOKMARK 9', 'DELETED 10']);
});

test('watch: an ERROR event rejects done with the Status (410 Expired)', async () => {
  route = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' } }) + '\n');
  };
  const w = client.watch(CM, 'ns', { resourceVersion: '1' }, () => undefined);
  await assert.rejects(w.done, (e: unknown) => e instanceof ApiError && e.code === 410 && e.reason === 'Expired');
});

test('watch: stop() ends the stream and resolves done', async () => {
  route = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } }) + '\n');
  };
  let got = 0;
  const w = client.watch(CM, 'ns', {}, () => {
    got++;
    w.stop();
  });
  await w.done;
  assert.equal(got, 1);
});

test('discover asks for aggregated discovery and falls back to the legacy documents', async () => {
  seen.length = 0;
  route = (req, res) => {
    if (req.url === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'] });
    if (req.url === '/api/v1') return json(res, 200, { resources: [{ name: 'pods', kind: 'Pod', namespaced: true, verbs: ['list'] }] });
    if (req.url === '/apis') return json(res, 200, { kind: 'APIGroupList', groups: [] });
    json(res, 404, { kind: 'Status', code: 404 });
  };
  const rs = await client.discover();
  assert.deepEqual(rs, [{ group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, verbs: ['list'] }]);
  assert.deepEqual(seen.map((s) => s.url).sort(), ['/api', '/api/v1', '/apis']);
});

test('idle keep-alive connections: beyond maxIdleConnections closed at once, the rest after idleTimeoutMs; busy ones kept', async () => {
  const addr = server.address() as { port: number };
  const id = await ensureClientCert(dir, 'controller-manager', 'system:kube-controller-manager');
  const pki = await ensurePKI(dir, ['127.0.0.1']);
  const c = new RestClient({ server: `https://127.0.0.1:${addr.port}`, caCert: pki.caCert, clientCert: id.cert, clientKey: id.key, maxIdleConnections: 2, idleTimeoutMs: 150 });
  const opened: Array<{ closed: boolean }> = [];
  const onConn = (sock: TLSSocket) => {
    const s = { closed: false };
    opened.push(s);
    sock.once('close', () => (s.closed = true));
  };
  server.on('secureConnection', onConn);
  try {
    // A slow answer (longer than the idle timeout) is not cut off: the timeout applies to idle connections only.
    route = (_req, res) => setTimeout(() => json(res, 200, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'a' } }), 400);
    await Promise.all(['a', 'b', 'c'].map((n) => c.get(CM, 'ns', n)));
    assert.equal(opened.length, 3, 'three connections for three concurrent requests');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(opened.map((o) => o.closed).sort(), [false, false, true], 'one beyond maxIdleConnections (2) closed at once');
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(opened.map((o) => o.closed), [true, true, true], 'the kept ones closed once idle longer than idleTimeoutMs');
  } finally {
    server.off('secureConnection', onConn);
    c.close();
  }
});
