// The runc runtime: RuntimeService over runc with conmon as each container's monitor (exit files, CRI logs) and CNI
// for pod networks. A sandbox is pinned namespaces (no holder process) plus managed /etc files and a /dev/shm tmpfs.
// All state lives in files under `root`, and conmon outlives the Node process, so a restarted runtime re-discovers
// (adopts) every sandbox and container; nothing is kept only in memory except caches.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { open as openFile, readFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import {
  RuntimeError,
  type Container,
  type ContainerConfig,
  type ContainerFilter,
  type ContainerState,
  type ContainerStats,
  type ContainerStatus,
  type ImageService,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type Runtime,
  type RuntimeService,
  type RuntimeVersion,
  type SandboxState,
  type StreamIO,
} from '../interface.js';
import { ensureBridge } from '../cni/bridge.js';
import { bridgeConflist, Cni, podIps, type CniResult, type HostPortMapping, type NetConfList } from '../cni/cni.js';
import { check, run, signalNumber, startDetached } from '../command.js';
import { dialInNetns, pinNamespaces, releaseNamespaces } from '../netns.js';
import { processCgroupDirs, readUsage, relativeCgroupDirs, removeCgroupDirs, swapAccounting, type CgroupDir } from './cgroups.js';
import { hostsFile, resolvConf } from './etcfiles.js';
import { ALL_CAPABILITIES, buildSpec, execProcess, resolveUser, type OciDevice, type OciSpec } from './spec.js';

export interface RuncRuntimeOptions {
  /** State directory (`<data-dir>/runtime`). */
  root: string;
  images: ImageService;
  /** The node's pod CIDR; may come later through updateRuntimeConfig. */
  podCidr?: string;
  /** The node's own network namespace (a test host); CNI plugins and hostNetwork pods use it instead of the root one. */
  hostNetns?: string;
  cniBinDirs?: string[];
  bridge?: string;
  /** Masquerade pod egress (bridge plugin ipMasq). Default true. */
  ipMasq?: boolean;
  /** Size of each sandbox's /dev/shm tmpfs. Default 64 MiB. */
  shmSizeBytes?: number;
  runcPath?: string;
  conmonPath?: string;
}

interface SandboxRecord {
  id: string;
  config: PodSandboxConfig;
  createdAt: number;
  state: SandboxState;
  /** Pinned namespace files owned by the sandbox. */
  ns: { net?: string; ipc?: string; uts?: string };
  /** The netns its containers join (pinned, or the node's for hostNetwork), undefined = the runtime's own. */
  netnsPath?: string;
  shm?: string;
  ip: string;
  additionalIps: string[];
  cniResult?: CniResult;
  /** The pod network config ADD ran with; DEL uses it even if the node's config changed or is not known yet. */
  cniConfig?: NetConfList;
  cgroupDirs: string[];
  hostsPath: string;
  hostnamePath: string;
  resolvConfPath?: string;
}

interface ContainerRecord {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  image: string;
  createdAt: number;
  logPath: string;
  rootfs: string;
  pid?: number;
  /** /proc/<pid>/stat starttime, to tell our process from a recycled pid. */
  pidStart?: string;
  cgroups?: CgroupDir[];
  startedAt?: number;
  startError?: string;
}

const newId = (): string => randomBytes(16).toString('hex');

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function findBinary(name: string, explicit?: string): string {
  if (explicit) return explicit;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return name;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function hostDevices(): OciDevice[] {
  const out: OciDevice[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/fd'].includes(p)) continue;
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const rdev = st.rdev;
        out.push({
          path: p,
          type: st.isCharacterDevice() ? 'c' : 'b',
          major: (rdev >> 8) & 0xfff,
          minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
          fileMode: st.mode & 0o777,
          uid: st.uid,
          gid: st.gid,
        });
      }
    }
  };
  walk('/dev');
  return out;
}

function duBytes(path: string): number {
  let total = 0;
  const walk = (p: string): void => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    total += st.size;
    if (st.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(p);
      } catch {
        return;
      }
      for (const n of names) walk(join(p, n));
    }
  };
  walk(path);
  return total;
}

/** The upper (writable) dir of an overlay mounted at `mountpoint`, or undefined when it is no overlay. */
function overlayUpper(mountpoint: string): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post || pre.split(' ')[4] !== mountpoint) continue;
    const [fstype, , opts = ''] = post.split(' ');
    if (fstype !== 'overlay') return undefined;
    return opts.split(',').find((o) => o.startsWith('upperdir='))?.slice('upperdir='.length);
  }
  return undefined;
}

export class RuncRuntime implements RuntimeService {
  readonly root: string;
  private readonly images: ImageService;
  private readonly runc: string;
  private readonly conmon: string;
  private readonly cni: Cni;
  private readonly opts: RuncRuntimeOptions;
  private podCidr: string | undefined;
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly exitWaiters = new Map<string, Set<() => void>>();
  private exitWatcher: FSWatcher | undefined;
  private fallbackTimer: NodeJS.Timeout | undefined;
  private readonly lastCpu = new Map<string, { t: number; cpu: number }>();
  private readonly swap = swapAccounting();
  private readonly allCaps: readonly string[];

