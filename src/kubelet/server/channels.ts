// Pure parts of the Kubernetes WebSocket channel protocol (v4/v5.channel.k8s.io) used by exec and attach: stream
// ids, the frame prefix, resize messages and the Status sent on the error channel when the command ends.

export const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5 only: the client half-closes one of its streams (`ff 00` = stdin). */
export const CLOSE = 255;

/** A binary message: the stream id byte followed by the payload. */
export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

/** A terminal size from a resize message (`{"Width":80,"Height":24}`); undefined when malformed. */
export function parseResize(payload: Buffer): { width: number; height: number } | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as { Width?: unknown; Height?: unknown };
    if (typeof v.Width !== 'number' || typeof v.Height !== 'number') return undefined;
    return { width: v.Width, height: v.Height };
  } catch {
    return undefined;
  }
}

/** The Status reported on the error channel for an exit code (kubectl exits with that code). */
export function exitStatus(code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The Status for a failure to run the command at all (no such file, container not running …). */
export function errorStatus(message: string): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}

/** Which streams an exec/attach request asks for (query `stdin`, `stdout`, `stderr`, `tty`). */
export function streamOptions(q: URLSearchParams): { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } {
  const b = (k: string) => q.get(k) === 'true' || q.get(k) === '1';
  const tty = b('tty');
  return { stdin: b('stdin'), stdout: b('stdout'), stderr: b('stderr') && !tty, tty };
}
