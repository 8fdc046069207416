// Unit tests of the OCI spec generation (spec.ts): process, mounts, namespaces, cgroups, resources, security.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerConfig } from '../interface.js';
import { buildSpec, capabilitiesFor, DEFAULT_CAPABILITIES, processArgs, resolveUser, type SpecInput } from './spec.js';

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    metadata: { name: 'c', attempt: 0 },
    image: 'sha256:abc',
    command: ['sh'],
    args: ['-c', 'true'],
    envs: [],
    mounts: [],
    logPath: 'c/0.log',
    labels: {},
    annotations: {},
    linux: { resources: {}, securityContext: {} },
    ...over,
  };
}

function input(over: Partial<SpecInput> = {}, cfg: Partial<ContainerConfig> = {}): SpecInput {
  return {
    containerId: 'ctr1',
    sandboxId: 'sb1',
    config: config(cfg),
    sandbox: {
      netnsPath: '/r/ns/net',
      ipcPath: '/r/ns/ipc',
      utsPath: '/r/ns/uts',
      cgroupParent: 'k8ts/kubepods/besteffort/podU',
      hostsPath: '/r/hosts',
      hostnamePath: '/r/hostname',
      resolvConfPath: '/r/resolv.conf',
      shmPath: '/r/shm',
      hostname: 'mypod',
    },
    rootfs: '/r/rootfs',
    image: { env: ['PATH=/bin', 'A=image'], workingDir: '/img' },
    user: { uid: 0, gid: 0, additionalGids: [] },
    ...over,
  };
}

