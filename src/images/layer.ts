// Unpacks one layer tar (gzip or plain) into its own directory in the form overlayfs reads as a lower layer:
// OCI whiteouts `.wh.<name>` become 0:0 character devices and opaque markers `.wh..wh..opq` become the
// `trusted.overlay.opaque=y` xattr on their directory, so stacking the layer dirs as lowerdirs gives the image's
// filesystem. Computes the layer's diffID (sha256 of the uncompressed tar) on the way; the caller verifies it.

import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { posix, join } from 'node:path';
import { Transform, type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

export interface UnpackResult {
  /** sha256 of the uncompressed tar stream. */
  diffId: string;
  /** Bytes of regular-file content unpacked. */
  size: number;
  entries: number;
}

export class LayerError extends Error {}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Counts bytes and hashes a stream as it passes. */
export class DigestTap extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

type Special =
  | { kind: 'whiteout' }
  | { kind: 'char' | 'block'; major: number; minor: number; mode: number; uid: number; gid: number; mtime: Date }
  | { kind: 'fifo'; mode: number; uid: number; gid: number; mtime: Date };

interface DirAttrs {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/** Runs a helper binary (mknod, setfattr); these are the two things Node's fs cannot do. */
function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, _out, stderr) => (err ? reject(new LayerError(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`)) : resolve()));
  });
}

async function limit<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** The entry's path relative to the layer root ('' for the root itself); `..` is clamped at the root. */
export function cleanPath(name: string): string {
  const n = posix.normalize('/' + name).slice(1).replace(/\/+$/, '');
  if (n.split('/').includes('..')) throw new LayerError(`layer entry "${name}" escapes the layer root`);
  return n;
}

async function lstatOrUndefined(p: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fsp.lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function ignoreEperm(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
}

/** Opens a blob file and returns the uncompressed stream (gzip detected from the magic bytes, like containerd). */
async function openDecompressed(blobPath: string): Promise<Readable[]> {
  const fh = await fsp.open(blobPath, 'r');
  const magic = Buffer.alloc(4);
  try {
    await fh.read(magic, 0, 4, 0);
  } finally {
    await fh.close();
  }
  const src = createReadStream(blobPath, { highWaterMark: 256 * 1024 });
  if (magic[0] === 0x1f && magic[1] === 0x8b) return [src, createGunzip()];
  if (magic.readUInt32LE(0) === 0xfd2fb528) {
    src.destroy();
    throw new LayerError('zstd-compressed layers are not supported');
  }
  return [src];
}

/**
 * Unpacks the layer blob at `blobPath` into `dest` (created; must not exist). Ownership, modes (incl. setuid),
 * mtimes, hard and symbolic links, device nodes and fifos are kept; names cannot leave `dest` (`..` is clamped
 * at the root as containerd does) and an entry below a symlink, or a hard link to nothing in the layer, fails it.
 */
export async function unpackLayer(blobPath: string, dest: string): Promise<UnpackResult> {
  await fsp.mkdir(dest, { recursive: false, mode: 0o755 });
  const knownDirs = new Set<string>(['']);
  const dirAttrs = new Map<string, DirAttrs>();
  const specials = new Map<string, Special>();
  const opaque = new Set<string>();
  const xattrs: Array<{ rel: string; name: string; value: string }> = [];
  let size = 0;
  let entries = 0;

  const abs = (rel: string): string => (rel === '' ? dest : join(dest, rel));

  /** Makes sure every directory above `rel` exists as a real directory inside the layer. */
  const ensureParents = async (rel: string): Promise<void> => {
    const parts = rel.split('/');
    parts.pop();
    let cur = '';
    for (const part of parts) {
      cur = cur === '' ? part : `${cur}/${part}`;
      if (knownDirs.has(cur)) continue;
      const st = await lstatOrUndefined(abs(cur));
      if (st?.isSymbolicLink()) throw new LayerError(`layer entry "${rel}" goes through the symlink "${cur}"`);
      if (st && !st.isDirectory()) await fsp.rm(abs(cur), { force: true });
      if (!st || !st.isDirectory()) {
        await fsp.mkdir(abs(cur), { mode: 0o755 });
        if (specials.get(cur)?.kind === 'whiteout') {
          specials.delete(cur);
          opaque.add(cur);
        }
        specials.delete(cur);
      }
      knownDirs.add(cur);
    }
  };

  /** Clears whatever an earlier entry of this layer left at `rel` (later entries win, as in tar). */
  const clear = async (rel: string, keepDir: boolean): Promise<boolean> => {
    const pending = specials.get(rel);
    specials.delete(rel);
    const st = await lstatOrUndefined(abs(rel));
    if (st?.isDirectory() && keepDir) return pending?.kind === 'whiteout';
    if (st) {
      await fsp.rm(abs(rel), { recursive: true, force: true });
      for (const d of knownDirs) if (d === rel || d.startsWith(rel + '/')) knownDirs.delete(d);
    }
    return pending?.kind === 'whiteout';
  };

  const extract = tar.extract();
  const tap = new DigestTap();
  const stages = await openDecompressed(blobPath);
  const piped = pipeline([...stages, tap, extract as unknown as Writable]);
  // The iteration below consumes entries while the pipeline feeds the parser; a failure on either side ends both.
  piped.catch(() => undefined);

  try {
    for await (const entry of extract) {
      const h = entry.header as tar.Headers & { pax?: Record<string, string> };
      entries++;
      const rel = cleanPath(h.name);
      const base = posix.basename(rel);
      const uid = h.pax?.uid !== undefined ? Number(h.pax.uid) : (h.uid ?? 0);
      const gid = h.pax?.gid !== undefined ? Number(h.pax.gid) : (h.gid ?? 0);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.pax?.mtime !== undefined ? new Date(Number(h.pax.mtime) * 1000) : (h.mtime ?? new Date(0));
      const drain = async (): Promise<void> => {
        for await (const _ of entry) void _;
      };

      if (base.startsWith(WHITEOUT_PREFIX)) {
        await drain();
        const parent = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
        if (parent !== '') await ensureParents(rel);
        if (base === OPAQUE) {
          opaque.add(parent);
        } else if (!base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) {
          const target = parent === '' ? base.slice(WHITEOUT_PREFIX.length) : `${parent}/${base.slice(WHITEOUT_PREFIX.length)}`;
          cleanPath(target);
          await clear(target, false);
          specials.set(target, { kind: 'whiteout' });
        }
        continue; // other `.wh..wh.*` names are aufs bookkeeping
      }

      if (rel === '') {
        await drain();
        if (h.type === 'directory') dirAttrs.set('', { mode, uid, gid, mtime });
        continue;
      }
      await ensureParents(rel);
      const p = abs(rel);
      for (const [k, v] of Object.entries(h.pax ?? {})) {
        if (!k.startsWith('SCHILY.xattr.')) continue;
        const name = k.slice('SCHILY.xattr.'.length);
        // A layer must not forge overlay metadata; binary values that did not survive UTF-8 decoding are dropped.
        if (name.startsWith('trusted.overlay.') || v.includes('\ufffd')) continue;
        xattrs.push({ rel, name, value: v });
      }

      switch (h.type) {
        case 'file':
        case 'contiguous-file':
        case null:
        case undefined: {
          await clear(rel, false);
          const fh = await fsp.open(p, 'wx', 0o600);
          try {
            for await (const chunk of entry) await fh.write(chunk as Buffer);
            await ignoreEperm(fh.chown(uid, gid));
            await fh.chmod(mode);
            await fh.utimes(mtime, mtime);
          } finally {
            await fh.close();
          }
          size += h.size ?? 0;
          break;
        }
        case 'directory': {
          await drain();
          const wasWhiteout = await clear(rel, true);
          if (!(await lstatOrUndefined(p))) await fsp.mkdir(p, { mode: 0o700 });
          if (wasWhiteout) opaque.add(rel);
          knownDirs.add(rel);
          await ignoreEperm(fsp.lchown(p, uid, gid));
          dirAttrs.set(rel, { mode, uid, gid, mtime });
          break;
        }
        case 'symlink': {
          await drain();
          await clear(rel, false);
          await fsp.symlink(h.linkname ?? '', p);
          await ignoreEperm(fsp.lchown(p, uid, gid));
          await fsp.lutimes(p, mtime, mtime);
          break;
        }
        case 'link': {
          await drain();
          const target = cleanPath(h.linkname ?? '');
          if (target === rel) break;
          const st = await lstatOrUndefined(abs(target));
          if (!st || st.isDirectory()) throw new LayerError(`hard link "${rel}" points at "${target}", which is not a file of this layer`);
          await clear(rel, false);
          await fsp.link(abs(target), p);
          break;
        }
        case 'character-device':
        case 'block-device':
          await drain();
          await clear(rel, false);
          specials.set(rel, { kind: h.type === 'character-device' ? 'char' : 'block', major: h.devmajor ?? 0, minor: h.devminor ?? 0, mode, uid, gid, mtime });
          break;
        case 'fifo':
          await drain();
          await clear(rel, false);
          specials.set(rel, { kind: 'fifo', mode, uid, gid, mtime });
          break;
        default:
          await drain(); // gnu sparse and other exotica: not produced by image builders
      }
    }
    await piped;
  } catch (e) {
    extract.destroy();
    await piped.catch(() => undefined);
    throw e;
  }

  // Nothing lies beneath an opaque directory to hide, and overlayfs lists a whiteout in a directory no lower
  // layer shares as a plain device: drop those.
  for (const [rel, sp] of specials) {
    if (sp.kind === 'whiteout' && opaque.has(posix.dirname(rel) === '.' ? '' : posix.dirname(rel))) specials.delete(rel);
  }
  // Device nodes and whiteouts need mknod(2), opaque markers and xattrs setxattr(2): helpers, a few per layer.
  await limit([...specials], 8, async ([rel, s]) => {
    const p = abs(rel);
    if (s.kind === 'whiteout') {
      await run('mknod', ['-m', '000', p, 'c', '0', '0']);
      return;
    }
    if (s.kind === 'fifo') await run('mknod', [p, 'p']);
    else await run('mknod', [p, s.kind === 'char' ? 'c' : 'b', String(s.major), String(s.minor)]);
    await ignoreEperm(fsp.lchown(p, s.uid, s.gid));
    await fsp.chmod(p, s.mode);
    await fsp.utimes(p, s.mtime, s.mtime);
  });
  await limit([...opaque], 8, (rel) => run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', abs(rel)]));
  await limit(xattrs, 8, async (x) => {
    try {
      await run('setfattr', ['-h', '-n', x.name, '-v', '0s' + Buffer.from(x.value, 'utf8').toString('base64'), abs(x.rel)]);
    } catch {
      // e.g. security.* without the capability or a filesystem without user xattrs: the file itself is there
    }
  });
  // Directories last, deepest first: writing into a directory changes its mtime, and a 0555 mode must not
  // stop the entries below it from being written.
  for (const rel of [...dirAttrs.keys()].sort((a, b) => b.length - a.length)) {
    const a = dirAttrs.get(rel)!;
    const p = abs(rel);
    if (rel === '') await ignoreEperm(fsp.lchown(p, a.uid, a.gid));
    await fsp.chmod(p, a.mode);
    await fsp.utimes(p, a.mtime, a.mtime);
  }
  return { diffId: tap.digest(), size, entries };
}
