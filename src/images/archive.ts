// Image archives, the air-gapped path: import of OCI image-layout tars and docker-archive tars (`docker save`:
// manifest.json + config + layer tars) into the store, and deterministic writers for both formats (the test
// images and tests use them). Every file of an imported tar is stored as a verified blob first; only then are
// layers unpacked and images committed, so a bad archive leaves nothing behind.

import { createReadStream, createWriteStream } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Image } from '../runtime/interface.js';
import { type ConfigFile, type Descriptor, type Index, type Manifest, MediaType, type Platform, isDigest, nodePlatform, parseManifestBody, platformString, selectPlatform, sha256 } from './oci.js';
import { ReferenceError, parseReference, repositoryName } from './reference.js';
import { type ImageStore, type Lease, StoreError } from './store.js';

export class ArchiveError extends Error {}

/** Metadata files read into memory; everything else is spooled into the blob store. */
const SMALL_FILES = new Set(['oci-layout', 'index.json', 'manifest.json', 'repositories']);
const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

interface Spooled {
  files: Map<string, { digest: string; size: number }>;
  small: Map<string, Buffer>;
  links: Map<string, string>;
}

async function spool(store: ImageStore, tarPath: string, lease: Lease): Promise<Spooled> {
  const out: Spooled = { files: new Map(), small: new Map(), links: new Map() };
  const extract = tar.extract();
  const magic = Buffer.alloc(2);
  const fh = await import('node:fs/promises').then((f) => f.open(tarPath, 'r'));
  try {
    await fh.read(magic, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const src = createReadStream(tarPath, { highWaterMark: 256 * 1024 });
  const stages = magic[0] === 0x1f && magic[1] === 0x8b ? [src, createGunzip()] : [src];
  const piped = pipeline([...stages, extract as unknown as NodeJS.WritableStream]);
  piped.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const name = posix.normalize(entry.header.name).replace(/^(\.\/)+|^\/+/, '').replace(/\/+$/, '');
      const type = entry.header.type ?? 'file';
      if ((type === 'file' || type === 'contiguous-file') && SMALL_FILES.has(name)) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        out.small.set(name, Buffer.concat(chunks));
      } else if (type === 'file' || type === 'contiguous-file') {
        out.files.set(name, await store.ingest(entry as unknown as import('node:stream').Readable, lease));
      } else {
        if (type === 'symlink' || type === 'link') {
          const target = type === 'symlink' ? posix.normalize(posix.join(posix.dirname(name), entry.header.linkname ?? '')) : posix.normalize(entry.header.linkname ?? '');
          out.links.set(name, target.replace(/^(\.\/)+|^\/+/, ''));
        }
        for await (const c of entry) void c;
      }
    }
    await piped;
  } catch (e) {
    extract.destroy();
    await piped.catch(() => undefined);
    throw new ArchiveError(`reading ${tarPath}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return out;
}

function fileOf(s: Spooled, name: string): { digest: string; size: number } | undefined {
  let n = posix.normalize(name).replace(/^(\.\/)+|^\/+/, '');
  for (let hops = 0; hops < 16 && s.links.has(n); hops++) n = s.links.get(n)!;
  return s.files.get(n);
}

function parseJson<T>(buf: Buffer | undefined, what: string): T {
  if (!buf) throw new ArchiveError(`${what} missing`);
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch {
    throw new ArchiveError(`${what} is not valid JSON`);
  }
}

interface Candidate {
  /** The descriptor of the platform manifest. */
  manifest: Descriptor;
  /** Digest names are recorded under (the top-level descriptor's: an index for multi-platform images). */
  topDigest?: string;
  extraBlobs: string[];
  names: string[];
}

function normaliseName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  try {
    const r = parseReference(name);
    return r.tag !== undefined ? `${repositoryName(r)}:${r.tag}` : undefined;
  } catch (e) {
    if (e instanceof ReferenceError) return undefined;
    throw e;
  }
}

/** Runs at most n of the given tasks at once. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Imports the images an OCI-layout or docker-archive tar holds (gzip-compressed tars too). */
export async function importArchive(store: ImageStore, tarPath: string, platform: Platform = nodePlatform()): Promise<Image[]> {
  const lease = await store.lease();
  try {
    const s = await spool(store, tarPath, lease);
    const blobOf = (name: string): { digest: string; size: number } => {
      const f = fileOf(s, name);
      if (!f) throw new ArchiveError(`${name}: not found in the archive`);
      return f;
    };
    const candidates: Candidate[] = [];
    const commit: Array<{ c: Candidate; manifest: Manifest; mediaType: string; config: ConfigFile; digest: string }> = [];

    if (s.small.has('index.json') && s.small.has('oci-layout')) {
      // OCI layout: blobs are named by digest; each must hash to its name.
      for (const [name, f] of s.files) {
        const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
        if (m && f.digest !== `sha256:${m[1]}`) throw new StoreError(`blob ${name} has digest ${f.digest}`, 'DigestMismatch');
      }
      const byDigest = async (d: Descriptor): Promise<Buffer> => {
        if (!isDigest(d.digest)) throw new ArchiveError(`invalid digest ${d.digest}`);
        const f = blobOf(`blobs/sha256/${d.digest.slice(7)}`);
        if (f.size !== d.size) throw new StoreError(`"${d.digest}" failed size validation: ${f.size} != ${d.size}`, 'DigestMismatch');
        return store.readBlob(d.digest);
      };
      const index = parseJson<Index>(s.small.get('index.json'), 'index.json');
      for (const d of index.manifests ?? []) {
        const names = [normaliseName(d.annotations?.[ANNOTATION_IMAGE_NAME]) ?? normaliseName(d.annotations?.[ANNOTATION_REF_NAME])].filter((n): n is string => !!n);
        const body = await byDigest(d);
        const parsed = parseManifestBody(body, d.mediaType);
        if (parsed.kind === 'index') {
          const inner = parsed.index.manifests.length === 1 && !parsed.index.manifests[0]!.platform ? parsed.index.manifests[0] : selectPlatform(parsed.index.manifests, platform);
          if (!inner) continue;
          candidates.push({ manifest: inner, topDigest: d.digest, extraBlobs: [d.digest], names });
        } else {
          if (d.platform && !selectPlatform([d], platform)) continue;
          candidates.push({ manifest: d, topDigest: d.digest, extraBlobs: [], names });
        }
      }
      for (const c of candidates) {
        const parsed = parseManifestBody(await byDigest(c.manifest), c.manifest.mediaType);
        if (parsed.kind !== 'manifest') throw new ArchiveError(`${c.manifest.digest} is not an image manifest`);
        const m = parsed.manifest;
        for (const l of [m.config, ...m.layers]) await byDigest(l);
        const config = parseJson<ConfigFile>(await store.readBlob(m.config.digest), `config ${m.config.digest}`);
        commit.push({ c, manifest: m, mediaType: parsed.mediaType, config, digest: c.manifest.digest });
      }
    } else if (s.small.has('manifest.json')) {
      // docker-archive: configs and layer tars by file name; a synthesised schema 2 manifest ties them together.
      const entries = parseJson<Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>>(s.small.get('manifest.json'), 'manifest.json');
      for (const e of entries) {
        const cfg = blobOf(e.Config);
        const stated = /([a-f0-9]{64})(?:\.json)?$/.exec(e.Config);
        if (stated && cfg.digest !== `sha256:${stated[1]}`) throw new StoreError(`config ${e.Config} has digest ${cfg.digest}`, 'DigestMismatch');
        const config = parseJson<ConfigFile>(await store.readBlob(cfg.digest), `config ${e.Config}`);
        const layers: Descriptor[] = [];
        for (const l of e.Layers) {
          const f = blobOf(l);
          const head = (await store.readBlob(f.digest)).subarray(0, 2);
          layers.push({ mediaType: head[0] === 0x1f && head[1] === 0x8b ? MediaType.dockerLayerGzip : MediaType.dockerLayer, digest: f.digest, size: f.size });
        }
        const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: { mediaType: MediaType.dockerConfig, digest: cfg.digest, size: cfg.size }, layers };
        const body = Buffer.from(JSON.stringify(manifest));
        const { digest } = await store.ingest(body, lease);
        const names = (e.RepoTags ?? []).map((t) => normaliseName(t)).filter((n): n is string => !!n);
        const c: Candidate = { manifest: { mediaType: MediaType.dockerManifest, digest, size: body.length }, extraBlobs: [], names };
        commit.push({ c, manifest, mediaType: MediaType.dockerManifest, config, digest });
      }
    } else {
      throw new ArchiveError(`${tarPath} is neither an OCI image layout (oci-layout, index.json) nor a docker archive (manifest.json)`);
    }
    if (commit.length === 0) throw new ArchiveError(`${tarPath} holds no image for platform ${platformString(platform)}`);

    const images: Image[] = [];
    const unpackLimit = limiter(3);
    for (const { c, manifest, mediaType, config } of commit) {
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== manifest.layers.length) throw new ArchiveError(`manifest ${c.manifest.digest} has ${manifest.layers.length} layers but its config lists ${diffIds.length} diff_ids`);
      await Promise.all(manifest.layers.map((l, i) => unpackLimit(() => store.unpack(l.digest, diffIds[i]!, lease))));
      const repoDigests = c.topDigest ? c.names.map((n) => `${repositoryName(parseReference(n))}@${c.topDigest}`) : [];
      images.push(
        await store.commitImage({
          configDigest: manifest.config.digest,
          config,
          manifestDigest: c.manifest.digest,
          manifestMediaType: mediaType,
          layers: manifest.layers,
          tags: c.names,
          repoDigests,
          extraBlobs: c.extraBlobs,
        }),
      );
    }
    await lease.release();
    await store.gc(); // drops what the archive held for other platforms
    return images;
  } finally {
    await lease.release();
  }
}

// ---- writers --------------------------------------------------------------------------------------------------------

/** A fixed mtime for deterministic archives. */
export const EPOCH = new Date('2024-01-01T00:00:00Z');

async function writeTar(path: string, entries: Array<{ name: string; data?: Buffer; type?: 'directory' | 'file' }>): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(path));
  for (const e of entries) {
    const header = { name: e.name, mtime: EPOCH, uid: 0, gid: 0, uname: '', gname: '', mode: e.type === 'directory' ? 0o755 : 0o644, type: e.type ?? 'file' } as const;
    await new Promise<void>((res, rej) => pack.entry(header, e.data ?? Buffer.alloc(0), (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
}

/**
 * Writes an OCI image layout tar: `oci-layout`, `index.json` with one entry per named top-level blob
 * (annotated with both `io.containerd.image.name` and the tag as `org.opencontainers.image.ref.name`, as
 * containerd exports) and every blob under blobs/sha256.
 */
export async function writeOciArchive(path: string, blobs: Map<string, Buffer>, tops: Array<{ name?: string; descriptor: Descriptor }>): Promise<void> {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: tops.map(({ name, descriptor }) => {
      const d: Descriptor = { ...descriptor };
      if (name) {
        const r = parseReference(name);
        d.annotations = { ...d.annotations, [ANNOTATION_IMAGE_NAME]: name, [ANNOTATION_REF_NAME]: r.tag ?? 'latest' };
      }
      return d;
    }),
  };
  const entries: Array<{ name: string; data?: Buffer; type?: 'directory' | 'file' }> = [
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
  ];
  for (const d of [...blobs.keys()].sort()) {
    const data = blobs.get(d)!;
    if (sha256(data) !== d) throw new ArchiveError(`blob ${d} does not hash to its digest`);
    entries.push({ name: `blobs/sha256/${d.slice(7)}`, data });
  }
  entries.push({ name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') });
  entries.push({ name: 'index.json', data: Buffer.from(JSON.stringify(index)) });
  await writeTar(path, entries);
}

/**
 * Writes a docker-archive tar as `docker save` (before Docker 25) does: `<config hex>.json`, `<n>/layer.tar`
 * (uncompressed) and manifest.json.
 */
export async function writeDockerArchive(path: string, images: Array<{ config: Buffer; layers: Buffer[]; repoTags: string[] }>): Promise<void> {
  const entries: Array<{ name: string; data?: Buffer; type?: 'directory' | 'file' }> = [];
  const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const seen = new Set<string>();
  for (const img of images) {
    const cfgName = `${sha256(img.config).slice(7)}.json`;
    const layerNames: string[] = [];
    for (const l of img.layers) {
      const id = sha256(l).slice(7);
      const name = `${id}/layer.tar`;
      if (!seen.has(name)) {
        seen.add(name);
        entries.push({ name: `${id}/`, type: 'directory' }, { name, data: l });
      }
      layerNames.push(name);
    }
    if (!seen.has(cfgName)) {
      seen.add(cfgName);
      entries.push({ name: cfgName, data: img.config });
    }
    manifest.push({ Config: cfgName, RepoTags: img.repoTags, Layers: layerNames });
  }
  entries.push({ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) });
  await writeTar(path, entries);
}