describe('runc spec', () => {
  it('process: args, env precedence, cwd, user, default capabilities, no oom_score_adj', () => {
    const s = buildSpec(
      input({ user: { uid: 1000, gid: 100, additionalGids: [5] } }, {
        envs: [{ key: 'A', value: 'ctr' }, { key: 'B', value: '1' }],
        linux: { resources: { oomScoreAdj: -998 }, securityContext: { noNewPrivs: true } },
      }),
    );
    assert.deepEqual(s.process.args, ['sh', '-c', 'true']);
    assert.deepEqual(s.process.env, ['HOSTNAME=mypod', 'PATH=/bin', 'A=ctr', 'B=1']);
    assert.equal(s.process.cwd, '/img');
    assert.deepEqual(s.process.user, { uid: 1000, gid: 100, additionalGids: [5] });
    assert.deepEqual(s.process.capabilities.bounding, [...DEFAULT_CAPABILITIES]);
    assert.deepEqual(s.process.capabilities.inheritable, []);
    assert.equal(s.process.noNewPrivileges, true);
    assert.equal(s.process.terminal, false);
    assert.equal(JSON.stringify(s).includes('oomScoreAdj'), false);
  });

  it('args follow containerd: command wins; args alone go after the entrypoint; else entrypoint + cmd', () => {
    const img = { entrypoint: ['/ep'], cmd: ['x'] };
    assert.deepEqual(processArgs(config({ command: ['a'], args: ['b'] }), img), ['a', 'b']);
    assert.deepEqual(processArgs(config({ command: [], args: ['b'] }), img), ['/ep', 'b']);
    assert.deepEqual(processArgs(config({ command: [], args: [] }), img), ['/ep', 'x']);
    assert.throws(() => buildSpec(input({ image: {} }, { command: [], args: [] })), /no command/);
  });

  it('namespaces join the sandbox; cgroupsPath is relative under the pod', () => {
    const s = buildSpec(input());
    assert.deepEqual(s.linux.namespaces, [
      { type: 'mount' },
      { type: 'pid' },
      { type: 'ipc', path: '/r/ns/ipc' },
      { type: 'uts', path: '/r/ns/uts' },
      { type: 'network', path: '/r/ns/net' },
    ]);
    assert.equal(s.linux.cgroupsPath, 'k8ts/kubepods/besteffort/podU/ctr1');
    const abs = buildSpec(input({ sandbox: { ...input().sandbox, cgroupParent: '/abs/pod/' } }));
    assert.equal(abs.linux.cgroupsPath, 'abs/pod/ctr1');
    const host = buildSpec(input({ sandbox: { cgroupParent: '', hostname: 'n', hostPID: true } }));
    assert.deepEqual(host.linux.namespaces, [{ type: 'mount' }]);
    assert.equal(host.linux.cgroupsPath, 'k8ts/ctr1');
  });

  it('resources: cpu, memory (+swap with accounting), pids; devices denied by default', () => {
    const s = buildSpec(
      input({ swapAccounting: true }, {
        linux: { resources: { cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, memoryLimitBytes: 1 << 24, pidsLimit: 64 }, securityContext: {} },
      }),
    );
    assert.deepEqual(s.linux.resources, {
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 1 << 24, swap: 1 << 24 },
      cpu: { shares: 512, quota: 50000, period: 100000 },
      pids: { limit: 64 },
    });
    assert.deepEqual(buildSpec(input()).linux.resources, { devices: [{ allow: false, access: 'rwm' }] });
  });

  it('mounts: defaults, managed files, sandbox shm, user binds sorted with propagation, tmpfs, overrides', () => {
    const s = buildSpec(
      input({}, {
        mounts: [
          { containerPath: '/data/sub', hostPath: '/h/sub', readonly: true },
          { containerPath: '/data', hostPath: '/h/data', readonly: false, propagation: 'rslave' },
          { containerPath: '/cache', hostPath: '', readonly: false, tmpfs: { sizeBytes: 1024 } },
          { containerPath: '/etc/hosts', hostPath: '/kubelet/hosts', readonly: false },
        ],
      }),
    );
    const dests = s.mounts.map((m) => m.destination);
    assert.deepEqual(dests, [
      '/proc',
      '/dev',
      '/dev/pts',
      '/dev/mqueue',
      '/sys',
      '/sys/fs/cgroup',
      '/etc/hostname',
      '/etc/resolv.conf',
      '/dev/shm',
      '/data',
      '/cache',
      '/data/sub',
      '/etc/hosts',
    ]);
    const by = (d: string) => s.mounts.find((m) => m.destination === d)!;
    assert.deepEqual(by('/sys').options, ['nosuid', 'noexec', 'nodev', 'ro']);
    assert.deepEqual(by('/sys/fs/cgroup').options?.includes('ro'), true);
    assert.deepEqual(by('/dev/shm'), { destination: '/dev/shm', type: 'bind', source: '/r/shm', options: ['rbind', 'rprivate', 'rw'] });
    assert.deepEqual(by('/data').options, ['rbind', 'rslave', 'rw']);
    assert.deepEqual(by('/data/sub').options, ['rbind', 'rprivate', 'ro']);
    assert.deepEqual(by('/cache'), { destination: '/cache', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1024'] });
    assert.equal(by('/etc/hosts').source, '/kubelet/hosts');
    assert.equal(s.linux.rootfsPropagation, 'rslave');
    assert.ok(s.linux.maskedPaths?.includes('/proc/kcore'));
    assert.ok(s.linux.readonlyPaths?.includes('/proc/sys'));
  });

  it('readonly rootfs makes the root and the managed files read-only', () => {
    const s = buildSpec(input({}, { linux: { resources: {}, securityContext: { readonlyRootfs: true } } }));
    assert.equal(s.root.readonly, true);
    assert.deepEqual(s.mounts.find((m) => m.destination === '/etc/hosts')?.options, ['rbind', 'rprivate', 'ro']);
  });

  it('privileged: all capabilities, devices, rw sysfs, no masked paths', () => {
    const dev = { path: '/dev/loop0', type: 'b' as const, major: 7, minor: 0 };
    const s = buildSpec(
      input({ allCapabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], hostDevices: [dev] }, {
        linux: { resources: {}, securityContext: { privileged: true } },
      }),
    );
    assert.deepEqual(s.process.capabilities.effective, ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    assert.deepEqual(s.linux.devices, [dev]);
    assert.equal(s.linux.maskedPaths, undefined);
    assert.deepEqual(s.mounts.find((m) => m.destination === '/sys')?.options, ['nosuid', 'noexec', 'nodev']);
  });

  it('capabilities: add/drop with and without CAP_ prefix, ALL', () => {
    const all = ['CAP_A', 'CAP_B'];
    assert.deepEqual(capabilitiesFor({ capabilities: { add: ['NET_ADMIN'], drop: ['KILL', 'CAP_CHOWN'] } }, all).includes('CAP_NET_ADMIN'), true);
    assert.equal(capabilitiesFor({ capabilities: { add: [], drop: ['KILL'] } }, all).includes('CAP_KILL'), false);
    assert.deepEqual(capabilitiesFor({ capabilities: { add: [], drop: ['ALL'] } }, all), []);
    assert.deepEqual(capabilitiesFor({ capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } }, all), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(capabilitiesFor({ capabilities: { add: ['ALL'], drop: [] } }, all), all);
  });

  it('sysctls only for namespaces the pod owns', () => {
    const sandbox = { ...input().sandbox, sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1', 'vm.x': '1' } };
    assert.deepEqual(buildSpec(input({ sandbox })).linux.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1' });
    const { netnsPath: _n, ...hostNet } = sandbox;
    assert.deepEqual(buildSpec(input({ sandbox: hostNet })).linux.sysctl, { 'kernel.shm_rmid_forced': '1' });
  });
});

describe('resolveUser', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
  const group = 'root:x:0:\nwheel:x:10:app\napp:x:1000:\nstaff:x:50:\n';
  const cases: Array<[string, Parameters<typeof resolveUser>[0], string | undefined, ReturnType<typeof resolveUser> | RegExp]> = [
    ['default root', {}, undefined, { uid: 0, gid: 0, additionalGids: [0] }],
    ['image name', {}, 'app', { uid: 1000, gid: 1000, additionalGids: [1000, 10] }],
    ['image uid:group name', {}, '65534:staff', { uid: 65534, gid: 50, additionalGids: [50] }],
    ['runAsUser over image', { runAsUser: 1000 }, 'nobody', { uid: 1000, gid: 1000, additionalGids: [1000, 10] }],
    ['runAsUser unknown uid', { runAsUser: 4242 }, undefined, { uid: 4242, gid: 0, additionalGids: [0] }],
    ['runAsGroup + supplemental', { runAsUser: 1000, runAsGroup: 7, supplementalGroups: [7, 8] }, undefined, { uid: 1000, gid: 7, additionalGids: [7, 10, 8] }],
    ['unknown user', {}, 'ghost', /unable to find user ghost/],
    ['unknown group', {}, '1:ghosts', /unable to find group ghosts/],
    ['runAsNonRoot root', { runAsNonRoot: true }, undefined, /runAsNonRoot and image will run as root/],
    ['runAsNonRoot named', { runAsNonRoot: true }, 'app', /non-numeric user/],
    ['runAsNonRoot numeric ok', { runAsNonRoot: true }, '1000', { uid: 1000, gid: 1000, additionalGids: [1000, 10] }],
  ];
  for (const [name, sc, imageUser, want] of cases) {
    it(name, () => {
      if (want instanceof RegExp) assert.throws(() => resolveUser(sc, imageUser, passwd, group), want);
      else assert.deepEqual(resolveUser(sc, imageUser, passwd, group), want);
    });
  }
});

describe('seccomp', () => {
  it('RuntimeDefault denies what reaches past the container unless a capability grants it; none when privileged or Unconfined', () => {
    const seccompOf = (securityContext: ContainerConfig['linux']['securityContext']) => buildSpec(input({}, { linux: { resources: {}, securityContext } })).linux.seccomp;
    const denied = (securityContext: ContainerConfig['linux']['securityContext']) => new Set(seccompOf(securityContext)?.syscalls.flatMap((s) => s.names) ?? []);
    const cases: Array<{ name: string; sc: ContainerConfig['linux']['securityContext']; deny: string[]; allow: string[] }> = [
      { name: 'default caps', sc: { seccomp: { type: 'RuntimeDefault' } }, deny: ['mount', 'unshare', 'kexec_load', 'init_module', 'keyctl', 'bpf', 'ptrace', 'reboot', 'clock_settime'], allow: ['read', 'clone', 'chown'] },
      { name: 'CAP_SYS_ADMIN added', sc: { seccomp: { type: 'RuntimeDefault' }, capabilities: { add: ['SYS_ADMIN'], drop: [] } }, deny: ['kexec_load', 'keyctl'], allow: ['mount', 'unshare', 'setns'] },
      { name: 'CAP_SYS_TIME added', sc: { seccomp: { type: 'RuntimeDefault' }, capabilities: { add: ['SYS_TIME'], drop: [] } }, deny: ['mount'], allow: ['clock_settime', 'settimeofday'] },
    ];
    for (const c of cases) {
      const d = denied(c.sc);
      for (const n of c.deny) assert.ok(d.has(n), `${c.name}: ${n} denied`);
      for (const n of c.allow) assert.ok(!d.has(n), `${c.name}: ${n} allowed`);
    }
    const s = seccompOf({ seccomp: { type: 'RuntimeDefault' } })!;
    assert.equal(s.defaultAction, 'SCMP_ACT_ALLOW');
    assert.deepEqual(s.syscalls.map((x) => [x.action, x.errnoRet]), [['SCMP_ACT_ERRNO', 1]]);
    assert.equal(seccompOf({ seccomp: { type: 'RuntimeDefault' }, privileged: true }), undefined);
    assert.equal(seccompOf({ seccomp: { type: 'Unconfined' } }), undefined);
    assert.equal(seccompOf({}), undefined);
    assert.throws(() => seccompOf({ seccomp: { type: 'Localhost', localhostProfile: 'p.json' } }), /Localhost seccomp profiles are not supported/);
  });
});
