// The node's content-addressed image store under one root directory (`<data-dir>/images`):
//
//   blobs/sha256/<hex>        manifests, configs, indexes and layer blobs, each stored once (verified on write)
//   layers/<diffid-hex>/fs    each layer unpacked once, overlay-ready (see layer.ts); shared by every image using it
//   l/<short>                 short symlinks to layer dirs, so many lowerdirs fit in one mount option page
//   containers/<id>/          a container's upper/, work/ and rootfs/ (the overlay mount) plus container.json
//   index.json                tags → image ID; image ID (config digest) → manifest, layers, names
//   leases/<pid>-<n>.json     blobs and layers an unfinished pull or import holds (GC keeps them)
//   tmp/                      everything is written here first and renamed into place
//
// **Invariant:** nothing is visible before it is complete and verified — blobs, layers and the index are written
// to tmp/ and renamed. Reference counts are derived, never stored: a garbage collection (after removals) keeps
// what any image, container or live lease names and deletes the rest, so a crash can never leave a wrong count.
// Mutations of the index, container records, leases and GC run under one lock shared by every process on the
// root (the server and `k8ts image`).

import { randomBytes } from 'node:crypto';
import { run as runCommand } from '../runtime/command.js';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Image, ImageConfig } from '../runtime/interface.js';
import { DigestTap, unpackLayer } from './layer.js';
import { type ConfigFile, type Descriptor, digestHex, isDigest } from './oci.js';
import { ReferenceError, parseReference, repositoryName } from './reference.js';

/** One image as the index records it. */
export interface ImageRecord {
  /** Config digest = image ID. */
  id: string;
  /** Digest of the platform manifest the layers come from. */
  manifestDigest: string;
  manifestMediaType: string;
  layers: Array<{ digest: string; diffId: string; size: number; mediaType: string }>;
  /** Other blobs the image keeps (an index it was resolved through). */
  extraBlobs: string[];
  repoDigests: string[];
  config: ImageConfig;
  platform: { os: string; architecture: string; variant?: string };
  size: number;
  createdAt: string;
}

interface IndexFile {
  version: 1;
  images: Record<string, ImageRecord>;
  /** Normalised tag (`docker.io/library/busybox:1.36`) → image ID. */
  tags: Record<string, string>;
}

interface ContainerRecord {
  id: string;
  imageId: string;
  layers: string[];
  createdAt: string;
}

export interface LayerInfo {
  diffId: string;
  size: number;
  entries: number;
}

export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: 'NotFound' | 'DigestMismatch' | 'InUse' | 'Invalid' | 'Internal' = 'Internal',
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Blobs and layers a running pull or import has written but not yet committed to an image. */
export interface Lease {
  add(digests: string[]): Promise<void>;
  release(): Promise<void>;
}

/** In-process mutex per store root, in front of the cross-process lock file (shared by every ImageStore on it). */
const chains = new Map<string, Promise<void>>();

const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const PAGE_SIZE = 4096;
/** overlayfs refuses more lower layers than this. */
const OVERLAY_MAX_LOWER = 500;

