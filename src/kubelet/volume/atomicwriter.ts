// Upstream's atomic writer for API-data volumes: each new payload goes into a fresh `..<timestamp>.<random>`
// directory, `..data` is swapped to it with one rename, and the user-visible names are symlinks through `..data`,
// so a reader sees either the whole old payload or the whole new one. Unchanged payloads write nothing.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { cleanPayload, type Payload } from './payload.js';

export const DATA_DIR = '..data';
const DATA_DIR_TMP = '..data_tmp';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `..2006_01_02_15_04_05.` in UTC, the prefix upstream hands to MkdirTemp. */
export function timestampPrefix(d: Date): string {
  return `..${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}_${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}.`;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Every regular file under `dir` as path relative to it → contents and mode (the current payload). */
async function readPayload(dir: string, prefix = ''): Promise<Payload> {
  const out: Payload = new Map();
  for (const e of await fs.readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of await readPayload(dir, rel)) out.set(k, v);
    else if (e.isFile()) {
      const p = join(dir, rel);
      out.set(rel, { data: await fs.readFile(p), mode: (await fs.stat(p)).mode & 0o7777 });
    }
  }
  return out;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.mode !== v.mode || !w.data.equals(v.data)) return false;
  }
  return true;
}

const topLevel = (p: string): string => p.split('/')[0]!;

export interface WriteOptions {
  /**
   * The pod's fsGroup: files and directories get it as their group, files gain group read (upstream's read-only
   * ownership mask 0440) and directories setgid and group access, as SetVolumeOwnership does.
   */
  fsGroup?: number;
}

/** The mode a file ends up with on disk: upstream ORs the read-only mask in when an fsGroup is set. */
export const fileModeOnDisk = (mode: number, fsGroup: number | undefined): number => (fsGroup === undefined ? mode : mode | 0o440);

/** Writes `payload` into `targetDir` (which must exist). Returns whether anything changed on disk. */
export async function writeAtomically(targetDir: string, payloadIn: Payload, opts: WriteOptions = {}): Promise<boolean> {
  const { fsGroup } = opts;
  const payload: Payload = new Map([...cleanPayload(payloadIn)].map(([k, f]) => [k, { data: f.data, mode: fileModeOnDisk(f.mode, fsGroup) }]));
  const dataLink = join(targetDir, DATA_DIR);
  let oldTs: string | undefined;
  try {
    oldTs = await fs.readlink(dataLink);
  } catch {
    oldTs = undefined;
  }
  let oldPayload: Payload | undefined;
  if (oldTs !== undefined) {
    try {
      oldPayload = await readPayload(join(targetDir, oldTs));
    } catch {
      oldPayload = undefined;
    }
  }
  const changed = !oldPayload || !samePayload(oldPayload, payload);
  let newTs: string | undefined;
  if (changed) {
    const tsDir = await fs.mkdtemp(join(targetDir, timestampPrefix(new Date())));
    newTs = tsDir.slice(targetDir.length + 1);
    try {
      // mkdtemp makes it 0700; group and other must be able to walk in (non-root containers).
      const dirMode = fsGroup === undefined ? 0o755 : 0o2775;
      const own = async (p: string): Promise<void> => {
        if (fsGroup !== undefined) await fs.lchown(p, -1, fsGroup);
      };
      await fs.chmod(tsDir, dirMode);
      await own(tsDir);
      for (const [rel, f] of payload) {
        const p = join(tsDir, rel);
        // Intermediate directories, each owned like the top one.
        const parts = rel.split('/').slice(0, -1);
        for (let i = 1; i <= parts.length; i++) {
          const d = join(tsDir, ...parts.slice(0, i));
          const made = await fs.mkdir(d, { mode: dirMode }).then(() => true, (e: NodeJS.ErrnoException) => {
            if (e.code !== 'EEXIST') throw e;
            return false;
          });
          if (made) {
            await fs.chmod(d, dirMode);
            await own(d);
          }
        }
        await fs.writeFile(p, f.data, { mode: f.mode });
        await fs.chmod(p, f.mode);
        await own(p);
      }
    } catch (e) {
      await fs.rm(tsDir, { recursive: true, force: true });
      throw e;
    }
  }
  // The user-visible names: one symlink per top-level entry, through ..data.
  const wanted = new Set([...payload.keys()].map(topLevel));
  for (const name of wanted) {
    const p = join(targetDir, name);
    if (!(await exists(p))) await fs.symlink(join(DATA_DIR, name), p);
  }
  if (changed && newTs) {
    const tmp = join(targetDir, DATA_DIR_TMP);
    await fs.rm(tmp, { force: true });
    await fs.symlink(newTs, tmp);
    await fs.rename(tmp, dataLink);
  }
  // Names the old payload had and the new one lacks.
  if (oldPayload) {
    for (const name of new Set([...oldPayload.keys()].map(topLevel))) {
      if (wanted.has(name)) continue;
      const p = join(targetDir, name);
      const st = await fs.lstat(p).catch(() => undefined);
      if (st?.isSymbolicLink()) await fs.unlink(p);
    }
  }
  if (changed && oldTs && oldTs !== newTs && oldTs.startsWith('..') && !oldTs.includes('/')) {
    await fs.rm(join(targetDir, oldTs), { recursive: true, force: true });
  }
  return changed;
}
