// Field validation helpers for fieldValidation=Strict|Warn: fields a body has that the schema does not know, and
// duplicate keys in raw JSON (or YAML) bodies. Paths follow upstream's strict decoder: keys joined by ".", list
// items as "[i]" (e.g. spec.template.spec.containers[0].foo). Upstream's messages are
// `strict decoding error: unknown field "spec.foo", duplicate field "spec.replicas"` (Strict, 400) and one
// `Warning: 299 - "unknown field \"spec.foo\""` header per problem (Warn). strictFieldErrors gives exactly those
// messages, in document order, for a raw JSON body.

import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { SchemaNode } from './types.js';

/** Upstream stops collecting strict errors after this many. */
const MAX_PROBLEMS = 100;

/**
 * Paths (with a leading ".", e.g. ".spec.foo", ".spec.containers[0].bar") of fields in `obj` that `schema` does
 * not declare. Objects with `x-kubernetes-preserve-unknown-fields`, maps (`additionalProperties`) and objects
 * without declared properties (RawExtension, FieldsV1, JSON) accept any keys.
 */
export function unknownFields(obj: unknown, schema: SchemaNode): string[] {
  const out: string[] = [];
  walk(obj, schema, '', out);
  return out;
}

function walk(value: unknown, schema: SchemaNode | undefined, path: string, out: string[]): void {
  if (!schema || out.length >= MAX_PROBLEMS || value === null || typeof value !== 'object') return;
  if (schema['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    if (schema.items) for (let i = 0; i < value.length; i++) walk(value[i], schema.items, `${path}[${i}]`, out);
    return;
  }
  const props = schema.properties;
  const extra = schema.additionalProperties;
  if (!props && (extra === undefined || extra === true)) return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const child = props?.[k];
    const p = `${path}.${k}`;
    if (child) {
      walk(v, child, p, out);
    } else if (extra !== undefined && extra !== false) {
      if (extra !== true) walk(v, extra, p, out);
    } else {
      out.push(p);
      if (out.length >= MAX_PROBLEMS) return;
    }
  }
}

/**
 * Drop (in place) every field `schema` does not declare, as decoding into upstream's typed structs does whatever
 * the fieldValidation level: built-in objects never store unknown fields. Same traversal rules as unknownFields.
 */
export function pruneUnknownFields(obj: unknown, schema: SchemaNode): void {
  prune(obj, schema);
}

function prune(value: unknown, schema: SchemaNode | undefined): void {
  if (!schema || value === null || typeof value !== 'object') return;
  if (schema['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    if (schema.items) for (const v of value) prune(v, schema.items);
    return;
  }
  const props = schema.properties;
  const extra = schema.additionalProperties;
  if (!props && (extra === undefined || extra === true)) return;
  const rec = value as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    const child = props?.[k];
    if (child) prune(rec[k], child);
    else if (extra !== undefined && extra !== false) {
      if (extra !== true) prune(rec[k], extra);
    } else delete rec[k];
  }
}

/**
 * Paths (without a leading ".", as upstream prints them: `duplicate field "spec.replicas"`) of keys repeated within
 * one object of a JSON text. Deduplicated, in order of appearance. Malformed JSON yields what was found before the
 * error (the body's parse error is reported elsewhere).
 */
export function duplicateFields(jsonText: string): string[] {
  return scan(jsonText, null)
    .filter((p) => p.kind === 'duplicate')
    .map((p) => p.path);
}

/**
 * Upstream's strict-decoding problems for a JSON body of a typed object, in document order, as the messages the
 * API server reports: `unknown field "spec.foo"` and `duplicate field "spec.paused"`. Like upstream's decoder,
 * a repeated unknown field is reported once as unknown (not as duplicate), and keys inside objects the schema does
 * not type (RawExtension, preserve-unknown-fields, maps) are still checked for duplicates.
 */
export function strictFieldErrors(jsonText: string, schema: SchemaNode): string[] {
  return scan(jsonText, schema).map((p) => `${p.kind} field ${JSON.stringify(p.path)}`);
}

interface Problem {
  kind: 'unknown' | 'duplicate';
  path: string;
}

function scan(jsonText: string, schema: SchemaNode | null): Problem[] {
  const scanner = new StrictScanner(jsonText);
  try {
    scanner.value('', schema);
  } catch (err) {
    if (!(err instanceof MalformedJSON)) throw err;
  }
  return scanner.found;
}

