// Namespaces of a pod without a holder process: network, IPC and UTS namespaces pinned to files by bind mounts
// (`unshare --net=<file>`, as CRI-O's pinns), released by unmounting; and TCP connections made from inside a
// network namespace (port-forward, hostPort checks) through a small relay process entered with nsenter.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { check, run } from './command.js';

export interface PinnedNamespaces {
  net?: string;
  ipc?: string;
  uts?: string;
}

export interface PinOptions {
  /** The UTS namespace's hostname. */
  hostname?: string;
  /** Set the new network namespace's `lo` up (what CNI's loopback plugin does, without a program of its own). */
  loopbackUp?: boolean;
  /** A tmpfs mounted (in the host's mount namespace) for the pod's /dev/shm. */
  shm?: { path: string; sizeBytes: number };
}

/**
 * Creates new namespaces pinned at the given paths (files created as needed) and does the rest of a sandbox's
 * set-up that belongs inside them in the same program: one process start for what were four.
 */
export async function pinNamespaces(paths: PinnedNamespaces, opts: PinOptions = {}): Promise<void> {
  const args: string[] = [];
  for (const [kind, path] of Object.entries(paths) as Array<[keyof PinnedNamespaces, string | undefined]>) {
    if (!path) continue;
    closeSync(openSync(path, 'a'));
    args.push(`--${kind}=${path}`);
  }
  if (args.length === 0) return;
  // The script runs inside the new namespaces; its values come as positional parameters, never as script text.
  const steps = ['set -e'];
  if (paths.uts && opts.hostname) steps.push('hostname "$1"');
  if (paths.net && opts.loopbackUp) steps.push('ip link set lo up');
  if (opts.shm) steps.push('mount -t tmpfs -o "nosuid,nodev,noexec,mode=1777,size=$3" shm "$2"');
  try {
    await check('unshare', [...args, '--', '/bin/sh', '-c', steps.join('\n'), 'sh', opts.hostname ?? '', opts.shm?.path ?? '', String(opts.shm?.sizeBytes ?? 0)]);
  } catch (err) {
    if (opts.shm) await run('umount', [opts.shm.path]);
    await releaseNamespaces(paths);
    throw err;
  }
}

/** Unmounts and deletes pinned namespace files; idempotent. */
export async function releaseNamespaces(paths: PinnedNamespaces): Promise<void> {
  const files = (Object.values(paths) as Array<string | undefined>).filter((p): p is string => p !== undefined && existsSync(p));
  if (files.length === 0) return;
  // One umount for all of them (a program start each is the cost here); umount goes on past a file not mounted.
  const r = await run('umount', files);
  if (r.code !== 0) {
    const failed = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/not mounted/.test(l));
    if (failed.length > 0) throw new Error(`umount ${files.join(' ')}: ${failed.join('; ').trim()}`);
  }
  for (const path of files) rmSync(path, { force: true });
}

const RELAY = fileURLToPath(new URL('./netns-relay.js', import.meta.url));

/**
 * A TCP connection to host:port made from inside the network namespace `netns` (directly when undefined).
 * Resolves once connected; the stream's end closes the write side, destroy() drops the connection.
 */
export function dialInNetns(netns: string | undefined, host: string, port: number): Promise<Duplex> {
  if (!netns) {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netns}`, '--', process.execPath, RELAY, host, String(port)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let errText = '';
    let connected = false;
    child.on('error', reject);
    child.stderr.on('data', (d: Buffer) => {
      errText += d.toString();
      if (!connected && errText.startsWith('ok\n')) {
        connected = true;
        const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
        duplex.on('close', () => child.kill('SIGKILL'));
        resolve(duplex);
      }
    });
    child.on('exit', (code) => {
      if (!connected) reject(new Error(`connect ${host}:${port} in ${netns}: ${errText.trim() || `exit ${code}`}`));
    });
  });
}
