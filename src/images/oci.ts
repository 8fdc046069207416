// OCI image-spec and Docker schema 2 wire types, media types, digests and platform matching: the vocabulary the
// store, the registry client and the archive importer share. Pure data and small helpers, no I/O.

import { createHash } from 'node:crypto';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
} as const;

/** What registries are asked for, most specific first (as containerd's resolver sends it). */
export const MANIFEST_ACCEPT = [MediaType.dockerManifest, MediaType.dockerList, MediaType.ociManifest, MediaType.ociIndex].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The image config blob (OCI image-spec config.md; Docker's is a superset). */
export interface ConfigFile {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; empty_layer?: boolean; comment?: string }>;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part of a sha256 digest; throws on anything else (digests become file names). */
export function digestHex(digest: string): string {
  if (!DIGEST_RE.test(digest)) throw new Error(`invalid digest "${digest}" (only sha256 is supported)`);
  return digest.slice(7);
}

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerList;
}

export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

export type LayerCompression = 'gzip' | 'none';

/** How a layer blob is compressed, from its media type; undefined for types we cannot unpack. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  switch (mediaType) {
    case MediaType.ociLayerGzip:
    case MediaType.ociLayerNondistGzip:
    case MediaType.dockerLayerGzip:
    case MediaType.dockerLayerForeignGzip:
      return 'gzip';
    case MediaType.ociLayer:
    case MediaType.dockerLayer:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar':
      return 'none';
    default:
      return undefined;
  }
}

/**
 * Parses a manifest or index body and says which it is: the `mediaType` field wins, then the Content-Type the
 * registry sent, then the shape (OCI allows an absent mediaType).
 */
export function parseManifestBody(body: Buffer, contentType?: string): { kind: 'index'; index: Index; mediaType: string } | { kind: 'manifest'; manifest: Manifest; mediaType: string } {
  let doc: { schemaVersion?: number; mediaType?: string; manifests?: unknown; config?: unknown; layers?: unknown; fsLayers?: unknown };
  try {
    doc = JSON.parse(body.toString('utf8')) as typeof doc;
  } catch {
    throw new Error('invalid manifest: not JSON');
  }
  const ct = contentType?.split(';')[0]?.trim();
  const mt = doc.mediaType ?? (ct && ct !== 'application/json' && ct !== 'text/plain' ? ct : undefined);
  if (doc.schemaVersion === 1 || mt === MediaType.dockerSchema1 || mt === MediaType.dockerSchema1Signed || doc.fsLayers) {
    throw new Error('Docker Image Format v1 and Docker Image manifest version 2, schema 1 are not supported');
  }
  if (isIndexType(mt) || (mt === undefined && Array.isArray(doc.manifests))) {
    if (!Array.isArray(doc.manifests)) throw new Error('invalid index: no manifests');
    return { kind: 'index', index: doc as Index, mediaType: mt ?? MediaType.ociIndex };
  }
  if (isManifestType(mt) || (mt === undefined && doc.config && Array.isArray(doc.layers))) {
    if (!doc.config || !Array.isArray(doc.layers)) throw new Error('invalid manifest: no config or layers');
    return { kind: 'manifest', manifest: doc as Manifest, mediaType: mt ?? MediaType.ociManifest };
  }
  throw new Error(`unsupported manifest media type "${mt ?? 'unknown'}"`);
}

/** The platform of this node, in OCI terms (Node's `process.arch` → GOARCH names). */
export function nodePlatform(): Platform {
  const arch: Record<string, { architecture: string; variant?: string }> = {
    x64: { architecture: 'amd64' },
    arm64: { architecture: 'arm64', variant: 'v8' },
    arm: { architecture: 'arm', variant: 'v7' },
    ia32: { architecture: '386' },
    ppc64: { architecture: 'ppc64le' },
    s390x: { architecture: 's390x' },
    riscv64: { architecture: 'riscv64' },
    loong64: { architecture: 'loong64' },
  };
  const a = arch[process.arch] ?? { architecture: process.arch };
  return { os: process.platform === 'win32' ? 'windows' : process.platform, ...a };
}

function normVariant(arch: string, variant: string | undefined): string | undefined {
  if (arch === 'arm64' && (variant === undefined || variant === 'v8')) return 'v8';
  if (arch === 'amd64' && (variant === undefined || variant === 'v1')) return undefined;
  return variant;
}

/**
 * Picks the index entry for `want` as containerd's default platform matcher does: same os and architecture, the
 * variant equal after normalisation (arm64 ⇒ v8); an entry without a variant matches an arm variant only when no
 * exact one exists. Attestation manifests (`unknown/unknown`) never match.
 */
export function selectPlatform(manifests: Descriptor[], want: Platform): Descriptor | undefined {
  const candidates = manifests.filter((d) => d.platform && d.platform.os === want.os && d.platform.architecture === want.architecture);
  const wv = normVariant(want.architecture, want.variant);
  const exact = candidates.find((d) => normVariant(d.platform!.architecture, d.platform!.variant) === wv);
  if (exact) return exact;
  return candidates.find((d) => d.platform!.variant === undefined);
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Parses `os/arch[/variant]`. */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.split('/');
  if (!os || !architecture) throw new Error(`invalid platform "${s}" (want os/arch[/variant])`);
  return variant ? { os, architecture, variant } : { os, architecture };
}
