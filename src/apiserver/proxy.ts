// The API server's connection to kubelets: pods/log, pods/exec, pods/attach, pods/portforward and nodes/proxy.
// It checks the pod as upstream does, finds the kubelet at the Node's InternalIP and kubelet endpoint port,
// connects with the kubelet-client certificate and streams the reply, or tunnels an upgraded connection.

import { request as httpsRequest } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { ApiError, badRequest } from '../api/errors.js';
import type { KindDef } from '../api/kinds/types.js';
import type { KubeObject } from '../api/types.js';
import type { ResourceStore } from './registry/store.js';

export interface KubeletClientTLS {
  cert: string;
  key: string;
  ca: string;
}

/** An upgrade request handed to the normal handler: the raw socket and the bytes read past the head. */
export interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
}

type Rec = Record<string, any>;

/** The pod subresources that go to the kubelet. */
export const POD_PROXY_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward']);

function containerNames(pod: Rec): string[] {
  const s = pod.spec ?? {};
  return [...(s.initContainers ?? []), ...(s.containers ?? []), ...(s.ephemeralContainers ?? [])].map((c: Rec) => String(c.name));
}

/** Upstream's validateContainer: the container a pod subresource addresses (defaulted when there is one). */
export function chooseContainer(pod: KubeObject, container: string | null): string {
  const p = pod as Rec;
  const name = p.metadata?.name ?? '';
  if (!container) {
    const cs = (p.spec?.containers ?? []) as Rec[];
    if (cs.length === 1) return String(cs[0]!.name);
    if (cs.length === 0) throw badRequest(`pod ${name} does not have a container`);
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containerNames(p).join(' ')}]`);
  }
  if (!containerNames(p).includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

/** The kubelet-side log checks upstream makes from the pod status (waiting containers, missing previous). */
export function checkLogStatus(pod: KubeObject, container: string, previous: boolean): void {
  const p = pod as Rec;
  const name = p.metadata?.name ?? '';
  const st = p.status ?? {};
  const all = [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? []), ...(st.ephemeralContainerStatuses ?? [])] as Rec[];
  const cs = all.find((c) => c.name === container);
  if (!cs) throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
  if (previous) {
    if (!cs.lastState?.terminated) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    return;
  }
  if (cs.state?.waiting && !cs.lastState?.terminated) throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${cs.state.waiting.reason ?? 'ContainerCreating'}`);
}

export class KubeletProxy {
  private tlsP?: Promise<KubeletClientTLS>;

  constructor(
    private readonly resources: ResourceStore,
    private readonly kind: (group: string, plural: string) => KindDef | undefined,
    private readonly tls: () => Promise<KubeletClientTLS>,
  ) {}

  private clientTLS(): Promise<KubeletClientTLS> {
    this.tlsP ??= this.tls().catch((e: unknown) => {
      this.tlsP = undefined;
      throw e;
    });
    return this.tlsP;
  }

