// Authentication: token-file parsing and bearer-token lookup; the allow-authenticated authorizer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AllowAuthenticatedAuthorizer, parseTokenFile, TokenFileAuthenticator } from './auth.js';

test('token file: CSV with quoted groups, comments, short lines ignored', () => {
  const m = parseTokenFile('# comment\nt1,alice,u1,"dev,ops"\nt2,bob,u2\nbad,line\n');
  assert.deepEqual(m.get('t1'), { username: 'alice', uid: 'u1', groups: ['dev', 'ops'] });
  assert.deepEqual(m.get('t2'), { username: 'bob', uid: 'u2', groups: [] });
  assert.equal(m.size, 2);
});

test('bearer tokens authenticate; unknown tokens and other schemes do not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-auth-'));
  try {
    writeFileSync(join(dir, 'tokens.csv'), 'secret,alice,u1,"dev"\n');
    const a = new TokenFileAuthenticator(join(dir, 'tokens.csv'));
    const req = (h?: string) => ({ headers: h ? { authorization: h } : {} }) as unknown as IncomingMessage;
    assert.deepEqual(a.authenticate(req('Bearer secret')), { username: 'alice', uid: 'u1', groups: ['dev', 'system:authenticated'] });
    assert.equal(a.authenticate(req('Bearer nope')), undefined);
    assert.equal(a.authenticate(req('Basic c2VjcmV0')), undefined);
    assert.equal(a.authenticate(req()), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('authorizer allows authenticated users only', () => {
  const z = new AllowAuthenticatedAuthorizer();
  assert.equal(z.authorize({ user: { username: 'a', groups: ['system:authenticated'] }, verb: 'get', resourceRequest: true }).allowed, true);
  assert.equal(z.authorize({ user: { username: 'a', groups: [] }, verb: 'get', resourceRequest: true }).allowed, false);
});
