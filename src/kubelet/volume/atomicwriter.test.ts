// Atomic writer on a temp dir: the ..data/timestamp layout, user-visible symlinks, modes, no-op rewrites, swaps that
// drop removed keys and the old timestamped directory, and refused payload paths.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_DIR, timestampPrefix, writeAtomically } from './atomicwriter.js';
import type { Payload } from './payload.js';

const payload = (o: Record<string, [string, number]>): Payload => new Map(Object.entries(o).map(([k, [d, m]]) => [k, { data: Buffer.from(d), mode: m }]));

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-aw-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('timestampPrefix is ..YYYY_MM_DD_HH_MM_SS. in UTC', () => {
  assert.equal(timestampPrefix(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))), '..2026_01_02_03_04_05.');
});

test(
  'first write: ..data points at a timestamped dir; top-level names are symlinks through ..data',
  withDir(async (dir) => {
    assert.equal(await writeAtomically(dir, payload({ 'app.conf': ['a=1', 0o644], 'etc/nested/x': ['x', 0o600] })), true);
    const ts = readlinkSync(join(dir, DATA_DIR));
    assert.match(ts, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\..+$/);
    assert.equal(statSync(join(dir, ts)).mode & 0o777, 0o755);
    assert.equal(readlinkSync(join(dir, 'app.conf')), '..data/app.conf');
    assert.equal(readlinkSync(join(dir, 'etc')), '..data/etc');
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'a=1');
    assert.equal(readFileSync(join(dir, 'etc/nested/x'), 'utf8'), 'x');
    assert.equal(statSync(join(dir, 'app.conf')).mode & 0o777, 0o644);
    assert.equal(statSync(join(dir, 'etc/nested/x')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), [ts, DATA_DIR, 'app.conf', 'etc'].sort());
  }),
);

test(
  'an unchanged payload writes nothing; a changed one swaps ..data, drops removed names and the old dir',
  withDir(async (dir) => {
    await writeAtomically(dir, payload({ a: ['1', 0o644], b: ['2', 0o644] }));
    const ts1 = readlinkSync(join(dir, DATA_DIR));
    assert.equal(await writeAtomically(dir, payload({ a: ['1', 0o644], b: ['2', 0o644] })), false);
    assert.equal(readlinkSync(join(dir, DATA_DIR)), ts1);
    // A mode change alone is a change.
    assert.equal(await writeAtomically(dir, payload({ a: ['1', 0o600], b: ['2', 0o644] })), true);
    const ts2 = readlinkSync(join(dir, DATA_DIR));
    assert.notEqual(ts2, ts1);
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o600);
    assert.equal(await writeAtomically(dir, payload({ a: ['new', 0o600], c: ['3', 0o644] })), true);
    const ts3 = readlinkSync(join(dir, DATA_DIR));
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'new');
    assert.equal(readFileSync(join(dir, 'c'), 'utf8'), '3');
    assert.throws(() => lstatSync(join(dir, 'b')), /ENOENT/);
    assert.deepEqual(readdirSync(dir).sort(), [ts3, DATA_DIR, 'a', 'c'].sort());
    // An empty payload leaves only ..data and its (empty) directory.
    await writeAtomically(dir, new Map());
    assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('..')), []);
  }),
);

test(
  'payload paths that would escape or shadow the writer are refused before anything is written',
  withDir(async (dir) => {
    for (const bad of ['../x', '/abs', '..data', 'a/../../b']) {
      await assert.rejects(writeAtomically(dir, payload({ ok: ['1', 0o644], [bad]: ['x', 0o644] })), /invalid path/, bad);
    }
    assert.deepEqual(readdirSync(dir), []);
  }),
);
