// Runtime access to the built-in OpenAPI v3 schemas (dist/openapi/definitions.json, made by scripts/gen-openapi.mjs):
// resolved SchemaNode trees per kind for field validation, patching and server-side apply, and the raw definitions
// for serving /openapi/v3. The file is read lazily on first use (never at server start) and cached.

import fs from 'node:fs';
import type { SchemaNode } from './types.js';

/** A definition as stored and served: OpenAPI v3 with `$ref: "#/components/schemas/<name>"` (possibly in allOf). */
export interface RawSchema {
  $ref?: string;
  allOf?: RawSchema[];
  properties?: Record<string, RawSchema>;
  items?: RawSchema;
  additionalProperties?: RawSchema | boolean;
  [key: string]: unknown;
}

export type Definitions = Readonly<Record<string, RawSchema>>;

export const REF_PREFIX = '#/components/schemas/';

const DEFAULT_FILE = new URL('../../../openapi/definitions.json', import.meta.url);

interface Loaded {
  defs: Definitions;
  resolver: Resolver;
  byGVK: Map<string, string>;
}

let loaded: Loaded | undefined;
let source: Definitions | URL = DEFAULT_FILE;

/**
 * Use these definitions instead of dist/openapi/definitions.json (tests, or a caller holding its own copy).
 * `undefined` restores the default file. Drops every cached node.
 */
export function useDefinitions(defs: Definitions | undefined): void {
  source = defs ?? DEFAULT_FILE;
  loaded = undefined;
}

function load(): Loaded {
  if (loaded) return loaded;
  let defs: Definitions;
  if (source instanceof URL) {
    let text: string;
    try {
      text = fs.readFileSync(source, 'utf8');
    } catch (err) {
      throw new Error(`OpenAPI definitions missing (${source.pathname}); run \`npm run build\`: ${(err as Error).message}`);
    }
    defs = JSON.parse(text) as Definitions;
  } else {
    defs = source;
  }
  const byGVK = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    const gvks = def['x-kubernetes-group-version-kind'];
    if (!Array.isArray(gvks)) continue;
    for (const g of gvks as { group: string; version: string; kind: string }[]) {
      const key = gvkKey(g.group, g.version, g.kind);
      if (!byGVK.has(key)) byGVK.set(key, name);
    }
  }
  loaded = { defs, resolver: new Resolver(defs), byGVK };
  return loaded;
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** All definitions, as served in `components.schemas`. Loads the file on first call. */
export function definitions(): Definitions {
  return load().defs;
}

/** The definition name of a top-level kind, e.g. ('apps','v1','Deployment') → "io.k8s.api.apps.v1.Deployment". */
export function kindDefinitionName(group: string, version: string, kind: string): string | undefined {
  return load().byGVK.get(gvkKey(group, version, kind));
}

/**
 * The resolved schema of a kind: `$ref`s are replaced by node objects (shared, cached; recursive types give
 * cyclic graphs) and every node that came from a definition carries `x-k8ts-ref`. A property that refers to a
 * definition is its own node when it adds a description or extensions (e.g. a patch strategy), sharing the
 * definition's `properties` object. Treat nodes as read-only.
 */
export function kindSchema(group: string, version: string, kind: string): SchemaNode | undefined {
  const l = load();
  const name = l.byGVK.get(gvkKey(group, version, kind));
  return name === undefined ? undefined : l.resolver.definition(name);
}

/** The resolved node of one definition by name. */
export function definitionSchema(name: string): SchemaNode | undefined {
  return load().resolver.definition(name);
}

/** The definition a raw schema points at (`$ref`, or a single-element `allOf` of a `$ref`), if any. */
export function refTarget(raw: RawSchema): string | undefined {
  let r = raw.$ref;
  if (r === undefined && Array.isArray(raw.allOf) && raw.allOf.length === 1) r = raw.allOf[0]?.$ref;
  return typeof r === 'string' && r.startsWith(REF_PREFIX) ? r.slice(REF_PREFIX.length) : undefined;
}

type MutableNode = { -readonly [K in keyof SchemaNode]: SchemaNode[K] };

/** Keys copied verbatim from raw schemas into nodes (children are resolved separately). */
const CHILD_KEYS = new Set(['$ref', 'allOf', 'properties', 'items', 'additionalProperties']);

class Resolver {
  private readonly nodes = new Map<string, MutableNode>();
  /** Wrappers whose shared children can only be copied once their definition is complete (cycles). */
  private pending: [MutableNode, MutableNode][] = [];
  private depth = 0;

  constructor(private readonly defs: Definitions) {}

  definition(name: string): SchemaNode | undefined {
    const cached = this.nodes.get(name);
    if (cached) return cached;
    const raw = this.defs[name];
    if (!raw) return undefined;
    const node: MutableNode = {};
    this.nodes.set(name, node);
    this.depth++;
    try {
      this.fill(node, raw);
      node['x-k8ts-ref'] = name;
    } finally {
      this.depth--;
    }
    if (this.depth === 0) this.finishWrappers();
    return node;
  }

  private finishWrappers(): void {
    const pending = this.pending;
    this.pending = [];
    for (const [wrapper, base] of pending) {
      if (base.items !== undefined && wrapper.items === undefined) wrapper.items = base.items;
      if (base.additionalProperties !== undefined && wrapper.additionalProperties === undefined) wrapper.additionalProperties = base.additionalProperties;
    }
  }

  /** Copy scalar keys, then resolve children. The `properties` object is created before recursing (cycles). */
  private fill(node: MutableNode, raw: RawSchema): void {
    const n = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(raw)) if (!CHILD_KEYS.has(k)) n[k] = v;
    if (raw.properties) {
      const props: Record<string, SchemaNode> = {};
      node.properties = props;
      for (const [k, v] of Object.entries(raw.properties)) props[k] = this.node(v);
    }
    if (raw.items) node.items = this.node(raw.items);
    if (raw.additionalProperties !== undefined) {
      node.additionalProperties = typeof raw.additionalProperties === 'boolean' ? raw.additionalProperties : this.node(raw.additionalProperties);
    }
  }

  private node(raw: RawSchema): SchemaNode {
    const target = refTarget(raw);
    if (target === undefined) {
      const n: MutableNode = {};
      this.fill(n, raw);
      return n;
    }
    const base = this.definition(target) as MutableNode | undefined;
    const own = Object.keys(raw).filter((k) => !CHILD_KEYS.has(k));
    if (base && own.length === 0) return base;
    // A property node: the definition's fields plus this property's own description and extensions.
    const wrapper: MutableNode = {};
    if (base) {
      Object.assign(wrapper, base);
      if (base.items === undefined || base.additionalProperties === undefined) this.pending.push([wrapper, base]);
    }
    const w = wrapper as Record<string, unknown>;
    for (const k of own) w[k] = raw[k];
    wrapper['x-k8ts-ref'] = target;
    return wrapper;
  }
}
