// Imports the demo images into <data-dir>/images (the kubelet's store) so that a fresh cluster can run the seeds'
// pods without any registry: busybox and a kubia-like HTTP server (`You've hit <hostname>`), built here from Debian's
// busybox-static, under the project's own names and the tagged names the walkthroughs use. Idempotent.
// Usage: node scripts/demo-images.mjs DATA_DIR   (run by scripts/setup.sh after the build)

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rm } from 'node:fs/promises';

const dataDir = resolve(process.argv[2] ?? join(process.env.HOME ?? '/root', '.k8ts'));
const { buildBusybox, buildKubia, buildPause, writeImagesOci } = await import('../dist/src/images/build.js');
const { LocalImageService } = await import('../dist/src/images/service.js');

const images = [
  ...(await Promise.all(['k8ts.local/busybox:1.36', 'busybox:1.36'].map((n) => buildBusybox(n)))),
  ...(await Promise.all(['k8ts.local/kubia:1', 'luksa/kubia:v1', 'luksa/kubia:v2'].map((n) => buildKubia(n)))),
  await buildPause(),
];
mkdirSync(join(dataDir, 'images'), { recursive: true });
const store = await LocalImageService.open(join(dataDir, 'images'));
const tar = join(tmpdir(), `k8ts-demo-images-${process.pid}.tar`);
try {
  await writeImagesOci(tar, images);
  await store.importImage(tar);
} finally {
  await rm(tar, { force: true });
}
console.log(`k8ts: demo images in ${join(dataDir, 'images')}: ${images.map((i) => i.name).join(', ')}`);
