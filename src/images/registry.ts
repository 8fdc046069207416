// Distribution API v2 client: resolve and pull images into the store (token and basic auth, manifest lists / OCI
// indexes → this node's platform, Docker schema 2 and OCI manifests, verified digests, progress, parallel layer
// downloads) and a minimal push for tests. Loopback registries are spoken to over HTTP, all others over HTTPS.
// A pull writes nothing visible until its last step: blobs and layers are leased, the image commits at the end,
// so a failed pull leaves no half image (only verified blobs that the next attempt reuses).

import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type AuthConfig, type Image, ImagePullError, type PullProgress } from '../runtime/interface.js';
import { type ConfigFile, type Descriptor, MANIFEST_ACCEPT, type Manifest, type Platform, digestHex, layerCompression, nodePlatform, parseManifestBody, platformString, selectPlatform, sha256 } from './oci.js';
import { type Reference, ReferenceError, isLoopbackRegistry, parseReference, registryHost, repositoryName } from './reference.js';
import { type ImageStore, type Lease, StoreError } from './store.js';

export interface RegistryOptions {
  /** Platform to resolve manifest lists for (default: this node's). */
  platform?: Platform;
  /** Registry hosts (host[:port]) to speak plain HTTP to, besides loopback ones. */
  insecureRegistries?: string[];
  /** Layers downloaded at once (containerd's default is 3). */
  maxConcurrentDownloads?: number;
  /** Abort a request whose response stalls this long (ms). */
  stallTimeoutMs?: number;
}

/** An error from talking to a registry, worded as containerd's resolver and fetcher word theirs. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header (`Bearer realm="…",service="…",scope="repository:x:pull,push"`). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme, params };
}

function networkMessage(e: unknown, method: string, url: string): string {
  const cause = (e as { cause?: NodeJS.ErrnoException }).cause ?? (e as NodeJS.ErrnoException);
  const u = new URL(url);
  const hostPort = `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  const verb = method[0] + method.slice(1).toLowerCase();
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return `failed to do request: ${verb} "${url}": dial tcp ${hostPort}: connect: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `failed to do request: ${verb} "${url}": dial tcp: lookup ${u.hostname}: no such host`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `failed to do request: ${verb} "${url}": dial tcp ${hostPort}: i/o timeout`;
    default:
      if ((e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError') return `failed to do request: ${verb} "${url}": context deadline exceeded`;
      return `failed to do request: ${verb} "${url}": ${cause?.message ?? String(e)}`;
  }
}

async function serverMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { errors?: Array<{ code?: string; message?: string }> };
    const errs = (body.errors ?? []).map((e) => `${(e.code ?? 'unknown').toLowerCase()}: ${e.message ?? ''}`);
    return errs.join('; ');
  } catch {
    return '';
  }
}

async function limit<T>(items: T[], n: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
      while (next < items.length && failed === undefined) {
        const i = next++;
        try {
          await fn(items[i]!, i);
        } catch (e) {
          failed ??= e;
        }
      }
    }),
  );
  if (failed !== undefined) throw failed;
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** `pull` or `pull,push`. */
  actions?: string;
  auth?: AuthConfig;
  /** Status codes that are answers, not errors (404 on HEAD of a blob, …). */
  accept?: number[];
  /** Whole-request timeout for small bodies; streamed bodies use the stall timeout instead. */
  stream?: boolean;
}

/** Speaks the distribution API to registries, authenticating per host and repository as challenged. */
export class RegistryClient {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private readonly insecure: Set<string>;
  private readonly stallTimeoutMs: number;

  constructor(opts: RegistryOptions = {}) {
    this.insecure = new Set(opts.insecureRegistries ?? []);
    this.stallTimeoutMs = opts.stallTimeoutMs ?? 60_000;
  }

  baseUrl(domain: string): string {
    const host = registryHost(domain);
    return `${isLoopbackRegistry(domain) || this.insecure.has(domain) ? 'http' : 'https'}://${host}/v2/`;
  }

