// Test helpers for runtime tests: a busybox rootfs built from Debian's busybox-static, a stand-in ImageService that
// serves it (one overlayfs per container, like the real image store), and "test host" network namespaces that keep
// pod networks out of the machine's root namespace (environment.md, network rule).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, copyFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { check, run } from './command.js';
import type { Image, ImageService } from './interface.js';

export const BUSYBOX_IMAGE = 'k8ts.test/busybox:latest';

/** Fails with a clear message when the machine cannot run containers (not root, a Debian package missing). */
export function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('runtime tests need root (runc, network namespaces, mounts)');
  const need: Array<[string, string]> = [
    ['runc', 'runc'],
    ['conmon', 'conmon'],
    ['nsenter', 'util-linux'],
    ['unshare', 'util-linux'],
    ['script', 'bsdutils'],
    ['ip', 'iproute2'],
    ['iptables', 'iptables'],
  ];
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  const missing = need.filter(([bin]) => !dirs.some((d) => d && existsSync(join(d, bin)))).map(([b, pkg]) => `${b} (${pkg})`);
  for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) {
    if (!existsSync(join('/usr/lib/cni', plugin)) && !existsSync(join('/opt/cni/bin', plugin))) missing.push(`CNI ${plugin} (containernetworking-plugins)`);
  }
  busyboxPath();
  if (missing.length > 0) throw new Error(`missing on this machine: ${missing.join(', ')} — run scripts/ensure-deps.sh`);
}

/** The busybox-static binary (Debian), or a clear error naming the package. */
export function busyboxPath(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(p)) return p;
  throw new Error('busybox not found: install the Debian package busybox-static (scripts/ensure-deps.sh)');
}

/** Writes a minimal rootfs: /bin/busybox, one symlink per applet, passwd/group, the usual empty dirs. */
export function buildBusyboxRootfs(dir: string): void {
  const bb = busyboxPath();
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'root', 'var/www', 'home/app']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(bb, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(bb, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox' && !existsSync(join(dir, 'bin', a))) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nwheel:x:10:app\napp:x:1000:\nnogroup:x:65534:\n');
  writeFileSync(join(dir, 'var', 'www', 'index.html'), 'hello from busybox\n');
}

/**
 * A stand-in ImageService serving one prepared busybox image (the real one is src/images). Each container gets an
 * overlayfs of the shared rootfs with its own upper dir, so containers never see each other's writes.
 */
export class TestImages implements ImageService {
  readonly image: Image;
  private readonly base: string;

  constructor(readonly dir: string) {
    this.base = join(dir, 'busybox');
    if (!existsSync(join(this.base, 'bin', 'busybox'))) buildBusyboxRootfs(this.base);
    const id = `sha256:${randomBytes(32).toString('hex')}`;
    this.image = {
      id,
      repoTags: [BUSYBOX_IMAGE],
      repoDigests: [],
      size: 2_000_000,
      config: { cmd: ['sh'], env: ['PATH=/bin'] },
    };
    mkdirSync(join(dir, 'containers'), { recursive: true });
  }

  async pullImage(ref: string): Promise<Image> {
    const img = await this.imageStatus(ref);
    if (!img) throw new Error(`test images serve only ${BUSYBOX_IMAGE}, not ${ref}`);
    return img;
  }

  async imageStatus(ref: string): Promise<Image | undefined> {
    return ref === this.image.id || this.image.repoTags.includes(ref) ? this.image : undefined;
  }

  async listImages(): Promise<Image[]> {
    return [this.image];
  }

  async removeImage(): Promise<void> {}

  async importImage(): Promise<Image[]> {
    return [];
  }

  async mountRootfs(imageId: string, containerId: string): Promise<string> {
    if (imageId !== this.image.id) throw new Error(`unknown image ${imageId}`);
    const c = join(this.dir, 'containers', containerId);
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(c, d), { recursive: true });
    await check('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${this.base},upperdir=${c}/upper,workdir=${c}/work`, `${c}/merged`]);
    return `${c}/merged`;
  }

  async removeRootfs(containerId: string): Promise<void> {
    const c = join(this.dir, 'containers', containerId);
    if (!existsSync(c)) return;
    const r = await run('umount', [`${c}/merged`]);
    if (r.code !== 0 && !/not mounted|no mount point/.test(r.stderr)) throw new Error(`umount ${c}/merged: ${r.stderr.trim()}`);
    rmSync(c, { recursive: true, force: true });
  }

  async fsInfo(): Promise<{ usedBytes: number; inodesUsed: number }> {
    return { usedBytes: this.image.size, inodesUsed: 0 };
  }
}

export interface TestHost {
  name: string;
  /** `/run/netns/<name>`, to give the runtime as hostNetns. */
  path: string;
  destroy(): Promise<void>;
}

/** A fresh network namespace standing in for the node's host network (lo up, nothing else). */
export async function createTestHost(prefix = 'k8ts-th'): Promise<TestHost> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await check('ip', ['netns', 'add', name]);
  await check('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    path: `/run/netns/${name}`,
    destroy: async () => {
      await run('ip', ['netns', 'del', name]);
    },
  };
}

/** Mount points at or under `prefix` (from /proc/self/mountinfo), for leftover checks. */
export function mountsUnder(prefix: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === prefix || m.startsWith(`${prefix}/`)));
}

/**
 * After a test or benchmark of a whole node: force-deletes the containers still known to the runc state under
 * `<dataDir>/runtime/runc` and lazily unmounts whatever is still mounted under dataDir (deepest first).
 */
export function removeNodeLeftovers(dataDir: string): void {
  const runcRoot = join(dataDir, 'runtime', 'runc');
  if (existsSync(runcRoot)) {
    for (const id of readdirSync(runcRoot)) {
      try {
        execFileSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
      } catch {
        // gone
      }
    }
  }
  for (const m of mountsUnder(dataDir).reverse()) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // gone
    }
  }
}
