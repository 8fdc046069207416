// Test and e2e helper: builds the images the tests run from Debian packages, deterministically (same inputs, same
// digests), and serves them from a local registry. Images: `k8ts.local/busybox:1.36` (busybox-static with its
// applet symlinks), `k8ts.local/kubia:1` (busybox httpd on 8080 answering `You've hit <hostname>`, sharing the
// busybox layer) and `k8ts.local/pause:1`. The registry is Debian's docker-registry on 127.0.0.1 with our own
// config: no auth, htpasswd (basic) or token auth (with a token server here). Nothing here talks to anything but
// loopback.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { AuthConfig, ImageService } from '../runtime/interface.js';
import { EPOCH, writeOciArchive } from './archive.js';
import { type ConfigFile, type Descriptor, type Index, type Manifest, MediaType, type Platform, sha256 } from './oci.js';
import { parseReference } from './reference.js';
import { RegistryClient } from './registry.js';

export const BUSYBOX_IMAGE = 'k8ts.local/busybox:1.36';
export const KUBIA_IMAGE = 'k8ts.local/kubia:1';
export const PAUSE_IMAGE = 'k8ts.local/pause:1';
const BUSYBOX_BINARY = '/bin/busybox';
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface LayerEntry {
  path: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  data?: Buffer | string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes (PAX SCHILY.xattr.*). */
  xattrs?: Record<string, string>;
}

export interface BuiltLayer {
  /** The uncompressed tar (its sha256 is the diffID). */
  tar: Buffer;
  /** The blob as pushed: gzip of tar, or tar itself. */
  blob: Buffer;
  digest: string;
  diffId: string;
  mediaType: string;
}

export interface BuiltImage {
  name: string;
  platform: Platform;
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
  layers: BuiltLayer[];
}

export interface BuiltIndex {
  name: string;
  index: Buffer;
  digest: string;
  mediaType: string;
  images: BuiltImage[];
}

/** A layer tar from entries, in the order given (parents first is the caller's job), fixed mtime and owner. */
export async function buildLayer(entries: LayerEntry[], opts: { gzip?: boolean } = {}): Promise<BuiltLayer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((res, rej) => {
    pack.on('end', () => res());
    pack.on('error', rej);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    const header: tar.Headers & { pax?: Record<string, string> } = {
      name: e.path,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      uname: '',
      gname: '',
      mtime: EPOCH,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
      ...(e.xattrs ? { pax: Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [`SCHILY.xattr.${k}`, v])) } : {}),
    };
    await new Promise<void>((res, rej) => pack.entry(header, type === 'file' ? data : undefined, (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await ended;
  const tarBuf = Buffer.concat(chunks);
  const gzip = opts.gzip ?? true;
  const blob = gzip ? gzipSync(tarBuf, { level: 6 }) : tarBuf;
  return { tar: tarBuf, blob, digest: sha256(blob), diffId: sha256(tarBuf), mediaType: gzip ? MediaType.ociLayerGzip : MediaType.ociLayer };
}

/** An OCI image (config + manifest) from layers. */
export function buildImage(name: string, layers: BuiltLayer[], config: NonNullable<ConfigFile['config']>, platform: Platform = { os: 'linux', architecture: 'amd64' }): BuiltImage {
  const cfg: ConfigFile = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: EPOCH.toISOString(),
    config,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: EPOCH.toISOString(), created_by: 'k8ts images/build.ts' })),
  };
  const configBuf = Buffer.from(JSON.stringify(cfg));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256(configBuf), size: configBuf.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
  };
  const manifestBuf = Buffer.from(JSON.stringify(manifest));
  return { name, platform, config: configBuf, configDigest: sha256(configBuf), manifest: manifestBuf, manifestDigest: sha256(manifestBuf), mediaType: MediaType.ociManifest, layers };
}

/** An OCI index over per-platform images (a multi-arch image). */
export function buildIndex(name: string, images: BuiltImage[]): BuiltIndex {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map((i) => ({ mediaType: i.mediaType, digest: i.manifestDigest, size: i.manifest.length, platform: i.platform })),
  };
  const buf = Buffer.from(JSON.stringify(index));
  return { name, index: buf, digest: sha256(buf), mediaType: MediaType.ociIndex, images };
}

/** Every blob of the images and indexes, by digest. */
export function blobsOf(items: Array<BuiltImage | BuiltIndex>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const addImage = (i: BuiltImage): void => {
    out.set(i.manifestDigest, i.manifest);
    out.set(i.configDigest, i.config);
    for (const l of i.layers) out.set(l.digest, l.blob);
  };
  for (const it of items) {
    if ('index' in it) {
      out.set(it.digest, it.index);
      it.images.forEach(addImage);
    } else addImage(it);
  }
  return out;
}

function topDescriptor(it: BuiltImage | BuiltIndex): Descriptor {
  return 'index' in it ? { mediaType: it.mediaType, digest: it.digest, size: it.index.length } : { mediaType: it.mediaType, digest: it.manifestDigest, size: it.manifest.length };
}

let busyboxLayerCache: Promise<BuiltLayer> | undefined;

