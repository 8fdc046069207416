// Contract tests of the runtime seam (interface.ts), one suite for every implementation of `Runtime`: today runc
// (runc + conmon + CNI inside a test-host network namespace, busybox from busybox-static); the simulated node type
// and a `cri` (containerd) runtime plug in as further drivers. Nothing is skipped: what cannot work here fails loudly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { run } from './command.js';
import { RuntimeError, type ContainerConfig, type PodSandboxConfig, type Runtime } from './interface.js';
import { dialInNetns } from './netns.js';
import { openRuncRuntime } from './runc/runtime.js';
import { BUSYBOX_IMAGE, createTestHost, mountsUnder, preflight, TestImages, type TestHost } from './testing.js';

interface Driver {
  name: string;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A runtime object over the node's state; calling it again (after close) is a restarted runtime. */
  open(): Promise<Runtime>;
  podCidr: string;
  logRoot: string;
  /** Cgroup parent prefix the suite may use (relative). */
  cgroupPrefix: string;
  /** A TCP connection to the node's address `host:port` from the node's own network (hostPort checks). */
  dialNode(host: string, port: number): Promise<Duplex>;
  /** `net:[inode]` of the node's network namespace, as a hostNetwork container sees it in /proc/self/ns/net. */
  nodeNetns(): string;
  /** Anything the runtime left behind after every sandbox was removed (mounts, netns, cgroups, veths, files). */
  leftovers(): Promise<string[]>;
}

function runcDriver(): Driver {
  let tmp = '';
  let host: TestHost | undefined;
  let images: TestImages | undefined;
  const tag = randomBytes(3).toString('hex');
  const d: Driver = {
    name: 'runc',
    podCidr: '10.88.0.0/24',
    logRoot: '',
    cgroupPrefix: `k8ts-contract-${tag}`,
    async setUp() {
      preflight();
      tmp = mkdtempSync(join(tmpdir(), 'k8ts-rt-'));
      d.logRoot = join(tmp, 'pods');
      images = new TestImages(join(tmp, 'images'));
      host = await createTestHost();
    },
    async tearDown() {
      await host?.destroy();
      // The pod-level cgroups are the runtime's; the prefix above them is the suite's.
      const r = await run('find', ['/sys/fs/cgroup', '-maxdepth', '4', '-type', 'd', '-name', d.cgroupPrefix]);
      for (const dir of r.stdout.split('\n').filter(Boolean)) await run('rmdir', [dir]);
      for (const m of mountsUnder(tmp).reverse()) await run('umount', ['-l', m]);
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    },
    async open() {
      return openRuncRuntime({ root: join(tmp, 'runtime'), images: images!, podCidr: d.podCidr, hostNetns: host!.path });
    },
    nodeNetns() {
      return `net:[${statSync(host!.path).ino}]`;
    },
    dialNode(h, port) {
      return dialInNetns(host!.path, h, port);
    },
    async leftovers() {
      const out: string[] = [];
      for (const m of mountsUnder(tmp)) out.push(`mount ${m}`);
      const sb = join(tmp, 'runtime', 'sandboxes');
      for (const s of existsSync(sb) ? readdirSync(sb) : []) out.push(`sandbox dir ${s}`);
      const cs = join(tmp, 'runtime', 'containers');
      for (const c of existsSync(cs) ? readdirSync(cs) : []) out.push(`container dir ${c}`);
      const r = await run('find', ['/sys/fs/cgroup', '-maxdepth', '6', '-path', `*${d.cgroupPrefix}/*`, '-type', 'd']);
      for (const dir of r.stdout.split('\n').filter(Boolean)) out.push(`cgroup ${dir}`);
      const veths = await run('ip', ['-n', host!.name, '-o', 'link', 'show', 'type', 'veth']);
      for (const l of veths.stdout.split('\n').filter(Boolean)) out.push(`veth ${l.split(':')[1]?.trim()}`);
      const leases = join(tmp, 'runtime', 'cni', 'networks', 'k8ts');
      for (const f of existsSync(leases) ? readdirSync(leases) : []) if (/^\d+\./.test(f)) out.push(`ip lease ${f}`);
      const runc = await run('runc', ['--root', join(tmp, 'runtime', 'runc'), 'list', '-q']);
      for (const id of runc.stdout.split('\n').filter(Boolean)) out.push(`runc container ${id}`);
      return out;
    },
  };
  return d;
}