  private async authHeader(ref: Reference, actions: string, auth: AuthConfig | undefined, challenge: Challenge | undefined): Promise<string | undefined> {
    if (auth?.token) return `Bearer ${auth.token}`;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      if (auth?.username === undefined) return undefined;
      return `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
    }
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError('failed to authorize: bearer challenge without realm');
    const scope = `repository:${ref.path}:${actions}`;
    const key = `${ref.domain}|${scope}|${auth?.username ?? ''}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    if (auth?.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
    const kind = auth?.username !== undefined ? 'oauth' : 'anonymous';
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(this.stallTimeoutMs) });
    } catch (e) {
      throw new RegistryError(`failed to authorize: failed to fetch ${kind} token: ${networkMessage(e, 'GET', url.toString())}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError(`failed to authorize: failed to fetch ${kind} token: unexpected status from GET request to ${url.toString()}: ${res.status} ${res.statusText}`, res.status);
    }
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`failed to authorize: failed to fetch ${kind} token: no token in the response from ${url.toString()}`);
    // Upstream treats a missing expires_in as 60 s; renew a little early.
    this.tokens.set(key, { token, expires: Date.now() + Math.max(10, (body.expires_in ?? 60) - 5) * 1000 });
    return `Bearer ${token}`;
  }

  /**
   * One request to `/v2/<path>` (or an absolute URL, for upload locations), authenticating as the registry
   * challenges: anonymous first (or with what this host challenged before), then once more after a 401.
   */
  async request(ref: Reference, path: string, opts: RequestOptions = {}): Promise<Response> {
    const method = opts.method ?? 'GET';
    const url = /^https?:\/\//.test(path) ? path : this.baseUrl(ref.domain) + path;
    const actions = opts.actions ?? 'pull';
    for (let attempt = 0; ; attempt++) {
      const challenge = this.challenges.get(ref.domain);
      const authorization = await this.authHeader(ref, actions, opts.auth, challenge);
      const headers: Record<string, string> = { ...opts.headers };
      if (authorization) headers.authorization = authorization;
      const ctl = new AbortController();
      let timer = setTimeout(() => ctl.abort(new DOMException('stalled', 'TimeoutError')), this.stallTimeoutMs);
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body: opts.body ? (new Uint8Array(opts.body) as unknown as BodyInit) : undefined, signal: ctl.signal, redirect: 'follow' });
      } catch (e) {
        clearTimeout(timer);
        throw new RegistryError(networkMessage(e, method, url));
      }
      if (res.status === 401 && attempt === 0 && !opts.auth?.token) {
        const c = parseChallenge(res.headers.get('www-authenticate'));
        // Retry once with what the challenge asks for (a cached token the registry no longer takes is dropped);
        // a Basic challenge without credentials is answered by the error below.
        if (c && !(c.scheme === 'basic' && opts.auth?.username === undefined)) {
          clearTimeout(timer);
          await res.body?.cancel();
          this.challenges.set(ref.domain, c);
          if (authorization?.startsWith('Bearer ')) for (const [k, v] of this.tokens) if (`Bearer ${v.token}` === authorization) this.tokens.delete(k);
          continue;
        }
      }
      if (opts.stream && res.body) {
        // Streamed bodies: the timer now guards against stalls between chunks, not the whole download.
        clearTimeout(timer);
        const reader = res.body as unknown as WebReadableStream<Uint8Array>;
        const node = Readable.fromWeb(reader);
        timer = setTimeout(() => ctl.abort(new DOMException('stalled', 'TimeoutError')), this.stallTimeoutMs);
        node.on('data', () => timer.refresh());
        node.on('close', () => clearTimeout(timer));
        node.on('error', () => clearTimeout(timer));
        (res as Response & { nodeBody?: Readable }).nodeBody = node;
      } else {
        clearTimeout(timer);
      }
      if (res.ok || opts.accept?.includes(res.status)) return res;
      const msg = await serverMessage(res);
      if (res.status === 401 || res.status === 403) {
        if (authorization || opts.auth) {
          throw new RegistryError(`pull access denied, repository does not exist or may require authorization: server message: ${msg || `${res.status} ${res.statusText}`}`, res.status);
        }
        throw new RegistryError(`unexpected status from ${method} request to ${url}: ${res.status} ${res.statusText}`, res.status);
      }
      throw new RegistryError(`unexpected status from ${method} request to ${url}: ${res.status} ${res.statusText}${msg ? ` (${msg})` : ''}`, res.status);
    }
  }

  /** GETs a manifest or index by tag or digest; verifies the digest when asked by digest. */
  async getManifest(ref: Reference, reference: string, auth?: AuthConfig): Promise<{ body: Buffer; digest: string; contentType?: string }> {
    const name = `${repositoryName(ref)}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const res = await this.request(ref, `${ref.path}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT }, auth, accept: [404] });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError(`${name}: not found`, 404);
    }
    const body = Buffer.from(await res.arrayBuffer());
    const digest = sha256(body);
    if (reference.startsWith('sha256:') && digest !== reference) throw new RegistryError(`manifest ${name} has digest ${digest}, expected ${reference}: failed precondition`);
    return { body, digest, contentType: res.headers.get('content-type') ?? undefined };
  }

  /** A blob's bytes as a stream (verified by the caller while storing). */
  async getBlob(ref: Reference, digest: string, auth?: AuthConfig): Promise<{ stream: Readable; size?: number }> {
    const res = await this.request(ref, `${ref.path}/blobs/${digest}`, { auth, accept: [404], stream: true });
    const url = this.baseUrl(ref.domain) + `${ref.path}/blobs/${digest}`;
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError(`httpReadSeeker: failed open: content at ${url} not found: not found`, 404);
    }
    const len = res.headers.get('content-length');
    const stream = (res as Response & { nodeBody?: Readable }).nodeBody ?? Readable.from([]);
    return { stream, size: len ? Number(len) : undefined };
  }

  // ---- push (minimal: monolithic uploads) ----------------------------------------------------------------------------

  async hasBlob(ref: Reference, digest: string, auth?: AuthConfig): Promise<boolean> {
    const res = await this.request(ref, `${ref.path}/blobs/${digest}`, { method: 'HEAD', auth, actions: 'pull,push', accept: [404] });
    await res.body?.cancel();
    return res.status !== 404;
  }

  /** Uploads a blob unless the registry has it: POST an upload, PUT the bytes with `?digest=`. */
  async pushBlob(ref: Reference, digest: string, data: Buffer, auth?: AuthConfig): Promise<void> {
    if (await this.hasBlob(ref, digest, auth)) return;
    const start = await this.request(ref, `${ref.path}/blobs/uploads/`, { method: 'POST', auth, actions: 'pull,push', headers: { 'content-length': '0' } });
    await start.body?.cancel();
    const location = start.headers.get('location');
    if (!location) throw new RegistryError(`upload of ${digest}: no Location in the registry's answer`);
    const put = new URL(location, this.baseUrl(ref.domain));
    put.searchParams.set('digest', digest);
    const res = await this.request(ref, put.toString(), {
      method: 'PUT',
      auth,
      actions: 'pull,push',
      body: data,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    });
    await res.body?.cancel();
  }

  async pushManifest(ref: Reference, reference: string, body: Buffer, mediaType: string, auth?: AuthConfig): Promise<string> {
    const res = await this.request(ref, `${ref.path}/manifests/${reference}`, { method: 'PUT', auth, actions: 'pull,push', body, headers: { 'content-type': mediaType } });
    await res.body?.cancel();
    return res.headers.get('docker-content-digest') ?? sha256(body);
  }
}

/** Pulls images from registries into the store. */
export class Puller {
  readonly client: RegistryClient;
  private readonly platform: Platform;
  private readonly concurrency: number;

  constructor(
    private readonly store: ImageStore,
    opts: RegistryOptions = {},
  ) {
    this.client = new RegistryClient(opts);
    this.platform = opts.platform ?? nodePlatform();
    this.concurrency = opts.maxConcurrentDownloads ?? 3;
  }

  /**
   * Pulls `refString`: the manifest is always resolved (a moved tag is followed, as with pull policy Always),
   * blobs and layers already stored are not fetched again, and a digest ref whose image is stored needs no
   * registry at all. Every failure is an ImagePullError worded as containerd's.
   */
  async pull(refString: string, auth?: AuthConfig, onProgress?: (p: PullProgress) => void): Promise<Image> {
    let ref: Reference;
    try {
      ref = parseReference(refString);
    } catch (e) {
      if (e instanceof ReferenceError) throw new ImagePullError(`failed to pull and unpack image "${refString}": ${e.message}`, 'InvalidImageName');
      throw e;
    }
    const display = `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
    if (ref.digest) {
      const have = await this.store.getImage(`${repositoryName(ref)}@${ref.digest}`);
      if (have && (ref.tag === undefined || have.repoTags.includes(`${repositoryName(ref)}:${ref.tag}`))) return have;
    }
    const lease = await this.store.lease();
    let resolving = true;
    try {
      const top = await this.client.getManifest(ref, ref.digest ?? ref.tag!, auth);
      await this.store.ingest(top.body, lease, { digest: top.digest });
      let parsed = parseManifestBody(top.body, top.contentType);
      let manifestDigest = top.digest;
      const extraBlobs: string[] = [];
      resolving = false;
      if (parsed.kind === 'index') {
        const desc = selectPlatform(parsed.index.manifests, this.platform);
        if (!desc) throw new RegistryError(`no match for platform in manifest: not found`);
        const m = await this.client.getManifest(ref, desc.digest, auth);
        await this.store.ingest(m.body, lease, { digest: desc.digest, size: desc.size });
        parsed = parseManifestBody(m.body, desc.mediaType);
        if (parsed.kind !== 'manifest') throw new RegistryError(`manifest ${desc.digest} for ${platformString(this.platform)} is an index, not an image manifest`);
        extraBlobs.push(top.digest);
        manifestDigest = desc.digest;
      }
      const manifest: Manifest = parsed.manifest;
      const config = await this.fetchConfig(ref, manifest.config, lease, auth);
      if (config.rootfs?.diff_ids?.length !== manifest.layers.length) {
        throw new RegistryError(`manifest ${manifestDigest} has ${manifest.layers.length} layers but its config lists ${config.rootfs?.diff_ids?.length ?? 0} diff_ids`);
      }
      for (const l of manifest.layers) {
        if (!layerCompression(l.mediaType)) throw new RegistryError(`layer ${l.digest}: unsupported media type ${l.mediaType}`);
      }
      await limit(manifest.layers, this.concurrency, (l, i) => this.fetchLayer(ref, display, l, config.rootfs.diff_ids[i]!, lease, auth, onProgress));
      return await this.store.commitImage({
        configDigest: manifest.config.digest,
        config,
        manifestDigest,
        manifestMediaType: parsed.mediaType,
        layers: manifest.layers,
        tags: ref.tag !== undefined ? [`${repositoryName(ref)}:${ref.tag}`] : [],
        repoDigests: [`${repositoryName(ref)}@${top.digest}`],
        extraBlobs,
      });
    } catch (e) {
      if (e instanceof ImagePullError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      if (resolving && e instanceof RegistryError) throw new ImagePullError(`failed to pull and unpack image "${display}": failed to resolve reference "${display}": ${msg}`);
      throw new ImagePullError(`failed to pull and unpack image "${display}": ${msg}`);
    } finally {
      await lease.release();
    }
  }

  private async fetchConfig(ref: Reference, desc: Descriptor, lease: Lease, auth?: AuthConfig): Promise<ConfigFile> {
    digestHex(desc.digest);
    await lease.add([desc.digest]);
    if (!(await this.store.hasBlob(desc.digest))) {
      const blob = await this.client.getBlob(ref, desc.digest, auth);
      await this.store.ingest(blob.stream, lease, { digest: desc.digest, size: desc.size }).catch((e: unknown) => {
        throw e instanceof StoreError ? new RegistryError(`failed commit on ref "config-${desc.digest}": ${e.message}`) : e;
      });
    }
    try {
      return JSON.parse((await this.store.readBlob(desc.digest)).toString('utf8')) as ConfigFile;
    } catch {
      throw new RegistryError(`config ${desc.digest} is not valid JSON`);
    }
  }

  private async fetchLayer(ref: Reference, display: string, desc: Descriptor, diffId: string, lease: Lease, auth: AuthConfig | undefined, onProgress?: (p: PullProgress) => void): Promise<void> {
    digestHex(desc.digest);
    await lease.add([desc.digest, diffId]);
    if (!(await this.store.hasBlob(desc.digest))) {
      const blob = await this.client.getBlob(ref, desc.digest, auth);
      let last = 0;
      let lastAt = 0;
      const report = (bytes: number, force = false): void => {
        if (!onProgress) return;
        const now = Date.now();
        if (!force && bytes - last < 256 * 1024 && now - lastAt < 200) return;
        last = bytes;
        lastAt = now;
        onProgress({ ref: display, layer: desc.digest, bytes, total: desc.size });
      };
      report(0, true);
      const { size } = await this.store.ingest(blob.stream, lease, { digest: desc.digest, size: desc.size }, (n) => report(n)).catch((e: unknown) => {
        throw e instanceof StoreError ? new RegistryError(`failed commit on ref "layer-${desc.digest}": ${e.message}`) : e;
      });
      report(size, true);
    } else {
      onProgress?.({ ref: display, layer: desc.digest, bytes: desc.size, total: desc.size });
    }
    try {
      await this.store.unpack(desc.digest, diffId, lease);
    } catch (e) {
      throw new RegistryError(`failed to extract layer ${diffId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
