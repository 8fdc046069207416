// Pulls from Debian's docker-registry on 127.0.0.1 (no auth, htpasswd basic auth, token auth with our token
// server): tags and digests, manifest-list resolution to the node's platform, progress, upstream's error wording
// for missing images and refused credentials; and from a fake registry here that serves a corrupted layer, which
// must leave nothing behind.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImagePullError, type PullProgress } from '../runtime/interface.js';
import { type BuiltImage, type LocalRegistry, buildBusybox, buildImage, buildIndex, buildKubia, buildLayer, pushImage, startRegistry } from './build.js';
import { MANIFEST_ACCEPT, MediaType, sha256 } from './oci.js';
import { parseChallenge } from './registry.js';
import { LocalImageService, type LocalImageServiceOptions } from './service.js';

let dir: string;
let busybox: BuiltImage;
let kubia: BuiltImage;
let n = 0;

before(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'k8ts-registry-test-'));
  [busybox, kubia] = await Promise.all([buildBusybox(), buildKubia()]);
});
after(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function service(opts: LocalImageServiceOptions = {}): Promise<LocalImageService> {
  return LocalImageService.open(join(dir, `store-${++n}`), opts);
}

async function pullError(p: Promise<unknown>): Promise<ImagePullError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ImagePullError, String(e));
    return e;
  }
  assert.fail('pull succeeded');
}

test('WWW-Authenticate challenges parse as the distribution spec writes them', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' },
  });
  assert.deepEqual(parseChallenge('Basic realm="registry"'), { scheme: 'basic', params: { realm: 'registry' } });
  assert.equal(parseChallenge('Negotiate'), undefined);
});

