// The OpenAPI endpoints: /openapi/v3 (root index), /openapi/v3/<api|apis/group>/<version> (one document per
// group/version: every path served for each resource, PATCH operations tagged with their GVK and the
// fieldValidation parameter, and the reachable component schemas) and /openapi/v2 (an empty protobuf Document, so
// kubectl's client-side validation finds no model and skips). Documents are built lazily once and cached.

import { createHash } from 'node:crypto';
import { allKinds } from '../api/kinds/index.js';
import type { KindDef } from '../api/kinds/types.js';
import { definitions, REF_PREFIX } from '../api/schema/registry.js';
import type { Definitions, RawSchema } from '../api/schema/registry.js';

export interface OpenAPIResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

export interface GroupVersionDoc {
  /** "api/v1" or "apis/apps/v1". */
  key: string;
  body: Buffer;
  /** Upper-case hex SHA-512 of body, as upstream uses in serverRelativeURL. */
  hash: string;
}

export interface OpenAPIDocs {
  root: Buffer;
  byKey: Map<string, GroupVersionDoc>;
}

const DEFAULT_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const JSON_TYPE = 'application/json';
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
const RESPONSE_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

type GVK = { group: string; version: string; kind: string };
type Json = Record<string, unknown>;

function gvKey(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** "networking.k8s.io" + "v1" → "NetworkingV1"; core → "CoreV1" (upstream operationId infix). */
function opInfix(group: string, version: string): string {
  const g = group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
  return g.split('.').map(cap).join('') + cap(version);
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function ref(name: string): Json {
  return { $ref: REF_PREFIX + name };
}

function defNameByGVK(defs: Definitions): Map<string, string> {
  const m = new Map<string, string>();
  for (const [name, d] of Object.entries(defs)) {
    const gvks = d['x-kubernetes-group-version-kind'];
    if (!Array.isArray(gvks)) continue;
    for (const g of gvks as GVK[]) {
      const k = `${g.group}/${g.version}/${g.kind}`;
      if (!m.has(k)) m.set(k, name);
    }
  }
  return m;
}

// Query parameters, by the operations that take them (names and meaning as upstream; descriptions are ours).
const P: Record<string, Json> = {
  pretty: q('pretty', 'string', "If 'true', the output is pretty printed."),
  dryRun: q('dryRun', 'string', 'When present, indicates that modifications should not be persisted. Valid value: All.'),
  fieldManager: q('fieldManager', 'string', 'A name associated with the actor or entity that is making these changes.'),
  fieldValidation: q('fieldValidation', 'string', 'How the server treats unknown and duplicate fields in the request body: Ignore, Warn or Strict.'),
  force: q('force', 'boolean', "Force is going to 'force' Apply requests: re-acquire conflicting fields owned by other people."),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'Requests watch events of type BOOKMARK.'),
  continue: q('continue', 'string', 'The continue token from a previous paginated list call.'),
  fieldSelector: q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields.'),
  labelSelector: q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels.'),
  limit: q('limit', 'integer', 'Maximum number of responses to return for a list call.'),
  resourceVersion: q('resourceVersion', 'string', 'Constrains which resource versions the request may be served from.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'Determines how resourceVersion is applied to list calls.'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', 'Starts a watch stream with synthetic events for the current state.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  watch: q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  ignoreStoreReadErrorWithClusterBreakingPotential: q('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean', 'Delete a corrupt object that cannot be read from storage (unsafe).'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy.'),
  propagationPolicy: q('propagationPolicy', 'string', "Whether and how garbage collection is performed: 'Orphan', 'Background' or 'Foreground'."),
};

function q(name: string, type: string, description: string): Json {
  const p: Json = { name, in: 'query', description, schema: { type, uniqueItems: true } };
  return p;
}

function params(...names: string[]): Json[] {
  return names.map((n) => P[n]);
}

const LIST_PARAMS = ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'];
const DELETE_PARAMS = ['dryRun', 'gracePeriodSeconds', 'ignoreStoreReadErrorWithClusterBreakingPotential', 'orphanDependents', 'propagationPolicy'];

function pathParam(name: string, description: string): Json {
  return { name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } };
}

