// Encoding of JSON objects into Kubernetes protobuf bodies the way Go's gogo-protobuf marshaller writes them (every
// non-pointer field, zero or not; pointer fields only when set), using protobufjs types built from the descriptor
// table. Used to answer typed clients in protobuf and, in tests, as an independent wire implementation.

import protobuf from 'protobufjs';
import { badRequest } from '../errors.js';
import type { KubeObject } from '../types.js';
import { PROTOBUF_MAGIC } from './decode.js';
import { kindMessage, messageDesc, messageNames } from './schema.js';
import type { MessageDesc, ScalarType, SpecialType, ValueType } from './schema.js';

const PB_SCALAR: Readonly<Record<ScalarType, string>> = {
  s: 'string',
  b: 'bool',
  by: 'bytes',
  i32: 'int32',
  i64: 'int64',
  u32: 'uint32',
  u64: 'uint64',
  si32: 'sint32',
  si64: 'sint64',
  fx32: 'fixed32',
  fx64: 'fixed64',
  sfx32: 'sfixed32',
  sfx64: 'sfixed64',
  f32: 'float',
  f64: 'double',
};

/** Wire layouts of the special messages (generate.mjs checks them against kubectl's descriptors). */
const SPECIAL_LAYOUT: Readonly<Record<SpecialType, Record<string, { type: string; id: number; rule?: string }>>> = {
  time: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } },
  microtime: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } },
  duration: { duration: { type: 'int64', id: 1 } },
  rawjson: { raw: { type: 'bytes', id: 1 } },
  quantity: { string: { type: 'string', id: 1 } },
  intorstring: { type: { type: 'int64', id: 1 }, intVal: { type: 'int32', id: 2 }, strVal: { type: 'string', id: 3 } },
  stringlist: { items: { type: 'string', id: 1, rule: 'repeated' } },
};

type PbObject = { [k: string]: unknown };
type Json = unknown;

let root: protobuf.Root | undefined;

/** protobufjs type name of a value slot: scalars by name, messages as `.core.v1.Container`, specials by kind. */
function pbType(v: ValueType): string {
  if ('scalar' in v) return PB_SCALAR[v.scalar];
  if ('special' in v) return `.special.${v.special}`;
  return `.${v.message}`;
}

function buildRoot(): protobuf.Root {
  const nested: Record<string, unknown> = {};
  const define = (name: string, fields: Record<string, unknown>): void => {
    const parts = name.split('.');
    let ns = nested;
    for (const p of parts.slice(0, -1)) {
      const entry = (ns[p] ??= { nested: {} }) as { nested: Record<string, unknown> };
      ns = entry.nested;
    }
    ns[parts[parts.length - 1]] = { fields };
  };
  for (const name of messageNames()) {
    const d = messageDesc(name);
    const fields: Record<string, unknown> = {};
    // In field-number order, as gogo writes them.
    for (const f of [...d.fields].sort((a, b) => a.num - b.num)) {
      if (f.mapKey) fields[f.json] = { keyType: PB_SCALAR[f.mapKey], type: pbType(f.value), id: f.num };
      else fields[f.json] = { type: pbType(f.value), id: f.num, ...(f.repeated ? { rule: 'repeated', options: { packed: false } } : {}) };
    }
    define(name, fields);
  }
  for (const [special, fields] of Object.entries(SPECIAL_LAYOUT)) define(`special.${special}`, fields);
  define('runtime.TypeMeta', { apiVersion: { type: 'string', id: 1 }, kind: { type: 'string', id: 2 } });
  define('runtime.Unknown', {
    typeMeta: { type: '.runtime.TypeMeta', id: 1 },
    raw: { type: 'bytes', id: 2 },
    contentEncoding: { type: 'string', id: 3 },
    contentType: { type: 'string', id: 4 },
  });
  return protobuf.Root.fromJSON({ nested } as protobuf.INamespace);
}

function pbRoot(): protobuf.Root {
  root ??= buildRoot();
  return root;
}

/**
 * Encode an object (apiVersion and kind set) as a Kubernetes protobuf body: magic + runtime.Unknown wrapping the
 * object's message. Throws ApiError 400 for a kind without a descriptor or a value of the wrong shape.
 */
