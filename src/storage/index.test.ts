// Tests of driver selection by datastore URL (index.ts) and etcd URL parsing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseEtcdUrl } from './etcd.js';
import { openStore } from './index.js';
import { StorageError } from './interface.js';
import { SqliteStore } from './sqlite.js';

describe('openStore', () => {
  it('parses etcd URLs', () => {
    const table: Array<[string, ReturnType<typeof parseEtcdUrl>]> = [
      ['etcd://127.0.0.1:2379', { hosts: ['http://127.0.0.1:2379'] }],
      ['etcd://127.0.0.1:2379/', { hosts: ['http://127.0.0.1:2379'] }],
      ['etcd3://a:1,b:2,c:3', { hosts: ['http://a:1', 'http://b:2', 'http://c:3'] }],
      ['etcd://127.0.0.1:2379?prefix=/run-1', { hosts: ['http://127.0.0.1:2379'], prefix: '/run-1' }],
      ['etcd://h:1?prefix=%2Fx&timeout=750', { hosts: ['http://h:1'], prefix: '/x', callTimeoutMs: 750 }],
      ['etcd://https://h:1', { hosts: ['https://h:1'] }],
    ];
    for (const [url, want] of table) assert.deepEqual(parseEtcdUrl(url), want, url);
    for (const bad of ['etcd://', 'etcd://?prefix=/x', 'http://h:1', 'etcd://h:1?timeout=abc']) {
      assert.throws(() => parseEtcdUrl(bad), StorageError, bad);
    }
  });

  it('opens sqlite by URL, creating the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-open-'));
    try {
      for (const url of [`sqlite://${dir}/a/state.db`, `sqlite:${dir}/b.db`]) {
        const s = await openStore(url);
        assert.ok(s instanceof SqliteStore, url);
        await s.create('/k', 'v');
        await s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown schemes and empty paths', async () => {
    for (const url of ['', 'mysql://x', 'sqlite://', 'file:/tmp/x']) {
      await assert.rejects(openStore(url), StorageError, url);
    }
  });

  it('fails fast, with a clear error, when etcd is unreachable', async () => {
    const t0 = Date.now();
    await assert.rejects(openStore('etcd://127.0.0.1:1?timeout=500'), /etcd unreachable/);
    assert.ok(Date.now() - t0 < 10_000);
  });
});