/** The busybox root filesystem layer: /bin/busybox from busybox-static, its applet symlinks, /etc basics. */
export function busyboxLayer(): Promise<BuiltLayer> {
  busyboxLayerCache ??= (async () => {
    const binary = readFileSync(BUSYBOX_BINARY);
    const applets = execFileSync(BUSYBOX_BINARY, ['--list-full'], { encoding: 'utf8' })
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s && s !== 'bin/busybox')
      .sort();
    const dirs = new Set<string>(['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'tmp', 'usr', 'usr/bin', 'usr/sbin', 'sbin', 'var', 'var/run', 'var/log']);
    for (const a of applets) {
      const parts = a.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    const entries: LayerEntry[] = [...dirs].sort().map((d) => ({ path: `${d}/`, type: 'directory', mode: d === 'tmp' ? 0o1777 : d === 'root' ? 0o700 : 0o755 }));
    entries.push({ path: 'bin/busybox', data: binary, mode: 0o755 });
    for (const a of applets) entries.push({ path: a, type: 'symlink', linkname: '/bin/busybox' });
    entries.push(
      { path: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n' },
      { path: 'etc/group', data: 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n' },
      { path: 'etc/hostname', data: 'localhost\n' },
    );
    return buildLayer(entries);
  })();
  return busyboxLayerCache;
}

function busyboxVersion(): string {
  return /BusyBox v([\d.]+)/.exec(execFileSync(BUSYBOX_BINARY, [], { encoding: 'utf8' }).split('\n')[0] ?? '')?.[1] ?? 'unknown';
}

/** `k8ts.local/busybox:1.36`: busybox-static, `sh` by default. */
export async function buildBusybox(name = BUSYBOX_IMAGE): Promise<BuiltImage> {
  return buildImage(name, [await busyboxLayer()], { Env: [PATH_ENV], Cmd: ['sh'], Labels: { 'io.k8ts.busybox.version': busyboxVersion() } });
}

/** The CGI that makes busybox httpd answer like kubia (`You've hit <hostname>`). */
const KUBIA_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "You've hit $(hostname)"
`;

/** `k8ts.local/kubia:1`: the busybox layer plus /www with cgi-bin/index.cgi, httpd on 8080 in the foreground. */
export async function buildKubia(name = KUBIA_IMAGE): Promise<BuiltImage> {
  const app = await buildLayer([
    { path: 'www/', type: 'directory' },
    { path: 'www/cgi-bin/', type: 'directory' },
    { path: 'www/cgi-bin/index.cgi', data: KUBIA_CGI, mode: 0o755 },
  ]);
  return buildImage(name, [await busyboxLayer(), app], {
    Env: [PATH_ENV],
    Cmd: ['httpd', '-f', '-v', '-p', '8080', '-h', '/www'],
    ExposedPorts: { '8080/tcp': {} },
    WorkingDir: '/www',
  });
}

/** `k8ts.local/pause:1`: sleeps until SIGTERM/SIGINT (a trap, since PID 1 ignores unhandled signals). */
export async function buildPause(name = PAUSE_IMAGE): Promise<BuiltImage> {
  return buildImage(name, [await busyboxLayer()], {
    Env: [PATH_ENV],
    Entrypoint: ['/bin/sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"],
  });
}

export async function buildTestImages(): Promise<{ busybox: BuiltImage; kubia: BuiltImage; pause: BuiltImage }> {
  const [busybox, kubia, pause] = await Promise.all([buildBusybox(), buildKubia(), buildPause()]);
  return { busybox, kubia, pause };
}

/** Writes images (and indexes) as one OCI layout tar, each top-level entry named. */
export async function writeImagesOci(path: string, items: Array<BuiltImage | BuiltIndex>): Promise<void> {
  await writeOciArchive(path, blobsOf(items), items.map((it) => ({ name: it.name, descriptor: topDescriptor(it) })));
}

/** Builds the three test images into an ImageService (through an OCI layout tar, the `k8ts image import` path). */
export async function loadTestImages(images: Pick<ImageService, 'importImage'>, scratchDir = tmpdir()): Promise<{ busybox: BuiltImage; kubia: BuiltImage; pause: BuiltImage }> {
  const built = await buildTestImages();
  const path = join(scratchDir, `k8ts-test-images-${process.pid}-${Date.now()}.tar`);
  try {
    await writeImagesOci(path, [built.busybox, built.kubia, built.pause]);
    await images.importImage(path);
  } finally {
    await fsp.rm(path, { force: true });
  }
  return built;
}

// ---- a local registry -----------------------------------------------------------------------------------------------

export interface LocalRegistry {
  /** `127.0.0.1:<port>` — prefix of image refs served by it. */
  host: string;
  /** Credentials the registry takes (htpasswd and token modes). */
  auth?: AuthConfig;
  /** The token server's URL (token mode). */
  tokenRealm?: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** A token server as docker-registry's `auth.token` expects: ES256 JWTs with an x5c chain the registry trusts. */
async function startTokenServer(dir: string, service: string, issuer: string, creds: { username: string; password: string }): Promise<{ realm: string; bundle: string; server: Server }> {
  await import('reflect-metadata'); // @peculiar/x509's DI container needs the Reflect polyfill
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto as unknown as Crypto;
  x509.cryptoProvider.set(crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=k8ts-test-token-issuer',
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true)],
  });
  const bundle = join(dir, 'token-root.crt');
  await fsp.writeFile(bundle, cert.toString('pem') + '\n');
  const x5c = Buffer.from(cert.rawData).toString('base64');
  const expect = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  const server = createHttpServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/token' || req.headers.authorization !== expect) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="k8ts-token"' });
        res.end('{"details":"incorrect username or password"}');
        return;
      }
      const access = url.searchParams.getAll('scope').flatMap((s) => {
        const [type, name, actions] = [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1, s.lastIndexOf(':')), s.slice(s.lastIndexOf(':') + 1)];
        return type === 'repository' ? [{ type, name, actions: actions.split(',') }] : [];
      });
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [x5c] }));
      const claims = b64url(JSON.stringify({ iss: issuer, sub: creds.username, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()).slice(2), access }));
      const sig = Buffer.from(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, Buffer.from(`${header}.${claims}`)));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: `${header}.${claims}.${b64url(sig)}`, expires_in: 300, issued_at: new Date().toISOString() }));
    })().catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { realm: `http://127.0.0.1:${(server.address() as { port: number }).port}/token`, bundle, server };
}

/**
 * Starts Debian's docker-registry on 127.0.0.1 with a config of our own in a temporary directory:
 * `auth: 'none'` (default), `'htpasswd'` (Basic; the registry provisions user `docker` with a random password and
 * logs it, so no bcrypt is needed here) or `'token'` (Bearer via a token server started alongside).
 * Resolves once the registry logs that it listens.
 */
export async function startRegistry(opts: { auth?: 'none' | 'htpasswd' | 'token' } = {}): Promise<LocalRegistry> {
  const mode = opts.auth ?? 'none';
  const dir = await fsp.mkdtemp(join(tmpdir(), 'k8ts-registry-'));
  const port = await freePort();
  let token: { realm: string; bundle: string; server: Server } | undefined;
  let auth: AuthConfig | undefined;
  let authYaml = '';
  if (mode === 'htpasswd') {
    authYaml = `auth:\n  htpasswd:\n    realm: k8ts-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (mode === 'token') {
    auth = { username: 'k8ts', password: webcrypto.randomUUID() };
    token = await startTokenServer(dir, 'k8ts-test-registry', 'k8ts-test-issuer', { username: auth.username!, password: auth.password! });
    authYaml = `auth:\n  token:\n    realm: ${token.realm}\n    service: k8ts-test-registry\n    issuer: k8ts-test-issuer\n    rootcertbundle: ${token.bundle}\n`;
  }
  const config = `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: k8ts-test-secret
${authYaml}`;
  await fsp.writeFile(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
  let log = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await new Promise<void>((res, rej) => {
      const onData = (b: Buffer): void => {
        log += b.toString();
        const pw = /password=(\S+) user=(\S+)/.exec(log) ?? /user=(\S+) .*password=(\S+)/.exec(log);
        if (mode === 'htpasswd' && pw && !auth) auth = /^password=/.test(pw[0]) ? { username: pw[2]!, password: pw[1]! } : { username: pw[1]!, password: pw[2]! };
        if (log.includes(`listening on 127.0.0.1:${port}`)) res();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', rej);
      child.once('exit', (code) => rej(new Error(`docker-registry exited (${code}) before listening:\n${log}`)));
      setTimeout(() => rej(new Error(`docker-registry did not listen within 20 s:\n${log}`)), 20_000).unref();
    });
    if (mode === 'htpasswd' && !auth) throw new Error(`docker-registry did not log the provisioned htpasswd user:\n${log}`);
  } catch (e) {
    child.kill('SIGKILL');
    token?.server.close();
    await fsp.rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    host: `127.0.0.1:${port}`,
    ...(auth ? { auth } : {}),
    ...(token ? { tokenRealm: token.realm } : {}),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      if (token) await new Promise<void>((r) => token.server.close(() => r()));
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Pushes an image or index to `ref` (`127.0.0.1:5000/busybox:1.36`): every blob (skipping those the registry
 * has), the per-platform manifests by digest, then the top-level manifest under the ref's tag (or digest).
 */
export async function pushImage(ref: string, item: BuiltImage | BuiltIndex, auth?: AuthConfig, client = new RegistryClient()): Promise<string> {
  const r = parseReference(ref);
  const images = 'index' in item ? item.images : [item];
  for (const img of images) {
    for (const l of img.layers) await client.pushBlob(r, l.digest, l.blob, auth);
    await client.pushBlob(r, img.configDigest, img.config, auth);
    if ('index' in item) await client.pushManifest(r, img.manifestDigest, img.manifest, img.mediaType, auth);
  }
  const top = 'index' in item ? { body: item.index, mediaType: item.mediaType } : { body: item.manifest, mediaType: item.mediaType };
  return client.pushManifest(r, r.digest ?? r.tag!, top.body, top.mediaType, auth);
}