describe('a registry without auth', () => {
  let reg: LocalRegistry;
  let multiDigest: string;
  let arm: BuiltImage;
  before(async () => {
    reg = await startRegistry();
    await pushImage(`${reg.host}/test/busybox:1.36`, busybox);
    await pushImage(`${reg.host}/test/kubia:1`, kubia);
    // A two-platform image: amd64 is busybox, arm64 an image of its own.
    arm = buildImage('arm', [busybox.layers[0]!, await buildLayer([{ path: 'arch', data: 'arm64' }])], { Cmd: ['sh'] }, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    multiDigest = await pushImage(`${reg.host}/test/multi:1`, buildIndex('multi', [busybox, arm]));
  });
  after(async () => {
    await reg?.stop();
  });

  test('pull by tag, then by digest; names are recorded as containerd does', async () => {
    const svc = await service();
    const progress: PullProgress[] = [];
    const img = await svc.pullImage(`${reg.host}/test/kubia:1`, undefined, (p) => progress.push(p));
    assert.equal(img.id, kubia.configDigest);
    assert.deepEqual(img.repoTags, [`${reg.host}/test/kubia:1`]);
    assert.deepEqual(img.repoDigests, [`${reg.host}/test/kubia@${kubia.manifestDigest}`]);
    assert.equal(img.size, kubia.layers.reduce((s, l) => s + l.blob.length, 0));
    for (const l of kubia.layers) {
      const last = progress.filter((p) => p.layer === l.digest).at(-1);
      assert.deepEqual(last, { ref: `${reg.host}/test/kubia:1`, layer: l.digest, bytes: l.blob.length, total: l.blob.length });
    }
    assert.equal((await svc.imageStatus(`${reg.host}/test/kubia:1`))?.id, kubia.configDigest);
    // By digest (into another store): no tag, the digest recorded.
    const other = await service();
    const byDigest = await other.pullImage(`${reg.host}/test/busybox@${busybox.manifestDigest}`);
    assert.equal(byDigest.id, busybox.configDigest);
    assert.deepEqual(byDigest.repoTags, []);
    assert.deepEqual(byDigest.repoDigests, [`${reg.host}/test/busybox@${busybox.manifestDigest}`]);
    // Pulling busybox by tag into the kubia store reuses the shared layer (already unpacked).
    const bb = await svc.pullImage(`${reg.host}/test/busybox:1.36`);
    assert.equal(bb.id, busybox.configDigest);
    assert.equal((await svc.store.layerRefs()).get(busybox.layers[0]!.diffId), 2);
  });

  test('a manifest list resolves to the node\'s platform (or the one configured)', async () => {
    const amd = await service();
    const img = await amd.pullImage(`${reg.host}/test/multi:1`);
    assert.equal(img.id, busybox.configDigest);
    assert.deepEqual(img.repoDigests, [`${reg.host}/test/multi@${multiDigest}`], 'the repo digest is the index\'s');
    const armSvc = await service({ platform: { os: 'linux', architecture: 'arm64' } });
    assert.equal((await armSvc.pullImage(`${reg.host}/test/multi:1`)).id, arm.configDigest);
    const none = await service({ platform: { os: 'linux', architecture: 's390x' } });
    const e = await pullError(none.pullImage(`${reg.host}/test/multi:1`));
    assert.equal(e.message, `failed to pull and unpack image "${reg.host}/test/multi:1": no match for platform in manifest: not found`);
    assert.deepEqual(await none.listImages(), []);
    // By digest of the index, too.
    assert.equal((await (await service()).pullImage(`${reg.host}/test/multi@${multiDigest}`)).id, busybox.configDigest);
  });

  test('a moved tag is followed on the next pull', async () => {
    const svc = await service();
    assert.equal((await svc.pullImage(`${reg.host}/test/moving:1`).catch(() => undefined)), undefined);
    await pushImage(`${reg.host}/test/moving:1`, busybox);
    assert.equal((await svc.pullImage(`${reg.host}/test/moving:1`)).id, busybox.configDigest);
    await pushImage(`${reg.host}/test/moving:1`, kubia);
    assert.equal((await svc.pullImage(`${reg.host}/test/moving:1`)).id, kubia.configDigest);
    assert.deepEqual((await svc.imageStatus(busybox.configDigest))?.repoTags, []);
  });

  test('missing images and bad names are ImagePullErrors worded as upstream\'s', async () => {
    const svc = await service();
    const e = await pullError(svc.pullImage(`${reg.host}/test/nope:1`));
    assert.equal(e.reason, 'ErrImagePull');
    assert.equal(e.message, `failed to pull and unpack image "${reg.host}/test/nope:1": failed to resolve reference "${reg.host}/test/nope:1": ${reg.host}/test/nope:1: not found`);
    const d = 'sha256:' + '0'.repeat(64);
    const e2 = await pullError(svc.pullImage(`${reg.host}/test/busybox@${d}`));
    assert.match(e2.message, /not found$/);
    const bad = await pullError(svc.pullImage('Not A/valid:ref'));
    assert.equal(bad.reason, 'InvalidImageName');
    assert.match(bad.message, /invalid reference format/);
    assert.deepEqual(await svc.listImages(), []);
  });

  test('once stored, a digest ref needs no registry; a tag ref against a dead registry fails as containerd says', async () => {
    const svc = await service();
    await svc.pullImage(`${reg.host}/test/busybox@${busybox.manifestDigest}`);
    await reg.stop();
    assert.equal((await svc.pullImage(`${reg.host}/test/busybox@${busybox.manifestDigest}`)).id, busybox.configDigest);
    const e = await pullError(svc.pullImage(`${reg.host}/test/busybox:1.36`));
    assert.equal(
      e.message,
      `failed to pull and unpack image "${reg.host}/test/busybox:1.36": failed to resolve reference "${reg.host}/test/busybox:1.36": failed to do request: Get "http://${reg.host}/v2/test/busybox/manifests/1.36": dial tcp ${reg.host}: connect: connection refused`,
    );
  });
});

describe('a registry with htpasswd (basic) auth', () => {
  let reg: LocalRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
    await pushImage(`${reg.host}/private/busybox:1.36`, busybox, reg.auth);
  });
  after(async () => {
    await reg?.stop();
  });

  test('pulls with the credentials and refuses without or with wrong ones', async () => {
    const svc = await service();
    const anon = await pullError(svc.pullImage(`${reg.host}/private/busybox:1.36`));
    assert.equal(anon.message, `failed to pull and unpack image "${reg.host}/private/busybox:1.36": failed to resolve reference "${reg.host}/private/busybox:1.36": unexpected status from GET request to http://${reg.host}/v2/private/busybox/manifests/1.36: 401 Unauthorized`);
    const wrong = await pullError(svc.pullImage(`${reg.host}/private/busybox:1.36`, { username: reg.auth!.username!, password: 'wrong' }));
    assert.match(wrong.message, /pull access denied, repository does not exist or may require authorization: server message: unauthorized: authentication required$/);
    assert.equal((await svc.pullImage(`${reg.host}/private/busybox:1.36`, reg.auth)).id, busybox.configDigest);
  });
});

