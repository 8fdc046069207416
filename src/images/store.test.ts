// The image store: layers shared between images and kept while any image or container uses them, verified
// writes that store nothing on a mismatch, per-container overlay root filesystems (also with many layers), and a
// restarted store that finds its images and mounts again. The kubia test image really answers through httpd.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltImage, buildBusybox, buildImage, buildKubia, buildLayer, freePort, writeImagesOci } from './build.js';
import { sha256 } from './oci.js';
import { ImageStore, StoreError } from './store.js';
import { LocalImageService } from './service.js';

let dir: string;
let busybox: BuiltImage;
let kubia: BuiltImage;
let stores = 0;

before(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'k8ts-store-test-'));
  [busybox, kubia] = await Promise.all([buildBusybox(), buildKubia()]);
});

after(async () => {
  for (const line of (await fsp.readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const mp = line.split(' ')[4];
    if (mp?.startsWith(dir + '/')) execFileSync('umount', ['-l', mp]);
  }
  await fsp.rm(dir, { recursive: true, force: true });
});

async function freshService(): Promise<LocalImageService> {
  return LocalImageService.open(join(dir, `store-${++stores}`));
}

async function importImages(svc: LocalImageService, images: BuiltImage[]): Promise<void> {
  const tar = join(dir, `import-${++stores}.tar`);
  await writeImagesOci(tar, images);
  await svc.importImage(tar);
}

async function ls(p: string): Promise<string[]> {
  return (await fsp.readdir(p)).sort();
}

test('the test images build deterministically', async () => {
  const [b2, k2] = await Promise.all([buildBusybox(), buildKubia()]);
  assert.equal(b2.manifestDigest, busybox.manifestDigest);
  assert.equal(k2.manifestDigest, kubia.manifestDigest);
  const a = await buildLayer([{ path: 'x', data: 'same' }]);
  const b = await buildLayer([{ path: 'x', data: 'same' }]);
  assert.equal(a.digest, b.digest);
});

test('two images share their common layer: one blob, one unpacked dir, two references', async () => {
  const svc = await freshService();
  await importImages(svc, [busybox, kubia]);
  const s = svc.store;
  const shared = busybox.layers[0]!.diffId;
  assert.equal(kubia.layers[0]!.diffId, shared);
  assert.deepEqual(await ls(join(s.root, 'layers')), [shared, kubia.layers[1]!.diffId].map((d) => d.slice(7)).sort());
  assert.equal((await s.layerRefs()).get(shared), 2);
  const img = await svc.imageStatus('k8ts.local/kubia:1');
  assert.equal(img?.id, kubia.configDigest);
  assert.deepEqual(img?.config.cmd, ['httpd', '-f', '-v', '-p', '8080', '-h', '/www']);
  assert.deepEqual(img?.config.exposedPorts, ['8080/tcp']);
  assert.equal(img?.size, kubia.layers.reduce((n, l) => n + l.blob.length, 0));
  // Every way to name it finds it.
  for (const ref of [kubia.configDigest, kubia.configDigest.slice(7), kubia.configDigest.slice(7, 19), `k8ts.local/kubia@${kubia.manifestDigest}`]) {
    assert.equal((await svc.imageStatus(ref))?.id, kubia.configDigest, ref);
  }
  assert.equal(await svc.imageStatus('k8ts.local/kubia:2'), undefined);
});

test('removal keeps layers another image or a container uses, and collects the rest', async () => {
  const svc = await freshService();
  await importImages(svc, [busybox, kubia]);
  const s = svc.store;
  const appLayer = kubia.layers[1]!;
  const root = await svc.mountRootfs(kubia.configDigest, 'c1');
  await svc.removeImage('k8ts.local/kubia:1');
  assert.equal(await svc.imageStatus(kubia.configDigest), undefined);
  // The container still runs on the app layer; the image's own config and manifest blobs are gone.
  assert.ok(await s.hasLayer(appLayer.diffId));
  assert.ok(!(await s.hasBlob(kubia.configDigest)));
  assert.equal(await fsp.readFile(join(root, 'www/cgi-bin/index.cgi'), 'utf8').then((t) => t.includes("You've hit"), () => false), true);
  await svc.removeRootfs('c1');
  assert.ok(!(await s.hasLayer(appLayer.diffId)));
  assert.ok(!(await s.hasBlob(appLayer.digest)));
  // busybox keeps the shared layer.
  assert.ok(await s.hasLayer(busybox.layers[0]!.diffId));
  assert.ok(await s.hasBlob(busybox.layers[0]!.digest));
  await svc.removeImage(busybox.configDigest);
  assert.deepEqual(await ls(join(s.root, 'layers')), []);
  assert.deepEqual(await ls(join(s.root, 'blobs/sha256')), []);
  assert.deepEqual(await ls(join(s.root, 'l')), []);
  // CRI RemoveImage is idempotent; the store itself says NotFound.
  await svc.removeImage('k8ts.local/busybox:1.36');
  await assert.rejects(s.removeImage('k8ts.local/busybox:1.36'), (e: unknown) => e instanceof StoreError && e.code === 'NotFound');
});

test('a tag is a name: removing one of two tags keeps the image, the last one removes it', async () => {
  const svc = await freshService();
  await importImages(svc, [busybox, { ...busybox, name: 'k8ts.local/busybox:other' }]);
  assert.deepEqual((await svc.imageStatus(busybox.configDigest))?.repoTags, ['k8ts.local/busybox:1.36', 'k8ts.local/busybox:other']);
  await svc.removeImage('k8ts.local/busybox:other');
  assert.deepEqual((await svc.imageStatus(busybox.configDigest))?.repoTags, ['k8ts.local/busybox:1.36']);
  await svc.removeImage('k8ts.local/busybox:1.36');
  assert.deepEqual(await svc.listImages(), []);
});

test('a blob or layer that does not match its digest is refused and nothing is stored', async () => {
  const svc = await freshService();
  const s = svc.store;
  const lease = await s.lease();
  const data = Buffer.from('the real content');
  await assert.rejects(s.ingest(data, lease, { digest: sha256('other content') }), (e: unknown) => e instanceof StoreError && e.code === 'DigestMismatch' && /unexpected commit digest/.test(e.message));
  await assert.rejects(s.ingest(data, lease, { digest: sha256(data), size: data.length + 1 }), /failed size validation/);
  assert.deepEqual(await ls(join(s.root, 'blobs/sha256')), []);
  // A layer whose content is not the diffID the config names.
  const layer = await buildLayer([{ path: 'f', data: 'x' }]);
  await s.ingest(layer.blob, lease, { digest: layer.digest });
  await assert.rejects(s.unpack(layer.digest, sha256('not this layer'), lease), (e: unknown) => e instanceof StoreError && e.code === 'DigestMismatch');
  assert.deepEqual(await ls(join(s.root, 'layers')), []);
  assert.deepEqual(await ls(join(s.root, 'tmp')), []);
  // Leased blobs survive a collection; once the lease goes, so do they.
  await s.gc();
  assert.ok(await s.hasBlob(layer.digest));
  await lease.release();
  await s.gc();
  assert.ok(!(await s.hasBlob(layer.digest)));
  // An archive holding a corrupted blob imports nothing.
  const tar = join(dir, 'corrupt.tar');
  await writeImagesOci(tar, [busybox]);
  const bytes = await fsp.readFile(tar);
  const at = bytes.indexOf(Buffer.from('"Cmd":["sh"]'));
  assert.ok(at > 0);
  bytes.write('"Cmd":["ls"]', at);
  await fsp.writeFile(tar, bytes);
  await assert.rejects(svc.importImage(tar), /digest/);
  assert.deepEqual(await svc.listImages(), []);
  await s.gc();
  assert.deepEqual(await ls(join(s.root, 'blobs/sha256')), []);
  assert.deepEqual(await ls(join(s.root, 'layers')), []);
});

test('each container gets its own writable layer; the image layers stay untouched', async () => {
  const svc = await freshService();
  await importImages(svc, [busybox]);
  const a = await svc.mountRootfs('k8ts.local/busybox:1.36', 'a');
  const b = await svc.mountRootfs(busybox.configDigest, 'b');
  assert.equal(await svc.mountRootfs(busybox.configDigest, 'a'), a, 'mountRootfs is idempotent');
  await fsp.writeFile(join(a, 'etc/hostname'), 'changed\n');
  await fsp.rm(join(a, 'bin/ls'));
  assert.equal(await fsp.readFile(join(b, 'etc/hostname'), 'utf8'), 'localhost\n');
  assert.ok((await fsp.lstat(join(b, 'bin/ls'))).isSymbolicLink());
  const layerFs = join(svc.store.layerDir(busybox.layers[0]!.diffId), 'fs');
  assert.equal(await fsp.readFile(join(layerFs, 'etc/hostname'), 'utf8'), 'localhost\n');
  assert.equal(execFileSync('chroot', [a, '/bin/sh', '-c', 'cat /etc/hostname; echo $((6*7))'], { encoding: 'utf8' }), 'changed\n42\n');
  const usage = await svc.fsInfo();
  assert.ok(usage.usedBytes > busybox.layers[0]!.blob.length && usage.inodesUsed > 200, JSON.stringify(usage));
  await assert.rejects(svc.mountRootfs(kubia.configDigest, 'c'), /not found/);
  await assert.rejects(svc.mountRootfs(busybox.configDigest, '../evil'), /invalid container ID/);
  await svc.removeRootfs('a');
  await svc.removeRootfs('a');
  assert.ok(!(await fsp.stat(a).then(() => true, () => false)));
  await svc.removeRootfs('b');
});

test('an image with 80 layers mounts (short lowerdir links keep the options within one page)', async () => {
  const svc = await freshService();
  const layers = [busybox.layers[0]!];
  for (let i = 0; i < 79; i++) layers.push(await buildLayer([{ path: 'many/', type: 'directory' }, { path: `many/f${i}`, data: String(i) }]));
  const img = buildImage('k8ts.local/many:1', layers, { Cmd: ['sh'] });
  await importImages(svc, [img]);
  const root = await svc.mountRootfs('k8ts.local/many:1', 'many');
  assert.equal((await fsp.readdir(join(root, 'many'))).length, 79);
  assert.equal(await fsp.readFile(join(root, 'many/f78'), 'utf8'), '78');
  // Absolute lowerdir paths for 80 layers would not fit in the one page mount(2) takes.
  assert.ok(80 * (svc.store.root.length + 80) > 4096);
  await svc.removeRootfs('many');
});

test('a restarted store finds its images and its mounted root filesystems; leftovers of dead processes go', async () => {
  const root = join(dir, 'restart');
  const first = await LocalImageService.open(root);
  await importImages(first, [busybox, kubia]);
  const mounted = await first.mountRootfs(kubia.configDigest, 'survivor');
  // A crashed writer's temp file and lock, under a pid that cannot be alive.
  await fsp.writeFile(join(root, 'tmp', '999999999-blob-dead'), 'partial');
  await fsp.writeFile(join(root, 'lock'), '999999999');
  const second = await LocalImageService.open(root);
  assert.deepEqual((await second.listImages()).map((i) => i.repoTags[0]), ['k8ts.local/busybox:1.36', 'k8ts.local/kubia:1']);
  assert.deepEqual(await ls(join(root, 'tmp')), []);
  assert.equal(await second.mountRootfs(kubia.configDigest, 'survivor'), mounted);
  assert.equal(await second.store.rootfsPath('survivor'), mounted);
  await second.removeImage('k8ts.local/busybox:1.36');
  assert.ok(await second.store.hasLayer(busybox.layers[0]!.diffId), 'kubia and the container still use it');
  await second.removeRootfs('survivor');
});

test('the kubia image answers "You\'ve hit <hostname>" on 8080 (busybox httpd + CGI), run here in a chroot', async () => {
  const svc = await freshService();
  await importImages(svc, [kubia]);
  const root = await svc.mountRootfs('k8ts.local/kubia:1', 'kubia');
  const port = await freePort();
  // The image's command with a loopback address and a free port instead of :8080.
  const child = spawn('chroot', [root, 'httpd', '-f', '-v', '-p', `127.0.0.1:${port}`, '-h', '/www'], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: '/bin:/usr/bin:/sbin:/usr/sbin' } });
  try {
    let body = '';
    for (let i = 0; i < 100 && !body; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
      if (!body) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(body, `You've hit ${hostname()}\n`);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await svc.removeRootfs('kubia');
  }
});
