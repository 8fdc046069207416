// Pure rules of CRI container logs as the kubelet serves them: parsing `<RFC3339Nano> <stream> <P|F> <text>` lines,
// joining partial lines, and the `tailLines` / `sinceTime` / `timestamps` / `limitBytes` options of GET /containerLogs.

export interface CriLogLine {
  /** The timestamp exactly as written (RFC3339Nano). */
  time: string;
  /** Milliseconds since the epoch (nanoseconds truncated). */
  timeMs: number;
  stream: 'stdout' | 'stderr';
  /** false for a partial (P) line: the text continues in the next record. */
  full: boolean;
  text: string;
}

/** Parses one record (without its newline); undefined for a malformed one (skipped, as upstream does). */
export function parseCriLine(line: string): CriLogLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([PF])(?: (.*))?$/s.exec(line);
  if (!m) return undefined;
  const timeMs = Date.parse(m[1]!);
  if (Number.isNaN(timeMs)) return undefined;
  return { time: m[1]!, timeMs, stream: m[2] as 'stdout' | 'stderr', full: m[3] === 'F', text: m[4] ?? '' };
}

export interface LogOptions {
  /** Only the last N lines (of the file as a whole) first; undefined = all. */
  tailLines?: number;
  /** Only lines at or after this time (ms since epoch); from sinceSeconds or sinceTime. */
  sinceMs?: number;
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
}

/** What one record contributes to the output: the text, the newline on full lines and the timestamp prefix. */
export function formatRecord(r: CriLogLine, timestamps: boolean): string {
  return (timestamps ? `${r.time} ` : '') + r.text + (r.full ? '\n' : '');
}

/**
 * Splits a chunk of the log file into complete records; `rest` is the unterminated tail to prepend to the next
 * chunk. Works on Buffers so that multi-byte characters across chunk boundaries stay intact.
 */
export function splitRecords(buf: Buffer): { records: string[]; rest: Buffer } {
  const records: string[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    records.push(buf.subarray(start, nl).toString('utf8'));
    start = nl + 1;
  }
  return { records, rest: buf.subarray(start) };
}

/**
 * Where tailing starts: the index of the first record of the last `n` logical lines (a logical line ends with a
 * full record; partial records belong to the line they continue).
 */
export function tailStart(records: CriLogLine[], n: number): number {
  if (n <= 0) return records.length;
  let lines = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    // A logical line starts at i when i is the first record or the record before it ended a line.
    if (i === 0 || records[i - 1]!.full) {
      lines++;
      if (lines === n) return i;
    }
  }
  return 0;
}

/** Applies since/tail to the records read so far and formats them (the non-follow part of a request). */
export function selectRecords(records: CriLogLine[], opts: LogOptions): CriLogLine[] {
  let out = records;
  if (opts.sinceMs !== undefined) out = out.filter((r) => r.timeMs >= opts.sinceMs!);
  if (opts.tailLines !== undefined && opts.tailLines >= 0) out = out.slice(tailStart(out, opts.tailLines));
  return out;
}

/** Parses the query of GET /containerLogs (and pods/log) into options; throws with upstream's messages. */
export function parseLogQuery(q: URLSearchParams, now = Date.now()): LogOptions & { follow: boolean; previous: boolean } {
  const bool = (k: string) => q.get(k) === 'true' || q.get(k) === '1';
  const int = (k: string): number | undefined => {
    const v = q.get(k);
    if (v === null || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw new Error(`invalid value for ${k}: ${v}`);
    return Number(v);
  };
  const opts: LogOptions & { follow: boolean; previous: boolean } = { follow: bool('follow'), previous: bool('previous'), timestamps: bool('timestamps') };
  const tail = int('tailLines');
  if (tail !== undefined) {
    if (tail < 0) throw new Error('tailLines: Invalid value: must be greater than or equal to 0');
    opts.tailLines = tail;
  }
  const limit = int('limitBytes');
  if (limit !== undefined) {
    if (limit < 1) throw new Error('limitBytes: Invalid value: must be greater than 0');
    opts.limitBytes = limit;
  }
  const since = int('sinceSeconds');
  const sinceTime = q.get('sinceTime');
  if (since !== undefined && sinceTime) throw new Error('at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (since !== undefined) {
    if (since < 1) throw new Error('sinceSeconds: Invalid value: must be greater than 0');
    opts.sinceMs = now - since * 1000;
  } else if (sinceTime) {
    const t = Date.parse(sinceTime);
    if (Number.isNaN(t)) throw new Error(`sinceTime: Invalid value: "${sinceTime}": must be RFC3339`);
    opts.sinceMs = t;
  }
  return opts;
}