describe('a registry with token auth', () => {
  let reg: LocalRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'token' });
    await pushImage(`${reg.host}/private/kubia:1`, kubia, reg.auth);
  });
  after(async () => {
    await reg?.stop();
  });

  test('fetches a scoped bearer token from the realm with the credentials', async () => {
    const svc = await service();
    const anon = await pullError(svc.pullImage(`${reg.host}/private/kubia:1`));
    assert.match(anon.message, /failed to resolve reference ".*": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to http:\/\/127\.0\.0\.1:\d+\/token\?service=k8ts-test-registry&scope=repository%3Aprivate%2Fkubia%3Apull: 401 Unauthorized$/);
    const wrong = await pullError(svc.pullImage(`${reg.host}/private/kubia:1`, { username: 'k8ts', password: 'nope' }));
    assert.match(wrong.message, /failed to fetch oauth token: unexpected status .* 401 Unauthorized$/);
    const img = await svc.pullImage(`${reg.host}/private/kubia:1`, reg.auth);
    assert.equal(img.id, kubia.configDigest);
    // A bearer token given directly (registrytoken) is used as it is.
    const tokenRes = await fetch(`${reg.tokenRealm}?service=k8ts-test-registry&scope=repository:private/kubia:pull`, {
      headers: { authorization: `Basic ${Buffer.from(`${reg.auth!.username}:${reg.auth!.password}`).toString('base64')}` },
    });
    const { token } = (await tokenRes.json()) as { token: string };
    const svc2 = await service();
    assert.equal((await svc2.pullImage(`${reg.host}/private/kubia:1`, { token })).id, kubia.configDigest);
  });
});

describe('a registry that serves a corrupted layer', () => {
  let server: Server;
  let host: string;
  const requests: Array<{ url: string; accept?: string }> = [];
  let manifest: Buffer;
  let layerDigest: string;
  before(async () => {
    const good = await buildLayer([{ path: 'f', data: 'good' }]);
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [good.diffId] } }));
    layerDigest = good.digest;
    manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { mediaType: MediaType.dockerConfig, digest: sha256(cfg), size: cfg.length },
        layers: [{ mediaType: MediaType.dockerLayerGzip, digest: good.digest, size: good.blob.length }],
      }),
    );
    const corrupted = Buffer.from(good.blob);
    corrupted[corrupted.length - 10]! ^= 0xff;
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', accept: req.headers.accept });
      const url = req.url ?? '';
      if (url === '/v2/bad/image/manifests/1') {
        res.writeHead(200, { 'content-type': MediaType.dockerManifest, 'docker-content-digest': sha256(manifest) });
        res.end(manifest);
      } else if (url === `/v2/bad/image/blobs/${sha256(cfg)}`) {
        res.end(cfg);
      } else if (url === `/v2/bad/image/blobs/${good.digest}`) {
        res.end(corrupted);
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
  });

  test('the digest mismatch fails the pull and leaves no image, blob or layer behind', async () => {
    const svc = await service();
    const e = await pullError(svc.pullImage(`${host}/bad/image:1`));
    assert.match(e.message, new RegExp(`^failed to pull and unpack image "${host}/bad/image:1": failed commit on ref "layer-${layerDigest}": unexpected commit digest sha256:[a-f0-9]{64}, expected ${layerDigest}: failed precondition$`));
    assert.equal(requests[0]?.accept, MANIFEST_ACCEPT);
    assert.deepEqual(await svc.listImages(), []);
    await svc.store.gc();
    const root = svc.store.root;
    for (const sub of ['blobs/sha256', 'layers', 'tmp', 'leases']) assert.deepEqual(await fsp.readdir(join(root, sub)), [], sub);
  });
});
