// runc-specific runtime tests beyond the contract: adoption after the Node process that started the containers dies,
// security context (user, read-only root), and the errors the kubelet turns into reasons. In a test-host netns.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { run } from '../command.js';
import { RuntimeError, type ContainerConfig, type PodSandboxConfig } from '../interface.js';
import { BUSYBOX_IMAGE, createTestHost, mountsUnder, preflight, TestImages, type TestHost } from '../testing.js';
import { loadTestImages, KUBIA_IMAGE } from '../../images/build.js';
import { LocalImageService } from '../../images/service.js';
import { openRuncRuntime, type RuncRuntime } from './runtime.js';

const CIDR = '10.89.0.0/24';
const PREFIX = `k8ts-runc-test-${process.pid}`;

describe('runc runtime', { timeout: 60_000 }, () => {
  let tmp = '';
  let host: TestHost;
  let images: TestImages;
  let rt: RuncRuntime;
  const open = async (podCidr: string | null = CIDR): Promise<RuncRuntime> =>
    (await openRuncRuntime({ root: join(tmp, 'runtime'), images, podCidr: podCidr ?? undefined, hostNetns: host.path })).runtime;

  const sandboxConfig = (name: string): PodSandboxConfig => ({
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    hostname: name,
    logDirectory: join(tmp, 'pods', name),
    portMappings: [],
    labels: {},
    annotations: {},
    cgroupParent: `${PREFIX}/pod-${name}`,
    hostNetwork: false,
  });
  const containerConfig = (name: string, cmd: string[], securityContext: ContainerConfig['linux']['securityContext'] = {}): ContainerConfig => ({
    metadata: { name, attempt: 0 },
    image: BUSYBOX_IMAGE,
    command: cmd,
    args: [],
    envs: [],
    mounts: [],
    logPath: `${name}/0.log`,
    labels: {},
    annotations: {},
    linux: { resources: {}, securityContext },
  });
  const execOut = async (id: string, cmd: string[]): Promise<{ code: number; out: string }> => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const code = await rt.exec(id, cmd, { stdout: out, stderr: out, tty: false }, 10);
    return { code, out: text };
  };

  before(async () => {
    preflight();
    tmp = mkdtempSync(join(tmpdir(), 'k8ts-runc-'));
    images = new TestImages(join(tmp, 'images'));
    host = await createTestHost();
    rt = await open();
  });

  after(async () => {
    try {
      if ((rt as RuncRuntime | undefined) !== undefined) {
        for (const s of await rt.listPodSandboxes()) await rt.removePodSandbox(s.id);
        await rt.close();
      }
    } finally {
      await (host as TestHost | undefined)?.destroy();
      const r = await run('find', ['/sys/fs/cgroup', '-maxdepth', '4', '-type', 'd', '-name', PREFIX]);
      for (const dir of r.stdout.split('\n').filter(Boolean)) await run('rmdir', [dir]);
      for (const m of mountsUnder(tmp).reverse()) await run('umount', ['-l', m]);
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('containers outlive the Node process that started them and are adopted by the next', async () => {
    // Another Node process creates a pod and exits at once, as a killed kubelet would.
    const runtimeJs = fileURLToPath(new URL('./runtime.js', import.meta.url));
    const testingJs = fileURLToPath(new URL('../testing.js', import.meta.url));
    const script = `
      import { openRuncRuntime } from ${JSON.stringify(runtimeJs)};
      import { TestImages } from ${JSON.stringify(testingJs)};
      const cfg = JSON.parse(process.argv[1]);
      const rt = (await openRuncRuntime({ root: cfg.root, images: new TestImages(cfg.images), podCidr: cfg.cidr, hostNetns: cfg.netns })).runtime;
      const sid = await rt.runPodSandbox(cfg.sandbox);
      const cid = await rt.createContainer(sid, cfg.container, cfg.sandbox);
      await rt.startContainer(cid);
      process.stdout.write(JSON.stringify({ sid, cid }));
      process.kill(process.pid, 'SIGKILL');`;
    const sandbox = sandboxConfig('orphan');
    const arg = JSON.stringify({
      root: join(tmp, 'runtime'),
      images: join(tmp, 'images'),
      cidr: CIDR,
      netns: host.path,
      sandbox,
      container: containerConfig('main', ['sh', '-c', 'while true; do echo alive; sleep 0.2; done']),
    });
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, arg], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    const { sid, cid } = JSON.parse(child.stdout) as { sid: string; cid: string };
    await rt.close();
    rt = await open();
    assert.equal((await rt.containerStatus(cid)).state, 'CONTAINER_RUNNING');
    assert.equal((await rt.podSandboxStatus(sid)).state, 'SANDBOX_READY');
    assert.deepEqual(await execOut(cid, ['echo', 'adopted']), { code: 0, out: 'adopted\n' });
    const waited = rt.waitContainer(cid);
    await rt.stopContainer(cid, 0);
    assert.equal((await waited).exitCode, 137);
    await rt.removePodSandbox(sid);
  });

  it('runs as the securityContext user with a read-only root', async () => {
    const sb = sandboxConfig('sec');
    const sid = await rt.runPodSandbox(sb);
    const cid = await rt.createContainer(sid, containerConfig('main', ['sleep', '1000'], { runAsUser: 1000, readonlyRootfs: true, supplementalGroups: [4242] }), sb);
    await rt.startContainer(cid);
    assert.equal((await execOut(cid, ['id'])).out.trim(), 'uid=1000(app) gid=1000(app) groups=10(wheel),1000(app),4242');
    const write = await execOut(cid, ['touch', '/x']);
    assert.notEqual(write.code, 0);
    assert.match(write.out, /Read-only file system/);
    await rt.removePodSandbox(sid);
  });

  it('bind mounts (rw, ro), tmpfs, sandbox sysctls and a privileged container', async () => {
    const sb = { ...sandboxConfig('mounts'), sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' } };
    const sid = await rt.runPodSandbox(sb);
    const data = join(tmp, 'hostdata');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'in.txt'), 'from host\n');
    const cfg = containerConfig('main', ['sleep', '1000']);
    cfg.mounts = [
      { containerPath: '/data', hostPath: data, readonly: false },
      { containerPath: '/ro', hostPath: data, readonly: true },
      { containerPath: '/scratch', hostPath: '', readonly: false, tmpfs: { sizeBytes: 1024 * 1024 } },
    ];
    const cid = await rt.createContainer(sid, cfg, sb);
    await rt.startContainer(cid);
    assert.deepEqual(await execOut(cid, ['cat', '/ro/in.txt']), { code: 0, out: 'from host\n' });
    assert.equal((await execOut(cid, ['sh', '-c', 'echo back > /data/out.txt'])).code, 0);
    assert.equal(readFileSync(join(data, 'out.txt'), 'utf8'), 'back\n');
    assert.notEqual((await execOut(cid, ['touch', '/ro/x'])).code, 0);
    assert.match((await execOut(cid, ['df', '-k', '/scratch'])).out, /tmpfs\s+1024\s/);
    assert.equal((await execOut(cid, ['cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'])).out.trim(), '0');
    // Unprivileged: no CAP_NET_ADMIN; privileged: all capabilities, in the pod's own netns.
    assert.notEqual((await execOut(cid, ['ip', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'])).code, 0);
    const priv = await rt.createContainer(sid, containerConfig('priv', ['sleep', '1000'], { privileged: true }), sb);
    await rt.startContainer(priv);
    assert.equal((await execOut(priv, ['ip', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'])).code, 0);
    assert.match((await execOut(cid, ['ip', '-o', 'link'])).out, /d0/, 'both containers share the pod netns');
    await rt.removePodSandbox(sid);
  });

  it('runs an image from the real image service (kubia: image Cmd and WorkingDir, overlay rootfs) and port-forwards to it', async () => {
    const images2 = await LocalImageService.open(join(tmp, 'images-real'));
    await loadTestImages(images2, tmp);
    const rt2 = (await openRuncRuntime({ root: join(tmp, 'runtime-real'), images: images2, podCidr: '10.89.1.0/24', hostNetns: host.path, bridge: 'cni1' })).runtime;
    try {
      const sb = sandboxConfig('kubia');
      const sid = await rt2.runPodSandbox(sb);
      const cid = await rt2.createContainer(sid, { ...containerConfig('kubia', []), image: KUBIA_IMAGE }, sb);
      await rt2.startContainer(cid);
      let answer = '';
      for (let i = 0; i < 50 && !answer.includes("You've hit"); i++) {
        try {
          const conn = await rt2.portForward(sid, 8080);
          conn.end('GET / HTTP/1.0\r\n\r\n');
          answer = '';
          for await (const chunk of conn) answer += (chunk as Buffer).toString();
        } catch {
          // httpd not listening yet
        }
        if (!answer.includes("You've hit")) await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(answer, /You've hit kubia/);
      assert.ok((await rt2.containerStats(cid)).writableLayerBytes >= 0);
      await rt2.removePodSandbox(sid);
      assert.deepEqual(mountsUnder(join(tmp, 'images-real')), []);
    } finally {
      for (const s of await rt2.listPodSandboxes()) await rt2.removePodSandbox(s.id);
      await rt2.close();
    }
  });

  it('reports what the kubelet needs for CreateContainerError / CreateContainerConfigError', async () => {
    const sb = sandboxConfig('errs');
    const sid = await rt.runPodSandbox(sb);
    const mountsBefore = mountsUnder(join(tmp, 'images'));
    await assert.rejects(rt.createContainer(sid, containerConfig('nope', ['/no/such/binary']), sb), /no\/such\/binary/);
    assert.deepEqual(mountsUnder(join(tmp, 'images')), mountsBefore, 'a failed runc create unmounts the rootfs');
    await assert.rejects(rt.createContainer(sid, containerConfig('root', ['true'], { runAsNonRoot: true }), sb), /runAsNonRoot/);
    await assert.rejects(
      rt.createContainer(sid, { ...containerConfig('img', ['true']), image: 'missing:latest' }, sb),
      (e: unknown) => e instanceof RuntimeError && e.code === 'NotFound',
    );
    assert.deepEqual(await rt.listContainers({ podSandboxId: sid }), [], 'failed creates leave no container behind');
    await rt.removePodSandbox(sid);
    assert.deepEqual(mountsUnder(join(tmp, 'images')), mountsBefore);
  });

  it('a failing CNI ADD surfaces the plugin error and leaves nothing behind', async () => {
    // A second runtime whose CIDR conflicts with the address cni0 already has in this test host.
    const rt3 = (await openRuncRuntime({ root: join(tmp, 'runtime-conflict'), images, podCidr: '10.89.7.0/24', hostNetns: host.path })).runtime;
    try {
      await assert.rejects(rt3.runPodSandbox(sandboxConfig('conflict')), /CNI bridge ADD/);
      assert.deepEqual(await rt3.listPodSandboxes(), []);
      assert.deepEqual(mountsUnder(join(tmp, 'runtime-conflict')), []);
    } finally {
      await rt3.close();
    }
  });

  it('a pod network needs a pod CIDR: FailedPrecondition until updateRuntimeConfig', async () => {
    await rt.close();
    rt = await open(null);
    await assert.rejects(rt.runPodSandbox(sandboxConfig('nocidr')), (e: unknown) => e instanceof RuntimeError && e.code === 'FailedPrecondition');
    assert.equal((await rt.listPodSandboxes()).filter((s) => s.metadata.name === 'nocidr').length, 0, 'a failed run leaves no sandbox');
    await rt.updateRuntimeConfig({ podCidr: CIDR });
    const sid = await rt.runPodSandbox(sandboxConfig('cidr'));
    assert.match((await rt.podSandboxStatus(sid)).network.ip, /^10\.89\.0\./);
    await rt.removePodSandbox(sid);
  });
});