async function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  const r = await runCommand(cmd, args, cwd ? { cwd } : {}).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
  if (r.code !== 0) throw new StoreError(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes a file crash-safely: temp file in the same directory, fsync, rename, fsync the directory. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await fsp.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path);
  const dir = await fsp.open(resolve(path, '..'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function toImageConfig(c: ConfigFile): ImageConfig {
  const cc = c.config ?? {};
  const out: ImageConfig = {};
  if (cc.Entrypoint) out.entrypoint = cc.Entrypoint;
  if (cc.Cmd) out.cmd = cc.Cmd;
  if (cc.Env) out.env = cc.Env;
  if (cc.WorkingDir) out.workingDir = cc.WorkingDir;
  if (cc.User) out.user = cc.User;
  if (cc.ExposedPorts) out.exposedPorts = Object.keys(cc.ExposedPorts);
  if (cc.Labels) out.labels = cc.Labels;
  if (cc.StopSignal) out.stopSignal = cc.StopSignal;
  return out;
}

/** Decodes the octal escapes of /proc/self/mountinfo paths (`\040` for a space). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function isMountPoint(path: string): Promise<boolean> {
  const info = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => unescapeMountPath(line.split(' ')[4] ?? '') === path);
}

export interface CommitInput {
  configDigest: string;
  config: ConfigFile;
  manifestDigest: string;
  manifestMediaType: string;
  layers: Descriptor[];
  /** Normalised tag refs to point at the image. */
  tags: string[];
  /** `repo@sha256:…` names (the digest the image was pulled or imported by). */
  repoDigests: string[];
  extraBlobs?: string[];
}

export class ImageStore {
  private readonly blobsDir: string;
  private readonly layersDir: string;
  private readonly linksDir: string;
  private readonly containersDir: string;
  private readonly leasesDir: string;
  private readonly tmpDir: string;
  private readonly indexPath: string;
  private readonly lockPath: string;
  private indexCache: { ino: number; mtimeMs: number; size: number; index: IndexFile } | undefined;
  private readonly unpacking = new Map<string, Promise<LayerInfo>>();
  private leaseSeq = 0;

  private constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.layersDir = join(root, 'layers');
    this.linksDir = join(root, 'l');
    this.containersDir = join(root, 'containers');
    this.leasesDir = join(root, 'leases');
    this.tmpDir = join(root, 'tmp');
    this.indexPath = join(root, 'index.json');
    this.lockPath = join(root, 'lock');
  }

  /** Opens (creating) the store at `root`; clears what dead processes left in tmp/ and leases/. */
  static async open(root: string): Promise<ImageStore> {
    const abs = resolve(root);
    if (/[,:\\]/.test(abs)) throw new StoreError(`image store path "${abs}" must not contain ',', ':' or '\\' (overlayfs mount options)`, 'Invalid');
    const s = new ImageStore(abs);
    for (const d of [s.blobsDir, s.layersDir, s.linksDir, s.containersDir, s.leasesDir, s.tmpDir, join(abs, 'empty')]) await fsp.mkdir(d, { recursive: true, mode: 0o700 });
    await fsp.chmod(abs, 0o700);
    await s.locked(async () => {
      for (const dir of [s.tmpDir, s.leasesDir]) {
        for (const name of await fsp.readdir(dir)) {
          const pid = Number(name.split('-')[0]);
          if (!Number.isInteger(pid) || !pidAlive(pid)) await fsp.rm(join(dir, name), { recursive: true, force: true });
        }
      }
    });
    return s;
  }

  // ---- locking -----------------------------------------------------------------------------------------------------

  /** Runs fn holding the store lock (in-process queue, then an O_EXCL lock file naming our pid). */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    const prev = chains.get(this.root) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    chains.set(this.root, mine);
    await prev;
    try {
      await this.acquireFileLock();
      try {
        return await fn();
      } finally {
        await fsp.rm(this.lockPath, { force: true });
      }
    } finally {
      if (chains.get(this.root) === mine) chains.delete(this.root);
      release();
    }
  }

  private async acquireFileLock(): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
      try {
        const fh = await fsp.open(this.lockPath, 'wx', 0o600);
        await fh.writeFile(String(process.pid));
        await fh.close();
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = Number(await fsp.readFile(this.lockPath, 'utf8').catch(() => ''));
      // A holder that died is broken; so is one naming us (this process holds no lock outside the chain above,
      // so the file is left from a store closed mid-operation).
      if ((holder > 0 && !pidAlive(holder)) || holder === process.pid) {
        await fsp.rm(this.lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new StoreError(`timed out waiting for the image store lock ${this.lockPath} (held by pid ${holder || '?'})`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  // ---- index -------------------------------------------------------------------------------------------------------

  private async readIndex(): Promise<IndexFile> {
    let st: Stats;
    try {
      st = await fsp.stat(this.indexPath);
    } catch {
      return { version: 1, images: {}, tags: {} };
    }
    // The index is only ever replaced by rename, so a new inode means new content.
    const c = this.indexCache;
    if (c && c.ino === st.ino && c.mtimeMs === st.mtimeMs && c.size === st.size) return c.index;
    const index = JSON.parse(await fsp.readFile(this.indexPath, 'utf8')) as IndexFile;
    this.indexCache = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, index };
    return index;
  }

  private async writeIndex(index: IndexFile): Promise<void> {
    await writeFileAtomic(this.indexPath, JSON.stringify(index, null, 1) + '\n');
    this.indexCache = undefined;
  }

  private tagsOf(index: IndexFile, id: string): string[] {
    return Object.entries(index.tags)
      .filter(([, v]) => v === id)
      .map(([k]) => k)
      .sort();
  }

  private toImage(index: IndexFile, r: ImageRecord): Image {
    return { id: r.id, repoTags: this.tagsOf(index, r.id), repoDigests: [...r.repoDigests], size: r.size, config: structuredClone(r.config) };
  }

  /**
   * Resolves an image ID (`sha256:<hex>` or `<hex>`), a tag ref, a digest ref, or else a unique ID prefix, in that
   * order, and says which name matched.
   */
  private resolve(index: IndexFile, ref: string): { rec: ImageRecord; via: 'id' } | { rec: ImageRecord; via: 'tag' | 'digest'; name: string } | undefined {
    const s = ref.trim();
    const hex = s.startsWith('sha256:') ? s.slice(7) : s;
    if (/^[a-f0-9]{64}$/.test(hex)) {
      const rec = index.images[`sha256:${hex}`];
      if (rec) return { rec, via: 'id' };
      if (s.startsWith('sha256:')) return undefined;
    }
    try {
      const parsed = parseReference(s);
      if (parsed.digest) {
        const name = `${repositoryName(parsed)}@${parsed.digest}`;
        const rec = Object.values(index.images).find((i) => i.repoDigests.includes(name));
        if (rec) return { rec, via: 'digest', name };
      }
      // A ref that names both a tag and a digest is found by either.
      if (parsed.tag !== undefined) {
        const name = `${repositoryName(parsed)}:${parsed.tag}`;
        const id = index.tags[name];
        const rec = id ? index.images[id] : undefined;
        if (rec) return { rec, via: 'tag', name };
      }
    } catch (e) {
      if (!(e instanceof ReferenceError)) throw e;
    }
    if (/^[a-f0-9]{6,63}$/.test(hex)) {
      const matches = Object.keys(index.images).filter((id) => id.startsWith(`sha256:${hex}`));
      if (matches.length === 1) return { rec: index.images[matches[0]!]!, via: 'id' };
    }
    return undefined;
  }

  async getRecord(ref: string): Promise<ImageRecord | undefined> {
    return this.resolve(await this.readIndex(), ref)?.rec;
  }

  async getImage(ref: string): Promise<Image | undefined> {
    const index = await this.readIndex();
    const r = this.resolve(index, ref);
    return r && this.toImage(index, r.rec);
  }

  async listImages(): Promise<Image[]> {
    const index = await this.readIndex();
    return Object.values(index.images)
      .map((r) => this.toImage(index, r))
      .sort((a, b) => (a.repoTags[0] ?? a.repoDigests[0] ?? a.id).localeCompare(b.repoTags[0] ?? b.repoDigests[0] ?? b.id));
  }

  /**
   * Records an image whose config, manifest and layers are all stored: adds the record (or merges names into an
   * existing one) and moves the given tags onto it. The one write that makes a pull or import visible.
   */
  async commitImage(input: CommitInput): Promise<Image> {
    const layers = input.layers.map((d, i) => ({ digest: d.digest, diffId: input.config.rootfs.diff_ids[i]!, size: d.size, mediaType: d.mediaType }));
    if (layers.length !== input.config.rootfs.diff_ids.length) throw new StoreError(`manifest has ${input.layers.length} layers but the config lists ${input.config.rootfs.diff_ids.length} diff_ids`, 'Invalid');
    for (const d of [input.configDigest, input.manifestDigest, ...layers.map((l) => l.digest), ...(input.extraBlobs ?? [])]) {
      if (!(await this.hasBlob(d))) throw new StoreError(`blob ${d} is not stored`, 'NotFound');
    }
    for (const l of layers) if (!(await this.hasLayer(l.diffId))) throw new StoreError(`layer ${l.diffId} is not unpacked`, 'NotFound');
    return this.locked(async () => {
      const index = structuredClone(await this.readIndex());
      const prev = index.images[input.configDigest];
      const rec: ImageRecord = {
        id: input.configDigest,
        manifestDigest: input.manifestDigest,
        manifestMediaType: input.manifestMediaType,
        layers,
        extraBlobs: [...new Set([...(prev?.extraBlobs ?? []), ...(input.extraBlobs ?? [])])],
        repoDigests: [...new Set([...(prev?.repoDigests ?? []), ...input.repoDigests])].sort(),
        config: toImageConfig(input.config),
        platform: { os: input.config.os, architecture: input.config.architecture, ...(input.config.variant ? { variant: input.config.variant } : {}) },
        size: layers.reduce((n, l) => n + l.size, 0),
        createdAt: prev?.createdAt ?? new Date().toISOString(),
      };
      // The same config reached through another manifest (e.g. re-compressed) keeps the first manifest's layers.
      if (prev && prev.manifestDigest !== rec.manifestDigest) {
        rec.manifestDigest = prev.manifestDigest;
        rec.manifestMediaType = prev.manifestMediaType;
        rec.layers = prev.layers;
        rec.size = prev.size;
        rec.extraBlobs = [...new Set([...rec.extraBlobs, input.manifestDigest, ...layers.map((l) => l.digest)])];
      }
      index.images[rec.id] = rec;
      const retagged = new Set<string>();
      for (const t of input.tags) {
        const old = index.tags[t];
        if (old && old !== rec.id) retagged.add(old);
        index.tags[t] = rec.id;
      }
      // An image that lost its last name to this commit is gone (as a re-pulled `:latest` replaces the old one).
      for (const old of retagged) {
        const o = index.images[old];
        if (o && this.tagsOf(index, old).length === 0 && o.repoDigests.length === 0) delete index.images[old];
      }
      await this.writeIndex(index);
      if (retagged.size > 0) await this.gcLocked();
      return this.toImage(index, rec);
    });
  }

  /**
   * Removes a name: a tag ref drops that tag (the image goes with its last tag), a digest ref drops that repo
   * digest, an image ID removes the image and every name of it. Then collects blobs and layers no image, container
   * or lease uses. Throws NotFound when nothing matches.
   */
  async removeImage(ref: string): Promise<void> {
    await this.locked(async () => {
      const index = structuredClone(await this.readIndex());
      const found = this.resolve(index, ref);
      if (!found) throw new StoreError(`image "${ref}" not found`, 'NotFound');
      const rec = found.rec;
      if (found.via === 'tag') {
        delete index.tags[found.name];
        if (this.tagsOf(index, rec.id).length === 0) delete index.images[rec.id];
      } else if (found.via === 'digest') {
        rec.repoDigests = rec.repoDigests.filter((d) => d !== found.name);
        if (rec.repoDigests.length === 0 && this.tagsOf(index, rec.id).length === 0) delete index.images[rec.id];
      } else {
        for (const t of this.tagsOf(index, rec.id)) delete index.tags[t];
        delete index.images[rec.id];
      }
      await this.writeIndex(index);
      await this.gcLocked();
    });
  }

  // ---- blobs ---------------------------------------------------------------------------------------------------------

  blobPath(digest: string): string {
    return join(this.blobsDir, digestHex(digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return exists(this.blobPath(digest));
  }

  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.blobPath(digest));
    } catch {
      throw new StoreError(`blob ${digest} not found`, 'NotFound');
    }
  }

  openBlob(digest: string): Readable {
    return createReadStream(this.blobPath(digest));
  }

  /** A fresh path under tmp/ owned by this process (removed at open if we die). */
  tempPath(label: string): string {
    return join(this.tmpDir, `${process.pid}-${label}-${randomBytes(6).toString('hex')}`);
  }

  /**
   * Stores a blob from a stream: written to tmp/, hashed on the way, then renamed to its digest. With `expected`,
   * a different digest or size is refused and nothing is kept. The lease holds the blob until an image commits.
   */
  async ingest(src: Readable | Buffer, lease: Lease, expected?: { digest: string; size?: number }, onBytes?: (n: number) => void): Promise<{ digest: string; size: number }> {
    if (expected) digestHex(expected.digest);
    const tmp = this.tempPath('blob');
    const tap = new DigestTap();
    if (onBytes) tap.on('data', () => onBytes(tap.bytes));
    try {
      const out = createWriteStream(tmp, { mode: 0o644 });
      if (Buffer.isBuffer(src)) {
        tap.end(src);
        await pipeline(tap, out);
      } else {
        await pipeline(src, tap, out);
      }
      const digest = tap.digest();
      if (expected && expected.size !== undefined && expected.size !== tap.bytes) {
        throw new StoreError(`"${expected.digest}" failed size validation: ${tap.bytes} != ${expected.size}`, 'DigestMismatch');
      }
      if (expected && digest !== expected.digest) throw new StoreError(`unexpected commit digest ${digest}, expected ${expected.digest}: failed precondition`, 'DigestMismatch');
      await lease.add([digest]);
      const fh = await fsp.open(tmp, 'r');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, this.blobPath(digest));
      return { digest, size: tap.bytes };
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  // ---- layers --------------------------------------------------------------------------------------------------------

  layerDir(diffId: string): string {
    return join(this.layersDir, digestHex(diffId));
  }

  async hasLayer(diffId: string): Promise<boolean> {
    return exists(join(this.layerDir(diffId), 'layer.json'));
  }

  async layerInfo(diffId: string): Promise<LayerInfo | undefined> {
    try {
      return JSON.parse(await fsp.readFile(join(this.layerDir(diffId), 'layer.json'), 'utf8')) as LayerInfo;
    } catch {
      return undefined;
    }
  }

  /**
   * Unpacks the stored layer blob `blobDigest` once into layers/<diffId>: into tmp/ first, the diffID checked
   * against `diffId`, flushed (syncfs), then renamed. Concurrent calls for one diffID share the work.
   */
  async unpack(blobDigest: string, diffId: string, lease: Lease): Promise<LayerInfo> {
    digestHex(diffId);
    // Leased before it is looked at or renamed into place, so a concurrent GC can never take it in between.
    await lease.add([diffId, blobDigest]);
    const existing = await this.layerInfo(diffId);
    if (existing) return existing;
    let p = this.unpacking.get(diffId);
    if (!p) {
      p = this.doUnpack(blobDigest, diffId).finally(() => this.unpacking.delete(diffId));
      this.unpacking.set(diffId, p);
    }
    return p;
  }

  private async doUnpack(blobDigest: string, diffId: string): Promise<LayerInfo> {
    const tmp = this.tempPath('layer');
    await fsp.mkdir(tmp, { mode: 0o700 });
    try {
      const r = await unpackLayer(this.blobPath(blobDigest), join(tmp, 'fs'));
      if (r.diffId !== diffId) throw new StoreError(`layer ${blobDigest} unpacks to diffID ${r.diffId}, but the image config says ${diffId}`, 'DigestMismatch');
      const info: LayerInfo = { diffId, size: r.size, entries: r.entries };
      await fsp.writeFile(join(tmp, 'layer.json'), JSON.stringify(info) + '\n');
      await run('sync', ['-f', tmp]);
      await this.locked(async () => {
        if (await this.hasLayer(diffId)) return; // another process won the race
        await fsp.rm(this.layerDir(diffId), { recursive: true, force: true });
        await fsp.rename(tmp, this.layerDir(diffId));
        await this.ensureLink(diffId);
      });
      return info;
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }

  private shortLink(diffId: string): string {
    return join(this.linksDir, digestHex(diffId).slice(0, 16));
  }

  private async ensureLink(diffId: string): Promise<boolean> {
    const link = this.shortLink(diffId);
    const target = `../layers/${digestHex(diffId)}/fs`;
    try {
      return (await fsp.readlink(link)) === target;
    } catch {
      await fsp.symlink(target, link).catch(() => undefined);
      return (await fsp.readlink(link).catch(() => '')) === target;
    }
  }

  // ---- leases ------------------------------------------------------------------------------------------------------

  /** A lease for an operation that writes blobs and layers before committing an image; release it in `finally`. */
  async lease(): Promise<Lease> {
    const entry = { file: join(this.leasesDir, `${process.pid}-${++this.leaseSeq}-${randomBytes(3).toString('hex')}.json`), held: new Set<string>() };
    await fsp.writeFile(entry.file, '[]');
    return {
      add: async (digests: string[]) => {
        const fresh = digests.filter((d) => !entry.held.has(d));
        if (fresh.length === 0) return;
        await this.locked(async () => {
          for (const d of fresh) entry.held.add(d);
          // Atomic but not durable: a lease only matters while its process lives.
          const tmp = `${entry.file}.tmp`;
          await fsp.writeFile(tmp, JSON.stringify([...entry.held]));
          await fsp.rename(tmp, entry.file);
        });
      },
      release: async () => {
        await fsp.rm(entry.file, { force: true });
      },
    };
  }

  // ---- garbage collection --------------------------------------------------------------------------------------------

  /** Collects unreferenced blobs and layers (takes the lock). */
  async gc(): Promise<{ blobs: number; layers: number }> {
    return this.locked(() => this.gcLocked());
  }

  /** How many images and containers use each unpacked layer (the derived reference counts). */
  async layerRefs(): Promise<Map<string, number>> {
    const refs = new Map<string, number>();
    const index = await this.readIndex();
    for (const r of Object.values(index.images)) for (const l of new Set(r.layers.map((x) => x.diffId))) refs.set(l, (refs.get(l) ?? 0) + 1);
    for (const c of await this.containerRecords()) for (const l of new Set(c.layers)) refs.set(l, (refs.get(l) ?? 0) + 1);
    return refs;
  }

  private async containerRecords(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const name of await fsp.readdir(this.containersDir)) {
      try {
        out.push(JSON.parse(await fsp.readFile(join(this.containersDir, name, 'container.json'), 'utf8')) as ContainerRecord);
      } catch {
        // a container dir without a record is being created or removed; it holds no layer of its own
      }
    }
    return out;
  }

  private async gcLocked(): Promise<{ blobs: number; layers: number }> {
    const keep = new Set<string>();
    const index = await this.readIndex();
    for (const r of Object.values(index.images)) {
      keep.add(r.id);
      keep.add(r.manifestDigest);
      for (const d of r.extraBlobs) keep.add(d);
      for (const l of r.layers) {
        keep.add(l.digest);
        keep.add(l.diffId);
      }
    }
    for (const c of await this.containerRecords()) for (const l of c.layers) keep.add(l);
    for (const name of await fsp.readdir(this.leasesDir)) {
      const pid = Number(name.split('-')[0]);
      if (!pidAlive(pid)) {
        await fsp.rm(join(this.leasesDir, name), { force: true });
        continue;
      }
      try {
        for (const d of JSON.parse(await fsp.readFile(join(this.leasesDir, name), 'utf8')) as string[]) keep.add(d);
      } catch {
        // a lease being rewritten: its previous content was renamed over atomically, so this is a lost race only
      }
    }
    let blobs = 0;
    let layers = 0;
    for (const hex of await fsp.readdir(this.blobsDir)) {
      if (!keep.has(`sha256:${hex}`)) {
        await fsp.rm(join(this.blobsDir, hex), { force: true });
        blobs++;
      }
    }
    for (const hex of await fsp.readdir(this.layersDir)) {
      if (keep.has(`sha256:${hex}`)) continue;
      const link = join(this.linksDir, hex.slice(0, 16));
      if ((await fsp.readlink(link).catch(() => '')) === `../layers/${hex}/fs`) await fsp.rm(link, { force: true });
      // Rename first so a half-deleted layer is never mistaken for a complete one.
      const doomed = this.tempPath('gc');
      await fsp.rename(join(this.layersDir, hex), doomed);
      await fsp.rm(doomed, { recursive: true, force: true });
      layers++;
    }
    return { blobs, layers };
  }

  // ---- container root filesystems --------------------------------------------------------------------------------------

  containerDir(containerId: string): string {
    if (!CONTAINER_ID_RE.test(containerId)) throw new StoreError(`invalid container ID "${containerId}"`, 'Invalid');
    return join(this.containersDir, containerId);
  }

  /**
   * Mounts an overlay of the image's layers (read-only lowerdirs, top layer first) under a fresh per-container
   * upper/work dir and returns the mount point. Idempotent: a mounted rootfs is returned as it is. Lowerdirs are
   * the short `l/` links relative to the store root (the mount runs there), so ~200 layers fit the one page the
   * kernel takes for mount options.
   */
  async mountRootfs(imageRef: string, containerId: string): Promise<string> {
    const dir = this.containerDir(containerId);
    const rootfs = join(dir, 'rootfs');
    const rec = await this.locked(async () => {
      const index = await this.readIndex();
      const r = this.resolve(index, imageRef)?.rec;
      if (!r) throw new StoreError(`image "${imageRef}" not found`, 'NotFound');
      const recPath = join(dir, 'container.json');
      const prev = await fsp.readFile(recPath, 'utf8').then((t) => JSON.parse(t) as ContainerRecord, () => undefined);
      if (prev && prev.imageId !== r.id) throw new StoreError(`container ${containerId} already has a rootfs of image ${prev.imageId}`, 'InUse');
      for (const l of r.layers) if (!(await this.hasLayer(l.diffId))) throw new StoreError(`layer ${l.diffId} of image ${r.id} is missing from the store`, 'NotFound');
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      for (const sub of ['upper', 'work', 'rootfs']) await fsp.mkdir(join(dir, sub), { recursive: true, mode: 0o755 });
      if (!prev) await writeFileAtomic(recPath, JSON.stringify({ id: containerId, imageId: r.id, layers: r.layers.map((l) => l.diffId), createdAt: new Date().toISOString() } satisfies ContainerRecord));
      return r;
    });
    if (await isMountPoint(rootfs)) return rootfs;
    const lowers: string[] = [];
    for (const l of [...rec.layers].reverse()) {
      lowers.push((await this.ensureLink(l.diffId)) ? `l/${digestHex(l.diffId).slice(0, 16)}` : `layers/${digestHex(l.diffId)}/fs`);
    }
    if (lowers.length === 0) lowers.push('empty');
    if (lowers.length > OVERLAY_MAX_LOWER) throw new StoreError(`image ${rec.id} has ${lowers.length} layers; overlayfs stacks at most ${OVERLAY_MAX_LOWER}`, 'Invalid');
    const opts = `lowerdir=${[...new Set(lowers)].join(':')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`;
    if (opts.length >= PAGE_SIZE) throw new StoreError(`image ${rec.id} has too many layers (${lowers.length}) for one overlayfs mount`, 'Invalid');
    await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, rootfs], this.root);
    return rootfs;
  }

  /** Unmounts and deletes the container's writable layer, then collects layers only it kept; idempotent. */
  async removeRootfs(containerId: string): Promise<void> {
    const dir = this.containerDir(containerId);
    const rootfs = join(dir, 'rootfs');
    if (await isMountPoint(rootfs)) {
      try {
        await run('umount', [rootfs]);
      } catch {
        await run('umount', ['-l', rootfs]); // still busy (a process inside): detach now, the kernel finishes later
      }
    }
    if (!(await exists(dir))) return;
    await this.locked(async () => {
      const doomed = this.tempPath('rootfs');
      await fsp.rename(dir, doomed);
      await fsp.rm(doomed, { recursive: true, force: true });
      await this.gcLocked();
    });
  }

  async rootfsPath(containerId: string): Promise<string | undefined> {
    const rootfs = join(this.containerDir(containerId), 'rootfs');
    return (await isMountPoint(rootfs)) ? rootfs : undefined;
  }

  // ---- usage ---------------------------------------------------------------------------------------------------------

  /** Bytes and inodes under the root (hard links once; mounted rootfs dirs skipped, their upper dirs counted). */
  async fsInfo(): Promise<{ usedBytes: number; inodesUsed: number }> {
    const seen = new Set<string>();
    let usedBytes = 0;
    let inodesUsed = 0;
    const mounts = new Set(
      (await fsp.readFile('/proc/self/mountinfo', 'utf8'))
        .split('\n')
        .map((l) => unescapeMountPath(l.split(' ')[4] ?? ''))
        .filter((p) => p.startsWith(this.root + '/')),
    );
    const walk = async (p: string): Promise<void> => {
      let st: Stats;
      try {
        st = await fsp.lstat(p);
      } catch {
        return;
      }
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
      inodesUsed++;
      usedBytes += st.blocks * 512;
      if (st.isDirectory() && !mounts.has(p)) {
        for (const n of await fsp.readdir(p).catch(() => [] as string[])) await walk(join(p, n));
      }
    };
    await walk(this.root);
    return { usedBytes, inodesUsed };
  }
}

export function isStoreNotFound(e: unknown): boolean {
  return e instanceof StoreError && e.code === 'NotFound';
}

/** The canonical `repo@digest` name for a ref and a manifest digest. */
export function repoDigestName(ref: string, digest: string): string {
  if (!isDigest(digest)) throw new StoreError(`invalid digest ${digest}`, 'Invalid');
  return `${repositoryName(parseReference(ref))}@${digest}`;
}