function content(schema: Json, types: string[] = RESPONSE_TYPES): Json {
  return Object.fromEntries(types.map((t) => [t, { schema }]));
}

function responses(codes: Record<string, Json | undefined>): Json {
  const out: Json = {};
  for (const [code, schema] of Object.entries(codes)) {
    const desc = code === '200' ? 'OK' : code === '201' ? 'Created' : code === '202' ? 'Accepted' : code;
    out[code] = schema ? { description: desc, content: content(schema) } : { description: desc };
  }
  out['401'] = { description: 'Unauthorized' };
  return out;
}

interface Ctx {
  defs: Definitions;
  byGVK: Map<string, string>;
  /** Definition names this document refers to (closure computed at the end). */
  used: Set<string>;
}

function schemaFor(ctx: Ctx, g: GVK): Json {
  const name = ctx.byGVK.get(`${g.group}/${g.version}/${g.kind}`);
  if (name === undefined) return { type: 'object' };
  ctx.used.add(name);
  return ref(name);
}

function metaRef(ctx: Ctx, kind: string): Json {
  const name = `io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`;
  if (!ctx.defs[name]) return { type: 'object' };
  ctx.used.add(name);
  return ref(name);
}

function operation(ctx: Ctx, o: { id: string; desc: string; tag: string; action: string; gvk: GVK; parameters: Json[]; body?: Json; patch?: boolean; resp: Json }): Json {
  const op: Json = { tags: [o.tag], description: o.desc, operationId: o.id };
  if (o.parameters.length) op.parameters = o.parameters;
  if (o.patch) {
    // Strategic merge patch is listed only when the kind has a real schema (with patch extensions): kubectl then
    // computes apply patches from it. CRDs (no strategic merge) must not get it.
    const hasSchema = ctx.byGVK.has(`${o.gvk.group}/${o.gvk.version}/${o.gvk.kind}`);
    const types = PATCH_TYPES.filter((t) => hasSchema || t !== 'application/strategic-merge-patch+json');
    op.requestBody = { content: content(metaRef(ctx, 'Patch'), types), required: true };
  } else if (o.body) {
    op.requestBody = { content: content(o.body, [JSON_TYPE, 'application/yaml', 'application/vnd.kubernetes.protobuf']), required: true };
  }
  op.responses = o.resp;
  op['x-kubernetes-action'] = o.action;
  op['x-kubernetes-group-version-kind'] = o.gvk;
  return op;
}

