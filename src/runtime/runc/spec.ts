// OCI runtime spec (config.json) generation for one container of a pod sandbox, after containerd's CRI plugin
// defaults (capabilities, mounts, masked/readonly paths). Pure: everything it needs from the host comes in as data.
import type { ContainerConfig, ImageConfig, Mount, SecurityContext } from '../interface.js';
import { runtimeDefaultSeccomp, type OciSeccomp } from './seccomp.js';

// ---- the parts of the OCI runtime spec we write -------------------------------------------------------------------

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };
  noNewPrivileges: boolean;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  annotations: Record<string, string>;
  linux: {
    cgroupsPath: string;
    namespaces: Array<{ type: string; path?: string }>;
    resources: {
      devices: Array<{ allow: boolean; type?: string; major?: number; minor?: number; access?: string }>;
      memory?: { limit?: number; swap?: number };
      cpu?: { shares?: number; quota?: number; period?: number };
      pids?: { limit: number };
    };
    devices?: OciDevice[];
    sysctl?: Record<string, string>;
    seccomp?: OciSeccomp;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    rootfsPropagation?: string;
  };
}

// ---- defaults (containerd 1.6 pkg/oci + pkg/cri) --------------------------------------------------------------------

/** The capabilities a non-privileged container gets (containerd's default set). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every Linux capability by number (0 … 40); a kernel's set is the prefix up to /proc/sys/kernel/cap_last_cap. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];

export const READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function defaultMounts(privileged: boolean): OciMount[] {
  const ro = privileged ? [] : ['ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', ...ro],
    },
  ];
}

// ---- users ----------------------------------------------------------------------------------------------------------

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) out.push({ name: f[0]!, uid, gid });
  }
  return out;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (Number.isInteger(gid)) out.push({ name: f[0]!, gid, members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

const isNumeric = (s: string): boolean => /^\d+$/.test(s);

/**
 * The user a container runs as: securityContext runAsUser/runAsGroup over the image's `user[:group]`, names looked up
 * in the rootfs' /etc/passwd and /etc/group (as containerd's WithUser/WithAdditionalGIDs). Throws on an unknown name
 * and on runAsNonRoot with UID 0 (the kubelet reports both as CreateContainerConfigError).
 */
export function resolveUser(
  sc: SecurityContext,
  imageUser: string | undefined,
  passwdText: string | undefined,
  groupText: string | undefined,
): ResolvedUser {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  let uid = 0;
  let gid: number | undefined;
  let userName: string | undefined;
  if (sc.runAsUser !== undefined) {
    uid = sc.runAsUser;
    const e = passwd.find((p) => p.uid === uid);
    gid = e?.gid;
    userName = e?.name;
  } else if (imageUser) {
    const [u, g] = imageUser.split(':', 2) as [string, string | undefined];
    if (isNumeric(u)) {
      uid = Number(u);
      const e = passwd.find((p) => p.uid === uid);
      gid = e?.gid;
      userName = e?.name;
    } else if (u !== '') {
      const e = passwd.find((p) => p.name === u);
      if (!e) throw new Error(`unable to find user ${u}: no matching entries in passwd file`);
      uid = e.uid;
      gid = e.gid;
      userName = e.name;
      if (sc.runAsNonRoot) {
        // The kubelet cannot verify a non-numeric user before the container runs (upstream's wording).
        throw new Error(`container has runAsNonRoot and image has non-numeric user (${u}), cannot verify user is non-root`);
      }
    }
    if (g !== undefined && g !== '') {
      if (isNumeric(g)) gid = Number(g);
      else {
        const ge = groups.find((x) => x.name === g);
        if (!ge) throw new Error(`unable to find group ${g}: no matching entries in group file`);
        gid = ge.gid;
      }
    }
  }
  if (sc.runAsGroup !== undefined) gid = sc.runAsGroup;
  if (sc.runAsNonRoot && uid === 0) throw new Error('container has runAsNonRoot and image will run as root');
  const primary = gid ?? 0;
  // The primary group leads the supplementary list, as after initgroups (what `id` shows on a login).
  const extra = new Set<number>([primary]);
  if (userName !== undefined) for (const g of groups) if (g.members.includes(userName) && g.gid !== primary) extra.add(g.gid);
  for (const g of sc.supplementalGroups ?? []) if (g !== primary) extra.add(g);
  return { uid, gid: primary, additionalGids: [...extra] };
}

// ---- capabilities ---------------------------------------------------------------------------------------------------

const capName = (c: string): string => {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
};