  /** host and port of a node's kubelet, as upstream: InternalIP first, then the other address types. */
  async kubeletOf(nodeName: string): Promise<{ host: string; port: number }> {
    const node = (await this.resources.get(this.kind('', 'nodes')!, undefined, nodeName)) as Rec;
    const addrs = (node.status?.addresses ?? []) as Array<{ type: string; address: string }>;
    const order = ['InternalIP', 'ExternalIP', 'Hostname'];
    const addr = [...addrs].sort((a, b) => (order.indexOf(a.type) + 9) % 9 - ((order.indexOf(b.type) + 9) % 9))[0]?.address;
    const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0);
    if (!addr) throw badRequest(`node ${nodeName} has no address`);
    if (!port) throw badRequest(`node ${nodeName} does not report a kubelet endpoint port`);
    return { host: addr, port };
  }

  /** pods/{log,exec,attach,portforward}. */
  async pod(ns: string, name: string, sub: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse, upgrade?: PendingUpgrade): Promise<void> {
    const pod = await this.resources.get(this.kind('', 'pods')!, ns, name);
    const p = pod as Rec;
    const nodeName = String(p.spec?.nodeName ?? '');
    if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    const q = new URLSearchParams(query);
    q.delete('container');
    let path: string;
    if (sub === 'portforward') {
      if (p.status?.phase !== 'Running' && p.status?.phase !== undefined && p.status?.phase !== 'Pending') throw badRequest(`pod ${name} is not running`);
      path = `/portForward/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
    } else {
      const container = chooseContainer(pod, query.get('container'));
      if (sub === 'log') {
        checkLogStatus(pod, container, query.get('previous') === 'true');
        path = `/containerLogs/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`;
      } else {
        if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') throw badRequest(`cannot ${sub} into a container in a completed pod; current phase is ${p.status.phase}`);
        path = `/${sub}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`;
      }
    }
    const qs = q.toString();
    await this.forward(nodeName, path + (qs ? `?${qs}` : ''), req, res, upgrade);
  }

  /** nodes/{name}/proxy/{path}: any kubelet endpoint. */
  async node(nodeName: string, rest: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse, upgrade?: PendingUpgrade): Promise<void> {
    const qs = query.toString();
    await this.forward(nodeName, `/${rest}${qs ? `?${qs}` : ''}`, req, res, upgrade);
  }

  /** GET of a kubelet path, parsed as JSON (metrics.k8s.io). */
  async getJSON(nodeName: string, path: string): Promise<unknown> {
    const { host, port } = await this.kubeletOf(nodeName);
    const tls = await this.clientTLS();
    return await new Promise((resolve, reject) => {
      const r = httpsRequest({ host, port, path, method: 'GET', cert: tls.cert, key: tls.key, ca: tls.ca, timeout: 10_000 }, (resp) => {
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (resp.statusCode !== 200) return reject(kubeletError(resp.statusCode ?? 500, body));
          try {
            resolve(JSON.parse(body));
          } catch (e) {
            reject(e);
          }
        });
      });
      r.on('timeout', () => r.destroy(new Error(`kubelet ${host}:${port} timed out`)));
      r.on('error', reject);
      r.end();
    });
  }

  private async forward(nodeName: string, path: string, req: IncomingMessage, res: ServerResponse, upgrade?: PendingUpgrade): Promise<void> {
    const { host, port } = await this.kubeletOf(nodeName);
    const tls = await this.clientTLS();
    if (upgrade) return this.tunnel(host, port, path, tls, req, res, upgrade);
    await new Promise<void>((resolve, reject) => {
      const out = httpsRequest({ host, port, path, method: req.method, cert: tls.cert, key: tls.key, ca: tls.ca, headers: { accept: req.headers.accept ?? '*/*' } }, (resp) => {
        if (resp.statusCode !== 200) {
          const chunks: Buffer[] = [];
          resp.on('data', (c: Buffer) => chunks.push(c));
          resp.on('end', () => reject(kubeletError(resp.statusCode ?? 500, Buffer.concat(chunks).toString('utf8'))));
          return;
        }
        res.writeHead(200, { 'Content-Type': resp.headers['content-type'] ?? 'text/plain', 'Cache-Control': 'no-cache, private' });
        res.flushHeaders();
        resp.on('data', (c: Buffer) => res.write(c));
        resp.on('end', () => {
          res.end();
          resolve();
        });
        resp.on('error', () => {
          res.end();
          resolve();
        });
      });
      out.on('error', (e) => (res.headersSent ? (res.end(), resolve()) : reject(new ApiError(500, 'InternalError', `Get "https://${host}:${port}${path.split('?')[0]}": ${e.message}`))));
      res.on('close', () => out.destroy());
      req.pipe(out);
    });
  }

  /** Forwards the upgrade request to the kubelet; on 101 both sockets are piped, otherwise the error becomes a Status. */
  private async tunnel(host: string, port: number, path: string, tls: KubeletClientTLS, req: IncomingMessage, res: ServerResponse, up: PendingUpgrade): Promise<void> {
    const upstream = tlsConnect({ host, port, cert: tls.cert, key: tls.key, ca: tls.ca, servername: /^[\d.]+$|:/.test(host) ? undefined : host });
    await new Promise<void>((resolve, reject) => {
      upstream.once('secureConnect', resolve);
      upstream.once('error', (e) => reject(new ApiError(500, 'InternalError', `error dialing backend: ${e.message}`)));
    });
    const skip = new Set(['host', 'authorization', 'content-length']);
    const lines = [`${req.method} ${path} HTTP/1.1`, `Host: ${host}:${port}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (!skip.has(req.rawHeaders[i]!.toLowerCase())) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (up.head.length) upstream.write(up.head);
    // Read the kubelet's reply head.
    const head = await new Promise<Buffer>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const onData = (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.indexOf('\r\n\r\n') >= 0) {
          upstream.off('data', onData);
          upstream.pause();
          resolve(buf);
        }
      };
      upstream.on('data', onData);
      upstream.once('error', reject);
      upstream.once('end', () => resolve(buf));
    });
    const end = head.indexOf('\r\n\r\n');
    const statusLine = head.subarray(0, head.indexOf('\r\n')).toString();
    const code = Number(/^HTTP\/1\.[01] (\d+)/.exec(statusLine)?.[1] ?? 502);
    if (code !== 101) {
      const body = end >= 0 ? head.subarray(end + 4).toString('utf8') : '';
      upstream.destroy();
      throw kubeletError(code, body || statusLine);
    }
    const client = up.socket;
    res.detachSocket(client as never);
    client.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
    upstream.resume();
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  }
}

/** The kubelet's error reply as a Status (its text is the message, as upstream's apiserver passes it on). */
function kubeletError(code: number, body: string): ApiError {
  const message = body.trim() || `the kubelet replied ${code}`;
  if (code === 400) return badRequest(message);
  if (code === 404) return new ApiError(404, 'NotFound', message);
  if (code === 401 || code === 403) return new ApiError(code, code === 401 ? 'Unauthorized' : 'Forbidden', message);
  return new ApiError(500, 'InternalError', message);
}

