// Streams one container's CRI log file as GET /containerLogs serves it: since/tail/timestamps/limitBytes on what is
// there, then (with follow) new records as they are written, across log rotation, until the container has exited.

import { open, stat, type FileHandle } from 'node:fs/promises';
import { formatRecord, parseCriLine, selectRecords, splitRecords, type CriLogLine, type LogOptions } from './crilog.js';

export interface LogSink {
  write(chunk: string): boolean | void;
  /** True once the client went away. */
  readonly closed: boolean;
}

const POLL_MS = 100;

async function readAll(fh: FileHandle, from: number): Promise<{ data: Buffer; pos: number }> {
  const chunks: Buffer[] = [];
  let pos = from;
  for (;;) {
    const buf = Buffer.alloc(256 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return { data: Buffer.concat(chunks), pos };
}

/**
 * Writes the log to `sink`. `running()` tells whether the container may still write (follow stops after the
 * last read once it returns false). Resolves when done.
 */
export async function streamContainerLog(path: string, opts: LogOptions & { follow: boolean }, sink: LogSink, running: () => Promise<boolean>): Promise<void> {
  let fh = await open(path, 'r');
  let ino = (await fh.stat()).ino;
  let budget = opts.limitBytes ?? Infinity;
  const emit = (records: CriLogLine[]): boolean => {
    for (const r of records) {
      if (opts.sinceMs !== undefined && r.timeMs < opts.sinceMs) continue;
      let s = formatRecord(r, opts.timestamps ?? false);
      const n = Buffer.byteLength(s);
      if (n > budget) s = Buffer.from(s).subarray(0, budget).toString('utf8');
      budget -= Math.min(n, budget);
      sink.write(s);
      if (budget <= 0) return false;
    }
    return true;
  };
  const parse = (lines: string[]) => lines.map(parseCriLine).filter((r): r is CriLogLine => r !== undefined);
  try {
    const first = await readAll(fh, 0);
    let pos = first.pos;
    let { records, rest } = splitRecords(first.data);
    if (!emit(selectRecords(parse(records), { ...opts, sinceMs: opts.sinceMs }))) return;
    if (!opts.follow) return;
    for (;;) {
      if (sink.closed) return;
      const alive = await running();
      const more = await readAll(fh, pos);
      pos = more.pos;
      ({ records, rest } = splitRecords(Buffer.concat([rest, more.data])));
      if (!emit(parse(records))) return;
      // Rotation: the path now names a new file; finish the old one, then continue with the new one.
      const cur = await stat(path).catch(() => undefined);
      if (cur && cur.ino !== ino) {
        // What the writer appended to the old file between our read and the rename is still there: drain it.
        const tail = await readAll(fh, pos);
        ({ records, rest } = splitRecords(Buffer.concat([rest, tail.data])));
        if (!emit(parse(records))) return;
        await fh.close();
        fh = await open(path, 'r');
        ino = (await fh.stat()).ino;
        pos = 0;
        rest = Buffer.alloc(0);
        continue;
      }
      if (cur && cur.size < pos) pos = 0; // truncated in place
      if (!alive && more.data.length === 0) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}
