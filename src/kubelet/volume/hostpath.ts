// hostPath volume type checks as upstream's hostPath plugin makes them (DirectoryOrCreate, Directory, FileOrCreate,
// File, Socket, CharDevice, BlockDevice), with its "hostPath type check failed" messages. Never writes below an
// existing path: the only writes are the OrCreate ones.

import { promises as fs, type Stats } from 'node:fs';

const NOT: Record<string, string> = {
  Directory: 'a directory',
  DirectoryOrCreate: 'a directory',
  File: 'a file',
  FileOrCreate: 'a file',
  Socket: 'a socket file',
  CharDevice: 'a character device',
  BlockDevice: 'a block device',
};

const is: Record<string, (s: Stats) => boolean> = {
  Directory: (s) => s.isDirectory(),
  DirectoryOrCreate: (s) => s.isDirectory(),
  File: (s) => s.isFile(),
  FileOrCreate: (s) => s.isFile(),
  Socket: (s) => s.isSocket(),
  CharDevice: (s) => s.isCharacterDevice(),
  BlockDevice: (s) => s.isBlockDevice(),
};

/** Checks (and for the OrCreate types makes) `path`; throws upstream's message when it is of the wrong type. */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  if (!type) return;
  const test = is[type];
  if (!test) throw new Error(`hostPath type check failed: ${path}: unsupported type ${JSON.stringify(type)}`);
  let st = await fs.stat(path).catch(() => undefined);
  if (!st && type === 'DirectoryOrCreate') {
    await fs.mkdir(path, { recursive: true, mode: 0o755 });
    st = await fs.stat(path);
  }
  if (!st && type === 'FileOrCreate') {
    // As upstream: the parent must exist; the file is made empty with 0644.
    const h = await fs.open(path, 'a', 0o644).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`hostPath type check failed: ${path}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
    });
    await h.close();
    st = await fs.stat(path);
  }
  if (!st || !test(st)) throw new Error(`hostPath type check failed: ${path} is not ${NOT[type]}`);
}