  private constructor(opts: RuncRuntimeOptions) {
    this.opts = opts;
    this.root = opts.root;
    this.images = opts.images;
    this.podCidr = opts.podCidr;
    this.runc = findBinary('runc', opts.runcPath);
    this.conmon = findBinary('conmon', opts.conmonPath);
    this.cni = new Cni({ binDirs: opts.cniBinDirs, hostNetns: opts.hostNetns });
    // "All capabilities" for privileged containers = what this process holds (as containerd's cap.Current()):
    // root here lacks some (no CAP_SYS_RESOURCE, environment.md quirk 2), and runc cannot grant more.
    let eff = (1n << BigInt(ALL_CAPABILITIES.length)) - 1n;
    try {
      const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
      if (hex) eff = BigInt(`0x${hex}`);
    } catch {
      // keep the table
    }
    this.allCaps = ALL_CAPABILITIES.filter((_c, i) => (eff >> BigInt(i)) & 1n);
  }

  /** Opens (or creates) the state under opts.root and adopts what is there. */
  static async open(opts: RuncRuntimeOptions): Promise<RuncRuntime> {
    const rt = new RuncRuntime(opts);
    for (const d of ['runc', 'sandboxes', 'containers', 'exits', 'sock', 'cni']) mkdirSync(join(rt.root, d), { recursive: true });
    for (const id of readdirSync(join(rt.root, 'sandboxes'))) {
      const rec = readJson<SandboxRecord>(join(rt.root, 'sandboxes', id, 'sandbox.json'));
      if (rec) rt.sandboxes.set(id, rec);
    }
    for (const id of readdirSync(join(rt.root, 'containers'))) {
      const rec = readJson<ContainerRecord>(join(rt.root, 'containers', id, 'container.json'));
      if (rec) rt.containers.set(id, rec);
    }
    rt.exitWatcher = watch(join(rt.root, 'exits'), (_event, name) => {
      if (name) rt.notifyExit(name.toString());
    });
    rt.exitWatcher.unref();
    return rt;
  }

  /** Stops watching; containers and their monitors keep running. */
  async close(): Promise<void> {
    this.exitWatcher?.close();
    this.exitWatcher = undefined;
    if (this.fallbackTimer) clearInterval(this.fallbackTimer);
    this.fallbackTimer = undefined;
    for (const set of this.exitWaiters.values()) for (const w of set) w();
  }

  async version(): Promise<RuntimeVersion> {
    const out = await check(this.runc, ['--version']);
    const v = /runc version (\S+)/.exec(out)?.[1] ?? 'unknown';
    return { runtimeName: 'runc', runtimeVersion: v, runtimeApiVersion: 'v1' };
  }

  async updateRuntimeConfig(config: { podCidr: string }): Promise<void> {
    this.podCidr = config.podCidr;
    // The bridge and its gateway before any pod (cni/bridge.ts): what the node serves pods there (cluster DNS) is up
    // for the first pod too, not only once its CNI ADD has made the bridge.
    await ensureBridge({ bridge: this.opts.bridge ?? 'cni0', podCidr: config.podCidr, netns: this.opts.hostNetns });
  }

  // ---- paths and records ------------------------------------------------------------------------------------------

  private sandboxDir(id: string): string {
    return join(this.root, 'sandboxes', id);
  }

  private containerDir(id: string): string {
    return join(this.root, 'containers', id);
  }

  private saveSandbox(rec: SandboxRecord): void {
    writeJsonAtomic(join(this.sandboxDir(rec.id), 'sandbox.json'), rec);
  }

  private saveContainer(rec: ContainerRecord): void {
    writeJsonAtomic(join(this.containerDir(rec.id), 'container.json'), rec);
  }

  private sandbox(id: string): SandboxRecord {
    const rec = this.sandboxes.get(id);
    if (!rec) throw new RuntimeError(`pod sandbox ${id} not found`, 'NotFound');
    return rec;
  }

  private container(id: string): ContainerRecord {
    const rec = this.containers.get(id);
    if (!rec) throw new RuntimeError(`container ${id} not found`, 'NotFound');
    return rec;
  }

  private podNetwork(hostPorts: boolean): NetConfList {
    if (!this.podCidr) throw new RuntimeError('no pod CIDR configured for the node (updateRuntimeConfig)', 'FailedPrecondition');
    return bridgeConflist({
      podCidr: this.podCidr,
      ipamDataDir: join(this.root, 'cni', 'networks'),
      bridge: this.opts.bridge,
      ipMasq: this.opts.ipMasq,
      portMap: hostPorts,
    });
  }

