// Running one probe or hook action once: exec in the container, HTTP GET and TCP connect through the node's dialer,
// with upstream's outcomes (success, failure, warning) and its Go-worded failure output (`HTTP probe failed with
// statuscode: 500`, `dial tcp 10.42.0.5:8080: connect: connection refused`). Errors that leave the result unknown throw.
import { request, type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { RuntimeError, type RuntimeService } from '../../runtime/interface.js';
import type { NetnsDialer } from '../../runtime/dialer.js';
import type { Container } from '../types.js';

export type Dial = NetnsDialer['dial'];

export interface Outcome {
  result: 'success' | 'failure' | 'warning';
  output: string;
}

/** Upstream's read limits: probe output and HTTP bodies are cut at 10 KiB. */
export const MAX_OUTPUT = 10 * 1024;
/** The kubelet's minor version as it appears in `kube-probe/1.32`. */
export const KUBE_VERSION = '1.32';

/** Go's %q for the strings we print (ASCII-printable text matches exactly). */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

/** Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The probe/hook port: a number, a named container port, or a number in a string (upstream's last resort). */
export function resolvePort(port: unknown, container: Container): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else if (typeof port === 'string') {
    const named = (container.ports as Array<{ name?: string; containerPort?: number }> | undefined)?.find((p) => p.name === port);
    if (named) n = named.containerPort ?? 0;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new Error(`strconv.Atoi: parsing ${goQuote(port)}: invalid syntax`);
  } else throw new Error(`intOrString had no kind: ${JSON.stringify(port)}`);
  if (n > 0 && n < 65536) return n;
  throw new Error(`invalid port number: ${n}`);
}

/** `$(VAR)` expansion of a command with the container's literal env values (upstream: ExpandContainerCommandOnlyStatic). */
export function expandCommand(cmd: string[], container: Container): string[] {
  const env = new Map<string, string>();
  for (const e of (container.env as Array<{ name: string; value?: string; valueFrom?: unknown }> | undefined) ?? []) {
    if (e.valueFrom === undefined) env.set(e.name, e.value ?? '');
  }
  return cmd.map((arg) =>
    arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
      if (m === '$$') return '$';
      return name !== undefined && env.has(name) ? env.get(name)! : m;
    }),
  );
}

/** A sink keeping the first `limit` bytes written to it. */
function collector(limit = MAX_OUTPUT): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const parts: Buffer[] = [];
  let size = 0;
  stream.on('data', (d: Buffer) => {
    if (size >= limit) return;
    parts.push(d.subarray(0, limit - size));
    size += Math.min(d.length, limit - size);
  });
  return { stream, text: () => Buffer.concat(parts).toString() };
}

export interface ExecOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs cmd in the container; a timeout rejects with upstream's `command "…" timed out` (TimeoutError). */
export async function execIn(runtime: RuntimeService, containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecOutput & { combined: string }> {
  const out = collector();
  const err = collector();
  const combined = collector();
  out.stream.pipe(combined.stream, { end: false });
  err.stream.pipe(combined.stream, { end: false });
  try {
    const code = await runtime.exec(containerId, cmd, { tty: false, stdout: out.stream, stderr: err.stream }, timeoutSeconds);
    await new Promise((r) => setImmediate(r));
    return { code, stdout: out.text(), stderr: err.text(), combined: combined.text() };
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'DeadlineExceeded') throw new ExecTimeoutError(`command ${goQuote(cmd.join(' '))} timed out`);
    throw e;
  }
}

export class ExecTimeoutError extends Error {
  override name = 'ExecTimeoutError';
}

/** exec probe: exit 0 succeeds; a timeout is a failure (ExecProbeTimeout, GA); other runtime errors throw. */
export async function execProbe(runtime: RuntimeService, containerId: string, cmd: string[], timeoutSeconds: number): Promise<Outcome> {
  try {
    const r = await execIn(runtime, containerId, cmd, timeoutSeconds);
    return { result: r.code === 0 ? 'success' : 'failure', output: r.combined };
  } catch (e) {
    if (e instanceof ExecTimeoutError) return { result: 'failure', output: e.message };
    throw e;
  }
}

/** Go's wording of a failed TCP dial (`dial tcp H:P: connect: connection refused`, `… i/o timeout`). */
export function dialErrorText(hostPort: string, err: NodeJS.ErrnoException): string {
  const why: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ETIMEDOUT: 'i/o timeout',
    ECONNRESET: 'connect: connection reset by peer',
  };
  return `dial tcp ${hostPort}: ${why[err.code ?? ''] ?? err.message}`;
}

/** tcpSocket probe: a connection that opens succeeds. */
export async function tcpProbe(dial: Dial, host: string, port: number, timeoutMs: number): Promise<Outcome> {
  try {
    const s = await dial(host, port, timeoutMs);
    s.destroy();
    return { result: 'success', output: '' };
  } catch (e) {
    return { result: 'failure', output: dialErrorText(joinHostPort(host, port), e as NodeJS.ErrnoException) };
  }
}

export interface HttpGetSpec {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  headers: Array<{ name: string; value: string }>;
  /** `probe` or `lifecycle`, as in the default User-Agent `kube-probe/1.32`. */
  purpose: 'probe' | 'lifecycle';
}

interface Response {
  status: number;
  location?: string;
  body: string;
}

/** An HTTP error in Go's client wording: `Get "<url>": <reason>`. */
class HttpError extends Error {
  override name = 'HttpError';
}

/** The probe's URL as Go prints it (port always present, path as given). */
export function probeUrl(spec: Pick<HttpGetSpec, 'scheme' | 'host' | 'port' | 'path'>): string {
  return `${spec.scheme}://${joinHostPort(spec.host, spec.port)}${spec.path}`;
}

