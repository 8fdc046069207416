// Layer unpacking: OCI whiteouts and opaque directories give the right merged view through a real overlay mount;
// links, devices, modes and owners survive; entries that would escape the layer are refused.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLayer, type LayerEntry } from './build.js';
import { LayerError, unpackLayer } from './layer.js';

let dir: string;
const mounts: string[] = [];

before(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'k8ts-layer-test-'));
});
after(async () => {
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
  await fsp.rm(dir, { recursive: true, force: true });
});

let n = 0;
/** Builds a layer from entries, writes its blob and unpacks it into a fresh directory. */
async function unpacked(entries: LayerEntry[], gzip = true): Promise<{ path: string; diffId: string; expected: string }> {
  const layer = await buildLayer(entries, { gzip });
  const blob = join(dir, `blob-${++n}`);
  await fsp.writeFile(blob, layer.blob);
  const path = join(dir, `layer-${n}`);
  const r = await unpackLayer(blob, path);
  return { path, diffId: r.diffId, expected: layer.diffId };
}

async function overlay(lowersTopFirst: string[]): Promise<string> {
  const m = join(dir, `merged-${++n}`);
  for (const d of [m, `${m}-upper`, `${m}-work`]) await fsp.mkdir(d);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowersTopFirst.join(':')},upperdir=${m}-upper,workdir=${m}-work`, m]);
  mounts.push(m);
  return m;
}

function tree(root: string): string[] {
  return execFileSync('find', ['.', '-mindepth', '1'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

test('whiteouts and opaque directories merge through overlayfs as the OCI spec says', async () => {
  const base = await unpacked([
    { path: 'a/', type: 'directory' },
    { path: 'a/keep', data: 'keep' },
    { path: 'a/gone', data: 'gone' },
    { path: 'b/', type: 'directory' },
    { path: 'b/x', data: 'x' },
    { path: 'b/sub/', type: 'directory' },
    { path: 'b/sub/y', data: 'y' },
    { path: 'c', data: 'c' },
    { path: 'd/', type: 'directory' },
    { path: 'd/old', data: 'old' },
    { path: 'f/', type: 'directory' },
    { path: 'f/inner', data: 'inner' },
  ]);
  const top = await unpacked([
    { path: 'a/', type: 'directory' },
    { path: 'a/.wh.gone' },
    { path: 'b/', type: 'directory' },
    { path: 'b/.wh..wh..opq' },
    { path: 'b/new', data: 'new' },
    { path: '.wh.c' },
    // deleted and re-created in one layer: the new d hides all of the old one
    { path: '.wh.d' },
    { path: 'd/', type: 'directory' },
    { path: 'd/new', data: 'new' },
    // a directory replaced by a file
    { path: '.wh.f' },
    { path: 'f', data: 'now a file' },
    // a whiteout for something no lower layer has is harmless, one under an opaque directory is dropped; aufs
    // bookkeeping is ignored
    { path: 'a/.wh.nothing' },
    { path: 'b/.wh.x' },
    { path: 'e/', type: 'directory' },
    { path: '.wh..wh.plnk/' , type: 'directory' },
  ]);
  assert.equal(top.diffId, top.expected);
  // On disk: whiteouts are 0:0 character devices, opaque directories carry the overlay xattr.
  const st = await fsp.lstat(join(top.path, 'a/gone'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, 0);
  assert.match(execFileSync('getfattr', ['--absolute-names', '-n', 'trusted.overlay.opaque', '--only-values', join(top.path, 'b')], { encoding: 'utf8' }), /^y$/);
  assert.match(execFileSync('getfattr', ['--absolute-names', '-n', 'trusted.overlay.opaque', '--only-values', join(top.path, 'd')], { encoding: 'utf8' }), /^y$/);
  assert.ok(!(await fsp.readdir(top.path)).some((x) => x.startsWith('.wh.')));
  assert.deepEqual(await fsp.readdir(join(top.path, 'b')), ['new']);

  const merged = await overlay([top.path, base.path]);
  assert.deepEqual(tree(merged), ['./a', './a/keep', './b', './b/new', './d', './d/new', './e', './f']);
  assert.equal(await fsp.readFile(join(merged, 'f'), 'utf8'), 'now a file');

  // A third layer brings c back and adds to the opaque b.
  const third = await unpacked([{ path: 'c', data: 'again' }, { path: 'b/', type: 'directory' }, { path: 'b/third', data: '3' }]);
  const merged3 = await overlay([third.path, top.path, base.path]);
  assert.equal(await fsp.readFile(join(merged3, 'c'), 'utf8'), 'again');
  assert.deepEqual(tree(join(merged3, 'b')), ['./new', './third']);
});

test('owners, modes (setuid, sticky), mtimes, hard and symbolic links, device nodes and fifos are kept', async () => {
  const l = await unpacked(
    [
      { path: 'bin/', type: 'directory' },
      { path: 'bin/su', data: 'su', mode: 0o4755 },
      { path: 'bin/su2', type: 'link', linkname: 'bin/su' },
      { path: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
      { path: 'tmp/', type: 'directory', mode: 0o1777 },
      { path: 'home/', type: 'directory' },
      { path: 'home/u/', type: 'directory', mode: 0o700, uid: 1000, gid: 1001 },
      { path: 'home/u/f', data: 'f', mode: 0o600, uid: 1000, gid: 1001 },
      { path: 'ro/', type: 'directory', mode: 0o555 },
      { path: 'ro/inside', data: 'x' },
      { path: 'dev/', type: 'directory' },
      { path: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { path: 'dev/fifo', type: 'fifo', mode: 0o600 },
    ],
    false,
  );
  assert.equal(l.diffId, l.expected);
  const su = await fsp.stat(join(l.path, 'bin/su'));
  assert.equal(su.mode & 0o7777, 0o4755);
  assert.equal(su.mtime.toISOString(), '2024-01-01T00:00:00.000Z');
  assert.equal((await fsp.stat(join(l.path, 'bin/su2'))).ino, su.ino);
  assert.equal(await fsp.readlink(join(l.path, 'bin/sh')), '/bin/busybox');
  assert.equal((await fsp.stat(join(l.path, 'tmp'))).mode & 0o7777, 0o1777);
  const u = await fsp.stat(join(l.path, 'home/u/f'));
  assert.deepEqual([u.uid, u.gid, u.mode & 0o777], [1000, 1001, 0o600]);
  const ud = await fsp.stat(join(l.path, 'home/u'));
  assert.deepEqual([ud.uid, ud.gid, ud.mode & 0o777, ud.mtime.getTime()], [1000, 1001, 0o700, Date.parse('2024-01-01T00:00:00Z')]);
  assert.equal((await fsp.stat(join(l.path, 'ro'))).mode & 0o777, 0o555);
  const dn = await fsp.stat(join(l.path, 'dev/null'));
  assert.ok(dn.isCharacterDevice());
  assert.equal(dn.rdev, (1 << 8) | 3);
  assert.ok((await fsp.stat(join(l.path, 'dev/fifo'))).isFIFO());
});

test('entries that would leave the layer directory are kept inside it or refused', async () => {
  // `..` is clamped at the layer root, as containerd's applier resolves names (fs.RootPath).
  const clamped = await unpacked([{ path: '../evil', data: 'x' }, { path: 'a/../../evil2', data: 'y' }]);
  assert.deepEqual(tree(clamped.path), ['./evil', './evil2']);
  const outside = await fsp.mkdtemp(join(dir, 'outside-'));
  await assert.rejects(
    unpacked([
      { path: 'link', type: 'symlink', linkname: outside },
      { path: 'link/evil', data: 'x' },
    ]),
    /goes through the symlink/,
  );
  assert.deepEqual(await fsp.readdir(outside), []);
  await assert.rejects(unpacked([{ path: 'h', type: 'link', linkname: '../../etc/passwd' }]), LayerError);
});

test('the diffID covers the whole uncompressed stream, gzip or not', async () => {
  const entries: LayerEntry[] = [{ path: 'x', data: 'y'.repeat(100_000) }];
  const g = await unpacked(entries, true);
  const p = await unpacked(entries, false);
  assert.equal(g.diffId, g.expected);
  assert.equal(p.diffId, g.diffId);
});
