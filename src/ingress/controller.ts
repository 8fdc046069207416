// The built-in Ingress controller, one per node (started by the agent): it creates the default IngressClass `k8ts`
// (controller k8ts.io/ingress), serves the Ingresses of its classes on the node's HTTP and HTTPS ports through
// ReverseProxy, picks TLS certificates from kubernetes.io/tls Secrets by SNI, and writes the node's address into
// status.loadBalancer.ingress. Everything comes from informers, so edits apply without a restart.

import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../api/types.js';
import { Informer } from '../client/informer.js';
import { ApiError, isConflict, isNotFound, type Client } from '../client/interface.js';
import { ENDPOINTSLICES, INGRESSCLASSES, INGRESSES, NODES, SECRETS, SERVICES } from '../client/resources.js';
import { runWorkers, WorkQueue } from '../client/workqueue.js';
import { ReverseProxy, type Lookup } from './proxy.js';
import { buildRoutes, CLASS_NAME, CONTROLLER, DEFAULT_CLASS_ANNOTATION, isOurs, ourClasses, resolveBackend, route, statusIPs, tlsSecretFor, type RouteTable } from './routes.js';
import { ContextCache, selfSignedCertificate } from './tls.js';

/** Makes `server` (HTTP or HTTPS) listen on host:port in the node's network namespace. */
export type Listen = (server: NetServer, port: number, host: string) => Promise<unknown>;

export interface IngressControllerOptions {
  client: Client;
  /** The node's address: written to status.loadBalancer.ingress. */
  nodeIP: string;
  /** Address the HTTP and HTTPS ports listen on. */
  bindAddress: string;
  /** 0 disables the listener. */
  httpPort: number;
  httpsPort: number;
  /** A TCP connection to a pod, from the node's network namespace. */
  dial(host: string, port: number, timeoutMs?: number): Promise<Duplex>;
  /** Default: node:net in the process's own namespace. */
  listen?: Listen;
  log?: (m: string) => void;
}

const CLASS_KEY = '@ingressclass';

const listenHere: Listen = (server, port, host) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

export class IngressController {
  private readonly ingresses: Informer;
  private readonly classes: Informer;
  private readonly services: Informer;
  private readonly slices: Informer;
  private readonly secrets: Informer;
  private readonly nodes: Informer;
  private readonly queue = new WorkQueue<string>();
  private readonly contexts: ContextCache;
  private readonly proxy: ReverseProxy;
  private readonly log: (m: string) => void;
  private workers: Promise<void> | undefined;
  private readonly servers: Array<HttpServer | HttpsServer> = [];
  // Derived from the caches, dropped on every relevant event and rebuilt on first use.
  private ours: KubeObject[] | undefined;
  private table: RouteTable | undefined;
  private slicesBySvc: Map<string, KubeObject[]> | undefined;
  private defaultContext: SecureContext | undefined;