  // ---- sandboxes --------------------------------------------------------------------------------------------------

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = newId();
    const dir = this.sandboxDir(id);
    mkdirSync(dir, { recursive: true });
    const own = !config.hostNetwork;
    const rec: SandboxRecord = {
      id,
      config,
      createdAt: Date.now(),
      state: 'SANDBOX_NOTREADY',
      ns: {
        net: own ? join(dir, 'net') : undefined,
        ipc: config.hostIPC ? undefined : join(dir, 'ipc'),
        uts: own ? join(dir, 'uts') : undefined,
      },
      ip: '',
      additionalIps: [],
      cgroupDirs: relativeCgroupDirs(config.cgroupParent.replace(/^\/+/, '')).map((d) => d.dir),
      hostsPath: join(dir, 'hosts'),
      hostnamePath: join(dir, 'hostname'),
    };
    rec.netnsPath = own ? rec.ns.net : this.opts.hostNetns;
    this.sandboxes.set(id, rec);
    this.saveSandbox(rec);
    try {
      if (!config.hostIPC) {
        rec.shm = join(dir, 'shm');
        mkdirSync(rec.shm, { recursive: true });
      }
      // Namespaces, hostname, lo up and the shm tmpfs in one program (netns.ts).
      await pinNamespaces(rec.ns, { hostname: config.hostname, loopbackUp: own, ...(rec.shm ? { shm: { path: rec.shm, sizeBytes: this.opts.shmSizeBytes ?? 64 * 1024 * 1024 } } : {}) });
      writeFileSync(rec.hostnamePath, `${config.hostname}\n`);
      if (config.dnsConfig) {
        rec.resolvConfPath = join(dir, 'resolv.conf');
        writeFileSync(rec.resolvConfPath, resolvConf(config.dnsConfig));
      } else if (existsSync('/etc/resolv.conf')) {
        rec.resolvConfPath = join(dir, 'resolv.conf');
        copyFileSync('/etc/resolv.conf', rec.resolvConfPath);
      }
      if (own) {
        const att = this.attachment(rec);
        // portmap only for a pod with hostPorts (those attachment() passes on): a plugin run fewer for every other pod
        // (DEL uses the saved list).
        rec.cniConfig = this.podNetwork('portMappings' in att.capabilityArgs);
        this.saveSandbox(rec);
        rec.cniResult = await this.cni.add(rec.cniConfig, att);
        const ips = podIps(rec.cniResult);
        rec.ip = ips[0] ?? '';
        rec.additionalIps = ips.slice(1);
        writeFileSync(rec.hostsPath, hostsFile(rec.ip, config.hostname, config.hostAliases, config.hostDomain));
      } else if (existsSync('/etc/hosts')) {
        // hostNetwork: the node's own hosts file, plus the pod's hostAliases.
        const aliases = (config.hostAliases ?? []).map((a) => `${a.ip}\t${a.hostnames.join('\t')}\n`).join('');
        writeFileSync(rec.hostsPath, readFileSync('/etc/hosts', 'utf8') + (aliases ? `\n# Entries added by HostAliases.\n${aliases}` : ''));
      }
      rec.state = 'SANDBOX_READY';
      this.saveSandbox(rec);
      return id;
    } catch (err) {
      // Undo what was done; the error to report is the original one.
      await this.teardownSandbox(rec, true).catch(() => {});
      this.sandboxes.delete(id);
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // a mount that would not go: left for removal by hand, named in the error below
        throw new RuntimeError(`${(err as Error).message} (and ${dir} could not be cleaned up)`);
      }
      throw err;
    }
  }

  private attachment(rec: SandboxRecord): { containerId: string; netns: string; ifName: string; args: Record<string, string>; capabilityArgs: Record<string, unknown> } {
    const m = rec.config.metadata;
    const portMappings: HostPortMapping[] = rec.config.portMappings
      .filter((p) => p.hostPort !== undefined && p.hostPort > 0)
      .map((p) => ({
        hostPort: p.hostPort!,
        containerPort: p.containerPort,
        protocol: p.protocol.toLowerCase() as HostPortMapping['protocol'],
        ...(p.hostIp ? { hostIP: p.hostIp } : {}),
      }));
    return {
      containerId: rec.id,
      netns: rec.ns.net!,
      ifName: 'eth0',
      args: { K8S_POD_NAMESPACE: m.namespace, K8S_POD_NAME: m.name, K8S_POD_INFRA_CONTAINER_ID: rec.id, K8S_POD_UID: m.uid },
      capabilityArgs: portMappings.length > 0 ? { portMappings } : {},
    };
  }

  /**
   * Network down, namespaces and shm released; every step tolerates what is already gone. A failed CNI DEL keeps
   * the netns so that a retried stop can finish it (leases, portmap rules); `force` (cleanup of a sandbox that never
   * came up) goes on regardless.
   */
  private async teardownSandbox(rec: SandboxRecord, force = false): Promise<void> {
    if (rec.ns.net && existsSync(rec.ns.net)) {
      const att = this.attachment(rec);
      try {
        if (rec.cniConfig) await this.cni.del(rec.cniConfig, att, rec.cniResult);
      } catch (err) {
        if (!force) throw err;
      }
      rec.cniResult = undefined;
    }
    await releaseNamespaces(rec.ns);
    if (rec.shm && existsSync(rec.shm)) {
      const r = await run('umount', [rec.shm]);
      if (r.code !== 0 && !/not mounted/.test(r.stderr)) throw new Error(`umount ${rec.shm}: ${r.stderr.trim()}`);
    }
  }

  async stopPodSandbox(id: string): Promise<void> {
    const rec = this.sandboxes.get(id);
    if (!rec) return;
    const ctrs = [...this.containers.values()].filter((c) => c.sandboxId === id);
    await Promise.all(ctrs.map((c) => this.stopContainer(c.id, 0)));
    await this.teardownSandbox(rec);
    rec.state = 'SANDBOX_NOTREADY';
    this.saveSandbox(rec);
  }

  async removePodSandbox(id: string): Promise<void> {
    const rec = this.sandboxes.get(id);
    if (!rec) return;
    await this.stopPodSandbox(id);
    for (const c of [...this.containers.values()]) if (c.sandboxId === id) await this.removeContainer(c.id);
    removeCgroupDirs(rec.cgroupDirs);
    this.sandboxes.delete(id);
    rmSync(this.sandboxDir(id), { recursive: true, force: true });
  }

  private sandboxView(rec: SandboxRecord): PodSandbox {
    return {
      id: rec.id,
      metadata: rec.config.metadata,
      state: rec.state,
      createdAt: rec.createdAt,
      labels: rec.config.labels,
      annotations: rec.config.annotations,
    };
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const rec = this.sandbox(id);
    return {
      ...this.sandboxView(rec),
      network: { ip: rec.ip, additionalIps: rec.additionalIps },
      ...(rec.netnsPath ? { netnsPath: rec.netnsPath } : {}),
    };
  }

  async listPodSandboxes(filter: { state?: SandboxState; labelSelector?: Record<string, string> } = {}): Promise<PodSandbox[]> {
    return [...this.sandboxes.values()]
      .filter((s) => !filter.state || s.state === filter.state)
      .filter((s) => Object.entries(filter.labelSelector ?? {}).every(([k, v]) => s.config.labels[k] === v))
      .map((s) => this.sandboxView(s));
  }

  // ---- containers -------------------------------------------------------------------------------------------------

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const sb = this.sandbox(podSandboxId);
    if (sb.state !== 'SANDBOX_READY') throw new RuntimeError(`pod sandbox ${podSandboxId} is not ready`, 'FailedPrecondition');
    const image = await this.images.imageStatus(config.image);
    if (!image) throw new RuntimeError(`image ${config.image} not found`, 'NotFound');
    const id = newId();
    const dir = this.containerDir(id);
    mkdirSync(join(dir, 'persist'), { recursive: true });
    let rootfs: string | undefined;
    try {
      rootfs = await this.images.mountRootfs(image.id, id);
      const etc = (f: string): string | undefined => {
        try {
          return readFileSync(join(rootfs!, 'etc', f), 'utf8');
        } catch {
          return undefined;
        }
      };
      const user = resolveUser(config.linux.securityContext, image.config.user, etc('passwd'), etc('group'));
      const spec: OciSpec = buildSpec({
        containerId: id,
        sandboxId: podSandboxId,
        config,
        sandbox: {
          netnsPath: sb.netnsPath,
          ipcPath: sb.ns.ipc,
          utsPath: sb.ns.uts,
          hostPID: sb.config.hostPID,
          cgroupParent: sb.config.cgroupParent,
          sysctls: sb.config.sysctls,
          hostsPath: sb.hostsPath,
          hostnamePath: sb.hostnamePath,
          resolvConfPath: sb.resolvConfPath,
          shmPath: sb.shm,
          hostname: sb.config.hostname,
        },
        rootfs,
        image: image.config,
        user,
        allCapabilities: this.allCaps,
        hostDevices: config.linux.securityContext.privileged ? hostDevices() : undefined,
        swapAccounting: this.swap,
      });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
      const logPath = join(sandboxConfig.logDirectory || sb.config.logDirectory, config.logPath);
      mkdirSync(dirname(logPath), { recursive: true });
      const rec: ContainerRecord = {
        id,
        sandboxId: podSandboxId,
        config,
        image: image.id,
        createdAt: Date.now(),
        logPath,
        rootfs,
      };
      this.containers.set(id, rec);
      this.saveContainer(rec);
      const pid = await this.conmonCreate(rec);
      rec.pid = pid;
      rec.pidStart = procStart(pid);
      rec.cgroups = processCgroupDirs(pid);
      this.saveContainer(rec);
      return id;
    } catch (err) {
      this.containers.delete(id);
      await run(this.runc, ['--root', join(this.root, 'runc'), 'delete', '--force', id]);
      // Best effort: the create error is the one to report; removeContainer-style cleanup cannot run on a half record.
      await this.images.removeRootfs(id).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      rmSync(join(this.root, 'sock', id), { force: true });
      throw err;
    }
  }

  /** Starts conmon, which runs `runc create`; resolves with the container's init pid from conmon's sync pipe. */
  private async conmonCreate(rec: ContainerRecord): Promise<number> {
    const dir = this.containerDir(rec.id);
    const args = [
      '--api-version', '1',
      '-c', rec.id,
      '-u', rec.id,
      '-n', rec.config.metadata.name,
      '-r', this.runc,
      '-b', dir,
      '-p', join(dir, 'pidfile'),
      '-P', join(dir, 'conmon.pid'),
      '-l', `k8s-file:${rec.logPath}`,
      '--exit-dir', join(this.root, 'exits'),
      '--socket-dir-path', join(this.root, 'sock'),
      '-0', join(dir, 'persist'),
      '--runtime-arg', `--root=${join(this.root, 'runc')}`,
    ];
    if (rec.config.tty) args.push('-t');
    if (rec.config.stdin) args.push('-i');
    // stdinOnce: the container's stdin closes when the first attached client goes; otherwise it stays open.
    if (rec.config.stdin && !rec.config.stdinOnce) args.push('--leave-stdin-open');
    // conmon double-forks and must outlive us: own session, stderr to a file, the sync pipe closed once read.
    // It drops its `oom` marker in its working directory: the container's, where stateOf looks for it.
    const r = await startDetached(this.conmon, args, { env: { ...process.env, _OCI_SYNCPIPE: '3' }, cwd: dir, stderrPath: join(dir, 'conmon.log') });
    if (!r.eof) {
      const msg = JSON.parse(r.sync) as { data: number; message?: string };
      if (msg.data > 0) return msg.data;
      throw new RuntimeError(`create container: ${msg.message ?? 'runc create failed'}`);
    }
    let log = '';
    try {
      log = readFileSync(join(dir, 'conmon.log'), 'utf8').trim();
    } catch {
      // none
    }
    throw new RuntimeError(`create container: conmon exited without a pid${log ? `: ${log}` : ''}`);
  }

  async startContainer(id: string): Promise<void> {
    const rec = this.container(id);
    const st = await this.containerStatus(id);
    if (st.state !== 'CONTAINER_CREATED') throw new RuntimeError(`container ${id} is ${st.state}, not created`, 'FailedPrecondition');
    const r = await run(this.runc, ['--root', join(this.root, 'runc'), 'start', id]);
    if (r.code !== 0) {
      rec.startError = r.stderr.trim() || `runc start: exit ${r.code}`;
      this.saveContainer(rec);
      await run(this.runc, ['--root', join(this.root, 'runc'), 'kill', id, 'KILL']);
      throw new RuntimeError(`start container ${id}: ${rec.startError}`);
    }
    rec.startedAt = Date.now();
    this.saveContainer(rec);
  }

  private exitInfo(id: string): { code: number; at: number } | undefined {
    const p = join(this.root, 'exits', id);
    try {
      const text = readFileSync(p, 'utf8').trim();
      if (text === '') return undefined;
      return { code: Number(text), at: statSync(p).mtimeMs };
    } catch {
      return undefined;
    }
  }

  private alive(pid: number | undefined, start: string | undefined): boolean {
    return pid !== undefined && start !== undefined && procStart(pid) === start;
  }

  private conmonAlive(id: string): boolean {
    const pid = Number(readFileSync(join(this.containerDir(id), 'conmon.pid'), 'utf8').trim() || 'NaN');
    if (!Number.isInteger(pid)) return false;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.includes('(conmon)') && !/\) Z /.test(stat);
    } catch {
      return false;
    }
  }

  private stateOf(rec: ContainerRecord): Pick<ContainerStatus, 'state' | 'exitCode' | 'finishedAt' | 'reason' | 'message'> {
    const exit = this.exitInfo(rec.id);
    if (exit) {
      const dir = this.containerDir(rec.id);
      const oom =
        exit.code === 137 &&
        (existsSync(join(dir, 'persist', 'oom')) || existsSync(join(dir, 'oom')) || (rec.cgroups !== undefined && readUsage(rec.cgroups).oomKills > 0));
      return {
        state: 'CONTAINER_EXITED',
        exitCode: exit.code,
        finishedAt: exit.at,
        reason: oom ? 'OOMKilled' : exit.code === 0 ? 'Completed' : 'Error',
      };
    }
    if (rec.startError) {
      return { state: 'CONTAINER_EXITED', exitCode: 128, finishedAt: rec.createdAt, reason: 'ContainerCannotRun', message: rec.startError };
    }
    if (this.alive(rec.pid, rec.pidStart)) return { state: rec.startedAt ? 'CONTAINER_RUNNING' : 'CONTAINER_CREATED' };
    let monitor = false;
    try {
      monitor = this.conmonAlive(rec.id);
    } catch {
      monitor = false;
    }
    // The process is gone; conmon writes the exit file right after it reaps it.
    if (monitor) return { state: rec.startedAt ? 'CONTAINER_RUNNING' : 'CONTAINER_CREATED' };
    return {
      state: 'CONTAINER_EXITED',
      exitCode: 255,
      finishedAt: Date.now(),
      reason: 'Error',
      message: 'container monitor (conmon) is gone without an exit status',
    };
  }

  private containerView(rec: ContainerRecord, state: ContainerState): Container {
    return {
      id: rec.id,
      podSandboxId: rec.sandboxId,
      metadata: rec.config.metadata,
      image: rec.image,
      state,
      createdAt: rec.createdAt,
      labels: rec.config.labels,
      annotations: rec.config.annotations,
    };
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const rec = this.container(id);
    const s = this.stateOf(rec);
    return {
      ...this.containerView(rec, s.state),
      ...(rec.startedAt ? { startedAt: rec.startedAt } : {}),
      ...(s.finishedAt !== undefined ? { finishedAt: s.finishedAt } : {}),
      ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
      ...(s.reason ? { reason: s.reason } : {}),
      ...(s.message ? { message: s.message } : {}),
      logPath: rec.logPath,
    };
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const out: Container[] = [];
    for (const rec of this.containers.values()) {
      if (filter.podSandboxId && rec.sandboxId !== filter.podSandboxId) continue;
      if (!Object.entries(filter.labelSelector ?? {}).every(([k, v]) => rec.config.labels[k] === v)) continue;
      const { state } = this.stateOf(rec);
      if (filter.state && state !== filter.state) continue;
      out.push(this.containerView(rec, state));
    }
    return out;
  }

  private notifyExit(id: string): void {
    const set = this.exitWaiters.get(id);
    if (!set) return;
    this.exitWaiters.delete(id);
    for (const w of set) w();
  }

  /** Resolves at the next exit notification for id (or after ms); the caller re-reads the status. */
  private nextExitEvent(id: string, ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.exitWaiters.get(id);
      if (!set) this.exitWaiters.set(id, (set = new Set()));
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        set!.delete(done);
        resolve();
      };
      set.add(done);
      if (ms !== undefined) timer = setTimeout(done, ms);
      // Safety net for a monitor that dies without writing its exit file (the watch never fires then).
      this.fallbackTimer ??= setInterval(() => {
        if (this.exitWaiters.size === 0) {
          clearInterval(this.fallbackTimer);
          this.fallbackTimer = undefined;
          return;
        }
        for (const wid of [...this.exitWaiters.keys()]) {
          const rec = this.containers.get(wid);
          if (!rec || this.stateOf(rec).state === 'CONTAINER_EXITED') this.notifyExit(wid);
        }
      }, 1000);
    });
  }

  /** Waits until the container has exited or `ms` passed; true when it exited. */
  private async waitExited(id: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      const rec = this.containers.get(id);
      if (!rec || this.stateOf(rec).state === 'CONTAINER_EXITED') return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.nextExitEvent(id, left);
    }
  }

  async waitContainer(id: string): Promise<ContainerStatus> {
    for (;;) {
      const st = await this.containerStatus(id);
      if (st.state === 'CONTAINER_EXITED') return st;
      if (!this.exitWatcher) throw new RuntimeError('runtime closed', 'FailedPrecondition');
      await this.nextExitEvent(id);
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const rec = this.container(id);
    const { state } = this.stateOf(rec);
    if (state === 'CONTAINER_EXITED') return;
    const runcRoot = join(this.root, 'runc');
    if (state === 'CONTAINER_RUNNING' && timeoutSeconds > 0) {
      const sig = rec.config.stopSignal ?? 'SIGTERM';
      await run(this.runc, ['--root', runcRoot, 'kill', id, String(signalNumber(sig))]);
      if (await this.waitExited(id, timeoutSeconds * 1000)) return;
    }
    await run(this.runc, ['--root', runcRoot, 'kill', id, 'KILL']);
    if (rec.pid !== undefined && this.alive(rec.pid, rec.pidStart)) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (!(await this.waitExited(id, 10_000))) throw new RuntimeError(`container ${id} did not exit after SIGKILL`, 'DeadlineExceeded');
  }

  async removeContainer(id: string): Promise<void> {
    const rec = this.containers.get(id);
    if (!rec) return;
    if (this.stateOf(rec).state !== 'CONTAINER_EXITED') await this.stopContainer(id, 0);
    const r = await run(this.runc, ['--root', join(this.root, 'runc'), 'delete', '--force', id]);
    if (r.code !== 0 && !/does not exist/.test(r.stderr)) throw new RuntimeError(`runc delete ${id}: ${r.stderr.trim()}`);
    await this.images.removeRootfs(id);
    this.containers.delete(id);
    this.lastCpu.delete(id);
    rmSync(join(this.root, 'exits', id), { force: true });
    rmSync(join(this.root, 'sock', id), { force: true });
    rmSync(this.containerDir(id), { recursive: true, force: true });
  }

  // ---- streams ----------------------------------------------------------------------------------------------------

  async exec(id: string, cmd: string[], io: StreamIO, timeoutSeconds?: number): Promise<number> {
    const rec = this.container(id);
    if (this.stateOf(rec).state !== 'CONTAINER_RUNNING') throw new RuntimeError(`container ${id} is not running`, 'FailedPrecondition');
    const dir = this.containerDir(id);
    const spec = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as OciSpec;
    const tag = randomBytes(6).toString('hex');
    const procPath = join(dir, `exec-${tag}.json`);
    const pidPath = join(dir, `exec-${tag}.pid`);
    writeFileSync(procPath, JSON.stringify(execProcess(spec.process, cmd, io.tty)));
    const runcArgs = ['--root', join(this.root, 'runc'), 'exec', '--process', procPath, '--pid-file', pidPath, id];
    // runc's foreground TTY mode needs a terminal of its own to relay: `script` gives it one, made raw before runc
    // starts so that it passes bytes through untouched (no second echo, no ^D/NUL on our EOF).
    const [c, a] = io.tty
      ? ['script', ['-q', '-e', '-c', `stty raw -echo; exec ${[this.runc, ...runcArgs].map(quote).join(' ')}`, '/dev/null']]
      : [this.runc, runcArgs];
    const child = spawn(c, a, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SHELL: '/bin/sh' } });
    const execPid = (): number | undefined => {
      try {
        const n = Number(readFileSync(pidPath, 'utf8').trim());
        return Number.isInteger(n) && n > 0 ? n : undefined;
      } catch {
        return undefined;
      }
    };
    let exited = false;
    if (io.tty && io.onResize) {
      // The size goes straight to the exec'd process's terminal. A resize that arrives before runc has written the
      // pid file (the first one usually does) is retried briefly until it has.
      const apply = (width: number, height: number, tries: number): void => {
        if (exited) return;
        const pid = execPid();
        if (pid) void run('stty', ['-F', `/proc/${pid}/fd/0`, 'rows', String(height), 'cols', String(width)]);
        else if (tries > 0) setTimeout(() => apply(width, height, tries - 1), 20);
      };
      io.onResize(({ width, height }) => apply(width, height, 250));
    }
    child.stdin.on('error', () => {});
    let pidWatch: FSWatcher | undefined;
    if (io.stdin && io.tty) {
      // Input waits until the process runs: bytes reaching script's terminal before it is raw would be echoed
      // (and line-edited) by it on top of the container's own terminal.
      const input = io.stdin;
      let piping = false;
      const startInput = (): void => {
        if (piping || exited || execPid() === undefined) return;
        piping = true;
        pidWatch?.close();
        input.pipe(child.stdin);
      };
      pidWatch = watch(dir, (_e, name) => {
        if (name?.toString() === `exec-${tag}.pid`) startInput();
      });
      startInput();
    } else if (io.stdin) io.stdin.pipe(child.stdin);
    else if (!io.tty) child.stdin.end(); // with a TTY an EOF would reach the process as a NUL/^D: keep it open
    const errOut: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => io.stdout?.write(d));
    child.stderr.on('data', (d: Buffer) => {
      if (io.stderr) io.stderr.write(d);
      else errOut.push(d);
    });
    let timedOut = false;
    const timer =
      timeoutSeconds && timeoutSeconds > 0
        ? setTimeout(() => {
            timedOut = true;
            const pid = execPid();
            if (pid) {
              try {
                process.kill(pid, 'SIGKILL');
              } catch {
                // gone
              }
            }
            child.kill('SIGKILL');
          }, timeoutSeconds * 1000)
        : undefined;
    try {
      const code = await new Promise<number>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
      });
      if (timedOut) throw new RuntimeError(`exec in ${id} timed out after ${timeoutSeconds}s`, 'DeadlineExceeded');
      return code;
    } finally {
      exited = true;
      pidWatch?.close();
      if (timer) clearTimeout(timer);
      if (io.stdin) io.stdin.unpipe(child.stdin);
      child.stdin.destroy();
      rmSync(procPath, { force: true });
      rmSync(pidPath, { force: true });
    }
  }

  /**
   * Streams the container's output (from its CRI log, from now on) until it exits or the client goes. Input goes
   * through conmon's attach socket, which is SOCK_SEQPACKET (Node cannot open one): `socat` relays it, and what
   * conmon sends back on it is dropped (the log is the output). A TTY's size changes go to conmon's ctl FIFO.
   */
  async attach(id: string, io: StreamIO): Promise<void> {
    const rec = this.container(id);
    let relay: ReturnType<typeof spawn> | undefined;
    if (io.stdin && rec.config.stdin) {
      const sock = join(this.root, 'sock', id, 'attach');
      relay = spawn('socat', ['-', `UNIX-CONNECT:${sock},type=5`], { stdio: ['pipe', 'ignore', 'pipe'] });
      const failed = new Promise<never>((_res, rej) => relay!.on('error', (e) => rej(new RuntimeError(`attach stdin to ${id}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'socat is not installed' : e.message}`, 'FailedPrecondition'))));
      failed.catch(() => undefined);
      relay.stdin!.on('error', () => {});
      io.stdin.pipe(relay.stdin!);
      await Promise.race([failed, new Promise((r) => relay!.once('spawn', r))]);
    }
    if (io.tty && io.onResize) io.onResize(({ width, height }) => this.ctl(id, `1 ${height} ${width}\n`));
    const fh = await openFile(rec.logPath, 'r');
    let pos = (await fh.stat()).size;
    let partial = '';
    const pump = async (): Promise<void> => {
      for (;;) {
        const buf = Buffer.alloc(64 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) return;
        pos += bytesRead;
        partial += buf.subarray(0, bytesRead).toString();
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          const m = /^\S+ (stdout|stderr) ([PF]) (.*)$/.exec(line);
          if (!m) continue;
          const text = m[3]! + (m[2] === 'F' ? '\n' : '');
          (m[1] === 'stderr' ? (io.stderr ?? io.stdout) : io.stdout)?.write(text);
        }
      }
    };
    const w = watch(rec.logPath, () => void pump());
    try {
      await pump();
      const gone = new Promise<void>((r) => (io.signal?.aborted ? r() : io.signal?.addEventListener('abort', () => r(), { once: true })));
      await Promise.race([this.waitContainer(id), gone]);
      await pump();
    } finally {
      w.close();
      await fh.close();
      if (relay) {
        io.stdin?.unpipe(relay.stdin!);
        relay.kill();
      }
    }
  }

  /** One message to the container's conmon (`<type> <height> <width>`: 1 resize, 2 reopen the log); best effort. */
  private ctl(id: string, msg: string): void {
    let fd: number;
    try {
      fd = openSync(join(this.containerDir(id), 'ctl'), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    } catch {
      return;
    }
    try {
      writeFileSync(fd, msg);
    } catch {
      // conmon gone
    } finally {
      closeSync(fd);
    }
  }

  async portForward(podSandboxId: string, port: number): Promise<Duplex> {
    const sb = this.sandbox(podSandboxId);
    if (sb.state !== 'SANDBOX_READY') throw new RuntimeError(`pod sandbox ${podSandboxId} is not ready`, 'FailedPrecondition');
    return dialInNetns(sb.netnsPath, '127.0.0.1', port);
  }

  async reopenContainerLog(id: string): Promise<void> {
    this.container(id);
    let fd: number;
    try {
      // Non-blocking: a FIFO without its reader (conmon gone) fails with ENXIO instead of hanging.
      fd = openSync(join(this.containerDir(id), 'ctl'), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    } catch (err) {
      throw new RuntimeError(`reopen log of ${id}: container monitor not reachable (${(err as Error).message})`, 'FailedPrecondition');
    }
    try {
      writeFileSync(fd, '2 0 0\n');
    } finally {
      closeSync(fd);
    }
  }

  // ---- stats ------------------------------------------------------------------------------------------------------

  async containerStats(id: string): Promise<ContainerStats> {
    const rec = this.container(id);
    const now = Date.now();
    const u = rec.cgroups ? readUsage(rec.cgroups) : { cpuNanos: 0, memoryUsage: 0, workingSet: 0, oomKills: 0 };
    const prev = this.lastCpu.get(id);
    this.lastCpu.set(id, { t: now, cpu: u.cpuNanos });
    const stats: ContainerStats = {
      containerId: id,
      timestamp: now,
      cpuUsageCoreNanoSeconds: u.cpuNanos,
      memoryWorkingSetBytes: u.workingSet,
      memoryUsageBytes: u.memoryUsage,
      writableLayerBytes: duBytes(overlayUpper(rec.rootfs) ?? rec.rootfs),
    };
    if (prev && now > prev.t && u.cpuNanos >= prev.cpu) {
      stats.cpuUsageNanoCores = Math.round(((u.cpuNanos - prev.cpu) / ((now - prev.t) * 1e6)) * 1e9);
    }
    return stats;
  }

  async listContainerStats(filter: ContainerFilter = {}): Promise<ContainerStats[]> {
    const list = await this.listContainers({ ...filter, state: filter.state ?? 'CONTAINER_RUNNING' });
    return Promise.all(list.map((c) => this.containerStats(c.id)));
  }
}

/** The default node runtime: runc + conmon + CNI with the given image service. */
export async function openRuncRuntime(opts: RuncRuntimeOptions): Promise<Runtime & { runtime: RuncRuntime }> {
  const runtime = await RuncRuntime.open(opts);
  return {
    runtime,
    images: opts.images,
    close: () => runtime.close(),
  };
}