function addKindPaths(ctx: Ctx, paths: Record<string, Json>, def: KindDef, version: string): void {
  const verbs = new Set(def.verbs ?? DEFAULT_VERBS);
  const gvk: GVK = { group: def.group, version, kind: def.kind };
  const listGVK: GVK = { group: def.group, version, kind: def.listKind ?? `${def.kind}List` };
  const infix = opInfix(def.group, version);
  const tag = def.group === '' ? `core_${version}` : `${def.group.replace(/\.k8s\.io$/, '').replaceAll('.', '')}_${version}`;
  const base = def.group === '' ? `/api/${version}` : `/apis/${def.group}/${version}`;
  const ns = def.namespaced ? 'Namespaced' : '';
  const coll = def.namespaced ? `${base}/namespaces/{namespace}/${def.plural}` : `${base}/${def.plural}`;
  const item = `${coll}/{name}`;
  const nsParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');
  const nameParam = (what: string) => pathParam('name', `name of the ${what}`);
  const obj = schemaFor(ctx, gvk);
  const list = schemaFor(ctx, listGVK);
  const status = metaRef(ctx, 'Status');
  const kind = def.kind;

  const collection: Json = {};
  if (verbs.has('list')) {
    collection.get = operation(ctx, { id: `list${infix}${ns}${kind}`, desc: `list or watch objects of kind ${kind}`, tag, action: 'list', gvk, parameters: params(...LIST_PARAMS), resp: responses({ '200': list }) });
  }
  if (verbs.has('create')) {
    collection.post = operation(ctx, { id: `create${infix}${ns}${kind}`, desc: `create a ${kind}`, tag, action: 'post', gvk, parameters: params('dryRun', 'fieldManager', 'fieldValidation'), body: obj, resp: responses({ '200': obj, '201': obj, '202': obj }) });
  }
  if (verbs.has('deletecollection')) {
    collection.delete = operation(ctx, { id: `deleteCollection${infix}${ns}${kind}`, desc: `delete collection of ${kind}`, tag, action: 'deletecollection', gvk, parameters: params('continue', ...DELETE_PARAMS, 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds'), body: metaRef(ctx, 'DeleteOptions'), resp: responses({ '200': status }) });
  }
  if (Object.keys(collection).length) {
    collection.parameters = def.namespaced ? [nsParam, P.pretty] : [P.pretty];
    paths[coll] = collection;
  }

  const one: Json = {};
  if (verbs.has('get')) one.get = operation(ctx, { id: `read${infix}${ns}${kind}`, desc: `read the specified ${kind}`, tag, action: 'get', gvk, parameters: [], resp: responses({ '200': obj }) });
  if (verbs.has('update')) one.put = operation(ctx, { id: `replace${infix}${ns}${kind}`, desc: `replace the specified ${kind}`, tag, action: 'put', gvk, parameters: params('dryRun', 'fieldManager', 'fieldValidation'), body: obj, resp: responses({ '200': obj, '201': obj }) });
  if (verbs.has('delete')) one.delete = operation(ctx, { id: `delete${infix}${ns}${kind}`, desc: `delete a ${kind}`, tag, action: 'delete', gvk, parameters: params(...DELETE_PARAMS), body: metaRef(ctx, 'DeleteOptions'), resp: responses({ '200': status, '202': status }) });
  if (verbs.has('patch')) one.patch = operation(ctx, { id: `patch${infix}${ns}${kind}`, desc: `partially update the specified ${kind}`, tag, action: 'patch', gvk, parameters: params('dryRun', 'fieldManager', 'fieldValidation', 'force'), patch: true, resp: responses({ '200': obj, '201': obj }) });
  if (Object.keys(one).length) {
    one.parameters = def.namespaced ? [nameParam(kind), nsParam, P.pretty] : [nameParam(kind), P.pretty];
    paths[item] = one;
  }

  if (verbs.has('list') && def.namespaced) {
    paths[`${base}/${def.plural}`] = {
      get: operation(ctx, { id: `list${infix}${kind}ForAllNamespaces`, desc: `list or watch objects of kind ${kind}`, tag, action: 'list', gvk, parameters: [], resp: responses({ '200': list }) }),
      parameters: params(...LIST_PARAMS, 'pretty'),
    };
  }

  // Subresources: status and scale (read/replace/patch), then the kind's extra ones (log, eviction, binding …).
  const subs: { name: string; gvk: GVK; verbs: string[] }[] = [];
  const extra = def.extraSubresources ?? [];
  if (def.status && !extra.some((e) => e.name === 'status')) subs.push({ name: 'status', gvk, verbs: ['get', 'patch', 'update'] });
  if (def.scale && !extra.some((e) => e.name === 'scale')) subs.push({ name: 'scale', gvk: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] });
  for (const e of extra) {
    const sameKind = e.group === def.group && e.version === def.version && e.kind === def.kind;
    subs.push({ name: e.name, gvk: sameKind ? gvk : { group: e.group, version: e.version, kind: e.kind }, verbs: e.verbs });
  }
  for (const s of subs) {
    const suffix = s.name.split(/[^a-zA-Z0-9]/).map(cap).join('');
    const sub = `${kind}${suffix}`;
    const sobj = schemaFor(ctx, s.gvk);
    const connect = CONNECT_SUBRESOURCES.has(s.name);
    const item: Json = {};
    const sv = new Set(s.verbs);
    const desc = (what: string) => `${what} ${s.name} of the specified ${kind}`;
    if (connect) {
      const cgvk = s.gvk;
      if (sv.has('get')) item.get = operation(ctx, { id: `connectGet${infix}${ns}${sub}`, desc: desc('connect GET requests to'), tag, action: 'connect', gvk: cgvk, parameters: [], resp: responses({ '200': { type: 'string' } }) });
      if (sv.has('create')) item.post = operation(ctx, { id: `connectPost${infix}${ns}${sub}`, desc: desc('connect POST requests to'), tag, action: 'connect', gvk: cgvk, parameters: [], resp: responses({ '200': { type: 'string' } }) });
    } else {
      if (sv.has('get')) item.get = operation(ctx, { id: `read${infix}${ns}${sub}`, desc: desc('read'), tag, action: 'get', gvk: s.gvk, parameters: [], resp: responses({ '200': sobj }) });
      if (sv.has('create')) item.post = operation(ctx, { id: `create${infix}${ns}${sub}`, desc: desc('create'), tag, action: 'post', gvk: s.gvk, parameters: params('dryRun', 'fieldManager', 'fieldValidation'), body: sobj, resp: responses({ '200': sobj, '201': sobj, '202': sobj }) });
      if (sv.has('update')) item.put = operation(ctx, { id: `replace${infix}${ns}${sub}`, desc: desc('replace'), tag, action: 'put', gvk: s.gvk, parameters: params('dryRun', 'fieldManager', 'fieldValidation'), body: sobj, resp: responses({ '200': sobj, '201': sobj }) });
      if (sv.has('patch')) item.patch = operation(ctx, { id: `patch${infix}${ns}${sub}`, desc: desc('partially update'), tag, action: 'patch', gvk: s.gvk, parameters: params('dryRun', 'fieldManager', 'fieldValidation', 'force'), patch: true, resp: responses({ '200': sobj, '201': sobj }) });
    }
    if (Object.keys(item).length === 0) continue;
    item.parameters = def.namespaced ? [nameParam(sub), nsParam, P.pretty] : [nameParam(sub), P.pretty];
    paths[`${coll}/{name}/${s.name}`] = item;
  }
}

/** Every definition reachable from `roots` through `$ref`s. */
function closure(defs: Definitions, roots: Iterable<string>): string[] {
  const seen = new Set<string>();
  const stack = [...roots];
  const visit = (s: unknown): void => {
    if (Array.isArray(s)) {
      for (const x of s) visit(x);
    } else if (s && typeof s === 'object') {
      for (const [k, v] of Object.entries(s)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith(REF_PREFIX)) stack.push(v.slice(REF_PREFIX.length));
        else visit(v);
      }
    }
  };
  while (stack.length) {
    const n = stack.pop() as string;
    if (seen.has(n) || !defs[n]) continue;
    seen.add(n);
    visit(defs[n]);
  }
  return [...seen].sort();
}

function sha512Hex(b: Buffer): string {
  return createHash('sha512').update(b).digest('hex').toUpperCase();
}

/** Build the root index and every group/version document for these kinds. Pure: same input, same bytes. */
export function buildOpenAPIDocs(kinds: readonly KindDef[], defs: Definitions, gitVersion = 'v1.32.3'): OpenAPIDocs {
  const byGVK = defNameByGVK(defs);
  const groups = new Map<string, { group: string; version: string; kinds: KindDef[] }>();
  for (const def of kinds) {
    for (const v of [def.version, ...(def.otherVersions ?? []).map((o) => o.version)]) {
      const key = gvKey(def.group, v);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { group: def.group, version: v, kinds: [] }));
      g.kinds.push(def);
    }
  }
  const byKey = new Map<string, GroupVersionDoc>();
  const rootPaths: Record<string, { serverRelativeURL: string }> = {};
  for (const [key, g] of groups) {
    const ctx: Ctx = { defs, byGVK, used: new Set() };
    const paths: Record<string, Json> = {};
    for (const def of g.kinds) addKindPaths(ctx, paths, def, g.version);
    const names = closure(defs, ctx.used);
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: gitVersion },
      paths: Object.fromEntries(Object.keys(paths).sort().map((p) => [p, paths[p]])),
      components: {
        schemas: Object.fromEntries(names.map((n) => [n, defs[n] as RawSchema])),
        securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
      },
    };
    const body = Buffer.from(JSON.stringify(doc));
    const hash = sha512Hex(body);
    byKey.set(key, { key, body, hash });
    rootPaths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { root: Buffer.from(JSON.stringify({ paths: rootPaths })), byKey };
}