function buildHeaders(spec: HttpGetSpec, hostPort: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const lower = new Map<string, string>();
  for (const { name, value } of spec.headers) {
    const key = lower.get(name.toLowerCase()) ?? name;
    lower.set(name.toLowerCase(), key);
    const prev = out[key];
    out[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  if (!lower.has('user-agent')) out['User-Agent'] = `kube-${spec.purpose}/${KUBE_VERSION}`;
  if (!lower.has('accept')) out.Accept = '*/*';
  else if (out[lower.get('accept')!] === '') delete out[lower.get('accept')!];
  if (!lower.has('host') || out[lower.get('host')!] === '') {
    if (lower.has('host')) delete out[lower.get('host')!];
    out.Host = hostPort;
  }
  out.Connection = 'close';
  return out;
}

/** One GET over a dialled connection, reading at most MAX_OUTPUT of the body; rejects with HttpError. */
async function getOnce(dial: Dial, url: URL, display: string, headers: Record<string, string | string[]>, deadline: number): Promise<Response> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const left = (): number => Math.max(0, deadline - Date.now());
  let sock: Duplex;
  try {
    sock = await dial(host, port, left());
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ETIMEDOUT') throw new HttpError(`Get ${goQuote(display)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
    throw new HttpError(`Get ${goQuote(display)}: ${dialErrorText(joinHostPort(host, port), err)}`);
  }
  if (url.protocol === 'https:') {
    sock = tlsConnect({ socket: sock, rejectUnauthorized: false, servername: isIP(host) ? undefined : host });
  }
  return new Promise<Response>((resolve, reject) => {
    let gotHeaders = false;
    let done = false;
    const finish = (err: Error | undefined, res?: Response): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      sock.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => {
      finish(
        new HttpError(
          gotHeaders
            ? `net/http: request canceled (Client.Timeout exceeded while reading body)`
            : `Get ${goQuote(display)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
        ),
      );
    }, left());
    const req = request({ method: 'GET', path: `${url.pathname}${url.search}` || '/', headers, createConnection: () => sock as never, setHost: false });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ECONNRESET' && /socket hang up/.test(e.message) ? 'EOF' : e.code === 'ECONNRESET' ? 'read: connection reset by peer' : e.message;
      finish(new HttpError(`Get ${goQuote(display)}: ${why}`));
    });
    req.on('response', (res: IncomingMessage) => {
      gotHeaders = true;
      const parts: Buffer[] = [];
      let size = 0;
      const complete = (): void =>
        finish(undefined, { status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(parts).toString() });
      res.on('data', (d: Buffer) => {
        parts.push(d.subarray(0, MAX_OUTPUT - size));
        size += Math.min(d.length, MAX_OUTPUT - size);
        if (size >= MAX_OUTPUT) complete();
      });
      res.on('end', complete);
      res.on('error', (e) => finish(new HttpError(`Get ${goQuote(display)}: ${e.message}`)));
    });
    req.end();
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET with upstream's probe client rules: redirects followed only to the same host name (at most 10), a redirect
 * elsewhere ends with that 3xx response. Resolves with the final response; rejects with Go-worded HttpError.
 */
export async function httpGet(dial: Dial, spec: HttpGetSpec, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let display = probeUrl(spec);
  let url = new URL(display);
  const firstHost = url.hostname;
  let headers = buildHeaders(spec, joinHostPort(spec.host, spec.port));
  for (let hops = 0; ; hops++) {
    const res = await getOnce(dial, url, display, headers, deadline);
    if (!REDIRECTS.has(res.status) || !res.location) return res;
    let next: URL;
    try {
      next = new URL(res.location, url);
    } catch {
      throw new HttpError(`Get ${goQuote(display)}: failed to parse Location header ${goQuote(res.location)}`);
    }
    if (next.hostname !== firstHost || (next.protocol !== 'http:' && next.protocol !== 'https:')) return res;
    if (hops + 1 >= 10) throw new HttpError(`Get ${goQuote(next.href)}: stopped after 10 redirects`);
    if (next.host !== url.host) {
      const { Host: _h, ...rest } = headers;
      headers = { ...rest, Host: next.host };
    }
    url = next;
    display = next.href;
  }
}

/** httpGet probe: 200–399 succeeds, a redirect it did not follow is a warning, anything else fails. */
export async function httpProbe(dial: Dial, spec: HttpGetSpec, timeoutMs: number): Promise<Outcome> {
  let res: Response;
  try {
    res = await httpGet(dial, spec, timeoutMs);
  } catch (e) {
    if (e instanceof HttpError) return { result: 'failure', output: e.message };
    throw e;
  }
  if (res.status >= 200 && res.status < 400) {
    if (res.status >= 300) return { result: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
    return { result: 'success', output: res.body };
  }
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
}

/** The HttpGetSpec of a core/v1 HTTPGetAction for a container at podIP. */
export function httpGetSpec(action: Record<string, any>, container: Container, podIP: string, purpose: HttpGetSpec['purpose']): HttpGetSpec {
  const scheme = String(action.scheme ?? 'HTTP').toLowerCase() === 'https' ? 'https' : 'http';
  return {
    scheme,
    host: (action.host as string | undefined) || podIP,
    port: resolvePort(action.port, container),
    path: (action.path as string | undefined) ?? '',
    headers: ((action.httpHeaders as Array<{ name: string; value: string }> | undefined) ?? []).map((h) => ({ name: h.name, value: h.value ?? '' })),
    purpose,
  };
}