class MalformedJSON extends Error {}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Where a value sits: a schema node (typed: unknown keys are reported), `null` (untyped: only duplicate keys are
 * reported) or `undefined` (inside an unknown field: skipped, as upstream's decoder skips it).
 */
type Typing = SchemaNode | null | undefined;

/** True when a typed object node still accepts any key (so its keys are untyped). */
function acceptsAnyKey(node: SchemaNode): boolean {
  if (node['x-kubernetes-preserve-unknown-fields']) return true;
  return !node.properties && (node.additionalProperties === undefined || node.additionalProperties === true);
}

/** A minimal JSON scanner that tracks object keys and their paths (and, given a schema, which keys it knows). */
class StrictScanner {
  private i = 0;
  readonly found: Problem[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly s: string) {}

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private report(kind: Problem['kind'], path: string): void {
    const key = `${kind}:${path}`;
    if (this.found.length >= MAX_PROBLEMS || this.seen.has(key)) return;
    this.seen.add(key);
    this.found.push({ kind, path });
  }

  value(path: string, typing: Typing): void {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') this.object(path, typing);
    else if (c === '[') this.array(path, typing);
    else if (c === '"') this.string();
    else this.literal();
  }

  /** The typing of a key's value, or 'unknown' when a typed object does not declare it. */
  private child(typing: Typing, key: string): Typing | 'unknown' {
    if (typing === undefined || typing === null) return typing;
    if (acceptsAnyKey(typing)) return null;
    const prop = typing.properties?.[key];
    if (prop) return prop;
    const extra = typing.additionalProperties;
    if (extra === true) return null;
    if (extra && typeof extra === 'object') return extra;
    return 'unknown';
  }

  private object(path: string, typing: Typing): void {
    this.i++; // {
    const keys = new Set<string>();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') throw new MalformedJSON();
      const key = this.string();
      const p = join(path, key);
      const child = this.child(typing, key);
      if (child === 'unknown') {
        this.report('unknown', p);
      } else if (typing !== undefined) {
        if (keys.has(key)) this.report('duplicate', p);
        else keys.add(key);
      }
      this.ws();
      if (this.s[this.i] !== ':') throw new MalformedJSON();
      this.i++;
      this.value(p, child === 'unknown' ? undefined : child);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return;
      if (c !== ',') throw new MalformedJSON();
    }
  }

  private array(path: string, typing: Typing): void {
    this.i++; // [
    const items: Typing = typing === undefined ? undefined : typing === null ? null : (typing.items ?? null);
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return;
    }
    for (let n = 0; ; n++) {
      this.value(`${path}[${n}]`, items);
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return;
      if (c !== ',') throw new MalformedJSON();
    }
  }

  /** Returns the unescaped string. */
  private string(): string {
    const start = this.i;
    this.i++; // "
    let escaped = false;
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i++];
      if (c === '\\') {
        escaped = true;
        this.i++;
      } else if (c === '"') {
        const raw = s.slice(start, this.i);
        if (!escaped) return raw.slice(1, -1);
        try {
          return JSON.parse(raw) as string;
        } catch {
          throw new MalformedJSON();
        }
      }
    }
    throw new MalformedJSON();
  }

  private literal(): void {
    const s = this.s;
    const start = this.i;
    while (this.i < s.length && !',]} \n\r\t'.includes(s[this.i])) this.i++;
    if (this.i === start) throw new MalformedJSON();
  }
}

export interface YAMLDuplicate {
  /** Path as in duplicateFields, e.g. "spec.replicas". */
  path: string;
  key: string;
  /** 1-based line of the repeated key (upstream's YAML message: `line 12: key "paused" already set in map`). */
  line: number;
}

/**
 * Duplicate mapping keys in a YAML text (apply-patch+yaml and application/yaml bodies), in document order. Only the
 * first document is examined; a YAML syntax error yields [] (reported by the body parser).
 */
export function duplicateYAMLFields(yamlText: string): YAMLDuplicate[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { uniqueKeys: false, lineCounter });
  if (doc.errors.length) return [];
  const found: YAMLDuplicate[] = [];
  const visit = (node: unknown, path: string): void => {
    if (found.length >= MAX_PROBLEMS) return;
    if (isMap(node)) {
      const keys = new Set<string>();
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const p = join(path, k);
        if (keys.has(k)) {
          const offset = isNode(pair.key) && pair.key.range ? pair.key.range[0] : 0;
          found.push({ path: p, key: k, line: lineCounter.linePos(offset).line });
        } else {
          keys.add(k);
        }
        visit(pair.value, p);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, n) => visit(item, `${path}[${n}]`));
    }
  };
  visit(doc.contents, '');
  return found;
}