export function encodeProtobufObject(obj: KubeObject): Buffer {
  const apiVersion = obj.apiVersion ?? '';
  const kind = obj.kind ?? '';
  const message = kindMessage(apiVersion, kind);
  if (!message) throw badRequest(`no protobuf encoding for ${apiVersion}, Kind=${kind}`);
  const raw = encodeMessage(message, obj as Record<string, Json>);
  const env = pbRoot().lookupType('runtime.Unknown');
  const body = env.encode(env.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([PROTOBUF_MAGIC, body]);
}

/** Encode one message (by short name, e.g. `core.v1.PodSpec`) from its JSON form. */
export function encodeMessage(message: string, json: Record<string, Json>): Uint8Array {
  const type = pbRoot().lookupType(message);
  return type.encode(toPb(messageDesc(message), json, message)).finish();
}

function toPb(desc: MessageDesc, json: Record<string, Json>, path: string): PbObject {
  const out: PbObject = {};
  for (const f of desc.fields) {
    const p = `${path}.${f.json}`;
    if (f.inline && 'message' in f.value) {
      out[f.json] = toPb(messageDesc(f.value.message), json, path);
      continue;
    }
    const v = json[f.json];
    if (f.mapKey) {
      if (v === undefined || v === null) continue;
      if (!isObject(v)) throw badRequest(`${p}: expected an object`);
      const m: PbObject = {};
      for (const [k, x] of Object.entries(v)) m[k] = valueToPb(f.value, x, `${p}[${k}]`);
      out[f.json] = m;
    } else if (f.repeated) {
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v)) throw badRequest(`${p}: expected a list`);
      out[f.json] = v.map((x, i) => valueToPb(f.value, x, `${p}[${i}]`));
    } else if (v === undefined || v === null) {
      // gogo writes non-pointer fields always: their zero value (an empty message for structs).
      if (!f.pointer) out[f.json] = zeroPb(f.value);
    } else {
      out[f.json] = valueToPb(f.value, v, p);
    }
  }
  return out;
}

function zeroPb(v: ValueType): unknown {
  if ('scalar' in v) return v.scalar === 's' ? '' : v.scalar === 'b' ? false : v.scalar === 'by' ? Buffer.alloc(0) : 0;
  if ('special' in v) return v.special === 'intorstring' ? { type: 0, intVal: 0, strVal: '' } : v.special === 'quantity' ? { string: '0' } : {};
  return toPb(messageDesc(v.message), {}, v.message);
}

function valueToPb(t: ValueType, v: Json, path: string): unknown {
  if ('scalar' in t) return scalarToPb(t.scalar, v, path);
  if ('special' in t) return specialToPb(t.special, v, path);
  if (!isObject(v)) throw badRequest(`${path}: expected an object`);
  return toPb(messageDesc(t.message), v, path);
}

function scalarToPb(t: ScalarType, v: Json, path: string): unknown {
  switch (t) {
    case 's':
      if (typeof v !== 'string') throw badRequest(`${path}: expected a string`);
      return v;
    case 'b':
      if (typeof v !== 'boolean') throw badRequest(`${path}: expected a boolean`);
      return v;
    case 'by':
      if (typeof v !== 'string') throw badRequest(`${path}: expected base64 data`);
      return Buffer.from(v, 'base64');
    default:
      if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${path}: expected a number`);
      return v;
  }
}

function specialToPb(t: SpecialType, v: Json, path: string): unknown {
  switch (t) {
    case 'time':
    case 'microtime': {
      if (typeof v !== 'string') throw badRequest(`${path}: expected an RFC 3339 time`);
      const ms = Date.parse(v);
      if (Number.isNaN(ms)) throw badRequest(`${path}: expected an RFC 3339 time`);
      const frac = /\.(\d+)/.exec(v)?.[1] ?? '';
      const nanos = t === 'microtime' ? Number(frac.padEnd(9, '0').slice(0, 9)) : 0;
      return { seconds: Math.floor(ms / 1000), nanos };
    }
    case 'duration':
      if (typeof v !== 'string') throw badRequest(`${path}: expected a duration`);
      return { duration: parseDuration(v, path) };
    case 'rawjson':
      return { raw: Buffer.from(JSON.stringify(v)) };
    case 'quantity':
      if (typeof v !== 'string' && typeof v !== 'number') throw badRequest(`${path}: expected a quantity`);
      return { string: String(v) };
    case 'intorstring':
      if (typeof v === 'number') return { type: 0, intVal: v, strVal: '' };
      if (typeof v === 'string') return { type: 1, intVal: 0, strVal: v };
      throw badRequest(`${path}: expected an integer or a string`);
    case 'stringlist':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw badRequest(`${path}: expected a list of strings`);
      return { items: v };
  }
}

const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration for the forms formatDuration writes ("1h2m3.5s", "-1.5ms", "0s"). */
export function parseDuration(s: string, path = 'duration'): number {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m && s !== '0') throw badRequest(`${path}: invalid duration ${JSON.stringify(s)}`);
  let total = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Math.round(Number(part[1]) * UNIT_NS[part[2]]);
  return s.startsWith('-') ? -total : total;
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
