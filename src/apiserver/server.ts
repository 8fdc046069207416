// The API server's HTTP edge: authentication → authorization → routing → verb handlers over the generic store.
// Serves discovery, OpenAPI, version/health, every built-in kind with its subresources, and watch streams.

import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApiError, badRequest, forbidden, invalidError, methodNotAllowed, notFound, notSupported, unsupportedMediaType, type FieldError } from '../api/errors.js';
import { allKinds, groupVersionOrder } from '../api/kinds/index.js';
import type { KindDef } from '../api/kinds/types.js';
import { SYSTEM_PRIORITY_CLASSES } from '../api/kinds/scheduling/priorityclass.js';
import { FieldSelectorParseError, parseFieldSelector, type FieldSelector } from '../api/selectors/fields.js';
import { parseLabelSelector, SelectorParseError, type Selector } from '../api/selectors/labels.js';
import { isObject, type KubeObject } from '../api/types.js';
import type { Store } from '../storage/interface.js';
import { Admission } from './admission.js';
import { limitRangerAdmission } from './admission/limitranger.js';
import { namespaceLifecycle } from './admission/namespace-lifecycle.js';
import { priorityAdmission } from './admission/priority.js';
import { defaultIngressClassAdmission } from './admission/defaultingressclass.js';
import { resourceQuotaAdmission } from './admission/resourcequota.js';
import { ServiceAllocator, serviceAllocation } from './admission/service-alloc.js';
import { serviceAccountAdmission } from './admission/serviceaccount.js';
import { defaultTolerationSeconds } from './admission/defaulttolerationseconds.js';
import { UnionAuthenticator, type Authenticator, type Authorizer, type UserInfo } from './auth.js';
import { Discovery } from './discovery.js';
import { loadFieldManager, managedFieldsModule } from './fieldmanager.js';
import { applyPatchBody, PATCH_TYPES } from './patch.js';
import { decodeObjectBody, mediaType, parseJSON, parseResourceParts, readBody, type ParsedPath } from './request.js';
import { apiVersionOf, fieldSet, nowRFC3339, ResourceStore, type DeleteOptions, type RequestContext } from './registry/store.js';
import { deepClone } from './registry/objects.js';
import { statusOf, successStatus } from './status.js';
import { toTable, type IncludeObject } from './table.js';
import { partialObjectMetadata, partialObjectMetadataList, representation } from './negotiate.js';
import { checkFieldValidation, pruneUnknown, type FieldValidation } from './validation.js';
import { virtualKinds, handleVirtualCreate } from './virtual.js';
import { serveWatch } from './watch.js';
import { MetricsApi, metricsKinds } from './metrics.js';
import { KubeletProxy, POD_PROXY_SUBRESOURCES, type KubeletClientTLS, type PendingUpgrade } from './proxy.js';
import { bindPod, evictPod, getScale, scaleFromBody } from './subresources.js';
import type { TokenSigner } from './satoken.js';
import { createToken, ServiceAccountTokenAuthenticator } from './tokenrequest.js';

export interface ApiServerOptions {
  store: Store;
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** host:port clients use, for APIVersions.serverAddressByClientCIDRs. */
  serverAddress: string;
  gitVersion: string;
  /** Service ClusterIP range (default 10.43.0.0/16) and NodePort range (default 30000-32767). */
  serviceCIDR?: string;
  nodePortRange?: [number, number];
  /** DefaultTolerationSeconds admission: tolerationSeconds of the not-ready/unreachable NoExecute tolerations; 300. */
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
  /** The client certificate toward kubelets (pods/log, exec, attach, portforward, nodes/proxy, metrics). */
  kubeletClientTLS?: () => Promise<KubeletClientTLS>;
  /** Signs service account tokens (TokenRequest) and verifies them as bearer tokens; without it neither is served. */
  serviceAccountSigner?: TokenSigner;
  /** Audiences a token must name to authenticate here (--api-audiences); default the signer's issuer. */
  apiAudiences?: string[];
}

export const AGG_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGG_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface Served {
  def: KindDef;
  version: string;
}

/** kinds whose DELETE returns the object rather than a Status (upstream ReturnDeletedObject). */
const RETURNS_DELETED_OBJECT = new Set(['pods', 'services', 'namespaces']);

export class ApiServer {
  readonly resources: ResourceStore;
  readonly discovery: Discovery;
  readonly admission = new Admission();
  private readonly served = new Map<string, Map<string, Served>>();
  private readonly namespaceDef: KindDef | undefined;
  private readonly startedAt = Date.now();
  private ready = false;
  readonly serviceAllocator: ServiceAllocator;
  private repairTimer?: NodeJS.Timeout;
  readonly kubelets: KubeletProxy;
  private readonly metrics: MetricsApi;
  private readonly upgrades = new WeakMap<IncomingMessage, PendingUpgrade>();
  private readonly authenticator: Authenticator;
  private readonly apiAudiences: string[];

