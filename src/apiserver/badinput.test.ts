// Property test: generated garbage thrown at every endpoint of every kind never crashes the server, always gets a
// JSON reply, gets a 4xx `Status` when rejected, and a rejected request never changes the store's revision.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { allKinds } from '../api/kinds/index.js';
import { openStore } from '../storage/index.js';
import { AllowAuthenticatedAuthorizer, X509Authenticator } from './auth.js';
import { initFieldManager } from './fieldmanager.js';
import { ensurePKI } from './pki.js';
import { ApiServer } from './server.js';

interface Reply {
  status: number;
  body: string;
}

test('garbage at every endpoint: 4xx Status, nothing written, server keeps serving', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-badinput-'));
  const store = await openStore(`sqlite://${join(dir, 'state.db')}`);
  await initFieldManager();
  const pki = await ensurePKI(dir, ['127.0.0.1']);
  const api = new ApiServer({ store, authenticator: new X509Authenticator(), authorizer: new AllowAuthenticatedAuthorizer(), serverAddress: '127.0.0.1:0', gitVersion: 'v1.32.3-k8ts' });
  await api.bootstrap();
  const server = createServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requestCert: true, rejectUnauthorized: false }, api.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const agent = new Agent({ ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey, keepAlive: true });
  const send = (method: string, path: string, body: Buffer | undefined, contentType: string): Promise<Reply> =>
    new Promise((res, rej) => {
      const r = request({ host: '127.0.0.1', port, path, method, agent, headers: body ? { 'Content-Type': contentType, 'Content-Length': body.length } : {} }, (resp) => {
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () => res({ status: resp.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      r.on('error', rej);
      if (body) r.write(body);
      r.end();
    });

  try {
    const paths: string[] = [];
    for (const k of allKinds()) {
      const base = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
      const coll = k.namespaced ? `${base}/namespaces/default/${k.plural}` : `${base}/${k.plural}`;
      paths.push(coll, `${coll}/x`, `${coll}/x/status`, `${coll}/x/scale`, `${base}/namespaces/nope/${k.plural}`);
    }
    assert.ok(paths.length >= 10, 'kinds are registered');
    const revision = async () => Number(JSON.parse((await send('GET', '/api/v1/namespaces', undefined, '')).body).metadata.resourceVersion);

    const bodyArb = fc.oneof(
      fc.string().map((s) => Buffer.from(s)),
      fc.json().map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.concat([Buffer.from('k8s\0'), Buffer.from(a)])),
      fc.record({
        apiVersion: fc.constantFrom('v1', 'apps/v1', 'batch/v1', 'bogus/v9', ''),
        kind: fc.constantFrom('Pod', 'Deployment', 'ConfigMap', 'Nope', ''),
        metadata: fc.oneof(
          fc.record({ name: fc.constantFrom('x', 'Bad_Name', '', '-x-', 'a'.repeat(300)), namespace: fc.constantFrom('default', 'other', ''), labels: fc.dictionary(fc.string(), fc.string()) }, { requiredKeys: [] }),
          fc.anything(),
        ),
        spec: fc.anything(),
        status: fc.anything(),
        data: fc.anything(),
      }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o))),
    );
    const ctArb = fc.constantFrom(
      'application/json',
      'application/yaml',
      'application/vnd.kubernetes.protobuf',
      'application/merge-patch+json',
      'application/json-patch+json',
      'application/strategic-merge-patch+json',
      'application/apply-patch+yaml',
      'text/plain',
    );
    const queryArb = fc.constantFrom('', '?dryRun=All', '?fieldValidation=Strict', '?fieldManager=x', '?labelSelector=a%20in%20(', '?fieldSelector=bogus%3D1', '?limit=-1', '?resourceVersion=abc', '?force=true');

    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'GET'), fc.constantFrom(...paths), queryArb, bodyArb, ctArb, async (method, path, q, body, ct) => {
        const before = await revision();
        const r = await send(method, path + q, method === 'GET' ? undefined : body, ct);
        assert.ok(r.status < 500, `${method} ${path}${q} (${ct}) → ${r.status} ${r.body.slice(0, 300)}`);
        const parsed = JSON.parse(r.body) as { kind?: string; code?: number; status?: string };
        if (r.status >= 400) {
          assert.equal(parsed.kind, 'Status');
          assert.equal(parsed.code, r.status);
          assert.equal(parsed.status, 'Failure');
          assert.equal(await revision(), before, `rejected ${method} ${path} changed the store`);
        }
      }),
      { numRuns: 400, seed: Number(process.env.K8TS_FUZZ_SEED ?? Date.now() % 100000) },
    );
    // Oversized bodies are refused before decoding.
    const big = await send('POST', '/api/v1/namespaces/default/configmaps', Buffer.alloc(3 * 1024 * 1024 + 10, 0x20), 'application/json');
    assert.equal(big.status, 413);
    assert.equal(JSON.parse(big.body).reason, 'RequestEntityTooLarge');
    assert.equal((await send('GET', '/healthz', undefined, '')).status, 200);
  } finally {
    agent.destroy();
    server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