/** The capability set after securityContext add/drop (ALL in add or drop as upstream); all caps when privileged. */
export function capabilitiesFor(sc: SecurityContext, allCaps: readonly string[]): string[] {
  if (sc.privileged) return [...allCaps];
  const add = (sc.capabilities?.add ?? []).map(capName);
  const drop = (sc.capabilities?.drop ?? []).map(capName);
  let caps = new Set<string>(DEFAULT_CAPABILITIES);
  if (add.includes('CAP_ALL')) caps = new Set(allCaps);
  if (drop.includes('CAP_ALL')) caps = new Set();
  for (const c of add) if (c !== 'CAP_ALL') caps.add(c);
  for (const c of drop) if (c !== 'CAP_ALL') caps.delete(c);
  return [...caps];
}

// ---- the spec -------------------------------------------------------------------------------------------------------

/** What a container's spec needs from its sandbox. */
export interface SandboxSpecInfo {
  /** Network namespace to join; undefined = the runtime's own (hostNetwork in the root namespace). */
  netnsPath?: string;
  /** IPC namespace to join; undefined = the host's (hostIPC). */
  ipcPath?: string;
  /** UTS namespace to join; undefined = the host's (hostNetwork). */
  utsPath?: string;
  hostPID?: boolean;
  /** Relative cgroup parent of the pod (environment.md quirk 1). */
  cgroupParent: string;
  sysctls?: Record<string, string>;
  /** Host paths of the sandbox's managed files and /dev/shm, bind-mounted unless the container mounts its own. */
  hostsPath?: string;
  hostnamePath?: string;
  resolvConfPath?: string;
  shmPath?: string;
  hostname: string;
}

export interface SpecInput {
  containerId: string;
  sandboxId: string;
  config: ContainerConfig;
  sandbox: SandboxSpecInfo;
  rootfs: string;
  image: ImageConfig;
  user: ResolvedUser;
  /** The kernel's capabilities (ALL_CAPABILITIES up to cap_last_cap). */
  allCapabilities?: readonly string[];
  /** Host devices a privileged container gets. */
  hostDevices?: OciDevice[];
  /** Whether the memory controller accounts swap (memory.memsw.*): then swap is limited to the memory limit. */
  swapAccounting?: boolean;
}

/** The process arguments: CRI command/args over the image's entrypoint/cmd (containerd's rule). */
export function processArgs(config: ContainerConfig, image: ImageConfig): string[] {
  if (config.command.length > 0) return [...config.command, ...config.args];
  const entrypoint = image.entrypoint ?? [];
  if (config.args.length > 0) return [...entrypoint, ...config.args];
  return [...entrypoint, ...(image.cmd ?? [])];
}

/** Environment: HOSTNAME, then the image's, then the container's (later keys win, order of first appearance kept). */
export function processEnv(config: ContainerConfig, image: ImageConfig, hostname: string): string[] {
  const env = new Map<string, string>();
  const set = (kv: string): void => {
    const i = kv.indexOf('=');
    const k = i < 0 ? kv : kv.slice(0, i);
    env.set(k, kv);
  };
  set(`HOSTNAME=${hostname}`);
  for (const kv of image.env ?? []) set(kv);
  if (!env.has('PATH')) set(`PATH=${DEFAULT_PATH}`);
  for (const { key, value } of config.envs) set(`${key}=${value}`);
  return [...env.values()];
}

const depth = (p: string): number => p.split('/').filter(Boolean).length;

function userMount(m: Mount): OciMount {
  if (m.tmpfs) {
    const options = ['nosuid', 'nodev'];
    if (m.tmpfs.sizeBytes !== undefined) options.push(`size=${m.tmpfs.sizeBytes}`);
    if (m.readonly) options.push('ro');
    return { destination: m.containerPath, type: 'tmpfs', source: 'tmpfs', options };
  }
  return {
    destination: m.containerPath,
    type: 'bind',
    source: m.hostPath,
    options: ['rbind', m.propagation ?? 'rprivate', m.readonly ? 'ro' : 'rw'],
  };
}

