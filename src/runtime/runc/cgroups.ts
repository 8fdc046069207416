// Cgroup paths and readings for the runc runtime on hybrid v1 hosts (environment.md quirk 1): containers get relative
// cgroupsPaths, so their directories sit under the cgroup of whoever ran runc; these helpers find the real
// directories from /proc/<pid>/cgroup and the cgroup mounts, read usage (cpuacct, memory) and remove pod levels.
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { join, posix } from 'node:path';

export interface CgroupDir {
  /** `cpu`, `memory`, `name=systemd`, … ; empty for the v2 (unified) hierarchy. */
  controllers: string[];
  dir: string;
}

interface CgroupMount {
  controllers: string[];
  mountpoint: string;
  root: string;
  v2: boolean;
}

let mountsCache: CgroupMount[] | undefined;

function cgroupMounts(): CgroupMount[] {
  if (mountsCache) return mountsCache;
  const out: CgroupMount[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const controllers =
      fstype === 'cgroup2'
        ? []
        : superOpts.split(',').filter((o) => !['rw', 'ro', 'relatime', 'noexec', 'nosuid', 'nodev', 'clone_children'].includes(o) && !o.startsWith('release_agent'));
    out.push({ controllers, mountpoint: f[4]!, root: f[3]!, v2: fstype === 'cgroup2' });
  }
  mountsCache = out;
  return out;
}

/** The absolute cgroup directories of a process, one per mounted hierarchy. */
export function processCgroupDirs(pid: number | 'self'): CgroupDir[] {
  const mounts = cgroupMounts();
  const out: CgroupDir[] = [];
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const ctrls = m[2] ? m[2].split(',') : [];
    const path = m[3]!;
    const mount = mounts.find((x) =>
      ctrls.length === 0 ? x.v2 : !x.v2 && x.controllers.length === ctrls.length && ctrls.every((c) => x.controllers.includes(c)),
    );
    if (!mount) continue;
    const rel = posix.relative(mount.root, path);
    if (rel.startsWith('..')) continue; // outside what is mounted here
    out.push({ controllers: ctrls, dir: join(mount.mountpoint, rel) });
  }
  return out;
}

/** Where a relative cgroup path lands for processes started by this one, in every hierarchy. */
export function relativeCgroupDirs(relative: string): CgroupDir[] {
  return processCgroupDirs('self').map((d) => ({ controllers: d.controllers, dir: join(d.dir, relative) }));
}

/** Removes (empty) cgroup directories, deepest first; missing ones are fine. Returns those that stayed. */
export function removeCgroupDirs(dirs: string[]): string[] {
  const left: string[] = [];
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
    }
  }
  return left;
}

const dirOf = (dirs: CgroupDir[], controller: string): string | undefined =>
  dirs.find((d) => d.controllers.includes(controller))?.dir;

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function readKeyed(path: string): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v !== undefined) out[k] = Number(v);
    }
  } catch {
    // gone
  }
  return out;
}

export interface CgroupUsage {
  cpuNanos: number;
  memoryUsage: number;
  /** usage − total_inactive_file, never below 0 (as cadvisor/upstream). */
  workingSet: number;
  oomKills: number;
}

/** Usage of a container's cgroups; zeros once they are gone. */
export function readUsage(dirs: CgroupDir[]): CgroupUsage {
  const cpuacct = dirOf(dirs, 'cpuacct');
  const memory = dirOf(dirs, 'memory');
  const cpuNanos = (cpuacct && readNumber(join(cpuacct, 'cpuacct.usage'))) || 0;
  let memoryUsage = 0;
  let workingSet = 0;
  let oomKills = 0;
  if (memory) {
    memoryUsage = readNumber(join(memory, 'memory.usage_in_bytes')) ?? 0;
    const stat = readKeyed(join(memory, 'memory.stat'));
    workingSet = Math.max(0, memoryUsage - (stat.total_inactive_file ?? 0));
    oomKills = readKeyed(join(memory, 'memory.oom_control')).oom_kill ?? 0;
  }
  return { cpuNanos, memoryUsage, workingSet, oomKills };
}

/** Whether the memory controller accounts swap (then a memory limit also caps swap, as containerd does). */
export function swapAccounting(): boolean {
  const m = cgroupMounts().find((x) => x.controllers.includes('memory'));
  return m !== undefined && existsSync(join(m.mountpoint, 'memory.memsw.limit_in_bytes'));
}
