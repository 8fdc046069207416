// In-process API server for HTTP-level tests: the real ApiServer on node:https with a fresh PKI and the real SQLite
// store in a temp dir, plus a small HTTPS client (admin client cert, bearer token or anonymous) and a watch reader.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, createServer, request, type RequestOptions as HttpsRequestOptions, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../storage/index.js';
import type { Store } from '../../storage/interface.js';
import { AllowAuthenticatedAuthorizer, TokenFileAuthenticator, UnionAuthenticator, X509Authenticator, type Authenticator } from '../auth.js';
import { initFieldManager } from '../fieldmanager.js';
import { ensurePKI, type ClusterPKI } from '../pki.js';
import { ApiServer } from '../server.js';

export interface StartOptions {
  /** Contents of a `--token-auth-file` (CSV `token,user,uid[,"groups"]`); adds a TokenFileAuthenticator. */
  tokenFile?: string;
}

/** Who a request is sent as: the admin client certificate (default), nobody, or a bearer token. */
export type Auth = 'cert' | 'none' | { token: string };

export interface RequestOptions {
  /** Object (sent as JSON), string or Buffer (sent as is). */
  body?: unknown;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
  auth?: Auth;
}

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body (undefined when the body is not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface WatchEvent {
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  object: any;
}

/** A watch response read event by event; headers are available as soon as the server flushed them. */
export class WatchStream {
  private readonly queue: WatchEvent[] = [];
  private waiter: (() => void) | undefined;
  private buf = '';
  private done = false;
  readonly ended: Promise<void>;
  private endResolve!: () => void;
  /** Raw chunk count, to check that events arrive incrementally (chunked). */
  chunks = 0;
  /** Lines that were not valid JSON (should stay empty). */
  readonly garbage: string[] = [];

  constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly destroy: () => void,
  ) {
    this.ended = new Promise((r) => (this.endResolve = r));
  }

  /** @internal */
  push(chunk: string): void {
    this.chunks++;
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      try {
        this.queue.push(JSON.parse(line) as WatchEvent);
      } catch {
        this.garbage.push(line);
      }
    }
    this.wake();
  }

  /** @internal */
  end(): void {
    if (this.buf.trim()) {
      try {
        this.queue.push(JSON.parse(this.buf) as WatchEvent);
      } catch {
        this.garbage.push(this.buf);
      }
      this.buf = '';
    }
    this.done = true;
    this.endResolve();
    this.wake();
  }

  get isEnded(): boolean {
    return this.done;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next event; rejects after `timeoutMs` or when the stream ends first. */
  async next(timeoutMs = 5000): Promise<WatchEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = this.queue.shift();
      if (ev) return ev;
      if (this.done) throw new Error('watch stream ended while waiting for an event');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no watch event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = undefined;
          resolve();
        }, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Collect `n` events. */
  async take(n: number, timeoutMs = 5000): Promise<WatchEvent[]> {
    const out: WatchEvent[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Wait `ms` and return whatever arrived meanwhile (used to check that nothing arrives). */
  async drain(ms: number): Promise<WatchEvent[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0);
  }

  close(): void {
    this.destroy();
  }
}

export class TestServer {
  private constructor(
    readonly api: ApiServer,
    readonly store: Store,
    readonly pki: ClusterPKI,
    private readonly server: Server,
    readonly port: number,
    private readonly dir: string,
    private readonly certAgent: Agent,
    private readonly anonAgent: Agent,
  ) {}

