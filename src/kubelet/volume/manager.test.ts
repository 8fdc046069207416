// KubeletVolumeManager with real mounts under a temp dir (root) and FakeClient serving the objects: every volume
// type, upstream's error wording, update propagation, runtime mounts (readOnly, propagation, subPath, subPathExpr)
// and tear-down that unmounts everything, leaves hostPath data alone and is idempotent.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../api/types.js';
import { FakeClient } from '../../client/fake.js';
import { mountsUnder } from '../../runtime/testing.js';
import { ContainerConfigError, VolumeError, type Pod } from '../types.js';
import { KubeletVolumeManager } from './manager.js';

let root: string;
let podsDir: string;
let hostDir: string;

before(() => {
  if (process.getuid?.() !== 0) throw new Error('volume manager tests need root (tmpfs mounts)');
  root = mkdtempSync(join(tmpdir(), 'k8ts-vol-'));
  podsDir = join(root, 'pods');
  hostDir = join(root, 'host');
  mkdirSync(hostDir);
});

after(() => {
  const left = mountsUnder(root);
  for (const m of left.reverse()) execFileSync('umount', ['-l', m]);
  rmSync(root, { recursive: true, force: true });
  assert.deepEqual(left, [], 'mounts left behind');
});

let seq = 0;
function pod(volumes: unknown[], containers: unknown[] = [{ name: 'c' }], extra: Partial<Pod['metadata']> = {}): Pod {
  seq++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${seq}`, namespace: 'ns', uid: `uid-${seq}`, labels: { app: 'web' }, annotations: { 'a.io/b': 'c' }, ...extra },
    spec: { nodeName: 'node-1', volumes, containers },
  };
}

const cm = (name: string, data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data });
const secret = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'ns' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

function setup(): { client: FakeClient; vm: KubeletVolumeManager } {
  const client = new FakeClient();
  client.seed('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { allocatable: { cpu: '2', memory: '4Gi' } } });
  return { client, vm: new KubeletVolumeManager({ client, podsDir, nodeName: 'node-1' }) };
}

function mountType(dir: string): string | undefined {
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = l.split(' ');
    if (f[4] === dir) return f[f.indexOf('-') + 1];
  }
  return undefined;
}

async function rejectsVolume(p: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VolumeError, `not a VolumeError: ${String(e)}`);
    assert.equal(e.message, message);
    assert.equal(e.reason, 'FailedMount');
    return true;
  });
}

test('emptyDir on disk (0777) and in memory (tmpfs of sizeLimit, or the pod memory limit); upstream layout', async () => {
  const { vm } = setup();
  const p = pod([{ name: 'scratch', emptyDir: {} }, { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '2Mi' } }, { name: 'mem2', emptyDir: { medium: 'Memory' } }], [
    { name: 'c', resources: { limits: { memory: '3Mi' } } },
  ]);
  await vm.setUpPod(p);
  const base = join(podsDir, p.metadata.uid!, 'volumes', 'kubernetes.io~empty-dir');
  assert.equal(statSync(join(base, 'scratch')).mode & 0o777, 0o777);
  assert.equal(mountType(join(base, 'scratch')), undefined);
  assert.equal(mountType(join(base, 'mem')), 'tmpfs');
  const s = statfsSync(join(base, 'mem'));
  assert.equal(s.blocks * s.bsize, 2 * 1024 * 1024);
  const s2 = statfsSync(join(base, 'mem2'));
  assert.equal(s2.blocks * s2.bsize, 3 * 1024 * 1024);
  // Idempotent: a second sync mounts nothing more.
  await vm.setUpPod(p);
  assert.equal(mountsUnder(join(podsDir, p.metadata.uid!)).length, 2);
  await vm.tearDownPod(p.metadata.uid!);
  assert.deepEqual(mountsUnder(join(podsDir, p.metadata.uid!)), []);
  assert.equal(existsSync(join(podsDir, p.metadata.uid!)), false);
});

test('configMap: keys, items and modes through the atomic writer; updates propagate on the next sync', async () => {
  const { client, vm } = setup();
  client.seed('configmaps', cm('app-config', { 'app.conf': 'v=1', other: 'o' }));
  const p = pod([
    { name: 'cfg', configMap: { name: 'app-config', defaultMode: 0o640 } },
    { name: 'picked', configMap: { name: 'app-config', defaultMode: 0o644, items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }] } },
  ]);
  await vm.setUpPod(p);
  const dir = join(podsDir, p.metadata.uid!, 'volumes', 'kubernetes.io~configmap', 'cfg');
  assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'v=1');
  assert.equal(statSync(join(dir, 'app.conf')).mode & 0o777, 0o640);
  assert.equal(readlinkSync(join(dir, 'app.conf')), '..data/app.conf');
  // The root is 0777 as upstream's wrapped emptyDir (non-root containers can walk in; the bind is read-only).
  assert.equal(statSync(dir).mode & 0o777, 0o777);
  const picked = join(podsDir, p.metadata.uid!, 'volumes', 'kubernetes.io~configmap', 'picked');
  assert.equal(readFileSync(join(picked, 'conf/app.conf'), 'utf8'), 'v=1');
  assert.equal(statSync(join(picked, 'conf/app.conf')).mode & 0o777, 0o600);
  assert.equal(existsSync(join(picked, 'other')), false);

  const cur = client.peek('configmaps', 'ns', 'app-config')!;
  await client.update({ group: '', version: 'v1', resource: 'configmaps', namespaced: true }, 'ns', { ...cur, data: { 'app.conf': 'v=2' } });
  await vm.setUpPod(p);
  assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'v=2');
  assert.equal(existsSync(join(dir, 'other')), false);
  await vm.tearDownPod(p.metadata.uid!);
});

test('configMap errors: not found, missing key; optional ones mount empty', async () => {
  const { client, vm } = setup();
  const missing = pod([{ name: 'cfg', configMap: { name: 'app-config' } }]);
  await rejectsVolume(vm.setUpPod(missing), 'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found');
  client.seed('configmaps', cm('app-config', { a: '1' }));
  const badKey = pod([{ name: 'cfg', configMap: { name: 'app-config', items: [{ key: 'b', path: 'b' }] } }]);
  await rejectsVolume(vm.setUpPod(badKey), 'MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: b');
  const optional = pod([{ name: 'cfg', configMap: { name: 'nope', optional: true } }]);
  await vm.setUpPod(optional);
  assert.equal(existsSync(join(podsDir, optional.metadata.uid!, 'volumes', 'kubernetes.io~configmap', 'cfg', '..data')), true);
  // The first failing volume is reported; the others are still set up.
  const mixed = pod([{ name: 'ok', emptyDir: {} }, { name: 'bad', secret: { secretName: 'absent' } }]);
  await rejectsVolume(vm.setUpPod(mixed), 'MountVolume.SetUp failed for volume "bad" : secret "absent" not found');
  assert.equal(existsSync(join(podsDir, mixed.metadata.uid!, 'volumes', 'kubernetes.io~empty-dir', 'ok')), true);
  for (const p of [missing, badKey, optional, mixed]) await vm.tearDownPod(p.metadata.uid!);
});

test('secret: decoded onto a tmpfs, items and modes; a changed secret propagates', async () => {
  const { client, vm } = setup();
  client.seed('secrets', secret('db', { password: 'hunter2', user: 'admin' }));
  const p = pod([{ name: 'creds', secret: { secretName: 'db', defaultMode: 0o400, items: [{ key: 'password', path: 'pw' }] } }]);
  await vm.setUpPod(p);
  const dir = join(podsDir, p.metadata.uid!, 'volumes', 'kubernetes.io~secret', 'creds');
  assert.equal(mountType(dir), 'tmpfs');
  assert.equal(readFileSync(join(dir, 'pw'), 'utf8'), 'hunter2');
  assert.equal(statSync(join(dir, 'pw')).mode & 0o777, 0o400);
  assert.equal(existsSync(join(dir, 'user')), false);
  const cur = client.peek('secrets', 'ns', 'db')!;
  await client.update({ group: '', version: 'v1', resource: 'secrets', namespaced: true }, 'ns', { ...cur, data: { password: Buffer.from('s3cret').toString('base64') } });
  await vm.setUpPod(p);
  assert.equal(readFileSync(join(dir, 'pw'), 'utf8'), 's3cret');
  await rejectsVolume(
    vm.setUpPod(pod([{ name: 'creds', secret: { secretName: 'db', items: [{ key: 'token', path: 't' }] } }])),
    'MountVolume.SetUp failed for volume "creds" : references non-existent secret key: token',
  );
  await vm.tearDownPod(p.metadata.uid!);
  for (const uid of await vm.podsOnDisk()) await vm.tearDownPod(uid);
});

test('downwardAPI and projected volumes; projected serviceAccountToken without TokenRequest is a clear error', async () => {
  const { client, vm } = setup();
  client.seed('configmaps', cm('cfg', { 'app.conf': 'x' }));
  client.seed('secrets', secret('s', { key: 'k' }));
  const items = [
    { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
    { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
    { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
    { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
  ];
  const p = pod([
    { name: 'info', downwardAPI: { items, defaultMode: 0o644 } },
    { name: 'all', projected: { defaultMode: 0o600, sources: [{ configMap: { name: 'cfg' } }, { secret: { name: 's', items: [{ key: 'key', path: 'sec/key' }] } }, { downwardAPI: { items: [{ path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } }] } }] } },
  ]);
  await vm.setUpPod(p);
  const dir = join(podsDir, p.metadata.uid!, 'volumes', 'kubernetes.io~downward-api', 'info');
  assert.equal(readFileSync(join(dir, 'labels'), 'utf8'), 'app="web"');
  assert.equal(readFileSync(join(dir, 'annotations'), 'utf8'), 'a.io/b="c"');
  assert.equal(readFileSync(join(dir, 'name'), 'utf8'), p.metadata.name);
  assert.equal(readFileSync(join(dir, 'mem'), 'utf8'), '4096');
  const proj = join(podsDir, p.metadata.uid!, 'volumes', 'kubernetes.io~projected', 'all');
  assert.equal(mountType(proj), 'tmpfs');
  assert.equal(readFileSync(join(proj, 'app.conf'), 'utf8'), 'x');
  assert.equal(readFileSync(join(proj, 'sec/key'), 'utf8'), 'k');
  assert.equal(readFileSync(join(proj, 'uid'), 'utf8'), p.metadata.uid);
  assert.equal(statSync(join(proj, 'uid')).mode & 0o777, 0o600);

  // Several failing sources are reported together, as upstream aggregates them.
  const bad = pod([{ name: 'all', projected: { sources: [{ configMap: { name: 'gone' } }, { secret: { name: 'gone-too' } }] } }]);
  await rejectsVolume(vm.setUpPod(bad), 'MountVolume.SetUp failed for volume "all" : [configmap "gone" not found, secret "gone-too" not found]');
  const tok = pod([{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }]);
  await rejectsVolume(
    vm.setUpPod(tok),
    'MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: the API server does not serve TokenRequest (serviceaccounts/token) for service account ns/default',
  );
  for (const x of [p, bad, tok]) await vm.tearDownPod(x.metadata.uid!);
});

test('projected serviceAccountToken from a server that has TokenRequest: written, and reused until renewal', async () => {
  const { client } = setup();
  let issued = 0;
  const orig = client.create.bind(client);
  client.create = async (r, ns, obj, sub) => {
    if (r.resource === 'serviceaccounts' && sub === 'token' && obj.metadata.name === 'app') {
      issued++;
      assert.deepEqual((obj.spec as Record<string, unknown>).boundObjectRef, { apiVersion: 'v1', kind: 'Pod', name: p.metadata.name, uid: p.metadata.uid });
      return { ...obj, status: { token: `tok-${issued}`, expirationTimestamp: new Date(Date.now() + 3600_000).toISOString() } };
    }
    return orig(r, ns, obj, sub);
  };
  const vm = new KubeletVolumeManager({ client, podsDir, nodeName: 'node-1' });
  const p = pod([{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'api' } }] } }]);
  p.spec!.serviceAccountName = 'app';
  await vm.setUpPod(p);
  await vm.setUpPod(p);
  assert.equal(issued, 1);
  assert.equal(readFileSync(join(podsDir, p.metadata.uid!, 'volumes', 'kubernetes.io~projected', 'tok', 'token'), 'utf8'), 'tok-1');
  await vm.tearDownPod(p.metadata.uid!);
});

test('hostPath types: OrCreate makes the path, the others check it with upstream messages', async () => {
  const { vm } = setup();
  const dir = join(hostDir, 'types');
  mkdirSync(dir);
  writeFileSync(join(dir, 'file'), 'f');
  const sock = join(dir, 'sock');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(sock, r));
  try {
    const ok: Array<[string, string]> = [
      [join(dir, 'made/deep'), 'DirectoryOrCreate'],
      [join(dir, 'new-file'), 'FileOrCreate'],
      [dir, 'Directory'],
      [join(dir, 'file'), 'File'],
      [sock, 'Socket'],
      ['/dev/null', 'CharDevice'],
      [join(dir, 'anything-missing'), ''],
    ];
    for (const [path, type] of ok) {
      const p = pod([{ name: 'h', hostPath: { path, type } }]);
      await vm.setUpPod(p);
      await vm.tearDownPod(p.metadata.uid!);
    }
    assert.equal(statSync(join(dir, 'made/deep')).isDirectory(), true);
    assert.equal(statSync(join(dir, 'new-file')).isFile(), true);
    const bad: Array<[string, string, string]> = [
      [join(dir, 'missing'), 'Directory', 'is not a directory'],
      [join(dir, 'file'), 'Directory', 'is not a directory'],
      [join(dir, 'file'), 'DirectoryOrCreate', 'is not a directory'],
      [dir, 'File', 'is not a file'],
      [dir, 'FileOrCreate', 'is not a file'],
      [join(dir, 'file'), 'Socket', 'is not a socket file'],
      [join(dir, 'file'), 'CharDevice', 'is not a character device'],
      ['/dev/null', 'BlockDevice', 'is not a block device'],
    ];
    for (const [path, type, why] of bad) {
      const p = pod([{ name: 'h', hostPath: { path, type } }]);
      await rejectsVolume(vm.setUpPod(p), `MountVolume.SetUp failed for volume "h" : hostPath type check failed: ${path} ${why}`);
      await vm.tearDownPod(p.metadata.uid!);
    }
  } finally {
    srv.close();
  }
});

test('persistentVolumeClaim: only a Bound claim mounts, at its PV hostPath or local path', async () => {
  const { client, vm } = setup();
  const data = join(hostDir, 'pv-data');
  const local = join(hostDir, 'local-disk');
  mkdirSync(local);
  client.seed('persistentvolumeclaims', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'pending', namespace: 'ns' }, spec: {}, status: { phase: 'Pending' } });
  const bound = client.seed('persistentvolumeclaims', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'ns' }, spec: { volumeName: 'pv1' }, status: { phase: 'Bound' } });
  const boundLocal = client.seed('persistentvolumeclaims', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'fast', namespace: 'ns' }, spec: { volumeName: 'pv2' }, status: { phase: 'Bound' } });
  client.seed('persistentvolumes', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { hostPath: { path: data, type: 'DirectoryOrCreate' }, claimRef: { namespace: 'ns', name: 'data', uid: bound.metadata.uid } } });
  client.seed('persistentvolumes', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv2' }, spec: { local: { path: local }, claimRef: { namespace: 'ns', name: 'fast', uid: boundLocal.metadata.uid } } });

  const pending = pod([{ name: 'vol', persistentVolumeClaim: { claimName: 'pending' } }]);
  await rejectsVolume(vm.setUpPod(pending), 'Unable to attach or mount volumes: unmounted volumes=[vol], unattached volumes=[], failed to process volumes=[vol]: error processing PVC ns/pending: PVC is not bound');
  const absent = pod([{ name: 'vol', persistentVolumeClaim: { claimName: 'nope' } }]);
  await rejectsVolume(vm.setUpPod(absent), 'Unable to attach or mount volumes: unmounted volumes=[vol], unattached volumes=[], failed to process volumes=[vol]: error processing PVC ns/nope: failed to fetch PVC from API server: persistentvolumeclaims "nope" not found');

  const p = pod([{ name: 'vol', persistentVolumeClaim: { claimName: 'data' } }, { name: 'ro', persistentVolumeClaim: { claimName: 'fast', readOnly: true } }], [
    { name: 'c', volumeMounts: [{ name: 'vol', mountPath: '/data' }, { name: 'ro', mountPath: '/fast' }] },
  ]);
  await vm.setUpPod(p);
  assert.equal(statSync(data).isDirectory(), true);
  assert.deepEqual(await vm.containerMounts(p, p.spec!.containers[0]), [
    { containerPath: '/data', hostPath: data, readonly: false, propagation: 'private' },
    { containerPath: '/fast', hostPath: local, readonly: true, propagation: 'private' },
  ]);
  writeFileSync(join(data, 'keep'), 'precious');
  await vm.tearDownPod(p.metadata.uid!);
  assert.equal(readFileSync(join(data, 'keep'), 'utf8'), 'precious');
  for (const x of [pending, absent]) await vm.tearDownPod(x.metadata.uid!);
});

test('containerMounts: read-only API volumes, propagation, subPath (created, or refused when it escapes), subPathExpr', async () => {
  const { client, vm } = setup();
  client.seed('configmaps', cm('cfg', { 'app.conf': 'x' }));
  const shared = join(hostDir, 'shared');
  mkdirSync(shared, { recursive: true });
  const c = {
    name: 'main',
    env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'SUB', value: 'logs/$(POD)' }],
    volumeMounts: [
      { name: 'cfg', mountPath: '/etc/app' },
      { name: 'cfg', mountPath: '/etc/app.conf', subPath: 'app.conf' },
      { name: 'work', mountPath: '/work', subPath: 'a/b' },
      { name: 'work', mountPath: '/logs', subPathExpr: '$(SUB)' },
      { name: 'host', mountPath: '/host', readOnly: true, mountPropagation: 'HostToContainer' },
      { name: 'host', mountPath: '/host-rw', mountPropagation: 'Bidirectional' },
    ],
  };
  const p = pod([{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'work', emptyDir: {} }, { name: 'host', hostPath: { path: shared } }], [c]);
  await vm.setUpPod(p);
  const vols = join(podsDir, p.metadata.uid!, 'volumes');
  const mounts = await vm.containerMounts(p, c);
  const cfgFile = mounts[1]!.hostPath;
  assert.match(cfgFile, new RegExp(`^${vols}/kubernetes.io~configmap/cfg/\\.\\.\\d{4}_.*/app.conf$`));
  assert.deepEqual(mounts, [
    { containerPath: '/etc/app', hostPath: join(vols, 'kubernetes.io~configmap/cfg'), readonly: true, propagation: 'private' },
    { containerPath: '/etc/app.conf', hostPath: cfgFile, readonly: true, propagation: 'private' },
    { containerPath: '/work', hostPath: join(vols, 'kubernetes.io~empty-dir/work/a/b'), readonly: false, propagation: 'private' },
    { containerPath: '/logs', hostPath: join(vols, `kubernetes.io~empty-dir/work/logs/${p.metadata.name}`), readonly: false, propagation: 'private' },
    { containerPath: '/host', hostPath: shared, readonly: true, propagation: 'rslave' },
    { containerPath: '/host-rw', hostPath: shared, readonly: false, propagation: 'rshared' },
  ]);
  assert.equal(statSync(join(vols, 'kubernetes.io~empty-dir/work/a/b')).mode & 0o777, 0o777);

  // A symlink inside the volume that points out of it cannot be used as a subPath.
  symlinkSync(shared, join(vols, 'kubernetes.io~empty-dir/work/escape'));
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ name: 'work', mountPath: '/x', subPath: 'escape' }, /^subpath ".*\/work\/escape" not within volume path ".*\/work"$/],
    [{ name: 'work', mountPath: '/x', subPath: 'escape/inner' }, /not within volume path/],
    [{ name: 'work', mountPath: '/x', subPath: '../../etc' }, /^unable to provision SubPath `\.\.\/\.\.\/etc`: must not contain '\.\.'$/],
    [{ name: 'work', mountPath: '/x', subPathExpr: '$(NOPE)' }, /^missing value for NOPE$/],
    [{ name: 'work', mountPath: '/x', subPathExpr: '/$(POD)' }, /must not be an absolute path/],
    [{ name: 'ghost', mountPath: '/x' }, /^cannot find volume "ghost" to mount into container "main"$/],
  ];
  for (const [m, want] of cases) {
    await assert.rejects(vm.containerMounts(p, { ...c, volumeMounts: [m] }), (e: unknown) => {
      assert.ok(e instanceof ContainerConfigError, String(e));
      assert.match(e.message, want);
      return true;
    });
  }
  assert.equal(existsSync(join(shared, 'inner')), false);

  // Tear-down removes the symlink, never what it points at.
  writeFileSync(join(shared, 'keep'), 'k');
  await vm.tearDownPod(p.metadata.uid!);
  assert.equal(readFileSync(join(shared, 'keep'), 'utf8'), 'k');
});

test('fsGroup: API-data files and directories get the group (files +0440, dirs setgid); emptyDir roots too', async () => {
  const { client, vm } = setup();
  client.seed('secrets', secret('s', { key: 'v' }));
  client.seed('configmaps', cm('cfg', { 'a/b/c': 'deep' }));
  const p = pod([{ name: 's', secret: { secretName: 's', defaultMode: 0o400 } }, { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'a/b/c', path: 'a/b/c' }] } }, { name: 'e', emptyDir: {} }]);
  p.spec!.securityContext = { fsGroup: 2345 };
  await vm.setUpPod(p);
  const vols = join(podsDir, p.metadata.uid!, 'volumes');
  const key = statSync(join(vols, 'kubernetes.io~secret/s/key'));
  assert.equal(key.mode & 0o7777, 0o440);
  assert.equal(key.gid, 2345);
  const ts = join(vols, 'kubernetes.io~secret/s', readlinkSync(join(vols, 'kubernetes.io~secret/s/..data')));
  assert.equal(statSync(ts).mode & 0o7777, 0o2775);
  assert.equal(statSync(ts).gid, 2345);
  const mid = statSync(join(vols, 'kubernetes.io~configmap/cfg/a/b'));
  assert.equal(mid.mode & 0o7777, 0o2775);
  assert.equal(mid.gid, 2345);
  assert.equal(statSync(join(vols, 'kubernetes.io~configmap/cfg/a/b/c')).mode & 0o7777, 0o644);
  const e = statSync(join(vols, 'kubernetes.io~empty-dir/e'));
  assert.equal(e.mode & 0o7777, 0o2777);
  assert.equal(e.gid, 2345);
  // The next sync finds the payload (with its fsGroup modes) unchanged and writes nothing.
  await vm.setUpPod(p);
  assert.equal(join(vols, 'kubernetes.io~secret/s', readlinkSync(join(vols, 'kubernetes.io~secret/s/..data'))), ts);
  await vm.tearDownPod(p.metadata.uid!);
});

test('tearDownPod is idempotent; podsOnDisk lists what is left; a fresh manager (kubelet restart) cleans orphans', async () => {
  const { client, vm } = setup();
  client.seed('secrets', secret('s', { k: 'v' }));
  const a = pod([{ name: 's', secret: { secretName: 's' } }, { name: 'm', emptyDir: { medium: 'Memory' } }]);
  const b = pod([{ name: 'e', emptyDir: {} }]);
  await vm.setUpPod(a);
  await vm.setUpPod(b);
  const onDisk = await vm.podsOnDisk();
  assert.ok(onDisk.includes(a.metadata.uid!) && onDisk.includes(b.metadata.uid!));
  const restarted = new KubeletVolumeManager({ client, podsDir, nodeName: 'node-1' });
  // containerMounts works from what is on disk, without a setUpPod in this process.
  assert.deepEqual(await restarted.containerMounts(b, { name: 'c', volumeMounts: [{ name: 'e', mountPath: '/e' }] }), [
    { containerPath: '/e', hostPath: join(podsDir, b.metadata.uid!, 'volumes/kubernetes.io~empty-dir/e'), readonly: false, propagation: 'private' },
  ]);
  for (const uid of await restarted.podsOnDisk()) await restarted.tearDownPod(uid);
  await restarted.tearDownPod(a.metadata.uid!);
  assert.deepEqual(await restarted.podsOnDisk(), []);
  assert.deepEqual(mountsUnder(podsDir), []);
  await assert.rejects(restarted.tearDownPod('../etc'), /invalid pod uid/);
});