  constructor(private readonly opts: ApiServerOptions) {
    const signer = opts.serviceAccountSigner;
    this.apiAudiences = opts.apiAudiences?.length ? opts.apiAudiences : signer ? [signer.issuer] : [];
    this.authenticator = signer
      ? new UnionAuthenticator([opts.authenticator, new ServiceAccountTokenAuthenticator(signer, this.apiAudiences, () => this.resources, (g, p) => this.kind(g, p))])
      : opts.authenticator;
    const kinds = [...allKinds(), ...virtualKinds, ...metricsKinds];
    this.discovery = new Discovery(kinds, groupVersionOrder.map((g) => ({ group: g.group, versions: [...g.versions] })));
    for (const def of kinds) {
      for (const v of [def.version, ...(def.otherVersions ?? []).map((x) => x.version)]) {
        const gv = `${def.group}/${v}`;
        let m = this.served.get(gv);
        if (!m) this.served.set(gv, (m = new Map()));
        m.set(def.plural, { def, version: v });
      }
    }
    this.namespaceDef = allKinds().find((k) => k.group === '' && k.plural === 'namespaces');
    this.admission.add(namespaceLifecycle(() => this.namespaceDef));
    this.serviceAllocator = new ServiceAllocator(opts.store, { serviceCIDR: opts.serviceCIDR ?? '10.43.0.0/16', nodePortRange: opts.nodePortRange ?? [30000, 32767] });
    this.admission.add(serviceAllocation(this.serviceAllocator, () => this.kind('', 'services')));
    this.admission.add(serviceAccountAdmission((g, p) => this.kind(g, p)));
    this.admission.add(limitRangerAdmission((g, p) => this.kind(g, p)));
    this.admission.add(priorityAdmission((g, p) => this.kind(g, p)));
    this.admission.add(defaultIngressClassAdmission((g, p) => this.kind(g, p)));
    this.admission.add(defaultTolerationSeconds((g, p) => this.kind(g, p), { notReadySeconds: opts.defaultNotReadyTolerationSeconds, unreachableSeconds: opts.defaultUnreachableTolerationSeconds }));
    // ResourceQuota charges quotas, so it validates last: after every other plugin had its say.
    this.admission.add(resourceQuotaAdmission((g, p) => this.kind(g, p)));
    this.resources = new ResourceStore(opts.store, this.admission, loadFieldManager());
    this.kubelets = new KubeletProxy(this.resources, (g, p) => this.kind(g, p), () => {
      if (!opts.kubeletClientTLS) return Promise.reject(new ApiError(503, 'ServiceUnavailable', 'the API server has no kubelet client certificate'));
      return opts.kubeletClientTLS();
    });
    this.metrics = new MetricsApi(this.resources, (g, p) => this.kind(g, p), this.kubelets);
  }

  kind(group: string, plural: string): KindDef | undefined {
    return this.served.get(`${group}/${this.discovery.preferredVersion(group) ?? ''}`)?.get(plural)?.def;
  }