  static async start(opts: StartOptions = {}): Promise<TestServer> {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-http-'));
    try {
      await initFieldManager();
      const store = await openStore(`sqlite://${join(dir, 'state.db')}`);
      const pki = await ensurePKI(dir, ['127.0.0.1']);
      let authenticator: Authenticator = new X509Authenticator();
      if (opts.tokenFile !== undefined) {
        const f = join(dir, 'tokens.csv');
        writeFileSync(f, opts.tokenFile);
        authenticator = new UnionAuthenticator([authenticator, new TokenFileAuthenticator(f)]);
      }
      const api = new ApiServer({ store, authenticator, authorizer: new AllowAuthenticatedAuthorizer(), serverAddress: '127.0.0.1:0', gitVersion: 'v1.32.3-k8ts' });
      await api.bootstrap();
      const server = createServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requestCert: true, rejectUnauthorized: false }, api.handle);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as { port: number }).port;
      const certAgent = new Agent({ ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey, keepAlive: true });
      const anonAgent = new Agent({ ca: pki.caCert, keepAlive: true });
      return new TestServer(api, store, pki, server, port, dir, certAgent, anonAgent);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  private requestOptions(method: string, path: string, o: RequestOptions, body: Buffer | undefined, streaming: boolean): HttpsRequestOptions {
    const headers: Record<string, string | number> = { ...(o.headers ?? {}) };
    if (o.accept !== undefined) headers['Accept'] = o.accept;
    if (body) {
      headers['Content-Type'] = o.contentType ?? 'application/json';
      headers['Content-Length'] = body.length;
    }
    const auth = o.auth ?? 'cert';
    if (typeof auth === 'object') headers['Authorization'] = `Bearer ${auth.token}`;
    const base: HttpsRequestOptions = { host: '127.0.0.1', port: this.port, path, method, headers };
    if (streaming) {
      // Watches get their own connection so closing one never disturbs the keep-alive pool.
      return { ...base, agent: false, ca: this.pki.caCert, ...(auth === 'cert' ? { cert: this.pki.adminCert, key: this.pki.adminKey } : {}) };
    }
    return { ...base, agent: auth === 'cert' ? this.certAgent : this.anonAgent };
  }

  private static encodeBody(b: unknown): Buffer | undefined {
    if (b === undefined) return undefined;
    if (Buffer.isBuffer(b)) return b;
    if (typeof b === 'string') return Buffer.from(b);
    return Buffer.from(JSON.stringify(b));
  }

  request(method: string, path: string, o: RequestOptions = {}): Promise<HttpReply> {
    const body = TestServer.encodeBody(o.body);
    return new Promise((resolve, reject) => {
      const req = request(this.requestOptions(method, path, o, body, false), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
      });
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  }

  get(path: string, o: RequestOptions = {}): Promise<HttpReply> {
    return this.request('GET', path, o);
  }
  post(path: string, body: unknown, o: RequestOptions = {}): Promise<HttpReply> {
    return this.request('POST', path, { ...o, body });
  }
  put(path: string, body: unknown, o: RequestOptions = {}): Promise<HttpReply> {
    return this.request('PUT', path, { ...o, body });
  }
  patch(path: string, body: unknown, contentType: string, o: RequestOptions = {}): Promise<HttpReply> {
    return this.request('PATCH', path, { ...o, body, contentType });
  }
  delete(path: string, body?: unknown, o: RequestOptions = {}): Promise<HttpReply> {
    return this.request('DELETE', path, { ...o, body });
  }

  /** Create a namespace (201 expected). */
  async namespace(name: string): Promise<void> {
    const r = await this.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    if (r.status !== 201) throw new Error(`creating namespace ${name}: ${r.status} ${r.text}`);
  }

  /** Open a watch; resolves once the response headers arrived (they must be flushed before any event). */
  watch(path: string, o: RequestOptions = {}): Promise<WatchStream> {
    return new Promise((resolve, reject) => {
      const req = request(this.requestOptions('GET', path, o, undefined, true), (res) => {
        const ws = new WatchStream(res.statusCode ?? 0, res.headers, () => req.destroy());
        res.setEncoding('utf8');
        res.on('data', (c: string) => ws.push(c));
        res.on('end', () => ws.end());
        res.on('close', () => ws.end());
        res.on('error', () => ws.end());
        resolve(ws);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Latest store revision (to check that rejected requests write nothing). */
  revision(): Promise<number> {
    return this.store.currentRevision();
  }

  async close(): Promise<void> {
    this.certAgent.destroy();
    this.anonAgent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
