// Archive import, the air-gapped path: OCI image layouts (also multi-platform, also gzipped) and docker-archive
// tars (`docker save`), sharing layers across formats; and `k8ts image import|ls|rm` driving the same store.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeDockerArchive } from './archive.js';
import { type BuiltImage, buildBusybox, buildImage, buildIndex, buildKubia, buildLayer, buildPause, writeImagesOci } from './build.js';
import { LocalImageService } from './service.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/k8ts.js');

let dir: string;
let busybox: BuiltImage;
let kubia: BuiltImage;
let pause: BuiltImage;
let n = 0;

before(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'k8ts-archive-test-'));
  [busybox, kubia, pause] = await Promise.all([buildBusybox(), buildKubia(), buildPause()]);
});
after(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function service(): Promise<LocalImageService> {
  return LocalImageService.open(join(dir, `store-${++n}`));
}

test('an OCI layout tar imports every named image; a multi-platform entry only for this platform', async () => {
  const arm = buildImage('arm', [await buildLayer([{ path: 'arm-only', data: 'arm64' }])], { Cmd: ['sh'] }, { os: 'linux', architecture: 'arm64' });
  const tar = join(dir, 'oci.tar');
  await writeImagesOci(tar, [busybox, kubia, pause, buildIndex('k8ts.local/multi:1', [arm, busybox])]);
  const svc = await service();
  const imported = await svc.importImage(tar);
  assert.deepEqual([...new Set(imported.map((i) => i.id))].sort(), [busybox.configDigest, kubia.configDigest, pause.configDigest].sort());
  const list = await svc.listImages();
  assert.deepEqual(
    list.map((i) => i.repoTags),
    [['k8ts.local/busybox:1.36', 'k8ts.local/multi:1'], ['k8ts.local/kubia:1'], ['k8ts.local/pause:1']],
  );
  assert.ok(!(await svc.store.hasBlob(arm.configDigest)), 'the other platform\'s blobs are not kept');
  assert.ok(!(await svc.store.hasBlob(arm.layers[0]!.digest)));
  // A gzipped layout tar works the same.
  const gz = join(dir, 'oci.tar.gz');
  await fsp.writeFile(gz, gzipSync(await fsp.readFile(tar)));
  const svc2 = await service();
  assert.equal((await svc2.importImage(gz)).length, 4);
});

test('a docker-archive tar (docker save) imports with Docker Hub names normalised and layers shared with OCI imports', async () => {
  const svc = await service();
  await svc.importImage(await ociTar([busybox]));
  const tar = join(dir, 'docker.tar');
  await writeDockerArchive(tar, [
    { config: kubia.config, layers: kubia.layers.map((l) => l.tar), repoTags: ['kubia:latest', 'luksa/kubia:v1'] },
    { config: pause.config, layers: pause.layers.map((l) => l.tar), repoTags: [] },
  ]);
  const imported = await svc.importImage(tar);
  assert.deepEqual(imported.map((i) => i.id), [kubia.configDigest, pause.configDigest]);
  const k = await svc.imageStatus('kubia');
  assert.equal(k?.id, kubia.configDigest);
  assert.deepEqual(k?.repoTags, ['docker.io/library/kubia:latest', 'docker.io/luksa/kubia:v1']);
  assert.deepEqual(k?.config.cmd, ['httpd', '-f', '-v', '-p', '8080', '-h', '/www']);
  // The uncompressed busybox layer of the archive is the same layer as the gzipped one from the OCI import.
  const refs = await svc.store.layerRefs();
  assert.equal(refs.get(busybox.layers[0]!.diffId), 3);
  assert.equal((await fsp.readdir(join(svc.store.root, 'layers'))).length, 2);
  // The untagged image is there by ID.
  assert.deepEqual((await svc.imageStatus(pause.configDigest))?.repoTags, []);
  const root = await svc.mountRootfs(kubia.configDigest, 'k');
  assert.ok((await fsp.stat(join(root, 'www/cgi-bin/index.cgi'))).isFile());
  await svc.removeRootfs('k');
});

test('an archive that is neither format, or whose layer is not what its config says, imports nothing', async () => {
  const svc = await service();
  const junk = join(dir, 'junk.tar');
  await fsp.writeFile(junk, (await buildLayer([{ path: 'hello', data: 'world' }])).tar);
  await assert.rejects(svc.importImage(junk), /neither an OCI image layout/);
  const wrong = join(dir, 'wrong.tar');
  const other = await buildLayer([{ path: 'x', data: 'not kubia' }]);
  await writeDockerArchive(wrong, [{ config: kubia.config, layers: [kubia.layers[0]!.tar, other.tar], repoTags: ['wrong:1'] }]);
  await assert.rejects(svc.importImage(wrong), /diffID/);
  assert.deepEqual(await svc.listImages(), []);
  assert.deepEqual(await fsp.readdir(join(svc.store.root, 'layers')), []);
});

async function ociTar(images: BuiltImage[]): Promise<string> {
  const p = join(dir, `images-${++n}.tar`);
  await writeImagesOci(p, images);
  return p;
}

function k8ts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('k8ts image import | ls | rm on a data dir', async () => {
  const dataDir = join(dir, 'data');
  const tar = await ociTar([busybox, kubia]);
  const imp = await k8ts(['image', 'import', tar, '--data-dir', dataDir]);
  assert.equal(imp.code, 0, imp.stderr);
  assert.equal(imp.stdout, `Imported k8ts.local/busybox:1.36 (${busybox.configDigest})\nImported k8ts.local/kubia:1 (${kubia.configDigest})\n`);
  const ls = await k8ts(['image', 'ls', `--data-dir=${dataDir}`]);
  assert.equal(ls.code, 0, ls.stderr);
  const lines = ls.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
  assert.equal(lines[1], `k8ts.local/busybox   1.36                ${busybox.configDigest.slice(7, 20)}       ${sizeOf(busybox)}`);
  assert.match(lines[2]!, new RegExp(`^k8ts.local/kubia\\s+1\\s+${kubia.configDigest.slice(7, 20)}\\s+1\\.0\\d\\dMB$`));
  const rm = await k8ts(['image', 'rm', 'k8ts.local/kubia:1', 'k8ts.local/nope:1', '--data-dir', dataDir]);
  assert.equal(rm.code, 1);
  assert.equal(rm.stdout, 'Deleted: k8ts.local/kubia:1\n');
  assert.match(rm.stderr, /no such image k8ts.local\/nope:1 present/);
  const q = await k8ts(['image', 'ls', '-q', '--data-dir', dataDir]);
  assert.equal(q.stdout, `${busybox.configDigest}\n`);
  const usage = await k8ts(['image', 'frob', '--data-dir', dataDir]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /unknown command "frob"/);
});

function sizeOf(i: BuiltImage): string {
  const s = i.layers.reduce((a, l) => a + l.blob.length, 0);
  return `${Number((s / 1e6).toPrecision(4))}MB`;
}