  /** Create the default namespaces on first start. */
  async bootstrap(): Promise<void> {
    const nsDef = this.namespaceDef;
    if (nsDef) {
      for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
        if (await this.resources.tryGet(nsDef, undefined, name)) continue;
        try {
          await this.resources.create(nsDef, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, this.systemContext());
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 409)) throw e;
        }
      }
    }
    // The built-in PriorityClasses every cluster has.
    const pcDef = this.kind('scheduling.k8s.io', 'priorityclasses');
    if (pcDef) {
      for (const pc of SYSTEM_PRIORITY_CLASSES) {
        if (await this.resources.tryGet(pcDef, undefined, pc.name)) continue;
        try {
          await this.resources.create(pcDef, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc.name }, value: pc.value, description: pc.description }, this.systemContext());
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 409)) throw e;
        }
      }
    }
    const svcDef = this.kind('', 'services');
    if (svcDef) {
      await this.ensureKubernetesService(svcDef);
      const repair = () => this.serviceAllocator.repair(async () => (await this.resources.list(svcDef, undefined)).items);
      await repair();
      this.repairTimer = setInterval(() => void repair().catch(() => undefined), 60_000);
      this.repairTimer.unref();
    }
    this.ready = true;
  }

  /**
   * The `default/kubernetes` Service every cluster has: the first address of the service range, port 443 → the
   * API server's secure port (upstream's bootstrap controller). Endpoints for it come with the node network.
   */
  private async ensureKubernetesService(svcDef: KindDef): Promise<void> {
    if (await this.resources.tryGet(svcDef, 'default', 'kubernetes')) return;
    const port = Number(/:(\d+)$/.exec(this.opts.serverAddress)?.[1] ?? 6443);
    const ip = this.serviceAllocator.firstIP();
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
    };
    try {
      await this.resources.create(svcDef, 'default', svc, this.systemContext());
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    }
  }

  stop(): void {
    if (this.repairTimer) clearInterval(this.repairTimer);
  }

  systemContext(): RequestContext {
    return { user: { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] }, dryRun: false, fieldManager: 'kube-apiserver', warnings: [] };
  }

  /** The request handler for node:https. Never throws; every failure becomes a Status. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.dispatch(req, res).catch((err: unknown) => {
      try {
        if (!res.headersSent) this.send(res, { status: statusOf(err).code, body: statusOf(err) });
        else res.end();
      } catch {
        res.destroy();
      }
    });
  };

  /** The `upgrade` handler for node:https (exec, attach, portforward): the same pipeline as `handle`. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    this.upgrades.set(req, { socket, head });
    res.on('finish', () => socket.end());
    this.handle(req, res);
  };

  private send(res: ServerResponse, r: Reply, warnings: string[] = []): void {
    const body = typeof r.body === 'string' || Buffer.isBuffer(r.body) ? r.body : JSON.stringify(r.body);
    // An explicit length: without it node frames the reply as chunked (more bytes and several TLS writes).
    const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': String(Buffer.byteLength(body)), ...(r.headers ?? {}) };
    if (warnings.length) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    res.writeHead(r.status, headers);
    res.end(body);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const query = url.searchParams;

    // Public, unauthenticated endpoints (upstream's system:public-info-viewer).
    if (path === '/version' && method === 'GET') {
      const [major, minor] = ['1', '32'];
      return this.send(res, {
        status: 200,
        body: { major, minor, gitVersion: this.opts.gitVersion, gitCommit: 'k8ts', gitTreeState: 'clean', buildDate: '2026-11-22T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'tsc', platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}` },
      });
    }
    if (/^\/(healthz|livez|readyz)(\/.*)?$/.test(path) && method === 'GET') {
      const ok = path.startsWith('/readyz') ? this.ready : true;
      res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(ok ? 'ok' : 'not ready');
      return;
    }

    let user = this.authenticator.authenticate(req);
    if (user instanceof Promise) user = await user;
    if (!user) {
      req.resume();
      const s = statusOf(new ApiError(401, 'Unauthorized', 'Unauthorized'));
      return this.send(res, { status: 401, body: s });
    }

    if (path.startsWith('/openapi')) {
      const { handleOpenAPI } = await import('./openapi.js');
      const r = handleOpenAPI(path, query, String(req.headers.accept ?? ''));
      if (r) {
        res.writeHead(r.status, r.headers);
        res.end(r.body);
        return;
      }
      throw notFound('', '', path);
    }

    // Discovery.
    const accept = String(req.headers.accept ?? '');
    if (path === '/api' || path === '/apis') {
      const core = path === '/api';
      const agg = accept.includes('as=APIGroupDiscoveryList') ? (accept.includes('v=v2;') || accept.includes('v=v2,') || /v=v2(;|,|$)/.test(accept) ? 'v2' : accept.includes('v=v2beta1') ? 'v2beta1' : undefined) : undefined;
      if (agg) return this.send(res, { status: 200, body: this.discovery.aggregated(core, agg), headers: { 'Content-Type': agg === 'v2' ? AGG_V2 : AGG_V2BETA1 } });
      return this.send(res, { status: 200, body: core ? this.discovery.apiVersions(this.opts.serverAddress) : this.discovery.apiGroupList() });
    }

    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 2) {
      group = '';
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 2) {
      group = parts[1];
      if (parts.length === 2) {
        const g = this.discovery.apiGroup(group);
        if (!g) throw this.pathNotFound();
        return this.send(res, { status: 200, body: g });
      }
      version = parts[2];
      rest = parts.slice(3);
    } else {
      throw this.pathNotFound();
    }
    const servedGV = this.served.get(`${group}/${version}`);
    if (!servedGV) throw this.pathNotFound();
    if (rest.length === 0) {
      if (method !== 'GET') throw methodNotAllowed(`the server does not allow this method on the requested resource`);
      return this.send(res, { status: 200, body: this.discovery.resourceList(group, version)! });
    }
    const p = parseResourceParts(group, version, rest, (r) => servedGV.get(r)?.def.namespaced === true);
    if (!p) throw this.pathNotFound();
    const served = servedGV.get(p.resource);
    if (!served) throw this.pathNotFound();
    const { def } = served;
    if (def.namespaced === false && p.namespace !== undefined) throw this.pathNotFound();

    const routeVerb = this.verbOf(method, p, query);
    let verb = routeVerb;
    let decision = await this.opts.authorizer.authorize({
      user,
      verb,
      namespace: p.namespace,
      apiGroup: group,
      resource: p.resource,
      subresource: p.subresource,
      name: p.name,
      resourceRequest: true,
    });
    // Upstream (AuthorizePodWebsocketUpgradeCreatePermission): a WebSocket GET of exec/attach/portforward also needs `create`.
    if (decision.allowed && verb === 'get' && group === '' && p.resource === 'pods' && ['exec', 'attach', 'portforward'].includes(p.subresource ?? '')) {
      verb = 'create';
      decision = await this.opts.authorizer.authorize({ user, verb, namespace: p.namespace, apiGroup: group, resource: p.resource, subresource: p.subresource, name: p.name, resourceRequest: true });
    }
    if (!decision.allowed) {
      req.resume();
      const what = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
      const res2 = group ? `${what}.${group}` : what;
      const scope = p.namespace ? ` in the namespace "${p.namespace}"` : ' at the cluster scope';
      throw new ApiError(403, 'Forbidden', `${res2}${p.name ? ` "${p.name}"` : ''} is forbidden: User "${user.username}" cannot ${verb} resource "${p.resource}" in API group "${group}"${scope}`, {
        name: p.name,
        group,
        kind: p.resource,
      });
    }

    const ctx: RequestContext = {
      user,
      dryRun: false,
      fieldManager: query.get('fieldManager') ?? undefined,
      userAgent: req.headers['user-agent'],
      warnings: [],
    };
    const dry = query.getAll('dryRun');
    if (dry.length) {
      for (const d of dry) if (d !== 'All') throw badRequest(`Invalid dry run value: ${d}. Valid values: All`);
      ctx.dryRun = true;
    }
    if (ctx.fieldManager !== undefined) {
      const errs = managedFieldsModule().validateFieldManager(ctx.fieldManager);
      if (errs.length) throw invalidError('meta.k8s.io', method === 'PATCH' ? 'PatchOptions' : method === 'PUT' ? 'UpdateOptions' : 'CreateOptions', '', errs);
    }

    const reply = await this.route(req, res, method, routeVerb, served, p, query, ctx, accept);
    if (reply) this.send(res, reply, ctx.warnings);
  }

  private pathNotFound(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  }

  private verbOf(method: string, p: ParsedPath, query: URLSearchParams): string {
    switch (method) {
      case 'GET':
      case 'HEAD':
        if (p.watchPrefix || query.get('watch') === 'true' || query.get('watch') === '1') return 'watch';
        return p.name ? 'get' : 'list';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return 'patch';
      case 'DELETE':
        return p.name ? 'delete' : 'deletecollection';
      default:
        return method.toLowerCase();
    }
  }

  // ---- conversion between served and stored versions -----------------------------------------------------

  /** The stored object as the requested version; never mutates `obj` (watch events share it between watchers). */
  private toServed(s: Served, obj: KubeObject): KubeObject {
    if (s.version === s.def.version) return obj;
    const ov = s.def.otherVersions?.find((v) => v.version === s.version);
    const out = ov ? ov.fromStored(deepClone(obj)) : { ...obj };
    out.apiVersion = apiVersionOf(s.def.group, s.version);
    return out;
  }

  private toStored(s: Served, obj: KubeObject): KubeObject {
    if (s.version === s.def.version) return obj;
    const ov = s.def.otherVersions?.find((v) => v.version === s.version);
    const out = ov ? ov.toStored(obj) : obj;
    out.apiVersion = apiVersionOf(s.def.group, s.def.version);
    return out;
  }

  /** Check a decoded body against the endpoint: kind/apiVersion, namespace; default missing type meta. */
  private checkBody(s: Served, body: unknown, ns: string | undefined): KubeObject {
    if (!isObject(body)) throw badRequest(`the object provided is unrecognized (must be of type ${s.def.kind})`);
    const obj = body as KubeObject;
    const wantAV = apiVersionOf(s.def.group, s.version);
    if (obj.apiVersion !== undefined && obj.apiVersion !== '' && obj.apiVersion !== wantAV) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${wantAV})`);
    }
    if (obj.kind !== undefined && obj.kind !== '' && obj.kind !== s.def.kind) {
      throw badRequest(`${String(obj.kind)} in version "${s.version}" cannot be handled as a ${s.def.kind}: converting (${String(obj.kind)}) to (${s.def.kind}): unknown conversion`);
    }
    obj.apiVersion = wantAV;
    obj.kind = s.def.kind;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (!isObject(obj.metadata)) throw badRequest(`${s.def.kind} in version "${s.version}" cannot be handled as a ${s.def.kind}: json: cannot unmarshal ${typeof obj.metadata} into Go struct field ${s.def.kind}.metadata of type v1.ObjectMeta`);
    if (s.def.namespaced && ns !== undefined) {
      if (obj.metadata.namespace && obj.metadata.namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    return obj;
  }

  private fieldValidation(query: URLSearchParams): FieldValidation {
    const v = query.get('fieldValidation');
    if (v === null || v === '') return 'Warn';
    if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
    throw badRequest(`fieldValidation parameter unsupported: ${v}. Valid values: Ignore, Warn, Strict`);
  }

  // ---- routing ---------------------------------------------------------------------------------------------

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    verb: string,
    s: Served,
    p: ParsedPath,
    query: URLSearchParams,
    ctx: RequestContext,
    accept: string,
  ): Promise<Reply | undefined> {
    const { def } = s;
    const ns = def.namespaced ? p.namespace : undefined;
    const allowed = def.verbs;
    if (allowed && !allowed.includes(verb) && !p.subresource) {
      req.resume();
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    if (def.namespaced && !ns && verb !== 'list' && verb !== 'watch') {
      if (!(verb === 'create' && virtualKinds.includes(def))) {
        req.resume();
        throw this.pathNotFound();
      }
    }

    if (metricsKinds.includes(def)) {
      req.resume();
      const body = await this.metrics.handle(method, def, ns, p.name, query);
      const rep = representation(accept, p.name ? 'object' : 'list');
      const tv = rep?.as === 'Table' ? rep.version : undefined;
      if (tv) {
        const objs = Array.isArray((body as { items?: unknown }).items) ? ((body as unknown as { items: KubeObject[] }).items) : [body];
        return { status: 200, body: toTable(def, objs, {}, (query.get('includeObject') as IncludeObject | null) ?? 'Metadata', true, tv) };
      }
      return { status: 200, body };
    }
    if (virtualKinds.includes(def)) {
      if (method !== 'POST') throw methodNotAllowed('the server does not allow this method on the requested resource');
      const body = this.checkBody(s, await decodeObjectBody(await readBody(req), req.headers['content-type']), ns);
      return { status: 201, body: await handleVirtualCreate(def, body, ctx, ns, this.opts.authorizer) };
    }

    if (p.subresource && def.group === '' && ((def.plural === 'pods' && POD_PROXY_SUBRESOURCES.has(p.subresource)) || (def.plural === 'nodes' && p.subresource === 'proxy'))) {
      const up = this.upgrades.get(req);
      if (def.plural === 'pods') await this.kubelets.pod(ns!, p.name!, p.subresource, query, req, res, up);
      else {
        const rest = new URL(req.url ?? '/', 'https://localhost').pathname.split('/').filter(Boolean).slice(5).join('/');
        await this.kubelets.node(p.name!, rest, query, req, res, up);
      }
      return undefined;
    }
    if (p.subresource) return this.routeSubresource(req, method, s, p, ns!, query, ctx, accept);

    switch (verb) {
      case 'get': {
        const obj = this.toServed(s, await this.resources.get(def, ns, p.name!));
        return this.replyObject(s, obj, accept, query);
      }
      case 'list':
        return this.list(s, ns, query, accept);
      case 'watch':
        await this.watch(req, res, s, ns, p, query, accept);
        return undefined;
      case 'create': {
        const raw = await readBody(req);
        const body = this.checkBody(s, await decodeObjectBody(raw, req.headers['content-type'], { apiVersion: apiVersionOf(s.def.group, s.version), kind: s.def.kind }), ns);
        await checkFieldValidation(this.fieldValidation(query), s.def, s.version, body, raw, req.headers['content-type'], ctx);
        if (p.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
        await pruneUnknown({ group: def.group, version: s.version, kind: def.kind }, body);
        const created = await this.resources.create(def, ns, this.toStored(s, body), ctx);
        return { status: 201, body: this.toServed(s, created) };
      }
      case 'update': {
        const raw = await readBody(req);
        const body = this.checkBody(s, await decodeObjectBody(raw, req.headers['content-type'], { apiVersion: apiVersionOf(s.def.group, s.version), kind: s.def.kind }), ns);
        await checkFieldValidation(this.fieldValidation(query), s.def, s.version, body, raw, req.headers['content-type'], ctx);
        await pruneUnknown({ group: def.group, version: s.version, kind: def.kind }, body);
        const { object, created } = await this.resources.update(def, ns, p.name!, this.toStored(s, body), ctx);
        return { status: created ? 201 : 200, body: this.toServed(s, object) };
      }
      case 'patch':
        return this.patch(req, s, ns, p.name!, query, ctx);
      case 'delete': {
        const opts = await this.deleteOptions(req);
        if (opts.dryRun?.length) ctx.dryRun = true;
        const r = await this.resources.delete(def, ns, p.name!, opts, ctx);
        if (r.deleted && !(def.group === '' && RETURNS_DELETED_OBJECT.has(def.plural))) {
          return { status: 200, body: successStatus({ name: p.name, group: def.group, kind: def.plural, uid: r.object.metadata.uid }) };
        }
        return { status: 200, body: this.toServed(s, r.object) };
      }
      case 'deletecollection': {
        const opts = await this.deleteOptions(req);
        if (opts.dryRun?.length) ctx.dryRun = true;
        const { items } = await this.resources.list(def, ns, this.listOptions(def, query));
        const out: KubeObject[] = [];
        for (const it of items) {
          try {
            const r = await this.resources.delete(def, it.metadata.namespace, it.metadata.name!, opts, ctx);
            out.push(this.toServed(s, r.object));
          } catch (e) {
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          }
        }
        return { status: 200, body: { kind: def.listKind ?? `${def.kind}List`, apiVersion: apiVersionOf(def.group, s.version), metadata: {}, items: out } };
      }
      default:
        req.resume();
        throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  private async routeSubresource(req: IncomingMessage, method: string, s: Served, p: ParsedPath, ns: string, query: URLSearchParams, ctx: RequestContext, accept: string): Promise<Reply> {
    const { def } = s;
    const sub = p.subresource!;
    const name = p.name!;
    if (sub === 'status' && def.status) {
      if (method === 'GET') return this.replyObject(s, this.toServed(s, await this.resources.get(def, ns, name)), accept, query);
      if (method === 'PUT') {
        const raw = await readBody(req);
        const body = this.checkBody(s, await decodeObjectBody(raw, req.headers['content-type'], { apiVersion: apiVersionOf(s.def.group, s.version), kind: s.def.kind }), ns);
        body.metadata.name ??= name;
        const rv = body.metadata.resourceVersion;
        const { object } = await this.resources.guaranteedUpdate(def, ns, name, ctx, () => this.toStored(s, body), { subresource: 'status', preconditionRV: rv || undefined });
        return { status: 200, body: this.toServed(s, object) };
      }
      if (method === 'PATCH') return this.patch(req, s, ns, name, query, ctx, 'status');
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
    if (sub === 'scale' && def.scale) {
      if (method === 'GET') return { status: 200, body: getScale(def, await this.resources.get(def, ns, name)) };
      if (method === 'PUT' || method === 'PATCH') {
        const raw = await readBody(req);
        const ct = req.headers['content-type'];
        const { object } = await this.resources.guaranteedUpdate(def, ns, name, ctx, async (current) => {
          const scale = getScale(def, current);
          let desired: KubeObject;
          if (method === 'PUT') desired = (await decodeObjectBody(raw, ct)) as KubeObject;
          else desired = await applyPatchBody(mediaType(ct), scale, raw, undefined, ctx, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
          return scaleFromBody(def, current, desired);
        });
        return { status: 200, body: getScale(def, object) };
      }
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
    if (def.group === '' && def.plural === 'namespaces' && sub === 'finalize' && method === 'PUT') {
      const body = this.checkBody(s, await decodeObjectBody(await readBody(req), req.headers['content-type'], { apiVersion: 'v1', kind: 'Namespace' }), undefined);
      const rv = body.metadata.resourceVersion;
      const { object } = await this.resources.guaranteedUpdate(def, undefined, name, ctx, () => body, { subresource: 'finalize', preconditionRV: rv || undefined });
      return { status: 200, body: object };
    }
    if (def.group === '' && def.plural === 'pods' && sub === 'binding' && method === 'POST') {
      const body = (await decodeObjectBody(await readBody(req), req.headers['content-type'])) as KubeObject;
      await bindPod(this.resources, def, ns, name, body, ctx);
      return { status: 201, body: successStatus(undefined, 201) };
    }
    if (def.group === '' && def.plural === 'serviceaccounts' && sub === 'token' && method === 'POST' && this.opts.serviceAccountSigner) {
      const body = (await decodeObjectBody(await readBody(req), req.headers['content-type'])) as KubeObject;
      return { status: 201, body: await createToken(this.resources, (g, pl) => this.kind(g, pl), this.opts.serviceAccountSigner, this.apiAudiences, ns, name, body) };
    }
    if (def.group === '' && def.plural === 'pods' && sub === 'eviction' && method === 'POST') {
      const body = (await decodeObjectBody(await readBody(req), req.headers['content-type'])) as KubeObject;
      await evictPod(this, def, ns, name, body, ctx);
      return { status: 201, body: successStatus(undefined, 201) };
    }
    req.resume();
    throw this.pathNotFound();
  }

  // ---- verbs -------------------------------------------------------------------------------------------------

  private replyObject(s: Served, obj: KubeObject, accept: string, query: URLSearchParams): Reply {
    const rep = representation(accept, 'object');
    if (rep?.as === 'Table') {
      const include = (query.get('includeObject') as IncludeObject | null) ?? 'Metadata';
      return { status: 200, body: toTable(s.def, [obj], { resourceVersion: obj.metadata.resourceVersion }, include, true, rep.version) };
    }
    if (rep?.as === 'PartialObjectMetadata') return { status: 200, body: partialObjectMetadata(obj, rep.version) };
    return { status: 200, body: obj };
  }

  listOptions(def: KindDef, query: URLSearchParams, watch = false): { labelSelector?: Selector; fieldSelector?: FieldSelector; limit?: number; continueToken?: string; exactRevision?: number } {
    let labelSelector: Selector | undefined;
    let fieldSelector: FieldSelector | undefined;
    const ls = query.get('labelSelector');
    if (ls) {
      try {
        labelSelector = parseLabelSelector(ls);
      } catch (e) {
        if (e instanceof SelectorParseError) throw badRequest(`unable to parse requirement: ${e.message.replace(/^unable to parse requirement: /, '')}`);
        throw e;
      }
    }
    const fs = query.get('fieldSelector');
    if (fs) {
      try {
        fieldSelector = parseFieldSelector(fs);
      } catch (e) {
        if (e instanceof FieldSelectorParseError) throw badRequest(e.message);
        throw e;
      }
      const supported = this.supportedFields(def);
      for (const r of fieldSelector.requirements) {
        if (!supported.has(r.field)) throw badRequest(`field label not supported: ${r.field}`);
      }
    }
    const limitS = query.get('limit');
    let limit: number | undefined;
    if (limitS) {
      limit = Number(limitS);
      if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${limitS}`);
    }
    const cont = query.get('continue') || undefined;
    const rv = query.get('resourceVersion') ?? '';
    const match = query.get('resourceVersionMatch') ?? '';
    const errs = watch ? watchOptionErrors(query, rv, match, cont) : listOptionErrors(query, rv, match, cont);
    if (errs.length) throw invalidError('meta.k8s.io', 'ListOptions', '', errs);
    let exactRevision: number | undefined;
    if (rv) {
      if (!/^\d+$/.test(rv)) throw badRequest(`Invalid value: "${rv}": resourceVersion must be an integer`);
      if (match === 'Exact') exactRevision = Number(rv);
    }
    return { labelSelector, fieldSelector, limit, continueToken: cont, exactRevision };
  }

  private supportedCache = new Map<KindDef, Set<string>>();
  private supportedFields(def: KindDef): Set<string> {
    let s = this.supportedCache.get(def);
    if (!s) {
      let keys: string[] = [];
      try {
        keys = Object.keys(fieldSet(def, { metadata: { name: '', namespace: '' }, spec: {}, status: {} } as KubeObject));
      } catch {
        keys = ['metadata.name', 'metadata.namespace'];
      }
      s = new Set([...keys, 'metadata.name', ...(def.namespaced ? ['metadata.namespace'] : [])]);
      this.supportedCache.set(def, s);
    }
    return s;
  }

  private async list(s: Served, ns: string | undefined, query: URLSearchParams, accept: string): Promise<Reply> {
    const opts = this.listOptions(s.def, query);
    const r = await this.resources.list(s.def, ns, opts);
    const listMeta: Record<string, unknown> = { resourceVersion: r.resourceVersion };
    if (r.continueToken) listMeta.continue = r.continueToken;
    if (r.remainingItemCount !== undefined) listMeta.remainingItemCount = r.remainingItemCount;
    const items = r.items.map((o) => this.toServed(s, o));
    const rep = representation(accept, 'list');
    if (rep?.as === 'Table') {
      const include = (query.get('includeObject') as IncludeObject | null) ?? 'Metadata';
      return { status: 200, body: toTable(s.def, items, listMeta, include, true, rep.version) };
    }
    if (rep?.as === 'PartialObjectMetadata') return { status: 200, body: partialObjectMetadataList(items, listMeta, rep.version) };
    return { status: 200, body: { kind: s.def.listKind ?? `${s.def.kind}List`, apiVersion: apiVersionOf(s.def.group, s.version), metadata: listMeta, items } };
  }

  private async watch(req: IncomingMessage, res: ServerResponse, s: Served, ns: string | undefined, p: ParsedPath, query: URLSearchParams, accept: string): Promise<void> {
    const opts = this.listOptions(s.def, query, true);
    if (p.name) opts.fieldSelector = parseFieldSelector(`metadata.name=${p.name}${query.get('fieldSelector') ? ',' + query.get('fieldSelector') : ''}`);
    await serveWatch(req, res, {
      resources: this.resources,
      def: s.def,
      namespace: ns,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      resourceVersion: query.get('resourceVersion') ?? '',
      timeoutSeconds: query.get('timeoutSeconds') ? Number(query.get('timeoutSeconds')) : undefined,
      allowBookmarks: query.get('allowWatchBookmarks') === 'true',
      sendInitialEvents: query.get('sendInitialEvents') === 'true',
      representation: representation(accept, 'watch'),
      includeObject: (query.get('includeObject') as IncludeObject | null) ?? 'Metadata',
      toServed: (o) => this.toServed(s, o),
      apiVersion: apiVersionOf(s.def.group, s.version),
    });
  }

  private async patch(req: IncomingMessage, s: Served, ns: string | undefined, name: string, query: URLSearchParams, ctx: RequestContext, subresource?: string): Promise<Reply> {
    const { def } = s;
    const ct = mediaType(req.headers['content-type']);
    if (!PATCH_TYPES.includes(ct)) {
      req.resume();
      throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
    }
    const raw = await readBody(req);
    const validation = this.fieldValidation(query);
    const isApply = ct === 'application/apply-patch+yaml';
    if (isApply) {
      if (!ctx.fieldManager) throw invalidError('meta.k8s.io', 'PatchOptions', '', [{ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' }]);
      const force = query.get('force') === 'true';
      const { applyServerSidePatch } = await import('./apply.js');
      const { object, created } = await applyServerSidePatch(this.resources, s, ns, name, raw, ctx, { force, validation, subresource, toStored: (o) => this.toStored(s, o), checkBody: (o) => this.checkBody(s, o, ns) });
      return { status: created ? 201 : 200, body: this.toServed(s, object) };
    }
    if (query.get('force') !== null) throw invalidError('meta.k8s.io', 'PatchOptions', '', [forbidden('force', 'may not be specified for non-apply patch')]);
    const { object } = await this.resources.guaranteedUpdate(
      def,
      ns,
      name,
      ctx,
      async (current) => {
        const servedCur = this.toServed(s, deepClone(current));
        const patched = await applyPatchBody(ct, servedCur, raw, validation, ctx, { group: def.group, version: s.version, kind: def.kind });
        if (!isObject(patched) || !isObject(patched.metadata)) throw badRequest('the patched object is not a valid object');
        const checked = this.checkBody(s, patched, ns);
        if (checked.metadata.name !== name) throw invalidError(def.group, def.kind, name, [{ type: 'FieldValueInvalid', field: 'metadata.name', value: checked.metadata.name, detail: 'field is immutable' }]);
        // A patch may carry a resourceVersion precondition; otherwise the current version is used.
        if (!checked.metadata.resourceVersion) checked.metadata.resourceVersion = undefined;
        return this.toStored(s, checked);
      },
      { subresource },
    );
    return { status: 200, body: this.toServed(s, object) };
  }

  private async deleteOptions(req: IncomingMessage): Promise<DeleteOptions> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'https://localhost');
    const q = url.searchParams;
    let opts: DeleteOptions = {};
    if (raw.length) {
      const body = mediaType(req.headers['content-type']) === 'application/vnd.kubernetes.protobuf' ? await decodeObjectBody(raw, req.headers['content-type'], { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' }) : parseJSON(raw.toString('utf8'));
      if (!isObject(body)) throw badRequest('DeleteOptions must be an object');
      opts = body as DeleteOptions;
    }
    if (q.get('gracePeriodSeconds') !== null) opts.gracePeriodSeconds = Number(q.get('gracePeriodSeconds'));
    if (q.get('propagationPolicy')) opts.propagationPolicy = q.get('propagationPolicy') as DeleteOptions['propagationPolicy'];
    if (q.getAll('dryRun').length) opts.dryRun = q.getAll('dryRun');
    const errs: FieldError[] = [];
    if (opts.propagationPolicy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(opts.propagationPolicy))
      errs.push({ type: 'FieldValueNotSupported', field: 'propagationPolicy', value: opts.propagationPolicy, detail: 'supported values: "Foreground", "Background", "Orphan", "nil"' });
    if (opts.gracePeriodSeconds !== undefined && (typeof opts.gracePeriodSeconds !== 'number' || !Number.isFinite(opts.gracePeriodSeconds)))
      errs.push({ type: 'FieldValueInvalid', field: 'gracePeriodSeconds', value: opts.gracePeriodSeconds, detail: 'must be a number' });
    if (opts.orphanDependents !== undefined && opts.propagationPolicy !== undefined)
      errs.push({ type: 'FieldValueInvalid', field: 'propagationPolicy', value: opts.propagationPolicy, detail: 'orphanDependents and deletionPropagation cannot be both set' });
    if (errs.length) throw invalidError('', 'DeleteOptions', '', errs);
    return opts;
  }

  /** For components running in-process (they still go through HTTP; this is only for tests and bootstrap). */
  get userForSystem(): UserInfo {
    return this.systemContext().user;
  }

  uptimeMs(): number {
    return Date.now() - this.startedAt;
  }

  static now(): string {
    return nowRFC3339();
  }
}

// Upstream's ValidateListOptions (apimachinery meta/internalversion/validation), list and watch flavours; the
// WatchList feature (sendInitialEvents on watch) is on by default in 1.32.
function listOptionErrors(query: URLSearchParams, rv: string, match: string, cont: string | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (match) {
    if (!rv) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (cont) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan') errs.push(notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && rv === '0') errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (query.has('sendInitialEvents')) errs.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  return errs;
}

function watchOptionErrors(query: URLSearchParams, _rv: string, match: string, cont: string | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const initial = query.has('sendInitialEvents');
  if (initial && match !== 'NotOlderThan') errs.push(forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
  if (match) {
    if (!initial) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
    if (match !== 'NotOlderThan') errs.push(notSupported('resourceVersionMatch', match, ['NotOlderThan']));
    if (cont) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
  }
  return errs;
}