/** Builds config.json for one container. Throws on a config the runtime cannot honour (no command, absolute cgroup). */
export function buildSpec(input: SpecInput): OciSpec {
  const { config, sandbox, image } = input;
  const sc = config.linux.securityContext;
  const privileged = sc.privileged === true;
  const args = processArgs(config, image);
  if (args.length === 0) throw new Error('no command specified');
  const allCaps = input.allCapabilities ?? ALL_CAPABILITIES;
  const caps = capabilitiesFor(sc, allCaps);

  // Mounts: defaults, then the sandbox's managed files, then the container's (which replace any default at the same
  // destination), parents before children.
  const userMounts = config.mounts.map(userMount);
  const userDest = new Set(userMounts.map((m) => m.destination));
  const mounts: OciMount[] = defaultMounts(privileged).filter((m) => !userDest.has(m.destination));
  const managedRo = sc.readonlyRootfs === true;
  const managed: Array<[string, string | undefined]> = [
    ['/etc/hosts', sandbox.hostsPath],
    ['/etc/hostname', sandbox.hostnamePath],
    ['/etc/resolv.conf', sandbox.resolvConfPath],
  ];
  for (const [dest, src] of managed) {
    if (src && !userDest.has(dest)) {
      mounts.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate', managedRo ? 'ro' : 'rw'] });
    }
  }
  if (!userDest.has('/dev/shm')) {
    mounts.push(
      sandbox.shmPath
        ? { destination: '/dev/shm', type: 'bind', source: sandbox.shmPath, options: ['rbind', 'rprivate', 'rw'] }
        : { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    );
  }
  mounts.push(...[...userMounts].sort((a, b) => depth(a.destination) - depth(b.destination)));

  // Root propagation must allow what the bind mounts ask for (containerd: rshared wins over rslave).
  let rootfsPropagation: string | undefined;
  const props = config.mounts.filter((m) => !m.tmpfs).map((m) => m.propagation);
  if (props.includes('rshared')) rootfsPropagation = 'rshared';
  else if (props.includes('rslave')) rootfsPropagation = 'rslave';

  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'mount' }];
  if (!sandbox.hostPID) namespaces.push({ type: 'pid' });
  if (sandbox.ipcPath) namespaces.push({ type: 'ipc', path: sandbox.ipcPath });
  if (sandbox.utsPath) namespaces.push({ type: 'uts', path: sandbox.utsPath });
  if (sandbox.netnsPath) namespaces.push({ type: 'network', path: sandbox.netnsPath });

  const parent = sandbox.cgroupParent.replace(/^\/+|\/+$/g, '');
  const cgroupsPath = parent ? `${parent}/${input.containerId}` : `k8ts/${input.containerId}`;

  const r = config.linux.resources;
  const resources: OciSpec['linux']['resources'] = {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }],
  };
  if (r.memoryLimitBytes !== undefined && r.memoryLimitBytes > 0) {
    resources.memory = { limit: r.memoryLimitBytes };
    if (input.swapAccounting) resources.memory.swap = r.memoryLimitBytes;
  }
  const cpu: NonNullable<OciSpec['linux']['resources']['cpu']> = {};
  if (r.cpuShares !== undefined && r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.cpuQuota !== undefined && r.cpuQuota !== 0) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod !== undefined && r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  if (r.pidsLimit !== undefined && r.pidsLimit > 0) resources.pids = { limit: r.pidsLimit };
  // r.oomScoreAdj is deliberately never written: nothing here may lower oom_score_adj (environment.md quirk 2).

  // Namespaced sysctls only where the container has that namespace of its own (runc refuses the host's).
  let sysctl: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(sandbox.sysctls ?? {})) {
    const ok = k.startsWith('net.') ? sandbox.netnsPath !== undefined : k.startsWith('kernel.') || k.startsWith('fs.mqueue.') ? sandbox.ipcPath !== undefined : false;
    if (ok) (sysctl ??= {})[k] = v;
  }

  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: config.tty === true,
      user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids.length ? { additionalGids: input.user.additionalGids } : {}) },
      args,
      env: processEnv(config, image, sandbox.hostname),
      cwd: config.workingDir || image.workingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: sc.noNewPrivs === true,
    },
    root: { path: input.rootfs, readonly: sc.readonlyRootfs === true },
    mounts,
    annotations: {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': config.metadata.name,
      'io.kubernetes.cri.sandbox-id': input.sandboxId,
    },
    linux: { cgroupsPath, namespaces, resources },
  };
  if (privileged && input.hostDevices?.length) spec.linux.devices = input.hostDevices;
  if (!privileged) {
    spec.linux.maskedPaths = [...MASKED_PATHS];
    spec.linux.readonlyPaths = [...READONLY_PATHS];
    if (sc.seccomp?.type === 'RuntimeDefault') spec.linux.seccomp = runtimeDefaultSeccomp(caps);
    else if (sc.seccomp?.type === 'Localhost') throw new Error(`seccomp profile ${JSON.stringify(sc.seccomp.localhostProfile ?? '')}: Localhost seccomp profiles are not supported by this runtime`);
  }
  if (sysctl) spec.linux.sysctl = sysctl;
  if (rootfsPropagation) spec.linux.rootfsPropagation = rootfsPropagation;
  return spec;
}

/** A process spec for `runc exec --process`: the container's own process with other args (and terminal). */
export function execProcess(base: OciProcess, cmd: string[], tty: boolean): OciProcess {
  return { ...base, args: cmd, terminal: tty };
}
