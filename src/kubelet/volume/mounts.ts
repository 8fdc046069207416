// The host mounts the volume manager makes (tmpfs for memory-backed emptyDirs, secrets and projected volumes) and
// undoes, read back from /proc/self/mountinfo so a restarted kubelet finds what an earlier one mounted.

import { promises as fs } from 'node:fs';
import { check, run } from '../../runtime/command.js';

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points listed in a mountinfo text (field 5), unescaped, in mount order. */
export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map(unescapeMountPath);
}

/** Mount points at or under `dir` (deepest last in mount order). */
export async function mountPointsUnder(dir: string): Promise<string[]> {
  const all = parseMountPoints(await fs.readFile('/proc/self/mountinfo', 'utf8'));
  return all.filter((m) => m === dir || m.startsWith(`${dir}/`));
}

export async function isMountPoint(dir: string): Promise<boolean> {
  return (await mountPointsUnder(dir)).includes(dir);
}

/** Mounts a tmpfs on `dir` unless one is there already; `sizeBytes` caps it (the kernel's default otherwise). */
export async function ensureTmpfs(dir: string, sizeBytes?: number): Promise<void> {
  if (await isMountPoint(dir)) return;
  const opts = ['mode=0777'];
  if (sizeBytes !== undefined && sizeBytes > 0) opts.push(`size=${sizeBytes}`);
  await check('mount', ['-t', 'tmpfs', '-o', opts.join(','), 'tmpfs', dir]);
}

/** Unmounts `dir`; a busy mount is detached lazily (it is gone from the tree at once, freed when unused). */
export async function unmount(dir: string): Promise<void> {
  const r = await run('umount', [dir]);
  if (r.code === 0) return;
  if (!(await isMountPoint(dir))) return;
  await check('umount', ['-l', dir]);
}