  constructor(private readonly o: IngressControllerOptions) {
    this.log = o.log ?? (() => undefined);
    const c = o.client;
    this.ingresses = new Informer(c, INGRESSES);
    this.classes = new Informer(c, INGRESSCLASSES);
    this.services = new Informer(c, SERVICES);
    this.slices = new Informer(c, ENDPOINTSLICES, { labelSelector: 'kubernetes.io/service-name' });
    this.secrets = new Informer(c, SECRETS, { fieldSelector: 'type=kubernetes.io/tls' });
    this.nodes = new Informer(c, NODES);
    this.contexts = new ContextCache(this.log);
    this.proxy = new ReverseProxy({ lookup: (h, p) => this.lookup(h, p), dial: o.dial, log: this.log });

    const key = (obj: KubeObject) => `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    const ingressChanged = (obj: KubeObject) => {
      this.ours = this.table = undefined;
      this.queue.add(key(obj));
    };
    this.ingresses.addEventHandler({
      add: ingressChanged,
      update: (old, obj) => (JSON.stringify(old.spec) !== JSON.stringify(obj.spec) || JSON.stringify(old.status) !== JSON.stringify(obj.status) ? ingressChanged(obj) : undefined),
      delete: () => (this.ours = this.table = undefined),
    });
    const all = () => {
      for (const i of this.ingresses.list()) this.queue.add(key(i));
    };
    const classChanged = () => {
      this.ours = this.table = undefined;
      all();
    };
    this.classes.addEventHandler({ add: classChanged, update: classChanged, delete: classChanged });
    const slicesChanged = () => (this.slicesBySvc = undefined);
    this.slices.addEventHandler({ add: slicesChanged, update: slicesChanged, delete: slicesChanged });
    const addrs = (n: KubeObject) => JSON.stringify((n.status as { addresses?: unknown } | undefined)?.addresses ?? []);
    this.nodes.addEventHandler({ add: all, update: (old, obj) => (addrs(old) !== addrs(obj) ? all() : undefined), delete: all });
    this.secrets.addEventHandler({ delete: () => this.contexts.retain(new Set(this.secrets.list().map(key))) });
  }

  /** Creates the IngressClass, waits for the caches and opens the listeners. Rejects when a port cannot be bound. */
  async start(): Promise<void> {
    const informers = [this.ingresses, this.classes, this.services, this.slices, this.secrets, this.nodes];
    for (const i of informers) i.start();
    const [pair] = await Promise.all([this.o.httpsPort > 0 ? selfSignedCertificate() : undefined, ...informers.map((i) => i.hasSynced)]);
    if (pair) this.defaultContext = createSecureContext(pair);
    this.queue.add(CLASS_KEY);
    this.workers = runWorkers(this.queue, 1, (k) => this.sync(k), (k, e) => this.log(`ingress: ${k}: ${(e as Error).message}`));
    const listen = this.o.listen ?? listenHere;
    if (this.o.httpPort > 0) {
      const http = createHttpServer(this.proxy.handler('http', this.o.httpPort));
      http.on('upgrade', this.proxy.upgradeHandler('http', this.o.httpPort));
      await this.serve(http, listen, this.o.httpPort);
    }
    if (this.o.httpsPort > 0) {
      const https = createHttpsServer({ SNICallback: (name, cb) => cb(null, this.contextFor(name)), ...pair }, this.proxy.handler('https', this.o.httpsPort));
      https.on('upgrade', this.proxy.upgradeHandler('https', this.o.httpsPort));
      await this.serve(https, listen, this.o.httpsPort);
    }
  }

  /** The ports listened on (as bound: a listener seam may pick its own), for tests. */
  boundPorts(): number[] {
    return this.servers.map((l) => {
      const a = l.address();
      return typeof a === 'object' && a ? a.port : 0;
    });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    for (const s of this.servers) {
      if (s.listening) s.close();
      s.closeAllConnections();
    }
    this.proxy.destroyTunnels();
    await Promise.all([this.ingresses, this.classes, this.services, this.slices, this.secrets, this.nodes].map((i) => i.stop()));
    await this.workers;
  }

  private async serve(server: HttpServer | HttpsServer, listen: Listen, port: number): Promise<void> {
    server.keepAliveTimeout = 60_000;
    this.servers.push(server);
    await listen(server, port, this.o.bindAddress);
  }

  private ourIngresses(): KubeObject[] {
    if (!this.ours) {
      const classes = ourClasses(this.classes.list(), CONTROLLER);
      this.ours = this.ingresses.list().filter((i) => isOurs(i, classes));
    }
    return this.ours;
  }

  private slicesOf(ns: string, svc: string): KubeObject[] {
    if (!this.slicesBySvc) {
      const m = new Map<string, KubeObject[]>();
      for (const s of this.slices.list()) {
        const k = `${s.metadata?.namespace}/${s.metadata?.labels?.['kubernetes.io/service-name']}`;
        const list = m.get(k) ?? [];
        list.push(s);
        m.set(k, list);
      }
      this.slicesBySvc = m;
    }
    return this.slicesBySvc.get(`${ns}/${svc}`) ?? [];
  }

  /** Routes a request against the current caches. */
  lookup(host: string | undefined, path: string): Lookup {
    this.table ??= buildRoutes(this.ourIngresses());
    const m = route(this.table, host, path);
    if (!m) return { kind: 'none' };
    const ref = m.backend;
    const svc = ref ? this.services.get(`${ref.namespace}/${ref.service}`) : undefined;
    const r = resolveBackend(ref, svc, ref ? this.slicesOf(ref.namespace, ref.service) : []);
    if (!r.ok) return { kind: 'unavailable', why: r.reason };
    return { kind: 'ok', key: `${ref!.namespace}/${ref!.service}:${ref!.port.number ?? ref!.port.name}`, endpoints: r.endpoints };
  }

  private contextFor(serverName: string): SecureContext | undefined {
    const ref = tlsSecretFor(this.ourIngresses(), serverName);
    const secret = ref ? this.secrets.get(`${ref.namespace}/${ref.name}`) : undefined;
    return (secret && this.contexts.get(secret)) || this.defaultContext;
  }

  private async sync(key: string): Promise<void> {
    if (key === CLASS_KEY) return this.ensureClass();
    const ing = this.ingresses.get(key);
    if (!ing) return;
    const current = ((ing.status as { loadBalancer?: { ingress?: Array<{ ip?: string }> } } | undefined)?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
    const nodeIPs = new Set<string>();
    for (const n of this.nodes.list()) for (const a of (n.status as { addresses?: Array<{ type?: string; address?: string }> } | undefined)?.addresses ?? []) if (a.type === 'InternalIP' && a.address) nodeIPs.add(a.address);
    const want = statusIPs(current, isOurs(ing, ourClasses(this.classes.list(), CONTROLLER)), this.o.nodeIP, nodeIPs);
    if (!want) return;
    // A resourceVersion-guarded write: nodes updating one Ingress at once retry on conflict and merge.
    const next = structuredClone(ing);
    next.status = { ...(next.status ?? {}), loadBalancer: want.length > 0 ? { ingress: want.map((ip) => ({ ip })) } : {} };
    try {
      await this.o.client.update(INGRESSES, ing.metadata?.namespace, next, 'status');
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) throw new Error(`status of ${key} changed meanwhile; retrying`);
      throw e;
    }
  }

  /** The IngressClass `k8ts`, marked default, made once; an existing one (maybe edited by the user) is left alone. */
  private async ensureClass(): Promise<void> {
    if (this.classes.get(CLASS_NAME)) return;
    try {
      await this.o.client.create(INGRESSCLASSES, undefined, {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: CLASS_NAME, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
        spec: { controller: CONTROLLER },
      } as KubeObject);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    }
  }
}