let cached: OpenAPIDocs | undefined;

/** The served documents (built on first request from allKinds() and the schema registry). */
export function openAPIDocs(): OpenAPIDocs {
  cached ??= buildOpenAPIDocs(allKinds(), definitions());
  return cached;
}

/** Forget the built documents (the served kinds changed, e.g. a CRD was added). */
export function invalidateOpenAPI(): void {
  cached = undefined;
}

function acceptsJSON(accept: string): boolean {
  if (accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const t = part.split(';')[0].trim().toLowerCase();
    return t === '*/*' || t === 'application/*' || t === JSON_TYPE;
  });
}

function notAcceptable(accept: string): OpenAPIResponse {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `only the following media types are accepted: application/json (got ${JSON.stringify(accept)})`, reason: 'NotAcceptable', code: 406 });
  return { status: 406, headers: { 'Content-Type': JSON_TYPE }, body };
}

function notFound(): OpenAPIResponse {
  return { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: '404 page not found\n' };
}

/**
 * Answer /openapi/v2, /openapi/v3 and /openapi/v3/<gv>; `undefined` for any other path.
 * `docs` defaults to the lazily built documents of the served kinds.
 */
export function handleOpenAPI(path: string, query: URLSearchParams, accept: string, docs?: () => OpenAPIDocs): OpenAPIResponse | undefined {
  if (path === '/openapi/v2') {
    // An empty body is a valid, empty protobuf Document: client-side validation finds no model and skips.
    return { status: 200, headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.alloc(0) };
  }
  if (path !== '/openapi/v3' && path !== '/openapi/v3/' && !path.startsWith('/openapi/v3/')) return undefined;
  const d = (docs ?? openAPIDocs)();
  if (path === '/openapi/v3' || path === '/openapi/v3/') {
    if (!acceptsJSON(accept)) return notAcceptable(accept);
    return { status: 200, headers: { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-cache, private' }, body: d.root };
  }
  const key = path.slice('/openapi/v3/'.length).replace(/\/$/, '');
  const doc = d.byKey.get(key);
  if (!doc) return notFound();
  if (!acceptsJSON(accept)) return notAcceptable(accept);
  const hash = query.get('hash');
  if (hash !== null && hash !== doc.hash) {
    // A stale hash: point at the current document, as upstream does.
    const location = `/openapi/v3/${key}?hash=${doc.hash}`;
    return { status: 301, headers: { Location: location, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache, private' }, body: `<a href="${location}">Moved Permanently</a>.\n` };
  }
  const headers: Record<string, string> = { 'Content-Type': JSON_TYPE, ETag: `"${doc.hash}"` };
  headers['Cache-Control'] = hash === null ? 'no-cache, private' : 'public, immutable';
  if (hash !== null) headers.Expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
  return { status: 200, headers, body: doc.body };
}