const drivers: Driver[] = [runcDriver()];

function ipInCidr(ip: string, cidr: string): boolean {
  const toN = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  const [net, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toN(ip) / size) === Math.floor(toN(net) / size);
}

async function collect(stream: Duplex, until: (s: string) => boolean, ms = 5000): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(text)}`)), ms);
    stream.on('data', (d: Buffer) => {
      text += d.toString();
      if (until(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    stream.on('end', () => {
      clearTimeout(timer);
      resolve(text);
    });
    stream.on('error', reject);
  });
}

for (const driver of drivers) {
  describe(`runtime contract: ${driver.name}`, { timeout: 120_000 }, () => {
    let rt: Runtime;
    let n = 0;

    const sandboxConfig = (name: string, over: Partial<PodSandboxConfig> = {}): PodSandboxConfig => {
      const uid = randomBytes(8).toString('hex');
      return {
        metadata: { name, uid, namespace: 'default', attempt: 0 },
        hostname: name,
        logDirectory: join(driver.logRoot, `default_${name}_${uid}`),
        dnsConfig: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] },
        portMappings: [],
        labels: { app: name, suite: 'contract' },
        annotations: {},
        cgroupParent: `${driver.cgroupPrefix}/pod${uid}`,
        hostNetwork: false,
        ...over,
      };
    };

    const containerConfig = (name: string, cmd: string[], over: Partial<ContainerConfig> = {}): ContainerConfig => ({
      metadata: { name, attempt: 0 },
      image: BUSYBOX_IMAGE,
      command: cmd,
      args: [],
      envs: [{ key: 'GREETING', value: 'hi' }],
      mounts: [],
      logPath: `${name}/0.log`,
      labels: { container: name },
      annotations: {},
      linux: { resources: {}, securityContext: {} },
      ...over,
    });

    const pods = new Map<string, PodSandboxConfig>();
    const runPod = async (name: string, over: Partial<PodSandboxConfig> = {}): Promise<string> => {
      const cfg = sandboxConfig(`${name}-${++n}`, over);
      const id = await rt.runtime.runPodSandbox(cfg);
      pods.set(id, cfg);
      return id;
    };
    const runContainer = async (sid: string, name: string, cmd: string[], over: Partial<ContainerConfig> = {}): Promise<string> => {
      const id = await rt.runtime.createContainer(sid, containerConfig(name, cmd, over), pods.get(sid)!);
      await rt.runtime.startContainer(id);
      return id;
    };
    const execOut = async (id: string, cmd: string[], stdin?: string, tty = false): Promise<{ code: number; out: string; err: string }> => {
      const out = new PassThrough();
      const err = new PassThrough();
      const chunks: string[] = [];
      const errs: string[] = [];
      out.on('data', (d: Buffer) => chunks.push(d.toString()));
      err.on('data', (d: Buffer) => errs.push(d.toString()));
      let input: PassThrough | undefined;
      if (stdin !== undefined) {
        input = new PassThrough();
        input.end(stdin);
      }
      const code = await rt.runtime.exec(id, cmd, { stdin: input, stdout: out, stderr: err, tty }, 20);
      return { code, out: chunks.join(''), err: errs.join('') };
    };

    before(async () => {
      await driver.setUp();
      rt = await driver.open();
    });

    after(async () => {
      // Tear down whatever a failed test left, then the node itself.
      try {
        if ((rt as Runtime | undefined) !== undefined) {
          for (const s of await rt.runtime.listPodSandboxes()) await rt.runtime.removePodSandbox(s.id);
          await rt.close();
        }
      } finally {
        await driver.tearDown();
      }
    });

    it('reports its version', async () => {
      const v = await rt.runtime.version();
      assert.ok(v.runtimeName && v.runtimeVersion, JSON.stringify(v));
    });

    it('a sandbox gets an IP in the pod CIDR, its hostname, hosts and resolv.conf', async () => {
      const sid = await runPod('net');
      const st = await rt.runtime.podSandboxStatus(sid);
      assert.equal(st.state, 'SANDBOX_READY');
      assert.ok(ipInCidr(st.network.ip, driver.podCidr), `pod IP ${st.network.ip} not in ${driver.podCidr}`);
      const cid = await runContainer(sid, 'main', ['sleep', '1000']);
      const name = pods.get(sid)!.hostname;
      assert.equal((await execOut(cid, ['hostname'])).out.trim(), name);
      assert.match((await execOut(cid, ['cat', '/etc/hosts'])).out, new RegExp(`${st.network.ip.replace(/\./g, '\\.')}\\s+${name}`));
      const resolv = (await execOut(cid, ['cat', '/etc/resolv.conf'])).out;
      assert.match(resolv, /nameserver 10\.96\.0\.10/);
      assert.match(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local/);
      assert.match((await execOut(cid, ['sh', '-c', 'echo $GREETING $HOSTNAME'])).out, new RegExp(`hi ${name}`));
      const ifaces = (await execOut(cid, ['ip', '-o', 'addr'])).out;
      assert.match(ifaces, /lo\s+inet 127\.0\.0\.1/);
      assert.equal((await execOut(cid, ['ping', '-c', '1', '-W', '2', '127.0.0.1'])).code, 0, 'lo is up');
      // The pod's /dev/shm: a tmpfs of its own (64 MiB by default), shared by its containers.
      assert.match((await execOut(cid, ['cat', '/proc/mounts'])).out, /^\S+ \/dev\/shm tmpfs \S*size=65536k/m);
      assert.match(ifaces, new RegExp(`eth0\\s+inet ${st.network.ip.replace(/\./g, '\\.')}/`));
      await rt.runtime.removePodSandbox(sid);
      await assert.rejects(rt.runtime.podSandboxStatus(sid), (e: unknown) => e instanceof RuntimeError && e.code === 'NotFound');
    });

    it('two sandboxes reach each other through the bridge (ping, TCP); port-forward and hostPort reach a pod', async () => {
      const a = await runPod('a');
      const b = await runPod('b', { portMappings: [{ protocol: 'TCP', containerPort: 8080, hostPort: 18080 }] });
      const ipB = (await rt.runtime.podSandboxStatus(b)).network.ip;
      const ca = await runContainer(a, 'client', ['sleep', '1000']);
      await runContainer(b, 'web', ['httpd', '-f', '-p', '8080', '-h', '/var/www']);
      const ping = await execOut(ca, ['ping', '-c', '1', '-W', '2', ipB]);
      assert.equal(ping.code, 0, ping.out + ping.err);
      // httpd may take a moment to listen: retry the fetch a few times (its readiness is not observable otherwise).
      let fetched = { code: -1, out: '', err: '' };
      for (let i = 0; i < 20 && !fetched.out.includes('hello'); i++) {
        // busybox nc, not wget: Debian's static busybox wget segfaults (environment.md quirk 5), in containers too.
        fetched = await execOut(ca, ['nc', '-w', '2', ipB, '8080'], 'GET / HTTP/1.0\r\n\r\n');
        if (!fetched.out.includes('hello')) await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(fetched.out, /hello from busybox/, JSON.stringify(fetched));

      const conn = await rt.runtime.portForward(b, 8080);
      conn.write('GET / HTTP/1.0\r\n\r\n');
      const resp = await collect(conn, (s) => s.includes('hello from busybox'));
      conn.destroy();
      assert.match(resp, /^HTTP\/1\.[01] 200/);
      assert.match(resp, /hello from busybox/);

      // hostPort: the node's address on the pod network (the bridge gateway) forwards 18080 to the pod's 8080.
      const gw = driver.podCidr.replace(/\.0\/\d+$/, '.1');
      const viaHost = await driver.dialNode(gw, 18080);
      viaHost.write('GET / HTTP/1.0\r\n\r\n');
      assert.match(await collect(viaHost, (s) => s.includes('hello from busybox')), /hello from busybox/);
      viaHost.destroy();
      await rt.runtime.removePodSandbox(a);
      await rt.runtime.removePodSandbox(b);
    });

    it('a hostNetwork sandbox runs its containers in the node network namespace', async () => {
      const sid = await runPod('hostnet', { hostNetwork: true });
      assert.equal((await rt.runtime.podSandboxStatus(sid)).network.ip, '');
      const cid = await runContainer(sid, 'main', ['sleep', '1000']);
      assert.equal((await execOut(cid, ['readlink', '/proc/self/ns/net'])).out.trim(), driver.nodeNetns());
      await rt.runtime.removePodSandbox(sid);
    });

    it('containers log in CRI format and report exit codes (0 Completed, 3 Error)', async () => {
      const sid = await runPod('logs');
      const ok = await runContainer(sid, 'ok', ['sh', '-c', 'echo out; echo err >&2; printf partial']);
      const bad = await runContainer(sid, 'bad', ['sh', '-c', 'exit 3']);
      const s1 = await rt.runtime.waitContainer(ok);
      const s2 = await rt.runtime.waitContainer(bad);
      assert.equal(s1.state, 'CONTAINER_EXITED');
      assert.equal(s1.exitCode, 0);
      assert.equal(s1.reason, 'Completed');
      assert.ok(s1.startedAt && s1.finishedAt && s1.finishedAt >= s1.startedAt - 1000, JSON.stringify(s1));
      assert.equal(s2.exitCode, 3);
      assert.equal(s2.reason, 'Error');
      assert.equal(s1.logPath, join(pods.get(sid)!.logDirectory, 'ok/0.log'));
      const lines = readFileSync(s1.logPath, 'utf8').trimEnd().split('\n');
      const ts = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+(Z|[+-]\\d\\d:\\d\\d)';
      assert.ok(lines.some((l) => new RegExp(`^${ts} stdout F out$`).test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => new RegExp(`^${ts} stderr F err$`).test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => new RegExp(`^${ts} stdout P partial$`).test(l)), lines.join('\n'));
      const list = await rt.runtime.listContainers({ podSandboxId: sid, state: 'CONTAINER_EXITED' });
      assert.deepEqual(list.map((c) => c.id).sort(), [ok, bad].sort());
      await rt.runtime.removePodSandbox(sid);
    });

    it('a container over its memory limit is OOMKilled with 137; limits are enforced in its cgroups', async () => {
      const sid = await runPod('oom');
      const limited = await runContainer(sid, 'limited', ['sleep', '1000'], {
        linux: { resources: { memoryLimitBytes: 32 * 1024 * 1024, cpuShares: 256, cpuQuota: 50_000, cpuPeriod: 100_000, pidsLimit: 50 }, securityContext: {} },
      });
      const read = async (f: string): Promise<string> => (await execOut(limited, ['cat', `/sys/fs/cgroup/${f}`])).out.trim();
      assert.equal(await read('memory/memory.limit_in_bytes'), String(32 * 1024 * 1024));
      assert.equal(await read('cpu/cpu.shares'), '256');
      assert.equal(await read('cpu/cpu.cfs_quota_us'), '50000');
      assert.equal(await read('pids/pids.max'), '50');
      const hog = await runContainer(sid, 'hog', ['tail', '/dev/zero'], {
        linux: { resources: { memoryLimitBytes: 16 * 1024 * 1024 }, securityContext: {} },
      });
      const st = await rt.runtime.waitContainer(hog);
      assert.equal(st.exitCode, 137);
      assert.equal(st.reason, 'OOMKilled');
      await rt.runtime.removePodSandbox(sid);
    });

    it('stop sends the stop signal, waits the grace period, then kills (PID 1 ignoring SIGTERM)', async () => {
      const sid = await runPod('stop');
      const stubborn = await runContainer(sid, 'stubborn', ['sleep', '1000']);
      const polite = await runContainer(sid, 'polite', ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']);
      const waited = rt.runtime.waitContainer(stubborn);
      let t0 = Date.now();
      await rt.runtime.stopContainer(stubborn, 1);
      let took = Date.now() - t0;
      assert.ok(took >= 900 && took < 5000, `stop took ${took} ms`);
      const st = await waited;
      assert.equal(st.exitCode, 137);
      t0 = Date.now();
      await rt.runtime.stopContainer(polite, 10);
      took = Date.now() - t0;
      assert.ok(took < 3000, `polite stop took ${took} ms`);
      assert.equal((await rt.runtime.containerStatus(polite)).exitCode, 0);
      await rt.runtime.stopContainer(polite, 10); // idempotent
      await rt.runtime.removePodSandbox(sid);
    });

    it('exec streams stdin/stdout/stderr with the exit code, runs with a TTY, and times out', async () => {
      const sid = await runPod('exec');
      const cid = await runContainer(sid, 'main', ['sleep', '1000']);
      const r = await execOut(cid, ['sh', '-c', 'echo hi; echo oops >&2; exit 7']);
      assert.deepEqual(r, { code: 7, out: 'hi\n', err: 'oops\n' });
      const cat = await execOut(cid, ['sh', '-c', 'cat; echo done'], 'abc\n');
      assert.deepEqual(cat, { code: 0, out: 'abc\ndone\n', err: '' });
      const tty = await execOut(cid, ['sh', '-c', 'tty; exit 4'], undefined, true);
      assert.equal(tty.code, 4);
      assert.match(tty.out, /\/dev\/pts\/\d+/);
      // Interactive, as `kubectl exec -it … sh`: keystrokes in, the shell's terminal output back, its exit code.
      const keys = new PassThrough();
      const screen = new PassThrough();
      let shown = '';
      screen.on('data', (d: Buffer) => (shown += d.toString()));
      const session = rt.runtime.exec(cid, ['sh'], { stdin: keys, stdout: screen, tty: true }, 20);
      keys.write('echo hello-$((1+2))\n');
      while (!shown.includes('hello-3')) await new Promise((r) => setTimeout(r, 20));
      keys.write('exit 5\n');
      assert.equal(await session, 5);
      assert.match(shown, /hello-3\r\n/);
      await assert.rejects(
        rt.runtime.exec(cid, ['sleep', '30'], { tty: false }, 1),
        (e: unknown) => e instanceof RuntimeError && e.code === 'DeadlineExceeded',
      );
      await rt.runtime.removePodSandbox(sid);
    });

    it('a TTY exec follows resizes; attach streams output; the log reopens after rotation', async () => {
      const sid = await runPod('streams');
      const cid = await runContainer(sid, 'ticker', ['sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
      const out = new PassThrough();
      let text = '';
      out.on('data', (d: Buffer) => (text += d.toString()));
      const code = await rt.runtime.exec(cid, ['sh', '-c', 'sleep 0.5; stty size'], {
        stdout: out,
        tty: true,
        onResize: (listener) => listener({ width: 100, height: 40 }), // at once, before the process exists
      }, 10);
      assert.equal(code, 0);
      assert.match(text, /40 100/);

      const attached = new PassThrough();
      let seen = '';
      attached.on('data', (d: Buffer) => (seen += d.toString()));
      const attaching = rt.runtime.attach(cid, { stdout: attached, tty: false });
      while (!seen.includes('tick\n')) await new Promise((r) => setTimeout(r, 50));

      const { logPath } = await rt.runtime.containerStatus(cid);
      renameSync(logPath, `${logPath}.1`);
      await rt.runtime.reopenContainerLog(cid);
      let fresh = '';
      for (let i = 0; i < 40 && !fresh.includes('stdout F tick'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        fresh = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
      }
      assert.match(fresh, /stdout F tick/);
      await rt.runtime.stopContainer(cid, 0);
      await attaching; // ends when the container exits
      await rt.runtime.removePodSandbox(sid);
    });

    it('stats are read from the container cgroups', async () => {
      const sid = await runPod('stats');
      const cid = await runContainer(sid, 'busy', ['sh', '-c', 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; x=$(head -c 1000000 /dev/urandom | od | head -c 10); sleep 1000']);
      let s = await rt.runtime.containerStats(cid);
      for (let i = 0; i < 50 && s.cpuUsageCoreNanoSeconds < 10_000_000; i++) {
        await new Promise((r) => setTimeout(r, 50));
        s = await rt.runtime.containerStats(cid);
      }
      assert.ok(s.cpuUsageCoreNanoSeconds > 0, JSON.stringify(s));
      assert.ok(s.memoryUsageBytes > 0 && s.memoryWorkingSetBytes > 0, JSON.stringify(s));
      await new Promise((r) => setTimeout(r, 20));
      s = await rt.runtime.containerStats(cid);
      assert.ok(s.cpuUsageNanoCores !== undefined, 'a second sample gives a rate');
      const all = await rt.runtime.listContainerStats({ podSandboxId: sid });
      assert.deepEqual(all.map((x) => x.containerId), [cid]);
      await rt.runtime.removePodSandbox(sid);
    });

    it('a restarted runtime re-discovers running sandboxes and containers', async () => {
      const sid = await runPod('adopt');
      const cid = await runContainer(sid, 'main', ['sleep', '1000']);
      const ip = (await rt.runtime.podSandboxStatus(sid)).network.ip;
      await rt.close();
      rt = await driver.open();
      const sbs = await rt.runtime.listPodSandboxes({ state: 'SANDBOX_READY' });
      assert.ok(sbs.some((s) => s.id === sid), JSON.stringify(sbs));
      assert.equal((await rt.runtime.podSandboxStatus(sid)).network.ip, ip);
      const cs = await rt.runtime.listContainers({ podSandboxId: sid });
      assert.deepEqual(cs.map((c) => [c.id, c.state]), [[cid, 'CONTAINER_RUNNING']]);
      assert.equal((await execOut(cid, ['echo', 'still here'])).out, 'still here\n');
      const waited = rt.runtime.waitContainer(cid);
      await rt.runtime.stopContainer(cid, 0);
      assert.equal((await waited).exitCode, 137);
      await rt.runtime.removePodSandbox(sid);
    });

    it('removing every sandbox leaves nothing behind (netns, cgroups, mounts, veths, leases)', async () => {
      const sid = await runPod('cleanup');
      await runContainer(sid, 'main', ['sleep', '1000']);
      const exited = await runContainer(sid, 'done', ['true']);
      await rt.runtime.waitContainer(exited);
      await rt.runtime.stopPodSandbox(sid);
      assert.equal((await rt.runtime.podSandboxStatus(sid)).state, 'SANDBOX_NOTREADY');
      await rt.runtime.stopPodSandbox(sid); // idempotent
      for (const s of await rt.runtime.listPodSandboxes()) await rt.runtime.removePodSandbox(s.id);
      await rt.runtime.removePodSandbox(sid); // idempotent
      assert.deepEqual(await driver.leftovers(), []);
    });
  });
}
